/* Every layer's backward pass against central finite differences.
 *
 * For one layer with output y and fixed random r, the scalar
 * L = sum_i r_i y_i (summed in double) is differentiated numerically,
 * (L(v + h) - L(v - h)) / 2h with h = 1e-2, for inputs and every tensor
 * entry, and compared with the backward pass fed dy = r. Forward passes run
 * in float, so the bound is
 *   max |numeric - analytic| <= 5e-3 * max(1, max |analytic|).
 * Inputs keep at least 0.05 away from kinks (ReLU at 0, ties in max pooling)
 * so that no perturbation crosses one.
 *
 * A last check runs the whole chain (softmax cross-entropy with label
 * smoothing and class weights, fused final softmax) through the public
 * training step: plain SGD with learning rate 1 moves each weight by
 * exactly minus its gradient. */
#include "nn_test_util.h"
#include "nn/nn_internal.h"

#define H_STEP 1e-2
#define BOUND 5e-3

enum input_kind { INPUT_SMOOTH, INPUT_AWAY_FROM_ZERO, INPUT_DISTINCT };

static void fill_input(float *x, size_t n, enum input_kind kind, uint64_t seed) {
  if (kind == INPUT_SMOOTH) tu_fill(x, n, seed, -1, 1);
  else if (kind == INPUT_AWAY_FROM_ZERO) tu_fill_away_from_zero(x, n, seed);
  else {
    /* Distinct values 0.05 apart, shuffled: no near-ties in any window. */
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.05 * i - 0.025 * n);
    uint64_t s = seed;
    for (size_t i = n - 1; i > 0; i--) {
      size_t j = (size_t)(tu_uniform(&s) * (double)(i + 1));
      float t = x[i];
      x[i] = x[j];
      x[j] = t;
    }
  }
}

static double loss_of(fer_model *m, const float *x, int n, const float *r,
                      int training) {
  CHECK_OK(fer__workspace_prepare(m, &m->ws, n, 1));
  fer_model_set_seed(m, 77); /* the same dropout mask every time */
  const float *y = fer__forward(m, m->ws, x, n, training, &m->dropout_rng);
  size_t size = (size_t)n * (size_t)fer_model_output_size(m);
  double sum = 0.0;
  for (size_t i = 0; i < size; i++) sum += (double)r[i] * y[i];
  return sum;
}

typedef struct worst {
  double err, scale;
} worst;

static void note(worst *w, double numeric, double analytic) {
  double e = fabs(numeric - analytic);
  if (!(e <= w->err)) w->err = e;
  if (fabs(analytic) > w->scale) w->scale = fabs(analytic);
}

static void check_layer(int c, int h, int w, const char *line, int training,
                        enum input_kind kind) {
  const int N = 2;
  fer_model *m = NULL;
  CHECK_OK(fer_model_create(c, h, w, &m));
  if (fer_model_add_text(m, line) != FER_OK) {
    CHECK_MSG(0, "%s: %s", line, fer_last_error());
    fer_model_free(m);
    return;
  }
  fer__layer *l = &m->layers[0];
  for (int k = 0; k < FER__TENSORS; k++)
    if (l->tensor[k]) tu_fill(l->tensor[k], l->tensor_size[k], 50 + (uint64_t)k,
                              k == 3 ? 0.5f : -1.0f, 1.0f);
  size_t in_n = (size_t)N * c * h * w;
  size_t out_n = (size_t)N * (size_t)fer_model_output_size(m);
  float *x = tu_alloc(in_n), *r = tu_alloc(out_n), *dx = tu_alloc(in_n);
  fill_input(x, in_n, kind, 3);
  tu_fill(r, out_n, 4, -1, 1);

  /* Analytic: forward then the layer's backward with dy = r. */
  loss_of(m, x, N, r, training);
  fer__workspace *ws = m->ws;
  fer__pass pass = {.n = N, .training = training, .threads = ws->threads,
                    .scratch = ws->scratch, .scratch_floats = ws->scratch_floats,
                    .rng = &m->dropout_rng};
  float *grads[2] = {l->tensor[0] ? ws->grads : NULL,
                     l->tensor[1] ? ws->grads + l->tensor_size[0] : NULL};
  fer__layer_ops_of(l->kind)->backward(l, &pass, x, ws->act[0], r, dx,
                                       ws->saved[0], grads);
  size_t trainable = l->tensor_size[0] + l->tensor_size[1];
  float *g = tu_alloc(trainable);
  if (trainable) memcpy(g, ws->grads, trainable * sizeof(float));

  worst wi = {0, 1}, wp = {0, 1};
  for (size_t j = 0; j < in_n; j++) {
    float keep = x[j];
    x[j] = keep + (float)H_STEP;
    double up = loss_of(m, x, N, r, training);
    x[j] = keep - (float)H_STEP;
    double down = loss_of(m, x, N, r, training);
    x[j] = keep;
    note(&wi, (up - down) / (2 * H_STEP), dx[j]);
  }
  size_t at = 0;
  for (int k = 0; k < FER__TRAINABLE_TENSORS; k++)
    for (size_t j = 0; j < l->tensor_size[k]; j++, at++) {
      float keep = l->tensor[k][j];
      l->tensor[k][j] = keep + (float)H_STEP;
      double up = loss_of(m, x, N, r, training);
      l->tensor[k][j] = keep - (float)H_STEP;
      double down = loss_of(m, x, N, r, training);
      l->tensor[k][j] = keep;
      note(&wp, (up - down) / (2 * H_STEP), g[at]);
    }
  CHECK_MSG(wi.err <= BOUND * wi.scale, "%s%s: input gradient error %g (scale %g)",
            line, training ? " (training)" : "", wi.err, wi.scale);
  CHECK_MSG(wp.err <= BOUND * wp.scale, "%s%s: weight gradient error %g (scale %g)",
            line, training ? " (training)" : "", wp.err, wp.scale);
  if (getenv("FER_VERBOSE"))
    fprintf(stderr, "  %-40s input err %.2e  weight err %.2e\n", line, wi.err, wp.err);
  free(x);
  free(r);
  free(dx);
  free(g);
  fer_model_free(m);
}

