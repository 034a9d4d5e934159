/* Batch normalisation per channel: y = gamma (x - mean) / sqrt(var + eps) +
 * beta. Training uses the batch's mean and (biased) variance over N x H x W
 * and then folds them into the running statistics with PyTorch's momentum
 * convention (the variance unbiased); evaluation uses the running ones.
 * Backward (training statistics), with xhat the normalised input, M = NHW:
 *   dx = gamma / (M sqrt(var + eps)) (M dy - sum dy - xhat sum dy xhat). */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

static fer_status bn_setup(fer__layer *l) {
  if (!(l->alpha >= 0.0f && l->alpha <= 1.0f) || !(l->eps > 0.0f) ||
      !isfinite(l->eps))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "bn: momentum %g must be in [0, 1] and eps %g above 0",
                     (double)l->alpha, (double)l->eps);
  l->out = l->in;
  for (int k = 0; k < FER__TENSORS; k++) l->tensor_size[k] = (size_t)l->in.c;
  return FER_OK;
}

/* Batch mean, 1 / sqrt(var + eps) and the biased variance, per channel. */
static size_t bn_saved(const fer__layer *l, int n) {
  (void)n;
  return 3 * (size_t)l->in.c;
}

static double bn_flops(const fer__layer *l) {
  (void)l;
  return 0.0;
}

/* Channel c's affine map from its mean and 1 / sqrt(var + eps). */
static void bn_affine(const fer__layer *l, int c, float mean, float inv_std,
                      float *scale, float *shift) {
  *scale = l->tensor[0][c] * inv_std;
  *shift = l->tensor[1][c] - mean * *scale;
}

static float bn_running_inv_std(const fer__layer *l, int c) {
  return 1.0f / sqrtf(l->tensor[3][c] + l->eps);
}

void fer__bn_inference_affine(const fer__layer *l, float *scale, float *shift) {
  for (int c = 0; c < l->in.c; c++)
    bn_affine(l, c, l->tensor[2][c], bn_running_inv_std(l, c), &scale[c],
              &shift[c]);
}

/* Sums of d = x - pivot and of d^2 over channel c of the batch, in double
 * (float would lose digits over N x H x W values), four running sums each
 * so that the adds overlap. The pivot (a value of the channel) keeps the
 * variance's digits in a one-pass sum when the mean is far from 0. */
static void bn_moments(const float *x, int n, int C, int c, long plane,
                       double pivot, double *sum, double *sq) {
  double s[4] = {0.0, 0.0, 0.0, 0.0}, q[4] = {0.0, 0.0, 0.0, 0.0};
  for (int i = 0; i < n; i++) {
    const float *xp = x + ((long)i * C + c) * plane;
    long k = 0;
    for (; k + 4 <= plane; k += 4)
      for (int j = 0; j < 4; j++) {
        const double d = (double)xp[k + j] - pivot;
        s[j] += d;
        q[j] += d * d;
      }
    for (; k < plane; k++) {
      const double d = (double)xp[k] - pivot;
      s[0] += d;
      q[0] += d * d;
    }
  }
  *sum = (s[0] + s[1]) + (s[2] + s[3]);
  *sq = (q[0] + q[1]) + (q[2] + q[3]);
}

/* Training: one pass for the statistics, one that normalises (and applies
 * a fused ReLU). */
static void bn_forward_fused(const fer__layer *l, const fer__pass *p,
                             const float *x, float *y, float *saved,
                             const fer__epilogue *e) {
  const int C = l->in.c, relu = e && e->relu;
  const long plane = (long)l->in.h * l->in.w, M = (long)p->n * plane;
  FER__OMP(omp parallel for num_threads(p->threads) schedule(static)
           if (C > 1 && fer__worth_parallel(p->threads, 4.0 * M * C)))
  for (int c = 0; c < C; c++) {
    float mean, inv_std;
    if (p->training) {
      const double pivot = x[(long)c * plane];
      double sum, sq;
      bn_moments(x, p->n, C, c, plane, pivot, &sum, &sq);
      const double shift = sum / (double)M;
      const double var = FER__MAX(sq / (double)M - shift * shift, 0.0);
      mean = (float)(pivot + shift);
      inv_std = (float)(1.0 / sqrt(var + l->eps));
      if (saved) {
        saved[c] = mean;
        saved[C + c] = inv_std;
        saved[2 * C + c] = (float)var;
      }
    } else {
      mean = l->tensor[2][c];
      inv_std = bn_running_inv_std(l, c);
    }
    float scale, shift;
    bn_affine(l, c, mean, inv_std, &scale, &shift);
    for (int n = 0; n < p->n; n++)
      fer__affine_act(x + ((long)n * C + c) * plane, y + ((long)n * C + c) * plane,
                      plane, 0.0f, scale, shift, relu);
  }
}

static void bn_forward(const fer__layer *l, const fer__pass *p, const float *x,
                       float *y, float *saved) {
  bn_forward_fused(l, p, x, y, saved, NULL);
}

