/* AVX2 + FMA SGEMM micro-kernel: a 6 x 16 tile of C in 12 ymm accumulators
 * (two 8-float vectors per row), the classic shape for 16 ymm registers:
 * 12 accumulators, 2 B vectors, 1 broadcast. Narrow right edges use one
 * vector and masked loads/stores. Compiled for AVX2 through a target
 * attribute and only called after gemm.c has checked the CPU. */
#include "nn/gemm_kernel.h"

#if FER__GEMM_HAVE_X86

#include <immintrin.h>

#define AVX2_MR 6
#define AVX2_NR 16
#define TARGET_AVX2 __attribute__((target("avx2,fma")))
#define INLINE_ALWAYS inline __attribute__((always_inline))

/* Lanes [0, count) set, as the sign bits _mm256_maskload_ps wants. */
TARGET_AVX2 static INLINE_ALWAYS __m256i lanes_mask(int count) {
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(count), lane);
}

#define DECLARE_ROW(i) __m256 acc##i##0 = zero, acc##i##1 = zero
#define FMA_ROW(i)                                              \
  do {                                                          \
    __m256 a_ = _mm256_broadcast_ss(a + a_off##i);              \
    acc##i##0 = _mm256_fmadd_ps(a_, b0, acc##i##0);             \
    if (nv > 1) acc##i##1 = _mm256_fmadd_ps(a_, b1, acc##i##1); \
  } while (0)
#define STORE_VEC(row_ptr, v, accv)                                          \
  do {                                                                       \
    __m256 r_ = _mm256_mul_ps(alpha_v, (accv));                              \
    if (full##v) {                                                           \
      if (beta != 0.0f)                                                      \
        r_ = _mm256_fmadd_ps(beta_v, _mm256_loadu_ps((row_ptr) + 8 * v), r_); \
      _mm256_storeu_ps((row_ptr) + 8 * v, r_);                               \
    } else {                                                                 \
      if (beta != 0.0f)                                                      \
        r_ = _mm256_fmadd_ps(                                                \
            beta_v, _mm256_maskload_ps((row_ptr) + 8 * v, mask##v), r_);     \
      _mm256_maskstore_ps((row_ptr) + 8 * v, mask##v, r_);                   \
    }                                                                        \
  } while (0)
#define STORE_ROW(i)                               \
  do {                                             \
    if (i < rows) {                                \
      float *crow_ = c + (long)i * ldc;            \
      STORE_VEC(crow_, 0, acc##i##0);              \
      if (nv > 1) STORE_VEC(crow_, 1, acc##i##1);  \
    }                                              \
  } while (0)

TARGET_AVX2 static INLINE_ALWAYS void
avx2_tile_nv(const int nv, int kc, const float *restrict a_panel,
             long a_rs, long a_cs, const float *restrict b_packed, float *restrict c, long ldc,
             int rows, int cols, float alpha, float beta) {
  const __m256 zero = _mm256_setzero_ps();
  DECLARE_ROW(0); DECLARE_ROW(1); DECLARE_ROW(2);
  DECLARE_ROW(3); DECLARE_ROW(4); DECLARE_ROW(5);
  /* Row offsets into A; rows past the edge re-read row 0 (never stored). */
  const long a_off0 = 0, a_off1 = rows > 1 ? a_rs : 0;
  const long a_off2 = rows > 2 ? 2 * a_rs : 0, a_off3 = rows > 3 ? 3 * a_rs : 0;
  const long a_off4 = rows > 4 ? 4 * a_rs : 0, a_off5 = rows > 5 ? 5 * a_rs : 0;
  const float *a = a_panel, *b = b_packed;
  for (int p = 0; p < kc; p++) {
    __m256 b0 = _mm256_loadu_ps(b);
    __m256 b1 = nv > 1 ? _mm256_loadu_ps(b + 8) : zero;
    FMA_ROW(0); FMA_ROW(1); FMA_ROW(2);
    FMA_ROW(3); FMA_ROW(4); FMA_ROW(5);
    a += a_cs;
    b += AVX2_NR;
  }
  const __m256 alpha_v = _mm256_set1_ps(alpha);
  const __m256 beta_v = _mm256_set1_ps(beta);
  const int full0 = cols >= 8, full1 = cols >= 16;
  const __m256i mask0 = lanes_mask(cols), mask1 = lanes_mask(cols - 8);
  (void)full1;
  (void)mask1;
  STORE_ROW(0); STORE_ROW(1); STORE_ROW(2);
  STORE_ROW(3); STORE_ROW(4); STORE_ROW(5);
}

TARGET_AVX2 static void avx2_tile(int kc, const float *a, long a_rs,
                                  long a_cs, const float *b_packed, float *c,
                                  long ldc, int rows, int cols, float alpha,
                                  float beta) {
  if (cols > 8)
    avx2_tile_nv(2, kc, a, a_rs, a_cs, b_packed, c, ldc, rows, cols, alpha, beta);
  else
    avx2_tile_nv(1, kc, a, a_rs, a_cs, b_packed, c, ldc, rows, cols, alpha, beta);
}

/* Rows form: 32 outputs at a time held in four registers for all steps. */
TARGET_AVX2 static void avx2_gemv_rows(int steps, int len, const float *x,
                                       long x_stride, const float *mat,
                                       long line, float *acc) {
  int j = 0;
  for (; j + 32 <= len; j += 32) {
    __m256 a0 = _mm256_loadu_ps(acc + j), a1 = _mm256_loadu_ps(acc + j + 8);
    __m256 a2 = _mm256_loadu_ps(acc + j + 16), a3 = _mm256_loadu_ps(acc + j + 24);
    const float *row = mat + j;
    for (int p = 0; p < steps; p++, row += line) {
      const __m256 s = _mm256_set1_ps(x[p * x_stride]);
      a0 = _mm256_fmadd_ps(s, _mm256_loadu_ps(row), a0);
      a1 = _mm256_fmadd_ps(s, _mm256_loadu_ps(row + 8), a1);
      a2 = _mm256_fmadd_ps(s, _mm256_loadu_ps(row + 16), a2);
      a3 = _mm256_fmadd_ps(s, _mm256_loadu_ps(row + 24), a3);
    }
    _mm256_storeu_ps(acc + j, a0);
    _mm256_storeu_ps(acc + j + 8, a1);
    _mm256_storeu_ps(acc + j + 16, a2);
    _mm256_storeu_ps(acc + j + 24, a3);
  }
  for (; j < len; j += 8) {
    const __m256i m = lanes_mask(len - j);
    __m256 a = _mm256_maskload_ps(acc + j, m);
    const float *row = mat + j;
    for (int p = 0; p < steps; p++, row += line)
      a = _mm256_fmadd_ps(_mm256_set1_ps(x[p * x_stride]),
                          _mm256_maskload_ps(row, m), a);
    _mm256_maskstore_ps(acc + j, m, a);
  }
}

TARGET_AVX2 static INLINE_ALWAYS float sum_lanes(__m256 s) {
  __m128 h = _mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1));
  h = _mm_add_ps(h, _mm_movehl_ps(h, h));
  h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
  return _mm_cvtss_f32(h);
}

/* Dots form: four rows at a time share each load of x; masked tail. */
TARGET_AVX2 static void avx2_gemv_dots(int count, int len, const float *x,
                                       const float *mat, long line,
                                       float *out) {
  const int tail = len % 8, body = len - tail;
  const __m256i tail_mask = lanes_mask(tail);
  int o = 0;
  for (; o + 4 <= count; o += 4) {
    const float *r0 = mat + o * line, *r1 = r0 + line;
    const float *r2 = r1 + line, *r3 = r2 + line;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (int p = 0; p < body; p += 8) {
      const __m256 xv = _mm256_loadu_ps(x + p);
      s0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r0 + p), s0);
      s1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r1 + p), s1);
      s2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r2 + p), s2);
      s3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(r3 + p), s3);
    }
    if (tail) {
      const __m256 xv = _mm256_maskload_ps(x + body, tail_mask);
      s0 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(r0 + body, tail_mask), s0);
      s1 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(r1 + body, tail_mask), s1);
      s2 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(r2 + body, tail_mask), s2);
      s3 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(r3 + body, tail_mask), s3);
    }
    out[o] += sum_lanes(s0);
    out[o + 1] += sum_lanes(s1);
    out[o + 2] += sum_lanes(s2);
    out[o + 3] += sum_lanes(s3);
  }
  for (; o < count; o++) {
    const float *row = mat + o * line;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    int p = 0;
    for (; p + 16 <= body; p += 16) {
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(row + p), s0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p + 8),
                           _mm256_loadu_ps(row + p + 8), s1);
    }
    for (; p < body; p += 8)
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + p), _mm256_loadu_ps(row + p), s0);
    if (tail)
      s1 = _mm256_fmadd_ps(_mm256_maskload_ps(x + body, tail_mask),
                           _mm256_maskload_ps(row + body, tail_mask), s1);
    out[o] += sum_lanes(_mm256_add_ps(s0, s1));
  }
}

const fer__gemm_kernel fer__gemm_kernel_avx2 = {
    .name = "avx2",
    .mr = AVX2_MR,
    .nr = AVX2_NR,
    .kc = 256,
    .mc = 120,
    .nc = 512,
    .tile = avx2_tile,
    .gemv_rows = avx2_gemv_rows,
    .gemv_dots = avx2_gemv_dots,
};

#endif /* FER__GEMM_HAVE_X86 */
