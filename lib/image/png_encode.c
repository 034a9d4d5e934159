/*
 * PNG encoder: 8-bit gray (1-channel images) or 8-bit RGB (3-channel), not
 * interlaced. Each row gets the filter whose output has the smallest sum of
 * absolute values (bytes read as signed), the heuristic the PNG
 * specification suggests; the filtered rows are compressed with libfer's
 * deflate at its default level.
 */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "image/png_internal.h"
#include "util/crc32.h"
#include "util/deflate.h"

/* IDAT data is split into chunks of this size, like most encoders do. */
#define IDAT_CHUNK_SIZE (1u << 20)

static void write_chunk(fer__buf *out, const char *type, const uint8_t *body,
                        size_t len) {
  fer__buf_u32be(out, (uint32_t)len);
  size_t type_at = out->size;
  fer__buf_append(out, type, 4);
  fer__buf_append(out, body, len);
  if (out->failed) return;
  fer__buf_u32be(out, fer__crc32(0, out->data + type_at, len + 4));
}

static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {
  int p = a + b - c;
  int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p,
      pc = p > c ? p - c : c - p;
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/* Filters `row` (previous row `prev`, zeros for the first) with filter
 * `type` into `dst` and returns the sum of |(int8_t)byte|. */
static unsigned long filter_row(unsigned type, const uint8_t *row,
                                const uint8_t *prev, size_t n, size_t bpp,
                                uint8_t *dst) {
  unsigned long cost = 0;
  for (size_t i = 0; i < n; i++) {
    uint8_t left = i >= bpp ? row[i - bpp] : 0;
    uint8_t up = prev[i];
    uint8_t up_left = i >= bpp ? prev[i - bpp] : 0;
    uint8_t predicted = 0;
    switch (type) {
      case 1: predicted = left; break;
      case 2: predicted = up; break;
      case 3: predicted = (uint8_t)((left + up) >> 1); break;
      case 4: predicted = paeth(left, up, up_left); break;
      default: break;
    }
    uint8_t v = (uint8_t)(row[i] - predicted);
    dst[i] = v;
    cost += v < 128 ? v : 256u - v;
  }
  return cost;
}

fer_status fer__png_encode(const fer_image *img, fer__buf *out) {
  fer_status st = fer__image_check(img, "PNG encoder");
  if (st != FER_OK) return st;
  if (img->channels != 1 && img->channels != 3)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "PNG encoder: %d channels",
                     img->channels);
  size_t bpp = (size_t)img->channels;
  size_t row_bytes = (size_t)img->width * bpp;
  size_t raw_size = (size_t)img->height * (row_bytes + 1);
  uint8_t *raw = fer__malloc(raw_size);
  uint8_t *candidate = fer__malloc(row_bytes);
  uint8_t *zeros = fer__calloc(row_bytes, 1);
  fer__buf z;
  fer__buf_init(&z);
  if (!raw || !candidate || !zeros) {
    st = fer__fail(FER_ERR_OUT_OF_MEMORY, "PNG encoder: out of memory");
    goto done;
  }
  for (int y = 0; y < img->height; y++) {
    const uint8_t *row = img->pixels + (size_t)y * img->stride;
    const uint8_t *prev = y ? row - img->stride : zeros;
    uint8_t *dst = raw + (size_t)y * (row_bytes + 1);
    unsigned long best = filter_row(0, row, prev, row_bytes, bpp, dst + 1);
    dst[0] = 0;
    for (unsigned type = 1; type <= 4; type++) {
      unsigned long cost = filter_row(type, row, prev, row_bytes, bpp, candidate);
      if (cost < best) {
        best = cost;
        dst[0] = (uint8_t)type;
        memcpy(dst + 1, candidate, row_bytes);
      }
    }
  }
  st = fer__zlib_compress(raw, raw_size, FER__DEFLATE_DEFAULT_LEVEL, &z);
  if (st != FER_OK) goto done;

  uint8_t ihdr[13];
  ihdr[0] = (uint8_t)(img->width >> 24);
  ihdr[1] = (uint8_t)(img->width >> 16);
  ihdr[2] = (uint8_t)(img->width >> 8);
  ihdr[3] = (uint8_t)img->width;
  ihdr[4] = (uint8_t)(img->height >> 24);
  ihdr[5] = (uint8_t)(img->height >> 16);
  ihdr[6] = (uint8_t)(img->height >> 8);
  ihdr[7] = (uint8_t)img->height;
  ihdr[8] = 8;                           /* bit depth */
  ihdr[9] = img->channels == 1 ? 0 : 2;  /* gray or RGB */
  ihdr[10] = ihdr[11] = ihdr[12] = 0;    /* deflate, adaptive, no interlace */
  fer__buf_append(out, fer__png_signature, 8);
  write_chunk(out, "IHDR", ihdr, sizeof ihdr);
  for (size_t at = 0; at < z.size; at += IDAT_CHUNK_SIZE)
    write_chunk(out, "IDAT", z.data + at, FER__MIN(z.size - at, (size_t)IDAT_CHUNK_SIZE));
  write_chunk(out, "IEND", NULL, 0);
  st = fer__buf_status(out, "PNG encoder");
done:
  fer__buf_release(&z);
  fer__free(raw);
  fer__free(candidate);
  fer__free(zeros);
  return st;
}
