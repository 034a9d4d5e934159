/* Pointwise activations share everything but their two formulas; each
 * layer_<kind>.c defines them and instantiates its ops table with this
 * macro. FORWARD(x) gives y; BACKWARD(x, y, dy) gives dx. */
#ifndef FER_NN_LAYER_ACTIVATION_H
#define FER_NN_LAYER_ACTIVATION_H

#include <math.h>

#include "nn/nn_internal.h"

#define FER__POINTWISE_LAYER(name, KIND, KEYWORD, PARSE, FORMAT)             \
  static void name##_forward(const fer__layer *l, const fer__pass *p,       \
                             const float *x, float *y, float *saved) {      \
    (void)saved;                                                            \
    const float alpha = l->alpha;                                           \
    (void)alpha;                                                            \
    const long total = (long)p->n * fer__shape_size(l->in);                 \
    FER__OMP(omp parallel for num_threads(p->threads) schedule(static)      \
             if (fer__worth_parallel(p->threads, 8.0 * total)))                          \
    for (long i = 0; i < total; i++) y[i] = name##_fn(x[i], alpha);         \
  }                                                                         \
  static void name##_backward(const fer__layer *l, const fer__pass *p,      \
                              const float *x, const float *y,               \
                              const float *dy, float *dx,                   \
                              const float *saved, float *const *grads) {    \
    (void)saved;                                                            \
    (void)grads;                                                            \
    if (!dx) return;                                                        \
    const float alpha = l->alpha;                                           \
    (void)alpha;                                                            \
    const long total = (long)p->n * fer__shape_size(l->in);                 \
    FER__OMP(omp parallel for num_threads(p->threads) schedule(static)      \
             if (fer__worth_parallel(p->threads, 8.0 * total)))                          \
    for (long i = 0; i < total; i++)                                        \
      dx[i] = name##_grad(x[i], y[i], dy[i], alpha);                        \
  }                                                                         \
  const fer__layer_ops fer__##name##_ops = {                                \
    .kind = KIND,                                                           \
    .keyword = KEYWORD,                                                     \
    .setup = fer__same_shape,                                               \
    .saved_floats = fer__no_saved,                                          \
    .scratch_floats = fer__no_scratch,                                      \
    .flops = fer__no_flops,                                                 \
    .forward = name##_forward,                                              \
    .backward = name##_backward,                                            \
    .parse = PARSE,                                                         \
    .format = FORMAT,                                                       \
  };

#endif
