/* Max pooling: y = max over the window of x (padding never wins). The
 * forward pass remembers which input won, backward routes dy there. */
#include <float.h>
#include <string.h>

#include "nn/nn_internal.h"

static size_t max_pool_saved(const fer__layer *l, int n) {
  return (size_t)n * (size_t)fer__shape_size(l->out);
}

static size_t max_pool_scratch(const fer__layer *l) {
  (void)l;
  return 0;
}

static double max_pool_flops(const fer__layer *l) {
  (void)l;
  return 0.0;
}

/* Any window, stride and padding: one output at a time. Ties go to the
 * first input in row-major order (as in PyTorch), so the gradient lands
 * where a reference implementation puts it. */
static void max_pool_plane(const fer__layer *l, const float *xp, float *yp,
                           int32_t *wp) {
  const int W = l->in.w, OH = l->out.h, OW = l->out.w;
  for (int oy = 0; oy < OH; oy++) {
    for (int ox = 0; ox < OW; ox++) {
      int ya, yb, xa, xb;
      fer__pool_window(l, oy, ox, &ya, &yb, &xa, &xb);
      float best = -FLT_MAX;
      int32_t at = ya * W + xa;
      for (int iy = ya; iy < yb; iy++)
        for (int ix = xa; ix < xb; ix++)
          if (xp[iy * W + ix] > best) {
            best = xp[iy * W + ix];
            at = iy * W + ix;
          }
      yp[oy * OW + ox] = best;
      if (wp) wp[oy * OW + ox] = at;
    }
  }
}

/* 2x2 windows at stride 2 without padding, the pooling of every reference
 * net: the same comparisons in the same order as max_pool_plane, but with
 * fixed bounds the compiler unrolls them and, without the winner, turns
 * them into vector max instructions (the general loop cost 5% of a batch-1
 * prediction of the default net). */
static void max_pool_2x2_plane(const float *xp, int W, int OH, int OW,
                               float *yp, int32_t *wp) {
  for (int oy = 0; oy < OH; oy++) {
    const float *r0 = xp + 2 * oy * W, *r1 = r0 + W;
    float *out = yp + oy * OW;
    if (!wp) {
      for (int ox = 0; ox < OW; ox++) {
        float best = -FLT_MAX;
        best = r0[2 * ox] > best ? r0[2 * ox] : best;
        best = r0[2 * ox + 1] > best ? r0[2 * ox + 1] : best;
        best = r1[2 * ox] > best ? r1[2 * ox] : best;
        best = r1[2 * ox + 1] > best ? r1[2 * ox + 1] : best;
        out[ox] = best;
      }
      continue;
    }
    int32_t *win = wp + oy * OW;
    for (int ox = 0; ox < OW; ox++) {
      const int32_t i0 = 2 * oy * W + 2 * ox;
      const int32_t index[4] = {i0, i0 + 1, i0 + W, i0 + W + 1};
      const float v[4] = {r0[2 * ox], r0[2 * ox + 1], r1[2 * ox], r1[2 * ox + 1]};
      float best = -FLT_MAX;
      int32_t at = i0;
      for (int k = 0; k < 4; k++)
        if (v[k] > best) {
          best = v[k];
          at = index[k];
        }
      out[ox] = best;
      win[ox] = at;
    }
  }
}

static void max_pool_forward(const fer__layer *l, const fer__pass *p,
                             const float *x, float *y, float *saved) {
  const int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
  const long planes = (long)p->n * l->in.c;
  const int is_2x2 = l->kh == 2 && l->kw == 2 && l->stride == 2 &&
                     l->pad_top == 0 && l->pad_left == 0;
  int32_t *winner = (int32_t *)saved;
FER__OMP(omp parallel for num_threads(p->threads) schedule(static) if (planes > 1 && fer__worth_parallel(p->threads, (double)planes * l->out.h * l->out.w * l->kh * l->kw)))
  for (long pl = 0; pl < planes; pl++) {
    const float *xp = x + pl * H * W;
    float *yp = y + pl * OH * OW;
    int32_t *wp = winner ? winner + pl * OH * OW : NULL;
    if (is_2x2)
      max_pool_2x2_plane(xp, W, OH, OW, yp, wp);
    else
      max_pool_plane(l, xp, yp, wp);
  }
}

static void max_pool_backward(const fer__layer *l, const fer__pass *p,
                              const float *x, const float *y, const float *dy,
                              float *dx, const float *saved,
                              float *const *grads) {
  (void)x;
  (void)y;
  (void)grads;
  if (!dx) return;
  const long in_plane = (long)l->in.h * l->in.w;
  const long out_plane = (long)l->out.h * l->out.w;
  const long planes = (long)p->n * l->in.c;
  const int32_t *winner = (const int32_t *)saved;
  memset(dx, 0, (size_t)(planes * in_plane) * sizeof(float));
  for (long pl = 0; pl < planes; pl++)
    for (long o = 0; o < out_plane; o++)
      dx[pl * in_plane + winner[pl * out_plane + o]] += dy[pl * out_plane + o];
}

const fer__layer_ops fer__max_pool_ops = {
  .kind = FER_LAYER_MAX_POOL,
  .keyword = "max",
  .setup = fer__pool_setup,
  .saved_floats = max_pool_saved,
  .scratch_floats = max_pool_scratch,
  .flops = max_pool_flops,
  .forward = max_pool_forward,
  .backward = max_pool_backward,
  .parse = fer__pool_parse,
  .format = fer__pool_format,
};
