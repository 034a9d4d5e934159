#include "util/crc32.h"

#include "util/crc32_tables.h"

/* Slice-by-8: eight bytes per step through eight constant tables (made by
 * make_crc32_tables.py), a few times faster than a byte at a time, which
 * matters when gzip and PNG checksum hundreds of megabytes. Bytes are
 * assembled explicitly, so the result does not depend on the host's byte
 * order or alignment. */
uint32_t fer__crc32(uint32_t crc, const void *data, size_t size) {
  const uint8_t *p = data;
  const uint32_t(*t)[256] = fer__crc32_tables;
  crc = ~crc;
  while (size >= 8) {
    uint32_t lo = crc ^ ((uint32_t)p[0] | (uint32_t)p[1] << 8 |
                         (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24);
    uint32_t hi = (uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                  (uint32_t)p[7] << 24;
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^
          t[4][lo >> 24] ^ t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^
          t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
    p += 8;
    size -= 8;
  }
  while (size--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}
