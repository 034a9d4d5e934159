/* Helpers shared by the JPEG tests: whole-file reads, a small PNM reader
 * for the reference pixels, and pixel comparison with a report. */
#ifndef FER_TEST_JPEG_UTIL_H
#define FER_TEST_JPEG_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_internal.h"

/* The whole file in a malloc'ed buffer, or NULL. */
static inline uint8_t *jt_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = malloc(n > 0 ? (size_t)n : 1);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  *size = (size_t)n;
  return data;
}

/* A binary PGM (P5) or PPM (P6) with maxval 255, as Pillow writes them. */
typedef struct jt_pnm {
  int width, height, channels;
  uint8_t *pixels;
} jt_pnm;

static inline int jt_read_pnm(const char *path, jt_pnm *out) {
  size_t size;
  uint8_t *data = jt_read_file(path, &size);
  if (!data) return 0;
  int fields[3] = {0, 0, 0}, nfields = 0;
  size_t pos = 2;
  if (size < 2 || data[0] != 'P' || (data[1] != '5' && data[1] != '6')) {
    free(data);
    return 0;
  }
  while (nfields < 3 && pos < size) {
    if (data[pos] == '#') {
      while (pos < size && data[pos] != '\n') pos++;
    } else if (data[pos] >= '0' && data[pos] <= '9') {
      int v = 0;
      while (pos < size && data[pos] >= '0' && data[pos] <= '9') v = v * 10 + (data[pos++] - '0');
      fields[nfields++] = v;
      continue;
    }
    pos++;
  }
  pos++; /* the single whitespace after maxval */
  out->width = fields[0];
  out->height = fields[1];
  out->channels = data[1] == '5' ? 1 : 3;
  size_t bytes = (size_t)out->width * out->height * out->channels;
  if (nfields < 3 || fields[2] != 255 || pos + bytes > size) {
    free(data);
    return 0;
  }
  out->pixels = malloc(bytes);
  memcpy(out->pixels, data + pos, bytes);
  free(data);
  return 1;
}

typedef struct jt_diff {
  long pixels;     /* samples compared */
  long exact;      /* samples equal */
  long within1;    /* samples within +-1 */
  int max_diff;
} jt_diff;

/* Compares the image with reference samples (tightly packed). */
static inline jt_diff jt_compare(const fer_image *img, const uint8_t *ref) {
  jt_diff d = {0, 0, 0, 0};
  size_t row = (size_t)img->width * img->channels;
  for (int y = 0; y < img->height; y++) {
    const uint8_t *a = img->pixels + (size_t)y * img->stride;
    const uint8_t *b = ref + (size_t)y * row;
    for (size_t i = 0; i < row; i++) {
      int diff = abs((int)a[i] - (int)b[i]);
      d.pixels++;
      d.exact += diff == 0;
      d.within1 += diff <= 1;
      if (diff > d.max_diff) d.max_diff = diff;
    }
  }
  return d;
}

#endif
