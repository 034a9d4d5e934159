/* Batches through the engine: the mode switch, the loss settings, softmax
 * cross-entropy (fused with a final softmax), fer_model_forward and
 * fer_model_evaluate. The training step that adds the backward sweep and
 * the optimiser update lives in lib/train/train_step.c. */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

#define MAX_BATCH 65536

fer_status fer_model_set_training(fer_model *m, int training) {
  fer_status st = fer__model_check(m, "fer_model_set_training");
  if (st) return st;
  m->training = training != 0;
  return FER_OK;
}

int fer_model_is_training(const fer_model *m) {
  return fer__model_check(m, "fer_model_is_training") ? 0 : m->training;
}

fer_status fer_model_set_seed(fer_model *m, uint64_t seed) {
  fer_status st = fer__model_check(m, "fer_model_set_seed");
  if (st) return st;
  m->seed = seed;
  fer__rng_seed(&m->dropout_rng, seed);
  return FER_OK;
}

fer_status fer_model_set_label_smoothing(fer_model *m, float s) {
  fer_status st = fer__model_check(m, "fer_model_set_label_smoothing");
  if (st) return st;
  if (!(s >= 0.0f && s < 1.0f))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_set_label_smoothing: %g is not in [0, 1)",
                     (double)s);
  m->label_smoothing = s;
  return FER_OK;
}

fer_status fer_model_set_class_weights(fer_model *m, const float *weights,
                                       int count) {
  fer_status st = fer__model_check(m, "fer_model_set_class_weights");
  if (st) return st;
  if (!weights) {
    fer__free(m->class_weights);
    m->class_weights = NULL;
    return FER_OK;
  }
  int classes = fer_model_output_size(m);
  if (count != classes)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_set_class_weights: %d weights for %d classes",
                     count, classes);
  for (int i = 0; i < count; i++)
    if (!(weights[i] >= 0.0f) || !isfinite(weights[i]))
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "fer_model_set_class_weights: weight %d (%g) is not a "
                       "finite number >= 0", i, (double)weights[i]);
  float *copy = fer__malloc((size_t)count * sizeof *copy);
  if (!copy) return fer__fail(FER_ERR_OUT_OF_MEMORY, "class weights: out of memory");
  memcpy(copy, weights, (size_t)count * sizeof *copy);
  fer__free(m->class_weights);
  m->class_weights = copy;
  return FER_OK;
}

/* A final softmax over a K x 1 x 1 output is folded into the loss. */
static int softmax_is_fused(const fer_model *m) {
  return m->num_layers > 0 &&
         m->layers[m->num_layers - 1].kind == FER_LAYER_SOFTMAX &&
         m->layers[m->num_layers - 1].out.h == 1 &&
         m->layers[m->num_layers - 1].out.w == 1;
}

int fer__logits_layers(const fer_model *m) {
  return softmax_is_fused(m) ? m->num_layers - 1 : m->num_layers;
}

/* Softmax cross-entropy of a batch against integer labels (targets NULL:
 * q = (1 - s) onehot(y) + s / K, weight w[y_i] from the class weights) or
 * soft targets (q = t_i, weight v_i from the sample weights): the mean of
 * weight_i * (-sum_k q_ik log softmax(z_i)_k) divided by the sum of the
 * weights; dz = weight (p - q) / sum of weights. A hit is argmax z ==
 * the label, or argmax t (first maximum of each). */
static double cross_entropy(const float *z, int n, int K, const int32_t *labels,
                            float smoothing, const float *class_weights,
                            const float *targets, const float *sample_weights,
                            float *dz, int *correct) {
  const float *row_weights = targets ? sample_weights : class_weights;
#define WEIGHT_OF(i) \
  (row_weights ? row_weights[targets ? (i) : labels[i]] : 1.0)
  double total = 0.0, weight_sum = 0.0;
  int hits = 0;
  for (int i = 0; i < n; i++) weight_sum += WEIGHT_OF(i);
  for (int i = 0; i < n; i++) {
    const float *zi = z + (long)i * K, *ti = targets ? targets + (long)i * K : NULL;
    int best = 0, wanted = 0;
    for (int k = 1; k < K; k++) {
      if (zi[k] > zi[best]) best = k;
      if (ti && ti[k] > ti[wanted]) wanted = k;
    }
    hits += best == (ti ? wanted : labels[i]);
    double lse = 0.0;
    for (int k = 0; k < K; k++) lse += exp((double)zi[k] - zi[best]);
    lse = log(lse) + zi[best];
    double w = WEIGHT_OF(i);
    double loss = 0.0;
    for (int k = 0; k < K; k++) {
      double q = ti ? (double)ti[k]
                    : (1.0 - smoothing) * (k == labels[i]) + (double)smoothing / K;
      double logp = zi[k] - lse;
      loss -= q * logp;
      if (dz)
        dz[(long)i * K + k] =
            weight_sum > 0.0 ? (float)(w * (exp(logp) - q) / weight_sum) : 0.0f;
    }
    total += w * loss;
  }
#undef WEIGHT_OF
  if (correct) *correct = hits;
  return weight_sum > 0.0 ? total / weight_sum : 0.0;
}

