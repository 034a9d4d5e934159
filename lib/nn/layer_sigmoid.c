/* Sigmoid: y = 1 / (1 + e^-x); dx = dy y (1 - y). */
#include "nn/layer_activation.h"

static inline float sigmoid_fn(float x, float alpha) {
  (void)alpha;
  return 1.0f / (1.0f + expf(-x));
}
static inline float sigmoid_grad(float x, float y, float dy, float alpha) {
  (void)x;
  (void)alpha;
  return dy * y * (1.0f - y);
}
FER__POINTWISE_LAYER(sigmoid, FER_LAYER_SIGMOID, "sigmoid", fer__parse_no_args,
                     fer__format_no_args)
