/*
 * fer_model_ensemble: the ensemble's output must be the softmax of the mean
 * of the members' log-probabilities (equal to the mean of their logits up
 * to a constant per image), computed here in double from each member's own
 * prediction; it must survive a save and load; members are left as they
 * were; an ensemble of one model twice predicts what the model predicts;
 * members that cannot be averaged are refused with a status that names
 * them.
 */
#include <string.h>

#include "nn_test_util.h"

#define SIDE 12
#define CLASSES 5
#define N 6

/* A chain with batch norm, a chain without biases, and a residual graph
 * with names of its own (which the ensemble must prefix). */
static const char *const member_text[] = {
    "input 1x12x12\nconv 4 3x3 same\nbn\nrelu\nmax 2x2/2\nflatten\ndense 5\nsoftmax\n",
    "input 1x12x12\nconv 3 3x3 valid nobias\nrelu\ngap\ndense 5 nobias\nsoftmax\n",
    ("input 1x12x12\nb0 = conv 4 3x3 same\nrelu\nconv 4 3x3 same\nadd b0\nb1 = relu\n"
     "avg 2x2/2 from=b1\nflatten\ndense 5\nsoftmax\n"),
};

static fer_model *member(int which, uint64_t seed) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(member_text[which], &m));
  if (!m) return NULL;
  CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_UNIFORM, seed));
  /* Batch-norm statistics away from 0 and 1, so a layer copied without
   * them would show. */
  for (int i = 0; i < fer_model_num_layers(m); i++) {
    if (fer_model_layer_kind(m, i) != FER_LAYER_BATCH_NORM) continue;
    int c, h, w;
    fer_model_layer_shape(m, i, &c, &h, &w);
    float *v = tu_alloc((size_t)c);
    tu_fill(v, (size_t)c, seed + 1, -0.5f, 0.5f);
    CHECK_OK(fer_model_set_tensor(m, i, FER_TENSOR_RUNNING_MEAN, v, (size_t)c));
    tu_fill(v, (size_t)c, seed + 2, 0.5f, 2.0f);
    CHECK_OK(fer_model_set_tensor(m, i, FER_TENSOR_RUNNING_VAR, v, (size_t)c));
    free(v);
  }
  const char *names[CLASSES] = {"a", "b", "c", "d", "e"};
  CHECK_OK(fer_model_set_class_names(m, names, CLASSES));
  return m;
}

/* softmax over classes of mean_k log p_k, per image, in double. */
static void reference(float *const *probs, int count, double *want) {
  for (int i = 0; i < N; i++) {
    double z[CLASSES], top = -INFINITY, sum = 0.0;
    for (int c = 0; c < CLASSES; c++) {
      z[c] = 0.0;
      for (int k = 0; k < count; k++) z[c] += log((double)probs[k][i * CLASSES + c]);
      z[c] /= count;
      if (z[c] > top) top = z[c];
    }
    for (int c = 0; c < CLASSES; c++) sum += exp(z[c] - top);
    for (int c = 0; c < CLASSES; c++) want[i * CLASSES + c] = exp(z[c] - top) / sum;
  }
}

