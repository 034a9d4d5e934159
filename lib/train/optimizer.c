/* Optimisers: SGD (momentum, Nesterov), Adam, AdamW, with weight decay and
 * clipping by global gradient norm, following PyTorch's update rules:
 *   SGD:   g += wd p; b = mu b + g; p -= lr (nesterov ? g + mu b : b)
 *   Adam:  g += wd p (AdamW instead: p *= 1 - lr wd);
 *          m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *          p -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 * Settings go through keyed setters driven by one table. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/params.h"
#include "nn/quant.h"
#include "train/optim_internal.h"
#include "util/endian.h"

/* The one table behind set, get, bounds and the state file (which writes
 * the values in key order): key, name, kind, min, max, default, field. The
 * 0/1 switch nesterov is a FLOAT row because any value in [0, 1] has always
 * been accepted (nonzero means on). */
#define ROW(key, name, min, max, def, member)                                \
  [key] = {(name), FER__PARAM_FLOAT, (min), (max), (def),                  \
           FER__PARAM_MIN_INCLUSIVE, offsetof(fer_optimizer, member)}
static const fer__param rows[] = {
  ROW(FER_OPT_LEARNING_RATE, "learning_rate", 1e-12, 10.0, 1e-3, lr),
  ROW(FER_OPT_MOMENTUM, "momentum", 0.0, 0.999999, 0.0, momentum),
  ROW(FER_OPT_NESTEROV, "nesterov", 0.0, 1.0, 0.0, nesterov),
  ROW(FER_OPT_BETA1, "beta1", 0.0, 0.999999, 0.9, beta1),
  ROW(FER_OPT_BETA2, "beta2", 0.0, 0.999999, 0.999, beta2),
  ROW(FER_OPT_EPSILON, "epsilon", 1e-30, 1.0, 1e-8, epsilon),
  ROW(FER_OPT_WEIGHT_DECAY, "weight_decay", 0.0, 1.0, 0.0, weight_decay),
  ROW(FER_OPT_CLIP_NORM, "clip_norm", 0.0, 1e30, 0.0, clip_norm),
};
#undef ROW
_Static_assert(FER__ARRAY_LEN(rows) == FER_OPT_CLIP_NORM + 1,
               "one table row per optimizer key");
static const fer__param_table params =
    FER__PARAM_TABLE("optimizer", rows, FER_ERR_INVALID_ARGUMENT);
enum { NUM_VALUES = FER_OPT_CLIP_NORM }; /* keys 1..8, as written in state */

static fer_status check_opt(const fer_optimizer *opt, const char *who) {
  if (!opt || opt->magic != FER__OPTIMIZER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: optimizer is NULL or not live", who);
  return FER_OK;
}

fer_status fer_optimizer_create(fer_optimizer_kind kind, fer_optimizer **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_optimizer_create: out is NULL");
  *out = NULL;
  if (kind < FER_OPTIMIZER_SGD || kind > FER_OPTIMIZER_ADAMW)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_optimizer_create: kind %d is unknown", (int)kind);
  fer_optimizer *opt = fer__calloc(1, sizeof *opt);
  if (!opt) return fer__fail(FER_ERR_OUT_OF_MEMORY, "optimizer: out of memory");
  opt->magic = FER__OPTIMIZER_MAGIC;
  opt->kind = kind;
  fer__param_set_defaults(&params, opt);
  if (kind == FER_OPTIMIZER_ADAMW) opt->weight_decay = 0.01; /* as PyTorch */
  *out = opt;
  return FER_OK;
}

void fer_optimizer_free(fer_optimizer *opt) {
  if (!opt || opt->magic != FER__OPTIMIZER_MAGIC) return;
  fer__free(opt->m1);
  fer__free(opt->m2);
  opt->magic = 0;
  fer__free(opt);
}

fer_status fer_optimizer_set(fer_optimizer *opt, fer_optimizer_param key,
                             double value) {
  fer_status st = check_opt(opt, "fer_optimizer_set");
  return st ? st : fer__param_set(&params, "fer_optimizer_set", opt, (int)key, value);
}

fer_status fer_optimizer_get(const fer_optimizer *opt, fer_optimizer_param key,
                             double *value) {
  fer_status st = check_opt(opt, "fer_optimizer_get");
  return st ? st : fer__param_get(&params, "fer_optimizer_get", opt, (int)key, value);
}

fer_status fer_optimizer_param_info(fer_optimizer_param key, const char **name,
                                    double *default_value, double *min_value,
                                    double *max_value) {
  return fer__param_info(&params, "fer_optimizer_param_info", (int)key, name,
                         min_value, max_value, default_value);
}

long fer_optimizer_steps(const fer_optimizer *opt) {
  return check_opt(opt, "fer_optimizer_steps") ? 0 : opt->steps;
}

static void clip_by_global_norm(float *g, size_t n, double max_norm) {
  double sq = 0.0;
  for (size_t i = 0; i < n; i++) sq += (double)g[i] * g[i];
  double norm = sqrt(sq);
  double coef = max_norm / (norm + 1e-6);
  if (coef >= 1.0) return;
  for (size_t i = 0; i < n; i++) g[i] = (float)(g[i] * coef);
}

fer_status fer__optimizer_prepare(fer_optimizer *opt, const fer_model *m) {
  const size_t total = m->trainable_floats;
  if (opt->size) return FER_OK;
  opt->m1 = fer__calloc(total, sizeof(float));
  opt->m2 = opt->kind == FER_OPTIMIZER_SGD ? NULL : fer__calloc(total, sizeof(float));
  if (!opt->m1 || (opt->kind != FER_OPTIMIZER_SGD && !opt->m2)) {
    fer__free(opt->m1);
    fer__free(opt->m2);
    opt->m1 = opt->m2 = NULL;
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "optimizer state: out of memory");
  }
  opt->size = total;
  return FER_OK;
}

