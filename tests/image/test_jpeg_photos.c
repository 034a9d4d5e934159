/*
 * Real photographs (../shared/data/faces/images: 400 baseline JPEGs, 346
 * colour 4:2:0 and 54 gray, 54 MPixel) decoded by libfer and by Pillow
 * (libjpeg-turbo, streamed by pillow_pixels.py): gray images must match
 * exactly and colour ones within +-1. A second pass decodes with
 * FER_DECODE_GRAY against Pillow's gray draft mode (libjpeg-turbo's Y
 * plane): exact. Skips when the data is absent.
 */
#include <dirent.h>

#include "harness.h"
#include "jpeg_test_util.h"

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Decodes every file and compares it with Pillow's pixels. */
static void compare_all(const char *dir, const char *script, char **names, size_t count,
                        int gray) {
  /* One Python process for all files: the command line lists them. */
  size_t cmd_size = strlen(script) + 64;
  for (size_t i = 0; i < count; i++) cmd_size += strlen(dir) + strlen(names[i]) + 4;
  char *cmd = malloc(cmd_size);
  int at = snprintf(cmd, cmd_size, "/usr/bin/python3 '%s'%s", script, gray ? " -g" : "");
  for (size_t i = 0; i < count; i++)
    at += snprintf(cmd + at, cmd_size - (size_t)at, " '%s/%s'", dir, names[i]);
  FILE *pipe = popen(cmd, "r");
  free(cmd);
  CHECK_MSG(pipe != NULL, "cannot run %s", script);
  if (!pipe) return;

  long gray_pixels = 0, gray_exact = 0, colour_samples = 0, colour_exact = 0, colour_within1 = 0;
  int gray_max = 0, colour_max = 0;
  for (size_t i = 0; i < count; i++) {
    int w, h, c;
    if (fscanf(pipe, "%d %d %d", &w, &h, &c) != 3 || fgetc(pipe) != '\n') {
      CHECK_MSG(0, "Pillow's output ends at %s", names[i]);
      break;
    }
    size_t bytes = (size_t)w * h * c;
    uint8_t *ref = malloc(bytes ? bytes : 1);
    CHECK(fread(ref, 1, bytes, pipe) == bytes);
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    size_t size;
    uint8_t *data = jt_read_file(path, &size);
    fer_image *img = NULL;
    fer_status st =
        data ? fer__jpeg_decode(data, size, gray ? FER_DECODE_GRAY : 0, &img) : FER_ERR_IO;
    free(data);
    CHECK_MSG(st == FER_OK, "%s: %s", names[i], fer_last_error());
    if (img && (img->width != w || img->height != h || img->channels != c)) {
      CHECK_MSG(0, "%s: %dx%dx%d, Pillow %dx%dx%d", names[i], img->width, img->height,
                img->channels, w, h, c);
    } else if (img) {
      jt_diff diff = jt_compare(img, ref);
      if (c == 1) {
        gray_pixels += diff.pixels;
        gray_exact += diff.exact;
        if (diff.max_diff > gray_max) gray_max = diff.max_diff;
      } else {
        colour_samples += diff.pixels;
        colour_exact += diff.exact;
        colour_within1 += diff.within1;
        if (diff.max_diff > colour_max) colour_max = diff.max_diff;
      }
    }
    fer_image_free(img);
    free(ref);
  }
  pclose(pipe);
  fprintf(stderr,
          "photos%s: %zu files; gray %ld pixels, %.4f%% exact, max diff %d; colour %ld samples, "
          "%.4f%% exact, %.4f%% within +-1, max diff %d\n",
          gray ? " (FER_DECODE_GRAY)" : "", count, gray_pixels, 100.0 * gray_exact / (gray_pixels ? gray_pixels : 1), gray_max,
          colour_samples, 100.0 * colour_exact / (colour_samples ? colour_samples : 1),
          100.0 * colour_within1 / (colour_samples ? colour_samples : 1), colour_max);
  CHECK_EQ_INT(gray_max, 0);
  CHECK_MSG(colour_max <= 1, "colour max diff %d", colour_max);
}

int main(void) {
  const char *shared = harness_shared_data();
  if (!shared) SKIP("../shared/data not found (FER_SHARED_DATA): photo check skipped");
  const char *source = getenv("FER_SOURCE_ROOT");
  char dir[4096], script[4096];
  snprintf(dir, sizeof dir, "%s/faces/images", shared);
  snprintf(script, sizeof script, "%s/tests/image/pillow_pixels.py", source ? source : ".");
  DIR *d = opendir(dir);
  if (!d) SKIP("%s not found: photo check skipped", dir);
  char **names = NULL;
  size_t count = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 5 || strcmp(e->d_name + len - 4, ".jpg") != 0) continue;
    names = realloc(names, (count + 1) * sizeof *names);
    names[count++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, count, sizeof *names, by_name);

  compare_all(dir, script, names, count, 0);
  compare_all(dir, script, names, count, 1);
  for (size_t i = 0; i < count; i++) free(names[i]);
  free(names);
  CHECK_EQ_INT(count, 400);
  return harness_finish();
}
