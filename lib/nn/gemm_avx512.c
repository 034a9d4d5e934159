/* AVX-512 SGEMM micro-kernel: an 8 x 48 tile of C held in 24 zmm
 * accumulators. Each k step loads three 16-float vectors of the packed B
 * panel and broadcasts eight A values: 24 FMAs for 11 loads, enough to keep
 * both FMA pipes busy (FMA latency 4 x 2 pipes = 8 chains needed, 24 given).
 * Narrow right edges use 1 or 2 vectors and masked loads/stores, so an
 * n = 9 product costs a 16-wide tile, not a 48-wide one.
 * Compiled for AVX-512 through a target attribute: the rest of the library
 * keeps the baseline ISA, and gemm.c only calls this after checking the
 * CPU. */
#include "nn/gemm_kernel.h"

#if FER__GEMM_HAVE_X86

#include <immintrin.h>

#define AVX512_MR 8
#define AVX512_NR 48
#define TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx2,fma")))
#define INLINE_ALWAYS inline __attribute__((always_inline))

/* Lanes [0, count) of a 16-lane mask, count clamped to 0..16. */
TARGET_AVX512 static INLINE_ALWAYS __mmask16 lanes_mask(int count) {
  if (count >= 16) return (__mmask16)0xFFFF;
  if (count <= 0) return (__mmask16)0;
  return (__mmask16)((1u << count) - 1u);
}

/* The tile with `nv` (1..3, a compile-time constant after inlining) column
 * vectors. Accumulators are named variables, not an array, so that no
 * compiler is tempted to keep them in memory. */
