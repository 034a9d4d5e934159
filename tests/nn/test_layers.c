/* Every layer's forward pass against a naive reference written here with
 * direct loops in double precision (tolerance 1e-4 absolute on values of
 * order 1, float rounding of sums of up to a few hundred products). */
#include "nn_test_util.h"

#define TOL 1e-4

/* Builds input CxHxW + one layer from text, fills its weight and bias
 * (and BN statistics) with test values, returns the model. */
static fer_model *one_layer(int c, int h, int w, const char *line) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_create(c, h, w, &m));
  if (!m) return NULL;
  fer_status st = fer_model_add_text(m, line);
  CHECK_MSG(st == FER_OK, "%s: %s", line, fer_last_error());
  if (st) {
    fer_model_free(m);
    return NULL;
  }
  for (int t = FER_TENSOR_WEIGHT; t <= FER_TENSOR_RUNNING_VAR; t++) {
    size_t n = 0;
    if (fer_model_get_tensor(m, 0, (fer_tensor)t, NULL, 0, &n) ==
        FER_ERR_NOT_FOUND)
      continue;
    float *v = tu_alloc(n);
    tu_fill(v, n, 100 + (uint64_t)t, t == FER_TENSOR_RUNNING_VAR ? 0.5f : -1.0f,
            t == FER_TENSOR_RUNNING_VAR ? 2.0f : 1.0f);
    CHECK_OK(fer_model_set_tensor(m, 0, (fer_tensor)t, v, n));
    free(v);
  }
  return m;
}

static float *tensor_of(fer_model *m, fer_tensor t) {
  size_t n = 0;
  if (fer_model_get_tensor(m, 0, t, NULL, 0, &n) == FER_ERR_NOT_FOUND)
    return NULL;
  float *v = tu_alloc(n);
  CHECK_OK(fer_model_get_tensor(m, 0, t, v, n, NULL));
  return v;
}

/* Output size as the textbook formula gives it. */
static int out_size(int in, int k, int s, int pad, int dil) {
  return (in + 2 * pad - ((k - 1) * dil + 1)) / s + 1;
}

typedef struct conv_case {
  const char *text;
  int c, h, w, f, kh, kw, s, dil, groups, bias;
  int same, pad;
} conv_case;

static void check_conv(const conv_case *cc) {
  const int N = 2;
  fer_model *m = one_layer(cc->c, cc->h, cc->w, cc->text);
  if (!m) return;
  int oh, ow, pt, pl;
  if (cc->same) {
    oh = (cc->h + cc->s - 1) / cc->s;
    ow = (cc->w + cc->s - 1) / cc->s;
    int th = (oh - 1) * cc->s + (cc->kh - 1) * cc->dil + 1 - cc->h;
    int tw = (ow - 1) * cc->s + (cc->kw - 1) * cc->dil + 1 - cc->w;
    pt = th > 0 ? th / 2 : 0;
    pl = tw > 0 ? tw / 2 : 0;
  } else {
    oh = out_size(cc->h, cc->kh, cc->s, cc->pad, cc->dil);
    ow = out_size(cc->w, cc->kw, cc->s, cc->pad, cc->dil);
    pt = pl = cc->pad;
  }
  int c2, h2, w2;
  CHECK_OK(fer_model_layer_shape(m, 0, &c2, &h2, &w2));
  CHECK_MSG(c2 == cc->f && h2 == oh && w2 == ow, "%s: shape %dx%dx%d, want %dx%dx%d",
            cc->text, c2, h2, w2, cc->f, oh, ow);
  size_t in_n = (size_t)N * cc->c * cc->h * cc->w;
  size_t out_n = (size_t)N * cc->f * oh * ow;
  float *x = tu_alloc(in_n), *y = tu_alloc(out_n);
  double *ref = calloc(out_n, sizeof(double));
  tu_fill(x, in_n, 7, -1, 1);
  float *wt = tensor_of(m, FER_TENSOR_WEIGHT), *b = cc->bias ? tensor_of(m, FER_TENSOR_BIAS) : NULL;
  const int cg = cc->c / cc->groups, fg = cc->f / cc->groups;
  for (int n = 0; n < N; n++)
    for (int f = 0; f < cc->f; f++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          double sum = b ? b[f] : 0.0;
          int g = f / fg;
          for (int ci = 0; ci < cg; ci++)
            for (int ky = 0; ky < cc->kh; ky++)
              for (int kx = 0; kx < cc->kw; kx++) {
                int iy = oy * cc->s - pt + ky * cc->dil;
                int ix = ox * cc->s - pl + kx * cc->dil;
                if (iy < 0 || iy >= cc->h || ix < 0 || ix >= cc->w) continue;
                int c = g * cg + ci;
                sum += (double)wt[((f * cg + ci) * cc->kh + ky) * cc->kw + kx] *
                       x[((n * cc->c + c) * cc->h + iy) * cc->w + ix];
              }
          ref[((n * cc->f + f) * oh + oy) * ow + ox] = sum;
        }
  CHECK_OK(fer_model_forward(m, x, N, y));
  double err = tu_max_abs_diff(y, ref, out_n);
  CHECK_MSG(err <= TOL, "%s: max error %g", cc->text, err);
  /* The per-call-scratch and predictor paths give the same bits. */
  float *y2 = tu_alloc(out_n);
  CHECK_OK(fer_model_predict(m, x, N, y2));
  CHECK(memcmp(y, y2, out_n * sizeof(float)) == 0);
  free(x);
  free(y);
  free(y2);
  free(ref);
  free(wt);
  free(b);
  fer_model_free(m);
}

