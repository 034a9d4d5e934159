/* Replays fuzz inputs without libFuzzer: each argument is a file or a folder
 * of files, fed to LLVMFuzzerTestOneInput once. Normal (and sanitizer)
 * builds use it to run every harness over its committed seed corpus. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return 1;
  }
  size_t cap = 4096, size = 0;
  uint8_t *data = malloc(cap);
  for (;;) {
    if (size == cap) data = realloc(data, cap *= 2);
    size_t n = fread(data + size, 1, cap - size, f);
    if (n == 0) break;
    size += n;
  }
  fclose(f);
  LLVMFuzzerTestOneInput(data, size);
  free(data);
  return 0;
}

int main(int argc, char **argv) {
  int files = 0, errors = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "cannot stat %s\n", argv[i]);
      errors++;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      errors += run_file(argv[i]);
      files++;
      continue;
    }
    DIR *d = opendir(argv[i]);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      errors += run_file(path);
      files++;
    }
    if (d) closedir(d);
  }
  fprintf(stderr, "replayed %d inputs, %d unreadable\n", files, errors);
  return errors ? 1 : 0;
}
