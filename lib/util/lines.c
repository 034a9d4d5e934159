/* Line reader over a file, plain or gzip-compressed (read through
 * fer__gz_reader in large chunks, lines found with memchr, which is what
 * makes a 300 MB CSV load in seconds), or over memory. */
#include "util/lines.h"

#include <string.h>

#include "core/core_internal.h"
#include "util/gzip.h"

/* The file buffer holds at least one whole line plus a read chunk. */
#define CHUNK ((size_t)1 << 20)

struct fer__line_reader {
  fer__gz_reader *file; /* NULL when reading memory */
  char *name;
  const char *data;    /* file: the buffer; memory: the caller's text */
  char *buffer;        /* owned, file only */
  size_t start, end;   /* unread bytes are data[start, end) */
  int at_eof;
  long line_number;
};

static fer_status reader_new(const char *name, fer__line_reader **out) {
  fer__line_reader *r = fer__calloc(1, sizeof *r);
  size_t len = strlen(name);
  char *copy = fer__malloc(len + 1);
  if (!r || !copy) {
    fer__free(r);
    fer__free(copy);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  }
  memcpy(copy, name, len + 1);
  r->name = copy;
  *out = r;
  return FER_OK;
}

fer_status fer__line_reader_open(const char *path, fer__line_reader **out) {
  *out = NULL;
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "file path is NULL");
  fer__gz_reader *file;
  fer_status st = fer__gz_reader_open(path, &file);
  if (st != FER_OK) return st;
  fer__line_reader *r;
  st = reader_new(path, &r);
  if (st != FER_OK) {
    fer__gz_reader_close(file);
    return st;
  }
  r->file = file;
  r->buffer = fer__malloc(FER__LINE_MAX + CHUNK);
  if (!r->buffer) {
    fer__line_reader_close(r);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  r->data = r->buffer;
  *out = r;
  return FER_OK;
}

fer_status fer__line_reader_open_memory(const void *data, size_t size,
                                        fer__line_reader **out) {
  *out = NULL;
  if (!data && size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "<memory>: data is NULL");
  fer__line_reader *r;
  fer_status st = reader_new("<memory>", &r);
  if (st != FER_OK) return st;
  r->data = data ? data : "";
  r->end = size;
  r->at_eof = 1;
  *out = r;
  return FER_OK;
}

/* Moves the unread tail to the front and appends one chunk from the file. */
static fer_status refill(fer__line_reader *r) {
  size_t left = r->end - r->start;
  memmove(r->buffer, r->buffer + r->start, left);
  r->start = 0;
  r->end = left;
  size_t n = 0;
  fer_status st = fer__gz_reader_read(r->file, r->buffer + left, CHUNK, &n);
  if (st != FER_OK) return st; /* the message names the file and offset */
  r->end += n;
  if (n < CHUNK) r->at_eof = 1;
  return FER_OK;
}

fer_status fer__line_reader_next(fer__line_reader *r, const char **line,
                                 size_t *len) {
  *line = NULL;
  *len = 0;
  for (;;) {
    const char *begin = r->data + r->start;
    size_t avail = r->end - r->start;
    const char *nl = avail ? memchr(begin, '\n', avail) : NULL;
    size_t n = nl ? (size_t)(nl - begin) : avail;
    if (n > FER__LINE_MAX)
      return fer__fail(FER_ERR_TOO_LARGE, "%s:%ld: line longer than %zu bytes",
                       r->name, r->line_number + 1, FER__LINE_MAX);
    if (nl || (r->at_eof && avail)) {
      r->start += nl ? n + 1 : n;
      if (n && begin[n - 1] == '\r') n--;
      r->line_number++;
      *line = begin;
      *len = n;
      return FER_OK;
    }
    if (r->at_eof) return FER_OK; /* nothing left */
    fer_status st = refill(r);
    if (st != FER_OK) return st;
  }
}

long fer__line_reader_number(const fer__line_reader *r) {
  return r->line_number;
}

const char *fer__line_reader_name(const fer__line_reader *r) {
  return r->name;
}

void fer__line_reader_close(fer__line_reader *r) {
  if (!r) return;
  fer__gz_reader_close(r->file);
  fer__free(r->buffer);
  fer__free(r->name);
  fer__free(r);
}
