/*
 * Deflate: a DEFLATE compressor (RFC 1951) with the zlib wrapper (RFC 1950),
 * for PNG encoding and libfer's own compressed files.
 *
 * LZ77 over the whole input with hash chains (lazy matching from level 4),
 * then per block of symbols the cheapest of stored, fixed-Huffman and
 * dynamic-Huffman coding, with length-limited canonical codes.
 */
#ifndef FER_UTIL_DEFLATE_H
#define FER_UTIL_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "fer/core.h"
#include "util/buffer.h"

#define FER__DEFLATE_MIN_LEVEL 0 /* stored blocks only */
#define FER__DEFLATE_MAX_LEVEL 9
#define FER__DEFLATE_DEFAULT_LEVEL 6

/* Appends the raw DEFLATE stream of `in` to `out`. Level 0 stores, 1 is the
 * fastest, 9 the smallest. Statuses: FER_ERR_INVALID_ARGUMENT (level out of
 * range), FER_ERR_TOO_LARGE (input of 4 GiB or more),
 * FER_ERR_OUT_OF_MEMORY. On failure `out` may hold a partial stream.
 * Thread-safe (all state is per call). */
fer_status fer__deflate(const uint8_t *in, size_t size, int level,
                        fer__buf *out);

/* The same inside a zlib wrapper (header, stream, Adler-32), as PNG IDAT
 * data and Python's zlib.compress() have it. */
fer_status fer__zlib_compress(const uint8_t *in, size_t size, int level,
                              fer__buf *out);

#endif
