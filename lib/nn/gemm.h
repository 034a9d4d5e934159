/*
 * Single-precision matrix multiply, the engine's hot loop.
 *   C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C
 * Row-major; op(X) is X or its transpose (trans_x != 0); lda/ldb/ldc are row
 * strides in floats. beta == 0 ignores C's old contents (even NaNs).
 * Parallel over threads (fer__num_threads()) when called outside an OpenMP
 * parallel region; single-threaded inside one.
 *
 * Any m, n, k >= 0 is valid; m == 0 or n == 0 does nothing, k == 0 (or
 * alpha == 0) scales C by beta. Strides must be at least the stored row
 * width (lda >= k for A, lda >= m for A transposed, and so on). None of
 * these functions can fail: when packing memory cannot be had they fall back
 * to a slow unpacked loop with the same result up to rounding.
 *
 * Thread safety: all functions are reentrant; C must not overlap A or B,
 * and concurrent calls must write disjoint C (and use distinct workspaces).
 */
#ifndef FER_NN_GEMM_H
#define FER_NN_GEMM_H

#include <stddef.h>

/* The plain entry point: packing memory comes from a small stack buffer for
 * small products and from the allocator (one malloc+free per call) for
 * larger ones. Callers that multiply in a loop should prefer fer__sgemm_ws. */
void fer__sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc);

/* Bytes of workspace that lets fer__sgemm_ws run this shape on `threads`
 * threads (threads < 1 counts as 1) without allocating. Valid for either
 * transpose setting and for every instruction-set variant. Shapes at most
 * this large in every dimension need no more. */
size_t fer__sgemm_workspace_size(int m, int n, int k, int threads);

/* fer__sgemm with caller-owned packing memory (any alignment; the caller
 * keeps ownership and may reuse it for the next call). Uses at most as many
 * threads as `workspace_size` bytes can feed (see
 * fer__sgemm_workspace_size); a NULL or too small workspace is not an
 * error: the call then behaves like fer__sgemm. */
void fer__sgemm_ws(int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb,
                   float beta, float *c, int ldc, void *workspace,
                   size_t workspace_size);

/* ---- Instruction-set variants (for tests and benchmarks) ---- */

/* Variants, best last. Values are internal and may change. */
typedef enum fer__gemm_isa {
  FER__GEMM_GENERIC = 0, /* portable C, any CPU */
  FER__GEMM_AVX2 = 1,    /* x86 AVX2 + FMA */
  FER__GEMM_AVX512 = 2,  /* x86 AVX-512F/VL + FMA */
  FER__GEMM_ISA_COUNT = 3
} fer__gemm_isa;

/* Whether this build and this CPU can run `isa`. */
int fer__gemm_isa_available(fer__gemm_isa isa);

/* The variant fer__sgemm picks on this CPU. */
fer__gemm_isa fer__gemm_isa_best(void);

/* Short name ("generic", "avx2", "avx512") for reports. */
const char *fer__gemm_isa_name(fer__gemm_isa isa);

/* fer__sgemm_ws forced onto one variant and at most `max_threads` threads
 * (< 1: fer__num_threads()). An unavailable variant falls back to the best
 * available one, so this never executes an instruction the CPU lacks. */
void fer__sgemm_variant(fer__gemm_isa isa, int max_threads, int trans_a,
                        int trans_b, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb,
                        float beta, float *c, int ldc, void *workspace,
                        size_t workspace_size);

#endif
