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

static void max_pool_forward(const fer__layer *l, const fer__pass *p,
                             const float *x, float *y, float *saved) {
  const int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
  const long planes = (long)p->n * l->in.c;
  int32_t *winner = (int32_t *)saved;
FER__OMP(omp parallel for num_threads(p->threads) schedule(static) if (planes > 1 && fer__worth_parallel(p->threads, (double)planes * l->out.h * l->out.w * l->kh * l->kw)))
  for (long pl = 0; pl < planes; pl++) {
    const float *xp = x + pl * H * W;
    float *yp = y + pl * OH * OW;
    int32_t *wp = winner ? winner + pl * OH * OW : NULL;
    for (int oy = 0; oy < OH; oy++) {
      int y0 = oy * l->stride - l->pad_top;
      int ya = FER__MAX(y0, 0), yb = FER__MIN(y0 + l->kh, H);
      for (int ox = 0; ox < OW; ox++) {
        int x0 = ox * l->stride - l->pad_left;
        int xa = FER__MAX(x0, 0), xb = FER__MIN(x0 + l->kw, W);
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
