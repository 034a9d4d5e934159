/* Tanh: y = tanh(x); dx = dy (1 - y^2). */
#include "nn/layer_activation.h"

static inline float tanh_fn(float x, float alpha) {
  (void)alpha;
  return tanhf(x);
}
static inline float tanh_grad(float x, float y, float dy, float alpha) {
  (void)x;
  (void)alpha;
  return dy * (1.0f - y * y);
}
FER__POINTWISE_LAYER(tanh, FER_LAYER_TANH, "tanh", fer__parse_no_args,
                     fer__format_no_args)
