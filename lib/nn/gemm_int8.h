/*
 * The int8 product behind quantised inference (quant_forward.c):
 *   C[f][j] (int32) = sum over k of W[f][k] (int8) * X[k][j] (uint8 0..127)
 * exact in int32 for every kernel, so the kernels agree bit for bit.
 *
 * Layouts (written by the caller, zero-padded):
 *   W: f_pad rows (a multiple of FER__I8_MR) of k4 * 4 int8, row stride
 *      k4 * 4 bytes; padding rows and steps are zero.
 *   X: panels of FER__I8_NR columns; panel q holds k4 blocks of
 *      FER__I8_NR x 4 bytes: X[k][q * NR + j] at
 *      ((q * k4 + k / 4) * NR + j) * 4 + k % 4. Four steps of one column
 *      sit together, the order vpdpbusd (VNNI) and vpmaddubsw + vpmaddwd
 *      both read.
 * Activations stay in 0..127 (7 bits): the AVX2 kernel adds products in
 * pairs in int16 (vpmaddubsw), and 2 * 127 * 127 = 32258 fits where
 * 2 * 255 * 127 would saturate. The quantiser (quantize.c) keeps to it.
 *
 * Kernels sit in one table (gemm_int8.c), chosen by what the CPU runs. A
 * VNNI kernel would be one more row; there is none, as no machine here
 * could test it.
 */
#ifndef FER_NN_GEMM_INT8_H
#define FER_NN_GEMM_INT8_H

#include <stdint.h>

enum { FER__I8_MR = 4, FER__I8_NR = 16 };

typedef struct fer__int8_kernel {
  const char *name;
  /* c[r * ldc + j] = sum over k < 4 * k4 of w[r * 4 * k4 + k] *
   * panel[(k / 4) * 4 * NR + j * 4 + k % 4], for r < MR, j < NR. */
  void (*tile)(int k4, const int8_t *w, const uint8_t *panel, int32_t *c,
               long ldc);
} fer__int8_kernel;

extern const fer__int8_kernel fer__int8_kernel_generic;
#if (defined(__GNUC__) || defined(__clang__)) && \
    (defined(__x86_64__) || defined(__i386__))
#define FER__INT8_HAVE_X86 1
extern const fer__int8_kernel fer__int8_kernel_avx2;
#else
#define FER__INT8_HAVE_X86 0
#endif

/* Kernel variants, portable first. Values are internal. */
typedef enum fer__int8_isa {
  FER__INT8_GENERIC = 0,
  FER__INT8_AVX2 = 1,
  FER__INT8_ISA_COUNT = 2
} fer__int8_isa;

/* The kernel of `isa`, or NULL when this build or CPU cannot run it. */
const fer__int8_kernel *fer__int8_kernel_of(fer__int8_isa isa);

/* The best kernel this CPU runs; the portable one when `portable` is set or
 * the environment has FER_INT8_KERNEL=generic (for tests). */
const fer__int8_kernel *fer__int8_kernel_pick(int portable);

/* C (f_pad rows, row stride ldc, panels * NR columns) = W * X, layouts as
 * above. */
void fer__gemm_int8(const fer__int8_kernel *kn, int f_pad, int panels, int k4,
                    const int8_t *w, const uint8_t *x_packed, int32_t *c,
                    long ldc);

#endif
