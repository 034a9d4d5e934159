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

fer_status fer__fail_prefix(fer_status status, const char *prefix) {
  char old[sizeof error_message];
  memcpy(old, error_message, sizeof old);
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
