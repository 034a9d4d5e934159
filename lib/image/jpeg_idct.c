/*
 * Dequantisation and the accurate integer 8x8 inverse DCT.
 *
 * The 1-D transform is the Loeffler-Ligtenberg-Moschytz factorisation
 * (12 multiplies, 32 adds) written with constants scaled by 2^13, the
 * arrangement libjpeg calls "islow". Results must match libjpeg-turbo bit
 * for bit, so the rounding points are the same: the column pass keeps 2
 * extra fraction bits, the row pass removes those, the 2^13 scale and the
 * factor 8 of the 2-D normalisation, then adds 128.
 */
#include <string.h>

#include "image/jpeg_internal.h"

#define CONST_BITS 13
#define PASS1_BITS 2
/* round(c * 2^13) for each cosine combination the flowgraph needs. */
#define FIX(x) ((int64_t)((x) * (1 << CONST_BITS) + 0.5))
#define C_0_298631336 FIX(0.298631336) /* sqrt2 * (-c1 + c3 + c5 - c7) */
#define C_0_390180644 FIX(0.390180644) /* sqrt2 * (c5 - c3) */
#define C_0_541196100 FIX(0.541196100) /* sqrt2 * c6 */
#define C_0_765366865 FIX(0.765366865) /* sqrt2 * (c2 - c6) */
#define C_0_899976223 FIX(0.899976223) /* sqrt2 * (c7 - c3) */
#define C_1_175875602 FIX(1.175875602) /* sqrt2 * c3 */
#define C_1_501321110 FIX(1.501321110) /* sqrt2 * (c1 + c3 - c5 - c7) */
#define C_1_847759065 FIX(1.847759065) /* sqrt2 * (-c2 - c6) */
#define C_1_961570560 FIX(1.961570560) /* sqrt2 * (-c3 - c5) */
#define C_2_053119869 FIX(2.053119869) /* sqrt2 * (c1 + c3 - c5 + c7) */
#define C_2_562915447 FIX(2.562915447) /* sqrt2 * (-c1 - c3) */
#define C_3_072711026 FIX(3.072711026) /* sqrt2 * (c1 + c3 + c5 - c7) */

/* Rounding right shift of a value of type T; >> of a negative value is
 * arithmetic on every compiler libfer supports (libjpeg relies on it too). */
#define DESCALE(T, x, n) (((x) + ((T)1 << ((n)-1))) >> (n))

void fer__jpeg_range_table_init(uint8_t table[1024]) {
  /* libjpeg-turbo's range limiting after the IDCT: the value is wrapped to
   * 10 bits (-512..511), then shifted by 128 and clamped. The wrap only
   * matters for corrupt data, but matching it keeps even those pixels
   * equal. Index: the value & 1023. */
  for (int m = 0; m < 1024; m++) {
    int v = (m < 512 ? m : m - 1024) + 128;
    table[m] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
  }
}

/* One 1-D pass over eight inputs: writes the eight outputs, still scaled by
 * 2^13, to out[0..7]. Defined for two integer widths: int32_t is enough
 * for every valid file (see fer__jpeg_idct_islow), int64_t keeps hostile
 * coefficients from overflowing. */
#define DEFINE_IDCT_1D(name, T)                                               \
  static inline void name(T i0, T i1, T i2, T i3, T i4, T i5, T i6, T i7,     \
                          T out[8]) {                                         \
    /* Even part: a rotation by 3pi/8 of (i2, i6), butterflies with i0, i4. */ \
    T z1 = (i2 + i6) * (T)C_0_541196100;                                      \
    T tmp2 = z1 - i6 * (T)C_1_847759065;                                      \
    T tmp3 = z1 + i2 * (T)C_0_765366865;                                      \
    T tmp0 = (i0 + i4) * (T)(1 << CONST_BITS);                                \
    T tmp1 = (i0 - i4) * (T)(1 << CONST_BITS);                                \
    T tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;                               \
    T tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;                               \
    /* Odd part: the four odd inputs mixed through shared rotations. */       \
    T o0 = i7, o1 = i5, o2 = i3, o3 = i1;                                     \
    T s1 = o0 + o3, s2 = o1 + o2, s3 = o0 + o2, s4 = o1 + o3;                 \
    T s5 = (s3 + s4) * (T)C_1_175875602;                                      \
    o0 *= (T)C_0_298631336;                                                   \
    o1 *= (T)C_2_053119869;                                                   \
    o2 *= (T)C_3_072711026;                                                   \
    o3 *= (T)C_1_501321110;                                                   \
    s1 *= -(T)C_0_899976223;                                                  \
    s2 *= -(T)C_2_562915447;                                                  \
    s3 = s3 * -(T)C_1_961570560 + s5;                                         \
    s4 = s4 * -(T)C_0_390180644 + s5;                                         \
    o0 += s1 + s3;                                                            \
    o1 += s2 + s4;                                                            \
    o2 += s2 + s3;                                                            \
    o3 += s1 + s4;                                                            \
    out[0] = tmp10 + o3;                                                      \
    out[7] = tmp10 - o3;                                                      \
    out[1] = tmp11 + o2;                                                      \
    out[6] = tmp11 - o2;                                                      \
    out[2] = tmp12 + o1;                                                      \
    out[5] = tmp12 - o1;                                                      \
    out[3] = tmp13 + o0;                                                      \
    out[4] = tmp13 - o0;                                                      \
  }
