/* Status names and the per-thread detail message behind fer_last_error(). */
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"

/* Per thread, never per handle: shared read-only handles (a loaded model, a
 * cascade) must never be written by a failing call. */
static _Thread_local char error_message[1024];

static const char *const status_names[] = {
  [FER_OK] = "FER_OK",
  [FER_ERR_INVALID_ARGUMENT] = "FER_ERR_INVALID_ARGUMENT",
  [FER_ERR_OUT_OF_MEMORY] = "FER_ERR_OUT_OF_MEMORY",
  [FER_ERR_IO] = "FER_ERR_IO",
  [FER_ERR_FORMAT] = "FER_ERR_FORMAT",
  [FER_ERR_UNSUPPORTED] = "FER_ERR_UNSUPPORTED",
  [FER_ERR_TRUNCATED] = "FER_ERR_TRUNCATED",
  [FER_ERR_CHECKSUM] = "FER_ERR_CHECKSUM",
  [FER_ERR_VERSION] = "FER_ERR_VERSION",
  [FER_ERR_TOO_LARGE] = "FER_ERR_TOO_LARGE",
  [FER_ERR_BUFFER_TOO_SMALL] = "FER_ERR_BUFFER_TOO_SMALL",
  [FER_ERR_MISUSE] = "FER_ERR_MISUSE",
  [FER_ERR_SHAPE] = "FER_ERR_SHAPE",
  [FER_ERR_CANCELLED] = "FER_ERR_CANCELLED",
  [FER_ERR_NOT_FOUND] = "FER_ERR_NOT_FOUND",
  [FER_ERR_INTERNAL] = "FER_ERR_INTERNAL",
};
_Static_assert(FER__ARRAY_LEN(status_names) == FER_ERR_INTERNAL + 1,
               "every status needs a name");

const char *fer_status_string(fer_status status) {
  if ((unsigned)status < FER__ARRAY_LEN(status_names) &&
      status_names[status] != NULL)
    return status_names[status];
  return "FER_ERR_UNKNOWN";
}

const char *fer_last_error(void) { return error_message; }

void fer_clear_error(void) { error_message[0] = '\0'; }

fer_status fer__failv(fer_status status, const char *fmt, va_list ap) {
  vsnprintf(error_message, sizeof error_message, fmt, ap);
  return status;
}

fer_status fer__fail(fer_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fer__failv(status, fmt, ap);
  va_end(ap);
  return status;
}

static int continuation(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

/* Cuts fall between UTF-8 characters (up to 3 bytes from where they would
 * be); a name that is not UTF-8 is cut where it falls. */
const char *fer__message_path(const char *path, char *buf) {
  size_t len = strlen(path);
  if (len < FER__MESSAGE_PATH_MAX) return path;
  const size_t keep = (FER__MESSAGE_PATH_MAX - 4) / 2; /* each side of "..." */
  size_t head = keep, tail = len - keep;
  for (int i = 0; i < 3 && continuation(path[head]); i++) head--;
  if (continuation(path[head])) head = keep;
  for (int i = 0; i < 3 && continuation(path[tail]); i++) tail++;
  if (continuation(path[tail])) tail = len - keep;
  memcpy(buf, path, head);
  memcpy(buf + head, "...", 3);
  memcpy(buf + head + 3, path + tail, len - tail + 1);
  return buf;
}

fer_status fer__fail_prefix(fer_status status, const char *prefix) {
  char old[sizeof error_message], short_prefix[FER__MESSAGE_PATH_MAX];
  memcpy(old, error_message, sizeof old);
  prefix = fer__message_path(prefix, short_prefix);
  /* Built by hand: truncation of an over-long message is intended. */
  size_t plen = strnlen(prefix, sizeof error_message - 3);
  memcpy(error_message, prefix, plen);
  memcpy(error_message + plen, ": ", 2);
  size_t room = sizeof error_message - plen - 3;
  size_t olen = strnlen(old, room);
  memcpy(error_message + plen + 2, old, olen);
  error_message[plen + 2 + olen] = '\0';
  return status;
}
