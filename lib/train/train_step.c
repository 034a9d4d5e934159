/* One training step on a batch: forward, softmax cross-entropy, the
 * backward sweep through every layer's gradient, and the optimiser's update
 * (lib/train/optimizer.c). The forward pass and the loss are the engine's
 * (lib/nn/evaluate.c).
 *
 * The step is two halves with the gradient buffer (ws->grads) between them,
 * and both halves are public (fer_model_compute_gradients,
 * fer_model_apply_gradients) together with flat copies of the gradient, the
 * parameters and the batch-norm statistics, so that data-parallel training
 * can sum gradients between the halves (include/fer/train.h). */
#include <math.h>
#include <string.h>

#include "fer/train.h"
#include "nn/quant.h"
#include "train/optim_internal.h"

int fer_flat_layout_version(void) { return FER_FLAT_LAYOUT_VERSION; }

static fer_status check_optimizer(const fer_model *m, const fer_optimizer *opt,
                                  const char *who) {
  if (!opt || opt->magic != FER__OPTIMIZER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: optimizer is NULL or not live", who);
  if (opt->size && opt->size != m->trainable_floats)
    return fer__fail(FER_ERR_MISUSE,
                     "%s: the optimizer holds state for %zu parameters, the "
                     "model has %zu", who, opt->size, m->trainable_floats);
  return FER_OK;
}

/* The backward sweep of a graph model: layers in reverse order (every
 * reader of a tensor comes after it), each layer's output gradient in
 * ws->dact[i], summed over its readers. A reader writes a source's
 * gradient directly when it is the first, else through ws->delta_b and an
 * add. Layers the loss does not depend on get zero gradients. `dz` holds
 * dL/d(logits) (in ws->delta_a). */
static void graph_backward(fer_model *m, fer__workspace *ws, const float *x,
                           const fer__pass *pass, const float *dz) {
  const int n = pass->n, L = m->num_layers;
  memset(ws->dact_live, 0, (size_t)L);
  int top = fer__logits_layers(m) == L ? L - 1 : m->layers[L - 1].src[0];
  if (top >= 0) {
    memcpy(ws->dact[top], dz,
           (size_t)n * (size_t)fer__shape_size(m->layers[top].out) * sizeof(float));
    ws->dact_live[top] = 1;
  }
  for (int i = L - 1; i >= 0; i--) {
    const fer__layer *layer = &m->layers[i];
    const fer__layer_ops *ops = fer__layer_ops_of(layer->kind);
    float *grads[FER__TRAINABLE_TENSORS] = {
        layer->tensor[0] ? ws->grads + layer->param_offset : NULL,
        layer->tensor[1]
            ? ws->grads + layer->param_offset + layer->tensor_size[0] : NULL};
    if (i > top || !ws->dact_live[i]) {
      for (int k = 0; k < FER__TRAINABLE_TENSORS; k++)
        if (grads[k]) memset(grads[k], 0, layer->tensor_size[k] * sizeof(float));
      continue;
    }
    if (ops->backward_n) {
      const float *xs[FER__MAX_INPUTS];
      float *dxs[FER__MAX_INPUTS];
      for (int j = 0; j < layer->num_src; j++) {
        int s = layer->src[j];
        xs[j] = fer__src_act(ws->act, x, s);
        dxs[j] = s >= 0 ? ws->dact[s] : NULL;
        if (s >= 0 && !ws->dact_live[s]) {
          memset(ws->dact[s], 0,
                 (size_t)n * (size_t)fer__shape_size(m->layers[s].out) * sizeof(float));
          ws->dact_live[s] = 1;
        }
      }
      ops->backward_n(layer, pass, xs, ws->act[i], ws->dact[i], dxs);
      continue;
    }
    int s = layer->src[0];
    float *dx = NULL;
    if (s >= 0) dx = ws->dact_live[s] ? ws->delta_b : ws->dact[s];
    ops->backward(layer, pass, fer__src_act(ws->act, x, s), ws->act[i], ws->dact[i],
                  dx, ws->saved[i], grads);
    if (s >= 0) {
      if (dx == ws->delta_b) {
        const size_t count = (size_t)n * (size_t)fer__shape_size(m->layers[s].out);
        for (size_t e = 0; e < count; e++) ws->dact[s][e] += dx[e];
      }
      ws->dact_live[s] = 1;
    }
  }
}

/* The targets of a step: integer labels (with the model's smoothing and
 * class weights), or soft targets with optional sample weights. */
typedef struct step_targets {
  const int32_t *labels;
  const float *soft, *sample_weights;
} step_targets;

/* Forward, loss and backward into m->ws->grads. */
static fer_status compute(fer_model *m, const float *x, const step_targets *t,
                          int n, double *loss, int *correct, double *weight) {
  const int32_t *labels = t->labels;
  fer_status st = fer__workspace_prepare(m, &m->ws, n, 1);
  if (st) return st;
  fer__workspace *ws = m->ws;
  ws->grads_ready = 0;
  fer__forward(m, ws, x, n, 1, &m->dropout_rng);
  const int K = fer_model_output_size(m);
  float *delta = ws->delta_a, *other = ws->delta_b;
  if (t->soft)
    *loss = fer__cross_entropy_soft(fer__logits_of(m, x), n, K, t->soft,
                                    t->sample_weights, delta, correct);
  else
    *loss = fer__cross_entropy(fer__logits_of(m, x), n, K, labels,
                               m->label_smoothing, m->class_weights, delta,
                               correct);
  fer__pass pass = {.n = n, .training = 1, .threads = ws->threads,
                    .scratch = ws->scratch, .scratch_floats = ws->scratch_floats,
                    .rng = &m->dropout_rng};
  if (ws->dact) {
    graph_backward(m, ws, x, &pass, delta);
    goto done;
  }
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
done:
  if (weight) {
    /* The loss's denominator, summed as fer__cross_entropy sums it. */
    double w = 0.0;
    for (int i = 0; i < n; i++)
      w += t->soft ? (t->sample_weights ? t->sample_weights[i] : 1.0)
                   : (m->class_weights ? m->class_weights[labels[i]] : 1.0);
    *weight = w;
  }
  ws->grads_ready = 1;
  return FER_OK;
}

/* The step shared by fer_model_train_step and its soft-target version. */
static fer_status train_step(fer_model *m, fer_optimizer *opt, const float *x,
                             const step_targets *t, int n, float *loss,
                             float *accuracy, const char *who) {
  fer_status st = check_optimizer(m, opt, who);
  if (st) return st;
  /* Everything that can fail for want of memory before the forward pass
   * changes batch-norm statistics and the dropout generator: a failed step
   * leaves the model and the optimizer as they were. */
  if ((st = fer__optimizer_prepare(opt, m))) return st;
  double l;
  int correct;
  if ((st = compute(m, x, t, n, &l, &correct, NULL))) return st;
  m->ws->grads_ready = 0;
  if ((st = fer__optimizer_update(opt, m, m->ws->grads))) return st;
  if (loss) *loss = (float)l;
  if (accuracy) *accuracy = (float)correct / (float)n;
  return FER_OK;
}

fer_status fer_model_train_step(fer_model *m, fer_optimizer *opt,
                                const float *x, const int32_t *labels, int n,
                                float *loss, float *accuracy) {
  fer_status st = fer__check_batch(m, "fer_model_train_step", x, labels, n, 1);
  if (st) return st;
  step_targets t = {.labels = labels};
  return train_step(m, opt, x, &t, n, loss, accuracy, "fer_model_train_step");
}

/* The batch checks of the soft-target functions. */
static fer_status check_soft(fer_model *m, const char *who, const float *x,
                             const float *targets, size_t target_count,
                             const float *sample_weights, int n) {
  fer_status st = fer__check_batch(m, who, x, NULL, n, 0);
  if (st) return st;
  fer__shape out = fer__model_output_shape(m);
  if (out.h != 1 || out.w != 1)
    return fer__fail(FER_ERR_SHAPE,
                     "%s: the output %dx%dx%d is not a class vector (add "
                     "flatten/gap and dense)", who, out.c, out.h, out.w);
  return fer__check_soft_targets(who, targets, target_count, sample_weights, n, out.c);
}

fer_status fer_model_train_step_soft(fer_model *m, fer_optimizer *opt,
                                     const float *x, const float *targets,
                                     size_t target_count,
                                     const float *sample_weights, int n,
                                     float *loss, float *accuracy) {
  static const char who[] = "fer_model_train_step_soft";
  fer_status st = check_soft(m, who, x, targets, target_count, sample_weights, n);
  if (st) return st;
  step_targets t = {.soft = targets, .sample_weights = sample_weights};
  return train_step(m, opt, x, &t, n, loss, accuracy, who);
}

static fer_status compute_gradients(fer_model *m, const float *x,
                                    const step_targets *t, int n, float *loss,
                                    float *accuracy, double *weight) {
  double l;
  int correct;
  fer_status st = compute(m, x, t, n, &l, &correct, weight);
  if (st) return st;
  if (loss) *loss = (float)l;
  if (accuracy) *accuracy = (float)correct / (float)n;
  return FER_OK;
}

fer_status fer_model_compute_gradients(fer_model *m, const float *x,
                                       const int32_t *labels, int n,
                                       float *loss, float *accuracy,
                                       double *weight) {
  fer_status st = fer__check_batch(m, "fer_model_compute_gradients", x, labels, n, 1);
  if (st) return st;
  step_targets t = {.labels = labels};
  return compute_gradients(m, x, &t, n, loss, accuracy, weight);
}

fer_status fer_model_compute_gradients_soft(fer_model *m, const float *x,
                                            const float *targets,
                                            size_t target_count,
                                            const float *sample_weights, int n,
                                            float *loss, float *accuracy,
                                            double *weight) {
  fer_status st = check_soft(m, "fer_model_compute_gradients_soft", x, targets,
                             target_count, sample_weights, n);
  if (st) return st;
  step_targets t = {.soft = targets, .sample_weights = sample_weights};
  return compute_gradients(m, x, &t, n, loss, accuracy, weight);
}

fer_status fer_model_apply_gradients(fer_model *m, fer_optimizer *opt) {
  fer_status st = fer__model_check(m, "fer_model_apply_gradients");
  if (st) return st;
  if ((st = check_optimizer(m, opt, "fer_model_apply_gradients"))) return st;
  if (!m->ws || !m->ws->grads || !m->ws->grads_ready)
    return fer__fail(FER_ERR_MISUSE, "fer_model_apply_gradients: no gradient "
                     "to apply (compute or set one after each step)");
  if ((st = fer__optimizer_update(opt, m, m->ws->grads))) return st;
  m->ws->grads_ready = 0;
  return FER_OK;
}

/* ---- Flat copies. A flat array is a walk over the layers' tensor slots
 * [first, last): 0..1 for the trainable ones, 2..3 for the statistics. ---- */

static size_t flat_size(const fer_model *m, int first, int last) {
  size_t total = 0;
  for (int i = 0; i < m->num_layers; i++)
    for (int k = first; k < last; k++) total += m->layers[i].tensor_size[k];
  return total;
}

/* Copies between the model's tensors and `flat` (to_flat: out of the model). */
static void flat_copy(const fer_model *m, int first, int last, float *flat,
                      int to_flat) {
  for (int i = 0; i < m->num_layers; i++)
    for (int k = first; k < last; k++) {
      const fer__layer *l = &m->layers[i];
      if (!l->tensor_size[k]) continue;
      if (to_flat) memcpy(flat, l->tensor[k], l->tensor_size[k] * sizeof(float));
      else memcpy(l->tensor[k], flat, l->tensor_size[k] * sizeof(float));
      flat += l->tensor_size[k];
    }
}

/* The checks shared by every get: a live model, a buffer, room for `size`. */
static fer_status check_get(const fer_model *m, const char *who, const float *dst,
                            size_t count, size_t *needed, size_t *size,
                            int first, int last) {
  fer_status st = fer__model_check(m, who);
  if (st) return st;
  *size = first < 0 ? m->trainable_floats : flat_size(m, first, last);
  if (needed) *needed = *size;
  if (count < *size)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL, "%s: room for %zu floats, the "
                     "model has %zu", who, count, *size);
  if (!dst && *size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: the buffer is NULL", who);
  return FER_OK;
}

static fer_status check_set(const fer_model *m, const char *who, const float *src,
                            size_t count, size_t size) {
  fer_status st = fer__model_check(m, who);
  if (st) return st;
  if (!src && size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: the buffer is NULL", who);
  if (count != size)
    return fer__fail(FER_ERR_SHAPE, "%s: %zu floats given, the model has %zu",
                     who, count, size);
  return FER_OK;
}

fer_status fer_model_get_gradients(const fer_model *m, float *dst, size_t count,
                                   size_t *needed) {
  size_t size;
  fer_status st = check_get(m, "fer_model_get_gradients", dst, count, needed,
                            &size, -1, 0);
  if (st) return st;
  if (!m->ws || !m->ws->grads || !m->ws->grads_ready)
    return fer__fail(FER_ERR_MISUSE, "fer_model_get_gradients: no gradient "
                     "computed since the last step");
  if (size) memcpy(dst, m->ws->grads, size * sizeof(float));
  return FER_OK;
}

fer_status fer_model_set_gradients(fer_model *m, const float *src, size_t count) {
  fer_status st = fer__model_check(m, "fer_model_set_gradients");
  if (st) return st;
  if ((st = check_set(m, "fer_model_set_gradients", src, count, m->trainable_floats)))
    return st;
  for (size_t i = 0; i < count; i++)
    if (!isfinite(src[i]))
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_set_gradients: "
                       "element %zu is not a finite number", i);
  if (!m->ws || !m->ws->grads) {
    /* No backward pass yet: make the buffer (a batch of one's workspace). */
    int n = m->ws ? m->ws->n : 1;
    if ((st = fer__workspace_prepare(m, &m->ws, n, 1))) return st;
  }
  if (count) memcpy(m->ws->grads, src, count * sizeof(float));
  m->ws->grads_ready = 1;
  return FER_OK;
}

fer_status fer_model_get_parameters(const fer_model *m, float *dst, size_t count,
                                    size_t *needed) {
  size_t size;
  fer_status st = check_get(m, "fer_model_get_parameters", dst, count, needed,
                            &size, 0, FER__TRAINABLE_TENSORS);
  if (!st) flat_copy(m, 0, FER__TRAINABLE_TENSORS, dst, 1);
  return st;
}

fer_status fer_model_set_parameters(fer_model *m, const float *src, size_t count) {
  fer_status st = fer__model_check(m, "fer_model_set_parameters");
  if (st) return st;
  if ((st = check_set(m, "fer_model_set_parameters", src, count,
                      flat_size(m, 0, FER__TRAINABLE_TENSORS))))
    return st;
  for (size_t i = 0; i < count; i++)
    if (!isfinite(src[i]))
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_set_parameters: "
                       "element %zu is not a finite number", i);
  flat_copy(m, 0, FER__TRAINABLE_TENSORS, (float *)src, 0);
  fer__model_drop_quant(m);
  return FER_OK;
}