#define DECLARE_ROW(i) __m512 acc##i##0 = zero, acc##i##1 = zero, acc##i##2 = zero
#define FMA_ROW(i)                                                  \
  do {                                                              \
    __m512 a_ = _mm512_set1_ps(a[a_off##i]);                        \
    acc##i##0 = _mm512_fmadd_ps(a_, b0, acc##i##0);                 \
    if (nv > 1) acc##i##1 = _mm512_fmadd_ps(a_, b1, acc##i##1);     \
    if (nv > 2) acc##i##2 = _mm512_fmadd_ps(a_, b2, acc##i##2);     \
  } while (0)
#define STORE_VEC(row_ptr, v, accv)                                       \
  do {                                                                    \
    __m512 r_ = _mm512_mul_ps(alpha_v, (accv));                           \
    if (beta != 0.0f)                                                     \
      r_ = _mm512_fmadd_ps(beta_v,                                        \
                           _mm512_maskz_loadu_ps(mask##v, (row_ptr) + 16 * v), \
                           r_);                                           \
    _mm512_mask_storeu_ps((row_ptr) + 16 * v, mask##v, r_);              \
  } while (0)
#define STORE_ROW(i)                                     \
  do {                                                   \
    if (i < rows) {                                      \
      float *crow_ = c + (long)i * ldc;                  \
      STORE_VEC(crow_, 0, acc##i##0);                    \
      if (nv > 1) STORE_VEC(crow_, 1, acc##i##1);        \
      if (nv > 2) STORE_VEC(crow_, 2, acc##i##2);        \
    }                                                    \
  } while (0)

TARGET_AVX512 static INLINE_ALWAYS void
avx512_tile_nv(const int nv, int kc, const float *restrict a_panel,
               long a_rs, long a_cs, const float *restrict b_packed, float *restrict c, long ldc,
               int rows, int cols, float alpha, float beta) {
  const __m512 zero = _mm512_setzero_ps();
  DECLARE_ROW(0); DECLARE_ROW(1); DECLARE_ROW(2); DECLARE_ROW(3);
  DECLARE_ROW(4); DECLARE_ROW(5); DECLARE_ROW(6); DECLARE_ROW(7);
  /* Row offsets into A; rows past the edge re-read row 0 (never stored). */
  const long a_off0 = 0, a_off1 = rows > 1 ? a_rs : 0;
  const long a_off2 = rows > 2 ? 2 * a_rs : 0, a_off3 = rows > 3 ? 3 * a_rs : 0;
  const long a_off4 = rows > 4 ? 4 * a_rs : 0, a_off5 = rows > 5 ? 5 * a_rs : 0;
  const long a_off6 = rows > 6 ? 6 * a_rs : 0, a_off7 = rows > 7 ? 7 * a_rs : 0;
  const float *a = a_panel, *b = b_packed;
  for (int p = 0; p < kc; p++) {
    __m512 b0 = _mm512_loadu_ps(b);
    __m512 b1 = nv > 1 ? _mm512_loadu_ps(b + 16) : zero;
    __m512 b2 = nv > 2 ? _mm512_loadu_ps(b + 32) : zero;
    FMA_ROW(0); FMA_ROW(1); FMA_ROW(2); FMA_ROW(3);
    FMA_ROW(4); FMA_ROW(5); FMA_ROW(6); FMA_ROW(7);
    a += a_cs;
    b += AVX512_NR;
  }
  const __m512 alpha_v = _mm512_set1_ps(alpha);
  const __m512 beta_v = _mm512_set1_ps(beta);
  const __mmask16 mask0 = lanes_mask(cols);
  const __mmask16 mask1 = lanes_mask(cols - 16);
  const __mmask16 mask2 = lanes_mask(cols - 32);
  (void)mask1;
  (void)mask2;
  STORE_ROW(0); STORE_ROW(1); STORE_ROW(2); STORE_ROW(3);
  STORE_ROW(4); STORE_ROW(5); STORE_ROW(6); STORE_ROW(7);
}

TARGET_AVX512 static void avx512_tile(int kc, const float *a, long a_rs,
                                      long a_cs, const float *b_packed,
                                      float *c, long ldc, int rows, int cols,
                                      float alpha, float beta) {
  if (cols > 32)
    avx512_tile_nv(3, kc, a, a_rs, a_cs, b_packed, c, ldc, rows, cols, alpha, beta);
  else if (cols > 16)
    avx512_tile_nv(2, kc, a, a_rs, a_cs, b_packed, c, ldc, rows, cols, alpha, beta);
  else
    avx512_tile_nv(1, kc, a, a_rs, a_cs, b_packed, c, ldc, rows, cols, alpha, beta);
}

/* Rows form: 64 outputs at a time held in four registers for all steps,
 * so acc is read and written once, not once per step. */
TARGET_AVX512 static void avx512_gemv_rows(int steps, int len, const float *x,
                                           long x_stride, const float *mat,
                                           long line, float *acc) {
  int j = 0;
  for (; j + 64 <= len; j += 64) {
    __m512 a0 = _mm512_loadu_ps(acc + j), a1 = _mm512_loadu_ps(acc + j + 16);
    __m512 a2 = _mm512_loadu_ps(acc + j + 32), a3 = _mm512_loadu_ps(acc + j + 48);
    const float *row = mat + j;
    for (int p = 0; p < steps; p++, row += line) {
      const __m512 s = _mm512_set1_ps(x[p * x_stride]);
      a0 = _mm512_fmadd_ps(s, _mm512_loadu_ps(row), a0);
      a1 = _mm512_fmadd_ps(s, _mm512_loadu_ps(row + 16), a1);
      a2 = _mm512_fmadd_ps(s, _mm512_loadu_ps(row + 32), a2);
      a3 = _mm512_fmadd_ps(s, _mm512_loadu_ps(row + 48), a3);
    }
    _mm512_storeu_ps(acc + j, a0);
    _mm512_storeu_ps(acc + j + 16, a1);
    _mm512_storeu_ps(acc + j + 32, a2);
    _mm512_storeu_ps(acc + j + 48, a3);
  }
  for (; j < len; j += 16) {
    const __mmask16 m = lanes_mask(len - j);
    __m512 a = _mm512_maskz_loadu_ps(m, acc + j);
    const float *row = mat + j;
    for (int p = 0; p < steps; p++, row += line)
      a = _mm512_fmadd_ps(_mm512_set1_ps(x[p * x_stride]),
                          _mm512_maskz_loadu_ps(m, row), a);
    _mm512_mask_storeu_ps(acc + j, m, a);
  }
}

/* One dot product; masked tail. */
TARGET_AVX512 static INLINE_ALWAYS __m512 dot_vec(int len, const float *x,
                                                  const float *row) {
  __m512 s0 = _mm512_setzero_ps(), s1 = s0;
  int p = 0;
  for (; p + 32 <= len; p += 32) {
    s0 = _mm512_fmadd_ps(_mm512_loadu_ps(x + p), _mm512_loadu_ps(row + p), s0);
    s1 = _mm512_fmadd_ps(_mm512_loadu_ps(x + p + 16),
                         _mm512_loadu_ps(row + p + 16), s1);
  }
  for (; p < len; p += 16) {
    const __mmask16 m = lanes_mask(len - p);
    s0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + p),
                         _mm512_maskz_loadu_ps(m, row + p), s0);
  }
  return _mm512_add_ps(s0, s1);
}

/* Dots form: four rows at a time share each load of x. */
TARGET_AVX512 static void avx512_gemv_dots(int count, int len, const float *x,
                                           const float *mat, long line,
                                           float *out) {
  int o = 0;
  for (; o + 4 <= count; o += 4) {
    const float *r0 = mat + o * line, *r1 = r0 + line;
    const float *r2 = r1 + line, *r3 = r2 + line;
    __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    int p = 0;
    for (; p + 16 <= len; p += 16) {
      const __m512 xv = _mm512_loadu_ps(x + p);
      s0 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(r0 + p), s0);
      s1 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(r1 + p), s1);
      s2 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(r2 + p), s2);
      s3 = _mm512_fmadd_ps(xv, _mm512_loadu_ps(r3 + p), s3);
    }
    if (p < len) {
      const __mmask16 m = lanes_mask(len - p);
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + p);
      s0 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, r0 + p), s0);
      s1 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, r1 + p), s1);
      s2 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, r2 + p), s2);
      s3 = _mm512_fmadd_ps(xv, _mm512_maskz_loadu_ps(m, r3 + p), s3);
    }
    out[o] += _mm512_reduce_add_ps(s0);
    out[o + 1] += _mm512_reduce_add_ps(s1);
    out[o + 2] += _mm512_reduce_add_ps(s2);
    out[o + 3] += _mm512_reduce_add_ps(s3);
  }
  for (; o < count; o++)
    out[o] += _mm512_reduce_add_ps(dot_vec(len, x, mat + o * line));
}

const fer__gemm_kernel fer__gemm_kernel_avx512 = {
    .name = "avx512",
    .mr = AVX512_MR,
    .nr = AVX512_NR,
    /* kc x mr A panel: 8 KiB of a 48 KiB L1; kc x nc B block: 480 KiB of
     * a 1 MiB L2. */
    .kc = 256,
    .mc = 128,
    .nc = 480,
    .tile = avx512_tile,
    .gemv_rows = avx512_gemv_rows,
    .gemv_dots = avx512_gemv_dots,
};

#endif /* FER__GEMM_HAVE_X86 */