static void test_conv_gradients(void) {
  check_layer(3, 6, 5, "conv 4 3x3 same", 1, INPUT_SMOOTH);
  check_layer(2, 7, 7, "conv 3 3x3 valid stride=2", 1, INPUT_SMOOTH);
  check_layer(2, 8, 7, "conv 2 3x3 same dil=2", 1, INPUT_SMOOTH);
  check_layer(2, 6, 6, "conv 3 4x4 same stride=2", 1, INPUT_SMOOTH);
  check_layer(4, 5, 5, "conv 4 3x3 pad=1 groups=4 nobias", 1, INPUT_SMOOTH);
  check_layer(3, 7, 6, "conv 6 3x3 pad=2 dil=2 stride=2 groups=3", 1, INPUT_SMOOTH);
  check_layer(4, 5, 5, "conv 6 3x3 valid groups=2", 1, INPUT_SMOOTH);
  check_layer(3, 4, 5, "conv 5 1x1 valid", 1, INPUT_SMOOTH);
}

static void test_pool_gradients(void) {
  check_layer(2, 6, 7, "max 2x2/2", 1, INPUT_DISTINCT);
  check_layer(2, 7, 7, "max 3x3/2 pad=1", 1, INPUT_DISTINCT);
  check_layer(2, 7, 6, "avg 3x3/2", 1, INPUT_SMOOTH);
  check_layer(2, 5, 5, "avg 3x3/1 pad=1", 1, INPUT_SMOOTH);
  check_layer(3, 4, 5, "gap", 1, INPUT_SMOOTH);
}

/* Ties, which the finite differences above avoid: a window's gradient goes
 * to its first largest input in row-major order (PyTorch's rule), in the
 * 2x2/2 fast path and the general loop alike, and inference gives the same
 * maxima as training. Inputs from {0, 1, 2} tie in most windows. */
