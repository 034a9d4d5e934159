/* 2-D convolution: y[f] = b[f] + sum_{c in group(f), ky, kx}
 *   w[f][c][ky][kx] * x[c][oy*s - pt + ky*d][ox*s - pl + kx*d]
 * computed as im2col + one GEMM per group, per image; 3x3 stride-1 "same"
 * convolutions (the reference nets' workhorse) run their forward pass and
 * input gradient by Winograd F(2x2, 3x3) instead (conv_winograd.c), 2.25x
 * fewer multiplications. Images run in parallel across threads (GEMM then
 * stays single-threaded); a batch of one runs one image with the GEMM
 * itself parallel. */
#include <math.h>
#include <string.h>

#include "nn/conv_winograd.h"
#include "nn/gemm.h"
#include "nn/nn_internal.h"

static fer_status conv_setup(fer__layer *l) {
  if (l->units < 1 || l->kh < 1 || l->kw < 1 || l->stride < 1 ||
      l->dilation < 1 || l->groups < 1 ||
      (l->padding < 0 && l->padding != FER_PADDING_SAME))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "conv: filters %d, kernel %dx%d, stride %d, dilation %d, "
                     "groups %d, padding %d: each must be >= 1 (padding >= 0)",
                     l->units, l->kh, l->kw, l->stride, l->dilation, l->groups,
                     l->padding);
  if (l->units > FER_MODEL_MAX_DIM || l->kh > FER_MODEL_MAX_DIM ||
      l->kw > FER_MODEL_MAX_DIM || l->stride > FER_MODEL_MAX_DIM ||
      l->dilation > FER_MODEL_MAX_DIM || l->groups > FER_MODEL_MAX_DIM ||
      l->padding > FER_MODEL_MAX_DIM)
    return fer__fail(FER_ERR_TOO_LARGE, "conv: a size is beyond %d",
                     FER_MODEL_MAX_DIM);
  if (l->in.c % l->groups || l->units % l->groups)
    return fer__fail(FER_ERR_SHAPE,
                     "conv: %d input channels and %d filters are not both "
                     "divisible by %d groups", l->in.c, l->units, l->groups);
  long span_h = (long)(l->kh - 1) * l->dilation + 1;
  long span_w = (long)(l->kw - 1) * l->dilation + 1;
  long oh, ow;
  if (l->padding == FER_PADDING_SAME) {
    oh = (l->in.h + l->stride - 1) / l->stride;
    ow = (l->in.w + l->stride - 1) / l->stride;
    long th = FER__MAX((oh - 1) * l->stride + span_h - l->in.h, 0);
    long tw = FER__MAX((ow - 1) * l->stride + span_w - l->in.w, 0);
    l->pad_top = (int)(th / 2);
    l->pad_left = (int)(tw / 2);
  } else {
    long ph = l->in.h + 2L * l->padding, pw = l->in.w + 2L * l->padding;
    if (ph < span_h || pw < span_w)
      return fer__fail(FER_ERR_SHAPE,
                       "conv: kernel span %ldx%ld is larger than the padded "
                       "input %ldx%ld", span_h, span_w, ph, pw);
    oh = (ph - span_h) / l->stride + 1;
    ow = (pw - span_w) / l->stride + 1;
    l->pad_top = l->pad_left = l->padding;
  }
  double weights = (double)l->units * (l->in.c / l->groups) * l->kh * l->kw;
  if (weights > (double)FER_MODEL_MAX_PARAMS ||
      (double)l->in.c * l->kh * l->kw * oh * ow > (double)FER_MODEL_MAX_ACTIVATION)
    return fer__fail(FER_ERR_TOO_LARGE, "conv: %.0f weights is beyond the limits",
                     weights);
  l->out = (fer__shape){l->units, (int)oh, (int)ow};
  l->tensor_size[0] = (size_t)weights;
  l->tensor_size[1] = l->bias ? (size_t)l->units : 0;
  return FER_OK;
}

