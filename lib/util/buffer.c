#include "util/buffer.h"

#include <stdarg.h>
#include <string.h>

#include "core/core_internal.h"
#include "util/endian.h"
#include "util/format.h"

void fer__buf_init(fer__buf *b) { memset(b, 0, sizeof *b); }

void fer__buf_release(fer__buf *b) {
  fer__free(b->data);
  fer__buf_init(b);
}

int fer__buf_reserve(fer__buf *b, size_t extra) {
  if (b->failed) return 0;
  if (extra <= b->capacity - b->size) return 1;
  if (extra > SIZE_MAX / 2 - b->size) {
    b->failed = 1;
    return 0;
  }
  size_t want = b->size + extra;
  size_t cap = b->capacity ? b->capacity : 256;
  while (cap < want) cap *= 2;
  uint8_t *grown = fer__realloc(b->data, cap);
  if (!grown) {
    b->failed = 1;
    return 0;
  }
  b->data = grown;
  b->capacity = cap;
  return 1;
}

void fer__buf_append(fer__buf *b, const void *data, size_t n) {
  if (n == 0 || !fer__buf_reserve(b, n)) return;
  memcpy(b->data + b->size, data, n);
  b->size += n;
}

void fer__buf_byte(fer__buf *b, uint8_t v) { fer__buf_append(b, &v, 1); }

void fer__buf_u16le(fer__buf *b, uint16_t v) {
  uint8_t t[2];
  fer__put_u16le(t, v);
  fer__buf_append(b, t, 2);
}
void fer__buf_u32le(fer__buf *b, uint32_t v) {
  uint8_t t[4];
  fer__put_u32le(t, v);
  fer__buf_append(b, t, 4);
}
void fer__buf_u64le(fer__buf *b, uint64_t v) {
  uint8_t t[8];
  fer__put_u64le(t, v);
  fer__buf_append(b, t, 8);
}
void fer__buf_u16be(fer__buf *b, uint16_t v) {
  uint8_t t[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  fer__buf_append(b, t, 2);
}
void fer__buf_u32be(fer__buf *b, uint32_t v) {
  uint8_t t[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8),
                  (uint8_t)v};
  fer__buf_append(b, t, 4);
}
void fer__buf_f32le(fer__buf *b, float v) {
  uint32_t u;
  memcpy(&u, &v, 4);
  fer__buf_u32le(b, u);
}

void fer__buf_printf(fer__buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char small[256];
  int n = fer__vformat(small, sizeof small, fmt, ap);
  va_end(ap);
  if (n < 0) {
    b->failed = 1;
    return;
  }
  if ((size_t)n < sizeof small) {
    fer__buf_append(b, small, (size_t)n);
    return;
  }
  if (!fer__buf_reserve(b, (size_t)n + 1)) return;
  va_start(ap, fmt);
  fer__vformat((char *)b->data + b->size, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->size += (size_t)n;
}

fer_status fer__buf_status(const fer__buf *b, const char *what) {
  if (!b->failed) return FER_OK;
  return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
}
