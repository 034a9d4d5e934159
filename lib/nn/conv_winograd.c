/* 3x3 stride-1 "same" convolution by Winograd's minimal filtering F(2x2, 3x3)
 * (Lavin and Gray, "Fast algorithms for convolutional neural networks",
 * 2016): each 2x2 output tile is
 *   Y = A^T [ (G g G^T) .* (B^T d B) ] A
 * for the 4x4 input tile d around it and the 3x3 filter g, so 16
 * multiplications instead of 36. Summed over input channels, the
 * elementwise product becomes 16 independent matrix products
 *   M[xi] (F x T) = U[xi] (F x C) * V[xi] (C x T),  xi = 0..15,
 * with U the transformed filters and V the transformed input tiles (T tiles
 * of a chunk of images), done by the engine's GEMM.
 *   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *   A^T = [1 1 1 0; 0 1 -1 -1]
 * The transforms only add, subtract and halve, so the result stays within a
 * few float roundings of the direct sum (tests/nn/test_winograd.c checks it
 * against a double-precision direct convolution). */
#include <string.h>

#include "nn/conv_winograd.h"
#include "nn/gemm.h"
#include "nn/nn_internal.h"

/* The transforms run over 4 tiles of a row at a time in GCC/Clang vector
 * extensions (plain SSE2 on any x86-64, NEON elsewhere); other compilers,
 * and the last tiles of a row, use the same code on single floats.
 * (GCC does not vectorise these loops by itself: 16 streams each.) */
#if defined(__GNUC__) || defined(__clang__)
typedef float vec8 __attribute__((vector_size(16)));
#define LANES 4
#else
typedef float vec8;
#define LANES 1
#endif

static inline vec8 load8(const float *p) {
  vec8 v;
  memcpy(&v, p, sizeof v);
  return v;
}
static inline void store8(float *p, vec8 v) { memcpy(p, &v, sizeof v); }
static inline float load1(const float *p) { return *p; }
static inline void store1(float *p, float v) { *p = v; }

/* Tiles (2x2 outputs) gathered into one set of 16 products: enough columns
 * for the GEMM to run at speed, few enough that V and M stay in L3. */
#define TARGET_TILES 256

static int tiles_of(int h, int w) { return ((h + 1) / 2) * ((w + 1) / 2); }

static size_t split_floats(int H, int W);

int fer__winograd_chunk_images(int h, int w) {
  int per = TARGET_TILES / tiles_of(h, w);
  return per < 1 ? 1 : per;
}

size_t fer__winograd_weight_floats(int cin, int cout) {
  return 16 * (size_t)cin * (size_t)cout;
}

/* Transformed input and products of one chunk, then room for the split
 * rows of one input plane (or four output rows). */
size_t fer__winograd_scratch_floats(int cin, int cout, int h, int w) {
  size_t tiles = (size_t)fer__winograd_chunk_images(h, w) * tiles_of(h, w);
  return 16 * tiles * ((size_t)cin + (size_t)cout) + split_floats(h, w);
}

/* u (16 values, row-major 4x4) = G g G^T for one 3x3 filter g, read through
 * `step` (1, or -1 from its last tap for the filter turned by 180 degrees). */
static void transform_filter(const float *g, int step, float *u) {
  float t[4][3];
  for (int j = 0; j < 3; j++) {
    float g0 = g[step * j], g1 = g[step * (3 + j)], g2 = g[step * (6 + j)];
    t[0][j] = g0;
    t[1][j] = 0.5f * (g0 + g1 + g2);
    t[2][j] = 0.5f * (g0 - g1 + g2);
    t[3][j] = g2;
  }
  for (int i = 0; i < 4; i++) {
    u[4 * i + 0] = t[i][0];
    u[4 * i + 1] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
    u[4 * i + 2] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
    u[4 * i + 3] = t[i][2];
  }
}

void fer__winograd_weights(const float *w, int filters, int channels,
                           int adjoint, float *u) {
  const size_t plane = (size_t)filters * channels;
  for (int f = 0; f < filters; f++)
    for (int c = 0; c < channels; c++) {
      const float *g = w + ((size_t)f * channels + c) * 9;
      float v[16];
      /* The adjoint (input gradient) is the convolution with each filter
       * turned by 180 degrees and the channel roles swapped. */
      if (adjoint) transform_filter(g + 8, -1, v);
      else transform_filter(g, 1, v);
      const size_t at = adjoint ? (size_t)c * filters + f
                                : (size_t)f * channels + c;
      for (int xi = 0; xi < 16; xi++) u[xi * plane + at] = v[xi];
    }
}

/* Rows of the zero-padded input plane (one pixel of padding, rows -1..H+1
 * so that a last odd row has its partner) split into even and odd columns:
 * the 4x4 tile at column 2tx-1 then reads ev[tx], od[tx], ev[tx+1],
 * od[tx+1], all unit-stride in tx, which the compiler vectorises. */
