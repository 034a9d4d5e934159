/*
 * Resizing 8-bit images with the arithmetic of OpenCV's cv::resize, so that
 * a model trained on OpenCV-resized crops sees the same pixels here.
 *
 * Bilinear (INTER_LINEAR): source coordinate sx = (dx + 0.5) * scale - 0.5
 * (pixel centres), clamped at the edges; weights in 11-bit fixed point
 * (2048 = 1), a horizontal pass into int rows, then a vertical blend of two
 * rows rounded as OpenCV's SIMD path does. An exact 2x reduction is an area
 * average, as in OpenCV.
 *
 * Area (INTER_AREA), when shrinking both ways: each output pixel is the mean
 * of the source area it covers, fractional pixels weighted by the covered
 * fraction (float weights, as OpenCV); integer factors take a plain block
 * mean. When enlarging along either axis, OpenCV's INTER_AREA is a bilinear
 * variant whose weights come from the overlap of pixel cells; so is ours.
 */
#include <math.h>
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"

enum { COEF_BITS = 11, COEF_ONE = 1 << COEF_BITS };

/* Source index and the two fixed-point weights of one output coordinate. */
typedef struct linear_tap {
  int index;     /* first source pixel; the second is index + 1 if in range */
  int weight[2]; /* sum to about COEF_ONE */
} linear_tap;

static int round_half_even(float v) { return (int)lrintf(v); }

/* Taps along one axis of `src_len` -> `dst_len` pixels. `cell_mode` selects
 * INTER_AREA's enlarging variant. */
static void linear_taps(int src_len, int dst_len, int cell_mode, linear_tap *taps) {
  double inv_scale = (double)dst_len / src_len;
  double scale = 1.0 / inv_scale;
  for (int d = 0; d < dst_len; d++) {
    int s;
    float f;
    if (cell_mode) {
      s = (int)floor(d * scale);
      f = (float)((d + 1) - (s + 1) * inv_scale);
      f = f <= 0 ? 0.f : f - floorf(f);
    } else {
      f = (float)((d + 0.5) * scale - 0.5);
      s = (int)floorf(f);
      f -= (float)s;
    }
    if (s < 0) {
      s = 0;
      f = 0;
    }
    if (s >= src_len - 1) {
      s = src_len - 1;
      f = 0;
    }
    taps[d].index = s;
    taps[d].weight[0] = round_half_even((1.f - f) * COEF_ONE);
    taps[d].weight[1] = round_half_even(f * COEF_ONE);
  }
}

/* One source row filtered horizontally: values scaled by COEF_ONE. */
static void linear_row(const uint8_t *src, int src_width, int channels,
                       const linear_tap *taps, int dst_width, int32_t *out) {
  for (int d = 0; d < dst_width; d++) {
    int s0 = taps[d].index, s1 = FER__MIN(s0 + 1, src_width - 1);
    for (int k = 0; k < channels; k++)
      out[d * channels + k] = src[s0 * channels + k] * taps[d].weight[0] +
                              src[s1 * channels + k] * taps[d].weight[1];
  }
}

/* The vertical blend of OpenCV's vectorised 8-bit path: each product keeps
 * its top bits (a 16x16 -> high 16 multiply), then one rounding step. */
