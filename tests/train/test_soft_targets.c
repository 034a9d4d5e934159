/* Training on soft targets (fer_model_train_step_soft,
 * fer_model_compute_gradients_soft):
 *  - the gradient of every parameter against central finite differences of
 *    the loss, the loss computed here from the model's output probabilities
 *    (sum_i v_i (-sum_k t_ik log p_ik) / sum_i v_i, in double);
 *  - the integer-label path equals the soft path fed smoothed one-hot
 *    targets and sample weights w[y_i] (loss, accuracy, weight, gradient);
 *  - bad targets and weights are refused with a message and change nothing.
 *
 * Finite-difference bound: forward passes run in float with h = 1e-2, as in
 * tests/nn/test_gradients.c: max |numeric - analytic| <= 5e-3 * max(1, max
 * |analytic|). */
#include "nn/nn_test_util.h"

#include "fer/train.h"

enum { N = 8, CLASSES = 5, PER = 2 * 8 * 8 };

#define H_STEP 1e-2
#define BOUND 5e-3

/* No batch norm or dropout: training and evaluation mode agree, so
 * fer_model_forward gives the probabilities the training loss sees. */
static const char arch[] =
    "input 2x8x8\nconv 4 3x3 same\ntanh\navg 2x2/2\nflatten\ndense 10\n"
    "tanh\ndense 5\nsoftmax\n";

static fer_model *make(uint64_t seed) { return tu_model(arch, seed); }

/* Random distributions: positive entries normalised in double. */
static void random_targets(float *t, int n, uint64_t seed) {
  uint64_t s = seed;
  for (int i = 0; i < n; i++) {
    double raw[CLASSES], sum = 0;
    for (int k = 0; k < CLASSES; k++) sum += raw[k] = 0.05 + tu_uniform(&s);
    for (int k = 0; k < CLASSES; k++) t[i * CLASSES + k] = (float)(raw[k] / sum);
  }
}

/* The loss, written from its definition on the model's probabilities. */
static double reference_loss(fer_model *m, const float *x, const float *t,
                             const float *v) {
  float p[N * CLASSES];
  CHECK_OK(fer_model_forward(m, x, N, p));
  double total = 0, weight = 0;
  for (int i = 0; i < N; i++) {
    double w = v ? v[i] : 1.0, ce = 0;
    for (int k = 0; k < CLASSES; k++) ce -= t[i * CLASSES + k] * log((double)p[i * CLASSES + k]);
    total += w * ce;
    weight += w;
  }
  return total / weight;
}

static void check_finite_differences(const float *v) {
  fer_model *m = make(5);
  if (!m) return;
  const size_t P = tu_trainable(m);
  float *x = tu_alloc((size_t)N * PER), *params = tu_alloc(P), *grads = tu_alloc(P);
  float t[N * CLASSES];
  tu_fill(x, (size_t)N * PER, 11, -1, 1);
  random_targets(t, N, 3);
  float loss;
  double weight;
  CHECK_OK(fer_model_compute_gradients_soft(m, x, t, (size_t)N * CLASSES, v, N,
                                            &loss, NULL, &weight));
  CHECK_OK(fer_model_get_gradients(m, grads, P, NULL));
  double want_weight = 0;
  for (int i = 0; i < N; i++) want_weight += v ? v[i] : 1.0;
  CHECK_NEAR(weight, want_weight, 1e-9);
  CHECK_NEAR(loss, reference_loss(m, x, t, v), 1e-5);
  CHECK_OK(fer_model_get_parameters(m, params, P, NULL));
  double worst = 0, scale = 1;
  for (size_t j = 0; j < P; j++) {
    float keep = params[j];
    params[j] = (float)(keep + H_STEP);
    CHECK_OK(fer_model_set_parameters(m, params, P));
    double up = reference_loss(m, x, t, v);
    params[j] = (float)(keep - H_STEP);
    CHECK_OK(fer_model_set_parameters(m, params, P));
    double down = reference_loss(m, x, t, v);
    params[j] = keep;
    double numeric = (up - down) / (2 * H_STEP);
    double e = fabs(numeric - grads[j]);
    if (!(e <= worst)) worst = e;
    if (fabs(grads[j]) > scale) scale = fabs(grads[j]);
  }
  CHECK_MSG(worst <= BOUND * scale, "soft-target gradient (%s): worst error %g, "
            "bound %g", v ? "sample weights" : "no weights", worst, BOUND * scale);
  free(x);
  free(params);
  free(grads);
  fer_model_free(m);
}

