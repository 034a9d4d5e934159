/* gzip reader fuzzing over memory: read() in odd-sized pieces and
 * read_line() must agree on the bytes, and fail cleanly on bad input. */
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"
#include "util/gzip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OUT (1u << 20)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fer__gz_reader *r = NULL;
  if (fer__gz_reader_open_memory(data, size, "fuzz", &r) != FER_OK) return 0;
  /* Static: large per-run allocations dominate the run time under ASan. */
  static uint8_t bytes[MAX_OUT + 4096];
  size_t n = 0, step = 1 + size % 1000, got = 0;
  fer_status st = FER_OK;
  do {
    st = fer__gz_reader_read(r, bytes + n, step, &got);
    n += got;
  } while (st == FER_OK && got == step && n < MAX_OUT);
  fer__gz_reader_close(r);
  if (st == FER_OK && n < MAX_OUT) {
    /* The same data through read_line, reassembled, gives the same bytes
     * (lines lose their "\n" and a "\r" before it). */
    if (fer__gz_reader_open_memory(data, size, "fuzz", &r) != FER_OK) __builtin_trap();
    size_t at = 0;
    const char *line;
    size_t len;
    while (fer__gz_reader_read_line(r, MAX_OUT, &line, &len) == FER_OK && line) {
      if (at + len > n || memcmp(bytes + at, line, len) != 0) __builtin_trap();
      at += len;
      if (at < n && bytes[at] == '\r') at++;
      if (at < n && bytes[at] == '\n') at++;
    }
    if (at != n) __builtin_trap();
    fer__gz_reader_close(r);
  }
  return 0;
}
