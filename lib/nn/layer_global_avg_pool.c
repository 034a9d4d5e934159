/* Global average pooling: y[c] = mean over H x W of x[c]. */
#include "nn/nn_internal.h"

static fer_status gap_setup(fer__layer *l) {
  l->out = (fer__shape){l->in.c, 1, 1};
  return FER_OK;
}

static void gap_forward(const fer__layer *l, const fer__pass *p, const float *x,
                        float *y, float *saved) {
  (void)saved;
  const long plane = (long)l->in.h * l->in.w, planes = (long)p->n * l->in.c;
  for (long pl = 0; pl < planes; pl++) {
    const float *xp = x + pl * plane;
    float sum = 0.0f;
    for (long i = 0; i < plane; i++) sum += xp[i];
    y[pl] = sum / (float)plane;
  }
}

static void gap_backward(const fer__layer *l, const fer__pass *p,
                         const float *x, const float *y, const float *dy,
                         float *dx, const float *saved, float *const *grads) {
  (void)x;
  (void)y;
  (void)saved;
  (void)grads;
  if (!dx) return;
  const long plane = (long)l->in.h * l->in.w, planes = (long)p->n * l->in.c;
  for (long pl = 0; pl < planes; pl++) {
    float g = dy[pl] / (float)plane;
    for (long i = 0; i < plane; i++) dx[pl * plane + i] = g;
  }
}

const fer__layer_ops fer__global_avg_pool_ops = {
  .kind = FER_LAYER_GLOBAL_AVG_POOL,
  .keyword = "gap",
  .setup = gap_setup,
  .saved_floats = fer__no_saved,
  .scratch_floats = fer__no_scratch,
  .flops = fer__no_flops,
  .forward = gap_forward,
  .backward = gap_backward,
  .parse = fer__parse_no_args,
  .format = fer__format_no_args,
};
