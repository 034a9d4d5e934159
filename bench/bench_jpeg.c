/*
 * JPEG decode speed: decodes every .jpg in the folders given (default
 * ../shared/data/faces/images) from memory, `repeat` times, and prints
 * MPixel/s of CPU time (process CPU time, so that other load on the
 * machine disturbs it less). Compare with bench/bench_jpeg_pillow.py run on the same files.
 *
 *   build/bench/bench_jpeg [-r REPEAT] [-g] [DIR...]    (-g: FER_DECODE_GRAY)
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "image/image_internal.h"

typedef struct file {
  uint8_t *data;
  size_t size;
} file;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv) {
  int repeat = 3;
  unsigned flags = 0;
  const char *dirs[64];
  int ndirs = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-r") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (strcmp(argv[i], "-g") == 0) flags |= FER_DECODE_GRAY;
    else if (ndirs < 64) dirs[ndirs++] = argv[i];
  }
  if (!ndirs) dirs[ndirs++] = "../shared/data/faces/images";

  file *files = NULL;
  size_t count = 0;
  for (int d = 0; d < ndirs; d++) {
    DIR *dir = opendir(dirs[d]);
    if (!dir) {
      fprintf(stderr, "cannot open %s\n", dirs[d]);
      return 1;
    }
    char **names = NULL;
    size_t nnames = 0;
    struct dirent *e;
    while ((e = readdir(dir)) != NULL) {
      size_t len = strlen(e->d_name);
      if (len < 4 || strcmp(e->d_name + len - 4, ".jpg") != 0) continue;
      names = realloc(names, (nnames + 1) * sizeof *names);
      names[nnames++] = strdup(e->d_name);
    }
    closedir(dir);
    qsort(names, nnames, sizeof *names, by_name);
    for (size_t i = 0; i < nnames; i++) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dirs[d], names[i]);
      FILE *f = fopen(path, "rb");
      if (!f) continue;
      fseek(f, 0, SEEK_END);
      long n = ftell(f);
      fseek(f, 0, SEEK_SET);
      files = realloc(files, (count + 1) * sizeof *files);
      files[count].data = malloc((size_t)n);
      files[count].size = fread(files[count].data, 1, (size_t)n, f);
      count++;
      fclose(f);
      free(names[i]);
    }
    free(names);
  }

  double best = 1e30;
  long pixels = 0, failures = 0;
  for (int r = 0; r < repeat; r++) {
    pixels = 0;
    double t0 = now();
    for (size_t i = 0; i < count; i++) {
      fer_image *img;
      if (fer__jpeg_decode(files[i].data, files[i].size, flags, &img) != FER_OK) {
        failures += r == 0;
        continue;
      }
      pixels += (long)img->width * img->height;
      fer_image_free(img);
    }
    double t = now() - t0;
    if (t < best) best = t;
  }
  printf("libfer: %zu files, %.2f MPixel, best of %d: %.3f s, %.1f MPixel/s%s, %ld failed\n",
         count, pixels / 1e6, repeat, best, pixels / best / 1e6,
         flags & FER_DECODE_GRAY ? " (gray)" : "", failures);
  for (size_t i = 0; i < count; i++) free(files[i].data);
  free(files);
  return failures ? 1 : 0;
}