static void split_plane(const float *src, int H, int W, int TW, float *ev,
                        float *od) {
  const int len = TW + 1;
  for (int r = 0; r < H + 3; r++) {
    const int iy = r - 1;
    float *e = ev + (size_t)r * len, *o = od + (size_t)r * len;
    if (iy < 0 || iy >= H) {
      memset(e, 0, (size_t)len * sizeof(float));
      memset(o, 0, (size_t)len * sizeof(float));
      continue;
    }
    /* padded column 2k (even) is input column 2k - 1, 2k + 1 (odd) is 2k */
    const float *row = src + (size_t)iy * W;
    const int e_end = W / 2 + 1, o_end = (W + 1) / 2;
    e[0] = 0.0f;
    for (int k = 1; k < e_end; k++) e[k] = row[2 * k - 1];
    for (int k = e_end; k < len; k++) e[k] = 0.0f;
    for (int k = 0; k < o_end; k++) o[k] = row[2 * k];
    for (int k = o_end; k < len; k++) o[k] = 0.0f;
  }
}

/* Floats split_plane writes for an H x W plane. */
static size_t split_floats(int H, int W) {
  return 2 * (size_t)(H + 3) * (size_t)((W + 1) / 2 + 1);
}

/* Tiles tx.. of one tile row: d[r] = (ev[tx], od[tx], ev[tx+1], od[tx+1])
 * of padded row r; a_rj = (d[r] B)_j, then out[4i + j] = (B^T a)_ij. */
#define INPUT_TILES(T, LOAD, STORE)                                          \
  do {                                                                       \
    const T a00 = LOAD(e0 + tx) - LOAD(e0 + tx + 1);                         \
    const T a01 = LOAD(o0 + tx) + LOAD(e0 + tx + 1);                         \
    const T a02 = LOAD(e0 + tx + 1) - LOAD(o0 + tx);                         \
    const T a03 = LOAD(o0 + tx) - LOAD(o0 + tx + 1);                         \
    const T a10 = LOAD(e1 + tx) - LOAD(e1 + tx + 1);                         \
    const T a11 = LOAD(o1 + tx) + LOAD(e1 + tx + 1);                         \
    const T a12 = LOAD(e1 + tx + 1) - LOAD(o1 + tx);                         \
    const T a13 = LOAD(o1 + tx) - LOAD(o1 + tx + 1);                         \
    const T a20 = LOAD(e2 + tx) - LOAD(e2 + tx + 1);                         \
    const T a21 = LOAD(o2 + tx) + LOAD(e2 + tx + 1);                         \
    const T a22 = LOAD(e2 + tx + 1) - LOAD(o2 + tx);                         \
    const T a23 = LOAD(o2 + tx) - LOAD(o2 + tx + 1);                         \
    const T a30 = LOAD(e3 + tx) - LOAD(e3 + tx + 1);                         \
    const T a31 = LOAD(o3 + tx) + LOAD(e3 + tx + 1);                         \
    const T a32 = LOAD(e3 + tx + 1) - LOAD(o3 + tx);                         \
    const T a33 = LOAD(o3 + tx) - LOAD(o3 + tx + 1);                         \
    STORE(out + 0 * plane + tx, a00 - a20);                                  \
    STORE(out + 1 * plane + tx, a01 - a21);                                  \
    STORE(out + 2 * plane + tx, a02 - a22);                                  \
    STORE(out + 3 * plane + tx, a03 - a23);                                  \
    STORE(out + 4 * plane + tx, a10 + a20);                                  \
    STORE(out + 5 * plane + tx, a11 + a21);                                  \
    STORE(out + 6 * plane + tx, a12 + a22);                                  \
    STORE(out + 7 * plane + tx, a13 + a23);                                  \
    STORE(out + 8 * plane + tx, a20 - a10);                                  \
    STORE(out + 9 * plane + tx, a21 - a11);                                  \
    STORE(out + 10 * plane + tx, a22 - a12);                                 \
    STORE(out + 11 * plane + tx, a23 - a13);                                 \
    STORE(out + 12 * plane + tx, a10 - a30);                                 \
    STORE(out + 13 * plane + tx, a11 - a31);                                 \
    STORE(out + 14 * plane + tx, a12 - a32);                                 \
    STORE(out + 15 * plane + tx, a13 - a33);                                 \
  } while (0)

/* V[xi][c][t] for the images [0, count) of x: the 4x4 tile at input rows
 * 2ty-1.. and columns 2tx-1.. (zero outside the image), transformed:
 * B^T d B, columns first (e), then rows. */
