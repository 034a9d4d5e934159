/* Softmax over channels at each position: y_c = e^(x_c - max) / sum;
 * dx_c = y_c (dy_c - sum_k dy_k y_k). Training fuses a final softmax into
 * the cross-entropy loss instead of running this backward pass. */
#include <math.h>

#include "nn/nn_internal.h"

static void softmax_forward(const fer__layer *l, const fer__pass *p,
                            const float *x, float *y, float *saved) {
  (void)saved;
  const long plane = (long)l->in.h * l->in.w, C = l->in.c;
  for (int n = 0; n < p->n; n++)
    for (long i = 0; i < plane; i++) {
      const float *xi = x + (long)n * C * plane + i;
      float *yi = y + (long)n * C * plane + i;
      float mx = xi[0];
      for (long c = 1; c < C; c++) mx = fmaxf(mx, xi[c * plane]);
      float sum = 0.0f;
      for (long c = 0; c < C; c++) {
        yi[c * plane] = expf(xi[c * plane] - mx);
        sum += yi[c * plane];
      }
      for (long c = 0; c < C; c++) yi[c * plane] /= sum;
    }
}

static void softmax_backward(const fer__layer *l, const fer__pass *p,
                             const float *x, const float *y, const float *dy,
                             float *dx, const float *saved,
                             float *const *grads) {
  (void)x;
  (void)saved;
  (void)grads;
  if (!dx) return;
  const long plane = (long)l->in.h * l->in.w, C = l->in.c;
  for (int n = 0; n < p->n; n++)
    for (long i = 0; i < plane; i++) {
      long base = (long)n * C * plane + i;
      float dot = 0.0f;
      for (long c = 0; c < C; c++) dot += dy[base + c * plane] * y[base + c * plane];
      for (long c = 0; c < C; c++)
        dx[base + c * plane] = y[base + c * plane] * (dy[base + c * plane] - dot);
    }
}

const fer__layer_ops fer__softmax_ops = {
  .kind = FER_LAYER_SOFTMAX,
  .keyword = "softmax",
  .setup = fer__same_shape,
  .saved_floats = fer__no_saved,
  .scratch_floats = fer__no_scratch,
  .flops = fer__no_flops,
  .forward = softmax_forward,
  .backward = softmax_backward,
  .parse = fer__parse_no_args,
  .format = fer__format_no_args,
};
