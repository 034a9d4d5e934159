/* Concurrent prediction: several pthreads share one immutable model (a
 * chain, then a graph), each with its own predictor (and one with the
 * per-call fer_model_predict), and must get exactly the single-threaded
 * results; ONNX exports made at the same time are the same bytes. CI runs this suite under
 * ThreadSanitizer in a build without OpenMP. */
#include <pthread.h>

#include "nn_test_util.h"

enum { THREADS = 4, ROUNDS = 6, BATCH = 3, CLASSES = 7 };

static const fer_model *shared_model;
static float inputs[ROUNDS][BATCH * 144];
static float expected[ROUNDS][BATCH * CLASSES];
static fer_image *shared_image;
static float expected_image[CLASSES];
static void *expected_onnx;
static size_t expected_onnx_size;

typedef struct worker {
  int index;
  int mismatches;
  int errors;
} worker;

static void *run_worker(void *arg) {
  worker *w = arg;
  fer_predictor *p = NULL;
  if (fer_predictor_create(shared_model, &p) != FER_OK) {
    w->errors++;
    return NULL;
  }
  float out[BATCH * CLASSES], probs[CLASSES];
  for (int r = 0; r < ROUNDS; r++) {
    int round = (r + w->index) % ROUNDS;
    fer_status st = w->index % 2 ? fer_predictor_run(p, inputs[round], BATCH, out)
                                 : fer_model_predict(shared_model, inputs[round], BATCH, out);
    if (st) w->errors++;
    else if (memcmp(out, expected[round], sizeof out) != 0) w->mismatches++;
    int top = -1;
    if (fer_predictor_run_image(p, shared_image, probs, CLASSES, &top)) w->errors++;
    else if (memcmp(probs, expected_image, sizeof probs) != 0) w->mismatches++;
  }
  void *onnx = NULL;
  size_t onnx_size = 0;
  if (fer_model_save_onnx_memory(shared_model, &onnx, &onnx_size)) w->errors++;
  else if (onnx_size != expected_onnx_size || memcmp(onnx, expected_onnx, onnx_size))
    w->mismatches++;
  fer_free(onnx);
  fer_predictor_free(p);
  return NULL;
}

static void concurrent_predict(const char *text) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(text, &m));
  if (!m) return;
  CHECK_OK(fer_model_init_weights(m, FER_INIT_GLOROT_NORMAL, 5));
  CHECK_OK(fer_model_save_onnx_memory(m, &expected_onnx, &expected_onnx_size));
  for (int r = 0; r < ROUNDS; r++) {
    tu_fill(inputs[r], BATCH * 144, (uint64_t)r + 1, 0, 1);
    CHECK_OK(fer_model_predict(m, inputs[r], BATCH, expected[r]));
  }
  CHECK_OK(fer_image_create(30, 20, 3, &shared_image));
  uint8_t *px = fer_image_data_mutable(shared_image);
  for (int i = 0; i < 30 * 20 * 3; i++) px[i] = (uint8_t)(i * 37);
  CHECK_OK(fer_model_predict_image(m, shared_image, expected_image, CLASSES, NULL));
  shared_model = m;
  pthread_t threads[THREADS];
  worker workers[THREADS];
  for (int t = 0; t < THREADS; t++) {
    workers[t] = (worker){t, 0, 0};
    CHECK(pthread_create(&threads[t], NULL, run_worker, &workers[t]) == 0);
  }
  for (int t = 0; t < THREADS; t++) {
    pthread_join(threads[t], NULL);
    CHECK_EQ_INT(workers[t].errors, 0);
    CHECK_EQ_INT(workers[t].mismatches, 0);
  }
  fer_image_free(shared_image);
  fer_free(expected_onnx);
  fer_model_free(m);
}

static void test_concurrent_predict(void) {
  concurrent_predict("input 1x12x12\nconv 6 3x3 same\nbn\nrelu\nmax 2x2/2\n"
                     "drop 0.5\nconv 8 3x3 valid\nrelu\nflatten\ndense 7\nsoftmax\n");
}

static void test_concurrent_predict_graph(void) {
  concurrent_predict("input 1x12x12\nconv 6 3x3 same\nbn\na = relu\nconv 6 3x3 same\n"
                     "add a\ns = relu\ngap\nconv 6 1x1\nsigmoid\nmul s\n"
                     "c = conv 2 1x1 from=a\nconcat c\nmax 2x2/2\ndrop 0.5\n"
                     "flatten\ndense 7\nsoftmax\n");
}

int main(void) {
  RUN(test_concurrent_predict);
  RUN(test_concurrent_predict_graph);
  return harness_finish();
}