/* Multiply-adds times two for one image, as the direct sum counts them. */
static double conv_flops_of(const fer__layer *l) {
  return 2.0 * (double)l->tensor_size[0] * l->out.h * l->out.w;
}

static double conv_flops(const fer__layer *l) { return conv_flops_of(l); }

/* 1x1, stride 1, no padding: the input already is the im2col matrix. */
static int conv_is_direct(const fer__layer *l) {
  return l->kh == 1 && l->kw == 1 && l->stride == 1 && l->pad_top == 0 &&
         l->pad_left == 0 && l->out.h == l->in.h && l->out.w == l->in.w;
}

static size_t conv_col_floats(const fer__layer *l) {
  return conv_is_direct(l) ? 0
      : (size_t)l->in.c * l->kh * l->kw * l->out.h * l->out.w;
}

/* Winograd F(2x2, 3x3) applies: 3x3, stride 1, no dilation or groups, one
 * pixel of zero padding on every side (output size = input size), and
 * enough channels that the 16 products beat one im2col GEMM (the first
 * layer of a gray-image net has one input channel: im2col is cheap there). */
static int conv_is_winograd(const fer__layer *l) {
  return l->kh == 3 && l->kw == 3 && l->stride == 1 && l->dilation == 1 &&
         l->groups == 1 && l->pad_top == 1 && l->pad_left == 1 &&
         l->out.h == l->in.h && l->out.w == l->in.w && l->in.c >= 8 &&
         l->units >= 8;
}

/* Winograd for this batch: the filter transform (16 x channels x filters
 * floats, written per call) and the 16 products only pay off with enough
 * tiles to share them; a small image in a small batch (batch-1 latency on
 * 6x6 or 12x12 maps) keeps im2col, whose one product reads the filters
 * once. */
#define WINOGRAD_MIN_TILES 128

static int conv_use_winograd(const fer__layer *l, int n) {
  const long tiles = (long)((l->in.h + 1) / 2) * ((l->in.w + 1) / 2);
  return conv_is_winograd(l) && (long)n * tiles >= WINOGRAD_MIN_TILES;
}

/* Floats of the Winograd filters (shared by the threads, in thread 0's
 * region) and of one thread's transformed tiles after them. */
static size_t conv_winograd_floats(const fer__layer *l) {
  return fer__winograd_weight_floats(l->in.c, l->units) +
         fer__winograd_scratch_floats(l->in.c, l->units, l->in.h, l->in.w);
}

/* A thread's working region: the column matrix, or the Winograd filters and
 * tiles (one at a time). */
static size_t conv_region_floats(const fer__layer *l) {
  size_t col = conv_col_floats(l);
  if (!conv_is_winograd(l)) return col;
  return FER__MAX(col, conv_winograd_floats(l));
}

/* A predictor keeps the Winograd filters of the layers that use them. */
static size_t conv_kept(const fer__layer *l, int n) {
  return conv_use_winograd(l, n) ? fer__winograd_weight_floats(l->in.c, l->units) : 0;
}

static size_t conv_saved(const fer__layer *l, int n) {
  (void)l;
  (void)n;
  return 0;
}

/* Floats of GEMM packing memory for one thread: enough for the three
 * products of a group (forward, weight gradient, input gradient) and the
 * Winograd products. */
static size_t conv_gemm_floats(const fer__layer *l) {
  const int Fg = l->units / l->groups;
  const int Kg = l->in.c / l->groups * l->kh * l->kw, P = l->out.h * l->out.w;
  int big = FER__MAX(FER__MAX(Fg, Kg), P);
  if (conv_is_winograd(l))
    big = FER__MAX(big, fer__winograd_chunk_images(l->in.h, l->in.w) *
                            ((l->in.h + 1) / 2) * ((l->in.w + 1) / 2));
  return (fer__sgemm_workspace_size(big, big, big, 1) + sizeof(float) - 1) /
         sizeof(float);
}

/* Per thread: the working region, this thread's partial weight and bias
 * gradients, then packing memory for the GEMMs (so that no product
 * allocates). */
