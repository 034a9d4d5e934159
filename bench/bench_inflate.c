/* Inflate/deflate/gzip speed and deflate ratio on real files.
 *
 *   bench_inflate [--reader-only] FILE...
 *
 * For each file (a .gz is first read through the gzip reader, which is
 * timed as streaming inflate + CRC-32): deflate at levels 1, 6 and 9 (size,
 * ratio, MB/s of input) and one-shot inflate of the level-6 stream (MB/s of
 * output). bench/zlib_reference.py prints the same figures for Python's
 * zlib. Speeds are per CPU second of this process. --reader-only skips the compression figures for the files after
 * it (for the 290 MB FER2013 CSV). Built, not run as a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_internal.h"
#include "util/buffer.h"
#include "util/deflate.h"
#include "util/gzip.h"
#include "util/inflate.h"

/* Process CPU time, not wall time: on a shared, loaded machine wall time
 * mostly measures the other processes. */
static double cpu_seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }

static uint8_t *read_through_gz(const char *path, size_t *size, int *was_gz,
                                double *seconds) {
  fer__gz_reader *r;
  if (fer__gz_reader_open(path, &r) != FER_OK) return NULL;
  *was_gz = fer__gz_reader_is_compressed(r);
  size_t cap = 1 << 24, n = 0;
  uint8_t *data = malloc(cap);
  double t0 = cpu_seconds();
  for (;;) {
    if (cap - n < (1 << 20)) data = realloc(data, cap *= 2);
    size_t got;
    if (fer__gz_reader_read(r, data + n, cap - n, &got) != FER_OK) {
      fprintf(stderr, "%s\n", fer_last_error());
      free(data);
      fer__gz_reader_close(r);
      return NULL;
    }
    n += got;
    if (got == 0) break;
  }
  *seconds = cpu_seconds() - t0;
  fer__gz_reader_close(r);
  *size = n;
  return data;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE...\n", argv[0]);
    return 2;
  }
  int reader_only = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--reader-only") == 0) {
      reader_only = 1;
      continue;
    }
    if (reader_only) { /* stream through a 1 MiB buffer, keep nothing */
      fer__gz_reader *r;
      if (fer__gz_reader_open(argv[i], &r) != FER_OK) {
        fprintf(stderr, "%s\n", fer_last_error());
        return 1;
      }
      static uint8_t chunk[1 << 20];
      size_t total = 0, got;
      double t0 = cpu_seconds();
      do {
        if (fer__gz_reader_read(r, chunk, sizeof chunk, &got) != FER_OK) {
          fprintf(stderr, "%s\n", fer_last_error());
          return 1;
        }
        total += got;
      } while (got > 0);
      double dt = cpu_seconds() - t0;
      fer__gz_reader_close(r);
      printf("%s: %zu bytes\n  gzip reader (streaming inflate + CRC-32): %.1f MB/s "
             "of output\n", argv[i], total, total / 1e6 / dt);
      continue;
    }
    size_t n;
    int was_gz = 0;
    double t;
    uint8_t *data = read_through_gz(argv[i], &n, &was_gz, &t);
    if (!data) {
      fprintf(stderr, "%s: cannot read\n", argv[i]);
      return 1;
    }
    printf("%s: %zu bytes\n", argv[i], n);
    if (was_gz)
      printf("  gzip reader (streaming inflate + CRC-32): %.1f MB/s of output\n",
             n / 1e6 / t);
    fer__buf z6;
    fer__buf_init(&z6);
    for (int level = 1; level <= 9; level += level == 1 ? 5 : 3) {
      fer__buf z;
      fer__buf_init(&z);
      double t0 = cpu_seconds();
      if (fer__zlib_compress(data, n, level, &z) != FER_OK) return 1;
      double dt = cpu_seconds() - t0;
      printf("  deflate level %d: %zu bytes (ratio %.4f), %.1f MB/s\n", level,
             z.size, (double)z.size / (double)n, n / 1e6 / dt);
      if (level == 6) {
        z6 = z;
      } else {
        fer__buf_release(&z);
      }
    }
    uint8_t *out = malloc(n ? n : 1);
    double best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
      size_t got;
      double t0 = cpu_seconds();
      if (fer__inflate(FER__INFLATE_ZLIB, z6.data, z6.size, out, n, &got) != FER_OK ||
          got != n || memcmp(out, data, n) != 0) {
        fprintf(stderr, "round trip failed: %s\n", fer_last_error());
        return 1;
      }
      double dt = cpu_seconds() - t0;
      if (dt < best) best = dt;
    }
    printf("  inflate one-shot (level-6 stream, best of 5): %.1f MB/s of output\n",
           n / 1e6 / best);
    free(out);
    fer__buf_release(&z6);
    free(data);
  }
  return 0;
}