DEFINE_IDCT_1D(idct_1d_32, int32_t)
DEFINE_IDCT_1D(idct_1d_64, int64_t)

/* Both passes over dequantised input `in` (natural order). */
#define DEFINE_IDCT_2D(name, T, idct_1d)                                      \
  static void name(const int32_t *in, const uint8_t *limit, uint8_t *out,    \
                   size_t stride) {                                           \
    int32_t work[64];                                                         \
    T r[8];                                                                   \
    for (int c = 0; c < 8; c++) {                                             \
      const int32_t *col = in + c;                                            \
      if (!(col[8] | col[16] | col[24] | col[32] | col[40] | col[48] |        \
            col[56])) {                                                       \
        /* Only DC: the full pass would give this same value in every row. */ \
        int32_t dc = (int32_t)((T)col[0] * (1 << PASS1_BITS));                \
        for (int k = 0; k < 8; k++) work[k * 8 + c] = dc;                     \
        continue;                                                             \
      }                                                                       \
      if (!(col[32] | col[40] | col[48] | col[56]))                           \
        /* Low frequencies only (common): the zeros fold away. */             \
        idct_1d(col[0], col[8], col[16], col[24], 0, 0, 0, 0, r);             \
      else                                                                    \
        idct_1d(col[0], col[8], col[16], col[24], col[32], col[40], col[48], \
                col[56], r);                                                  \
      for (int k = 0; k < 8; k++)                                             \
        work[k * 8 + c] = (int32_t)DESCALE(T, r[k], CONST_BITS - PASS1_BITS); \
    }                                                                         \
    for (int row = 0; row < 8; row++) {                                       \
      const int32_t *w = work + row * 8;                                      \
      uint8_t *o = out + (size_t)row * stride;                                \
      if (!(w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])) {                \
        uint8_t v = limit[DESCALE(T, (T)w[0], PASS1_BITS + 3) & 1023];        \
        for (int k = 0; k < 8; k++) o[k] = v;                                 \
        continue;                                                             \
      }                                                                       \
      if (!(w[4] | w[5] | w[6] | w[7]))                                       \
        idct_1d(w[0], w[1], w[2], w[3], 0, 0, 0, 0, r);                       \
      else                                                                    \
        idct_1d(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], r);           \
      for (int k = 0; k < 8; k++)                                             \
        o[k] = limit[DESCALE(T, r[k], CONST_BITS + PASS1_BITS + 3) & 1023];   \
    }                                                                         \
  }
DEFINE_IDCT_2D(idct_2d_32, int32_t, idct_1d_32)
DEFINE_IDCT_2D(idct_2d_64, int64_t, idct_1d_64)

/* Dequantised coefficients of 8-bit data lie within +-1024 (the DC term
 * is 8 times the mean of samples -128..127). For inputs in that range
 * every intermediate value of both passes stays below 2^31 (the largest
 * L1 norm of an intermediate's linear form, times 1024, is 2^30.8), so
 * 32-bit arithmetic gives the exact result; other blocks take 64 bits. */
#define INT32_SAFE_INPUT 1024

void fer__jpeg_idct_islow(const int16_t *coefs, const uint16_t *quant,
                          const uint8_t *limit, uint8_t *out, size_t stride) {
  int32_t in[64];
  uint32_t outside = 0;
  for (int k = 0; k < 64; k++) {
    in[k] = (int32_t)coefs[k] * (int32_t)quant[k];
    outside |= (uint32_t)(in[k] + INT32_SAFE_INPUT) > 2u * INT32_SAFE_INPUT;
  }
  if (outside)
    idct_2d_64(in, limit, out, stride);
  else
    idct_2d_32(in, limit, out, stride);
}

void fer__jpeg_idct_dc(int dc, uint16_t quant, const uint8_t *limit, uint8_t *out,
                       size_t stride) {
  /* The two passes of a DC-only block reduce to this one value. */
  int64_t column = (int64_t)(int32_t)((int64_t)dc * quant * (1 << PASS1_BITS));
  uint8_t v = limit[DESCALE(int64_t, column, PASS1_BITS + 3) & 1023];
  for (int row = 0; row < 8; row++) memset(out + (size_t)row * stride, v, 8);
}
