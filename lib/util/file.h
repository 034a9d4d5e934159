/* Whole-file reads with a size limit, and atomic writes. */
#ifndef FER_UTIL_FILE_H
#define FER_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "fer/core.h"

/* Reads all of `path` (at most `max_size` bytes; FER_ERR_TOO_LARGE past it)
 * into a new buffer freed with fer__free. Messages name the path. */
fer_status fer__read_file(const char *path, size_t max_size, uint8_t **out,
                          size_t *out_size);

/* Writes `data` to `path` atomically: a temporary file in the same folder,
 * flushed and fsync'ed, then renamed over `path`. A crash leaves either the
 * old file or the new one, never a mix. */
fer_status fer__write_file_atomic(const char *path, const void *data,
                                  size_t size);

#endif
