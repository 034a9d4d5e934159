/* UTF-8 validation for writers of text formats (SVG, JSON) that must never
 * emit invalid bytes, whatever names the caller passed in. */
#ifndef FER_UTIL_UTF8_H
#define FER_UTIL_UTF8_H

/* Length (1..4) of the valid UTF-8 sequence starting at p, or 0 when it is
 * not one. Rejects overlong forms, UTF-16 surrogates, code points past
 * U+10FFFF and the non-characters U+FFFE and U+FFFF (which XML forbids).
 * Stops at a NUL, so p may point into a C string. */
static inline int fer__utf8_length(const unsigned char *p) {
  int n = p[0] < 0x80 ? 1 : p[0] < 0xC2 ? 0 : p[0] < 0xE0 ? 2 : p[0] < 0xF0 ? 3
        : p[0] < 0xF5 ? 4 : 0;
  for (int i = 1; i < n; i++)
    if ((p[i] & 0xC0) != 0x80) return 0;
  if ((p[0] == 0xE0 && p[1] < 0xA0) || (p[0] == 0xED && p[1] > 0x9F) ||
      (p[0] == 0xF0 && p[1] < 0x90) || (p[0] == 0xF4 && p[1] > 0x8F) ||
      (p[0] == 0xEF && p[1] == 0xBF && p[2] >= 0xBE))
    return 0;
  return n;
}

#endif