static uint8_t blend_rows(int32_t a, int32_t b, int wa, int wb) {
  int v = ((wa * (a >> 4)) >> 16) + ((wb * (b >> 4)) >> 16);
  v = (v + 2) >> 2;
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static fer_status resize_linear(const fer_image *src, fer_image *dst, int cell_mode) {
  int c = src->channels, dw = dst->width, dh = dst->height;
  linear_tap *xt = fer__malloc(fer__mul_size((size_t)dw + (size_t)dh, sizeof *xt));
  int32_t *rows = fer__malloc(fer__mul_size((size_t)dw * (size_t)c * 2, sizeof *rows));
  if (!xt || !rows) {
    fer__free(xt);
    fer__free(rows);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_image_resize: out of memory");
  }
  linear_tap *yt = xt + dw;
  linear_taps(src->width, dw, cell_mode, xt);
  linear_taps(src->height, dh, cell_mode, yt);
  int32_t *row[2] = {rows, rows + (size_t)dw * c};
  int have[2] = {-1, -1}; /* which source rows row[0], row[1] hold */
  for (int y = 0; y < dh; y++) {
    int s0 = yt[y].index, s1 = FER__MIN(s0 + 1, src->height - 1);
    if (have[0] != s0) {
      if (have[1] == s0) { /* moving down one row: reuse it */
        int32_t *t = row[0];
        row[0] = row[1];
        row[1] = t;
        have[0] = s0;
        have[1] = -1;
      } else {
        linear_row(src->pixels + (size_t)s0 * src->stride, src->width, c, xt, dw, row[0]);
        have[0] = s0;
      }
    }
    if (have[1] != s1) {
      linear_row(src->pixels + (size_t)s1 * src->stride, src->width, c, xt, dw, row[1]);
      have[1] = s1;
    }
    uint8_t *d = dst->pixels + (size_t)y * dst->stride;
    for (int i = 0; i < dw * c; i++)
      d[i] = blend_rows(row[0][i], row[1][i], yt[y].weight[0], yt[y].weight[1]);
  }
  fer__free(xt);
  fer__free(rows);
  return FER_OK;
}

/* Integer factors: the rounded mean of each fx x fy block. */
static void resize_area_blocks(const fer_image *src, fer_image *dst, int fx, int fy) {
  int c = src->channels;
  unsigned area = (unsigned)(fx * fy);
  float reciprocal = 1.f / (float)area;
  for (int y = 0; y < dst->height; y++) {
    uint8_t *d = dst->pixels + (size_t)y * dst->stride;
    for (int x = 0; x < dst->width; x++)
      for (int k = 0; k < c; k++) {
        unsigned sum = 0;
        for (int j = 0; j < fy; j++) {
          const uint8_t *s = src->pixels + (size_t)(y * fy + j) * src->stride +
                             (size_t)(x * fx) * c + k;
          for (int i = 0; i < fx; i++) sum += s[i * c];
        }
        /* OpenCV's 2x2 path rounds halves up in integers; its other
         * factors multiply by a float reciprocal and round half to even. */
        d[x * c + k] = area == 4 ? (uint8_t)((sum + 2) >> 2)
                                 : (uint8_t)lrintf((float)sum * reciprocal);
      }
  }
}

/* One contribution of a source pixel to an output pixel. */
typedef struct area_tap {
  int dst, src;
  float weight;
} area_tap;

/* Taps along one axis when shrinking: every output cell [d*scale,
 * (d+1)*scale) collects the source pixels it covers, weighted by covered
 * length over the cell length. Returns the count (at most src + dst). */
static int area_taps(int src_len, int dst_len, area_tap *taps) {
  double scale = 1.0 / ((double)dst_len / src_len);
  int n = 0;
  for (int d = 0; d < dst_len; d++) {
    double start = d * scale, end = start + scale;
    double cell = FER__MIN(scale, src_len - start);
    int first = (int)ceil(start), last = (int)floor(end);
    last = FER__MIN(last, src_len - 1);
    first = FER__MIN(first, last);
    /* Coverage below 1/1000 of a pixel is rounding noise, not area. */
    if (first - start > 1e-3)
      taps[n++] = (area_tap){d, first - 1, (float)((first - start) / cell)};
    for (int s = first; s < last; s++)
      taps[n++] = (area_tap){d, s, (float)(1.0 / cell)};
    if (end - last > 1e-3)
      taps[n++] = (area_tap){d, last, (float)(FER__MIN(FER__MIN(end - last, 1.0), cell) / cell)};
  }
  return n;
}

static fer_status resize_area_general(const fer_image *src, fer_image *dst) {
  int c = src->channels, dw = dst->width, dh = dst->height;
  size_t row_len = (size_t)dw * (size_t)c;
  /* Per axis at most src + 2 * dst taps (two partial pixels per cell). */
  size_t ntaps = (size_t)src->width + 2 * (size_t)dw + (size_t)src->height +
                 2 * (size_t)dh;
  area_tap *taps = fer__malloc(fer__mul_size(ntaps, sizeof *taps));
  float *buf = fer__malloc(fer__mul_size(row_len * 2, sizeof *buf));
  if (!taps || !buf) {
    fer__free(taps);
    fer__free(buf);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_image_resize: out of memory");
  }
  int nx = area_taps(src->width, dw, taps);
  area_tap *yt = taps + nx;
  int ny = area_taps(src->height, dh, yt);
  float *hrow = buf, *sum = buf + row_len;
  memset(sum, 0, row_len * sizeof *sum);
  for (int t = 0; t < ny; t++) {
    const uint8_t *s = src->pixels + (size_t)yt[t].src * src->stride;
    /* Taps come grouped by output pixel: sum each group in a register, in
     * tap order (the order OpenCV adds them in, so floats round alike). */
    if (c == 1) {
      for (int i = 0; i < nx;) {
        int d = taps[i].dst;
        float acc = 0;
        for (; i < nx && taps[i].dst == d; i++) acc += s[taps[i].src] * taps[i].weight;
        hrow[d] = acc;
      }
    } else { /* 3 channels */
      for (int i = 0; i < nx;) {
        int d = taps[i].dst;
        float r = 0, g = 0, b = 0;
        for (; i < nx && taps[i].dst == d; i++) {
          const uint8_t *p = s + (size_t)taps[i].src * 3;
          float w = taps[i].weight;
          r += p[0] * w;
          g += p[1] * w;
          b += p[2] * w;
        }
        hrow[(size_t)d * 3] = r;
        hrow[(size_t)d * 3 + 1] = g;
        hrow[(size_t)d * 3 + 2] = b;
      }
    }
    float beta = yt[t].weight;
    for (size_t i = 0; i < row_len; i++) sum[i] += beta * hrow[i];
    /* The last tap of an output row: round and store it. */
    if (t + 1 == ny || yt[t + 1].dst != yt[t].dst) {
      uint8_t *d = dst->pixels + (size_t)yt[t].dst * dst->stride;
      for (size_t i = 0; i < row_len; i++) {
        int v = (int)lrintf(sum[i]);
        d[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
      }
      memset(sum, 0, row_len * sizeof *sum);
    }
  }
  fer__free(taps);
  fer__free(buf);
  return FER_OK;
}

/* The integer ratio src/dst, or 0 when it is not one. */
static int integer_factor(int src_len, int dst_len) {
  return src_len % dst_len == 0 ? src_len / dst_len : 0;
}

fer_status fer_image_resize(const fer_image *img, int width, int height,
                            fer_resize_method method, fer_image **out) {
  const char *who = "fer_image_resize";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  fer_status st = fer__image_check(img, who);
  if (st != FER_OK) return st;
  if (method != FER_RESIZE_BILINEAR && method != FER_RESIZE_AREA)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: unknown method %d", who,
                     (int)method);
  st = fer__image_check_size(width, height, who);
  if (st != FER_OK) return st == FER_ERR_FORMAT ? FER_ERR_INVALID_ARGUMENT : st;
  st = fer__image_alloc(width, height, img->channels, 0, who, out);
  if (st != FER_OK) return st;
  int fx = integer_factor(img->width, width), fy = integer_factor(img->height, height);
  int shrinking = width <= img->width && height <= img->height;
  if (fx && fy && ((method == FER_RESIZE_AREA) || (fx == 2 && fy == 2)))
    resize_area_blocks(img, *out, fx, fy);
  else if (method == FER_RESIZE_AREA && shrinking)
    st = resize_area_general(img, *out);
  else
    st = resize_linear(img, *out, method == FER_RESIZE_AREA);
  if (st != FER_OK) {
    fer_image_free(*out);
    *out = NULL;
  }
  return st;
}
