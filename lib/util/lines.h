/* Line-by-line reading of a text file or an in-memory text, for the CSV
 * loaders. Lines come back without their terminator (\n or \r\n). */
#ifndef FER_UTIL_LINES_H
#define FER_UTIL_LINES_H

#include <stddef.h>

#include "fer/core.h"

/* Longest line accepted; longer ones fail with FER_ERR_TOO_LARGE rather than
 * growing a buffer without bound on hostile input. */
#define FER__LINE_MAX ((size_t)1 << 20)

typedef struct fer__line_reader fer__line_reader;

/* Opens `path` (FER_ERR_IO naming it when it cannot). A gzip file (magic
 * 1f 8b) is decompressed on the fly; its errors surface at reads. */
fer_status fer__line_reader_open(const char *path, fer__line_reader **out);
/* Reads from caller memory, which must outlive the reader (not copied). */
fer_status fer__line_reader_open_memory(const void *data, size_t size,
                                        fer__line_reader **out);
/* The next line in *line / *len (not NUL-terminated, valid until the next
 * call); *line is NULL at the end. Errors: FER_ERR_IO, FER_ERR_TOO_LARGE. */
fer_status fer__line_reader_next(fer__line_reader *r, const char **line,
                                 size_t *len);
/* 1-based number of the line last returned. */
long fer__line_reader_number(const fer__line_reader *r);
/* The name used in messages: the path, or "<memory>". */
const char *fer__line_reader_name(const fer__line_reader *r);
void fer__line_reader_close(fer__line_reader *r);

#endif
