/* Drawing on images: rectangle outlines, filled rectangles, text. Every
 * shape is clipped to the image, so any position is valid. */
#include <string.h>

#include "core/core_internal.h"
#include "image/font.h"
#include "image/image_internal.h"

/* The colour as this image's pixel: RGB, or its luma on gray images. */
static void colour_bytes(const fer_image *img, uint32_t rgb, uint8_t px[3]) {
  px[0] = (uint8_t)(rgb >> 16);
  px[1] = (uint8_t)(rgb >> 8);
  px[2] = (uint8_t)rgb;
  if (img->channels == 1) px[0] = fer__luma(px[0], px[1], px[2]);
}

/* Fills [x0, x1) x [y0, y1) after clipping; 64-bit so that no hostile
 * rectangle overflows. */
static void fill_clipped(fer_image *img, int64_t x0, int64_t y0, int64_t x1,
                         int64_t y1, const uint8_t px[3]) {
  x0 = FER__MAX(x0, 0);
  y0 = FER__MAX(y0, 0);
  x1 = FER__MIN(x1, (int64_t)img->width);
  y1 = FER__MIN(y1, (int64_t)img->height);
  if (x1 <= x0 || y1 <= y0) return; /* entirely outside */
  int c = img->channels;
  for (int64_t y = y0; y < y1; y++) {
    uint8_t *p = img->pixels + (size_t)y * img->stride + (size_t)x0 * c;
    if (c == 1) {
      memset(p, px[0], (size_t)(x1 - x0));
      continue;
    }
    for (int64_t x = x0; x < x1; x++, p += 3) memcpy(p, px, 3);
  }
}

fer_status fer_image_fill_rect(fer_image *img, const fer_rect *rect, uint32_t rgb) {
  fer_status st = fer__image_check(img, "fer_image_fill_rect");
  if (st != FER_OK) return st;
  if (!rect) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_image_fill_rect: rect is NULL");
  uint8_t px[3];
  colour_bytes(img, rgb, px);
  fill_clipped(img, rect->x, rect->y, (int64_t)rect->x + rect->width,
               (int64_t)rect->y + rect->height, px);
  return FER_OK;
}

fer_status fer_image_draw_rect(fer_image *img, const fer_rect *rect,
                               uint32_t rgb, int thickness) {
  const char *who = "fer_image_draw_rect";
  fer_status st = fer__image_check(img, who);
  if (st != FER_OK) return st;
  if (!rect) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: rect is NULL", who);
  if (thickness < 1)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: thickness %d is not >= 1",
                     who, thickness);
  uint8_t px[3];
  colour_bytes(img, rgb, px);
  /* The outline lies inside the rectangle: bands of `thickness` along each
   * edge (a thick outline of a small rectangle simply fills it). */
  int64_t x0 = rect->x, y0 = rect->y;
  int64_t x1 = x0 + rect->width, y1 = y0 + rect->height;
  if (x1 <= x0 || y1 <= y0) return FER_OK;
  int64_t t = thickness;
  fill_clipped(img, x0, y0, x1, FER__MIN(y0 + t, y1), px);     /* top */
  fill_clipped(img, x0, FER__MAX(y1 - t, y0), x1, y1, px);     /* bottom */
  fill_clipped(img, x0, y0, FER__MIN(x0 + t, x1), y1, px);     /* left */
  fill_clipped(img, FER__MAX(x1 - t, x0), y0, x1, y1, px);     /* right */
  return FER_OK;
}

fer_status fer_image_draw_text(fer_image *img, int x, int y, const char *text,
                               int scale, uint32_t rgb) {
  const char *who = "fer_image_draw_text";
  fer_status st = fer__image_check(img, who);
  if (st != FER_OK) return st;
  if (!text) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: text is NULL", who);
  if (scale < 1 || scale > 64)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: scale %d is outside 1..64",
                     who, scale);
  uint8_t px[3];
  colour_bytes(img, rgb, px);
  int64_t cell = (int64_t)FER__FONT_SIZE * scale;
  int64_t left = x;
  for (size_t i = 0; text[i]; i++, left += cell) {
    if (left >= img->width) break; /* the rest is off the right edge */
    if (left + cell <= 0 || (int64_t)y + cell <= 0 || y >= img->height) continue;
    for (int row = 0; row < FER__FONT_SIZE; row++) {
      unsigned bits = fer__font_row((unsigned char)text[i], row);
      for (int col = 0; col < FER__FONT_SIZE; col++)
        if (bits & (0x80u >> col)) {
          int64_t px0 = left + (int64_t)col * scale, py0 = y + (int64_t)row * scale;
          fill_clipped(img, px0, py0, px0 + scale, py0 + scale, px);
        }
    }
  }
  return FER_OK;
}

void fer_image_text_size(const char *text, int scale, int *width, int *height) {
  size_t n = text ? strlen(text) : 0;
  scale = scale < 1 ? 1 : scale > 64 ? 64 : scale;
  long w = (long)FER__FONT_SIZE * scale;
  long total = n > (size_t)(INT32_MAX / w) ? INT32_MAX : (long)n * w;
  if (width) *width = (int)total;
  if (height) *height = FER__FONT_SIZE * scale; /* one line, even if empty */
}
