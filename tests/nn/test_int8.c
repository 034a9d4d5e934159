/* int8 inference (fer_model_quantize, lib/nn/quant*.c, gemm_int8*.c):
 *  - every int8 kernel equals a plain integer sum over an unpacked matrix,
 *    bit for bit, on random and edge shapes and on the extreme values
 *    where vpmaddubsw would saturate if activations used 8 bits;
 *  - a quantised convolution (with batch norm and ReLU folded in) against
 *    a naive double-precision convolution, within the bound that the
 *    quantisation steps imply (below);
 *  - the shipped model, int8 against fp32 on random faces-free inputs;
 *  - the settings, the forced portable kernel, training dropping the
 *    quantisation, and the statuses of bad inputs;
 *  - a quantisation saved in a model file (QUNT) loads back to the same
 *    int8 outputs bit for bit, and every corrupt or inconsistent QUNT
 *    section is refused with FER_ERR_FORMAT;
 *  - graphs: an ensemble of a chain and a residual graph in int8 against
 *    its members quantised alone (the softmax of the mean of their int8
 *    log-probabilities), and against its own fp32 output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm_int8.h"
#include "nn/quant.h"
#include "util/crc32.h"
#include "util/endian.h"
#include "nn_test_util.h"

/* ---- Kernels ---- */

/* Packs a plain K x cols byte matrix into the panel layout of gemm_int8.h. */
static void pack_plain(const uint8_t *x, int K, int cols, int k4, uint8_t *dst) {
  const int panels = (cols + FER__I8_NR - 1) / FER__I8_NR;
  memset(dst, 0, (size_t)panels * k4 * 4 * FER__I8_NR);
  for (int k = 0; k < K; k++)
    for (int j = 0; j < cols; j++)
      dst[((long)(j / FER__I8_NR) * k4 + k / 4) * 4 * FER__I8_NR +
          (j % FER__I8_NR) * 4 + k % 4] = x[(long)k * cols + j];
}

/* mode 0: random; 1: extremes (127 x 127 and 127 x -128 everywhere). */
static void check_kernels_on(int F, int K, int cols, int mode, uint64_t seed) {
  const int k4 = (K + 3) / 4, f_pad = (F + FER__I8_MR - 1) / FER__I8_MR * FER__I8_MR;
  const int panels = (cols + FER__I8_NR - 1) / FER__I8_NR;
  const long ldc = (long)panels * FER__I8_NR;
  int8_t *w = calloc((size_t)f_pad * k4 * 4, 1);
  uint8_t *x = malloc((size_t)K * cols), *packed = malloc((size_t)panels * k4 * 64);
  int32_t *c = malloc((size_t)f_pad * ldc * sizeof *c);
  uint64_t s = seed;
  for (int f = 0; f < F; f++)
    for (int k = 0; k < K; k++)
      w[(long)f * k4 * 4 + k] = mode ? (f % 2 ? -128 : 127)
                                     : (int8_t)((int)(tu_uniform(&s) * 256.0) - 128);
  for (long i = 0; i < (long)K * cols; i++)
    x[i] = mode ? 127 : (uint8_t)(tu_uniform(&s) * 128.0);
  pack_plain(x, K, cols, k4, packed);
  for (int isa = 0; isa < FER__INT8_ISA_COUNT; isa++) {
    const fer__int8_kernel *kn = fer__int8_kernel_of((fer__int8_isa)isa);
    if (!kn) continue;
    memset(c, 0x5a, (size_t)f_pad * ldc * sizeof *c);
    fer__gemm_int8(kn, f_pad, panels, k4, w, packed, c, ldc);
    long wrong = 0;
    for (int f = 0; f < F; f++)
      for (int j = 0; j < cols; j++) {
        int64_t sum = 0;
        for (int k = 0; k < K; k++)
          sum += (int64_t)w[(long)f * k4 * 4 + k] * x[(long)k * cols + j];
        wrong += c[f * ldc + j] != sum;
      }
    CHECK_MSG(wrong == 0, "%s kernel: %ld of %d x %d sums wrong (K %d, mode %d)",
              kn->name, wrong, F, cols, K, mode);
  }
  free(w);
  free(x);
  free(packed);
  free(c);
}

static void test_kernels(void) {
  static const int shapes[][3] = {{1, 1, 1},   {4, 4, 16},   {3, 5, 17},
                                  {5, 9, 15},  {8, 27, 33},  {7, 63, 1},
                                  {32, 288, 48}, {13, 301, 70}, {4, 2304, 36}};
  CHECK(fer__int8_kernel_of(FER__INT8_GENERIC) != NULL);
  if (!fer__int8_kernel_of(FER__INT8_AVX2))
    fprintf(stderr, "note: no AVX2 here, only the portable kernel is checked\n");
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    check_kernels_on(shapes[i][0], shapes[i][1], shapes[i][2], 0, 11 + i);
    check_kernels_on(shapes[i][0], shapes[i][1], shapes[i][2], 1, 0);
  }
  uint64_t s = 99;
  for (int t = 0; t < 20; t++)
    check_kernels_on(1 + (int)(tu_uniform(&s) * 40), 1 + (int)(tu_uniform(&s) * 200),
                     1 + (int)(tu_uniform(&s) * 80), 0, 1000 + t);
}

/* ---- One quantised convolution against a naive reference ---- */

