/* Flatten: C x H x W becomes (C H W) x 1 x 1 in CHW order, as torch.flatten.
 * The data does not move; only the shape changes. */
#include <string.h>

#include "nn/nn_internal.h"

static fer_status flatten_setup(fer__layer *l) {
  /* The input already is within FER_MODEL_MAX_ACTIVATION. */
  long size = fer__shape_size(l->in);
  l->out = (fer__shape){(int)size, 1, 1};
  return FER_OK;
}

static void flatten_forward(const fer__layer *l, const fer__pass *p,
                            const float *x, float *y, float *saved) {
  (void)saved;
  memcpy(y, x, (size_t)p->n * (size_t)fer__shape_size(l->in) * sizeof(float));
}

static void flatten_backward(const fer__layer *l, const fer__pass *p,
                             const float *x, const float *y, const float *dy,
                             float *dx, const float *saved,
                             float *const *grads) {
  (void)x;
  (void)y;
  (void)saved;
  (void)grads;
  if (dx)
    memcpy(dx, dy, (size_t)p->n * (size_t)fer__shape_size(l->in) * sizeof(float));
}

const fer__layer_ops fer__flatten_ops = {
  .kind = FER_LAYER_FLATTEN,
  .keyword = "flatten",
  .setup = flatten_setup,
  .saved_floats = fer__no_saved,
  .scratch_floats = fer__no_scratch,
  .flops = fer__no_flops,
  .forward = flatten_forward,
  .backward = flatten_backward,
  .parse = fer__parse_no_args,
  .format = fer__format_no_args,
};
