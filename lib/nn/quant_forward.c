/* The int8 forward pass: quantised layers (quant.h) run as bytes through
 * the int8 product, every other layer on floats as in fp32 inference.
 * A batch's images run in parallel, one per thread. */
#include <math.h>
#include <string.h>

#include "nn/gemm_int8.h"
#include "nn/quant.h"

static size_t round64(size_t x) { return (x + 63) / 64 * 64; }

static int positions(const fer__layer *l) {
  return l->kind == FER_LAYER_CONV ? l->out.h * l->out.w : 1;
}

static int panels_of(const fer__layer *l) {
  return (positions(l) + FER__I8_NR - 1) / FER__I8_NR;
}

/* Input bytes (a convolution's channel-last over c4 channels), the same
 * bytes plane by plane on the way there, packed columns, then int32 sums,
 * each 64-byte aligned. */
static size_t input_bytes(const fer__qlayer *q, const fer__layer *l) {
  return l->kind == FER_LAYER_CONV ? (size_t)l->in.h * l->in.w * q->c4
                                   : (size_t)fer__shape_size(l->in);
}

size_t fer__qlayer_scratch(const fer__qlayer *q, const fer__layer *l) {
  const size_t cols = (size_t)panels_of(l) * FER__I8_NR;
  return round64(input_bytes(q, l)) + round64((size_t)fer__shape_size(l->in)) +
         round64((size_t)q->k4 * 4 * cols) +
         round64((size_t)q->f_pad * cols * sizeof(int32_t));
}

/* Rounds half up: v is clamped to [0, 127] first (NaN to 0), so adding
 * 0.5 and truncating rounds; lrintf would be a library call per value.
 * The two one-sided clamps compile to maxss/minss: half the inputs after a
 * ReLU are zero, and a branch on that mispredicts every other time. */
static inline uint8_t quantize1(float x, float inv, float zero_point) {
  float v = x * inv + zero_point;
  v = v > 0.0f ? v : 0.0f;
  v = v < 127.0f ? v : 127.0f;
  return (uint8_t)(int)(v + 0.5f);
}

/* quantize1 over n values, four at a time in vector extensions where the
 * compiler has them (GCC leaves the scalar loop unvectorised: its clamps
 * must honour NaN). The same values as quantize1, lane by lane. */
static void quantize_run(const float *x, long n, float inv, float zp,
                         uint8_t *u) {
  long i = 0;
#if FER__V4_LANES
  const fer__v4 vinv = {inv, inv, inv, inv}, vzp = {zp, zp, zp, zp};
  const fer__v4 top = {127.0f, 127.0f, 127.0f, 127.0f};
  const fer__v4 half = {0.5f, 0.5f, 0.5f, 0.5f};
  for (; i + 4 <= n; i += 4) {
    fer__v4 v = fer__v4_relu(fer__v4_load(x + i) * vinv + vzp); /* NaN -> 0 */
    const fer__v4i below = v < top;
    v = (fer__v4)((below & (fer__v4i)v) | (~below & (fer__v4i)top));
    const fer__v4i r = __builtin_convertvector(v + half, fer__v4i);
    u[i] = (uint8_t)r[0];
    u[i + 1] = (uint8_t)r[1];
    u[i + 2] = (uint8_t)r[2];
    u[i + 3] = (uint8_t)r[3];
  }
#endif
  for (; i < n; i++) u[i] = quantize1(x[i], inv, zp);
}

/* x (C x H x W floats) to bytes: a convolution's channel-last,
 * u[pixel * c4 + c], padding channels at the zero point (times a zero
 * weight); a dense layer's in order. In two passes, plane by plane into
 * `planes` and then interleaved, because both loops are plain enough for
 * the compiler to vectorise. */
static void quantize_input(const fer__qlayer *q, const fer__layer *l,
                           const float *x, uint8_t *planes, uint8_t *u) {
  const float inv = 1.0f / q->in_scale, zp = (float)q->zero_point;
  const long count = fer__shape_size(l->in);
  if (l->kind != FER_LAYER_CONV) {
    quantize_run(x, count, inv, zp, u);
    return;
  }
  quantize_run(x, count, inv, zp, planes);
  /* Locals: a byte store may alias q, which would be reread every time. */
  const long pixels = (long)l->in.h * l->in.w, c4 = q->c4;
  const int channels = l->in.c;
  const uint8_t outside = (uint8_t)q->zero_point;
  int c = 0;
  for (; c + 4 <= channels; c += 4) {
    const uint8_t *p0 = planes + c * pixels, *p1 = p0 + pixels,
                  *p2 = p1 + pixels, *p3 = p2 + pixels;
    uint8_t *to = u + c;
    for (long i = 0; i < pixels; i++, to += c4) {
      to[0] = p0[i];
      to[1] = p1[i];
      to[2] = p2[i];
      to[3] = p3[i];
    }
  }
  for (; c < c4; c++)
    for (long i = 0; i < pixels; i++)
      u[i * c4 + c] = c < channels ? planes[c * pixels + i] : outside;
}