static fer_model *conv_model(int C, int H, int W, int F, int k, int stride,
                             int bn, int relu, uint64_t seed) {
  fer_model *m = NULL;
  if (fer_model_create(C, H, W, &m)) return NULL;
  if (fer_model_add_conv(m, F, k, k, stride, FER_PADDING_SAME, 1, 1, 1) ||
      (bn && fer_model_add_batch_norm(m, 0.1f, 1e-5f)) ||
      (relu && fer_model_add_relu(m))) {
    fer_model_free(m);
    return NULL;
  }
  fer__layer *l = &m->layers[0];
  tu_fill(l->tensor[0], l->tensor_size[0], seed, -0.5f, 0.5f);
  tu_fill(l->tensor[1], l->tensor_size[1], seed + 1, -0.2f, 0.2f);
  if (bn) {
    fer__layer *b = &m->layers[1];
    tu_fill(b->tensor[0], (size_t)F, seed + 2, -2.0f, 2.0f); /* gamma, signs too */
    tu_fill(b->tensor[1], (size_t)F, seed + 3, -0.5f, 0.5f);
    tu_fill(b->tensor[2], (size_t)F, seed + 4, -0.3f, 0.3f);
    tu_fill(b->tensor[3], (size_t)F, seed + 5, 0.5f, 2.0f);
  }
  return m;
}

/* The conv (+ bn + relu) of image x in double, and per output the error
 * bound of the quantised form. The input step sx and zero point come from
 * the quantiser (the one thing taken from the code under test; the test
 * checks them against the calibration data's range). Each input's error
 * ex is at most sx / 2 inside the range the step covers, plus how far
 * beyond it the value lies (clipped); a signed input's zero point is
 * rounded too, so allow sx there. With the weight step sw[f] = max |g w| /
 * 127 of the folded weights g w (|g w - wq| <= sw / 2):
 *   |y - yq| <= sum |g w| ex + sw / 2 * sum (|x| + ex)  (+ float rounding),
 * and the ReLU does not widen it. */
static double input_error(float v, float sx, int zero_point) {
  if (zero_point) return sx;
  const double top = 127.0 * sx;
  return sx / 2 + (fabs(v) > top ? fabs(v) - top : 0.0);
}

static void reference(const fer_model *m, const float *x, float sx,
                      int zero_point, double *y, double *bound) {
  const fer__layer *l = &m->layers[0];
  const int bn = m->num_layers > 1 && m->layers[1].kind == FER_LAYER_BATCH_NORM;
  const int relu = m->layers[m->num_layers - 1].kind == FER_LAYER_RELU;
  const int C = l->in.c, H = l->in.h, W = l->in.w, K = l->kh;
  for (int f = 0; f < l->units; f++) {
    double g = 1.0, shift = 0.0;
    if (bn) {
      const fer__layer *b = &m->layers[1];
      g = b->tensor[0][f] / sqrt((double)b->tensor[3][f] + b->eps);
      shift = b->tensor[1][f] - b->tensor[2][f] * g;
    }
    const float *w = l->tensor[0] + (size_t)f * C * K * K;
    double wmax = 0.0;
    for (int i = 0; i < C * K * K; i++)
      if (fabs(g * w[i]) > wmax) wmax = fabs(g * w[i]);
    const double sw = wmax / 127.0;
    for (int oy = 0; oy < l->out.h; oy++)
      for (int ox = 0; ox < l->out.w; ox++) {
        double acc = 0.0, xsum = 0.0, werr = 0.0;
        for (int c = 0; c < C; c++)
          for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++) {
              int iy = oy * l->stride - l->pad_top + ky;
              int ix = ox * l->stride - l->pad_left + kx;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              double v = x[((size_t)c * H + iy) * W + ix];
              double ex = input_error((float)v, sx, zero_point);
              acc += w[(c * K + ky) * K + kx] * v;
              werr += fabs(g * w[(c * K + ky) * K + kx]) * ex;
              xsum += fabs(v) + ex;
            }
        double v = (acc + l->tensor[1][f]) * g + shift;
        size_t o = ((size_t)f * l->out.h + oy) * l->out.w + ox;
        y[o] = relu && v < 0.0 ? 0.0 : v;
        bound[o] = werr + sw / 2 * xsum + 1e-5 * (1.0 + fabs(v));
      }
  }
}

