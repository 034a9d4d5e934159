/*
 * gzip (RFC 1952): a transparent reader that gives the bytes of a plain or
 * a gzip-compressed file alike, and a one-shot compressor.
 *
 * The reader decompresses as it goes, keeping only fixed-size buffers, so a
 * 290 MB CSV inside a 90 MB .csv.gz is read line by line in constant memory.
 * It handles every header field (FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT),
 * checks each member's CRC-32 and ISIZE, reads multi-member files as one
 * stream, and accepts zero padding after the last member. Messages name the
 * file and the byte offset.
 */
#ifndef FER_UTIL_GZIP_H
#define FER_UTIL_GZIP_H

#include <stddef.h>
#include <stdint.h>

#include "fer/core.h"
#include "util/buffer.h"

/* A reader belongs to one thread at a time. */
typedef struct fer__gz_reader fer__gz_reader;

/* Opens `path`; the content decides (the 1f 8b magic), not the name.
 * Statuses: FER_ERR_IO (cannot open), FER_ERR_OUT_OF_MEMORY. Header errors
 * surface at the first read. */
fer_status fer__gz_reader_open(const char *path, fer__gz_reader **out);

/* The same over memory that the caller keeps alive and unchanged until the
 * reader is closed; `name` is used in messages. */
fer_status fer__gz_reader_open_memory(const uint8_t *data, size_t size,
                                      const char *name, fer__gz_reader **out);

/* Closes the file (if the reader opened one) and frees everything. NULL is
 * a no-op. */
void fer__gz_reader_close(fer__gz_reader *r);

/* 1 when the data is gzip-compressed, 0 when it is read as it is. */
int fer__gz_reader_is_compressed(const fer__gz_reader *r);

/* Reads up to `n` bytes into `buf`; *got < n only at the end of the data
 * (then 0 on the next call). Statuses: FER_ERR_FORMAT, FER_ERR_TRUNCATED,
 * FER_ERR_CHECKSUM (CRC-32 or ISIZE mismatch), FER_ERR_UNSUPPORTED (a
 * compression method other than deflate), FER_ERR_IO, FER_ERR_OUT_OF_MEMORY.
 * After an error every later call fails too. */
fer_status fer__gz_reader_read(fer__gz_reader *r, void *buf, size_t n,
                               size_t *got);

/* The next line, without its "\n" (or "\r\n"), NUL-terminated, in a buffer
 * owned by the reader and valid until the next call. At the end of the data
 * *line is NULL. A last line without a newline is still returned. A line
 * longer than `max_len` bytes is FER_ERR_TOO_LARGE, naming its number.
 * Other statuses as fer__gz_reader_read(). */
fer_status fer__gz_reader_read_line(fer__gz_reader *r, size_t max_len,
                                    const char **line, size_t *len);

/* Appends a one-member gzip file of `in` (no name, no time stamp) to `out`,
 * compressed at deflate `level` (0..9). Statuses as fer__deflate(). */
fer_status fer__gzip_compress(const uint8_t *in, size_t size, int level,
                              fer__buf *out);

#endif