static void check_max_pool_ties(const char *line, int c, int h, int w, int k,
                                int s, int pad) {
  const int N = 2;
  fer_model *m = NULL;
  CHECK_OK(fer_model_create(c, h, w, &m));
  CHECK_OK(fer_model_add_text(m, line));
  const fer__layer *l = &m->layers[0];
  const int oh = l->out.h, ow = l->out.w;
  size_t in_n = (size_t)N * c * h * w, out_n = (size_t)N * c * oh * ow;
  float *x = tu_alloc(in_n), *r = tu_alloc(out_n), *dx = tu_alloc(in_n);
  float *want_y = tu_alloc(out_n), *want_dx = tu_alloc(in_n);
  tu_fill(x, in_n, 21, 0.0f, 2.999f);
  for (size_t i = 0; i < in_n; i++) x[i] = floorf(x[i]);
  tu_fill(r, out_n, 22, -1.0f, 1.0f);
  memset(want_dx, 0, in_n * sizeof(float));
  for (int p = 0; p < N * c; p++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        long at = -1;
        for (int ky = 0; ky < k; ky++)
          for (int kx = 0; kx < k; kx++) {
            int iy = oy * s - pad + ky, ix = ox * s - pad + kx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            long i = ((long)p * h + iy) * w + ix;
            if (at < 0 || x[i] > x[at]) at = i;
          }
        long o = ((long)p * oh + oy) * ow + ox;
        want_y[o] = x[at];
        want_dx[at] += r[o];
      }
  loss_of(m, x, N, r, 1);
  fer__workspace *ws = m->ws;
  double err_y = 0.0, err_dx = 0.0, err_infer = 0.0;
  for (size_t o = 0; o < out_n; o++) err_y = fmax(err_y, fabs(ws->act[0][o] - want_y[o]));
  fer__pass pass = {.n = N, .training = 1, .threads = ws->threads,
                    .scratch = ws->scratch, .scratch_floats = ws->scratch_floats,
                    .rng = &m->dropout_rng};
  float *grads[2] = {NULL, NULL};
  fer__layer_ops_of(l->kind)->backward(l, &pass, x, ws->act[0], r, dx,
                                       ws->saved[0], grads);
  for (size_t i = 0; i < in_n; i++) err_dx = fmax(err_dx, fabs(dx[i] - want_dx[i]));
  CHECK_OK(fer__workspace_prepare(m, &m->ws, N, 1));
  const float *y = fer__forward(m, m->ws, x, N, 0, &m->dropout_rng);
  for (size_t o = 0; o < out_n; o++) err_infer = fmax(err_infer, fabs(y[o] - want_y[o]));
  CHECK_MSG(err_y == 0.0 && err_infer == 0.0, "%s: maxima off by %g (training), %g (inference)",
            line, err_y, err_infer);
  CHECK_MSG(err_dx <= 1e-6, "%s: tie routing, gradient error %g", line, err_dx);
  free(x);
  free(r);
  free(dx);
  free(want_y);
  free(want_dx);
  fer_model_free(m);
}

static void test_max_pool_ties(void) {
  check_max_pool_ties("max 2x2/2", 3, 6, 8, 2, 2, 0);
  check_max_pool_ties("max 2x2/2", 2, 7, 9, 2, 2, 0); /* odd sizes: last row and column unused */
  check_max_pool_ties("max 3x3/2 pad=1", 2, 7, 6, 3, 2, 1);
  check_max_pool_ties("max 2x2/1", 2, 5, 5, 2, 1, 0);
}

static void test_pointwise_gradients(void) {
  check_layer(2, 3, 4, "relu", 1, INPUT_AWAY_FROM_ZERO);
  check_layer(2, 3, 4, "leaky 0.1", 1, INPUT_AWAY_FROM_ZERO);
  check_layer(2, 3, 4, "elu 0.7", 1, INPUT_AWAY_FROM_ZERO);
  check_layer(2, 3, 4, "sigmoid", 1, INPUT_SMOOTH);
  check_layer(2, 3, 4, "tanh", 1, INPUT_SMOOTH);
  check_layer(5, 2, 2, "softmax", 1, INPUT_SMOOTH);
  check_layer(2, 3, 4, "drop 0.3", 1, INPUT_SMOOTH);
  check_layer(2, 3, 4, "drop 0.3", 0, INPUT_SMOOTH);
  check_layer(2, 3, 4, "flatten", 1, INPUT_SMOOTH);
}

static void test_dense_bn_gradients(void) {
  check_layer(2, 3, 2, "dense 4", 1, INPUT_SMOOTH);
  check_layer(5, 1, 1, "dense 3 nobias", 1, INPUT_SMOOTH);
  check_layer(3, 3, 2, "bn", 1, INPUT_SMOOTH);
  check_layer(6, 1, 1, "bn eps=0.01", 1, INPUT_SMOOTH);
}

/* The whole chain through the public training step. Smooth layers only:
 * a weight step moves many values at once, and a kink (ReLU at 0, a max
 * pooling tie) crossed by any of them would spoil the numeric side; those
 * layers have their own checks above. */
