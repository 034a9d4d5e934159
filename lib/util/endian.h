/* Little- and big-endian loads and stores, independent of the host order:
 * every file libfer writes is little-endian on disk. */
#ifndef FER_UTIL_ENDIAN_H
#define FER_UTIL_ENDIAN_H

#include <stdint.h>
#include <string.h>

static inline uint16_t fer__get_u16le(const uint8_t *p) {
  return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t fer__get_u32le(const uint8_t *p) {
  return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
         ((uint32_t)p[3] << 24);
}
static inline uint64_t fer__get_u64le(const uint8_t *p) {
  return (uint64_t)fer__get_u32le(p) | ((uint64_t)fer__get_u32le(p + 4) << 32);
}
static inline float fer__get_f32le(const uint8_t *p) {
  uint32_t u = fer__get_u32le(p);
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static inline uint16_t fer__get_u16be(const uint8_t *p) {
  return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t fer__get_u32be(const uint8_t *p) {
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}
static inline void fer__put_u16le(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void fer__put_u32le(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
  p[2] = (uint8_t)(v >> 16);
  p[3] = (uint8_t)(v >> 24);
}
static inline void fer__put_u64le(uint8_t *p, uint64_t v) {
  fer__put_u32le(p, (uint32_t)v);
  fer__put_u32le(p + 4, (uint32_t)(v >> 32));
}

#endif
