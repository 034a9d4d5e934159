#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_internal.h"

static const char *kind_of(mode_t mode) {
  return S_ISDIR(mode)    ? "a folder"
         : S_ISCHR(mode)  ? "a character device"
         : S_ISBLK(mode)  ? "a block device"
         : S_ISSOCK(mode) ? "a socket"
                          : "not a regular file";
}

fer_status fer__open_for_reading(const char *path, FILE **out, int *is_fifo) {
  *out = NULL;
  if (is_fifo) *is_fifo = 0;
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "file path is NULL");
  char short_path[FER__MESSAGE_PATH_MAX];
  const char *shown = fer__message_path(path, short_path);
  /* O_NONBLOCK: opening a FIFO for reading would wait for a writer,
   * forever if none comes. Without a writer a read then ends at once. */
  int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return fer__fail(FER_ERR_IO, "%s: cannot open: %s", shown, strerror(errno));
  struct stat info;
  if (fstat(fd, &info) != 0) {
    fer_status st = fer__fail(FER_ERR_IO, "%s: cannot stat: %s", shown, strerror(errno));
    close(fd);
    return st;
  }
  if (!S_ISREG(info.st_mode) && !S_ISFIFO(info.st_mode)) {
    close(fd);
    return fer__fail(FER_ERR_IO, "%s: is %s, not a file", shown, kind_of(info.st_mode));
  }
  int flags = fcntl(fd, F_GETFL);
  FILE *f = flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0 ? NULL : fdopen(fd, "rb");
  if (!f) {
    fer_status st = fer__fail(FER_ERR_IO, "%s: cannot open: %s", shown, strerror(errno));
    close(fd);
    return st;
  }
  if (is_fifo) *is_fifo = S_ISFIFO(info.st_mode);
  *out = f;
  return FER_OK;
}

fer_status fer__read_file(const char *path, size_t max_size, uint8_t **out,
                          size_t *out_size) {
  *out = NULL;
  *out_size = 0;
  FILE *f;
  int is_fifo;
  fer_status st = fer__open_for_reading(path, &f, &is_fifo);
  if (st != FER_OK) return st;
  char short_path[FER__MESSAGE_PATH_MAX];
  path = fer__message_path(path, short_path);
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
  int read_error = ferror(f) ? errno : 0;
  fclose(f);
  if (size > max_size) {
    fer__free(data);
    return fer__fail(FER_ERR_TOO_LARGE, "%s: larger than %zu bytes", path,
                     max_size);
  }
  if (read_error) {
    fer__free(data);
    return fer__fail(FER_ERR_IO, "%s: read error: %s", path, strerror(read_error));
  }
  if (size == 0 && is_fifo) {
    fer__free(data);
    return fer__fail(FER_ERR_IO, "%s: a FIFO without a writer: nothing to read", path);
  }
  *out = data;
  *out_size = size;
  return FER_OK;
}

fer_status fer__write_file_atomic(const char *path, const void *data,
                                  size_t size) {
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "file path is NULL");
  size_t len = strlen(path);
  char short_path[FER__MESSAGE_PATH_MAX];
  const char *shown = fer__message_path(path, short_path);
  char *tmp = fer__malloc(len + 32);
  if (!tmp) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", shown);
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
        fer__fail(FER_ERR_IO, "%s.tmp.%ld: cannot create: %s", shown, writer, strerror(errno));
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
          fer__fail(FER_ERR_IO, "%s: write failed: %s", shown, strerror(errno));
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
        fer__fail(FER_ERR_IO, "%s: flush failed: %s", shown, strerror(errno));
    unlink(tmp);
    fer__free(tmp);
    return st;
  }
  if (rename(tmp, path) != 0) {
    fer_status st =
        fer__fail(FER_ERR_IO, "%s: rename failed: %s", shown, strerror(errno));
    unlink(tmp);
    fer__free(tmp);
    return st;
  }
  fer__free(tmp);
  return FER_OK;
}
