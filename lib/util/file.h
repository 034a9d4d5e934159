/* Whole-file reads with a size limit, and atomic writes. */
#ifndef FER_UTIL_FILE_H
#define FER_UTIL_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fer/core.h"

/* Opens `path` for reading without waiting on a FIFO that has no writer
 * (it then reads as empty), and refuses folders, devices and sockets with
 * a message that says which. *is_fifo (may be NULL) tells a FIFO. */
fer_status fer__open_for_reading(const char *path, FILE **out, int *is_fifo);

/* Reads all of `path` (at most `max_size` bytes; FER_ERR_TOO_LARGE past it)
 * into a new buffer freed with fer__free. Messages name the path (shortened
 * in the middle when very long); a FIFO without a writer is FER_ERR_IO. */
fer_status fer__read_file(const char *path, size_t max_size, uint8_t **out,
                          size_t *out_size);

/* Writes `data` to `path` atomically: a temporary file in the same folder,
 * flushed and fsync'ed, then renamed over `path`. A crash leaves either the
 * old file or the new one, never a mix. */
fer_status fer__write_file_atomic(const char *path, const void *data,
                                  size_t size);

#endif
