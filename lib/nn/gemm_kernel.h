/*
 * What an instruction-set variant of the SGEMM provides to the blocked
 * driver in gemm.c: a register-tiled micro-kernel over packed panels, the
 * cache block sizes that suit it, and two vector primitives for the
 * matrix-vector fast path. One const table per variant, in gemm_<isa>.c.
 *
 * The A operand of a tile is read through strides, so the driver can pass
 * either a packed panel (a_rs = 1, a_cs = mr: p-major, zero-padded to mr
 * rows) or, when op(A) rows are contiguous, the matrix itself (a_rs = lda,
 * a_cs = 1): that saves a copy of A per call, which matters when C is
 * narrow. The B operand is always packed (written by gemm.c):
 *   B panel: `cols` <= nr columns of op(B) for kc steps, stored p-major:
 *            b_packed[p * nr + j], columns past the edge zero.
 */
#ifndef FER_NN_GEMM_KERNEL_H
#define FER_NN_GEMM_KERNEL_H

typedef struct fer__gemm_kernel {
  const char *name;
  int mr, nr; /* register tile: mr rows by nr columns of C */
  /* Cache blocks: a kc x mr A panel stays in L1 while the kc x nc packed B
   * block streams from L2; the mc x kc A block is repacked per mc rows. */
  int kc, mc, nc;
  /* C[rows x cols] (row stride ldc) = alpha * A_panel * B_panel + beta * C,
   * beta == 0 ignoring C, where A_panel(i, p) = a[i * a_rs + p * a_cs].
   * rows <= mr, cols <= nr, kc >= 1; rows of A at or past `rows` are never
   * read. */
  void (*tile)(int kc, const float *a, long a_rs, long a_cs,
               const float *b_packed, float *c, long ldc, int rows, int cols,
               float alpha, float beta);
  /* Matrix-vector, rows form: acc[j] += sum over p < steps of
   * x[p * x_stride] * mat[p * line + j], for j < len. */
  void (*gemv_rows)(int steps, int len, const float *x, long x_stride,
                    const float *mat, long line, float *acc);
  /* Matrix-vector, dots form: out[o] += sum over p < len of
   * x[p] * mat[o * line + p], for o < count. */
  void (*gemv_dots)(int count, int len, const float *x, const float *mat,
                    long line, float *out);
} fer__gemm_kernel;

extern const fer__gemm_kernel fer__gemm_kernel_generic;

#if (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__i386__))
#define FER__GEMM_HAVE_X86 1
extern const fer__gemm_kernel fer__gemm_kernel_avx2;
extern const fer__gemm_kernel fer__gemm_kernel_avx512;
#else
#define FER__GEMM_HAVE_X86 0
#endif

#endif