static size_t conv_scratch(const fer__layer *l) {
  return conv_region_floats(l) + l->tensor_size[0] + l->tensor_size[1] +
         conv_gemm_floats(l);
}

/* A thread's scratch, split into its parts. When one thread runs the whole
 * batch (`alone`), its GEMMs may run on every thread, so their packing
 * memory runs on over the other threads' (unused) scratch. */
typedef struct conv_scratch_parts {
  float *col, *gw, *gb;
  void *gemm;
  size_t gemm_bytes;
} conv_scratch_parts;

static conv_scratch_parts conv_parts(const fer__layer *l, const fer__pass *p,
                                     int thread, int alone) {
  conv_scratch_parts s;
  float *base = p->scratch + (size_t)thread * p->scratch_floats;
  size_t region = conv_region_floats(l);
  size_t used = region + l->tensor_size[0] + l->tensor_size[1];
  s.col = base;
  s.gw = base + region;
  s.gb = s.gw + l->tensor_size[0];
  s.gemm = base + used;
  s.gemm_bytes = ((alone ? (size_t)p->threads * p->scratch_floats
                         : p->scratch_floats) - used) * sizeof(float);
  return s;
}

/* Threads for a loop over the batch: one per core when the work pays for
 * waking them, never more than the images. */
static int conv_batch_threads(const fer__layer *l, const fer__pass *p,
                              double factor) {
  int threads = p->n > 1 && fer__worth_parallel(p->threads,
                                                factor * conv_flops_of(l) * p->n)
                    ? p->threads : 1;
  return threads > p->n ? p->n : threads;
}

/* y (or dx) of the whole batch by Winograd: the filters transformed once
 * into thread 0's region (forward, or turned for the input gradient), then
 * each thread runs a contiguous share of the images. */
static void conv_winograd_batch(const fer__layer *l, const fer__pass *p,
                                int adjoint, const float *in, float *out,
                                const fer__epilogue *e) {
  const int cin = adjoint ? l->units : l->in.c;
  const int cout = adjoint ? l->in.c : l->units;
  const size_t in_size = (size_t)cin * l->in.h * l->in.w;
  const size_t out_size = (size_t)cout * l->in.h * l->in.w;
  const size_t wfloats = fer__winograd_weight_floats(l->in.c, l->units);
  float *u = p->scratch;
  if (!adjoint && p->kept) {
    /* A predictor's: transformed on its first call. */
    u = p->kept;
    if (!*p->kept_ready) fer__winograd_weights(l->tensor[0], l->units, l->in.c, 0, u);
    *p->kept_ready = 1;
  } else {
    fer__winograd_weights(l->tensor[0], l->units, l->in.c, adjoint, u);
  }
  const int threads = conv_batch_threads(l, p, 1.0);
FER__OMP(omp parallel for num_threads(threads) schedule(static))
  for (int t = 0; t < threads; t++) {
    conv_scratch_parts s = conv_parts(l, p, t, threads == 1);
    const int lo = (int)((long)p->n * t / threads);
    const int hi = (int)((long)p->n * (t + 1) / threads);
    if (lo < hi)
      fer__winograd_run(u, hi - lo, cin, cout, l->in.h, l->in.w,
                        in + lo * in_size, out + lo * out_size,
                        s.col + wfloats, s.gemm, s.gemm_bytes, e);
  }
}


/* Row (c, ky, kx) of col holds the input pixel each output position sees
 * through kernel tap (ky, kx), zero where that falls in the padding. */
