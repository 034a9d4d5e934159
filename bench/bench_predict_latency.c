/* Latency of one batch-1 prediction through a fer_predictor: the C side of
 * the Python binding's overhead bar (bindings/python/bench_overhead.py runs
 * this program and the same call from Python, and compares the medians).
 *
 *   build/bench/bench_predict_latency [MODEL] [ITERATIONS] [THREADS]
 *
 * MODEL is a reference network name (default seed000) or the path of an
 * architecture text file; weights are the model's default initialisation.
 * Prints "median_us <value>" and "min_us <value>". */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fer.h"

static double now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* A reference name, or else a file holding architecture text. */
static fer_status make_model(const char *spec, fer_model **out) {
  if (fer_model_reference_text(spec) != NULL)
    return fer_model_create_reference(spec, out);
  FILE *f = fopen(spec, "rb");
  if (!f) {
    fprintf(stderr, "%s: neither a reference network nor a readable file\n", spec);
    return FER_ERR_IO;
  }
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  return fer_model_from_text(text, out);
}

int main(int argc, char **argv) {
  const char *spec = argc > 1 ? argv[1] : "seed000";
  int iterations = argc > 2 ? atoi(argv[2]) : 200;
  int threads = argc > 3 ? atoi(argv[3]) : 1;
  if (iterations < 1) iterations = 1;
  fer_set_num_threads(threads);

  fer_model *model = NULL;
  fer_predictor *predictor = NULL;
  if (make_model(spec, &model) != FER_OK ||
      fer_predictor_create(model, &predictor) != FER_OK) {
    fprintf(stderr, "setup failed: %s\n", fer_last_error());
    return 1;
  }
  int c = 0, h = 0, w = 0;
  fer_model_input_shape(model, &c, &h, &w);
  size_t inputs = (size_t)c * h * w;
  int classes = fer_model_output_size(model);
  float *x = malloc(inputs * sizeof *x);
  float *probs = malloc((size_t)classes * sizeof *probs);
  double *times = malloc((size_t)iterations * sizeof *times);
  if (!x || !probs || !times) return 1;
  /* The same input the Python side builds: (i % 251) / 255. */
  for (size_t i = 0; i < inputs; i++) x[i] = (float)(i % 251) / 255.0f;

  for (int i = 0; i < 5; i++) /* warm up: scratch allocated, caches hot */
    if (fer_predictor_run(predictor, x, 1, probs) != FER_OK) return 1;
  for (int i = 0; i < iterations; i++) {
    double start = now_us();
    fer_status s = fer_predictor_run(predictor, x, 1, probs);
    times[i] = now_us() - start;
    if (s != FER_OK) return 1;
  }
  qsort(times, (size_t)iterations, sizeof *times, compare_doubles);
  printf("model %s threads %d iterations %d\n", spec, fer_get_num_threads(), iterations);
  printf("median_us %.3f\nmin_us %.3f\n", times[iterations / 2], times[0]);
  printf("prob0 %.6f\n", (double)probs[0]);

  free(times);
  free(probs);
  free(x);
  fer_predictor_free(predictor);
  fer_model_free(model);
  return 0;
}
