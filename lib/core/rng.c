/* Per-handle random numbers: xorshift128+ state seeded through splitmix64. */
#include <math.h>

#include "core/core_internal.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void fer__rng_seed(fer__rng *rng, uint64_t seed) {
  rng->s[0] = splitmix64(&seed);
  rng->s[1] = splitmix64(&seed);
  if ((rng->s[0] | rng->s[1]) == 0) rng->s[0] = 1; /* all-zero state is stuck */
}

uint64_t fer__rng_next(fer__rng *rng) {
  uint64_t s1 = rng->s[0];
  const uint64_t s0 = rng->s[1];
  const uint64_t result = s0 + s1;
  rng->s[0] = s0;
  s1 ^= s1 << 23;
  rng->s[1] = s1 ^ s0 ^ (s1 >> 18) ^ (s0 >> 5);
  return result;
}

float fer__rng_uniform(fer__rng *rng) {
  /* 24 random bits: every float in [0, 1) this produces is exact. */
  return (float)(fer__rng_next(rng) >> 40) * (1.0f / 16777216.0f);
}

uint32_t fer__rng_below(fer__rng *rng, uint32_t n) {
  /* Multiply-shift: unbiased enough for shuffles and augmentation. */
  return (uint32_t)(((fer__rng_next(rng) >> 32) * (uint64_t)n) >> 32);
}

float fer__rng_normal(fer__rng *rng) {
  float u1 = fer__rng_uniform(rng);
  float u2 = fer__rng_uniform(rng);
  if (u1 < 1e-7f) u1 = 1e-7f;
  return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530718f * u2);
}
