/* Portable SGEMM micro-kernel: plain C that any compiler accepts, written
 * with fixed-size inner loops so an optimiser can still vectorise it with
 * whatever the baseline target offers (SSE2 on x86-64, NEON on arm64). */
#include "nn/gemm_kernel.h"

#define GENERIC_MR 4
#define GENERIC_NR 16

static void generic_tile(int kc, const float *a, long a_rs, long a_cs,
                         const float *b_packed, float *c, long ldc, int rows,
                         int cols, float alpha, float beta) {
  float acc[GENERIC_MR][GENERIC_NR] = {{0}};
  long a_off[GENERIC_MR];
  /* Rows past the edge re-read row 0; their sums are never stored. */
  for (int i = 0; i < GENERIC_MR; i++) a_off[i] = i < rows ? i * a_rs : 0;
  for (int p = 0; p < kc; p++) {
    const float *a_step = a + p * a_cs;
    const float *b = b_packed + (long)p * GENERIC_NR;
    for (int i = 0; i < GENERIC_MR; i++)
      for (int j = 0; j < GENERIC_NR; j++) acc[i][j] += a_step[a_off[i]] * b[j];
  }
  for (int i = 0; i < rows; i++) {
    float *crow = c + i * ldc;
    if (beta == 0.0f) {
      for (int j = 0; j < cols; j++) crow[j] = alpha * acc[i][j];
    } else {
      for (int j = 0; j < cols; j++)
        crow[j] = alpha * acc[i][j] + beta * crow[j];
    }
  }
}

static void generic_gemv_rows(int steps, int len, const float *x,
                              long x_stride, const float *mat, long line,
                              float *acc) {
  for (int p = 0; p < steps; p++) {
    const float s = x[p * x_stride];
    const float *row = mat + p * line;
    for (int j = 0; j < len; j++) acc[j] += s * row[j];
  }
}

static void generic_gemv_dots(int count, int len, const float *x,
                              const float *mat, long line, float *out) {
  for (int o = 0; o < count; o++) {
    const float *row = mat + o * line;
    /* Four partial sums: shorter dependency chains, and a little less
     * rounding error than one running sum. */
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int p = 0;
    for (; p + 4 <= len; p += 4) {
      s0 += x[p] * row[p];
      s1 += x[p + 1] * row[p + 1];
      s2 += x[p + 2] * row[p + 2];
      s3 += x[p + 3] * row[p + 3];
    }
    for (; p < len; p++) s0 += x[p] * row[p];
    out[o] += (s0 + s1) + (s2 + s3);
  }
}

const fer__gemm_kernel fer__gemm_kernel_generic = {
    .name = "generic",
    .mr = GENERIC_MR,
    .nr = GENERIC_NR,
    .kc = 256,
    .mc = 128,
    .nc = 512,
    .tile = generic_tile,
    .gemv_rows = generic_gemv_rows,
    .gemv_dots = generic_gemv_dots,
};
