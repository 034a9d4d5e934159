/* Placeholder SGEMM: straightforward loops until the blocked kernel lands.
 * Correct for every transpose and beta, not fast. */
#include "nn/gemm.h"

void fer__sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc) {
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < n; j++) {
      float sum = 0.0f;
      for (int p = 0; p < k; p++) {
        float av = trans_a ? a[(long)p * lda + i] : a[(long)i * lda + p];
        float bv = trans_b ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
        sum += av * bv;
      }
      float *cv = &c[(long)i * ldc + j];
      *cv = beta == 0.0f ? alpha * sum : alpha * sum + beta * *cv;
    }
  }
}
