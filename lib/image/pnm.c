/*
 * Netpbm images: decode P1..P6 (ASCII and binary bitmaps, gray maps and
 * pixel maps), encode P5 (gray) and P6 (RGB).
 *
 * Samples with maxval other than 255 are scaled to 8 bits by rounding
 * v * 255 / maxval; maxval above 255 means 16-bit big-endian binary samples.
 * Bitmaps (P1, P4) store 1 for black, so they decode to 0 (black) and 255.
 */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"

typedef struct pnm_reader {
  const uint8_t *data;
  size_t size;
  size_t pos;
} pnm_reader;

static int is_space(uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int fer__pnm_sniff(const uint8_t *data, size_t size) {
  return size >= 3 && data[0] == 'P' && data[1] >= '1' && data[1] <= '6' &&
         (is_space(data[2]) || data[2] == '#');
}

/* Skips whitespace and '#' comments (to the end of the line). */
static void skip_space(pnm_reader *r) {
  while (r->pos < r->size) {
    uint8_t c = r->data[r->pos];
    if (c == '#') {
      while (r->pos < r->size && r->data[r->pos] != '\n' && r->data[r->pos] != '\r')
        r->pos++;
    } else if (is_space(c)) {
      r->pos++;
    } else {
      break;
    }
  }
}

/* Reads a decimal header number; values past `limit` are clamped to
 * limit + 1 so that callers can report them without overflow. */
static fer_status read_number(pnm_reader *r, const char *what, long limit,
                              long *value) {
  skip_space(r);
  if (r->pos >= r->size)
    return fer__fail(FER_ERR_TRUNCATED, "PNM: file ends before the %s", what);
  uint8_t c = r->data[r->pos];
  if (c < '0' || c > '9')
    return fer__fail(FER_ERR_FORMAT,
                     "PNM: expected a number for the %s at byte %zu, found "
                     "0x%02X",
                     what, r->pos, c);
  long v = 0;
  while (r->pos < r->size && r->data[r->pos] >= '0' && r->data[r->pos] <= '9') {
    v = v * 10 + (r->data[r->pos] - '0');
    if (v > limit) v = limit + 1;
    r->pos++;
  }
  *value = v;
  return FER_OK;
}

/* 8-bit value of sample `v` in 0..maxval (checked by the caller). */
static uint8_t scale_sample(unsigned v, unsigned maxval) {
  if (maxval == 255) return (uint8_t)v;
  return (uint8_t)((v * 255u + maxval / 2) / maxval);
}

static fer_status decode_ascii(pnm_reader *r, int kind, unsigned maxval,
                               fer_image *img) {
  size_t count = (size_t)img->width * (size_t)img->height * (size_t)img->channels;
  uint8_t *row = NULL;
  for (size_t i = 0; i < count; i++) {
    size_t x = i % ((size_t)img->width * (size_t)img->channels);
    row = img->pixels + (i / ((size_t)img->width * (size_t)img->channels)) * img->stride;
    skip_space(r);
    if (r->pos >= r->size)
      return fer__fail(FER_ERR_TRUNCATED,
                       "PNM: file ends after %zu of %zu samples", i, count);
    if (kind == 1) {
      /* Bitmap digits need no separators: "0110" is four pixels. */
      uint8_t c = r->data[r->pos++];
      if (c != '0' && c != '1')
        return fer__fail(FER_ERR_FORMAT,
                         "PNM: P1 pixel at byte %zu is 0x%02X, not 0 or 1",
                         r->pos - 1, c);
      row[x] = c == '1' ? 0 : 255;
      continue;
    }
    long v;
    fer_status st = read_number(r, "sample", 65535, &v);
    if (st != FER_OK) return st;
    if (v > (long)maxval)
      return fer__fail(FER_ERR_FORMAT,
                       "PNM: sample %zu is %ld, above maxval %u", i, v, maxval);
    row[x] = scale_sample((unsigned)v, maxval);
  }
  return FER_OK;
}

static fer_status decode_binary(pnm_reader *r, int kind, unsigned maxval,
                                fer_image *img) {
  const uint8_t *src = r->data + r->pos;
  size_t samples = (size_t)img->width * (size_t)img->channels;
  if (kind == 4) {
    size_t row_bytes = ((size_t)img->width + 7) / 8;
    for (int y = 0; y < img->height; y++, src += row_bytes) {
      uint8_t *d = img->pixels + (size_t)y * img->stride;
      for (int x = 0; x < img->width; x++)
        d[x] = (src[x >> 3] >> (7 - (x & 7))) & 1 ? 0 : 255;
    }
    return FER_OK;
  }
  int wide = maxval > 255;
  for (int y = 0; y < img->height; y++) {
    uint8_t *d = img->pixels + (size_t)y * img->stride;
    for (size_t x = 0; x < samples; x++) {
      unsigned v = wide ? (unsigned)(src[0] << 8 | src[1]) : src[0];
      src += wide ? 2 : 1;
      if (v > maxval)
        return fer__fail(FER_ERR_FORMAT,
                         "PNM: sample at row %d is %u, above maxval %u", y, v,
                         maxval);
      d[x] = scale_sample(v, maxval);
    }
  }
  return FER_OK;
}

fer_status fer__pnm_decode(const uint8_t *data, size_t size, fer_image **out) {
  *out = NULL;
  if (!fer__pnm_sniff(data, size))
    return fer__fail(FER_ERR_FORMAT, "PNM: missing P1..P6 signature");
  pnm_reader r = {data, size, 2};
  int kind = data[1] - '0';
  long width, height, maxval = 1;
  fer_status st = read_number(&r, "width", FER_IMAGE_MAX_SIDE, &width);
  if (st == FER_OK) st = read_number(&r, "height", FER_IMAGE_MAX_SIDE, &height);
  if (st == FER_OK && kind != 1 && kind != 4)
    st = read_number(&r, "maxval", 65535, &maxval);
  if (st != FER_OK) return st;
  if (maxval < 1 || maxval > 65535)
    return fer__fail(FER_ERR_FORMAT, "PNM: maxval %ld is outside 1..65535", maxval);
  st = fer__image_check_size(width, height, "PNM header");
  if (st != FER_OK) return st;
  int channels = kind == 3 || kind == 6 ? 3 : 1;
  int binary = kind >= 4;
  size_t samples = (size_t)width * (size_t)height * (size_t)channels;
  size_t needed;
  if (binary) {
    /* Exactly one whitespace byte separates the header from the raster. */
    if (r.pos >= size)
      return fer__fail(FER_ERR_TRUNCATED, "PNM: file ends after the header");
    if (!is_space(data[r.pos]))
      return fer__fail(FER_ERR_FORMAT,
                       "PNM: expected whitespace after the header at byte %zu",
                       r.pos);
    r.pos++;
    needed = kind == 4 ? ((size_t)width + 7) / 8 * (size_t)height
                       : samples * (maxval > 255 ? 2 : 1);
  } else {
    /* Each ASCII sample takes a byte at least: refuse to allocate for a
     * header that promises more than the file could hold. */
    needed = kind == 1 ? samples : samples * 2 - 1;
  }
  if (size - r.pos < needed)
    return fer__fail(FER_ERR_TRUNCATED,
                     "PNM: %ldx%ld P%d needs %zu bytes of pixels, the file has "
                     "%zu",
                     width, height, kind, needed, size - r.pos);
  st = fer__image_alloc((int)width, (int)height, channels, 0, "PNM header", out);
  if (st != FER_OK) return st;
  st = binary ? decode_binary(&r, kind, (unsigned)maxval, *out)
              : decode_ascii(&r, kind, (unsigned)maxval, *out);
  if (st != FER_OK) {
    fer_image_free(*out);
    *out = NULL;
  }
  return st;
}

fer_status fer__pnm_encode(const fer_image *img, fer__buf *out) {
  fer__buf_printf(out, "P%c\n%d %d\n255\n", img->channels == 1 ? '5' : '6',
                  img->width, img->height);
  size_t row = (size_t)img->width * (size_t)img->channels;
  if (!fer__buf_reserve(out, row * (size_t)img->height))
    return fer__buf_status(out, "PNM encoder");
  for (int y = 0; y < img->height; y++)
    fer__buf_append(out, img->pixels + (size_t)y * img->stride, row);
  return fer__buf_status(out, "PNM encoder");
}
