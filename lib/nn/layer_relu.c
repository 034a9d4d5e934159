/* ReLU: y = max(x, 0); dx = dy where y > 0 (the same positions as x > 0;
 * the input need not be kept). Both passes are vectorised
 * (lib/nn/simd.h). */
#include "nn/nn_internal.h"

static void relu_forward(const fer__layer *l, const fer__pass *p,
                         const float *x, float *y, float *saved) {
  (void)saved;
  const long total = (long)p->n * fer__shape_size(l->in);
  const int threads = fer__worth_parallel(p->threads, 8.0 * total) ? p->threads : 1;
  FER__OMP(omp parallel for num_threads(threads) schedule(static))
  for (int t = 0; t < threads; t++) {
    const long lo = total * t / threads, hi = total * (t + 1) / threads;
    fer__affine_act(x + lo, y + lo, hi - lo, 0.0f, 1.0f, 0.0f, 1);
  }
}

/* dx = dy where y > 0, else 0. */
static void relu_mask(const float *y, const float *dy, float *dx, long total) {
  long i = 0;
#if FER__V4_LANES
  const fer__v4 zero = {0.0f, 0.0f, 0.0f, 0.0f};
  for (; i + 4 <= total; i += 4)
    fer__v4_store(dx + i, (fer__v4)((fer__v4i)fer__v4_load(dy + i) &
                                    (fer__v4_load(y + i) > zero)));
#endif
  for (; i < total; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

static void relu_backward(const fer__layer *l, const fer__pass *p,
                          const float *x, const float *y, const float *dy,
                          float *dx, const float *saved, float *const *grads) {
  (void)x;
  (void)saved;
  (void)grads;
  if (!dx) return;
  const long total = (long)p->n * fer__shape_size(l->in);
  const int threads = fer__worth_parallel(p->threads, 8.0 * total) ? p->threads : 1;
  FER__OMP(omp parallel for num_threads(threads) schedule(static))
  for (int t = 0; t < threads; t++) {
    const long lo = total * t / threads, hi = total * (t + 1) / threads;
    relu_mask(y + lo, dy + lo, dx + lo, hi - lo);
  }
}

const fer__layer_ops fer__relu_ops = {
  .kind = FER_LAYER_RELU,
  .keyword = "relu",
  .setup = fer__same_shape,
  .saved_floats = fer__no_saved,
  .scratch_floats = fer__no_scratch,
  .flops = fer__no_flops,
  .forward = relu_forward,
  .backward = relu_backward,
  .parse = fer__parse_no_args,
  .format = fer__format_no_args,
};
