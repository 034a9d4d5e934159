/* The portable int8 tile: plain loops, the reference the other kernels
 * must equal bit for bit (integer sums are exact, so order is free). */
#include "nn/gemm_int8.h"

static void generic_tile(int k4, const int8_t *w, const uint8_t *panel,
                         int32_t *c, long ldc) {
  const long row = 4L * k4;
  for (int r = 0; r < FER__I8_MR; r++)
    for (int j = 0; j < FER__I8_NR; j++) {
      int32_t sum = 0;
      for (long k = 0; k < row; k++)
        sum += (int32_t)w[r * row + k] *
               (int32_t)panel[(k / 4) * 4 * FER__I8_NR + j * 4 + k % 4];
      c[r * ldc + j] = sum;
    }
}

const fer__int8_kernel fer__int8_kernel_generic = {"generic", generic_tile};
