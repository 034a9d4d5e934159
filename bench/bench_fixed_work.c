/* A fixed amount of work, for comparing builds by CPU time on a machine
 * that other jobs share (wall clock is noise there; time-boxed loops such
 * as bench_reference_nets do a varying amount of work):
 *
 *   bench_fixed_work (train|infer) MODEL BATCH STEPS [THREADS]
 *
 * MODEL is a reference network name, a model file (.ferm) or an
 * architecture text file. `train` runs STEPS training steps (Adam, random
 * labels), `infer` STEPS predictor runs, both on batches of BATCH, after
 * one untimed warm-up call. Prints the process CPU time (user + sys, all
 * threads) and the wall time of the timed loop. Compare two builds by
 * running their programs interleaved (A B A B ...) and taking medians. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <fer.h>

static double cpu_seconds(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
         (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static double wall_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static fer_status make_model(const char *spec, fer_model **out) {
  if (fer_model_reference_text(spec) != NULL) {
    fer_status st = fer_model_create_reference(spec, out);
    return st ? st : fer_model_init_weights(*out, FER_INIT_HE_UNIFORM, 1);
  }
  size_t len = strlen(spec);
  if (len > 5 && strcmp(spec + len - 5, ".ferm") == 0) return fer_model_load(spec, out);
  FILE *f = fopen(spec, "rb");
  if (!f) {
    fprintf(stderr, "%s: not a reference network or a readable file\n", spec);
    return FER_ERR_IO;
  }
  static char text[1 << 16];
  size_t n = fread(text, 1, sizeof text - 1, f);
  fclose(f);
  text[n] = '\0';
  fer_status st = fer_model_from_text(text, out);
  return st ? st : fer_model_init_weights(*out, FER_INIT_HE_UNIFORM, 1);
}

int main(int argc, char **argv) {
  if (argc < 5 || (strcmp(argv[1], "train") && strcmp(argv[1], "infer"))) {
    fprintf(stderr, "usage: %s (train|infer) MODEL BATCH STEPS [THREADS]\n", argv[0]);
    return 2;
  }
  const int train = strcmp(argv[1], "train") == 0;
  const int batch = atoi(argv[3]), steps = atoi(argv[4]);
  if (batch < 1 || steps < 1 || fer_set_num_threads(argc > 5 ? atoi(argv[5]) : 1)) {
    fprintf(stderr, "bad batch, steps or threads\n");
    return 2;
  }
  fer_model *m = NULL;
  fer_optimizer *opt = NULL;
  fer_predictor *pred = NULL;
  if (make_model(argv[2], &m) || fer_optimizer_create(FER_OPTIMIZER_ADAM, &opt) ||
      fer_predictor_create(m, &pred)) {
    fprintf(stderr, "%s: %s\n", argv[2], fer_last_error());
    return 1;
  }
  int c, h, w;
  fer_model_input_shape(m, &c, &h, &w);
  const int classes = fer_model_output_size(m);
  const size_t image = (size_t)c * h * w;
  float *x = malloc((size_t)batch * image * sizeof(float));
  float *out = malloc((size_t)batch * classes * sizeof(float));
  int32_t *labels = malloc((size_t)batch * sizeof(int32_t));
  if (!x || !out || !labels) return 1;
  unsigned seed = 7;
  for (size_t i = 0; i < (size_t)batch * image; i++) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
  }
  for (int i = 0; i < batch; i++) labels[i] = i % classes;
  double cpu0 = 0.0, wall0 = 0.0;
  for (int s = -1; s < steps; s++) {
    if (s == 0) {
      cpu0 = cpu_seconds();
      wall0 = wall_seconds();
    }
    fer_status st = train ? fer_model_train_step(m, opt, x, labels, batch, NULL, NULL)
                          : fer_predictor_run(pred, x, batch, out);
    if (st) {
      fprintf(stderr, "%s\n", fer_last_error());
      return 1;
    }
  }
  printf("cpu_s %.4f wall_s %.4f per_step_cpu_ms %.3f\n", cpu_seconds() - cpu0,
         wall_seconds() - wall0, 1e3 * (cpu_seconds() - cpu0) / steps);
  free(x);
  free(out);
  free(labels);
  fer_predictor_free(pred);
  fer_optimizer_free(opt);
  fer_model_free(m);
  return 0;
}
