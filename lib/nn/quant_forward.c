/* The int8 forward pass: quantised layers (quant.h) run as bytes through
 * the int8 product, every other layer on floats as in fp32 inference.
 * Images run one at a time on the calling thread. */
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

/* Input bytes (a convolution's channel-last over c4 channels), packed
 * columns, then int32 sums, each 64-byte aligned. */
static size_t input_bytes(const fer__qlayer *q, const fer__layer *l) {
  return l->kind == FER_LAYER_CONV ? (size_t)l->in.h * l->in.w * q->c4
                                   : (size_t)fer__shape_size(l->in);
}

size_t fer__qlayer_scratch(const fer__qlayer *q, const fer__layer *l) {
  const size_t cols = (size_t)panels_of(l) * FER__I8_NR;
  return round64(input_bytes(q, l)) +
         round64((size_t)q->k4 * 4 * cols) +
         round64((size_t)q->f_pad * cols * sizeof(int32_t));
}

/* Rounds half up: v is clamped to [0, 127] first (which also keeps a
 * huge or NaN value defined), so adding 0.5 and truncating rounds; lrintf
 * would be a library call per value. */
static uint8_t quantize1(float x, float inv, float zero_point) {
  float v = x * inv + zero_point;
  v = v > 127.0f ? 127.0f : v > 0.0f ? v : 0.0f;
  return (uint8_t)(v + 0.5f);
}

/* x (C x H x W floats) to bytes: a convolution's channel-last,
 * u[pixel * c4 + c], padding channels at the zero point (times a zero
 * weight); a dense layer's in order. */
static void quantize_input(const fer__qlayer *q, const fer__layer *l,
                           const float *x, uint8_t *u) {
  const float inv = 1.0f / q->in_scale, zp = (float)q->zero_point;
  if (l->kind != FER_LAYER_CONV) {
    for (long i = 0; i < fer__shape_size(l->in); i++) u[i] = quantize1(x[i], inv, zp);
    return;
  }
  const long pixels = (long)l->in.h * l->in.w;
  for (int c = 0; c < l->in.c; c++)
    for (long i = 0; i < pixels; i++)
      u[i * q->c4 + c] = quantize1(x[c * pixels + i], inv, zp);
  for (int c = l->in.c; c < q->c4; c++)
    for (long i = 0; i < pixels; i++) u[i * q->c4 + c] = (uint8_t)q->zero_point;
}

/* im2col into the panel layout of gemm_int8.h: step (ky, kx, c) of
 * position p = (oy, ox), four channels (one 32-bit word) at a time;
 * padding reads as the zero point (input 0). */
static void pack_conv(const fer__qlayer *q, const fer__layer *l,
                      const uint8_t *u, uint8_t *dst) {
  const int H = l->in.h, W = l->in.w, OH = l->out.h, OW = l->out.w;
  const int s = l->stride, d = l->dilation, words = q->c4 / 4;
  const long panel = (long)q->k4 * 4 * FER__I8_NR;
  uint8_t outside[4];
  memset(outside, q->zero_point, sizeof outside);
  int p = 0;
  for (int oy = 0; oy < OH; oy++)
    for (int ox = 0; ox < OW; ox++, p++) {
      uint8_t *col = dst + (p / FER__I8_NR) * panel + (p % FER__I8_NR) * 4;
      int step = 0; /* in words: (ky, kx, c / 4) */
      for (int ky = 0; ky < l->kh; ky++) {
        const int iy = oy * s - l->pad_top + ky * d;
        for (int kx = 0; kx < l->kw; kx++, step += words) {
          const int ix = ox * s - l->pad_left + kx * d;
          uint8_t *to = col + (long)step * 4 * FER__I8_NR;
          if (iy < 0 || iy >= H || ix < 0 || ix >= W) {
            for (int g = 0; g < words; g++) memcpy(to + g * 4 * FER__I8_NR, outside, 4);
            continue;
          }
          const uint8_t *from = u + ((long)iy * W + ix) * q->c4;
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
  uint8_t *packed = u + round64(input_bytes(q, l));
  int32_t *acc = (int32_t *)(void *)(packed + round64((size_t)q->k4 * 4 * cols));
  quantize_input(q, l, x, u);
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
    for (int p = 0; p < P; p++) {
      float v = (float)(a[p] - off) * sc + b;
      yf[p] = q->relu ? fer__relu1(v) : v;
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
  for (int b = 0; b < n; b++)
    fer__qlayer_run(q, l, x + b * in_size, out + b * out_size,
                    ws->quant_scratch, portable);
  return q->last;
}