static void im2col(const fer__layer *l, const float *x, float *col) {
  const int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
  const int s = l->stride, d = l->dilation;
  for (int c = 0; c < l->in.c; c++) {
    const float *plane = x + (size_t)c * H * W;
    for (int ky = 0; ky < l->kh; ky++) {
      for (int kx = 0; kx < l->kw; kx++) {
        float *row = col + ((size_t)(c * l->kh + ky) * l->kw + kx) * OH * OW;
        int x0 = kx * d - l->pad_left;
        /* Output columns whose input column lies inside the image. */
        int lo = x0 >= 0 ? 0 : (-x0 + s - 1) / s;
        int hi = W - x0 <= 0 ? 0 : (W - x0 + s - 1) / s;
        if (hi > OW) hi = OW;
        if (lo > hi) lo = hi;
        for (int oy = 0; oy < OH; oy++) {
          int iy = oy * s - l->pad_top + ky * d;
          float *r = row + (size_t)oy * OW;
          if (iy < 0 || iy >= H) {
            memset(r, 0, (size_t)OW * sizeof(float));
            continue;
          }
          const float *src = plane + (long)iy * W;
          for (int ox = 0; ox < lo; ox++) r[ox] = 0.0f;
          if (s == 1) {
            if (hi > lo)
              memcpy(r + lo, src + lo + x0, (size_t)(hi - lo) * sizeof(float));
          } else {
            for (int ox = lo; ox < hi; ox++) r[ox] = src[(long)ox * s + x0];
          }
          for (int ox = hi; ox < OW; ox++) r[ox] = 0.0f;
        }
      }
    }
  }
}

/* The adjoint of im2col: adds every column entry back onto its pixel. */
static void col2im(const fer__layer *l, const float *col, float *x) {
  const int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
  const int s = l->stride, d = l->dilation;
  memset(x, 0, (size_t)l->in.c * H * W * sizeof(float));
  for (int c = 0; c < l->in.c; c++) {
    float *plane = x + (size_t)c * H * W;
    for (int ky = 0; ky < l->kh; ky++) {
      for (int kx = 0; kx < l->kw; kx++) {
        const float *row =
            col + ((size_t)(c * l->kh + ky) * l->kw + kx) * OH * OW;
        int x0 = kx * d - l->pad_left;
        int lo = x0 >= 0 ? 0 : (-x0 + s - 1) / s;
        int hi = W - x0 <= 0 ? 0 : (W - x0 + s - 1) / s;
        if (hi > OW) hi = OW;
        for (int oy = 0; oy < OH; oy++) {
          int iy = oy * s - l->pad_top + ky * d;
          if (iy < 0 || iy >= H) continue;
          float *dst = plane + (long)iy * W;
          const float *r = row + (size_t)oy * OW;
          for (int ox = lo; ox < hi; ox++) dst[(long)ox * s + x0] += r[ox];
        }
      }
    }
  }
}

/* Depthwise convolution (one input channel per group, as MobileNet's):
 * y[f] = sum_k w[f][k] x[f / M] shifted, M = filters per channel. A GEMM
 * per group would be 1 x K by K x P with its packing costs for a few
 * multiply-adds, so the loops run directly over each kernel tap. */
static int conv_is_depthwise(const fer__layer *l) {
  return l->groups > 1 && l->groups == l->in.c;
}

/* The output columns ox whose input column ox * s + x0 is inside [0, W). */
static void tap_columns(int x0, int s, int W, int OW, int *lo, int *hi) {
  *lo = x0 >= 0 ? 0 : (-x0 + s - 1) / s;
  *hi = W - x0 <= 0 ? 0 : (W - x0 + s - 1) / s;
  if (*hi > OW) *hi = OW;
}

/* mode 0: y = conv(x); mode 1: gw += dy (x) correlation; mode 2: dx =
 * transposed conv of dy. `a` is y or dy, `b` is x or dx. */
