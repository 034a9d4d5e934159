/* The flat-buffer training API (include/fer/train.h): a batch split in two
 * halves whose gradients are summed through the API and stepped gives the
 * full-batch step; compute + apply is fer_model_train_step bit for bit; the
 * flat layouts against fer_model_get_tensor; misuse and bad values.
 *
 * Tolerance of the split-batch comparison: the two ways add the same
 * float products in a different order (per-half sums scaled by W_p / W
 * versus one sum), so parameters may differ by float rounding. After
 * STEPS steps the largest difference must stay below 2e-6 times the
 * largest parameter magnitude (about 16 float ulps); a wrong combination
 * (plain mean with unequal class weights, or batch norm) is off by far
 * more, which the test also checks so that it can fail. */
#include "nn/nn_test_util.h"

enum { N = 64, HALF = N / 2, STEPS = 4, CLASSES = 5 };

/* A small net without batch norm or dropout: its gradient is a plain sum
 * over the samples. */
static const char plain_arch[] =
    "input 2x8x8\nconv 4 3x3 same\nrelu\nmax 2x2/2\nconv 6 3x3 valid\ntanh\n"
    "flatten\ndense 12\nleaky 0.1\ndense 5\nsoftmax\n";
static const char bn_arch[] =
    "input 2x8x8\nconv 4 3x3 same nobias\nbn\nrelu\nmax 2x2/2\nflatten\n"
    "dense 5\nsoftmax\n";

static fer_optimizer *make_opt(fer_optimizer_kind kind) {
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(kind, &opt));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, kind == FER_OPTIMIZER_SGD ? 0.05 : 0.01));
  if (kind == FER_OPTIMIZER_SGD) CHECK_OK(fer_optimizer_set(opt, FER_OPT_MOMENTUM, 0.9));
  return opt;
}

static void batch(int step, float *x, int32_t *labels) {
  tu_fill(x, (size_t)N * 2 * 8 * 8, 100 + (uint64_t)step, -1.0f, 1.0f);
  uint64_t s = 7 + (uint64_t)step;
  for (int i = 0; i < N; i++) labels[i] = (int32_t)(tu_uniform(&s) * CLASSES);
}

/* Largest |a_i - b_i| and largest |a_i|. */
static double max_diff(const float *a, const float *b, size_t n, double *scale) {
  double worst = 0, big = 0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d <= worst)) worst = d;
    if (fabs(a[i]) > big) big = fabs(a[i]);
  }
  if (scale) *scale = big;
  return worst;
}

/* Trains a copy of the net STEPS times on full batches with train_step, and
 * another on the two halves combined through the flat API: weighted by W_p
 * (`weighted`) or as a plain mean. Returns the largest parameter difference
 * relative to the largest parameter. */
static double split_vs_full(const char *arch, fer_optimizer_kind kind,
                            const float *class_weights, int weighted) {
  fer_model *full = tu_model(arch, 3), *split = tu_model(arch, 3);
  fer_optimizer *opt_full = make_opt(kind), *opt_split = make_opt(kind);
  if (!full || !split) return INFINITY;
  if (class_weights) {
    CHECK_OK(fer_model_set_class_weights(full, class_weights, CLASSES));
    CHECK_OK(fer_model_set_class_weights(split, class_weights, CLASSES));
  }
  const size_t P = tu_trainable(full), per = 2 * 8 * 8;
  float *x = tu_alloc((size_t)N * per), *g1 = tu_alloc(P), *g2 = tu_alloc(P),
        *a = tu_alloc(P), *b = tu_alloc(P);
  int32_t labels[N];
  for (int step = 0; step < STEPS; step++) {
    batch(step, x, labels);
    float loss_full, loss1, loss2, acc1, acc2;
    CHECK_OK(fer_model_train_step(full, opt_full, x, labels, N, &loss_full, NULL));
    double w1 = 0, w2 = 0;
    CHECK_OK(fer_model_compute_gradients(split, x, labels, HALF, &loss1, &acc1, &w1));
    CHECK_OK(fer_model_get_gradients(split, g1, P, NULL));
    CHECK_OK(fer_model_compute_gradients(split, x + (size_t)HALF * per, labels + HALF,
                                         HALF, &loss2, &acc2, &w2));
    CHECK_OK(fer_model_get_gradients(split, g2, P, NULL));
    if (!class_weights) {
      CHECK_NEAR(w1, HALF, 0);
      CHECK_NEAR(w2, HALF, 0);
    }
    /* The losses combine the same way as the gradients (before the step). */
    if (weighted && !strstr(arch, "bn"))
      CHECK_NEAR((w1 * loss1 + w2 * loss2) / (w1 + w2), loss_full, 1e-5 * fabs(loss_full));
    for (size_t i = 0; i < P; i++)
      g1[i] = weighted ? (float)((w1 * g1[i] + w2 * g2[i]) / (w1 + w2))
                       : 0.5f * (g1[i] + g2[i]);
    CHECK_OK(fer_model_set_gradients(split, g1, P));
    CHECK_OK(fer_model_apply_gradients(split, opt_split));
  }
  CHECK_OK(fer_model_get_parameters(full, a, P, NULL));
  CHECK_OK(fer_model_get_parameters(split, b, P, NULL));
  double scale, d = max_diff(a, b, P, &scale);
  free(x);
  free(g1);
  free(g2);
  free(a);
  free(b);
  fer_optimizer_free(opt_full);
  fer_optimizer_free(opt_split);
  fer_model_free(full);
  fer_model_free(split);
  return d / scale;
}