static void check_conv(int C, int H, int W, int F, int k, int stride, int bn,
                       int relu, int signed_input, uint64_t seed) {
  fer_model *m = conv_model(C, H, W, F, k, stride, bn, relu, seed);
  CHECK(m != NULL);
  if (!m) return;
  const int n = 6;
  const size_t in = (size_t)C * H * W, out = (size_t)fer_model_output_size(m);
  float *x = tu_alloc(n * in), *y = tu_alloc(n * out);
  double *ref = malloc(out * sizeof *ref), *bound = malloc(out * sizeof *bound);
  tu_fill(x, n * in, seed + 9, signed_input ? -3.0f : 0.0f, 3.0f);
  float hi = 0.0f, lo = 0.0f;
  for (size_t i = 0; i < n * in; i++) hi = fmaxf(hi, x[i]), lo = fminf(lo, x[i]);
  CHECK_OK(fer_model_quantize(m, x, n));
  CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  CHECK_OK(fer_model_predict(m, x, n, y));
  if (!m->quant || m->quant->count < 1) {
    CHECK(0);
    return;
  }
  const float sx = m->quant->layers[0].in_scale;
  const int zero_point = m->quant->layers[0].zero_point;
  /* A signed input spans [lo, hi] in 127 steps; a non-negative one clips
   * at most to an eighth of its largest value. */
  if (signed_input) {
    CHECK_NEAR(sx, (hi - lo) / 127.0f, 1e-6 * (hi - lo));
    CHECK_EQ_INT(zero_point, lrint(-lo / sx));
  } else {
    CHECK(sx * 127.0f <= hi * 1.0001f && sx * 127.0f >= hi / 8.0001f);
    CHECK_EQ_INT(zero_point, 0);
  }
  long over = 0, moved = 0;
  double worst = 0.0;
  for (int i = 0; i < n; i++) {
    reference(m, x + i * in, sx, zero_point, ref, bound);
    for (size_t o = 0; o < out; o++) {
      double d = fabs(y[i * out + o] - ref[o]);
      over += d > bound[o];
      moved += d > 0.0;
      if (d / bound[o] > worst) worst = d / bound[o];
    }
  }
  CHECK_MSG(over == 0, "conv %dx%dx%d -> %d k%d s%d bn %d relu %d signed %d: "
            "%ld outputs beyond the bound (worst %.2f of it)", C, H, W, F, k,
            stride, bn, relu, signed_input, over, worst);
  /* It did run quantised (exact agreement would mean fp32 ran). */
  CHECK(moved > 0);
  free(x);
  free(y);
  free(ref);
  free(bound);
  fer_model_free(m);
}

static void test_conv_against_reference(void) {
  check_conv(4, 12, 12, 8, 3, 1, 0, 0, 1, 1);   /* signed input */
  check_conv(5, 9, 11, 5, 3, 2, 1, 1, 1, 2);    /* stride, odd sizes, channels
                                                   padded to 8, bn, relu */
  check_conv(16, 7, 7, 9, 3, 1, 1, 1, 0, 3);    /* post-ReLU style input */
  check_conv(6, 5, 13, 12, 1, 1, 1, 0, 0, 4);   /* 1x1 */
  check_conv(4, 10, 10, 4, 5, 1, 0, 1, 1, 5);   /* 5x5 */
  check_conv(32, 6, 6, 36, 3, 1, 1, 1, 0, 6);   /* 36 positions: a short panel */
}

/* ---- The shipped model ---- */

static fer_model *load_default(void) {
  const char *root = getenv("FER_SOURCE_ROOT");
  char path[4096];
  snprintf(path, sizeof path, "%s/models/default.ferm", root ? root : ".");
  fer_model *m = NULL;
  if (fer_model_load(path, &m) != FER_OK) CHECK_MSG(0, "%s: %s", path, fer_last_error());
  return m;
}

/* n smooth random images (a coarse grid of random values, bilinearly
 * enlarged), standardised as the model wants them. */
static float *smooth_images(const fer_model *m, int n, uint64_t seed) {
  int C, H, W;
  fer_model_input_shape(m, &C, &H, &W);
  float *x = tu_alloc((size_t)n * C * H * W);
  uint64_t s = seed;
  for (int i = 0; i < n; i++) {
    float grid[7][7];
    for (int a = 0; a < 7; a++)
      for (int b = 0; b < 7; b++) grid[a][b] = (float)(255.0 * tu_uniform(&s));
    for (int y = 0; y < H; y++)
      for (int xx = 0; xx < W; xx++) {
        float gy = (float)y * 6 / (H - 1), gx = (float)xx * 6 / (W - 1);
        int y0 = gy >= 6 ? 5 : (int)gy, x0 = gx >= 6 ? 5 : (int)gx;
        float ty = gy - y0, tx = gx - x0;
        float v = (1 - ty) * ((1 - tx) * grid[y0][x0] + tx * grid[y0][x0 + 1]) +
                  ty * ((1 - tx) * grid[y0 + 1][x0] + tx * grid[y0 + 1][x0 + 1]);
        for (int c = 0; c < C; c++)
          x[(((size_t)i * C + c) * H + y) * W + xx] = v + (float)(8.0 * tu_uniform(&s));
      }
  }
  CHECK_OK(fer_model_preprocess(m, x, n));
  return x;
}