static void test_finite_differences(void) {
  check_finite_differences(NULL);
  static const float v[N] = {1.0f, 0.5f, 2.0f, 0.0f, 3.0f, 1.0f, 0.25f, 1.5f};
  check_finite_differences(v);
}

/* Integer labels with smoothing s and class weights w against the soft
 * path fed (1 - s) onehot + s / K and v_i = w[y_i]. */
static void check_one_hot(float smoothing, const float *class_weights) {
  fer_model *a = make(9), *b = make(9);
  if (!a || !b) return;
  const size_t P = tu_trainable(a);
  float *x = tu_alloc((size_t)N * PER), *ga = tu_alloc(P), *gb = tu_alloc(P);
  int32_t labels[N];
  float t[N * CLASSES], v[N];
  tu_fill(x, (size_t)N * PER, 21, -1, 1);
  uint64_t s = 4;
  for (int i = 0; i < N; i++) {
    labels[i] = (int32_t)(tu_uniform(&s) * CLASSES);
    for (int k = 0; k < CLASSES; k++)
      t[i * CLASSES + k] = (float)((1.0 - smoothing) * (k == labels[i]) +
                                   (double)smoothing / CLASSES);
    v[i] = class_weights ? class_weights[labels[i]] : 1.0f;
  }
  CHECK_OK(fer_model_set_label_smoothing(a, smoothing));
  if (class_weights) CHECK_OK(fer_model_set_class_weights(a, class_weights, CLASSES));
  /* b keeps smoothing and class weights too: the soft path must ignore them. */
  CHECK_OK(fer_model_set_label_smoothing(b, smoothing));
  if (class_weights) CHECK_OK(fer_model_set_class_weights(b, class_weights, CLASSES));
  float la, lb, acc_a, acc_b;
  double wa, wb;
  CHECK_OK(fer_model_compute_gradients(a, x, labels, N, &la, &acc_a, &wa));
  CHECK_OK(fer_model_compute_gradients_soft(b, x, t, (size_t)N * CLASSES, v, N,
                                            &lb, &acc_b, &wb));
  CHECK_OK(fer_model_get_gradients(a, ga, P, NULL));
  CHECK_OK(fer_model_get_gradients(b, gb, P, NULL));
  CHECK_NEAR(lb, la, 1e-6 * fabs(la) + 1e-7);
  CHECK_NEAR(acc_b, acc_a, 0);
  CHECK_NEAR(wb, wa, 1e-6 * wa);
  double worst = 0, big = 0;
  for (size_t j = 0; j < P; j++) {
    double d = fabs((double)ga[j] - gb[j]);
    if (!(d <= worst)) worst = d;
    if (fabs(ga[j]) > big) big = fabs(ga[j]);
  }
  CHECK_MSG(big > 0 && worst <= 1e-5 * big, "smoothing %g, %s: gradients differ "
            "by %g (largest %g)", (double)smoothing,
            class_weights ? "class weights" : "no weights", worst, big);
  /* And a step each: the same weights up to float rounding. */
  fer_optimizer *oa = NULL, *ob = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &oa));
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &ob));
  CHECK_OK(fer_optimizer_set(oa, FER_OPT_LEARNING_RATE, 0.5));
  CHECK_OK(fer_optimizer_set(ob, FER_OPT_LEARNING_RATE, 0.5));
  CHECK_OK(fer_model_train_step(a, oa, x, labels, N, &la, NULL));
  CHECK_OK(fer_model_train_step_soft(b, ob, x, t, (size_t)N * CLASSES, v, N, &lb, NULL));
  CHECK_OK(fer_model_get_parameters(a, ga, P, NULL));
  CHECK_OK(fer_model_get_parameters(b, gb, P, NULL));
  worst = 0;
  for (size_t j = 0; j < P; j++) {
    double d = fabs((double)ga[j] - gb[j]);
    if (!(d <= worst)) worst = d;
  }
  CHECK_MSG(worst <= 1e-6, "after a step the weights differ by %g", worst);
  fer_optimizer_free(oa);
  fer_optimizer_free(ob);
  free(x);
  free(ga);
  free(gb);
  fer_model_free(a);
  fer_model_free(b);
}

static void test_one_hot_is_integer_path(void) {
  static const float w[CLASSES] = {0.5f, 2.0f, 1.0f, 3.0f, 0.25f};
  check_one_hot(0.0f, NULL);
  check_one_hot(0.1f, NULL);
  check_one_hot(0.2f, w);
}

