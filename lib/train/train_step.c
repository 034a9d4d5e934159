/* One training step on a batch: forward, softmax cross-entropy, the
 * backward sweep through every layer's gradient, and the optimiser's update
 * (lib/train/optimizer.c). The forward pass and the loss are the engine's
 * (lib/nn/evaluate.c). */
#include "train/optim_internal.h"

fer_status fer_model_train_step(fer_model *m, fer_optimizer *opt,
                                const float *x, const int32_t *labels, int n,
                                float *loss, float *accuracy) {
  fer_status st = fer__check_batch(m, "fer_model_train_step", x, labels, n, 1);
  if (st) return st;
  if (!opt || opt->magic != FER__OPTIMIZER_MAGIC)
    return fer__fail(FER_ERR_MISUSE,
                     "fer_model_train_step: optimizer is NULL or not live");
  if (opt->size && opt->size != m->trainable_floats)
    return fer__fail(FER_ERR_MISUSE,
                     "fer_model_train_step: the optimizer holds state for %zu "
                     "parameters, the model has %zu", opt->size,
                     m->trainable_floats);
  if ((st = fer__workspace_prepare(m, &m->ws, n, 1))) return st;
  fer__workspace *ws = m->ws;
  fer__forward(m, ws, x, n, 1, &m->dropout_rng);
  int correct;
  const int K = fer_model_output_size(m);
  float *delta = ws->delta_a, *other = ws->delta_b;
  double l = fer__cross_entropy(fer__logits_of(m, x), n, K, labels,
                                m->label_smoothing, m->class_weights, delta,
                                &correct);
  fer__pass pass = {.n = n, .training = 1, .threads = ws->threads,
                    .scratch = ws->scratch, .scratch_floats = ws->scratch_floats,
                    .rng = &m->dropout_rng};
  for (int i = fer__logits_layers(m) - 1; i >= 0; i--) {
    const fer__layer *layer = &m->layers[i];
    float *grads[FER__TRAINABLE_TENSORS] = {
        layer->tensor[0] ? ws->grads + layer->param_offset : NULL,
        layer->tensor[1]
            ? ws->grads + layer->param_offset + layer->tensor_size[0] : NULL};
    fer__layer_ops_of(layer->kind)->backward(
        layer, &pass, i > 0 ? ws->act[i - 1] : x, ws->act[i], delta,
        i > 0 ? other : NULL, ws->saved[i], grads);
    float *t = delta;
    delta = other;
    other = t;
  }
  if ((st = fer__optimizer_update(opt, m, ws->grads))) return st;
  if (loss) *loss = (float)l;
  if (accuracy) *accuracy = (float)correct / (float)n;
  return FER_OK;
}
