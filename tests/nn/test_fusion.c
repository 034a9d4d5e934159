/* Inference fusion (fer__forward): a convolution followed by batch norm
 * (running statistics) and/or ReLU runs as one layer whose output pass
 * applies them. The reference is the evaluation-mode forward layer by layer
 * through each layer's own ops, as fer__forward ran before fusion, on
 * random nets with non-trivial batch-norm statistics (every convolution
 * path: Winograd, im2col, 1x1 direct, depthwise, strided; graphs where a
 * second reader forbids the fusion) and on the shipped default model. */
#include <stdio.h>
#include <string.h>

#include "nn/nn_internal.h"
#include "nn_test_util.h"

/* Evaluation-mode forward, one layer's ops at a time, into ws->act. */
static const float *forward_unfused(const fer_model *m, fer__workspace *ws,
                                    const float *x, int n, int training) {
  fer__pass pass = {.n = n, .training = training, .threads = ws->threads,
                    .scratch = ws->scratch, .scratch_floats = ws->scratch_floats};
  const float *in = x;
  for (int i = 0; i < m->num_layers; i++) {
    const fer__layer *l = &m->layers[i];
    const fer__layer_ops *ops = fer__layer_ops_of(l->kind);
    if (ops->forward_n) {
      const float *xs[FER__MAX_INPUTS];
      for (int j = 0; j < l->num_src; j++) xs[j] = fer__src_act(ws->act, x, l->src[j]);
      ops->forward_n(l, &pass, xs, ws->act[i]);
    } else {
      ops->forward(l, &pass, fer__src_act(ws->act, x, l->src[0]), ws->act[i],
                   ws->saved[i]);
    }
    in = ws->act[i];
  }
  return in;
}

/* Gives every batch norm statistics and an affine map far from the
 * identity, so that a wrong fold shows. */
static void randomize_bn(fer_model *m, uint64_t seed) {
  for (int i = 0; i < m->num_layers; i++) {
    const fer__layer *l = &m->layers[i];
    if (l->kind != FER_LAYER_BATCH_NORM) continue;
    const int C = l->in.c;
    float *v = tu_alloc((size_t)C);
    const struct { fer_tensor which; float lo, hi; } parts[] = {
        {FER_TENSOR_WEIGHT, 0.5f, 1.5f}, {FER_TENSOR_BIAS, -0.5f, 0.5f},
        {FER_TENSOR_RUNNING_MEAN, -0.3f, 0.3f}, {FER_TENSOR_RUNNING_VAR, 0.2f, 2.0f}};
    for (size_t k = 0; k < sizeof parts / sizeof parts[0]; k++) {
      tu_fill(v, (size_t)C, seed + 17 * (uint64_t)i + k, parts[k].lo, parts[k].hi);
      CHECK_OK(fer_model_set_tensor(m, i, parts[k].which, v, (size_t)C));
    }
    free(v);
  }
}

/* Which layers' outputs fer__forward writes ('1') and which it leaves
 * (a fused intermediate, '0'), one character per layer. */
static void check_written(const fer_model *m, const char *want,
                          const char *name) {
  fer__workspace *ws = NULL;
  CHECK_OK(fer__workspace_prepare(m, &ws, 1, 0));
  if (!ws) return;
  float *x = tu_alloc((size_t)fer__shape_size(m->input));
  for (int i = 0; i < m->num_layers; i++) ws->act[i][0] = NAN;
  fer__forward(m, ws, x, 1, 0, NULL);
  char got[64] = "";
  for (int i = 0; i < m->num_layers && i < 63; i++)
    got[i] = isnan(ws->act[i][0]) ? '0' : '1';
  CHECK_MSG(strcmp(got, want) == 0, "%s: written %s, want %s", name, got, want);
  fer__workspace_free(ws);
  free(x);
}

/* Max |fused - unfused| over the outputs of n images, against `tol` times
 * the largest output (1 for probabilities). */
static void compare(const fer_model *m, int n, double tol, const char *name) {
  const size_t in_size = (size_t)fer__shape_size(m->input);
  const size_t out_size = (size_t)fer_model_output_size(m);
  float *x = tu_alloc(n * in_size), *fused = tu_alloc(n * out_size);
  float *via_predictor = tu_alloc(n * out_size);
  tu_fill(x, n * in_size, 99 + (uint64_t)n, -1.0f, 1.0f);
  fer__workspace *ws = NULL;
  CHECK_OK(fer__workspace_prepare(m, &ws, n, 0));
  if (!ws) goto done;
  const float *want = forward_unfused(m, ws, x, n, 0);
  double scale = 0.0;
  for (size_t i = 0; i < n * out_size; i++)
    if (fabs(want[i]) > scale) scale = fabs(want[i]);
  if (scale < 1.0) scale = 1.0;
  CHECK_OK(fer_model_predict(m, x, n, fused));
  fer_predictor *p = NULL;
  CHECK_OK(fer_predictor_create(m, &p));
  /* Twice: the second call reads the Winograd filters the first kept. */
  CHECK_OK(fer_predictor_run(p, x, n, via_predictor));
  CHECK_OK(fer_predictor_run(p, x, n, via_predictor));
  fer_predictor_free(p);
  double worst = 0.0, worst_p = 0.0;
  for (size_t i = 0; i < n * out_size; i++) {
    double d = fabs((double)fused[i] - want[i]);
    double dp = fabs((double)via_predictor[i] - want[i]);
    if (!(d <= worst)) worst = d;
    if (!(dp <= worst_p)) worst_p = dp;
  }
  CHECK_MSG(worst <= tol * scale && worst_p <= tol * scale,
            "%s, batch %d: fused outputs differ by %g (predictor %g), "
            "allowed %g", name, n, worst, worst_p, tol * scale);
  fprintf(stderr, "  %s, batch %d: max diff %g\n", name, n, worst);
done:
  fer__workspace_free(ws);
  free(x);
  free(fused);
  free(via_predictor);
}

