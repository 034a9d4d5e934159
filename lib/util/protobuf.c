/* Protocol Buffers wire format: a field is a key (field number << 3 | wire
 * type) as a varint, then a varint, 4 or 8 little-endian bytes, or a varint
 * length and that many bytes. */
#include <string.h>

#include "util/endian.h"
#include "util/protobuf.h"

void fer__pb_varint(fer__buf *b, uint64_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  do {
    uint8_t byte = (uint8_t)(v & 0x7f);
    v >>= 7;
    tmp[n++] = (uint8_t)(byte | (v ? 0x80 : 0));
  } while (v);
  fer__buf_append(b, tmp, n);
}

static void key(fer__buf *b, int field, int wire) {
  fer__pb_varint(b, ((uint64_t)field << 3) | (uint64_t)wire);
}

void fer__pb_int(fer__buf *b, int field, int64_t v) {
  key(b, field, FER__PB_VARINT);
  fer__pb_varint(b, (uint64_t)v);
}

void fer__pb_float(fer__buf *b, int field, float v) {
  key(b, field, FER__PB_FIXED32);
  fer__buf_f32le(b, v);
}

void fer__pb_bytes(fer__buf *b, int field, const void *data, size_t n) {
  key(b, field, FER__PB_LEN);
  fer__pb_varint(b, n);
  if (n) fer__buf_append(b, data, n);
}

void fer__pb_string(fer__buf *b, int field, const char *s) {
  fer__pb_bytes(b, field, s, strlen(s));
}

void fer__pb_message(fer__buf *b, int field, const fer__buf *sub) {
  if (sub->failed) {
    b->failed = 1;
    return;
  }
  fer__pb_bytes(b, field, sub->data, sub->size);
}

void fer__pb_packed_ints(fer__buf *b, int field, const int64_t *v, size_t n) {
  fer__buf tmp;
  fer__buf_init(&tmp);
  for (size_t i = 0; i < n; i++) fer__pb_varint(&tmp, (uint64_t)v[i]);
  fer__pb_message(b, field, &tmp);
  fer__buf_release(&tmp);
}

void fer__pb_reader_init(fer__pb_reader *r, const uint8_t *data, size_t size) {
  r->start = r->p = data;
  r->end = data + size;
}

size_t fer__pb_offset(const fer__pb_reader *r) {
  return (size_t)(r->p - r->start);
}

int fer__pb_read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
  uint64_t v = 0;
  const uint8_t *q = *p;
  for (int shift = 0; shift < 64; shift += 7) {
    if (q >= end) return -1;
    uint8_t byte = *q++;
    v |= (uint64_t)(byte & 0x7f) << shift;
    if (!(byte & 0x80)) {
      *p = q;
      *out = v;
      return 0;
    }
  }
  return -1; /* more than ten bytes */
}

int fer__pb_next(fer__pb_reader *r, fer__pb_field *f) {
  if (r->p >= r->end) return 0;
  const uint8_t *q = r->p;
  uint64_t k;
  if (fer__pb_read_varint(&q, r->end, &k)) return -1;
  if ((k >> 3) == 0 || (k >> 3) > 0x1fffffff) return -1;
  f->number = (int)(k >> 3);
  f->wire = (int)(k & 7);
  f->value = 0;
  f->data = NULL;
  f->len = 0;
  switch (f->wire) {
    case FER__PB_VARINT:
      if (fer__pb_read_varint(&q, r->end, &f->value)) return -1;
      break;
    case FER__PB_FIXED64:
      if (r->end - q < 8) return -1;
      f->value = fer__get_u64le(q);
      q += 8;
      break;
    case FER__PB_FIXED32:
      if (r->end - q < 4) return -1;
      f->value = fer__get_u32le(q);
      q += 4;
      break;
    case FER__PB_LEN: {
      uint64_t n;
      if (fer__pb_read_varint(&q, r->end, &n)) return -1;
      if (n > (uint64_t)(r->end - q)) return -1;
      f->data = q;
      f->len = (size_t)n;
      q += n;
      break;
    }
    default:
      return -1;
  }
  r->p = q;
  return 1;
}