static void depthwise_image(const fer__layer *l, int mode, const float *x,
                            const float *dy, float *y_or_dx, float *gw) {
  const int C = l->in.c, M = l->units / C, H = l->in.h, W = l->in.w;
  const int OH = l->out.h, OW = l->out.w, s = l->stride, d = l->dilation;
  const int KH = l->kh, KW = l->kw;
  if (mode == 0) memset(y_or_dx, 0, (size_t)l->units * OH * OW * sizeof(float));
  if (mode == 2) memset(y_or_dx, 0, (size_t)C * H * W * sizeof(float));
  for (int f = 0; f < l->units; f++) {
    const int c = f / M;
    const float *w = l->tensor[0] + (size_t)f * KH * KW;
    const float *xc = x ? x + (size_t)c * H * W : NULL;
    float *dxc = mode == 2 ? y_or_dx + (size_t)c * H * W : NULL;
    float *yf = mode == 0 ? y_or_dx + (size_t)f * OH * OW : NULL;
    const float *dyf = mode ? dy + (size_t)f * OH * OW : NULL;
    for (int ky = 0; ky < KH; ky++)
      for (int kx = 0; kx < KW; kx++) {
        const int x0 = kx * d - l->pad_left;
        int lo, hi;
        tap_columns(x0, s, W, OW, &lo, &hi);
        const float wk = w[ky * KW + kx];
        float acc = 0.0f;
        for (int oy = 0; oy < OH; oy++) {
          const int iy = oy * s - l->pad_top + ky * d;
          if (iy < 0 || iy >= H) continue;
          const long row = (long)iy * W + x0, out = (long)oy * OW;
          if (mode == 0)
            for (int ox = lo; ox < hi; ox++) yf[out + ox] += wk * xc[row + (long)ox * s];
          else if (mode == 1)
            for (int ox = lo; ox < hi; ox++) acc += dyf[out + ox] * xc[row + (long)ox * s];
          else
            for (int ox = lo; ox < hi; ox++) dxc[row + (long)ox * s] += wk * dyf[out + ox];
        }
        if (mode == 1) gw[(size_t)f * KH * KW + ky * KW + kx] += acc;
      }
  }
}

static void conv_image_forward(const fer__layer *l, const float *x, float *y,
                               const conv_scratch_parts *s,
                               const fer__epilogue *e) {
  const int G = l->groups, Fg = l->units / G;
  const int Kg = l->in.c / G * l->kh * l->kw, P = l->out.h * l->out.w;
  const float *src = x;
  if (conv_is_depthwise(l)) {
    depthwise_image(l, 0, x, NULL, y, NULL);
  } else {
    if (!conv_is_direct(l)) {
      im2col(l, x, s->col);
      src = s->col;
    }
    for (int g = 0; g < G; g++)
      fer__sgemm_ws(0, 0, Fg, P, Kg, 1.0f, l->tensor[0] + (size_t)g * Fg * Kg, Kg,
                    src + (size_t)g * Kg * P, P, 0.0f, y + (size_t)g * Fg * P, P,
                    s->gemm, s->gemm_bytes);
  }
  /* Bias (and at inference a fused bn and relu) while y is in cache. */
  if (e)
    for (int f = 0; f < l->units; f++) fer__epilogue_apply(e, f, y + (size_t)f * P, P);
}

/* The forward pass with output pass `fused` (NULL: the bias alone). */
static void conv_forward_fused(const fer__layer *l, const fer__pass *p,
                               const float *x, float *y, float *saved,
                               const fer__epilogue *fused) {
  (void)saved;
  const size_t in_size = (size_t)fer__shape_size(l->in);
  const size_t out_size = (size_t)fer__shape_size(l->out);
  fer__epilogue full = fused ? *fused : (fer__epilogue){0};
  full.bias = l->tensor[1];
  const fer__epilogue *e = fer__epilogue_empty(&full) ? NULL : &full;
  if (conv_use_winograd(l, p->n)) {
    conv_winograd_batch(l, p, 0, x, y, e);
  } else if (conv_batch_threads(l, p, 1.0) > 1) {
FER__OMP(omp parallel for num_threads(p->threads) schedule(static))
    for (int i = 0; i < p->n; i++) {
      conv_scratch_parts s = conv_parts(l, p, FER__THREAD_INDEX(), 0);
      conv_image_forward(l, x + i * in_size, y + i * out_size, &s, e);
    }
  } else {
    conv_scratch_parts s = conv_parts(l, p, 0, 1);
    for (int i = 0; i < p->n; i++)
      conv_image_forward(l, x + i * in_size, y + i * out_size, &s, e);
  }
}

static void conv_forward(const fer__layer *l, const fer__pass *p,
                         const float *x, float *y, float *saved) {
  conv_forward_fused(l, p, x, y, saved, NULL);
}