fer_status fer_model_get_statistics(const fer_model *m, float *dst, size_t count,
                                    size_t *needed) {
  size_t size;
  fer_status st = check_get(m, "fer_model_get_statistics", dst, count, needed,
                            &size, FER__TRAINABLE_TENSORS, FER__TENSORS);
  if (!st) flat_copy(m, FER__TRAINABLE_TENSORS, FER__TENSORS, dst, 1);
  return st;
}

fer_status fer_model_set_statistics(fer_model *m, const float *src, size_t count) {
  fer_status st = fer__model_check(m, "fer_model_set_statistics");
  if (st) return st;
  if ((st = check_set(m, "fer_model_set_statistics", src, count,
                      flat_size(m, FER__TRAINABLE_TENSORS, FER__TENSORS))))
    return st;
  /* Validate everything before changing anything. */
  const float *at = src;
  for (int i = 0; i < m->num_layers; i++) {
    const fer__layer *l = &m->layers[i];
    for (int k = FER__TRAINABLE_TENSORS; k < FER__TENSORS; k++) {
      /* A model without batch norm has no statistics and src may be NULL:
       * no arithmetic on it then (UBSan: offset applied to a null pointer). */
      if (!l->tensor_size[k]) continue;
      for (size_t j = 0; j < l->tensor_size[k]; j++)
        if (!isfinite(at[j]) || (k == FER_TENSOR_RUNNING_VAR - 1 && at[j] < 0.0f))
          return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_set_statistics: "
                           "layer %d: running %s element %zu (%g) is not %s", i,
                           k == FER_TENSOR_RUNNING_VAR - 1 ? "variance" : "mean",
                           j, (double)at[j],
                           k == FER_TENSOR_RUNNING_VAR - 1 ? "finite and >= 0"
                                                           : "finite");
      at += l->tensor_size[k];
    }
  }
  flat_copy(m, FER__TRAINABLE_TENSORS, FER__TENSORS, (float *)src, 0);
  fer__model_drop_quant(m);
  return FER_OK;
}
