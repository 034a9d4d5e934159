/*
 * Inflate: decompression of DEFLATE streams (RFC 1951), raw or inside the
 * zlib wrapper (RFC 1950). Two interfaces share one decoder:
 *
 *  - one-shot, into a caller buffer whose size is the most output accepted
 *    (PNG knows exactly how many bytes an image needs, so anything longer is
 *    refused as FER_ERR_TOO_LARGE: a zip bomb cannot make us allocate);
 *  - streaming, through a fer__inflater that keeps the 32 KiB window, for
 *    data too large to hold (the FER2013 CSV inflates to ~290 MB).
 *
 * Messages say what went wrong and at which input byte; callers prefix the
 * name of what they were reading (a file, "PNG IDAT").
 */
#ifndef FER_UTIL_INFLATE_H
#define FER_UTIL_INFLATE_H

#include <stddef.h>
#include <stdint.h>

#include "fer/core.h"

typedef enum fer__inflate_wrapper {
  FER__INFLATE_RAW = 0, /* bare DEFLATE blocks (gzip members carry these) */
  FER__INFLATE_ZLIB = 1 /* 2-byte header, DEFLATE blocks, Adler-32 */
} fer__inflate_wrapper;

/* Decompresses all of `in` into `out` (capacity `out_cap`) and stores the
 * output length in *out_size. The stream must end within `in`; bytes after
 * its end are ignored and their count is not reported (use the streaming
 * interface when it matters). Statuses: FER_ERR_FORMAT (corrupt stream),
 * FER_ERR_TRUNCATED (ends early), FER_ERR_TOO_LARGE (more than out_cap
 * bytes), FER_ERR_CHECKSUM (zlib Adler-32 mismatch), FER_ERR_UNSUPPORTED
 * (zlib preset dictionary), FER_ERR_OUT_OF_MEMORY. Thread-safe. */
fer_status fer__inflate(fer__inflate_wrapper wrapper, const uint8_t *in,
                        size_t in_size, uint8_t *out, size_t out_cap,
                        size_t *out_size);

/* Streaming state: input in any chunks, output in any chunks. Owned by one
 * thread at a time. */
typedef struct fer__inflater fer__inflater;

fer_status fer__inflater_create(fer__inflate_wrapper wrapper,
                                fer__inflater **out);
void fer__inflater_free(fer__inflater *inf);
/* Ready for a new stream, as if just created (keeps the memory). */
void fer__inflater_reset(fer__inflater *inf);

/* Consumes input from `in` and writes output into `out` until the input is
 * used up, the output is full, or the stream ends. Reports the bytes
 * consumed (*in_used) and written (*out_written); *finished becomes 1 once
 * the end of the stream (and its trailer) has been decoded and all of its
 * output delivered; the input bytes after the end are then not consumed.
 * Returns FER_OK while all is well (call again with more input or more
 * output room) and the statuses of fer__inflate() on a corrupt stream; a
 * failed inflater stays failed until reset. */
fer_status fer__inflater_step(fer__inflater *inf, const uint8_t *in,
                              size_t in_size, size_t *in_used, uint8_t *out,
                              size_t out_cap, size_t *out_written,
                              int *finished);

/* After the end of a stream, the whole input bytes that the inflater had
 * already taken in but that follow the stream (rare: only when the last
 * symbols were decoded from bytes of an earlier call). Copies them into
 * `bytes` (at most 8), forgets them and returns their count; the caller
 * reads them before the rest of its input (a gzip trailer, say). */
size_t fer__inflater_leftover(fer__inflater *inf, uint8_t bytes[8]);

/* Input bytes consumed since the stream started, for error messages. */
uint64_t fer__inflater_total_in(const fer__inflater *inf);

#endif
