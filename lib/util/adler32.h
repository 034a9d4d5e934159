/* Adler-32 (RFC 1950), the checksum that ends every zlib stream. */
#ifndef FER_UTIL_ADLER32_H
#define FER_UTIL_ADLER32_H

#include <stddef.h>
#include <stdint.h>

/* Continue a checksum: start with adler = 1. */
uint32_t fer__adler32(uint32_t adler, const void *data, size_t size);

#endif
