/* AVX2 int8 tile: 4 rows x 16 columns of C in 8 ymm accumulators. Per four
 * steps, vpmaddubsw multiplies 32 activation bytes (unsigned, 0..127) by
 * the row's four weights (signed, broadcast) and adds them in pairs into
 * int16; vpmaddwd by ones adds the pairs into int32. With activations below
 * 128 a pair is at most 2 * 127 * 127 = 32258, so the int16 step never
 * saturates and the sums equal the portable kernel's exactly. (The other
 * route, sign-extending to int16 for vpmaddwd alone, needs no such limit
 * but does half the products per instruction.) Compiled for AVX2 through a
 * target attribute, called only after gemm_int8.c checked the CPU. */
#include "nn/gemm_int8.h"

#if FER__INT8_HAVE_X86

#include <immintrin.h>
#include <string.h>

#define TARGET_AVX2 __attribute__((target("avx2")))

TARGET_AVX2 static inline __m256i dot4(__m256i x, __m256i w, __m256i ones,
                                       __m256i acc) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), ones));
}

TARGET_AVX2 static __m256i broadcast4(const int8_t *p) {
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

TARGET_AVX2 static void avx2_tile(int k4, const int8_t *w,
                                  const uint8_t *panel, int32_t *c, long ldc) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256i a00 = _mm256_setzero_si256(), a01 = a00, a10 = a00, a11 = a00;
  __m256i a20 = a00, a21 = a00, a30 = a00, a31 = a00;
  const long row = 4L * k4;
  for (int kb = 0; kb < k4; kb++) {
    const uint8_t *x = panel + (long)kb * 4 * FER__I8_NR;
    const __m256i x0 = _mm256_loadu_si256((const __m256i *)(const void *)x);
    const __m256i x1 = _mm256_loadu_si256((const __m256i *)(const void *)(x + 32));
    const int8_t *wk = w + 4L * kb;
    __m256i b = broadcast4(wk);
    a00 = dot4(x0, b, ones, a00);
    a01 = dot4(x1, b, ones, a01);
    b = broadcast4(wk + row);
    a10 = dot4(x0, b, ones, a10);
    a11 = dot4(x1, b, ones, a11);
    b = broadcast4(wk + 2 * row);
    a20 = dot4(x0, b, ones, a20);
    a21 = dot4(x1, b, ones, a21);
    b = broadcast4(wk + 3 * row);
    a30 = dot4(x0, b, ones, a30);
    a31 = dot4(x1, b, ones, a31);
  }
  __m256i *out;
#define STORE(r, lo, hi)                                   \
  out = (__m256i *)(void *)(c + (long)(r) * ldc);          \
  _mm256_storeu_si256(out, lo);                            \
  _mm256_storeu_si256((__m256i *)(void *)(c + (long)(r) * ldc + 8), hi)
  STORE(0, a00, a01);
  STORE(1, a10, a11);
  STORE(2, a20, a21);
  STORE(3, a30, a31);
#undef STORE
}

const fer__int8_kernel fer__int8_kernel_avx2 = {"avx2", avx2_tile};

#endif