/* The bias gradient of one image: each filter's output gradient summed
 * over its P positions, added to gb. */
static void add_bias_gradient(const fer__layer *l, const float *dy, int P, float *gb) {
  if (!l->tensor[1]) return;
  for (int f = 0; f < l->units; f++) {
    const float *d = dy + (size_t)f * P;
    float sum = 0.0f;
    for (int i = 0; i < P; i++) sum += d[i];
    gb[f] += sum;
  }
}

/* One image's share of the backward pass: weight and bias gradients added
 * to this thread's partials, the input gradient written to dx (if any). */
static void conv_image_backward(const fer__layer *l, const float *x,
                                const float *dy, float *dx,
                                const conv_scratch_parts *s) {
  const int P = l->out.h * l->out.w;
  float *col = s->col, *gw = s->gw, *gb = s->gb;
  if (conv_is_depthwise(l)) {
    depthwise_image(l, 1, x, dy, NULL, gw);
    add_bias_gradient(l, dy, P, gb);
    if (dx) depthwise_image(l, 2, NULL, dy, dx, NULL);
    return;
  }
  const int G = l->groups, Fg = l->units / G;
  const int Kg = l->in.c / G * l->kh * l->kw;
  const int direct = conv_is_direct(l);
  const float *src = x;
  if (!direct) {
    im2col(l, x, col);
    src = col;
  }
  for (int g = 0; g < G; g++)
    fer__sgemm_ws(0, 1, Fg, Kg, P, 1.0f, dy + (size_t)g * Fg * P, P,
                  src + (size_t)g * Kg * P, P, 1.0f, gw + (size_t)g * Fg * Kg,
                  Kg, s->gemm, s->gemm_bytes);
  add_bias_gradient(l, dy, P, gb);
  if (!dx) return;
  float *dcol = direct ? dx : col;
  for (int g = 0; g < G; g++)
    fer__sgemm_ws(1, 0, Kg, P, Fg, 1.0f, l->tensor[0] + (size_t)g * Fg * Kg, Kg,
                  dy + (size_t)g * Fg * P, P, 0.0f, dcol + (size_t)g * Kg * P, P,
                  s->gemm, s->gemm_bytes);
  if (!direct) col2im(l, col, dx);
}

static void conv_backward(const fer__layer *l, const fer__pass *p,
                          const float *x, const float *y, const float *dy,
                          float *dx, const float *saved, float *const *grads) {
  (void)y;
  (void)saved;
  const size_t in_size = (size_t)fer__shape_size(l->in);
  const size_t out_size = (size_t)fer__shape_size(l->out);
  const size_t partial = l->tensor_size[0] + l->tensor_size[1];
  const int threads = conv_batch_threads(l, p, 1.0);
  /* Winograd computes the input gradient for the whole batch afterwards. */
  const int winograd = conv_use_winograd(l, p->n) && dx;
  float *image_dx = winograd ? NULL : dx;
  for (int t = 0; t < threads; t++)
    memset(conv_parts(l, p, t, 0).gw, 0, partial * sizeof(float));
  if (threads > 1) {
FER__OMP(omp parallel for num_threads(threads) schedule(static))
    for (int i = 0; i < p->n; i++) {
      conv_scratch_parts s = conv_parts(l, p, FER__THREAD_INDEX(), 0);
      conv_image_backward(l, x + i * in_size, dy + i * out_size,
                          image_dx ? image_dx + i * in_size : NULL, &s);
    }
  } else {
    conv_scratch_parts s = conv_parts(l, p, 0, 1);
    for (int i = 0; i < p->n; i++)
      conv_image_backward(l, x + i * in_size, dy + i * out_size,
                          image_dx ? image_dx + i * in_size : NULL, &s);
  }
  /* Sum the partials in thread order: the same result for a given thread
   * count every time. */
  float *gw = grads[0], *gb = grads[1];
  const float *first = conv_parts(l, p, 0, 0).gw;
  memcpy(gw, first, l->tensor_size[0] * sizeof(float));
  if (gb) memcpy(gb, first + l->tensor_size[0], l->tensor_size[1] * sizeof(float));
  for (int t = 1; t < threads; t++) {
    const float *part = conv_parts(l, p, t, 0).gw;
    for (size_t i = 0; i < l->tensor_size[0]; i++) gw[i] += part[i];
    if (gb)
      for (size_t i = 0; i < l->tensor_size[1]; i++)
        gb[i] += part[l->tensor_size[0] + i];
  }
  /* The input gradient of the whole batch by Winograd, in the threads'
   * column regions (free again; the partials are left alone). */
  if (winograd) conv_winograd_batch(l, p, 1, dy, dx, NULL);
}

