/* Graph models (named layers, from=, add, concat, mul): the architecture
 * text and its errors, the gradient of the whole graph through the public
 * training API against central finite differences of the loss, file round
 * trips (format version 3; a graph in an older version is refused),
 * predictors, and training that lowers the loss. */
#include "nn/nn_test_util.h"
#include "nn/nn_internal.h"
#include "util/endian.h"

/* Every graph feature: a tensor read by three layers, a residual add of
 * three inputs, a squeeze-and-excitation gate (mul with C x 1 x 1), an
 * element-wise mul, a depthwise convolution, concat, from=input, and a
 * dead branch (its weights get zero gradients). Smooth activations only,
 * so finite differences never cross a kink. */
static const char *graph_net =
    "input 2x6x6\n"
    "stem = conv 4 3x3 same\n"
    "bn\n"
    "a = tanh\n"
    "conv 4 3x3 same groups=4\n"
    "b = elu\n"
    "dead = conv 2 1x1 from=a\n"
    "conv 4 1x1 from=a\n"
    "c = sigmoid\n"
    "add a b\n"
    "s = tanh\n"
    "gap\n"
    "conv 2 1x1\n"
    "tanh\n"
    "conv 4 1x1\n"
    "g = sigmoid\n"
    "gated = mul s\n"
    "mul c\n"
    "p = conv 3 1x1 from=input\n"
    "concat p from=gated\n"
    "avg 2x2/2\n"
    "dense 5\n"
    "softmax\n";

static void test_text(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(graph_net, &m));
  if (!m) return;
  CHECK(!fer__model_is_chain(m));
  char *text = NULL;
  CHECK_OK(fer_model_to_text(m, &text));
  fer_model *again = NULL;
  CHECK_OK(fer_model_from_text(text, &again));
  char *text2 = NULL;
  if (again) CHECK_OK(fer_model_to_text(again, &text2));
  CHECK(text && text2 && strcmp(text, text2) == 0);
  CHECK(text && strstr(text, "\nadd a b\n") != NULL);
  CHECK(text && strstr(text, "\nconv 4 1x1 valid from=a\n") != NULL);
  CHECK(text && strstr(text, "\np = conv 3 1x1 valid from=input\n") != NULL);
  CHECK(text && strstr(text, "\nconcat from=gated p\n") != NULL);
  /* Shapes: concat of 4 + 3 channels, mul keeps the map. */
  int c, h, w;
  CHECK_OK(fer_model_layer_shape(m, 18, &c, &h, &w));
  CHECK(c == 7 && h == 6 && w == 6);
  CHECK_OK(fer_model_layer_shape(m, 16, &c, &h, &w));
  CHECK(c == 4 && h == 6 && w == 6);
  fer_free(text);
  fer_free(text2);
  fer_model_free(again);
  fer_model_free(m);

  static const struct {
    const char *text, *message;
  } bad[] = {
      /* text errors: FER_ERR_FORMAT; shape errors: FER_ERR_SHAPE (below) */
      {"input 1x4x4\nconv 2 3x3 same\nadd nope\n", "arch:3:5: no earlier layer is named 'nope'"},
      {"input 1x4x4\na = relu\na = relu\n", "arch:3:1: the name 'a' is taken"},
      {"input 1x4x4\ninput = relu\n", "is not a layer name"},
      {"input 1x4x4\n9x = relu\n", "is not a layer name"},
      {"input 1x4x4\na =\n", "expected a layer after '='"},
      {"input 1x4x4\nrelu\nadd\n", "'add' needs the names of 1 more inputs"},
      {"input 1x4x4\na = conv 2 3x3 same\nconv 3 3x3 same\nadd a\n", "arch:4:1: add: input 1 is 2x4x4"},
      {"input 1x4x4\na = conv 2 3x3\nconv 3 1x1 from=input\nconcat a\n", "concat: input 1 is 2x2"},
      {"input 1x4x4\na = conv 2 1x1\nconv 3 1x1\nmul a\n", "mul: inputs"},
      {"input 1x4x4\nrelu from=x\n", "arch:2:6: no earlier layer is named 'x'"},
      {"input 1x4x4\nrelu from=input from=input\n", "from= given twice"},
      {"input 1x4x4\na = relu\nmul a a a\n", "takes at most 2 inputs"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    fer_model *b = NULL;
    int shape = strstr(bad[i].message, ": input") != NULL ||
                strstr(bad[i].message, "mul: inputs") != NULL;
    CHECK_STATUS(fer_model_from_text(bad[i].text, &b), shape ? FER_ERR_SHAPE : FER_ERR_FORMAT);
    CHECK_MESSAGE_CONTAINS(bad[i].message);
    CHECK(b == NULL);
  }
}

static void fill(float *x, size_t n, uint64_t seed) { tu_fill(x, n, seed, -1, 1); }