static void test_default_model(void) {
  fer_model *m = load_default();
  if (!m) return;
  const int calib = 48, n = 64, K = fer_model_output_size(m);
  float *cx = smooth_images(m, calib, 1), *x = smooth_images(m, n, 2);
  float *p32 = tu_alloc((size_t)n * K), *p8 = tu_alloc((size_t)n * K);
  float *pport = tu_alloc((size_t)n * K);
  CHECK_OK(fer_model_predict(m, x, n, p32));
  CHECK_OK(fer_model_quantize(m, cx, calib));
  /* Quantising alone does not switch. */
  float *again = tu_alloc((size_t)n * K);
  CHECK_OK(fer_model_predict(m, x, n, again));
  CHECK(memcmp(again, p32, (size_t)n * K * sizeof(float)) == 0);
  CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  CHECK_OK(fer_model_predict(m, x, n, p8));
  int agree = 0;
  double worst = 0.0, total = 0.0;
  for (int i = 0; i < n; i++) {
    int a = 0, b = 0;
    for (int k = 0; k < K; k++) {
      if (p32[i * K + k] > p32[i * K + a]) a = k;
      if (p8[i * K + k] > p8[i * K + b]) b = k;
      double d = fabs(p32[i * K + k] - p8[i * K + k]);
      total += d;
      if (d > worst) worst = d;
    }
    agree += a == b;
  }
  fprintf(stderr, "default model: top-1 agreement %d/%d, |dp| max %.4f mean %.5f\n",
          agree, n, worst, total / (n * K));
  CHECK_MSG(agree >= n * 9 / 10, "top-1 agreement %d of %d", agree, n);
  CHECK_MSG(worst <= 0.1, "largest probability change %.4f", worst);
  CHECK_MSG(total / (n * K) <= 0.01, "mean probability change %.5f", total / (n * K));
  CHECK(memcmp(p8, p32, (size_t)n * K * sizeof(float)) != 0);

  /* The portable kernel, by setting and by environment: the same sums, so
   * the same probabilities bit for bit (on a few images: it is slow). */
  const int few = 6;
  CHECK_OK(fer_model_set(m, FER_MODEL_INT8_PORTABLE, 1));
  CHECK_OK(fer_model_predict(m, x, few, pport));
  CHECK(memcmp(pport, p8, (size_t)few * K * sizeof(float)) == 0);
  CHECK_OK(fer_model_set(m, FER_MODEL_INT8_PORTABLE, 0));
  const char *env = getenv("FER_INT8_KERNEL");
  setenv("FER_INT8_KERNEL", "generic", 1);
  memset(pport, 0, (size_t)n * K * sizeof(float));
  int C, H, W;
  fer_model_input_shape(m, &C, &H, &W);
  CHECK_OK(fer_model_predict(m, x + (size_t)few * C * H * W, few, pport));
  CHECK(memcmp(pport, p8 + (size_t)few * K, (size_t)few * K * sizeof(float)) == 0);
  if (env)
    setenv("FER_INT8_KERNEL", env, 1);
  else
    unsetenv("FER_INT8_KERNEL");

  /* Images run in parallel, each on its own scratch: any thread count
   * gives the same bytes (p8 ran on the default count). */
  for (int threads = 1; threads <= 3; threads++) {
    CHECK_OK(fer_set_num_threads(threads));
    memset(pport, 0, (size_t)n * K * sizeof(float));
    CHECK_OK(fer_model_predict(m, x, threads == 3 ? 2 : n, pport));
    CHECK_MSG(memcmp(pport, p8, (size_t)(threads == 3 ? 2 : n) * K * sizeof(float)) == 0,
              "int8 on %d threads differs", threads);
  }
  CHECK_OK(fer_set_num_threads(0));

  /* A predictor follows the setting too. */
  fer_predictor *pr = NULL;
  CHECK_OK(fer_predictor_create(m, &pr));
  CHECK_OK(fer_predictor_run(pr, x, 1, again));
  CHECK(memcmp(again, p8, (size_t)K * sizeof(float)) == 0);
  fer_predictor_free(pr);

  /* Saved and loaded (as `fer quantize` writes it): the same int8 outputs
   * without calibration images. */
  void *data = NULL;
  size_t size = 0;
  fer_model *back = NULL;
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_DEFAULT, &data, &size));
  CHECK_OK(fer_model_load_memory(data, size, &back));
  if (back) {
    CHECK_OK(fer_model_set(back, FER_MODEL_PRECISION, FER_PRECISION_INT8));
    CHECK_OK(fer_model_predict(back, x, n, pport));
    CHECK(memcmp(pport, p8, (size_t)n * K * sizeof(float)) == 0);
  }
  fer_model_free(back);
  fer_free(data);

  /* Back to fp32: exactly the fp32 results again. */
  CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_FP32));
  CHECK_OK(fer_model_predict(m, x, n, again));
  CHECK(memcmp(again, p32, (size_t)n * K * sizeof(float)) == 0);
  free(cx);
  free(x);
  free(p32);
  free(p8);
  free(pport);
  free(again);
  fer_model_free(m);
}

/* ---- Settings, training, bad inputs ---- */

static void test_settings(void) {
  const char *name = NULL;
  double def = -1, lo = -1, hi = -1, v = -1;
  CHECK_OK(fer_model_param_info(FER_MODEL_PRECISION, &name, &def, &lo, &hi));
  CHECK(name && strcmp(name, "precision") == 0);
  CHECK_EQ_INT(def, FER_PRECISION_FP32);
  CHECK_OK(fer_model_param_info(FER_MODEL_INT8_PORTABLE, &name, &def, &lo, &hi));
  CHECK(name && strcmp(name, "int8_portable") == 0);
  CHECK_EQ_INT(def, 0);
  CHECK_STATUS(fer_model_param_info((fer_model_param)0, &name, NULL, NULL, NULL),
               FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_model_param_info((fer_model_param)3, &name, NULL, NULL, NULL),
               FER_ERR_NOT_FOUND);

  fer_model *m = conv_model(2, 8, 8, 4, 3, 1, 1, 1, 7);
  if (!m) return;
  CHECK_OK(fer_model_get(m, FER_MODEL_PRECISION, &v));
  CHECK_EQ_INT(v, FER_PRECISION_FP32);
  CHECK_STATUS(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8), FER_ERR_MISUSE);
  CHECK_MESSAGE_CONTAINS("quantize");
  CHECK_STATUS(fer_model_set(m, FER_MODEL_PRECISION, 3), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_set(m, FER_MODEL_INT8_PORTABLE, 0.5), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_set(m, (fer_model_param)9, 1), FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_model_get(NULL, FER_MODEL_PRECISION, &v), FER_ERR_MISUSE);
  CHECK_STATUS(fer_model_set(NULL, FER_MODEL_PRECISION, 1), FER_ERR_MISUSE);
  fer_model_free(m);
}

