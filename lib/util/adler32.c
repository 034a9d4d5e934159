#include "util/adler32.h"

#define ADLER_MOD 65521u
/* The most bytes that can be summed before b overflows 32 bits, so the slow
 * modulo runs once per block instead of once per byte (RFC 1950, 9.). */
#define ADLER_BLOCK 5552u

uint32_t fer__adler32(uint32_t adler, const void *data, size_t size) {
  const uint8_t *p = data;
  uint32_t a = adler & 0xFFFFu, b = adler >> 16;
  while (size > 0) {
    size_t n = size < ADLER_BLOCK ? size : ADLER_BLOCK;
    size -= n;
    while (n >= 4) {
      a += p[0];
      b += a;
      a += p[1];
      b += a;
      a += p[2];
      b += a;
      a += p[3];
      b += a;
      p += 4;
      n -= 4;
    }
    while (n--) {
      a += *p++;
      b += a;
    }
    a %= ADLER_MOD;
    b %= ADLER_MOD;
  }
  return (b << 16) | a;
}