/* Training mode: a ReLU after a conv or a batch norm runs in its output
 * pass; outputs as the unfused layers within float rounding (the batch
 * statistics are summed in another order). */
static void compare_training(const fer_model *m, int n, const char *name) {
  const size_t in_size = (size_t)fer__shape_size(m->input);
  const size_t out_size = (size_t)fer_model_output_size(m);
  float *x = tu_alloc(n * in_size), *want = tu_alloc(n * out_size);
  tu_fill(x, n * in_size, 5 + (uint64_t)n, -1.0f, 1.0f);
  fer__workspace *ws = NULL;
  CHECK_OK(fer__workspace_prepare(m, &ws, n, 1));
  if (!ws) goto done;
  memcpy(want, forward_unfused(m, ws, x, n, 1), n * out_size * sizeof(float));
  /* fer__forward in training folds the batch statistics into the running
   * ones: run it on a copy. */
  void *data = NULL;
  size_t size = 0;
  fer_model *copy = NULL;
  CHECK_OK(fer_model_save_memory(m, 0, &data, &size));
  CHECK_OK(fer_model_load_memory(data, size, &copy));
  fer_free(data);
  if (!copy) goto done;
  fer__workspace *ws2 = NULL;
  CHECK_OK(fer__workspace_prepare(copy, &ws2, n, 1));
  const float *got = fer__forward(copy, ws2, x, n, 1, NULL);
  double worst = 0.0, scale = 1.0;
  for (size_t i = 0; i < n * out_size; i++) {
    double d = fabs((double)got[i] - want[i]);
    if (!(d <= worst)) worst = d;
    if (fabs(want[i]) > scale) scale = fabs(want[i]);
  }
  CHECK_MSG(worst <= 1e-5 * scale, "%s, training batch %d: differ by %g",
            name, n, worst);
  fprintf(stderr, "  %s, training batch %d: max diff %g\n", name, n, worst);
  fer__workspace_free(ws2);
  fer_model_free(copy);
done:
  fer__workspace_free(ws);
  free(x);
  free(want);
}

static void check_text(const char *text, const char *written,
                       const char *name, double tol) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(text, &m));
  if (!m) return;
  check_written(m, written, name);
  CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_NORMAL, 3));
  randomize_bn(m, 11);
  /* Batch 1 keeps the small maps on im2col, batch 6 moves them to
   * Winograd. */
  compare(m, 1, tol, name);
  compare(m, 6, tol, name);
  compare_training(m, 6, name);
  fer_model_free(m);
}

/* Every convolution path, with and without bias, bn and relu after it. */
static void test_chain(void) {
  check_text("input 3x12x12\n"
             "conv 8 3x3 same\nbn\nrelu\n"          /* bias, Winograd */
             "conv 8 3x3 same nobias\nbn\n"         /* bn alone */
             "conv 16 1x1\nrelu\n"                  /* direct, relu alone */
             "conv 16 3x3 same groups=16 nobias\nbn\nrelu\n" /* depthwise */
             "conv 8 3x3 stride=2 nobias\nbn\nrelu\n"        /* im2col */
             "conv 8 3x3 same\nbn\n"                /* bn as the last layer */
             "max 2x2/2\nflatten\ndense 5\n",
             "001" "01" "01" "001" "001" "01" "111",
             "chain (raw outputs)", 1e-5);
  check_text("input 1x16x16\n"
             "conv 8 3x3 same nobias\nbn\nrelu\nmax 2x2/2\n"
             "conv 16 3x3 same nobias\nbn\nrelu\n"
             "gap\ndense 7\nsoftmax\n",
             "0011" "001" "111",
             "chain (probabilities)", 1e-6);
}

/* A tensor with a second reader must stay written: no fusion through it. */
static void test_graph(void) {
  check_text("input 2x10x10\n"
             "a = conv 8 3x3 same\n"
             "b = bn\n"                 /* a read twice: bn stays apart */
             "c = relu\n"
             "d = conv 8 3x3 same from=a nobias\n"
             "e = bn\n"                 /* e read by f and by the add */
             "f = relu\n"
             "add c f e\n"
             "g = conv 8 3x3 same\n"
             "bn\n"
             "relu\n"
             "gap\ndense 4\nsoftmax\n",
             "101" "011" "1" "001" "111",
             "graph", 1e-6);
}

/* The shipped model, with its trained statistics: probabilities within
 * 1e-5 of the unfused forward. */
static void test_default_model(void) {
  const char *root = getenv("FER_SOURCE_ROOT");
  char path[4096];
  snprintf(path, sizeof path, "%s/models/default.ferm", root ? root : ".");
  fer_model *m = NULL;
  if (fer_model_load(path, &m) != FER_OK) {
    CHECK_MSG(0, "%s: %s", path, fer_last_error());
    return;
  }
  compare(m, 1, 1e-5, "models/default.ferm");
  compare(m, 4, 1e-5, "models/default.ferm");
  fer_model_free(m);
}

int main(void) {
  RUN(test_chain);
  RUN(test_graph);
  RUN(test_default_model);
  return harness_finish();
}
