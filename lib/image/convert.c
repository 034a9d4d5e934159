/* Channel conversion and simple geometry: gray, RGB, crop, mirror. */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"

fer_status fer_image_to_gray(const fer_image *img, fer_image **out) {
  const char *who = "fer_image_to_gray";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  fer_status st = fer__image_check(img, who);
  if (st != FER_OK) return st;
  if (img->channels == 1) return fer_image_clone(img, out);
  st = fer__image_alloc(img->width, img->height, 1, 0, who, out);
  if (st != FER_OK) return st;
  for (int y = 0; y < img->height; y++) {
    const uint8_t *s = img->pixels + (size_t)y * img->stride;
    uint8_t *d = (*out)->pixels + (size_t)y * (*out)->stride;
    for (int x = 0; x < img->width; x++, s += 3) d[x] = fer__luma(s[0], s[1], s[2]);
  }
  (*out)->orientation = img->orientation;
  return FER_OK;
}

fer_status fer_image_to_rgb(const fer_image *img, fer_image **out) {
  const char *who = "fer_image_to_rgb";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  fer_status st = fer__image_check(img, who);
  if (st != FER_OK) return st;
  if (img->channels == 3) return fer_image_clone(img, out);
  st = fer__image_alloc(img->width, img->height, 3, 0, who, out);
  if (st != FER_OK) return st;
  for (int y = 0; y < img->height; y++) {
    const uint8_t *s = img->pixels + (size_t)y * img->stride;
    uint8_t *d = (*out)->pixels + (size_t)y * (*out)->stride;
    for (int x = 0; x < img->width; x++, d += 3) d[0] = d[1] = d[2] = s[x];
  }
  (*out)->orientation = img->orientation;
  return FER_OK;
}

fer_status fer_image_crop(const fer_image *img, const fer_rect *rect,
                          fer_image **out) {
  const char *who = "fer_image_crop";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  fer_status st = fer__image_check(img, who);
  if (st != FER_OK) return st;
  if (!rect) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: rect is NULL", who);
  /* 64-bit sums: x + width may overflow int32 for hostile rectangles. */
  int64_t x0 = FER__MAX((int64_t)rect->x, 0);
  int64_t y0 = FER__MAX((int64_t)rect->y, 0);
  int64_t x1 = FER__MIN((int64_t)rect->x + rect->width, (int64_t)img->width);
  int64_t y1 = FER__MIN((int64_t)rect->y + rect->height, (int64_t)img->height);
  if (x1 <= x0 || y1 <= y0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: rectangle (%d,%d %dx%d) does not overlap the %dx%d "
                     "image",
                     who, (int)rect->x, (int)rect->y, (int)rect->width,
                     (int)rect->height, img->width, img->height);
  st = fer__image_alloc((int)(x1 - x0), (int)(y1 - y0), img->channels, 0, who,
                        out);
  if (st != FER_OK) return st;
  for (int64_t y = y0; y < y1; y++)
    memcpy((*out)->pixels + (size_t)(y - y0) * (*out)->stride,
           img->pixels + (size_t)y * img->stride + (size_t)x0 * img->channels,
           (*out)->stride);
  return FER_OK;
}

fer_status fer_image_flip_horizontal(fer_image *img) {
  fer_status st = fer__image_check(img, "fer_image_flip_horizontal");
  if (st != FER_OK) return st;
  int c = img->channels;
  for (int y = 0; y < img->height; y++) {
    uint8_t *row = img->pixels + (size_t)y * img->stride;
    for (int l = 0, r = img->width - 1; l < r; l++, r--)
      for (int k = 0; k < c; k++) {
        uint8_t t = row[l * c + k];
        row[l * c + k] = row[r * c + k];
        row[r * c + k] = t;
      }
  }
  return FER_OK;
}