static void test_gradient(void) {
  const int N = 4;
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(graph_net, &m));
  if (!m) return;
  CHECK_OK(fer_model_init_weights(m, FER_INIT_GLOROT_UNIFORM, 5));
  CHECK_OK(fer_model_set_training(m, 1));
  float x[4 * 72];
  fill(x, sizeof x / sizeof x[0], 2);
  const int32_t labels[4] = {0, 4, 2, 1};
  size_t np = 0;
  fer_model_get_parameters(m, NULL, 0, &np);
  float *p = tu_alloc(np), *g = tu_alloc(np);
  CHECK_OK(fer_model_get_parameters(m, p, np, NULL));
  CHECK_OK(fer_model_compute_gradients(m, x, labels, N, NULL, NULL, NULL));
  CHECK_OK(fer_model_get_gradients(m, g, np, NULL));
  double worst = 0.0, scale = 0.0;
  const double h = 1e-2;
  for (size_t j = 0; j < np; j++) {
    float keep = p[j], up, down;
    p[j] = keep + (float)h;
    fer_model_set_parameters(m, p, np);
    CHECK_OK(fer_model_evaluate(m, x, labels, N, &up, NULL));
    p[j] = keep - (float)h;
    fer_model_set_parameters(m, p, np);
    CHECK_OK(fer_model_evaluate(m, x, labels, N, &down, NULL));
    p[j] = keep;
    double numeric = ((double)up - down) / (2 * h), e = fabs(numeric - g[j]);
    if (!(e <= worst)) worst = e;
    if (fabs(g[j]) > scale) scale = fabs(g[j]);
  }
  fer_model_set_parameters(m, p, np);
  /* As test_gradients' training-step check: a float loss over 4 images. */
  CHECK_MSG(worst <= 1e-3, "graph gradient error %g (largest gradient %g)", worst, scale);
  CHECK(scale > 1e-2);
  /* The dead branch (layer 5) gets exactly zero. */
  const fer__layer *dead = &m->layers[5];
  CHECK(dead->kind == FER_LAYER_CONV && strcmp(dead->name, "dead") == 0);
  for (size_t j = 0; j < dead->tensor_size[0] + dead->tensor_size[1]; j++)
    CHECK(g[dead->param_offset + j] == 0.0f);
  if (getenv("FER_VERBOSE")) fprintf(stderr, "  graph gradient error %.2e\n", worst);
  free(p);
  free(g);
  fer_model_free(m);
}

static void test_files_and_predictors(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(graph_net, &m));
  if (!m) return;
  CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 8));
  void *data = NULL;
  size_t size = 0;
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_DEFAULT, &data, &size));
  if (!data) return;
  CHECK_EQ_INT((int)fer__get_u32le((const uint8_t *)data + 8), 3);
  fer_model *back = NULL;
  CHECK_OK(fer_model_load_memory(data, size, &back));
  float x[3 * 72], ya[15], yb[15], yc[15];
  fill(x, sizeof x / sizeof x[0], 4);
  CHECK_OK(fer_model_predict(m, x, 3, ya));
  if (back) {
    CHECK_OK(fer_model_predict(back, x, 3, yb));
    CHECK(memcmp(ya, yb, sizeof ya) == 0);
    fer_predictor *pr = NULL;
    CHECK_OK(fer_predictor_create(back, &pr));
    if (pr) CHECK_OK(fer_predictor_run(pr, x, 3, yc));
    CHECK(memcmp(ya, yc, sizeof ya) == 0);
    fer_predictor_free(pr);
  }
  fer_model_free(back);
  /* The same bytes as version 2: refused, the graph needs version 3. */
  fer__put_u32le((uint8_t *)data + 8, 2);
  back = NULL;
  CHECK_STATUS(fer_model_load_memory(data, size, &back), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("needs format version 3");
  fer_free(data);
  fer_model_free(m);
  /* A chain model is still written as version 1. */
  CHECK_OK(fer_model_from_text("input 1x4x4\nconv 2 3x3\nrelu\n", &m));
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_DEFAULT, &data, &size));
  if (data) CHECK_EQ_INT((int)fer__get_u32le((const uint8_t *)data + 8), 1);
  fer_free(data);
  fer_model_free(m);
}

static void test_training(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(graph_net, &m));
  if (!m) return;
  CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 1));
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAM, &opt));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, 1e-2));
  float x[8 * 72];
  int32_t y[8];
  fill(x, sizeof x / sizeof x[0], 6);
  for (int i = 0; i < 8; i++) y[i] = i % 5;
  float first = 0, loss = 0;
  CHECK_OK(fer_model_set_training(m, 1));
  for (int step = 0; step < 60; step++) {
    CHECK_OK(fer_model_train_step(m, opt, x, y, 8, &loss, NULL));
    if (step == 0) first = loss;
  }
  CHECK_MSG(loss < 0.5f * first, "loss %g -> %g", first, loss);
  fer_optimizer_free(opt);
  fer_model_free(m);
}

int main(void) {
  RUN(test_text);
  RUN(test_gradient);
  RUN(test_files_and_predictors);
  RUN(test_training);
  return harness_finish();
}
