/* Helpers shared by the CNN engine's tests: deterministic test data and
 * comparisons. Header-only so each test stays one program. */
#ifndef FER_NN_TEST_UTIL_H
#define FER_NN_TEST_UTIL_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

/* A small LCG so test data never depends on the library's generator. */
static inline double tu_uniform(uint64_t *state) {
  *state = *state * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(*state >> 11) * (1.0 / 9007199254740992.0);
}

static inline void tu_fill(float *x, size_t n, uint64_t seed, float lo,
                           float hi) {
  uint64_t s = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++)
    x[i] = lo + (hi - lo) * (float)tu_uniform(&s);
}

/* Values of magnitude in [0.05, 1] with a random sign: at least 0.05 away
 * from the kinks of ReLU-like layers. */
static inline void tu_fill_away_from_zero(float *x, size_t n, uint64_t seed) {
  uint64_t s = seed * 40503u + 7;
  for (size_t i = 0; i < n; i++) {
    double mag = 0.05 + 0.95 * tu_uniform(&s);
    x[i] = (float)(tu_uniform(&s) < 0.5 ? -mag : mag);
  }
}

/* Largest |a - b| over n values. */
static inline double tu_max_abs_diff(const float *a, const double *b, size_t n) {
  double worst = 0.0;
  for (size_t i = 0; i < n; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d <= worst)) worst = d; /* NaN counts as worst */
  }
  return worst;
}

/* A model from architecture text with Glorot-uniform weights (NULL, and a
 * failed check, when the text is refused). */
static inline fer_model *tu_model(const char *arch, uint64_t seed) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(arch, &m));
  if (m) CHECK_OK(fer_model_init_weights(m, FER_INIT_GLOROT_UNIFORM, seed));
  return m;
}

/* The model's trainable parameter count (the flat buffers' size). */
static inline size_t tu_trainable(const fer_model *m) {
  long t = 0;
  fer_model_num_params(m, &t, NULL);
  return (size_t)t;
}

static inline float *tu_alloc(size_t n) {
  float *p = calloc(n ? n : 1, sizeof(float));
  if (!p) abort();
  return p;
}

#endif