/* Soft targets that differ from one-hot give another gradient: the
 * comparison above can fail. */
static void test_soft_differs_from_hard(void) {
  fer_model *a = make(9), *b = make(9);
  if (!a || !b) return;
  float x[N * PER], t[N * CLASSES];
  int32_t labels[N];
  tu_fill(x, (size_t)N * PER, 21, -1, 1);
  for (int i = 0; i < N; i++) {
    labels[i] = i % CLASSES;
    for (int k = 0; k < CLASSES; k++) t[i * CLASSES + k] = k == labels[i] ? 0.7f : 0.075f;
  }
  float la, lb;
  CHECK_OK(fer_model_compute_gradients(a, x, labels, N, &la, NULL, NULL));
  CHECK_OK(fer_model_compute_gradients_soft(b, x, t, (size_t)N * CLASSES, NULL, N,
                                            &lb, NULL, NULL));
  CHECK_MSG(fabs(la - lb) > 1e-3, "losses %g and %g should differ", (double)la, (double)lb);
  fer_model_free(a);
  fer_model_free(b);
}

static void test_bad_input(void) {
  fer_model *m = make(2);
  if (!m) return;
  const size_t P = tu_trainable(m);
  float *before = tu_alloc(P), *after = tu_alloc(P);
  float x[N * PER], t[N * CLASSES], v[N];
  tu_fill(x, (size_t)N * PER, 1, -1, 1);
  random_targets(t, N, 8);
  for (int i = 0; i < N; i++) v[i] = 1.0f;
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &opt));
  CHECK_OK(fer_model_get_parameters(m, before, P, NULL));
  const size_t count = (size_t)N * CLASSES;

  CHECK_STATUS(fer_model_train_step_soft(m, opt, x, NULL, count, NULL, N, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("targets are NULL");
  CHECK_STATUS(fer_model_train_step_soft(m, opt, x, t, count - 1, NULL, N, NULL, NULL),
               FER_ERR_SHAPE);
  CHECK_MESSAGE_CONTAINS("need 40");
  CHECK_STATUS(fer_model_compute_gradients_soft(m, x, t, count, NULL, 0, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_train_step_soft(NULL, opt, x, t, count, NULL, N, NULL, NULL),
               FER_ERR_MISUSE);
  float keep = t[3 * CLASSES + 2];
  t[3 * CLASSES + 2] = -0.01f;
  CHECK_STATUS(fer_model_train_step_soft(m, opt, x, t, count, NULL, N, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("target 2 of image 3");
  t[3 * CLASSES + 2] = NAN;
  CHECK_STATUS(fer_model_train_step_soft(m, opt, x, t, count, NULL, N, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  t[3 * CLASSES + 2] = INFINITY;
  CHECK_STATUS(fer_model_compute_gradients_soft(m, x, t, count, NULL, N, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  t[3 * CLASSES + 2] = keep + 0.01f; /* the row sums to 1.01 */
  CHECK_STATUS(fer_model_train_step_soft(m, opt, x, t, count, NULL, N, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("image 3 sum");
  t[3 * CLASSES + 2] = keep + 2e-4f; /* within the tolerance */
  CHECK_OK(fer_model_compute_gradients_soft(m, x, t, count, NULL, N, NULL, NULL, NULL));
  t[3 * CLASSES + 2] = keep;
  v[5] = -1.0f;
  CHECK_STATUS(fer_model_train_step_soft(m, opt, x, t, count, v, N, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("weight of image 5");
  v[5] = NAN;
  CHECK_STATUS(fer_model_train_step_soft(m, opt, x, t, count, v, N, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_OK(fer_model_get_parameters(m, after, P, NULL));
  CHECK(memcmp(before, after, P * sizeof *before) == 0);
  /* All weights 0: loss and gradient 0, not NaN. */
  for (int i = 0; i < N; i++) v[i] = 0.0f;
  float loss = -1;
  double weight = -1;
  CHECK_OK(fer_model_compute_gradients_soft(m, x, t, count, v, N, &loss, NULL, &weight));
  CHECK_NEAR(loss, 0, 0);
  CHECK_NEAR(weight, 0, 0);
  fer_optimizer_free(opt);
  free(before);
  free(after);
  fer_model_free(m);
}

int main(void) {
  fer_set_num_threads(1);
  RUN(test_finite_differences);
  RUN(test_one_hot_is_integer_path);
  RUN(test_soft_differs_from_hard);
  RUN(test_bad_input);
  return harness_finish();
}