fer_status fer__optimizer_update(fer_optimizer *opt, fer_model *m,
                                 float *grads) {
  const size_t total = m->trainable_floats;
  fer_status st = fer__optimizer_prepare(opt, m);
  if (st) return st;
  fer__model_drop_quant(m); /* the weights change */
  if (opt->clip_norm > 0.0) clip_by_global_norm(grads, total, opt->clip_norm);
  opt->steps++;
  const float lr = (float)opt->lr, wd = (float)opt->weight_decay;
  const float mu = (float)opt->momentum, b1 = (float)opt->beta1,
              b2 = (float)opt->beta2, eps = (float)opt->epsilon;
  const double bc1 = 1.0 - pow(opt->beta1, (double)opt->steps);
  const double bc2 = 1.0 - pow(opt->beta2, (double)opt->steps);
  const float step_size = (float)(opt->lr / bc1);
  const float inv_sqrt_bc2 = (float)(1.0 / sqrt(bc2));
  for (int li = 0; li < m->num_layers; li++) {
    fer__layer *l = &m->layers[li];
    size_t off = l->param_offset;
    for (int k = 0; k < FER__TRAINABLE_TENSORS; k++) {
      float *p = l->tensor[k];
      size_t n = l->tensor_size[k];
      if (!p) continue;
      float *g = grads + off, *m1 = opt->m1 + off;
      float *m2 = opt->m2 ? opt->m2 + off : NULL;
      off += n;
      if (opt->kind == FER_OPTIMIZER_SGD) {
        for (size_t i = 0; i < n; i++) {
          float gi = g[i] + wd * p[i];
          if (mu > 0.0f) {
            m1[i] = mu * m1[i] + gi;
            gi = opt->nesterov != 0.0 ? gi + mu * m1[i] : m1[i];
          }
          p[i] -= lr * gi;
        }
      } else {
        const int decoupled = opt->kind == FER_OPTIMIZER_ADAMW;
        for (size_t i = 0; i < n; i++) {
          float gi = g[i];
          if (decoupled) p[i] *= 1.0f - lr * wd;
          else gi += wd * p[i];
          m1[i] = b1 * m1[i] + (1.0f - b1) * gi;
          m2[i] = b2 * m2[i] + (1.0f - b2) * gi * gi;
          p[i] -= step_size * m1[i] / (sqrtf(m2[i]) * inv_sqrt_bc2 + eps);
        }
      }
    }
  }
  return FER_OK;
}

/* ---- State for resumable training ---- */

static void put_f64(fer__buf *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  fer__buf_u64le(b, u);
}