static void test_mean_of_members(void) {
  fer_model *m[3];
  float *probs[3];
  float *x = tu_alloc((size_t)N * SIDE * SIDE), *y = tu_alloc(N * CLASSES);
  tu_fill(x, (size_t)N * SIDE * SIDE, 5, -1.5f, 1.5f);
  for (int k = 0; k < 3; k++) {
    m[k] = member(k, 100 + 10 * (uint64_t)k);
    probs[k] = tu_alloc(N * CLASSES);
    CHECK_OK(fer_model_predict(m[k], x, N, probs[k]));
  }
  double want[N * CLASSES];
  reference(probs, 3, want);

  fer_model *e = NULL;
  CHECK_OK(fer_model_ensemble((const fer_model *const *)m, 3, &e));
  if (!e) return;
  CHECK_OK(fer_model_predict(e, x, N, y));
  double err = tu_max_abs_diff(y, want, N * CLASSES);
  CHECK_MSG(err <= 2e-6, "ensemble of 3 against the mean of log-probabilities: error %g", err);
  CHECK_EQ_INT(fer_model_output_size(e), CLASSES);
  CHECK(!strcmp(fer_model_class_name(e, 3), "d"));
  const char *count = fer_model_get_metadata(e, "ensemble_members");
  CHECK(count && !strcmp(count, "3"));
  double flops = fer_model_flops(m[0]) + fer_model_flops(m[1]) + fer_model_flops(m[2]);
  CHECK_MSG(fer_model_flops(e) >= flops, "ensemble %g FLOPs, members %g",
            fer_model_flops(e), flops);

  /* The members are only read. */
  float *again = tu_alloc(N * CLASSES);
  for (int k = 0; k < 3; k++) {
    CHECK_OK(fer_model_predict(m[k], x, N, again));
    CHECK(!memcmp(again, probs[k], sizeof(float) * N * CLASSES));
  }

  /* A saved and reloaded ensemble predicts the same, bit for bit. */
  void *bytes = NULL;
  size_t size = 0;
  fer_model *back = NULL;
  CHECK_OK(fer_model_save_memory(e, 0, &bytes, &size));
  CHECK_OK(fer_model_load_memory(bytes, size, &back));
  if (back) {
    CHECK_OK(fer_model_predict(back, x, N, again));
    CHECK(!memcmp(again, y, sizeof(float) * N * CLASSES));
  }
  fer_free(bytes);
  fer_model_free(back);
  fer_model_free(e);
  free(again);
  for (int k = 0; k < 3; k++) {
    fer_model_free(m[k]);
    free(probs[k]);
  }
  free(x);
  free(y);
}

static void test_twice_the_same_model(void) {
  fer_model *a = member(2, 7);
  const fer_model *pair[2] = {a, a};
  fer_model *e = NULL;
  CHECK_OK(fer_model_ensemble(pair, 2, &e));
  float *x = tu_alloc((size_t)N * SIDE * SIDE), *ya = tu_alloc(N * CLASSES),
        *ye = tu_alloc(N * CLASSES);
  tu_fill(x, (size_t)N * SIDE * SIDE, 9, -1.0f, 1.0f);
  CHECK_OK(fer_model_predict(a, x, N, ya));
  if (e) CHECK_OK(fer_model_predict(e, x, N, ye));
  double want[N * CLASSES];
  for (int i = 0; i < N * CLASSES; i++) want[i] = ya[i];
  double err = tu_max_abs_diff(ye, want, N * CLASSES);
  CHECK_MSG(err <= 1e-6, "a model with itself: error %g", err);
  fer_model_free(e);
  fer_model_free(a);
  free(x);
  free(ya);
  free(ye);
}

/* Status and message of an ensemble of a and b (which must fail). */
static void check_refused(const char *what, fer_model *a, fer_model *b,
                          fer_status want, const char *says) {
  const fer_model *pair[2] = {a, b};
  fer_model *e = (fer_model *)pair; /* must come back NULL */
  fer_status st = fer_model_ensemble(pair, 2, &e);
  CHECK_MSG(st == want, "%s: %s, expected %s", what, fer_status_string(st),
            fer_status_string(want));
  CHECK_MSG(e == NULL, "%s: *out not cleared", what);
  CHECK_MSG(strstr(fer_last_error(), says) != NULL, "%s: message '%s' lacks '%s'", what,
            fer_last_error(), says);
}

