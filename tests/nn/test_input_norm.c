/* Per-image input normalisation (lib/nn/input_norm.c): the sharpness measure
 * against closed forms, the sharpness limit against a naive non-separable
 * Gaussian filter, standardisation, model-file storage (format versions 1
 * and 2) and the paths that apply it (fer_model_predict_image, the
 * analyzer's crops go through fer_model_preprocess). */
#include <math.h>
#include <unistd.h>

#include "nn_test_util.h"

static void test_sharpness_closed_forms(void) {
  enum { H = 6, W = 9 };
  float x[H * W];
  /* Checkerboard of -1/+1: std 1, every neighbour differs by 2. */
  for (int y = 0; y < H; y++)
    for (int i = 0; i < W; i++) x[y * W + i] = ((y + i) % 2) ? 1.0f : -1.0f;
  /* 54 values, 27 of each sign: mean 0, std 1. */
  CHECK_NEAR(fer_image_sharpness(x, 1, H, W), 2.0, 1e-6);
  /* Horizontal ramp 0..W-1: horizontal steps of 1, no vertical change. */
  for (int y = 0; y < H; y++)
    for (int i = 0; i < W; i++) x[y * W + i] = (float)i;
  double sd = sqrt((W * W - 1) / 12.0);
  double pairs = H * (W - 1) + (H - 1) * W;
  CHECK_NEAR(fer_image_sharpness(x, 1, H, W), H * (W - 1) / pairs / sd, 1e-6);
  /* Contrast and brightness do not change it. */
  float y2[H * W];
  for (int i = 0; i < H * W; i++) y2[i] = 3.5f * x[i] + 40.0f;
  CHECK_NEAR(fer_image_sharpness(y2, 1, H, W), fer_image_sharpness(x, 1, H, W), 1e-5);
  /* Flat images and nonsense arguments give 0. */
  for (int i = 0; i < H * W; i++) x[i] = 7.0f;
  CHECK(fer_image_sharpness(x, 1, H, W) == 0.0f);
  CHECK(fer_image_sharpness(NULL, 1, H, W) == 0.0f);
  CHECK(fer_image_sharpness(x, 0, H, W) == 0.0f);
  CHECK(fer_image_sharpness(x, 1, 1, 1) == 0.0f);
}

/* Naive 2-D Gaussian with replicated borders, written as a direct double
 * sum over the whole (2r+1)^2 window rather than two 1-D passes. */
static void naive_blur(const float *src, float *dst, int H, int W, double sigma) {
  int r = (int)ceil(3.0 * sigma);
  double norm = 0.0;
  for (int i = -r; i <= r; i++) norm += exp(-(double)i * i / (2 * sigma * sigma));
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) {
      double acc = 0.0;
      for (int dy = -r; dy <= r; dy++)
        for (int dx = -r; dx <= r; dx++) {
          int yy = y + dy < 0 ? 0 : y + dy >= H ? H - 1 : y + dy;
          int xx = x + dx < 0 ? 0 : x + dx >= W ? W - 1 : x + dx;
          acc += exp(-(double)(dx * dx + dy * dy) / (2 * sigma * sigma)) *
                 src[yy * W + xx];
        }
      dst[y * W + x] = (float)(acc / (norm * norm));
    }
}

static fer_model *tiny_model(int c, int h, int w) {
  char text[256];
  snprintf(text, sizeof text, "input %dx%dx%d\nflatten\ndense 3\nsoftmax\n", c, h, w);
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(text, &m));
  if (m) CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 5));
  return m;
}

static void test_sharpness_limit_matches_naive_blur(void) {
  enum { H = 20, W = 20 };
  fer_model *m = tiny_model(1, H, W);
  if (!m) return;
  float raw[H * W], x[H * W], ref[H * W];
  tu_fill(raw, H * W, 11, 0, 255); /* white noise: very sharp */
  const float limit = 0.3f;
  CHECK_OK(fer_model_set_preprocessing(m, 1.0f, 0.0f, 1.0f));
  CHECK_OK(fer_model_set_image_normalization(m, 0, limit));
  memcpy(x, raw, sizeof x);
  CHECK_OK(fer_model_preprocess(m, x, 1));
  CHECK(fer_image_sharpness(x, 1, H, W) <= limit);
  /* The result is the naive blur with the smallest ladder sigma (0.25 px
   * steps) that meets the limit. */
  double sigma = 0.0;
  for (int k = 1; k <= 32 && sigma == 0.0; k++) {
    naive_blur(raw, ref, H, W, 0.25 * k);
    if (fer_image_sharpness(ref, 1, H, W) <= limit) sigma = 0.25 * k;
  }
  CHECK(sigma > 0.0);
  naive_blur(raw, ref, H, W, sigma);
  double worst = 0.0;
  /* (a plain comparison, not worst = fmax(worst, ...): GCC 12 for aarch64
   * stops with an internal error vectorising that reduction) */
  for (int i = 0; i < H * W; i++) {
    double d = fabs(x[i] - ref[i]);
    if (d > worst) worst = d;
  }
  CHECK_MSG(worst < 1e-3, "blur differs from the naive filter by %g", worst);
  /* An image already softer than the limit is left alone. */
  float soft[H * W], copy[H * W];
  naive_blur(raw, soft, H, W, 3.0);
  CHECK(fer_image_sharpness(soft, 1, H, W) < limit);
  memcpy(copy, soft, sizeof copy);
  CHECK_OK(fer_model_preprocess(m, copy, 1));
  CHECK(memcmp(copy, soft, sizeof copy) == 0);
  fer_model_free(m);
}

