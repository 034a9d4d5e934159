/* CRC-32 (IEEE 802.3, as PNG, gzip and libfer's own files use it). */
#ifndef FER_UTIL_CRC32_H
#define FER_UTIL_CRC32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a CRC: start with crc = 0. */
uint32_t fer__crc32(uint32_t crc, const void *data, size_t size);

#endif
