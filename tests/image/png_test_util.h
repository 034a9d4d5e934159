/* Helpers shared by the PNG, inflate, deflate and gzip tests: reading
 * fixtures, a naive Adler-32, and running Python when it is there. Every
 * function here is deliberately simple and independent of the code under
 * test. */
#ifndef FER_TEST_PNG_UTIL_H
#define FER_TEST_PNG_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whole file into a malloc'ed buffer (NULL when unreadable). */
static inline uint8_t *util_read_file(const char *path, size_t *size) {
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  uint8_t *data = malloc(cap);
  for (;;) {
    if (n == cap) data = realloc(data, cap *= 2);
    size_t got = fread(data + n, 1, cap - n, f);
    if (got == 0) break;
    n += got;
  }
  fclose(f);
  *size = n;
  return data;
}

static inline int util_write_file(const char *path, const void *data,
                                  size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  int ok = fwrite(data, 1, size, f) == size;
  return fclose(f) == 0 && ok;
}

/* Adler-32 straight from its definition in RFC 1950, one byte at a time. */
static inline uint32_t util_naive_adler32(const uint8_t *p, size_t n) {
  uint32_t a = 1, b = 0;
  for (size_t i = 0; i < n; i++) {
    a = (a + p[i]) % 65521;
    b = (b + a) % 65521;
  }
  return (b << 16) | a;
}

/* A zlib stream of stored blocks, written by hand from RFC 1950/1951. */
static inline uint8_t *util_zlib_stored(const uint8_t *data, size_t n,
                                        size_t *out_size) {
  size_t blocks = n / 65535 + 1;
  uint8_t *out = malloc(2 + n + 5 * blocks + 4);
  size_t o = 0;
  out[o++] = 0x78;
  out[o++] = 0x01;
  size_t at = 0;
  do {
    size_t len = n - at < 65535 ? n - at : 65535;
    out[o++] = at + len == n ? 1 : 0;
    out[o++] = (uint8_t)len;
    out[o++] = (uint8_t)(len >> 8);
    out[o++] = (uint8_t)~len;
    out[o++] = (uint8_t)(~len >> 8);
    memcpy(out + o, data + at, len);
    o += len;
    at += len;
  } while (at < n);
  uint32_t adler = util_naive_adler32(data, n);
  out[o++] = (uint8_t)(adler >> 24);
  out[o++] = (uint8_t)(adler >> 16);
  out[o++] = (uint8_t)(adler >> 8);
  out[o++] = (uint8_t)adler;
  *out_size = o;
  return out;
}

/* Deterministic test data: 0 random, 1 text-like, 2 runs, 3 mixed. */
static inline void util_make_data(uint8_t *p, size_t n, int kind,
                                  uint32_t seed) {
  static const char *words[] = {"angry ", "disgust ", "fear ", "happy ",
                                "sad ", "surprise ", "neutral ", "face, ",
                                "the ", "of ", "and ", "48x48\n"};
  uint32_t s = seed * 2654435761u + 1;
  size_t i = 0;
  while (i < n) {
    s = s * 1103515245u + 12345u;
    uint32_t r = s >> 8;
    if (kind == 0 || (kind == 3 && (r & 3) == 0)) {
      p[i++] = (uint8_t)r;
    } else if (kind == 1 || kind == 3) {
      const char *w = words[r % 12];
      for (size_t k = 0; w[k] && i < n; k++) p[i++] = (uint8_t)w[k];
    } else {
      size_t run = 1 + r % 300;
      uint8_t v = (uint8_t)(r >> 12);
      for (size_t k = 0; k < run && i < n; k++) p[i++] = v;
    }
  }
}

/* The python3 given as argv[1] by meson, or NULL (empty / missing). */
static inline const char *util_python(int argc, char **argv) {
  if (argc < 2 || !argv[1][0]) return NULL;
  return argv[1];
}

#endif
