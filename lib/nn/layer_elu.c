/* ELU: y = x for x > 0, alpha (e^x - 1) otherwise; dx = dy (y + alpha) there.
 * "elu" or "elu ALPHA" (default 1). */
#include "nn/layer_activation.h"

static inline float elu_fn(float x, float alpha) {
  return x > 0.0f ? x : alpha * expm1f(x);
}
static inline float elu_grad(float x, float y, float dy, float alpha) {
  return x > 0.0f ? dy : dy * (y + alpha);
}
static fer_status elu_parse(fer__layer *l, const fer__arch_words *w) {
  return fer__parse_alpha(l, w, 0, 1.0f);
}
static void elu_format(const fer__layer *l, fer__buf *out) {
  if (l->alpha != 1.0f) fer__format_alpha(l, out);
}
FER__POINTWISE_LAYER(elu, FER_LAYER_ELU, "elu", elu_parse, elu_format)
