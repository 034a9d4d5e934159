/* Inverted dropout: in training y = x m / (1 - rate) with m ~ Bernoulli(1 -
 * rate) drawn from the pass's seeded generator; identity in evaluation. The
 * scaled mask is kept for backward: dx = dy * mask. */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

static fer_status dropout_setup(fer__layer *l) {
  if (!(l->alpha >= 0.0f && l->alpha < 1.0f))
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "drop: rate %g is not in [0, 1)",
                     (double)l->alpha);
  l->out = l->in;
  return FER_OK;
}

static size_t dropout_saved(const fer__layer *l, int n) {
  return (size_t)n * (size_t)fer__shape_size(l->in);
}

static void dropout_forward(const fer__layer *l, const fer__pass *p,
                            const float *x, float *y, float *saved) {
  const long total = (long)p->n * fer__shape_size(l->in);
  if (!p->training || l->alpha == 0.0f) {
    memcpy(y, x, (size_t)total * sizeof(float));
    return;
  }
  const float keep_scale = 1.0f / (1.0f - l->alpha);
  for (long i = 0; i < total; i++) {
    saved[i] = fer__rng_uniform(p->rng) < l->alpha ? 0.0f : keep_scale;
    y[i] = x[i] * saved[i];
  }
}

static void dropout_backward(const fer__layer *l, const fer__pass *p,
                             const float *x, const float *y, const float *dy,
                             float *dx, const float *saved,
                             float *const *grads) {
  (void)x;
  (void)y;
  (void)grads;
  if (!dx) return;
  const long total = (long)p->n * fer__shape_size(l->in);
  if (!p->training || l->alpha == 0.0f) {
    memcpy(dx, dy, (size_t)total * sizeof(float));
    return;
  }
  for (long i = 0; i < total; i++) dx[i] = dy[i] * saved[i];
}

static fer_status dropout_parse(fer__layer *l, const fer__arch_words *w) {
  return fer__parse_alpha(l, w, 1, 0.0f);
}

const fer__layer_ops fer__dropout_ops = {
  .kind = FER_LAYER_DROPOUT,
  .keyword = "drop",
  .setup = dropout_setup,
  .saved_floats = dropout_saved,
  .scratch_floats = fer__no_scratch,
  .flops = fer__no_flops,
  .forward = dropout_forward,
  .backward = dropout_backward,
  .parse = dropout_parse,
  .format = fer__format_alpha,
};
