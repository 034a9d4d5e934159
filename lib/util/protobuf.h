/* Protocol Buffers wire format (proto2/proto3 encoding), just enough to
 * write and read ONNX files: varints, 32-bit floats and length-delimited
 * fields. The writer appends to a fer__buf; the reader walks a byte range
 * and never reads outside it. Groups (wire types 3 and 4) are refused. */
#ifndef FER_UTIL_PROTOBUF_H
#define FER_UTIL_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/buffer.h"

enum {
  FER__PB_VARINT = 0,
  FER__PB_FIXED64 = 1,
  FER__PB_LEN = 2,
  FER__PB_FIXED32 = 5
};

/* ---- Writing (errors latch in b->failed) ---- */
void fer__pb_varint(fer__buf *b, uint64_t v);
/* Field `field` as a varint; negative int64 values take ten bytes, as the
 * format says. */
void fer__pb_int(fer__buf *b, int field, int64_t v);
void fer__pb_float(fer__buf *b, int field, float v);
void fer__pb_bytes(fer__buf *b, int field, const void *data, size_t n);
void fer__pb_string(fer__buf *b, int field, const char *s);
/* A nested message that was built in `sub` (its failure carries over). */
void fer__pb_message(fer__buf *b, int field, const fer__buf *sub);
/* Packed repeated int64 (one length-delimited field of varints). */
void fer__pb_packed_ints(fer__buf *b, int field, const int64_t *v, size_t n);

/* ---- Reading ---- */
typedef struct fer__pb_reader {
  const uint8_t *start, *p, *end;
} fer__pb_reader;

typedef struct fer__pb_field {
  int number;          /* field number, >= 1 */
  int wire;            /* FER__PB_* */
  uint64_t value;      /* varint, fixed32 or fixed64 value */
  const uint8_t *data; /* FER__PB_LEN payload (inside the reader's range) */
  size_t len;
} fer__pb_field;

void fer__pb_reader_init(fer__pb_reader *r, const uint8_t *data, size_t size);
/* 1: *f holds the next field; 0: the end of the range; -1: malformed (a
 * truncated varint or payload, field number 0, or a group). */
int fer__pb_next(fer__pb_reader *r, fer__pb_field *f);
/* Byte offset of the reader's position from the start of its range. */
size_t fer__pb_offset(const fer__pb_reader *r);
/* Reads one varint from [*p, end); 0 and advances *p, or -1. */
int fer__pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out);

#endif
