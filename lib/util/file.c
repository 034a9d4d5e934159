#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_internal.h"

fer_status fer__read_file(const char *path, size_t max_size, uint8_t **out,
                          size_t *out_size) {
  *out = NULL;
  *out_size = 0;
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "file path is NULL");
  FILE *f = fopen(path, "rb");
  if (!f)
    return fer__fail(FER_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  /* One byte beyond the limit tells "exactly max_size" from "larger". */
  size_t limit = max_size < SIZE_MAX ? max_size + 1 : max_size;
  size_t cap = limit < (1 << 16) ? limit : (1 << 16), size = 0;
  uint8_t *data = fer__malloc(cap);
  if (!data) {
    fclose(f);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  for (;;) {
    if (size == cap) {
      if (cap >= limit) {
        fer__free(data);
        fclose(f);
        return fer__fail(FER_ERR_TOO_LARGE, "%s: larger than %zu bytes", path,
                         max_size);
      }
      size_t next = cap > limit / 2 ? limit : cap * 2;
      uint8_t *grown = fer__realloc(data, next);
      if (!grown) {
        fer__free(data);
        fclose(f);
        return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
      }
      data = grown;
      cap = next;
    }
    size_t n = fread(data + size, 1, cap - size, f);
    size += n;
    if (n == 0) break;
  }
  int read_error = ferror(f);
  fclose(f);
  if (size > max_size) {
    fer__free(data);
    return fer__fail(FER_ERR_TOO_LARGE, "%s: larger than %zu bytes", path,
                     max_size);
  }
  if (read_error) {
    fer__free(data);
    return fer__fail(FER_ERR_IO, "%s: read error", path);
  }
  *out = data;
  *out_size = size;
  return FER_OK;
}

fer_status fer__write_file_atomic(const char *path, const void *data,
                                  size_t size) {
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "file path is NULL");
  size_t len = strlen(path);
  char *tmp = fer__malloc(len + 32);
  if (!tmp) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  /* The process id keeps two processes writing one file apart. WASI has no
   * processes (the WebAssembly build): one name does there. */
#ifdef __wasi__
  long writer = 0;
#else
  long writer = (long)getpid();
#endif
  snprintf(tmp, len + 32, "%s.tmp.%ld", path, writer);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    fer_status st =
        fer__fail(FER_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    fer__free(tmp);
    return st;
  }
  const uint8_t *p = data;
  size_t left = size;
  while (left > 0) {
    ssize_t n = write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      fer_status st =
          fer__fail(FER_ERR_IO, "%s: write failed: %s", path, strerror(errno));
      close(fd);
      unlink(tmp);
      fer__free(tmp);
      return st;
    }
    p += n;
    left -= (size_t)n;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    fer_status st =
        fer__fail(FER_ERR_IO, "%s: flush failed: %s", path, strerror(errno));
    unlink(tmp);
    fer__free(tmp);
    return st;
  }
  if (rename(tmp, path) != 0) {
    fer_status st =
        fer__fail(FER_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
    unlink(tmp);
    fer__free(tmp);
    return st;
  }
  fer__free(tmp);
  return FER_OK;
}
