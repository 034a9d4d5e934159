/* ONNX export and import inside libfer: every layer kind survives
 * model -> ONNX -> model with bit-identical eval outputs (dropout, which
 * the export leaves out, aside) and its preprocessing, class names and
 * metadata; hostile bytes (every truncation, byte flips) return a status;
 * allocation failures are clean. The checks against other ONNX readers and
 * writers (onnx.checker, OpenCV, PyTorch) are in test_onnx.py. */
#include <unistd.h>

#include "nn_test_util.h"
#include "nn/nn_internal.h"

static const char *nets[] = {
    /* every layer kind, "same" with stride 2 (asymmetric pads), groups */
    "input 1x12x12\nconv 4 3x3 same stride=2\nbn\nrelu\nmax 2x2/2\n"
    "conv 6 3x3 pad=1 nobias groups=2\nleaky 0.2\ndrop 0.3\navg 3x3/1 pad=1\n"
    "elu 0.5\nflatten\ndense 5\nbn momentum=0.3 eps=0.001\ntanh\ndense 7 nobias\n"
    "sigmoid\ndense 3\nsoftmax\n",
    /* gap head, dilation, even kernel with "same", max with padding */
    "input 3x10x9\nconv 5 4x4 same\nrelu\nconv 4 3x3 same dil=2\nmax 3x3/2 pad=1\n"
    "gap\ndrop 0.5\ndense 7\nsoftmax\n",
    /* softmax over channels of a map, no dense */
    "input 2x5x5\nconv 3 1x1\nsoftmax\n",
    /* a graph: residual add of three, SE gate, depthwise conv, concat,
     * from=input, a dead branch, dropout inside and at the end */
    "input 2x6x6\nstem = conv 4 3x3 same\nbn\na = relu\nconv 4 3x3 same groups=4\n"
    "b = elu\ndead = conv 2 1x1 from=a\nconv 4 1x1 from=a\nc = sigmoid\nadd a b\n"
    "s = relu\ngap\nconv 2 1x1\nrelu\nconv 4 1x1\ng = sigmoid\ngated = mul s\n"
    "drop 0.2\nmul c\np = conv 3 1x1 from=input\nconcat p from=gated\nmax 2x2/2\n"
    "dense 5\nsoftmax\ndrop 0.1\n",
    /* nothing but the input */
    "input 1x4x4\n",
    "input 1x4x4\ndrop 0.2\n",
};

static fer_model *make(const char *text, uint64_t seed) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(text, &m));
  if (!m) return NULL;
  CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_UNIFORM, seed));
  /* Non-trivial biases and batch-norm statistics. */
  for (int i = 0; i < fer_model_num_layers(m); i++) {
    fer__layer *l = &m->layers[i];
    for (int k = 1; k < FER__TENSORS; k++)
      if (l->tensor[k])
        tu_fill(l->tensor[k], l->tensor_size[k], seed * 31 + (uint64_t)(i * 4 + k),
                k == 3 ? 0.5f : -0.3f, k == 3 ? 1.5f : 0.3f);
  }
  return m;
}

static char *text_without_dropout(const fer_model *m) {
  char *text = NULL;
  CHECK_OK(fer_model_to_text(m, &text));
  if (!text) return NULL;
  char *out = text, *line = text;
  while (*line) {
    char *end = strchr(line, '\n');
    size_t n = end ? (size_t)(end - line + 1) : strlen(line);
    if (strncmp(line, "drop ", 5) != 0) {
      memmove(out, line, n);
      out += n;
    }
    line += n;
  }
  *out = '\0';
  return text;
}

static void check_same_outputs(fer_model *a, fer_model *b) {
  int c, h, w;
  fer_model_input_shape(a, &c, &h, &w);
  size_t in = (size_t)c * h * w, out = (size_t)fer_model_output_size(a);
  CHECK_EQ_INT(fer_model_output_size(b), (int)out);
  float *x = tu_alloc(3 * in), *ya = tu_alloc(3 * out), *yb = tu_alloc(3 * out);
  tu_fill(x, 3 * in, 5, -1, 1);
  CHECK_OK(fer_model_predict(a, x, 3, ya));
  CHECK_OK(fer_model_predict(b, x, 3, yb));
  CHECK(memcmp(ya, yb, 3 * out * sizeof(float)) == 0);
  free(x);
  free(ya);
  free(yb);
}

static void test_round_trip(void) {
  for (size_t i = 0; i < sizeof nets / sizeof nets[0]; i++) {
    fer_model *m = make(nets[i], 7 + i);
    if (!m) continue;
    void *data = NULL;
    size_t size = 0;
    CHECK_OK(fer_model_save_onnx_memory(m, &data, &size));
    fer_model *back = NULL;
    CHECK_OK(fer_model_load_onnx_memory(data, size, &back));
    if (back) {
      char *ta = text_without_dropout(m), *tb = text_without_dropout(back);
      CHECK_MSG(ta && tb && strcmp(ta, tb) == 0, "net %zu:\n%s---\n%s", i, ta, tb);
      fer_free(ta);
      fer_free(tb);
      check_same_outputs(m, back);
      /* Exporting the import gives the same bytes. */
      void *again = NULL;
      size_t again_size = 0;
      CHECK_OK(fer_model_save_onnx_memory(back, &again, &again_size));
      CHECK(again_size == size && again && memcmp(again, data, size) == 0);
      fer_free(again);
    }
    fer_model_free(back);
    fer_free(data);
    fer_model_free(m);
  }
}

