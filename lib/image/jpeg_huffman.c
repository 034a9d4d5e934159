/* Huffman tables of a JPEG DHT segment, turned into decoding tables. */
#include <stdint.h>
#include <string.h>

#include "image/jpeg_internal.h"

/* Most AC coefficients are small, and their code plus value bits fit in
 * the lookahead window: one lookup then gives run, value and length. */
static void build_fast_ac(fer__jpeg_huff *table) {
  const int window = FER__JPEG_HUFF_LOOKAHEAD;
  for (int look = 0; look < (1 << window); look++) {
    uint16_t entry = table->fast[look];
    int len = entry >> 8, run = (entry >> 4) & 15, size = entry & 15;
    if (!entry || size == 0 || len + size > window) continue;
    int bits = (look >> (window - len - size)) & ((1 << size) - 1);
    /* T.81 F.2.2.1 EXTEND: a clear top bit means a negative value. */
    int value = bits < (1 << (size - 1)) ? bits - (1 << size) + 1 : bits;
    table->fast_ac[look] = value * 256 + run * 16 + len + size;
  }
}

int fer__jpeg_huff_build(fer__jpeg_huff *table, const uint8_t counts[16],
                         const uint8_t *symbols, int is_dc) {
  int total = 0;
  for (int len = 1; len <= 16; len++) total += counts[len - 1];
  if (total > 256) return -1;
  for (int i = 0; i < total; i++)
    if (is_dc && symbols[i] > 15) return -1;

  memset(table, 0, sizeof *table);
  memcpy(table->symbols, symbols, (size_t)total);

  /* Canonical codes (T.81 Annex C): consecutive within a length, and the
   * next length starts at (last code + 1) * 2. A length overflows when its
   * codes reach 2^len; like libjpeg we also refuse the all-ones code, which
   * the standard reserves. */
  int32_t code = 0;
  int index = 0;
  for (int len = 1; len <= 16; len++) {
    int n = counts[len - 1];
    if (n && code + n >= ((int32_t)1 << len)) return -1;
    table->value_offset[len] = index - code;
    table->max_code[len] = n ? code + n - 1 : -1;
    for (int i = 0; i < n; i++, index++, code++) {
      if (len <= FER__JPEG_HUFF_LOOKAHEAD) {
        int shift = FER__JPEG_HUFF_LOOKAHEAD - len;
        uint16_t entry = (uint16_t)((len << 8) | symbols[index]);
        for (int fill = 0; fill < (1 << shift); fill++)
          table->fast[(code << shift) | fill] = entry;
      }
    }
    code <<= 1;
  }
  table->max_code[17] = INT32_MAX;
  if (!is_dc) build_fast_ac(table);
  table->defined = 1;
  return 0;
}
