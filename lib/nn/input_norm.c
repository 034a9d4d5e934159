/* Per-image input normalisation: standardisation and the sharpness limit.
 * include/fer/nn.h says what they do; this file says how.
 *
 * Why a sharpness limit exists at all: the FER2013 Training images shipped
 * to us are much softer than the PublicTest images and than faces cropped
 * from photographs (their mean gradient is about a quarter as large). A
 * network trained on them fails on sharp faces, and no training-time trick
 * can invent the missing detail; blurring sharp inputs down to the softness
 * the network learnt from closes the gap instead. Training batches are
 * left as sharp as they are: blurring the sharper half of an already soft
 * training set only throws information away (measured: PublicTest accuracy
 * after one epoch fell from 0.38 to 0.33 in a PyTorch check). */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

#define SIGMA_STEP 0.25
#define SIGMA_STEPS 32 /* sigma up to 8 px */
#define MAX_SHARPNESS_LIMIT 100.0f
/* Images up to this many floats are filtered in stack scratch, so that the
 * predictors keep their "no allocation after the first call" promise for
 * every usual input size (3 x 48 x 48 is 6912). */
#define STACK_FLOATS 8192

fer_status fer_model_set_image_normalization(fer_model *m, unsigned flags,
                                             float sharpness_limit) {
  fer_status st = fer__model_check(m, "fer_model_set_image_normalization");
  if (st) return st;
  if (flags & ~FER_NORM_STANDARDIZE)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_set_image_normalization: unknown flags 0x%x",
                     flags & ~FER_NORM_STANDARDIZE);
  if (!(sharpness_limit >= 0.0f && sharpness_limit <= MAX_SHARPNESS_LIMIT))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_set_image_normalization: sharpness limit %g is "
                     "not in [0, %g] (0 turns it off)",
                     (double)sharpness_limit, (double)MAX_SHARPNESS_LIMIT);
  m->norm_flags = flags;
  m->norm_sharpness = sharpness_limit;
  return FER_OK;
}

void fer_model_get_image_normalization(const fer_model *m, unsigned *flags,
                                       float *sharpness_limit) {
  int ok = fer__model_check(m, "fer_model_get_image_normalization") == FER_OK;
  if (flags) *flags = ok ? m->norm_flags : 0u;
  if (sharpness_limit) *sharpness_limit = ok ? m->norm_sharpness : 0.0f;
}

/* Mean and standard deviation of `count` values (double sums: a 48x48
 * image of values near 255 loses digits in float). */
static void moments(const float *x, size_t count, double *mean, double *sd) {
  double sum = 0.0, sq = 0.0;
  for (size_t i = 0; i < count; i++) sum += x[i];
  *mean = sum / (double)count;
  for (size_t i = 0; i < count; i++) {
    double d = x[i] - *mean;
    sq += d * d;
  }
  *sd = sqrt(sq / (double)count);
}

float fer_image_sharpness(const float *x, int channels, int height, int width) {
  if (!x || channels <= 0 || height <= 0 || width <= 0 ||
      (height < 2 && width < 2))
    return 0.0f;
  size_t plane = (size_t)height * (size_t)width;
  double mean, sd, diff = 0.0;
  moments(x, plane * (size_t)channels, &mean, &sd);
  if (!(sd > 1e-12)) return 0.0f;
  for (int c = 0; c < channels; c++) {
    const float *p = x + (size_t)c * plane;
    for (int y = 0; y < height; y++)
      for (int i = 0; i < width; i++) {
        const float v = p[(size_t)y * width + i];
        if (i + 1 < width) diff += fabs((double)p[(size_t)y * width + i + 1] - v);
        if (y + 1 < height) diff += fabs((double)p[(size_t)(y + 1) * width + i] - v);
      }
  }
  size_t pairs = (size_t)channels * ((size_t)height * (size_t)(width - 1) +
                                     (size_t)(height - 1) * (size_t)width);
  return (float)(diff / (double)pairs / sd);
}

/* Separable Gaussian blur of every channel of `src` into `dst`, with
 * replicated borders; `row` holds one intermediate plane. */
