/* Reads a fuzz input as a sequence of little-endian fields, for harnesses
 * whose input is a structure (a scene, a stream of frames) rather than a
 * file format. Past the end every byte reads as 0, so any input is a
 * complete one. */
#ifndef FER_FUZZ_READER_H
#define FER_FUZZ_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct fuzz_reader {
  const uint8_t *data;
  size_t size, at;
} fuzz_reader;

/* The next `bytes` (1..4) bytes as an unsigned little-endian number. */
static inline uint32_t fuzz_take(fuzz_reader *r, int bytes) {
  uint32_t v = 0;
  for (int i = 0; i < bytes; i++, r->at++)
    v |= (uint32_t)(r->at < r->size ? r->data[r->at] : 0) << (8 * i);
  return v;
}

/* 1 while unread bytes remain. */
static inline int fuzz_more(const fuzz_reader *r) { return r->at < r->size; }

#endif
