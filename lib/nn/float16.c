/* IEEE 754 binary16 conversion for compact weight storage. Float to half
 * rounds to nearest, ties to even; overflow gives infinity; NaN stays NaN. */
#include <string.h>

#include "nn/nn_internal.h"

uint16_t fer__f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  int exponent = (int)((x >> 23) & 0xffu);
  uint32_t mantissa = x & 0x7fffffu;
  if (exponent == 0xff) /* infinity, or NaN kept quiet and non-zero */
    return (uint16_t)(sign | 0x7c00u | (mantissa ? 0x200u | (mantissa >> 13) : 0));
  int e = exponent - 127 + 15;
  if (e >= 31) return (uint16_t)(sign | 0x7c00u);
  if (e <= 0) {
    /* A half subnormal counts units of 2^-24: h = m24 * 2^(e - 14). */
    if (e < -10) return (uint16_t)sign;
    uint32_t m24 = mantissa | 0x800000u;
    int shift = 14 - e;
    uint32_t h = m24 >> shift, rest = m24 & ((1u << shift) - 1);
    uint32_t half = 1u << (shift - 1);
    if (rest > half || (rest == half && (h & 1u))) h++;
    return (uint16_t)(sign | h);
  }
  uint32_t h = sign | ((uint32_t)e << 10) | (mantissa >> 13);
  uint32_t rest = mantissa & 0x1fffu;
  /* A carry out of the mantissa correctly bumps the exponent (to infinity
   * at the top). */
  if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h++;
  return (uint16_t)h;
}

float fer__f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exponent = (h >> 10) & 0x1fu, mantissa = h & 0x3ffu, x;
  if (exponent == 0) {
    float v = (float)mantissa * (1.0f / 16777216.0f); /* exact: m * 2^-24 */
    return sign ? -v : v;
  }
  if (exponent == 31) x = sign | 0x7f800000u | (mantissa << 13);
  else x = sign | ((exponent - 15 + 127) << 23) | (mantissa << 13);
  float f;
  memcpy(&f, &x, 4);
  return f;
}