/* conv F KHxKW [same|valid|pad=P] [stride=S] [dil=D] [groups=G] [nobias] */
static fer_status conv_parse(fer__layer *l, const fer__arch_words *w) {
  fer_status st;
  if (w->count < 3)
    return fer__arch_error(w, w->count - 1,
                           "conv needs a filter count and a kernel size");
  if ((st = fer__arch_int(w, 1, &l->units))) return st;
  if ((st = fer__arch_window(w, 2, &l->kh, &l->kw, NULL))) return st;
  l->stride = l->dilation = l->groups = 1;
  l->bias = 1;
  l->padding = FER_PADDING_VALID;
  for (int i = 3; i < w->count; i++) {
    fer__arch_word v;
    const fer__arch_word *word = &w->word[i];
    if (word->len == 4 && memcmp(word->text, "same", 4) == 0) {
      l->padding = FER_PADDING_SAME;
    } else if (word->len == 5 && memcmp(word->text, "valid", 5) == 0) {
      l->padding = FER_PADDING_VALID;
    } else if (word->len == 6 && memcmp(word->text, "nobias", 6) == 0) {
      l->bias = 0;
    } else if (fer__arch_is_option(w, i, "pad", &v)) {
      fer__arch_words one = {.count = 1, .line = w->line};
      one.word[0] = v;
      if (v.len == 1 && v.text[0] == '0') l->padding = 0;
      else if ((st = fer__arch_int(&one, 0, &l->padding))) return st;
    } else if (fer__arch_is_option(w, i, "stride", &v) ||
               fer__arch_is_option(w, i, "dil", &v) ||
               fer__arch_is_option(w, i, "groups", &v)) {
      fer__arch_words one = {.count = 1, .line = w->line};
      one.word[0] = v;
      int *dst = word->text[0] == 's' ? &l->stride
               : word->text[0] == 'd' ? &l->dilation : &l->groups;
      if ((st = fer__arch_int(&one, 0, dst))) return st;
    } else {
      return fer__arch_error(w, i, "unknown conv option '%.*s'",
                             (int)word->len, word->text);
    }
  }
  return FER_OK;
}

static void conv_format(const fer__layer *l, fer__buf *out) {
  fer__buf_printf(out, " %d %dx%d", l->units, l->kh, l->kw);
  if (l->padding == FER_PADDING_SAME) fer__buf_printf(out, " same");
  else if (l->padding == 0) fer__buf_printf(out, " valid");
  else fer__buf_printf(out, " pad=%d", l->padding);
  if (l->stride != 1) fer__buf_printf(out, " stride=%d", l->stride);
  if (l->dilation != 1) fer__buf_printf(out, " dil=%d", l->dilation);
  if (l->groups != 1) fer__buf_printf(out, " groups=%d", l->groups);
  if (!l->bias) fer__buf_printf(out, " nobias");
}

const fer__layer_ops fer__conv_ops = {
  .kind = FER_LAYER_CONV,
  .keyword = "conv",
  .setup = conv_setup,
  .saved_floats = conv_saved,
  .scratch_floats = conv_scratch,
  .kept_floats = conv_kept,
  .flops = conv_flops,
  .forward = conv_forward,
  .forward_fused = conv_forward_fused,
  .backward = conv_backward,
  .parse = conv_parse,
  .format = conv_format,
};
