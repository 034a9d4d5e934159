/* Elementwise passes in GCC/Clang vector extensions (4 floats: SSE2 on any
 * x86-64, NEON elsewhere; other compilers get the same code on single
 * floats). GCC at -O2 leaves loops of unknown length scalar, and a scalar
 * ReLU is a branch that mispredicts on every other sign. */
#ifndef FER_NN_SIMD_H
#define FER_NN_SIMD_H

#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
typedef float fer__v4 __attribute__((vector_size(16)));
typedef int fer__v4i __attribute__((vector_size(16)));
#define FER__V4_LANES 4
static inline fer__v4 fer__v4_load(const float *p) {
  fer__v4 v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void fer__v4_store(float *p, fer__v4 v) { memcpy(p, &v, sizeof v); }
/* v > 0 ? v : 0 lane by lane (NaN and -0 give +0, as the scalar form). */
static inline fer__v4 fer__v4_relu(fer__v4 v) {
  const fer__v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
  return (fer__v4)((fer__v4i)v & (v > zero));
}
#else
#define FER__V4_LANES 0
#endif

static inline float fer__relu1(float v) { return v > 0.0f ? v : 0.0f; }

/* y[i] = act((x[i] + add) * mul + shift), act ReLU when `relu` is set; x
 * may be y. The steps are those of a bias add, a batch norm and a ReLU in
 * turn, so fusing them changes no value. */
static inline void fer__affine_act(const float *x, float *y, long n, float add,
                                   float mul, float shift, int relu) {
  long i = 0;
#if FER__V4_LANES
  const fer__v4 va = {add, add, add, add}, vm = {mul, mul, mul, mul};
  const fer__v4 vs = {shift, shift, shift, shift};
  if (relu)
    for (; i + 4 <= n; i += 4)
      fer__v4_store(y + i, fer__v4_relu((fer__v4_load(x + i) + va) * vm + vs));
  else
    for (; i + 4 <= n; i += 4)
      fer__v4_store(y + i, (fer__v4_load(x + i) + va) * vm + vs);
#endif
  for (; i < n; i++) {
    float v = (x[i] + add) * mul + shift;
    y[i] = relu ? fer__relu1(v) : v;
  }
}

#endif