/* Training runs fp32 and discards the quantisation it makes stale. */
static void test_training_drops_quantisation(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_create(4, 8, 8, &m));
  CHECK_OK(fer_model_add_conv(m, 4, 3, 3, 1, FER_PADDING_SAME, 1, 1, 1));
  CHECK_OK(fer_model_add_batch_norm(m, 0.1f, 1e-5f));
  CHECK_OK(fer_model_add_relu(m));
  CHECK_OK(fer_model_add_global_avg_pool(m));
  CHECK_OK(fer_model_add_dense(m, 3, 1));
  CHECK_OK(fer_model_add_softmax(m));
  float x[4 * 256], y8[12], y32[12];
  int32_t labels[4] = {0, 1, 2, 1};
  tu_fill(x, 4 * 256, 3, -1.0f, 1.0f);
  CHECK_OK(fer_model_quantize(m, x, 4));
  CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &opt));
  CHECK_OK(fer_model_train_step(m, opt, x, labels, 4, NULL, NULL));
  double v = 0;
  CHECK_OK(fer_model_get(m, FER_MODEL_PRECISION, &v));
  CHECK_EQ_INT(v, FER_PRECISION_FP32);
  CHECK_STATUS(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8), FER_ERR_MISUSE);
  /* Quantised again from the new weights, then set_tensor drops it too. */
  CHECK_OK(fer_model_quantize(m, x, 4));
  CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  CHECK_OK(fer_model_predict(m, x, 4, y8));
  float w[4 * 4 * 9];
  CHECK_OK(fer_model_get_tensor(m, 0, FER_TENSOR_WEIGHT, w, 144, NULL));
  CHECK_OK(fer_model_set_tensor(m, 0, FER_TENSOR_WEIGHT, w, 144));
  CHECK_OK(fer_model_get(m, FER_MODEL_PRECISION, &v));
  CHECK_EQ_INT(v, FER_PRECISION_FP32);
  CHECK_OK(fer_model_predict(m, x, 4, y32));
  CHECK(memcmp(y8, y32, sizeof y8) != 0);
  for (int i = 0; i < 12; i++) CHECK_NEAR(y8[i], y32[i], 0.05);
  fer_optimizer_free(opt);
  fer_model_free(m);
}

