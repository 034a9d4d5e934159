/* Average pooling: y = sum over the window / (KH KW); zero padding counts
 * in the divisor (PyTorch's default, count_include_pad). */
#include <string.h>

#include "nn/nn_internal.h"

static size_t avg_pool_saved(const fer__layer *l, int n) {
  (void)l;
  (void)n;
  return 0;
}

static size_t avg_pool_scratch(const fer__layer *l) {
  (void)l;
  return 0;
}

static double avg_pool_flops(const fer__layer *l) {
  (void)l;
  return 0.0;
}

static void avg_pool_forward(const fer__layer *l, const fer__pass *p,
                             const float *x, float *y, float *saved) {
  (void)saved;
  const int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
  const long planes = (long)p->n * l->in.c;
  const float inv = 1.0f / (float)(l->kh * l->kw);
FER__OMP(omp parallel for num_threads(p->threads) schedule(static) if (planes > 1 && fer__worth_parallel(p->threads, (double)planes * l->out.h * l->out.w * l->kh * l->kw)))
  for (long pl = 0; pl < planes; pl++) {
    const float *xp = x + pl * H * W;
    float *yp = y + pl * OH * OW;
    for (int oy = 0; oy < OH; oy++) {
      for (int ox = 0; ox < OW; ox++) {
        int ya, yb, xa, xb;
        fer__pool_window(l, oy, ox, &ya, &yb, &xa, &xb);
        float sum = 0.0f;
        for (int iy = ya; iy < yb; iy++)
          for (int ix = xa; ix < xb; ix++) sum += xp[iy * W + ix];
        yp[oy * OW + ox] = sum * inv;
      }
    }
  }
}

static void avg_pool_backward(const fer__layer *l, const fer__pass *p,
                              const float *x, const float *y, const float *dy,
                              float *dx, const float *saved,
                              float *const *grads) {
  (void)x;
  (void)y;
  (void)saved;
  (void)grads;
  if (!dx) return;
  const int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
  const long planes = (long)p->n * l->in.c;
  const float inv = 1.0f / (float)(l->kh * l->kw);
  memset(dx, 0, (size_t)(planes * H * W) * sizeof(float));
FER__OMP(omp parallel for num_threads(p->threads) schedule(static) if (planes > 1 && fer__worth_parallel(p->threads, (double)planes * l->out.h * l->out.w * l->kh * l->kw)))
  for (long pl = 0; pl < planes; pl++) {
    float *dxp = dx + pl * H * W;
    const float *dyp = dy + pl * OH * OW;
    for (int oy = 0; oy < OH; oy++) {
      int y0 = oy * l->stride - l->pad_top;
      int ya = FER__MAX(y0, 0), yb = FER__MIN(y0 + l->kh, H);
      for (int ox = 0; ox < OW; ox++) {
        int x0 = ox * l->stride - l->pad_left;
        int xa = FER__MAX(x0, 0), xb = FER__MIN(x0 + l->kw, W);
        float g = dyp[oy * OW + ox] * inv;
        for (int iy = ya; iy < yb; iy++)
          for (int ix = xa; ix < xb; ix++) dxp[iy * W + ix] += g;
      }
    }
  }
}

const fer__layer_ops fer__avg_pool_ops = {
  .kind = FER_LAYER_AVG_POOL,
  .keyword = "avg",
  .setup = fer__pool_setup,
  .saved_floats = avg_pool_saved,
  .scratch_floats = avg_pool_scratch,
  .flops = avg_pool_flops,
  .forward = avg_pool_forward,
  .backward = avg_pool_backward,
  .parse = fer__pool_parse,
  .format = fer__pool_format,
};
