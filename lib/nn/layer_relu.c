/* ReLU: y = max(x, 0); dx = dy where x > 0. */
#include "nn/layer_activation.h"

static inline float relu_fn(float x, float alpha) {
  (void)alpha;
  return x > 0.0f ? x : 0.0f;
}
static inline float relu_grad(float x, float y, float dy, float alpha) {
  (void)y;
  (void)alpha;
  return x > 0.0f ? dy : 0.0f;
}
FER__POINTWISE_LAYER(relu, FER_LAYER_RELU, "relu", fer__parse_no_args,
                     fer__format_no_args)