static void test_model_details(void) {
  fer_model *m = make(nets[0], 3);
  if (!m) return;
  const char *names[3] = {"cat", "dog", "bird"};
  CHECK_OK(fer_model_set_class_names(m, names, 3));
  CHECK_OK(fer_model_set_preprocessing(m, 1.0f / 255, 0.5f, 0.25f));
  CHECK_OK(fer_model_set_image_normalization(m, FER_NORM_STANDARDIZE, 3.5f));
  CHECK_OK(fer_model_set_metadata(m, "dataset", "FER2013 train"));
  char path[256];
  snprintf(path, sizeof path, "onnx-details-%ld.onnx", (long)getpid());
  CHECK_OK(fer_model_save_onnx(m, path));
  fer_model *back = NULL;
  CHECK_OK(fer_model_load_onnx(path, &back));
  remove(path);
  if (back) {
    float s, mean, std, sharp;
    unsigned flags;
    fer_model_get_preprocessing(back, &s, &mean, &std);
    CHECK(s == 1.0f / 255 && mean == 0.5f && std == 0.25f);
    fer_model_get_image_normalization(back, &flags, &sharp);
    CHECK(flags == FER_NORM_STANDARDIZE && sharp == 3.5f);
    CHECK(strcmp(fer_model_class_name(back, 2), "bird") == 0);
    const char *v = fer_model_get_metadata(back, "dataset");
    CHECK(v && strcmp(v, "FER2013 train") == 0);
  }
  fer_model_free(back);
  /* Errors: missing file, bad arguments. */
  CHECK_STATUS(fer_model_load_onnx("no-such-file.onnx", &back), FER_ERR_IO);
  CHECK(back == NULL);
  CHECK_STATUS(fer_model_load_onnx_memory(NULL, 4, &back), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_save_onnx(NULL, "x.onnx"), FER_ERR_MISUSE);
  CHECK_STATUS(fer_model_save_onnx_memory(m, NULL, NULL), FER_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(fer_model_onnx_opset(), 13);
  fer_model_free(m);
}

static void test_hostile(void) {
  fer_model *m = make(nets[0], 11);
  if (!m) return;
  void *data = NULL;
  size_t size = 0;
  CHECK_OK(fer_model_save_onnx_memory(m, &data, &size));
  fer_model_free(m);
  if (!data) return;
  fer_model *back = NULL;
  /* Every proper prefix fails cleanly (the graph is one field: any cut
   * inside it is malformed; a cut at a field boundary loses the graph or
   * leaves valid metadata only). */
  int ok_prefixes = 0;
  for (size_t n = 0; n < size; n++) {
    fer_status st = fer_model_load_onnx_memory(data, n, &back);
    if (st == FER_OK) ok_prefixes++;
    CHECK(st == FER_OK || back == NULL);
    fer_model_free(back);
    back = NULL;
  }
  /* Metadata entries come after the graph: only those cuts may load. */
  CHECK(ok_prefixes <= 4);
  /* Byte flips: a status or a model, never a crash. */
  uint8_t *copy = malloc(size);
  uint64_t s = 42;
  for (int round = 0; round < 3000 && copy; round++) {
    memcpy(copy, data, size);
    for (int k = 0; k < 1 + round % 4; k++)
      copy[(size_t)(tu_uniform(&s) * size)] ^= (uint8_t)(1u << (int)(tu_uniform(&s) * 8));
    if (fer_model_load_onnx_memory(copy, size, &back) == FER_OK) {
      float x[144] = {0}, y[3];
      fer_model_predict(back, x, 1, y);
    }
    fer_model_free(back);
    back = NULL;
  }
  free(copy);
  /* Not protobuf at all, and a model file. */
  CHECK_STATUS(fer_model_load_onnx_memory("FERMODEL\x01\0\0\0", 12, &back), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("ONNX model");
  CHECK_STATUS(fer_model_load_onnx_memory("", 0, &back), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("no graph");
  fer_free(data);
}

static void test_allocation_failures(void) {
  fer_model *m = make(nets[1], 5);
  if (!m) return;
  void *data = NULL;
  size_t size = 0;
  int done = 0;
  for (long n = 1; n < 2000 && !done; n++) {
    fer__alloc_fail_after(n);
    fer_status st = fer_model_save_onnx_memory(m, &data, &size);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    if (st == FER_OK) done = 1;
    else CHECK(data == NULL);
  }
  CHECK(done);
  done = 0;
  for (long n = 1; n < 2000 && !done && data; n++) {
    fer_model *back = NULL;
    fer__alloc_fail_after(n);
    fer_status st = fer_model_load_onnx_memory(data, size, &back);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    if (st == FER_OK) done = 1;
    else CHECK(back == NULL);
    fer_model_free(back);
  }
  CHECK(done);
  fer_free(data);
  fer_model_free(m);
}

int main(void) {
  RUN(test_round_trip);
  RUN(test_model_details);
  RUN(test_hostile);
  RUN(test_allocation_failures);
  return harness_finish();
}