/* im2col into the panel layout of gemm_int8.h: step (ky, kx, c) of
 * position p = (oy, ox), four channels (one 32-bit word) at a time;
 * padding reads as the zero point (input 0). */
static void pack_conv(const fer__qlayer *q, const fer__layer *l,
                      const uint8_t *u, uint8_t *dst) {
  const int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
  const int s = l->stride, d = l->dilation, words = q->c4 / 4;
  const int kh = l->kh, kw = l->kw, pad_top = l->pad_top, pad_left = l->pad_left;
  const long panel = (long)q->k4 * 4 * FER__I8_NR, c4 = q->c4;
  uint8_t outside[4];
  memset(outside, q->zero_point, sizeof outside);
  int p = 0;
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++, p++) {
      uint8_t *col = dst + (p / FER__I8_NR) * panel + (p % FER__I8_NR) * 4;
      int step = 0; /* in words: (ky, kx, c / 4) */
      for (int ky = 0; ky < kh; ky++) {
        const int iy = oy * s - pad_top + ky * d;
        for (int kx = 0; kx < kw; kx++, step += words) {
          const int ix = ox * s - pad_left + kx * d;
          uint8_t *to = col + (long)step * 4 * FER__I8_NR;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
            for (int g = 0; g < words; g++) memcpy(to + g * 4 * FER__I8_NR, outside, 4);
            continue;
          }
          const uint8_t *from = u + ((long)iy * W + ix) * c4;
          for (int g = 0; g < words; g++) memcpy(to + g * 4 * FER__I8_NR, from + 4 * g, 4);
        }
      }
    }
}

/* A dense layer's input is one column. */
static void pack_dense(const fer__qlayer *q, const uint8_t *u, uint8_t *dst) {
  for (int k = 0; k < q->k; k++)
    dst[(long)(k / 4) * 4 * FER__I8_NR + k % 4] = u[k];
}

void fer__qlayer_run(const fer__qlayer *q, const fer__layer *l, const float *x,
                     float *y, void *scratch, int portable) {
  const int P = positions(l), panels = panels_of(l);
  const long cols = (long)panels * FER__I8_NR;
  uint8_t *u = scratch;
  uint8_t *planes = u + round64(input_bytes(q, l));
  uint8_t *packed = planes + round64((size_t)fer__shape_size(l->in));
  int32_t *acc = (int32_t *)(void *)(packed + round64((size_t)q->k4 * 4 * cols));
  quantize_input(q, l, x, planes, u);
  if (l->kind == FER_LAYER_CONV) {
    /* Columns past P: computed and dropped; zero for determinism. */
    if (P % FER__I8_NR) {
      uint8_t *last = packed + (long)(panels - 1) * q->k4 * 4 * FER__I8_NR;
      for (int kb = 0; kb < q->k4; kb++)
        memset(last + ((long)kb * FER__I8_NR + P % FER__I8_NR) * 4, 0,
               (size_t)(FER__I8_NR - P % FER__I8_NR) * 4);
    }
    pack_conv(q, l, u, packed);
  } else {
    memset(packed, 0, (size_t)q->k4 * 4 * cols); /* steps past k too */
    pack_dense(q, u, packed);
  }
  fer__gemm_int8(fer__int8_kernel_pick(portable), q->f_pad, panels, q->k4,
                 q->weight, packed, acc, cols);
  for (int f = 0; f < q->f; f++) {
    const int32_t *a = acc + f * cols;
    const int32_t off = q->offset[f];
    const float sc = q->out_scale[f], b = q->bias[f];
    float *yf = y + (long)f * P;
    const int relu = q->relu;
    for (int p = 0; p < P; p++) {
      float v = (float)(a[p] - off) * sc + b;
      yf[p] = relu ? fer__relu1(v) : v;
    }
  }
}

int fer__quant_forward_layer(const fer_model *m, fer__workspace *ws, int i,
                             const float *x, int n) {
  const fer__qlayer *q = &m->quant->layers[m->quant->by_layer[i]];
  const fer__layer *l = &m->layers[i];
  const int portable = m->settings[FER_MODEL_INT8_PORTABLE] != 0.0;
  const long in_size = fer__shape_size(l->in);
  const long out_size = fer__shape_size(m->layers[q->last].out);
  float *out = ws->act[q->last];
  /* Images in parallel, each thread with its own scratch (the workspace
   * holds min(threads, n) of them); one image's work is too small to
   * split. */
  const int threads = FER__MIN(ws->threads, n);
  const size_t stride = m->quant->scratch_bytes;
  const double work = (double)n * q->f * q->k * positions(l);
  FER__OMP(omp parallel for num_threads(threads) schedule(static) if (fer__worth_parallel(threads, work)))
  for (int b = 0; b < n; b++)
    fer__qlayer_run(q, l, x + b * in_size, out + b * out_size,
                    (uint8_t *)ws->quant_scratch + (size_t)FER__THREAD_INDEX() * stride,
                    portable);
  (void)threads; /* without OpenMP */
  (void)work;
  return q->last;
}
