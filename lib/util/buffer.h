/* A growable byte buffer for encoders and writers. */
#ifndef FER_UTIL_BUFFER_H
#define FER_UTIL_BUFFER_H

#include <stddef.h>
#include <stdint.h>

#include "fer/core.h"

typedef struct fer__buf {
  uint8_t *data;
  size_t size;
  size_t capacity;
  int failed; /* set once an allocation failed; later appends do nothing */
} fer__buf;

void fer__buf_init(fer__buf *b);
void fer__buf_release(fer__buf *b);
/* Ensures room for `extra` more bytes; returns 0 (and sets failed) when it
 * cannot. */
int fer__buf_reserve(fer__buf *b, size_t extra);
void fer__buf_append(fer__buf *b, const void *data, size_t n);
void fer__buf_byte(fer__buf *b, uint8_t v);
void fer__buf_u16le(fer__buf *b, uint16_t v);
void fer__buf_u32le(fer__buf *b, uint32_t v);
void fer__buf_u64le(fer__buf *b, uint64_t v);
void fer__buf_u16be(fer__buf *b, uint16_t v);
void fer__buf_u32be(fer__buf *b, uint32_t v);
void fer__buf_f32le(fer__buf *b, float v);
/* Appends printf-formatted text; numbers are written as in the "C" locale
 * whatever LC_NUMERIC says (fer__format in format.h). */
void fer__buf_printf(fer__buf *b, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* FER_OK, or FER_ERR_OUT_OF_MEMORY (with a message) when any append failed. */
fer_status fer__buf_status(const fer__buf *b, const char *what);

#endif