static void test_bad_inputs(void) {
  fer_model *m = conv_model(4, 6, 6, 4, 3, 1, 0, 1, 5);
  if (!m) return;
  float x[2 * 144];
  tu_fill(x, 288, 8, -1.0f, 1.0f);
  CHECK_STATUS(fer_model_quantize(NULL, x, 2), FER_ERR_MISUSE);
  CHECK_STATUS(fer_model_quantize(m, NULL, 2), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("fer_model_quantize");
  CHECK_STATUS(fer_model_quantize(m, x, 0), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("count 0");
  x[150] = NAN;
  CHECK_STATUS(fer_model_quantize(m, x, 2), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("image 1");
  x[150] = INFINITY;
  CHECK_STATUS(fer_model_quantize(m, x, 2), FER_ERR_INVALID_ARGUMENT);
  x[150] = 0.5f;
  /* A failed call keeps the model as it was: here, not quantised. */
  CHECK_STATUS(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8), FER_ERR_MISUSE);
  CHECK_OK(fer_model_quantize(m, x, 2));
  x[3] = NAN;
  CHECK_STATUS(fer_model_quantize(m, x, 2), FER_ERR_INVALID_ARGUMENT);
  CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  fer_model_free(m);

  /* No convolution worth quantising: one on a 1-channel input stays fp32
   * (and dense layers alone are not enough). */
  x[3] = 0.0f;
  m = conv_model(1, 6, 6, 4, 3, 1, 0, 1, 5);
  CHECK_STATUS(fer_model_quantize(m, x, 2), FER_ERR_UNSUPPORTED);
  fer_model_free(m);
  /* No convolution: dense only. */
  CHECK_OK(fer_model_create(1, 6, 6, &m));
  CHECK_OK(fer_model_add_flatten(m));
  CHECK_OK(fer_model_add_dense(m, 3, 1));
  x[3] = 0.0f;
  CHECK_STATUS(fer_model_quantize(m, x, 2), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("no convolution");
  fer_model_free(m);

  /* A graph model without a convolution on 4 or more channels. */
  CHECK_OK(fer_model_from_text("input 1x6x6\na = conv 2 3x3 same\nb = relu\n"
                               "add a b\n", &m));
  CHECK_STATUS(fer_model_quantize(m, x, 2), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("no convolution");
  fer_model_free(m);
}

/* ---- Quantisation in model files ---- */

/* conv (4 -> 4, bn, relu), gap, dense 3, softmax: quantised layers
 * {0..2} and {4}. */
static fer_model *small_chain(uint64_t seed) {
  fer_model *m = conv_model(4, 6, 6, 4, 3, 1, 1, 1, seed);
  if (!m) return NULL;
  if (fer_model_add_global_avg_pool(m) || fer_model_add_dense(m, 3, 1) ||
      fer_model_add_softmax(m)) {
    fer_model_free(m);
    return NULL;
  }
  tu_fill(m->layers[4].tensor[0], m->layers[4].tensor_size[0], seed + 9, -1.0f, 1.0f);
  return m;
}

/* Where section `tag` starts in a model file (-1 if absent): walks the
 * sections by their lengths, independently of the loader. */
static long find_section(const uint8_t *d, size_t size, const char *tag) {
  for (size_t at = 16; at + 12 <= size;) {
    const uint32_t len = fer__get_u32le(d + at + 4);
    if (!memcmp(d + at, tag, 4)) return (long)at;
    at += (size_t)len + 12;
  }
  return -1;
}

/* A copy of model file d with section `tag`'s payload replaced by
 * `payload` (n bytes; NULL: the section dropped) and its CRC redone, and
 * the header version set to `version` (0: kept). */
static uint8_t *with_section(const uint8_t *d, size_t size, const char *tag,
                             const uint8_t *payload, size_t n, uint32_t version,
                             size_t *out_size) {
  const long at = find_section(d, size, tag);
  if (at < 0) return NULL;
  const size_t old_len = fer__get_u32le(d + at + 4), tail = (size_t)at + old_len + 12;
  uint8_t *o = malloc(size + n + 12);
  memcpy(o, d, (size_t)at);
  size_t k = (size_t)at;
  if (payload) {
    memcpy(o + k, tag, 4);
    fer__put_u32le(o + k + 4, (uint32_t)n);
    memcpy(o + k + 8, payload, n);
    fer__put_u32le(o + k + 8 + n, fer__crc32(0, o + k, n + 8));
    k += n + 12;
  }
  memcpy(o + k, d + tail, size - tail);
  *out_size = k + size - tail;
  if (version) fer__put_u32le(o + 8, version);
  return o;
}

static void test_saved_quantisation(void) {
  fer_model *m = small_chain(21);
  if (!m) return;
  const int n = 8;
  float cx[8 * 144], x[8 * 144], p8[24], p32[24], back8[24], back32[24];
  tu_fill(cx, 8 * 144, 31, -1.5f, 1.5f);
  tu_fill(x, 8 * 144, 32, -1.5f, 1.5f);

  /* Not quantised: a version-1 file without QUNT, as before. */
  void *plain = NULL, *data = NULL;
  size_t plain_size = 0, size = 0;
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_DEFAULT, &plain, &plain_size));
  CHECK_EQ_INT(fer__get_u32le((const uint8_t *)plain + 8), 1);
  CHECK(find_section(plain, plain_size, "QUNT") < 0);

  CHECK_OK(fer_model_predict(m, x, n, p32));
  CHECK_OK(fer_model_quantize(m, cx, n));
  CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  CHECK_OK(fer_model_predict(m, x, n, p8));
  CHECK(memcmp(p8, p32, sizeof p8) != 0);
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_DEFAULT, &data, &size));
  const uint8_t *d = data;
  CHECK_EQ_INT(fer__get_u32le(d + 8), 4);
  const long q = find_section(d, size, "QUNT");
  CHECK(q > 0);
  if (q < 0) goto done;
  /* Two layers of 16 bytes, as docs/model-format.md lays them out. */
  CHECK_EQ_INT(fer__get_u32le(d + q + 4), 4 + 2 * 16);
  CHECK_EQ_INT(fer__get_u32le(d + q + 8), 2);
  CHECK_EQ_INT(fer__get_u32le(d + q + 12), 0);
  CHECK_EQ_INT(fer__get_u32le(d + q + 16), 2);
  CHECK_EQ_INT(fer__get_u32le(d + q + 28), 4);
  CHECK_EQ_INT(fer__get_u32le(d + q + 32), 4);
  /* The first input is the signed model input: a zero point inside. */
  const uint32_t zero0 = fer__get_u32le(d + q + 24);
  CHECK(zero0 > 0 && zero0 < 127);
  CHECK(fer__get_f32le(d + q + 20) > 0.0f);

  /* Loaded: quantised but fp32 until switched; then the same int8 output
   * bit for bit, and the same fp32 output. */
  fer_model *back = NULL;
  CHECK_OK(fer_model_load_memory(data, size, &back));
  if (!back) goto done;
  double v = -1;
  CHECK_OK(fer_model_get(back, FER_MODEL_PRECISION, &v));
  CHECK_EQ_INT(v, FER_PRECISION_FP32);
  CHECK_OK(fer_model_predict(back, x, n, back32));
  CHECK(memcmp(back32, p32, sizeof p32) == 0);
  CHECK_OK(fer_model_set(back, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  CHECK_OK(fer_model_predict(back, x, n, back8));
  CHECK(memcmp(back8, p8, sizeof p8) == 0);
  /* Saving the loaded model gives the same bytes. */
  void *again = NULL;
  size_t again_size = 0;
  CHECK_OK(fer_model_save_memory(back, FER_SAVE_DEFAULT, &again, &again_size));
  CHECK(again_size == size && memcmp(again, data, size) == 0);
  fer_free(again);
  fer_model_free(back);

  /* float16 weights: the int8 weights derive from the stored (rounded)
   * ones, so int8 stays close to the fp32 output of the same file. */
  void *half = NULL;
  size_t half_size = 0;
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_FLOAT16, &half, &half_size));
  CHECK_OK(fer_model_load_memory(half, half_size, &back));
  if (back) {
    CHECK_OK(fer_model_set(back, FER_MODEL_PRECISION, FER_PRECISION_INT8));
    CHECK_OK(fer_model_predict(back, x, n, back8));
    for (int i = 0; i < 24; i++) CHECK_NEAR(back8[i], p8[i], 0.02);
    fer_model_free(back);
  }
  fer_free(half);

  /* Dropping the section: the version-4 file loads, not quantised. */
  size_t cut_size = 0;
  uint8_t *cut = with_section(d, size, "QUNT", NULL, 0, 0, &cut_size);
  CHECK_OK(fer_model_load_memory(cut, cut_size, &back));
  CHECK_STATUS(fer_model_set(back, FER_MODEL_PRECISION, FER_PRECISION_INT8),
               FER_ERR_MISUSE);
  fer_model_free(back);
  free(cut);

  /* Corrupt or inconsistent sections, each with a valid CRC. */
  uint8_t good[36];
  memcpy(good, d + q + 8, sizeof good);
  struct {
    int field; /* byte offset in the payload, or -1: length `len` */
    uint32_t value;
    size_t len;
    uint32_t version;
    const char *message;
  } cases[] = {
      {0, 0, 36, 0, "0 quantised layers"},
      {0, 3, 36, 0, "3 quantised layers"},
      {0, 1000, 36, 0, "1000 quantised layers"},
      {-1, 0, 35, 0, "bytes for 2 quantised"},
      {-1, 0, 3, 0, "count missing"},
      {-1, 0, 37, 0, "bytes for 2 quantised"},
      {4, 1, 36, 0, "quantised layer 0: a layer is not"},      /* the bn */
      {4, 3, 36, 0, "quantised layer 0: a layer is not"},      /* the gap */
      {4, 99, 36, 0, "outside the model"},
      {4, 0xffffffffu, 36, 0, "outside the model"},
      {8, 1, 36, 0, "last index"},
      {8, 3, 36, 0, "last index"},
      {20, 0, 36, 0, "quantised layer 1: the layers are not in order"},
      {20, 2, 36, 0, "quantised layer 1: the layers are not in order"},
      {20, 5, 36, 0, "quantised layer 1: a layer is not"},     /* softmax */
      {12, 0x7fc00000u, 36, 0, "input scale"},                 /* NaN */
      {12, 0, 36, 0, "input scale"},
      {12, 0xbf800000u, 36, 0, "input scale"},                 /* -1 */
      {12, 0x7f800000u, 36, 0, "input scale"},                 /* inf */
      {16, 128, 36, 0, "zero point"},
      {16, 0x80000000u, 36, 0, "zero point"},
      {-1, 0, 36, 3, "unknown section 'QUNT'"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    uint8_t payload[40] = {0};
    memcpy(payload, good, sizeof good);
    if (cases[i].field >= 0) fer__put_u32le(payload + cases[i].field, cases[i].value);
    size_t bad_size = 0;
    uint8_t *bad = with_section(d, size, "QUNT", payload, cases[i].len,
                                cases[i].version, &bad_size);
    fer_model *b = NULL;
    CHECK_STATUS(fer_model_load_memory(bad, bad_size, &b), FER_ERR_FORMAT);
    CHECK(b == NULL);
    CHECK_MESSAGE_CONTAINS(cases[i].message);
    CHECK_MESSAGE_CONTAINS("model: byte");
    free(bad);
  }
  /* Two QUNT sections. */
  {
    const size_t sec = 36 + 12;
    uint8_t *two = malloc(size + sec);
    memcpy(two, d, (size_t)q + sec);
    memcpy(two + q + sec, d + q, size - (size_t)q);
    fer_model *b = NULL;
    CHECK_STATUS(fer_model_load_memory(two, size + sec, &b), FER_ERR_FORMAT);
    CHECK_MESSAGE_CONTAINS("second QUNT");
    free(two);
  }
done:
  fer_free(plain);
  fer_free(data);
  fer_model_free(m);
}

/* ---- Graphs: an ensemble ---- */

/* A chain, and a residual graph whose first convolution (b0) is read by
 * its ReLU and by the add, so that the quantised b0 must write its own
 * output instead of folding the ReLU in. */
static const char *const ensemble_members[2] = {
    "input 4x12x12\nconv 8 3x3 same\nbn\nrelu\nmax 2x2/2\nconv 8 3x3 same\nrelu\n"
    "flatten\ndense 5\nsoftmax\n",
    "input 4x12x12\nb0 = conv 4 3x3 same\nrelu\nconv 4 3x3 same\nadd b0\nb1 = relu\n"
    "avg 2x2/2 from=b1\nflatten\ndense 5\nsoftmax\n",
};

static void test_ensemble(void) {
  enum { CAL = 16, N = 24, K = 5, IN = 4 * 12 * 12 };
  fer_model *member[2] = {NULL, NULL}, *e = NULL;
  for (int k = 0; k < 2; k++) {
    CHECK_OK(fer_model_from_text(ensemble_members[k], &member[k]));
    if (!member[k]) goto done;
    CHECK_OK(fer_model_init_weights(member[k], FER_INIT_HE_UNIFORM, 40 + (uint64_t)k));
  }
  CHECK_OK(fer_model_ensemble((const fer_model *const *)member, 2, &e));
  if (!e) goto done;
  float *cx = tu_alloc((size_t)CAL * IN), *x = tu_alloc((size_t)N * IN);
  tu_fill(cx, (size_t)CAL * IN, 50, -1.0f, 1.0f);
  tu_fill(x, (size_t)N * IN, 51, -1.0f, 1.0f);
  float pm[2][N * K], p8[N * K], p32[N * K], ref[N * K], back8[N * K];

  /* The members alone, quantised on the same images (the residual one is
   * a graph too). */
  int member_layers = 0;
  for (int k = 0; k < 2; k++) {
    CHECK_OK(fer_model_quantize(member[k], cx, CAL));
    CHECK_OK(fer_model_set(member[k], FER_MODEL_PRECISION, FER_PRECISION_INT8));
    CHECK_OK(fer_model_predict(member[k], x, N, pm[k]));
    member_layers += fer__quant_count(member[k]);
  }
  /* Chain: conv+bn+relu, conv+relu, dense; graph: b0 alone (two readers),
   * conv, dense. */
  CHECK_EQ_INT(fer__quant_count(member[0]), 3);
  CHECK_EQ_INT(fer__quant_count(member[1]), 3);
  fer__qparams b0;
  fer__quant_params_at(member[1], 0, &b0);
  CHECK_EQ_INT(b0.first, 0);
  CHECK_EQ_INT(b0.last, 0);
  /* softmax(mean of logits) = softmax(mean of log-probabilities): each
   * member's log-sum-exp is a shift that the softmax removes. */
  for (int i = 0; i < N; i++) {
    double z[K], top = -1e30, sum = 0.0;
    for (int c = 0; c < K; c++) {
      z[c] = 0.5 * (log(pm[0][i * K + c]) + log(pm[1][i * K + c]));
      if (z[c] > top) top = z[c];
    }
    for (int c = 0; c < K; c++) sum += exp(z[c] - top);
    for (int c = 0; c < K; c++) ref[i * K + c] = (float)(exp(z[c] - top) / sum);
  }

  CHECK_OK(fer_model_predict(e, x, N, p32));
  CHECK_OK(fer_model_quantize(e, cx, CAL));
  CHECK_EQ_INT(fer__quant_count(e), member_layers);
  CHECK_OK(fer_model_set(e, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  CHECK_OK(fer_model_predict(e, x, N, p8));
  double worst_ref = 0.0, worst32 = 0.0;
  int agree = 0;
  for (int i = 0; i < N; i++) {
    int a = 0, b = 0;
    for (int c = 0; c < K; c++) {
      worst_ref = fmax(worst_ref, fabs(p8[i * K + c] - ref[i * K + c]));
      worst32 = fmax(worst32, fabs(p8[i * K + c] - p32[i * K + c]));
      if (p8[i * K + c] > p8[i * K + a]) a = c;
      if (p32[i * K + c] > p32[i * K + b]) b = c;
    }
    agree += a == b;
  }
  fprintf(stderr, "ensemble: int8 vs members' int8 %.2g, vs fp32 %.3f, top-1 %d/%d\n",
          worst_ref, worst32, agree, N);
  /* The members' layers see the same inputs in the ensemble, so the same
   * steps; the logits layer's weights are halved, which is exact. */
  CHECK_MSG(worst_ref <= 1e-5, "ensemble int8 differs from its members' by %g", worst_ref);
  CHECK_MSG(worst32 <= 0.05, "ensemble int8 differs from fp32 by %g", worst32);
  CHECK_MSG(agree >= N * 9 / 10, "top-1 agreement %d of %d", agree, N);
  CHECK(memcmp(p8, p32, sizeof p8) != 0);

  /* Saved and loaded: a version-4 graph file, the same int8 outputs. */
  void *data = NULL;
  size_t size = 0;
  fer_model *back = NULL;
  CHECK_OK(fer_model_save_memory(e, FER_SAVE_DEFAULT, &data, &size));
  CHECK_EQ_INT(fer__get_u32le((const uint8_t *)data + 8), 4);
  CHECK_OK(fer_model_load_memory(data, size, &back));
  if (back) {
    CHECK_OK(fer_model_set(back, FER_MODEL_PRECISION, FER_PRECISION_INT8));
    CHECK_OK(fer_model_predict(back, x, N, back8));
    CHECK(memcmp(back8, p8, sizeof p8) == 0);
  }
  fer_model_free(back);
  fer_free(data);
  free(cx);
  free(x);
done:
  fer_model_free(e);
  fer_model_free(member[0]);
  fer_model_free(member[1]);
}

int main(void) {
  RUN(test_kernels);
  RUN(test_conv_against_reference);
  RUN(test_default_model);
  RUN(test_settings);
  RUN(test_training_drops_quantisation);
  RUN(test_bad_inputs);
  RUN(test_saved_quantisation);
  RUN(test_ensemble);
  return harness_finish();
}
