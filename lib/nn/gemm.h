/*
 * Single-precision matrix multiply, the engine's hot loop.
 *   C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
 * Row-major; op(X) is X or its transpose (trans_x != 0); lda/ldb/ldc are row
 * strides in floats. beta == 0 ignores C's old contents (even NaNs).
 * Parallel over threads (fer__num_threads()) when called outside an OpenMP
 * parallel region; single-threaded inside one.
 */
#ifndef FER_NN_GEMM_H
#define FER_NN_GEMM_H

void fer__sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc);

#endif