static void bn_update_running(fer__layer *l, const float *saved, int n) {
  const int C = l->in.c;
  const long M = (long)n * l->in.h * l->in.w;
  const float mom = l->alpha;
  const float unbias = M > 1 ? (float)M / (float)(M - 1) : 1.0f;
  for (int c = 0; c < C; c++) {
    l->tensor[2][c] = (1.0f - mom) * l->tensor[2][c] + mom * saved[c];
    l->tensor[3][c] =
        (1.0f - mom) * l->tensor[3][c] + mom * saved[2 * C + c] * unbias;
  }
}

static void bn_backward(const fer__layer *l, const fer__pass *p, const float *x,
                        const float *y, const float *dy, float *dx,
                        const float *saved, float *const *grads) {
  (void)y;
  const int C = l->in.c;
  const long plane = (long)l->in.h * l->in.w, M = (long)p->n * plane;
  const float *gamma = l->tensor[0];
  FER__OMP(omp parallel for num_threads(p->threads) schedule(static)
           if (C > 1 && fer__worth_parallel(p->threads, 4.0 * M * C)))
  for (int c = 0; c < C; c++) {
    const float mean = saved[c], inv_std = saved[C + c];
    /* sum dy and sum dy (x - mean), four running sums each. */
    double s[4] = {0.0, 0.0, 0.0, 0.0}, q[4] = {0.0, 0.0, 0.0, 0.0};
    for (int n = 0; n < p->n; n++) {
      const float *xp = x + ((long)n * C + c) * plane;
      const float *dp = dy + ((long)n * C + c) * plane;
      long i = 0;
      for (; i + 4 <= plane; i += 4)
        for (int j = 0; j < 4; j++) {
          s[j] += dp[i + j];
          q[j] += (double)dp[i + j] * ((double)xp[i + j] - mean);
        }
      for (; i < plane; i++) {
        s[0] += dp[i];
        q[0] += (double)dp[i] * ((double)xp[i] - mean);
      }
    }
    const double sum_dy = (s[0] + s[1]) + (s[2] + s[3]);
    const double sum_dy_xhat = ((q[0] + q[1]) + (q[2] + q[3])) * inv_std;
    grads[0][c] = (float)sum_dy_xhat;
    grads[1][c] = (float)sum_dy;
    if (!dx) continue;
    /* dx = k (M dy - a - xhat b), xhat = (x - mean) inv_std */
    const float k = gamma[c] * inv_std / (float)M;
    const float a = (float)sum_dy, b = (float)sum_dy_xhat, fm = (float)M;
    for (int n = 0; n < p->n; n++) {
      const float *xp = x + ((long)n * C + c) * plane;
      const float *dp = dy + ((long)n * C + c) * plane;
      float *dxp = dx + ((long)n * C + c) * plane;
      long i = 0;
#if FER__V4_LANES
      const fer__v4 vk = {k, k, k, k}, va = {a, a, a, a}, vb = {b, b, b, b};
      const fer__v4 vm = {fm, fm, fm, fm}, vmean = {mean, mean, mean, mean};
      const fer__v4 vinv = {inv_std, inv_std, inv_std, inv_std};
      for (; i + 4 <= plane; i += 4) {
        const fer__v4 xhat = (fer__v4_load(xp + i) - vmean) * vinv;
        fer__v4_store(dxp + i, vk * (vm * fer__v4_load(dp + i) - va - xhat * vb));
      }
#endif
      for (; i < plane; i++) {
        const float xhat = (xp[i] - mean) * inv_std;
        dxp[i] = k * (fm * dp[i] - a - xhat * b);
      }
    }
  }
}

/* bn [momentum=M] [eps=E] */
static fer_status bn_parse(fer__layer *l, const fer__arch_words *w) {
  fer_status st;
  l->alpha = 0.1f;
  l->eps = 1e-5f;
  for (int i = 1; i < w->count; i++) {
    fer__arch_word v;
    float *dst;
    if (fer__arch_is_option(w, i, "momentum", &v)) dst = &l->alpha;
    else if (fer__arch_is_option(w, i, "eps", &v)) dst = &l->eps;
    else
      return fer__arch_error(w, i, "unknown bn option '%.*s'",
                             (int)w->word[i].len, w->word[i].text);
    fer__arch_words one = {.count = 1, .line = w->line};
    one.word[0] = v;
    if ((st = fer__arch_float(&one, 0, dst))) return st;
  }
  return FER_OK;
}

static void bn_format(const fer__layer *l, fer__buf *out) {
  if (l->alpha != 0.1f) {
    fer__buf_printf(out, " momentum=");
    fer__arch_format_float(out, l->alpha);
  }
  if (l->eps != 1e-5f) {
    fer__buf_printf(out, " eps=");
    fer__arch_format_float(out, l->eps);
  }
}

const fer__layer_ops fer__batch_norm_ops = {
  .kind = FER_LAYER_BATCH_NORM,
  .keyword = "bn",
  .setup = bn_setup,
  .saved_floats = bn_saved,
  .scratch_floats = fer__no_scratch,
  .flops = bn_flops,
  .forward = bn_forward,
  .forward_fused = bn_forward_fused,
  .backward = bn_backward,
  .update_running = bn_update_running,
  .parse = bn_parse,
  .format = bn_format,
};