static void test_conv(void) {
  static const conv_case cases[] = {
    {"conv 4 3x3 same", 3, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 0},
    {"conv 5 3x3 valid", 2, 8, 9, 5, 3, 3, 1, 1, 1, 1, 0, 0},
    {"conv 3 5x5 same", 2, 9, 9, 3, 5, 5, 1, 1, 1, 1, 1, 0},
    {"conv 4 3x3 same dil=2", 2, 10, 9, 4, 3, 3, 1, 2, 1, 1, 1, 0},
    {"conv 4 3x3 valid stride=2", 3, 9, 10, 4, 3, 3, 2, 1, 1, 1, 0, 0},
    {"conv 4 4x4 same stride=2", 2, 9, 8, 4, 4, 4, 2, 1, 1, 1, 1, 0},
    {"conv 2 2x3 same", 2, 5, 6, 2, 2, 3, 1, 1, 1, 1, 1, 0},
    {"conv 6 3x3 pad=2 stride=3 dil=2", 2, 11, 12, 6, 3, 3, 3, 2, 1, 1, 0, 2},
    {"conv 6 3x3 same groups=2", 4, 6, 6, 6, 3, 3, 1, 1, 2, 1, 1, 0},
    {"conv 4 3x3 valid stride=2 groups=4 nobias", 4, 9, 9, 4, 3, 3, 2, 1, 4, 0, 0, 0},
    /* depthwise (the direct path): two filters per channel, dilation,
     * "same" with stride 2, an even kernel */
    {"conv 8 3x3 pad=2 dil=2 groups=4", 4, 7, 6, 8, 3, 3, 1, 2, 4, 1, 0, 2},
    {"conv 3 3x3 same stride=2 groups=3", 3, 8, 9, 3, 3, 3, 2, 1, 3, 1, 1, 0},
    {"conv 6 2x4 same groups=3 nobias", 3, 5, 7, 6, 2, 4, 1, 1, 3, 0, 1, 0},
    {"conv 8 1x1 valid", 3, 5, 4, 8, 1, 1, 1, 1, 1, 1, 0, 0},
    {"conv 3 1x1 valid stride=2", 3, 5, 4, 3, 1, 1, 2, 1, 1, 1, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_conv(&cases[i]);
}

static void check_pool(const char *text, int is_max, int c, int h, int w, int k,
                       int s, int pad) {
  const int N = 2;
  fer_model *m = one_layer(c, h, w, text);
  if (!m) return;
  int oh = out_size(h, k, s, pad, 1), ow = out_size(w, k, s, pad, 1);
  int c2, h2, w2;
  CHECK_OK(fer_model_layer_shape(m, 0, &c2, &h2, &w2));
  CHECK_MSG(c2 == c && h2 == oh && w2 == ow, "%s: shape %dx%dx%d", text, c2, h2, w2);
  size_t in_n = (size_t)N * c * h * w, out_n = (size_t)N * c * oh * ow;
  float *x = tu_alloc(in_n), *y = tu_alloc(out_n);
  double *ref = calloc(out_n, sizeof(double));
  tu_fill(x, in_n, 3, -2, 1);
  for (int p = 0; p < N * c; p++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        double acc = is_max ? -INFINITY : 0.0;
        for (int ky = 0; ky < k; ky++)
          for (int kx = 0; kx < k; kx++) {
            int iy = oy * s - pad + ky, ix = ox * s - pad + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            double v = x[(p * h + iy) * w + ix];
            acc = is_max ? fmax(acc, v) : acc + v;
          }
        ref[(p * oh + oy) * ow + ox] = is_max ? acc : acc / (k * k);
      }
  CHECK_OK(fer_model_forward(m, x, N, y));
  double err = tu_max_abs_diff(y, ref, out_n);
  CHECK_MSG(err <= TOL, "%s: max error %g", text, err);
  free(x);
  free(y);
  free(ref);
  fer_model_free(m);
}

static void test_pooling(void) {
  check_pool("max 2x2/2", 1, 3, 8, 7, 2, 2, 0);
  check_pool("max 5x5/2", 1, 2, 12, 11, 5, 2, 0);
  check_pool("max 3x3/2 pad=1", 1, 2, 7, 8, 3, 2, 1);
  check_pool("avg 3x3/2", 0, 3, 9, 8, 3, 2, 0);
  check_pool("avg 3x3/1 pad=1", 0, 2, 5, 6, 3, 1, 1);
  check_pool("avg 2x2/2", 0, 2, 5, 5, 2, 2, 0);
}

/* Pointwise layers and their textbook formulas. */
static double ref_act(const char *text, double x) {
  if (!strcmp(text, "relu")) return x > 0 ? x : 0;
  if (!strcmp(text, "leaky 0.1")) return x > 0 ? x : 0.1 * x;
  if (!strcmp(text, "elu")) return x > 0 ? x : exp(x) - 1;
  if (!strcmp(text, "elu 0.5")) return x > 0 ? x : 0.5 * (exp(x) - 1);
  if (!strcmp(text, "sigmoid")) return 1 / (1 + exp(-x));
  if (!strcmp(text, "tanh")) return tanh(x);
  return NAN;
}

static void test_activations(void) {
  static const char *const names[] = {"relu", "leaky 0.1", "elu", "elu 0.5",
                                      "sigmoid", "tanh"};
  const size_t n = 2 * 3 * 4 * 5;
  for (size_t a = 0; a < sizeof names / sizeof names[0]; a++) {
    fer_model *m = one_layer(3, 4, 5, names[a]);
    if (!m) continue;
    float *x = tu_alloc(n), *y = tu_alloc(n);
    double *ref = calloc(n, sizeof(double));
    tu_fill(x, n, 11, -4, 4);
    for (size_t i = 0; i < n; i++) ref[i] = ref_act(names[a], x[i]);
    CHECK_OK(fer_model_forward(m, x, 2, y));
    double err = tu_max_abs_diff(y, ref, n);
    CHECK_MSG(err <= 1e-6, "%s: max error %g", names[a], err);
    free(x);
    free(y);
    free(ref);
    fer_model_free(m);
  }
}

static void test_softmax_gap_flatten_dense(void) {
  /* softmax over channels at each position */
  fer_model *m = one_layer(4, 2, 3, "softmax");
  float x[2 * 24], y[2 * 24];
  double ref[2 * 24];
  tu_fill(x, 48, 5, -3, 3);
  for (int n = 0; n < 2; n++)
    for (int i = 0; i < 6; i++) {
      double sum = 0;
      for (int c = 0; c < 4; c++) sum += exp(x[n * 24 + c * 6 + i]);
      for (int c = 0; c < 4; c++) ref[n * 24 + c * 6 + i] = exp(x[n * 24 + c * 6 + i]) / sum;
    }
  CHECK_OK(fer_model_forward(m, x, 2, y));
  CHECK(tu_max_abs_diff(y, ref, 48) <= 1e-6);
  fer_model_free(m);

  m = one_layer(4, 2, 3, "gap");
  float g[8];
  for (int p = 0; p < 8; p++) {
    double sum = 0;
    for (int i = 0; i < 6; i++) sum += x[p * 6 + i];
    ref[p] = sum / 6;
  }
  CHECK_OK(fer_model_forward(m, x, 2, g));
  CHECK(tu_max_abs_diff(g, ref, 8) <= 1e-6);
  fer_model_free(m);

  m = one_layer(4, 2, 3, "flatten");
  int c, h, w;
  CHECK_OK(fer_model_layer_shape(m, 0, &c, &h, &w));
  CHECK(c == 24 && h == 1 && w == 1);
  CHECK_OK(fer_model_forward(m, x, 2, y));
  CHECK(memcmp(x, y, sizeof x) == 0);
  fer_model_free(m);

  /* dense straight after a CxHxW input reads it in CHW order */
  m = one_layer(4, 2, 3, "dense 5");
  float *wt = tensor_of(m, FER_TENSOR_WEIGHT), *b = tensor_of(m, FER_TENSOR_BIAS);
  for (int n = 0; n < 2; n++)
    for (int u = 0; u < 5; u++) {
      double sum = b[u];
      for (int i = 0; i < 24; i++) sum += (double)wt[u * 24 + i] * x[n * 24 + i];
      ref[n * 5 + u] = sum;
    }
  CHECK_OK(fer_model_forward(m, x, 2, y));
  CHECK(tu_max_abs_diff(y, ref, 10) <= 1e-5);
  free(wt);
  free(b);
  fer_model_free(m);
}

static void test_batch_norm(void) {
  const int N = 3, C = 4, H = 3, W = 2, P = H * W;
  fer_model *m = one_layer(C, H, W, "bn momentum=0.2 eps=0.001");
  if (!m) return;
  float x[3 * 4 * 6], y[3 * 4 * 6];
  double ref[3 * 4 * 6];
  tu_fill(x, sizeof x / sizeof x[0], 9, -2, 3);
  float *gamma = tensor_of(m, FER_TENSOR_WEIGHT), *beta = tensor_of(m, FER_TENSOR_BIAS);
  float *rm = tensor_of(m, FER_TENSOR_RUNNING_MEAN), *rv = tensor_of(m, FER_TENSOR_RUNNING_VAR);
  /* evaluation: running statistics */
  for (int n = 0; n < N; n++)
    for (int c = 0; c < C; c++)
      for (int i = 0; i < P; i++) {
        int at = (n * C + c) * P + i;
        ref[at] = gamma[c] * (x[at] - rm[c]) / sqrt(rv[c] + 0.001) + beta[c];
      }
  CHECK_OK(fer_model_forward(m, x, N, y));
  CHECK(tu_max_abs_diff(y, ref, sizeof x / sizeof x[0]) <= TOL);
  /* training: batch statistics, then running averages move */
  double mean[4], var[4];
  for (int c = 0; c < C; c++) {
    double s = 0, q = 0;
    for (int n = 0; n < N; n++)
      for (int i = 0; i < P; i++) s += x[(n * C + c) * P + i];
    mean[c] = s / (N * P);
    for (int n = 0; n < N; n++)
      for (int i = 0; i < P; i++) {
        double d = x[(n * C + c) * P + i] - mean[c];
        q += d * d;
      }
    var[c] = q / (N * P);
    for (int n = 0; n < N; n++)
      for (int i = 0; i < P; i++) {
        int at = (n * C + c) * P + i;
        ref[at] = gamma[c] * (x[at] - mean[c]) / sqrt(var[c] + 0.001) + beta[c];
      }
  }
  CHECK_OK(fer_model_set_training(m, 1));
  CHECK_OK(fer_model_forward(m, x, N, y));
  CHECK(tu_max_abs_diff(y, ref, sizeof x / sizeof x[0]) <= TOL);
  float *rm2 = tensor_of(m, FER_TENSOR_RUNNING_MEAN), *rv2 = tensor_of(m, FER_TENSOR_RUNNING_VAR);
  for (int c = 0; c < C; c++) {
    CHECK_NEAR(rm2[c], 0.8 * rm[c] + 0.2 * mean[c], 1e-5);
    CHECK_NEAR(rv2[c], 0.8 * rv[c] + 0.2 * var[c] * (N * P) / (N * P - 1.0), 1e-5);
  }
  free(gamma);
  free(beta);
  free(rm);
  free(rv);
  free(rm2);
  free(rv2);
  fer_model_free(m);
}

static void test_dropout(void) {
  fer_model *m = one_layer(1, 100, 100, "drop 0.25");
  if (!m) return;
  float *x = tu_alloc(10000), *y = tu_alloc(10000);
  tu_fill(x, 10000, 1, 0.5f, 1.5f);
  CHECK_OK(fer_model_forward(m, x, 1, y));
  CHECK(memcmp(x, y, 10000 * sizeof(float)) == 0); /* identity in eval */
  CHECK_OK(fer_model_set_training(m, 1));
  CHECK_OK(fer_model_set_seed(m, 5));
  CHECK_OK(fer_model_forward(m, x, 1, y));
  int zeros = 0, bad = 0;
  for (int i = 0; i < 10000; i++) {
    if (y[i] == 0.0f) zeros++;
    else if (fabsf(y[i] - x[i] / 0.75f) > 1e-6f) bad++;
  }
  CHECK_EQ_INT(bad, 0);
  /* 2500 expected; 5 sigma is about 217 */
  CHECK_MSG(abs(zeros - 2500) < 220, "%d zeros", zeros);
  /* same seed, same mask */
  float *y2 = tu_alloc(10000);
  CHECK_OK(fer_model_set_seed(m, 5));
  CHECK_OK(fer_model_forward(m, x, 1, y2));
  CHECK(memcmp(y, y2, 10000 * sizeof(float)) == 0);
  free(x);
  free(y);
  free(y2);
  fer_model_free(m);
}

static void test_bad_layers(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_create(3, 8, 8, &m));
  CHECK_STATUS(fer_model_add_conv(m, 4, 3, 3, 1, 0, 1, 2, 1), FER_ERR_SHAPE);
  CHECK_MESSAGE_CONTAINS("groups");
  CHECK_STATUS(fer_model_add_conv(m, 4, 9, 9, 1, 0, 1, 1, 1), FER_ERR_SHAPE);
  CHECK_STATUS(fer_model_add_conv(m, 0, 3, 3, 1, 0, 1, 1, 1), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_add_max_pool(m, 9, 9, 1, 0), FER_ERR_SHAPE);
  CHECK_STATUS(fer_model_add_max_pool(m, 2, 2, 2, 2), FER_ERR_SHAPE);
  CHECK_STATUS(fer_model_add_dropout(m, 1.0f), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_add_batch_norm(m, 0.1f, 0.0f), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_add_dense(m, 1 << 20, 1), FER_ERR_TOO_LARGE);
  CHECK_EQ_INT(fer_model_num_layers(m), 0);
  CHECK_STATUS(fer_model_add_relu(NULL), FER_ERR_MISUSE);
  fer_model_free(m);
  fer_model_free(NULL);
}

/* The image path: gray at the input size is x * scale, normalised; colour
 * goes through BT.601 luma; a 2x larger image made of 2x2 blocks averages
 * back to the same input. */
static void test_predict_image(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text("input 1x6x5\nflatten\ndense 4\nsoftmax\n", &m));
  if (!m) return;
  CHECK_OK(fer_model_set_preprocessing(m, 1.0f / 255, 0.5f, 0.25f));
  fer_image *gray = NULL, *big = NULL, *rgb = NULL;
  CHECK_OK(fer_image_create(5, 6, 1, &gray));
  CHECK_OK(fer_image_create(10, 12, 1, &big));
  CHECK_OK(fer_image_create(5, 6, 3, &rgb));
  uint8_t *g = fer_image_data_mutable(gray), *b = fer_image_data_mutable(big),
          *c = fer_image_data_mutable(rgb);
  size_t gs = fer_image_stride(gray), bs = fer_image_stride(big), cs = fer_image_stride(rgb);
  float x[30];
  for (int y = 0; y < 6; y++)
    for (int i = 0; i < 5; i++) {
      uint8_t v = (uint8_t)(y * 40 + i * 7);
      g[y * gs + i] = v;
      for (int dy = 0; dy < 2; dy++)
        for (int dx = 0; dx < 2; dx++) b[(2 * y + dy) * bs + 2 * i + dx] = v;
      /* R, G, B whose BT.601 luma is exactly v: equal channels */
      c[y * cs + 3 * i] = c[y * cs + 3 * i + 1] = c[y * cs + 3 * i + 2] = v;
      x[y * 5 + i] = (v / 255.0f - 0.5f) / 0.25f;
    }
  float want[4], got[4];
  int top = -1;
  CHECK_OK(fer_model_predict(m, x, 1, want));
  CHECK_OK(fer_model_predict_image(m, gray, got, 4, &top));
  CHECK(tu_max_abs_diff(got, (double[]){want[0], want[1], want[2], want[3]}, 4) <= 1e-6);
  int best = 0;
  for (int k = 1; k < 4; k++)
    if (want[k] > want[best]) best = k;
  CHECK_EQ_INT(top, best);
  CHECK_OK(fer_model_predict_image(m, big, got, 4, NULL));
  CHECK(tu_max_abs_diff(got, (double[]){want[0], want[1], want[2], want[3]}, 4) <= 1e-6);
  CHECK_OK(fer_model_predict_image(m, rgb, got, 4, NULL));
  CHECK(tu_max_abs_diff(got, (double[]){want[0], want[1], want[2], want[3]}, 4) <= 1e-6);
  CHECK_STATUS(fer_model_predict_image(m, gray, got, 3, NULL), FER_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(fer_model_predict_image(m, NULL, got, 4, NULL), FER_ERR_MISUSE);
  fer_image_free(gray);
  fer_image_free(big);
  fer_image_free(rgb);
  fer_model_free(m);
}

int main(void) {
  RUN(test_predict_image);
  RUN(test_conv);
  RUN(test_pooling);
  RUN(test_activations);
  RUN(test_softmax_gap_flatten_dense);
  RUN(test_batch_norm);
  RUN(test_dropout);
  RUN(test_bad_layers);
  return harness_finish();
}
