/* Architecture text: parsing every layer spelling, exact round trips,
 * and error messages with line and column. */
#include "nn_test_util.h"

static void expect_text(fer_model *m, const char *want) {
  char *text = NULL;
  CHECK_OK(fer_model_to_text(m, &text));
  CHECK_MSG(text && strcmp(text, want) == 0, "got:\n%s\nwant:\n%s",
            text ? text : "(null)", want);
  fer_free(text);
}

static void test_every_spelling(void) {
  const char *src =
      "# a comment line\n"
      "input 3x32x30   # trailing comment\n"
      "\n"
      "conv 16 3x3 same\n"
      "conv 16 5 valid stride=2 dil=1\n"
      "conv 16 3x3 pad=1 groups=16 nobias\n"
      "\tconv 8 3x2 same dil=2\n"
      "bn\n"
      "bn momentum=0.01 eps=0.001\n"
      "relu\nleaky 0.1\nelu\nelu 0.5\nsigmoid\ntanh\n"
      "max 2x2/2\navg 3x3/1 pad=1\nmax 3/2\n"
      "drop .25\n"
      "flatten\ndense 10\ndense 7 nobias\nsoftmax\n";
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(src, &m));
  if (!m) return;
  const char *canonical =
      "input 3x32x30\n"
      "conv 16 3x3 same\n"
      "conv 16 5x5 valid stride=2\n"
      "conv 16 3x3 pad=1 groups=16 nobias\n"
      "conv 8 3x2 same dil=2\n"
      "bn\n"
      "bn momentum=0.01 eps=0.001\n"
      "relu\nleaky 0.1\nelu\nelu 0.5\nsigmoid\ntanh\n"
      "max 2x2/2\navg 3x3/1 pad=1\nmax 3x3/2\n"
      "drop 0.25\n"
      "flatten\ndense 10\ndense 7 nobias\nsoftmax\n";
  expect_text(m, canonical);
  CHECK_EQ_INT(fer_model_num_layers(m), 20);
  CHECK_EQ_INT(fer_model_layer_kind(m, 0), FER_LAYER_CONV);
  CHECK_EQ_INT(fer_model_layer_kind(m, 19), FER_LAYER_SOFTMAX);
  CHECK_EQ_INT(fer_model_output_size(m), 7);
  /* The canonical text parses back to itself. */
  fer_model *again = NULL;
  CHECK_OK(fer_model_from_text(canonical, &again));
  if (again) expect_text(again, canonical);
  fer_model_free(again);
  fer_model_free(m);
}

static void test_reference_round_trip(void) {
  for (int i = 0; fer_model_reference_name(i); i++) {
    const char *name = fer_model_reference_name(i);
    fer_model *m = NULL, *m2 = NULL;
    CHECK_OK(fer_model_create_reference(name, &m));
    char *t1 = NULL, *t2 = NULL;
    CHECK_OK(fer_model_to_text(m, &t1));
    CHECK_OK(fer_model_from_text(t1, &m2));
    CHECK_OK(fer_model_to_text(m2, &t2));
    CHECK_MSG(t1 && t2 && strcmp(t1, t2) == 0, "%s round trip differs", name);
    CHECK_EQ_INT(fer_model_num_params(m, NULL, NULL), fer_model_num_params(m2, NULL, NULL));
    fer_free(t1);
    fer_free(t2);
    fer_model_free(m);
    fer_model_free(m2);
  }
  CHECK_EQ_INT(fer_model_reference_name(6) == NULL, 1);
  fer_model *m = NULL;
  CHECK_STATUS(fer_model_create_reference("seed999", &m), FER_ERR_NOT_FOUND);
  CHECK(m == NULL);
  CHECK(fer_model_reference_text("seed999") == NULL);
}

static void expect_error(const char *text, fer_status want, const char *message) {
  fer_model *m = (fer_model *)1;
  CHECK_STATUS(fer_model_from_text(text, &m), want);
  CHECK(m == NULL);
  CHECK_MESSAGE_CONTAINS(message);
}

static void test_errors(void) {
  expect_error("input 1x48x48\n# c\n     conx 3\n", FER_ERR_FORMAT,
               "arch:3:6: unknown layer 'conx'");
  expect_error("conv 3 3x3\n", FER_ERR_FORMAT, "arch:1:1: expected 'input CxHxW'");
  expect_error("input 1x48\n", FER_ERR_FORMAT, "arch:1:7: expected CxHxW");
  expect_error("input 1x48x48x2\n", FER_ERR_FORMAT, "arch:1:7");
  expect_error("input 0x48x48\n", FER_ERR_FORMAT, "arch:1:7");
  expect_error("# nothing\n\n", FER_ERR_FORMAT, "no 'input CxHxW' line");
  expect_error("input 1x8x8\nconv x 3x3\n", FER_ERR_FORMAT,
               "arch:2:6: expected a positive integer, got 'x'");
  expect_error("input 1x8x8\nconv 4 3y3\n", FER_ERR_FORMAT, "arch:2:8: expected a size");
  expect_error("input 1x8x8\nconv 4 3x3 same stride=0\n", FER_ERR_FORMAT,
               "arch:2:24: expected a positive integer, got '0'");
  expect_error("input 1x8x8\nconv 4 3x3 sane\n", FER_ERR_FORMAT,
               "arch:2:12: unknown conv option 'sane'");
  expect_error("input 1x8x8\nconv 4 9x9 valid\n", FER_ERR_SHAPE, "arch:2:1: conv:");
  expect_error("input 1x8x8\nrelu 2\n", FER_ERR_FORMAT, "arch:2:6: 'relu' takes no arguments");
  expect_error("input 1x8x8\ndrop\n", FER_ERR_FORMAT, "arch:2:1: 'drop' needs a number");
  expect_error("input 1x8x8\ndrop 1.5\n", FER_ERR_INVALID_ARGUMENT, "arch:2:1: drop: rate");
  expect_error("input 1x8x8\ndrop nan\n", FER_ERR_FORMAT, "expected a number");
  expect_error("input 1x8x8\nmax 2x2/x\n", FER_ERR_FORMAT, "arch:2:5");
  expect_error("input 1x8x8\nbn foo=1\n", FER_ERR_FORMAT, "arch:2:4: unknown bn option");
  expect_error("input 1x8x8\nrelu\x01\n", FER_ERR_FORMAT, "control character");
  expect_error("input 1x8x8\nrelu a b c d e f g h i j k l m n o p q\n", FER_ERR_FORMAT,
               "more than 16 words");
  expect_error("input 1x8x8\ndense 99999999999\n", FER_ERR_FORMAT, "positive integer");
  expect_error("input 1x8x8\nconv 70000 3x3\n", FER_ERR_TOO_LARGE, "arch:2:1");
}

static void test_add_text(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_create(1, 8, 8, &m));
  CHECK_OK(fer_model_add_text(m, "conv 2 3x3 same  # comment"));
  CHECK_STATUS(fer_model_add_text(m, "# only a comment"), FER_ERR_FORMAT);
  CHECK_STATUS(fer_model_add_text(m, "relu\nrelu"), FER_ERR_FORMAT);
  CHECK_STATUS(fer_model_add_text(m, "pool 2"), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("arch:1:1: unknown layer 'pool'");
  CHECK_OK(fer_model_add_max_pool(m, 2, 2, 2, 0));
  expect_text(m, "input 1x8x8\nconv 2 3x3 same\nmax 2x2/2\n");
  fer_model_free(m);
}

int main(void) {
  RUN(test_every_spelling);
  RUN(test_reference_round_trip);
  RUN(test_errors);
  RUN(test_add_text);
  return harness_finish();
}