static void test_refusals(void) {
  fer_model *a = member(0, 1), *b = member(1, 2);
  fer_model *e = NULL;
  const fer_model *one[1] = {a};
  CHECK_STATUS(fer_model_ensemble(one, 1, &e), FER_ERR_INVALID_ARGUMENT);
  const fer_model *nine[9] = {a, b, a, b, a, b, a, b, a};
  CHECK_STATUS(fer_model_ensemble(nine, 9, &e), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_ensemble(NULL, 2, &e), FER_ERR_INVALID_ARGUMENT);
  const fer_model *with_null[2] = {a, NULL};
  CHECK_STATUS(fer_model_ensemble(with_null, 2, &e), FER_ERR_INVALID_ARGUMENT);
  CHECK(strstr(fer_last_error(), "member 1") != NULL);
  const fer_model *pair[2] = {a, b};
  CHECK_STATUS(fer_model_ensemble(pair, 2, NULL), FER_ERR_INVALID_ARGUMENT);

  fer_model *no_softmax = NULL, *no_dense = NULL, *wide = NULL, *six = NULL;
  CHECK_OK(fer_model_from_text("input 1x12x12\nflatten\ndense 5\n", &no_softmax));
  check_refused("no softmax", a, no_softmax, FER_ERR_UNSUPPORTED, "member 1");
  CHECK_OK(fer_model_from_text("input 1x12x12\nconv 5 3x3\ngap\nsoftmax\n", &no_dense));
  check_refused("softmax after gap", no_dense, a, FER_ERR_UNSUPPORTED, "member 0");
  CHECK_OK(fer_model_from_text("input 1x12x13\nflatten\ndense 5\nsoftmax\n", &wide));
  check_refused("input shape", a, wide, FER_ERR_SHAPE, "12x13");
  CHECK_OK(fer_model_from_text("input 1x12x12\nflatten\ndense 6\nsoftmax\n", &six));
  check_refused("outputs", a, six, FER_ERR_SHAPE, "6 outputs");

  /* Models without class names (5 outputs: no FER2013 default) go
   * together, but not with a named one. */
  fer_model *bare = NULL, *bare2 = NULL;
  CHECK_OK(fer_model_from_text("input 1x12x12\nflatten\ndense 5\nsoftmax\n", &bare));
  CHECK_OK(fer_model_from_text("input 1x12x12\nflatten\ndense 5\nsoftmax\n", &bare2));
  const fer_model *bare_pair[2] = {bare, bare2};
  CHECK_OK(fer_model_ensemble(bare_pair, 2, &e));
  fer_model_free(e);
  e = NULL;
  check_refused("named and unnamed", a, bare, FER_ERR_INVALID_ARGUMENT, "(unnamed)");
  fer_model_free(bare);
  fer_model_free(bare2);

  const char *other[CLASSES] = {"a", "b", "c", "x", "e"};
  CHECK_OK(fer_model_set_class_names(b, other, CLASSES));
  check_refused("class names", a, b, FER_ERR_INVALID_ARGUMENT, "'x'");
  const char *same[CLASSES] = {"a", "b", "c", "d", "e"};
  CHECK_OK(fer_model_set_class_names(b, same, CLASSES));
  CHECK_OK(fer_model_set_image_normalization(b, FER_NORM_STANDARDIZE, 0.0f));
  check_refused("normalisation", a, b, FER_ERR_INVALID_ARGUMENT, "normalises");
  CHECK_OK(fer_model_set_image_normalization(a, FER_NORM_STANDARDIZE, 0.0f));
  CHECK_OK(fer_model_ensemble(pair, 2, &e));
  unsigned flags = 0;
  float limit = -1.0f;
  if (e) fer_model_get_image_normalization(e, &flags, &limit);
  CHECK(flags == FER_NORM_STANDARDIZE && limit == 0.0f);
  fer_model_free(e);
  fer_model_free(no_softmax);
  fer_model_free(no_dense);
  fer_model_free(wide);
  fer_model_free(six);
  fer_model_free(a);
  fer_model_free(b);
}

int main(void) {
  RUN(test_mean_of_members);
  RUN(test_twice_the_same_model);
  RUN(test_refusals);
  return harness_finish();
}
