/* Dense (fully connected): y = W x + b over the flattened input (CHW order,
 * so "dense" may follow a convolution directly). As GEMMs over the batch:
 * Y = X W^T, dX = dY W, dW = dY^T X, db = column sums of dY. */
#include <string.h>

#include "nn/gemm.h"
#include "nn/nn_internal.h"

static fer_status dense_setup(fer__layer *l) {
  if (l->units < 1)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "dense: %d units is below 1",
                     l->units);
  if (l->units > FER_MODEL_MAX_DIM)
    return fer__fail(FER_ERR_TOO_LARGE, "dense: %d units is beyond %d",
                     l->units, FER_MODEL_MAX_DIM);
  double weights = (double)l->units * (double)fer__shape_size(l->in);
  if (weights > (double)FER_MODEL_MAX_PARAMS)
    return fer__fail(FER_ERR_TOO_LARGE, "dense: %.0f weights is beyond %ld",
                     weights, FER_MODEL_MAX_PARAMS);
  l->kh = l->kw = 1;
  l->out = (fer__shape){l->units, 1, 1};
  l->tensor_size[0] = (size_t)weights;
  l->tensor_size[1] = l->bias ? (size_t)l->units : 0;
  return FER_OK;
}

static double dense_flops(const fer__layer *l) {
  return 2.0 * (double)l->tensor_size[0];
}

static void dense_forward(const fer__layer *l, const fer__pass *p,
                          const float *x, float *y, float *saved) {
  (void)saved;
  const int in = (int)fer__shape_size(l->in), units = l->units;
  fer__sgemm(0, 1, p->n, units, in, 1.0f, x, in, l->tensor[0], in, 0.0f, y,
             units);
  if (l->tensor[1])
    for (int i = 0; i < p->n; i++)
      for (int u = 0; u < units; u++) y[(long)i * units + u] += l->tensor[1][u];
}

static void dense_backward(const fer__layer *l, const fer__pass *p,
                           const float *x, const float *y, const float *dy,
                           float *dx, const float *saved, float *const *grads) {
  (void)y;
  (void)saved;
  const int in = (int)fer__shape_size(l->in), units = l->units;
  fer__sgemm(1, 0, units, in, p->n, 1.0f, dy, units, x, in, 0.0f, grads[0], in);
  if (l->tensor[1]) {
    memset(grads[1], 0, (size_t)units * sizeof(float));
    for (int i = 0; i < p->n; i++)
      for (int u = 0; u < units; u++) grads[1][u] += dy[(long)i * units + u];
  }
  if (dx)
    fer__sgemm(0, 0, p->n, in, units, 1.0f, dy, units, l->tensor[0], in, 0.0f,
               dx, in);
}

/* dense N [nobias] */
static fer_status dense_parse(fer__layer *l, const fer__arch_words *w) {
  fer_status st;
  if (w->count < 2) return fer__arch_error(w, 0, "dense needs a unit count");
  if ((st = fer__arch_int(w, 1, &l->units))) return st;
  l->bias = 1;
  for (int i = 2; i < w->count; i++) {
    if (w->word[i].len == 6 && memcmp(w->word[i].text, "nobias", 6) == 0)
      l->bias = 0;
    else
      return fer__arch_error(w, i, "unknown dense option '%.*s'",
                             (int)w->word[i].len, w->word[i].text);
  }
  return FER_OK;
}

static void dense_format(const fer__layer *l, fer__buf *out) {
  fer__buf_printf(out, " %d%s", l->units, l->bias ? "" : " nobias");
}

const fer__layer_ops fer__dense_ops = {
  .kind = FER_LAYER_DENSE,
  .keyword = "dense",
  .setup = dense_setup,
  .saved_floats = fer__no_saved,
  .scratch_floats = fer__no_scratch,
  .flops = dense_flops,
  .forward = dense_forward,
  .backward = dense_backward,
  .parse = dense_parse,
  .format = dense_format,
};
