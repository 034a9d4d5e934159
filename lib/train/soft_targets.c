/* The fit loop's soft targets: label smoothing written out as
 * distributions, mixup (Zhang et al. 2018: a batch mixed with a shuffled
 * copy of itself, lambda ~ Beta(alpha, alpha)) and knowledge distillation
 * (Hinton et al. 2015: targets blended with a teacher's tempered outputs).
 * The trainer (trainer.c) calls these per batch; the maths of each is in
 * its comment, and docs/cli.md says the same for users. */
#include <math.h>
#include <string.h>

#include "data/dataset_internal.h"
#include "train/trainer_internal.h"

/* Uniform in (0, 1): 53 random bits, moved off 0 by half a step. */
static double open_uniform(fer__rng *rng) {
  return ((double)(fer__rng_next(rng) >> 11) + 0.5) * 0x1.0p-53;
}

/* log of a Gamma(a, 1) variate (Marsaglia and Tsang 2000; for a < 1,
 * G(a) = G(a + 1) U^(1/a)). In logs so that a small a cannot underflow. */
static double log_gamma_variate(fer__rng *rng, double a) {
  double boost = 0.0;
  if (a < 1.0) {
    boost = log(open_uniform(rng)) / a;
    a += 1.0;
  }
  const double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    /* A standard normal by Box-Muller. */
    double z = sqrt(-2.0 * log(open_uniform(rng))) * cos(6.283185307179586 * open_uniform(rng));
    double v = 1.0 + c * z;
    if (v <= 0.0) continue;
    v = v * v * v;
    double u = open_uniform(rng);
    if (log(u) < 0.5 * z * z + d - d * v + d * log(v)) return log(d * v) + boost;
  }
}

void fer__mixup_draw(uint64_t seed, uint32_t epoch, uint64_t batch,
                     uint32_t shard, double alpha, int n, double *lambda,
                     uint32_t *perm) {
  fer__rng rng;
  uint64_t h = fer__mix64(seed, 0x6D69787570ull); /* "mixup" */
  h = fer__mix64(h, epoch);
  h = fer__mix64(h, batch);
  fer__rng_seed(&rng, fer__mix64(h, shard));
  /* Beta(a, a) = X / (X + Y) with X, Y ~ Gamma(a): 1 / (1 + e^(log Y - log X)). */
  double log_x = log_gamma_variate(&rng, alpha), log_y = log_gamma_variate(&rng, alpha);
  *lambda = 1.0 / (1.0 + exp(log_y - log_x));
  /* Fisher-Yates. */
  for (int i = 0; i < n; i++) perm[i] = (uint32_t)i;
  for (int i = n - 1; i > 0; i--) {
    uint32_t j = fer__rng_below(&rng, (uint32_t)i + 1);
    uint32_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
}

void fer__label_targets(const int32_t *labels, int n, int K, double smoothing,
                        float *targets) {
  for (int i = 0; i < n; i++)
    for (int k = 0; k < K; k++)
      targets[(size_t)i * K + k] =
          (float)((1.0 - smoothing) * (k == labels[i]) + smoothing / K);
}

/* a_i <- lambda a_i + (1 - lambda) a_perm(i) for rows of `width` floats;
 * `copy` (n x width) receives the rows before mixing. */
static void mix_rows(float *a, float *copy, size_t width, int n, double lambda,
                     const uint32_t *perm) {
  memcpy(copy, a, (size_t)n * width * sizeof *a);
  for (int i = 0; i < n; i++) {
    float *row = a + (size_t)i * width;
    const float *mine = copy + (size_t)i * width, *other = copy + (size_t)perm[i] * width;
    for (size_t j = 0; j < width; j++)
      row[j] = (float)(lambda * mine[j] + (1.0 - lambda) * other[j]);
  }
}

void fer__mixup_apply(float *x, size_t sample_floats, float *targets, int K,
                      float *weights, int n, double lambda, const uint32_t *perm,
                      float *scratch) {
  mix_rows(x, scratch, sample_floats, n, lambda, perm);
  mix_rows(targets, scratch, (size_t)K, n, lambda, perm);
  if (weights) mix_rows(weights, scratch, 1, n, lambda, perm);
}

fer_status fer__distill_targets(const float *teacher, float *targets, int n,
                                int K, double weight, double temperature) {
  for (int i = 0; i < n; i++) {
    const float *p = teacher + (size_t)i * K;
    float *t = targets + (size_t)i * K;
    /* softmax(log p / T): p^(1/T) normalised, from the largest log p down
     * so that the exponentials stay in range; p = 0 stays 0. */
    double top = -INFINITY, sum = 0.0;
    for (int k = 0; k < K; k++) {
      if (!isfinite(p[k]) || p[k] < 0.0f)
        return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_trainer_fit: the teacher's "
                         "output %d of image %d (%g) is not a probability", k, i,
                         (double)p[k]);
      if (p[k] > 0.0f && log(p[k]) > top) top = log(p[k]);
    }
    if (top == -INFINITY)
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_trainer_fit: the teacher's "
                       "outputs of image %d are all 0 (it must end in softmax)", i);
    for (int k = 0; k < K; k++)
      if (p[k] > 0.0f) sum += exp((log(p[k]) - top) / temperature);
    for (int k = 0; k < K; k++) {
      double tempered = p[k] > 0.0f ? exp((log(p[k]) - top) / temperature) : 0.0;
      t[k] = (float)((1.0 - weight) * t[k] + weight * tempered / sum);
    }
  }
  return FER_OK;
}