void fer__optimizer_serialize(const fer_optimizer *opt, fer__buf *out) {
  size_t moments = (opt->m1 ? opt->size : 0) + (opt->m2 ? opt->size : 0);
  uint32_t len = (uint32_t)(4 + 8 * 8 + 8 + 8 + 4 + 4 * moments);
  fer__buf_append(out, "OPT1", 4);
  fer__buf_u32le(out, len);
  fer__buf_u32le(out, (uint32_t)opt->kind);
  for (int k = 1; k <= NUM_VALUES; k++) put_f64(out, fer__param_value(&rows[k], opt));
  fer__buf_u64le(out, (uint64_t)opt->steps);
  fer__buf_u64le(out, (uint64_t)opt->size);
  fer__buf_u32le(out, (opt->m1 ? 1u : 0u) | (opt->m2 ? 2u : 0u));
  for (size_t i = 0; opt->m1 && i < opt->size; i++) fer__buf_f32le(out, opt->m1[i]);
  for (size_t i = 0; opt->m2 && i < opt->size; i++) fer__buf_f32le(out, opt->m2[i]);
}

fer_status fer__optimizer_restore(fer_optimizer *opt, const uint8_t *data,
                                  size_t size, size_t *offset) {
  size_t at = *offset;
  if (size < at || size - at < 8 || memcmp(data + at, "OPT1", 4) != 0)
    return fer__fail(FER_ERR_FORMAT, "optimizer state: no OPT1 record at byte %zu", at);
  uint32_t len = fer__get_u32le(data + at + 4);
  const uint8_t *p = data + at + 8;
  if (len > size - at - 8)
    return fer__fail(FER_ERR_TRUNCATED, "optimizer state: truncated at byte %zu "
                     "(expected %u more)", size, (unsigned)(len - (size - at - 8)));
  const size_t fixed = 4 + 8 * 8 + 8 + 8 + 4;
  if (len < fixed) return fer__fail(FER_ERR_FORMAT, "optimizer state: record too short");
  if ((fer_optimizer_kind)fer__get_u32le(p) != opt->kind)
    return fer__fail(FER_ERR_FORMAT, "optimizer state: written by another optimizer kind");
  double values[NUM_VALUES + 1];
  for (int k = 1; k <= NUM_VALUES; k++) {
    uint64_t u = fer__get_u64le(p + 4 + 8 * (size_t)(k - 1));
    memcpy(&values[k], &u, 8);
    if (fer__param_check_value(&params, "optimizer state", &rows[k], values[k]))
      return fer__fail(FER_ERR_FORMAT, "optimizer state: %s out of bounds",
                       rows[k].name);
  }
  uint64_t steps = fer__get_u64le(p + 68), n = fer__get_u64le(p + 76);
  uint32_t flags = fer__get_u32le(p + 84);
  size_t arrays = ((flags & 1u) != 0) + ((flags & 2u) != 0);
  if (flags > 3u || steps > (1ull << 62) || n > (uint64_t)FER_MODEL_MAX_PARAMS ||
      (uint64_t)len != fixed + 4ull * n * arrays)
    return fer__fail(FER_ERR_FORMAT, "optimizer state: inconsistent sizes");
  float *m1 = NULL, *m2 = NULL;
  if (flags & 1u) m1 = fer__malloc((size_t)n * sizeof(float));
  if (flags & 2u) m2 = fer__malloc((size_t)n * sizeof(float));
  if (((flags & 1u) && !m1) || ((flags & 2u) && !m2)) {
    fer__free(m1);
    fer__free(m2);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "optimizer state: out of memory");
  }
  const uint8_t *q = p + fixed;
  for (size_t i = 0; m1 && i < n; i++, q += 4) m1[i] = fer__get_f32le(q);
  for (size_t i = 0; m2 && i < n; i++, q += 4) m2[i] = fer__get_f32le(q);
  for (int k = 1; k <= NUM_VALUES; k++) /* each checked above */
    (void)fer__param_set(&params, "optimizer state", opt, k, values[k]);
  fer__free(opt->m1);
  fer__free(opt->m2);
  opt->m1 = m1;
  opt->m2 = m2;
  opt->steps = (long)steps;
  opt->size = m1 ? (size_t)n : 0;
  *offset = at + 8 + len;
  return FER_OK;
}