static void test_split_batch_equals_full_batch(void) {
  static const float weights[CLASSES] = {0.5f, 2.0f, 1.0f, 3.0f, 0.25f};
  const fer_optimizer_kind kinds[] = {FER_OPTIMIZER_SGD, FER_OPTIMIZER_ADAM};
  for (int k = 0; k < 2; k++) {
    double plain = split_vs_full(plain_arch, kinds[k], NULL, 1);
    CHECK_MSG(plain < 2e-6, "optimizer %d: relative difference %g", (int)kinds[k], plain);
    double weighted = split_vs_full(plain_arch, kinds[k], weights, 1);
    CHECK_MSG(weighted < 2e-6, "optimizer %d, class weights: relative difference %g",
              (int)kinds[k], weighted);
    /* Equal halves, no class weights: the plain mean is the same thing. */
    double mean = split_vs_full(plain_arch, kinds[k], NULL, 0);
    CHECK_MSG(mean < 2e-6, "optimizer %d, plain mean: relative difference %g",
              (int)kinds[k], mean);
    /* With class weights the plain mean is wrong, and visibly so. */
    double wrong = split_vs_full(plain_arch, kinds[k], weights, 0);
    CHECK_MSG(wrong > 1e-4, "optimizer %d: the plain mean with class weights "
              "should differ, relative difference %g", (int)kinds[k], wrong);
  }
}

/* Batch norm normalises each half with its own statistics ("ghost"
 * batches): the documented behaviour is that the split step is not the
 * full-batch step. */
static void test_batch_norm_halves_differ(void) {
  double d = split_vs_full(bn_arch, FER_OPTIMIZER_SGD, NULL, 1);
  CHECK_MSG(d > 1e-4 && isfinite(d), "batch norm: relative difference %g", d);
}

/* compute + apply is the training step, bit for bit (dropout, batch norm,
 * Adam, clipping included). */