double fer__cross_entropy(const float *z, int n, int K, const int32_t *labels,
                          float smoothing, const float *class_weights,
                          float *dz, int *correct) {
  return cross_entropy(z, n, K, labels, smoothing, class_weights, NULL, NULL, dz,
                       correct);
}

double fer__cross_entropy_soft(const float *z, int n, int K, const float *targets,
                               const float *sample_weights, float *dz,
                               int *correct) {
  return cross_entropy(z, n, K, NULL, 0.0f, NULL, targets, sample_weights, dz,
                       correct);
}

/* Row sums of soft targets may be off 1 by this much (float rounding of a
 * mix of a few distributions stays far below it). */
#define TARGET_SUM_TOLERANCE 1e-3

fer_status fer__check_soft_targets(const char *who, const float *targets,
                                   size_t target_count, const float *sample_weights,
                                   int n, int K) {
  if (!targets)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: targets are NULL", who);
  if (target_count != (size_t)n * (size_t)K)
    return fer__fail(FER_ERR_SHAPE, "%s: %zu target floats for %d images of %d "
                     "classes (need %zu)", who, target_count, n, K,
                     (size_t)n * (size_t)K);
  for (int i = 0; i < n; i++) {
    const float *ti = targets + (size_t)i * (size_t)K;
    double sum = 0.0;
    for (int k = 0; k < K; k++) {
      if (!isfinite(ti[k]) || ti[k] < 0.0f)
        return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: target %d of image %d "
                         "(%g) is not a finite number >= 0", who, k, i, (double)ti[k]);
      sum += ti[k];
    }
    if (fabs(sum - 1.0) > TARGET_SUM_TOLERANCE)
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: the targets of image %d sum "
                       "to %.6g, not 1 (within %g)", who, i, sum, TARGET_SUM_TOLERANCE);
    if (sample_weights && (!isfinite(sample_weights[i]) || sample_weights[i] < 0.0f))
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: the weight of image %d (%g) "
                       "is not a finite number >= 0", who, i, (double)sample_weights[i]);
  }
  return FER_OK;
}

fer_status fer__check_batch(fer_model *m, const char *who, const float *x,
                            const int32_t *labels, int n, int need_labels) {
  fer_status st = fer__model_check(m, who);
  if (st) return st;
  if (!x || n < 1 || n > MAX_BATCH || (need_labels && !labels))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: need input%s and a batch of 1..%d (got %d)", who,
                     need_labels ? ", labels" : "", MAX_BATCH, n);
  if (!need_labels) return FER_OK;
  fer__shape out = fer__model_output_shape(m);
  if (out.h != 1 || out.w != 1)
    return fer__fail(FER_ERR_SHAPE,
                     "%s: the output %dx%dx%d is not a class vector (add "
                     "flatten/gap and dense)", who, out.c, out.h, out.w);
  for (int i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= out.c)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: label %d of image %d is not in 0..%d", who,
                       (int)labels[i], i, out.c - 1);
  return FER_OK;
}

/* The loss's logits: the input of a fused final softmax, else the output. */
const float *fer__logits_of(const fer_model *m, const float *x) {
  int k = fer__logits_layers(m);
  if (k == m->num_layers) return k == 0 ? x : m->ws->act[k - 1];
  /* The fused softmax's input (the layer before it in a chain). */
  return fer__src_act(m->ws->act, x, m->layers[m->num_layers - 1].src[0]);
}

fer_status fer_model_forward(fer_model *m, const float *x, int n, float *out) {
  fer_status st = fer__check_batch(m, "fer_model_forward", x, NULL, n, 0);
  if (st) return st;
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_forward: out is NULL");
  if ((st = fer__workspace_prepare(m, &m->ws, n, 0))) return st;
  const float *y = fer__forward(m, m->ws, x, n, m->training, &m->dropout_rng);
  memcpy(out, y, (size_t)n * (size_t)fer_model_output_size(m) * sizeof(float));
  return FER_OK;
}

fer_status fer_model_evaluate(fer_model *m, const float *x,
                              const int32_t *labels, int n, float *loss,
                              float *accuracy) {
  fer_status st = fer__check_batch(m, "fer_model_evaluate", x, labels, n, 1);
  if (st) return st;
  if ((st = fer__workspace_prepare(m, &m->ws, n, 0))) return st;
  fer__forward(m, m->ws, x, n, m->training, &m->dropout_rng);
  int correct;
  double l = fer__cross_entropy(fer__logits_of(m, x), n, fer_model_output_size(m),
                                labels, m->label_smoothing, m->class_weights, NULL,
                                &correct);
  if (loss) *loss = (float)l;
  if (accuracy) *accuracy = (float)correct / (float)n;
  return FER_OK;
}