static void gaussian_blur(const float *src, float *dst, float *row, int C,
                          int H, int W, double sigma) {
  float kernel[2 * 24 + 1];
  int radius = (int)ceil(3.0 * sigma);
  if (radius > 24) radius = 24;
  double total = 0.0;
  for (int i = -radius; i <= radius; i++)
    total += kernel[i + radius] = (float)exp(-(double)(i * i) / (2.0 * sigma * sigma));
  for (int i = 0; i <= 2 * radius; i++) kernel[i] = (float)(kernel[i] / total);
  const size_t plane = (size_t)H * (size_t)W;
  for (int c = 0; c < C; c++) {
    const float *s = src + (size_t)c * plane;
    float *d = dst + (size_t)c * plane;
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        float acc = 0.0f;
        for (int k = -radius; k <= radius; k++) {
          int xx = FER__MIN(FER__MAX(x + k, 0), W - 1);
          acc += kernel[k + radius] * s[(size_t)y * W + xx];
        }
        row[(size_t)y * W + x] = acc;
      }
    for (int y = 0; y < H; y++)
      for (int x = 0; x < W; x++) {
        float acc = 0.0f;
        for (int k = -radius; k <= radius; k++) {
          int yy = FER__MIN(FER__MAX(y + k, 0), H - 1);
          acc += kernel[k + radius] * row[(size_t)yy * W + x];
        }
        d[(size_t)y * W + x] = acc;
      }
  }
}

/* Replaces `x` by its blur with the smallest ladder sigma whose result is
 * no sharper than `limit` (the largest sigma when none is). Blur only ever
 * lowers this sharpness, so a binary search over the ladder finds it.
 * `scratch` holds 2 C H W + H W floats. */
static void limit_sharpness(float *x, int C, int H, int W, float limit,
                            float *scratch) {
  if (fer_image_sharpness(x, C, H, W) <= limit) return;
  const size_t size = (size_t)C * H * W;
  float *trial = scratch, *best = scratch + size, *row = best + size;
  int lo = 1, hi = SIGMA_STEPS, found = 0;
  while (lo <= hi) {
    int mid = (lo + hi) / 2;
    gaussian_blur(x, trial, row, C, H, W, mid * SIGMA_STEP);
    if (fer_image_sharpness(trial, C, H, W) <= limit) {
      memcpy(best, trial, size * sizeof *best);
      found = 1;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  if (!found) gaussian_blur(x, best, row, C, H, W, SIGMA_STEPS * SIGMA_STEP);
  memcpy(x, best, size * sizeof *x);
}

static void standardize(float *x, size_t count) {
  double mean, sd;
  moments(x, count, &mean, &sd);
  const float shift = (float)mean, scale = sd > 1e-6 ? (float)(1.0 / sd) : 1.0f;
  for (size_t i = 0; i < count; i++) x[i] = (x[i] - shift) * scale;
}

fer_status fer__model_normalize(const fer_model *m, float *x, int n,
                                int training) {
  const float limit = training ? 0.0f : m->norm_sharpness;
  if (n <= 0 || (m->norm_flags == 0 && limit <= 0.0f)) return FER_OK;
  const int C = m->input.c, H = m->input.h, W = m->input.w;
  const size_t size = (size_t)C * (size_t)H * (size_t)W;
  float stack[STACK_FLOATS], *scratch = NULL;
  if (limit > 0.0f) {
    size_t need = 2 * size + (size_t)H * (size_t)W;
    scratch = need <= STACK_FLOATS ? stack : fer__malloc(need * sizeof *scratch);
    if (!scratch)
      return fer__fail(FER_ERR_OUT_OF_MEMORY,
                       "input normalisation: out of memory for a %dx%dx%d image",
                       C, H, W);
  }
  for (int i = 0; i < n; i++) {
    float *image = x + (size_t)i * size;
    if (scratch) limit_sharpness(image, C, H, W, limit, scratch);
    if (m->norm_flags & FER_NORM_STANDARDIZE) standardize(image, size);
  }
  if (scratch != stack) fer__free(scratch);
  return FER_OK;
}

fer_status fer_model_preprocess(const fer_model *m, float *x, int n) {
  fer_status st = fer__model_check(m, "fer_model_preprocess");
  if (st) return st;
  if (n < 0 || (n > 0 && !x))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_preprocess: %d images at %p", n, (const void *)x);
  return fer__model_input(m, x, n);
}

fer_status fer__model_input(const fer_model *m, float *x, int n) {
  const size_t count = (size_t)n * (size_t)m->input.c * (size_t)m->input.h *
                       (size_t)m->input.w;
  const float scale = m->pre_scale, mean = m->pre_mean, std = m->pre_std;
  for (size_t i = 0; i < count; i++) x[i] = (x[i] * scale - mean) / std;
  return fer__model_normalize(m, x, n, 0);
}
