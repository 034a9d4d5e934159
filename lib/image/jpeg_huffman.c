/* Huffman tables of a JPEG DHT segment, turned into decoding tables. */
#include <stdint.h>
#include <string.h>

#include "image/jpeg_internal.h"

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
  table->defined = 1;
  return 0;
}
