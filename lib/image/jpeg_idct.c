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

/* Rounding right shift; >> of a negative value is arithmetic on every
 * compiler libfer supports (and libjpeg relies on the same). */
static inline int64_t descale(int64_t x, int n) {
  return (x + ((int64_t)1 << (n - 1))) >> n;
}

/* libjpeg-turbo's range limiting after the IDCT: the value is first wrapped
 * to 10 bits (-512..511), then shifted by 128 and clamped. The wrap only
 * matters for corrupt data, but matching it keeps even those pixels equal. */
static inline uint8_t range_limit(int64_t x) {
  int v = (int)(((int)x + 512) & 1023) - 512 + 128;
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* One 1-D pass over in[0], in[step], ..., in[7*step]: writes the eight
 * outputs, still scaled by 2^13, to out[0..7]. */
static inline void idct_1d(int64_t i0, int64_t i1, int64_t i2, int64_t i3,
                           int64_t i4, int64_t i5, int64_t i6, int64_t i7,
                           int64_t out[8]) {
  /* Even part: a rotation by 3pi/8 of (i2, i6), then butterflies with i0, i4. */
  int64_t z1 = (i2 + i6) * C_0_541196100;
  int64_t tmp2 = z1 - i6 * C_1_847759065;
  int64_t tmp3 = z1 + i2 * C_0_765366865;
  int64_t tmp0 = (i0 + i4) * (1 << CONST_BITS);
  int64_t tmp1 = (i0 - i4) * (1 << CONST_BITS);
  int64_t tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3;
  int64_t tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

  /* Odd part: the four odd inputs mixed through shared rotations. */
  int64_t o0 = i7, o1 = i5, o2 = i3, o3 = i1;
  int64_t s1 = o0 + o3, s2 = o1 + o2, s3 = o0 + o2, s4 = o1 + o3;
  int64_t s5 = (s3 + s4) * C_1_175875602;
  o0 *= C_0_298631336;
  o1 *= C_2_053119869;
  o2 *= C_3_072711026;
  o3 *= C_1_501321110;
  s1 *= -C_0_899976223;
  s2 *= -C_2_562915447;
  s3 = s3 * -C_1_961570560 + s5;
  s4 = s4 * -C_0_390180644 + s5;
  o0 += s1 + s3;
  o1 += s2 + s4;
  o2 += s2 + s3;
  o3 += s1 + s4;

  out[0] = tmp10 + o3;
  out[7] = tmp10 - o3;
  out[1] = tmp11 + o2;
  out[6] = tmp11 - o2;
  out[2] = tmp12 + o1;
  out[5] = tmp12 - o1;
  out[3] = tmp13 + o0;
  out[4] = tmp13 - o0;
}

void fer__jpeg_idct_islow(const int16_t *coefs, const uint16_t *quant,
                          uint8_t *out, size_t stride) {
  int32_t work[64];
  int64_t r[8];

  for (int c = 0; c < 8; c++) {
    const int16_t *in = coefs + c;
    const uint16_t *q = quant + c;
    if (!(in[8] | in[16] | in[24] | in[32] | in[40] | in[48] | in[56])) {
      /* Only DC: the pass gives the same value in every row (and the full
       * computation would give exactly this too). */
      int32_t dc = (int32_t)((int64_t)in[0] * q[0] * (1 << PASS1_BITS));
      for (int k = 0; k < 8; k++) work[k * 8 + c] = dc;
      continue;
    }
    idct_1d((int64_t)in[0] * q[0], (int64_t)in[8] * q[8],
            (int64_t)in[16] * q[16], (int64_t)in[24] * q[24],
            (int64_t)in[32] * q[32], (int64_t)in[40] * q[40],
            (int64_t)in[48] * q[48], (int64_t)in[56] * q[56], r);
    for (int k = 0; k < 8; k++)
      work[k * 8 + c] = (int32_t)descale(r[k], CONST_BITS - PASS1_BITS);
  }

  for (int row = 0; row < 8; row++) {
    const int32_t *w = work + row * 8;
    uint8_t *o = out + (size_t)row * stride;
    if (!(w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7])) {
      uint8_t v = range_limit(descale(w[0], PASS1_BITS + 3));
      for (int k = 0; k < 8; k++) o[k] = v;
      continue;
    }
    idct_1d(w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7], r);
    for (int k = 0; k < 8; k++)
      o[k] = range_limit(descale(r[k], CONST_BITS + PASS1_BITS + 3));
  }
}