static void test_two_halves_are_train_step(void) {
  static const char arch[] =
      "input 2x8x8\nconv 4 3x3 same nobias\nbn\nrelu\nmax 2x2/2\nflatten\n"
      "drop 0.3\ndense 5\nsoftmax\n";
  fer_model *a = tu_model(arch, 9), *b = tu_model(arch, 9);
  fer_optimizer *oa = make_opt(FER_OPTIMIZER_ADAM), *ob = make_opt(FER_OPTIMIZER_ADAM);
  CHECK_OK(fer_optimizer_set(oa, FER_OPT_CLIP_NORM, 0.5));
  CHECK_OK(fer_optimizer_set(ob, FER_OPT_CLIP_NORM, 0.5));
  CHECK_OK(fer_model_set_seed(a, 5));
  CHECK_OK(fer_model_set_seed(b, 5));
  const size_t P = tu_trainable(a);
  float *x = tu_alloc((size_t)N * 2 * 8 * 8), *pa = tu_alloc(P), *pb = tu_alloc(P);
  int32_t labels[N];
  for (int step = 0; step < STEPS; step++) {
    batch(step, x, labels);
    float la, lb, aa, ab;
    CHECK_OK(fer_model_train_step(a, oa, x, labels, N, &la, &aa));
    CHECK_OK(fer_model_compute_gradients(b, x, labels, N, &lb, &ab, NULL));
    CHECK_OK(fer_model_apply_gradients(b, ob));
    CHECK(memcmp(&la, &lb, sizeof la) == 0 && aa == ab);
  }
  CHECK_OK(fer_model_get_parameters(a, pa, P, NULL));
  CHECK_OK(fer_model_get_parameters(b, pb, P, NULL));
  CHECK(memcmp(pa, pb, P * sizeof *pa) == 0);
  size_t S = 0;
  CHECK_STATUS(fer_model_get_statistics(a, NULL, 0, &S), FER_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_INT(S, 8);
  float sa[8], sb[8];
  CHECK_OK(fer_model_get_statistics(a, sa, 8, NULL));
  CHECK_OK(fer_model_get_statistics(b, sb, 8, NULL));
  CHECK(memcmp(sa, sb, sizeof sa) == 0);
  CHECK_EQ_INT(fer_optimizer_steps(ob), STEPS);
  free(x);
  free(pa);
  free(pb);
  fer_optimizer_free(oa);
  fer_optimizer_free(ob);
  fer_model_free(a);
  fer_model_free(b);
}

/* The flat layouts, against the per-layer tensors. */
static void test_layouts(void) {
  fer_model *m = tu_model(bn_arch, 4);
  if (!m) return;
  CHECK_EQ_INT(fer_flat_layout_version(), FER_FLAT_LAYOUT_VERSION);
  CHECK_EQ_INT(FER_FLAT_LAYOUT_VERSION, 1);
  long t = 0, nt = 0;
  fer_model_num_params(m, &t, &nt);
  /* Move the statistics away from their initial 0 and 1. */
  float *x = tu_alloc((size_t)N * 2 * 8 * 8);
  int32_t labels[N];
  batch(0, x, labels);
  CHECK_OK(fer_model_compute_gradients(m, x, labels, N, NULL, NULL, NULL));
  size_t needed = 0;
  float tiny[1];
  CHECK_STATUS(fer_model_get_parameters(m, tiny, 1, &needed), FER_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_INT(needed, t);
  CHECK_STATUS(fer_model_get_statistics(m, tiny, 1, &needed), FER_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_INT(needed, nt);
  float *params = tu_alloc((size_t)t), *stats = tu_alloc((size_t)nt),
        *expect_p = tu_alloc((size_t)t), *expect_s = tu_alloc((size_t)nt);
  CHECK_OK(fer_model_get_parameters(m, params, (size_t)t, NULL));
  CHECK_OK(fer_model_get_statistics(m, stats, (size_t)nt, NULL));
  size_t at_p = 0, at_s = 0;
  for (int i = 0; i < fer_model_num_layers(m); i++) {
    const fer_tensor order[4] = {FER_TENSOR_WEIGHT, FER_TENSOR_BIAS,
                                 FER_TENSOR_RUNNING_MEAN, FER_TENSOR_RUNNING_VAR};
    for (int k = 0; k < 4; k++) {
      size_t size = 0;
      if (fer_model_get_tensor(m, i, order[k], NULL, 0, &size) == FER_ERR_NOT_FOUND) continue;
      float *dst = k < 2 ? expect_p + at_p : expect_s + at_s;
      CHECK_OK(fer_model_get_tensor(m, i, order[k], dst, size, NULL));
      if (k < 2) at_p += size;
      else at_s += size;
    }
  }
  CHECK_EQ_INT(at_p, t);
  CHECK_EQ_INT(at_s, nt);
  CHECK(memcmp(params, expect_p, (size_t)t * sizeof(float)) == 0);
  CHECK(memcmp(stats, expect_s, (size_t)nt * sizeof(float)) == 0);
  int moved = 0;
  for (long i = 0; i < nt; i++) moved += stats[i] != (i < nt / 2 ? 0.0f : 1.0f);
  CHECK(moved > 0);
  /* Round trips through set. */
  for (long i = 0; i < t; i++) params[i] = (float)i * 0.001f;
  for (long i = 0; i < nt; i++) stats[i] = 0.5f + (float)i;
  CHECK_OK(fer_model_set_parameters(m, params, (size_t)t));
  CHECK_OK(fer_model_set_statistics(m, stats, (size_t)nt));
  CHECK_OK(fer_model_get_tensor(m, 0, FER_TENSOR_WEIGHT, expect_p, (size_t)t, NULL));
  CHECK(expect_p[5] == params[5]);
  CHECK_OK(fer_model_get_tensor(m, 1, FER_TENSOR_RUNNING_VAR, expect_s, (size_t)nt, NULL));
  CHECK(expect_s[0] == stats[4]);
  /* A negative variance is refused and changes nothing. */
  stats[0] = 9.0f;
  stats[5] = -1.0f;
  CHECK_STATUS(fer_model_set_statistics(m, stats, (size_t)nt), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("variance");
  CHECK_OK(fer_model_get_tensor(m, 1, FER_TENSOR_RUNNING_MEAN, expect_s, (size_t)nt, NULL));
  CHECK(expect_s[0] == 0.5f);
  free(x);
  free(params);
  free(stats);
  free(expect_p);
  free(expect_s);
  fer_model_free(m);
}

/* A set gradient is what apply steps with: plain SGD is p - lr g, which
 * float arithmetic gives exactly here. */
static void test_set_then_apply(void) {
  fer_model *m = tu_model(plain_arch, 6);
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &opt));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, 0.5));
  const size_t P = tu_trainable(m);
  float *p0 = tu_alloc(P), *g = tu_alloc(P), *p1 = tu_alloc(P);
  CHECK_OK(fer_model_get_parameters(m, p0, P, NULL));
  tu_fill(g, P, 11, -1.0f, 1.0f);
  /* No gradient before a backward pass or a set. */
  CHECK_STATUS(fer_model_get_gradients(m, g, P, NULL), FER_ERR_MISUSE);
  CHECK_STATUS(fer_model_apply_gradients(m, opt), FER_ERR_MISUSE);
  CHECK_MESSAGE_CONTAINS("no gradient");
  CHECK_STATUS(fer_model_set_gradients(m, g, P - 1), FER_ERR_SHAPE);
  CHECK_OK(fer_model_set_gradients(m, g, P));
  CHECK_OK(fer_model_get_gradients(m, p1, P, NULL));
  CHECK(memcmp(p1, g, P * sizeof *g) == 0);
  CHECK_OK(fer_model_apply_gradients(m, opt));
  CHECK_OK(fer_model_get_parameters(m, p1, P, NULL));
  int exact = 1;
  for (size_t i = 0; i < P; i++) exact &= p1[i] == p0[i] - 0.5f * g[i];
  CHECK(exact);
  /* Used up: a second apply is misuse, as is reading it. */
  CHECK_STATUS(fer_model_apply_gradients(m, opt), FER_ERR_MISUSE);
  CHECK_STATUS(fer_model_get_gradients(m, g, P, NULL), FER_ERR_MISUSE);
  g[3] = NAN;
  CHECK_STATUS(fer_model_set_gradients(m, g, P), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_set_parameters(m, g, P), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_set_parameters(m, NULL, P), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_get_parameters(NULL, g, P, NULL), FER_ERR_MISUSE);
  CHECK_STATUS(fer_model_apply_gradients(m, NULL), FER_ERR_MISUSE);
  /* A net without batch norm has no statistics: count 0 works. */
  size_t S = 7;
  CHECK_OK(fer_model_get_statistics(m, NULL, 0, &S));
  CHECK_EQ_INT(S, 0);
  CHECK_OK(fer_model_set_statistics(m, NULL, 0));
  /* An optimizer bound to another model shape. */
  fer_model *other = tu_model(bn_arch, 1);
  float *x = tu_alloc((size_t)N * 2 * 8 * 8);
  int32_t labels[N];
  batch(1, x, labels);
  CHECK_OK(fer_model_compute_gradients(other, x, labels, N, NULL, NULL, NULL));
  CHECK_STATUS(fer_model_apply_gradients(other, opt), FER_ERR_MISUSE);
  CHECK_MESSAGE_CONTAINS("optimizer holds state");
  CHECK_STATUS(fer_model_compute_gradients(other, x, labels, 0, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  free(x);
  free(p0);
  free(g);
  free(p1);
  fer_optimizer_free(opt);
  fer_model_free(other);
  fer_model_free(m);
}

int main(void) {
  fer_set_num_threads(1);
  RUN(test_split_batch_equals_full_batch);
  RUN(test_batch_norm_halves_differ);
  RUN(test_two_halves_are_train_step);
  RUN(test_layouts);
  RUN(test_set_then_apply);
  return harness_finish();
}
