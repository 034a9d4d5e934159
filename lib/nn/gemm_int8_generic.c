/* The portable int8 tile: plain loops, the reference the other kernels
 * must equal bit for bit (integer sums are exact, so order is free). The
 * sums stay in a local tile, and each step block reads its four weights
 * once, so the compiler can keep the inner loop over the 16 columns
 * simple enough to vectorise. */
#include <string.h>

#include "nn/gemm_int8.h"

static void generic_tile(int k4, const int8_t *w, const uint8_t *panel,
                         int32_t *c, long ldc) {
  enum { MR = FER__I8_MR, NR = FER__I8_NR };
  const long row = 4L * k4;
  int32_t sum[MR][NR];
  memset(sum, 0, sizeof sum);
  for (int kb = 0; kb < k4; kb++) {
    const uint8_t *x = panel + (long)kb * 4 * NR;
    for (int r = 0; r < MR; r++) {
      const int8_t *wr = w + r * row + 4L * kb;
      const int32_t w0 = wr[0], w1 = wr[1], w2 = wr[2], w3 = wr[3];
      for (int j = 0; j < NR; j++)
        sum[r][j] += w0 * x[4 * j] + w1 * x[4 * j + 1] + w2 * x[4 * j + 2] +
                     w3 * x[4 * j + 3];
    }
  }
  for (int r = 0; r < MR; r++) memcpy(c + r * ldc, sum[r], sizeof sum[r]);
}

const fer__int8_kernel fer__int8_kernel_generic = {"generic", generic_tile};
