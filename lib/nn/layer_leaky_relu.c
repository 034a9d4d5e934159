/* Leaky ReLU: y = x for x > 0, slope * x otherwise ("leaky 0.1"; the slope
 * defaults to 0.01 as PyTorch). */
#include "nn/layer_activation.h"

static inline float leaky_relu_fn(float x, float slope) {
  return x > 0.0f ? x : slope * x;
}
static inline float leaky_relu_grad(float x, float y, float dy, float slope) {
  (void)y;
  return x > 0.0f ? dy : slope * dy;
}
static fer_status leaky_parse(fer__layer *l, const fer__arch_words *w) {
  return fer__parse_alpha(l, w, 0, 0.01f);
}
FER__POINTWISE_LAYER(leaky_relu, FER_LAYER_LEAKY_RELU, "leaky", leaky_parse,
                     fer__format_alpha)