static void test_standardize(void) {
  enum { N = 3, C = 2, H = 5, W = 7, S = C * H * W };
  fer_model *m = tiny_model(C, H, W);
  if (!m) return;
  CHECK_OK(fer_model_set_image_normalization(m, FER_NORM_STANDARDIZE, 0.0f));
  float x[N * S];
  tu_fill(x, N * S, 3, 0, 255);
  for (int i = 0; i < S; i++) x[2 * S + i] = 90.0f; /* a flat image */
  CHECK_OK(fer_model_preprocess(m, x, N));
  for (int n = 0; n < 2; n++) {
    double sum = 0, sq = 0;
    for (int i = 0; i < S; i++) sum += x[n * S + i];
    for (int i = 0; i < S; i++) sq += (x[n * S + i] - sum / S) * (x[n * S + i] - sum / S);
    CHECK_NEAR(sum / S, 0.0, 1e-5);
    CHECK_NEAR(sqrt(sq / S), 1.0, 1e-4);
  }
  for (int i = 0; i < S; i++) CHECK(x[2 * S + i] == 0.0f); /* shifted only */
  fer_model_free(m);
}

static void test_arguments(void) {
  fer_model *m = tiny_model(1, 4, 4);
  if (!m) return;
  CHECK_STATUS(fer_model_set_image_normalization(m, 2u, 0.0f), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("unknown flags");
  CHECK_STATUS(fer_model_set_image_normalization(m, 0, -0.1f), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("sharpness limit");
  CHECK_STATUS(fer_model_set_image_normalization(m, 0, NAN), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_set_image_normalization(m, 0, INFINITY), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_set_image_normalization(NULL, 0, 0.0f), FER_ERR_MISUSE);
  float x[16] = {0};
  CHECK_STATUS(fer_model_preprocess(m, NULL, 1), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_preprocess(m, x, -1), FER_ERR_INVALID_ARGUMENT);
  CHECK_OK(fer_model_preprocess(m, x, 0));
  unsigned flags = 9;
  float limit = 9;
  fer_model_get_image_normalization(NULL, &flags, &limit);
  CHECK(flags == 0 && limit == 0.0f);
  fer_model_free(m);
}

/* Format version 1 without normalisation (older readers keep working),
 * version 2 with a NORM section that round-trips; NORM in a version-1
 * file is refused. */
static void test_model_file(void) {
  fer_model *m = tiny_model(1, 8, 8);
  if (!m) return;
  void *data = NULL;
  size_t size = 0;
  CHECK_OK(fer_model_save_memory(m, 0, &data, &size));
  CHECK(size > 12 && ((const unsigned char *)data)[8] == 1);
  fer_free(data);
  CHECK_OK(fer_model_set_image_normalization(m, FER_NORM_STANDARDIZE, 0.125f));
  CHECK_OK(fer_model_save_memory(m, 0, &data, &size));
  if (!data) return;
  unsigned char *bytes = data;
  CHECK(bytes[8] == 2);
  fer_model *l = NULL;
  CHECK_OK(fer_model_load_memory(data, size, &l));
  unsigned flags = 0;
  float limit = 0;
  fer_model_get_image_normalization(l, &flags, &limit);
  CHECK(flags == FER_NORM_STANDARDIZE && limit == 0.125f);
  fer_model_free(l);
  l = NULL;
  bytes[8] = 1;
  CHECK_STATUS(fer_model_load_memory(data, size, &l), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("NORM");
  fer_free(data);
  fer_model_free(m);
}

/* fer_model_predict_image must feed exactly what fer_model_preprocess
 * makes of the same pixels. */
static void test_predict_image_applies_it(void) {
  enum { H = 12, W = 12 };
  fer_model *m = tiny_model(1, H, W);
  if (!m) return;
  CHECK_OK(fer_model_set_image_normalization(m, FER_NORM_STANDARDIZE, 0.4f));
  fer_image *img = NULL;
  CHECK_OK(fer_image_create(W, H, 1, &img));
  if (!img) return;
  float x[H * W];
  uint8_t *pixels = fer_image_data_mutable(img);
  for (int y = 0; y < H; y++)
    for (int i = 0; i < W; i++) {
      uint8_t v = (uint8_t)((y * 37 + i * 91 + (y * i) % 13) & 255);
      pixels[(size_t)y * fer_image_stride(img) + i] = v;
      x[y * W + i] = v;
    }
  CHECK_OK(fer_model_preprocess(m, x, 1));
  float want[3], got[3];
  CHECK_OK(fer_model_predict(m, x, 1, want));
  CHECK_OK(fer_model_predict_image(m, img, got, 3, NULL));
  for (int k = 0; k < 3; k++) CHECK_NEAR(got[k], want[k], 1e-6);
  fer_image_free(img);
  fer_model_free(m);
}

int main(void) {
  RUN(test_sharpness_closed_forms);
  RUN(test_sharpness_limit_matches_naive_blur);
  RUN(test_standardize);
  RUN(test_arguments);
  RUN(test_model_file);
  RUN(test_predict_image_applies_it);
  return harness_finish();
}
