/* Latency of one batch-1 prediction through a fer_predictor: the C side of
 * the Python binding's overhead bar (bindings/python/bench_overhead.py runs
 * this program and the same call from Python, and compares the medians).
 *
 *   build/bench/bench_predict_latency [MODEL] [ITERATIONS] [THREADS] [int8]
 *
 * MODEL is a reference network name (default seed000), a model file
 * (.ferm, e.g. models/default.ferm) or the path of an architecture text
 * file; the last two kinds get the model's default initialisation.
 * Prints "median_us <value>" and "min_us <value>".
 *
 * With "int8", a second copy of the model is quantised (fer_model_quantize,
 * calibrated on 32 variations of the input) and switched to int8; the two
 * run alternately, one fp32 call then one int8 call, so that a busy
 * machine slows both alike. It also prints "int8_median_us", "int8_min_us"
 * and "int8_ratio" (int8 median over fp32 median). */
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

/* A reference name, a model file, or else a file holding architecture
 * text. */
static fer_status make_model(const char *spec, fer_model **out) {
  if (fer_model_reference_text(spec) != NULL)
    return fer_model_create_reference(spec, out);
  size_t len = strlen(spec);
  if (len > 5 && strcmp(spec + len - 5, ".ferm") == 0) return fer_model_load(spec, out);
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

/* A copy of `spec` quantised on 32 variations of input x (n floats). */
static fer_status make_int8_model(const char *spec, const float *x, size_t n,
                                  fer_model **out) {
  enum { CALIBRATION = 32 };
  fer_status st = make_model(spec, out);
  float *calib = st ? NULL : malloc(CALIBRATION * n * sizeof *calib);
  if (st || !calib) return st ? st : FER_ERR_OUT_OF_MEMORY;
  for (size_t k = 0; k < CALIBRATION; k++)
    for (size_t i = 0; i < n; i++)
      calib[k * n + i] = x[(i + 7 * k) % n] * (0.5f + (float)k / CALIBRATION);
  st = fer_model_quantize(*out, calib, CALIBRATION);
  if (!st) st = fer_model_set(*out, FER_MODEL_PRECISION, FER_PRECISION_INT8);
  free(calib);
  return st;
}

static double time_run(fer_predictor *p, const float *x, float *probs,
                       fer_status *st) {
  double start = now_us();
  *st = fer_predictor_run(p, x, 1, probs);
  return now_us() - start;
}

int main(int argc, char **argv) {
  const char *spec = argc > 1 ? argv[1] : "seed000";
  int iterations = argc > 2 ? atoi(argv[2]) : 200;
  int threads = argc > 3 ? atoi(argv[3]) : 1;
  int int8 = argc > 4 && strcmp(argv[4], "int8") == 0;
  if (iterations < 1) iterations = 1;
  fer_set_num_threads(threads);

  fer_model *model = NULL, *model8 = NULL;
  fer_predictor *predictor = NULL, *predictor8 = NULL;
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
  float *probs8 = malloc((size_t)classes * sizeof *probs8);
  double *times = malloc((size_t)iterations * sizeof *times);
  double *times8 = malloc((size_t)iterations * sizeof *times8);
  if (!x || !probs || !probs8 || !times || !times8) return 1;
  /* The same input the Python side builds: (i % 251) / 255. */
  for (size_t i = 0; i < inputs; i++) x[i] = (float)(i % 251) / 255.0f;
  if (int8 && (make_int8_model(spec, x, inputs, &model8) != FER_OK ||
               fer_predictor_create(model8, &predictor8) != FER_OK)) {
    fprintf(stderr, "int8 setup failed: %s\n", fer_last_error());
    return 1;
  }

  fer_status s = FER_OK, s8 = FER_OK;
  for (int i = 0; i < 5; i++) { /* warm up: scratch allocated, caches hot */
    time_run(predictor, x, probs, &s);
    if (int8) time_run(predictor8, x, probs8, &s8);
    if (s || s8) return 1;
  }
  for (int i = 0; i < iterations; i++) {
    times[i] = time_run(predictor, x, probs, &s);
    if (int8) times8[i] = time_run(predictor8, x, probs8, &s8);
    if (s || s8) return 1;
  }
  qsort(times, (size_t)iterations, sizeof *times, compare_doubles);
  printf("model %s threads %d iterations %d\n", spec, fer_get_num_threads(), iterations);
  printf("median_us %.3f\nmin_us %.3f\n", times[iterations / 2], times[0]);
  printf("prob0 %.6f\n", (double)probs[0]);
  if (int8) {
    qsort(times8, (size_t)iterations, sizeof *times8, compare_doubles);
    printf("int8_median_us %.3f\nint8_min_us %.3f\n", times8[iterations / 2], times8[0]);
    printf("int8_prob0 %.6f\n", (double)probs8[0]);
    printf("int8_ratio %.3f\n", times8[iterations / 2] / times[iterations / 2]);
  }

  free(times);
  free(times8);
  free(probs);
  free(probs8);
  free(x);
  fer_predictor_free(predictor);
  fer_predictor_free(predictor8);
  fer_model_free(model);
  fer_model_free(model8);
  return 0;
}
