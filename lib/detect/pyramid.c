/*
 * One pyramid level, shrunk exactly as OpenCV 4's CascadeClassifier shrinks
 * it: FeatureEvaluator::setImage calls cv::resize(..., INTER_LINEAR_EXACT)
 * for every level, from the full-size gray image. Matching it bit for bit
 * keeps every window, and so every detection, identical.
 *
 * INTER_LINEAR_EXACT on 8-bit pixels, per axis:
 *   f = scale * (d + 0.5) - 0.5 in double (scale = 1 / (dst / src)),
 *   i = floor(f), c1 = round_half_even((f - i) * 256), c0 = 256 - c1,
 * a coordinate past the last source pixel takes that pixel (c0 = 256).
 * Rows are first combined horizontally, h = c0 * p[i] + c1 * p[i + 1]
 * (8 fractional bits, exact), then vertically with rounding:
 *   out = (c0 * h[i] + c1 * h[i + 1] + 2^15) >> 16.
 * (OpenCV turns an exact 2:1 shrink into its 2x2 area average,
 * (a + b + c + d + 2) >> 2, which is what these weights give anyway.)
 */
#include <math.h>
#include <string.h>

#include "detect/detect_internal.h"

typedef struct axis_tap {
  int32_t index;  /* first source pixel */
  uint32_t c0, c1; /* weights of index and index + 1, summing to 256 */
} axis_tap;

size_t fer__pyramid_scratch_size(int dst_width) {
  /* taps for x, two rows of horizontal results */
  return (size_t)dst_width * (sizeof(axis_tap) + 2 * sizeof(uint32_t)) + 64;
}

static axis_tap tap_at(int d, double scale, int src_size) {
  double f = scale * ((double)d + 0.5) - 0.5;
  double i = floor(f);
  axis_tap t = {0, 256, 0};
  if (f >= 0 && src_size > 1) {
    if (i < src_size - 1) {
      t.index = (int32_t)i;
      t.c1 = (uint32_t)lrint((f - i) * 256.0);
      t.c0 = 256 - t.c1;
    } else {
      t.index = src_size - 1;
    }
  }
  return t;
}

static void horizontal(const uint8_t *row, int sw, const axis_tap *taps, int dw, uint32_t *out) {
  for (int x = 0; x < dw; x++) {
    int32_t i = taps[x].index;
    uint32_t next = i + 1 < sw ? row[i + 1] : 0;
    out[x] = taps[x].c0 * row[i] + taps[x].c1 * next;
  }
}

void fer__pyramid_resize(const uint8_t *src, int sw, int sh, size_t sstride, uint8_t *dst,
                         int dw, int dh, size_t dstride, void *scratch) {
  fer__pyramid_resize_part(src, sw, sh, sstride, dw, dh, 0, 0, dw, dh, dst, dstride, scratch);
}

void fer__pyramid_resize_part(const uint8_t *src, int sw, int sh, size_t sstride, int dw, int dh,
                              int x0, int y0, int cw, int ch, uint8_t *dst, size_t dstride,
                              void *scratch) {
  if (dw == sw && dh == sh) {
    for (int y = 0; y < ch; y++)
      memcpy(dst + (size_t)y * dstride, src + (size_t)(y0 + y) * sstride + (size_t)x0,
             (size_t)cw);
    return;
  }
  /* OpenCV derives the scale from the sizes, not from the pyramid factor. */
  double scale_x = 1.0 / ((double)dw / sw), scale_y = 1.0 / ((double)dh / sh);
  axis_tap *xt = scratch;
  uint32_t *row0 = (uint32_t *)(void *)(xt + cw), *row1 = row0 + cw;
  /* Taps depend on the destination coordinate alone, so a part of a level
   * is the same pixels as that part of the whole level. */
  for (int dx = 0; dx < cw; dx++) xt[dx] = tap_at(x0 + dx, scale_x, sw);
  int have0 = -1, have1 = -1; /* source rows now in row0 / row1 */
  for (int dy = 0; dy < ch; dy++) {
    axis_tap t = tap_at(y0 + dy, scale_y, sh);
    int y0s = t.index, y1s = t.index + 1 < sh ? t.index + 1 : t.index;
    if (have0 != y0s) {
      if (have1 == y0s) { /* the pyramid only moves down: reuse the lower row */
        uint32_t *tmp = row0;
        row0 = row1;
        row1 = tmp;
        have1 = -1;
      } else {
        horizontal(src + (size_t)y0s * sstride, sw, xt, cw, row0);
      }
      have0 = y0s;
    }
    if (have1 != y1s) {
      horizontal(src + (size_t)y1s * sstride, sw, xt, cw, row1);
      have1 = y1s;
    }
    uint8_t *d = dst + (size_t)dy * dstride;
    for (int x = 0; x < cw; x++)
      d[x] = (uint8_t)((t.c0 * row0[x] + t.c1 * row1[x] + 32768u) >> 16);
  }
}