static void transform_input(const float *x, int count, int C, int H, int W,
                            float *v, size_t ld, float *split) {
  const int TH = (H + 1) / 2, TW = (W + 1) / 2, len = TW + 1;
  const size_t plane = (size_t)C * ld;
  float *ev = split, *od = split + (size_t)(H + 3) * len;
  for (int i = 0; i < count; i++)
    for (int c = 0; c < C; c++) {
      split_plane(x + ((size_t)i * C + c) * H * W, H, W, TW, ev, od);
      float *dst = v + (size_t)c * ld + (size_t)i * TH * TW;
      for (int ty = 0; ty < TH; ty++) {
        const float *e0 = ev + (size_t)2 * ty * len, *o0 = od + (size_t)2 * ty * len;
        const float *e1 = e0 + len, *o1 = o0 + len, *e2 = e1 + len;
        const float *o2 = o1 + len, *e3 = e2 + len, *o3 = o2 + len;
        float *restrict out = dst + (size_t)ty * TW;
        int tx = 0;
        for (; tx + LANES <= TW; tx += LANES)
          INPUT_TILES(vec8, load8, store8);
        for (; tx < TW; tx++) INPUT_TILES(float, load1, store1);
      }
    }
}

/* Tiles tx.. of one tile row: t = A^T q (two rows), then the two output
 * rows' even (t A column 0) and odd (column 1) pixels. */
#define OUTPUT_TILES(T, LOAD, STORE)                                         \
  do {                                                                       \
    T t0[4], t1[4];                                                          \
    for (int j = 0; j < 4; j++) {                                            \
      const T q0 = LOAD(q + (0 + j) * plane + tx);                           \
      const T q1 = LOAD(q + (4 + j) * plane + tx);                           \
      const T q2 = LOAD(q + (8 + j) * plane + tx);                           \
      const T q3 = LOAD(q + (12 + j) * plane + tx);                          \
      t0[j] = q0 + q1 + q2;                                                  \
      t1[j] = q1 - q2 - q3;                                                  \
    }                                                                        \
    STORE(r0e + tx, t0[0] + t0[1] + t0[2]);                                  \
    STORE(r0o + tx, t0[1] - t0[2] - t0[3]);                                  \
    STORE(r1e + tx, t1[0] + t1[1] + t1[2]);                                  \
    STORE(r1o + tx, t1[1] - t1[2] - t1[3]);                                  \
  } while (0)

/* y for the images [0, count): each tile's A^T m A, clipped to the image;
 * rows of tiles at a time into two output rows (even and odd columns kept
 * apart in `row`, then interleaved). */
static void transform_output(const float *m, size_t ld, int count, int F,
                             int H, int W, float *y, float *row,
                             const fer__epilogue *e) {
  const int TH = (H + 1) / 2, TW = (W + 1) / 2;
  const size_t plane = (size_t)F * ld;
  float *r0e = row, *r0o = row + TW, *r1e = row + 2 * TW, *r1o = row + 3 * TW;
  for (int i = 0; i < count; i++)
    for (int f = 0; f < F; f++) {
      const float *src = m + (size_t)f * ld + (size_t)i * TH * TW;
      float *dst = y + ((size_t)i * F + f) * H * W;
      for (int ty = 0; ty < TH; ty++) {
        const float *q = src + (size_t)ty * TW;
        int tx = 0;
        for (; tx + LANES <= TW; tx += LANES)
          OUTPUT_TILES(vec8, load8, store8);
        for (; tx < TW; tx++) OUTPUT_TILES(float, load1, store1);
        const int oy = 2 * ty;
        float *y0 = dst + (size_t)oy * W;
        for (int ox = 0; ox + 1 < W; ox += 2) {
          y0[ox] = r0e[ox / 2];
          y0[ox + 1] = r0o[ox / 2];
        }
        if (W % 2) y0[W - 1] = r0e[TW - 1];
        const int rows = oy + 1 < H ? 2 : 1;
        if (rows == 2) {
          float *y1 = y0 + W;
          for (int ox = 0; ox + 1 < W; ox += 2) {
            y1[ox] = r1e[ox / 2];
            y1[ox + 1] = r1o[ox / 2];
          }
          if (W % 2) y1[W - 1] = r1e[TW - 1];
        }
        if (e) fer__epilogue_apply(e, f, y0, (long)rows * W);
      }
    }
}

void fer__winograd_run(const float *u, int n, int cin, int cout, int h, int w,
                       const float *x, float *y, float *scratch, void *gemm,
                       size_t gemm_bytes, const fer__epilogue *e) {
  const int per = fer__winograd_chunk_images(h, w), tiles = tiles_of(h, w);
  const size_t in_size = (size_t)cin * h * w, out_size = (size_t)cout * h * w;
  for (int i0 = 0; i0 < n; i0 += per) {
    const int count = n - i0 < per ? n - i0 : per;
    const int T = count * tiles;
    float *v = scratch, *m = scratch + 16 * (size_t)cin * T;
    float *split = m + 16 * (size_t)cout * T;
    transform_input(x + i0 * in_size, count, cin, h, w, v, (size_t)T, split);
    for (int xi = 0; xi < 16; xi++)
      fer__sgemm_ws(0, 0, cout, T, cin, 1.0f,
                    u + (size_t)xi * cout * cin, cin,
                    v + (size_t)xi * cin * T, T, 0.0f,
                    m + (size_t)xi * cout * T, T, gemm, gemm_bytes);
    transform_output(m, (size_t)T, count, cout, h, w, y + i0 * out_size, split,
                     e);
  }
}
