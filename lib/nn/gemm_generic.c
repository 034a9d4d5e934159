/* Portable SGEMM micro-kernel: plain C that any compiler accepts, written
 * with fixed-size inner loops so an optimiser can still vectorise it with
 * whatever the baseline target offers (SSE2 on x86-64, NEON on arm64). */
#include "nn/gemm_kernel.h"

#define GENERIC_MR 4
#define GENERIC_NR 16

static void generic_tile(int kc, const float *a_packed, const float *b_packed,
                         float *c, long ldc, int rows, int cols, float alpha,
                         float beta) {
  float acc[GENERIC_MR][GENERIC_NR] = {{0}};
  for (int p = 0; p < kc; p++) {
    const float *a = a_packed + (long)p * GENERIC_MR;
    const float *b = b_packed + (long)p * GENERIC_NR;
    for (int i = 0; i < GENERIC_MR; i++)
      for (int j = 0; j < GENERIC_NR; j++) acc[i][j] += a[i] * b[j];
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

static void generic_axpy(int n, float s, const float *x, float *y) {
  for (int i = 0; i < n; i++) y[i] += s * x[i];
}

static float generic_dot(int n, const float *x, const float *y) {
  /* Four partial sums: shorter dependency chains, and a little less
   * rounding error than one running sum. */
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += x[i] * y[i];
    s1 += x[i + 1] * y[i + 1];
    s2 += x[i + 2] * y[i + 2];
    s3 += x[i + 3] * y[i + 3];
  }
  for (; i < n; i++) s0 += x[i] * y[i];
  return (s0 + s1) + (s2 + s3);
}

const fer__gemm_kernel fer__gemm_kernel_generic = {
    .name = "generic",
    .mr = GENERIC_MR,
    .nr = GENERIC_NR,
    .kc = 256,
    .mc = 128,
    .nc = 512,
    .tile = generic_tile,
    .axpy = generic_axpy,
    .dot = generic_dot,
};