static void test_train_step_gradient(void) {
  const int N = 4;
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text("input 2x6x6\nconv 3 3x3 same\nbn\ntanh\n"
                               "avg 2x2/2\ndrop 0.2\nflatten\ndense 4\nsoftmax\n",
                               &m));
  if (!m) return;
  CHECK_OK(fer_model_init_weights(m, FER_INIT_GLOROT_UNIFORM, 3));
  const float cw[4] = {1.0f, 2.0f, 0.5f, 1.5f};
  CHECK_OK(fer_model_set_class_weights(m, cw, 4));
  CHECK_OK(fer_model_set_label_smoothing(m, 0.1f));
  float x[4 * 72];
  tu_fill(x, sizeof x / sizeof x[0], 8, -1, 1);
  const int32_t labels[4] = {0, 3, 1, 3};
  /* Numeric gradient of the conv weights and dense bias via evaluate in
   * training mode (same dropout mask: the seed is reset before each). */
  CHECK_OK(fer_model_set_training(m, 1));
  size_t nw = 0, nb = 0;
  fer_model_get_tensor(m, 0, FER_TENSOR_WEIGHT, NULL, 0, &nw);
  fer_model_get_tensor(m, 6, FER_TENSOR_BIAS, NULL, 0, &nb);
  float *w = tu_alloc(nw), *b = tu_alloc(nb);
  CHECK_OK(fer_model_get_tensor(m, 0, FER_TENSOR_WEIGHT, w, nw, NULL));
  CHECK_OK(fer_model_get_tensor(m, 6, FER_TENSOR_BIAS, b, nb, NULL));
  double *num_w = calloc(nw, sizeof(double)), *num_b = calloc(nb, sizeof(double));
  for (size_t j = 0; j < nw + nb; j++) {
    float *v = j < nw ? &w[j] : &b[j - nw];
    int layer = j < nw ? 0 : 6;
    fer_tensor t = j < nw ? FER_TENSOR_WEIGHT : FER_TENSOR_BIAS;
    float *arr = j < nw ? w : b;
    size_t len = j < nw ? nw : nb;
    float keep = *v, up, down;
    *v = keep + (float)H_STEP;
    fer_model_set_tensor(m, layer, t, arr, len);
    fer_model_set_seed(m, 9);
    CHECK_OK(fer_model_evaluate(m, x, labels, N, &up, NULL));
    *v = keep - (float)H_STEP;
    fer_model_set_tensor(m, layer, t, arr, len);
    fer_model_set_seed(m, 9);
    CHECK_OK(fer_model_evaluate(m, x, labels, N, &down, NULL));
    *v = keep;
    fer_model_set_tensor(m, layer, t, arr, len);
    double d = ((double)up - down) / (2 * H_STEP);
    if (j < nw) num_w[j] = d; else num_b[j - nw] = d;
  }
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &opt));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, 1.0));
  fer_model_set_seed(m, 9);
  float loss, acc;
  CHECK_OK(fer_model_train_step(m, opt, x, labels, N, &loss, &acc));
  float *w2 = tu_alloc(nw), *b2 = tu_alloc(nb);
  CHECK_OK(fer_model_get_tensor(m, 0, FER_TENSOR_WEIGHT, w2, nw, NULL));
  CHECK_OK(fer_model_get_tensor(m, 6, FER_TENSOR_BIAS, b2, nb, NULL));
  worst ww = {0, 1e-1}, wb = {0, 1e-1};
  for (size_t j = 0; j < nw; j++) note(&ww, num_w[j], (double)w[j] - w2[j]);
  for (size_t j = 0; j < nb; j++) note(&wb, num_b[j], (double)b[j] - b2[j]);
  /* The loss is a mean over 4 images: gradients are small, and the float
   * loss limits the numeric side to about 1e-6 / h. */
  CHECK_MSG(ww.err <= 1e-3, "conv weight gradient error %g", ww.err);
  CHECK_MSG(wb.err <= 1e-3, "dense bias gradient error %g", wb.err);
  CHECK_EQ_INT(fer_optimizer_steps(opt), 1);
  free(w);
  free(b);
  free(w2);
  free(b2);
  free(num_w);
  free(num_b);
  fer_optimizer_free(opt);
  fer_model_free(m);
}

int main(void) {
  RUN(test_conv_gradients);
  RUN(test_pool_gradients);
  RUN(test_max_pool_ties);
  RUN(test_pointwise_gradients);
  RUN(test_dense_bn_gradients);
  RUN(test_train_step_gradient);
  return harness_finish();
}
