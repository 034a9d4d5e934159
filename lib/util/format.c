/*
 * printf with a '.' for the decimal point whatever the locale (format.h).
 *
 * The format is walked one conversion at a time. Integers, strings,
 * characters and pointers go to the C library's snprintf with their
 * argument read at the promoted type the length modifier names; they do
 * not depend on the locale. A floating conversion is formatted without
 * its width, its decimal point is replaced by '.', and the width is
 * applied here, so the padding counts the '.' as one byte as "C" does.
 */
#include "util/format.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"

/* Where the text goes: the caller's buffer, filled up to size - 1 bytes,
 * and the length the whole text needs. */
typedef struct sink {
  char *out;
  size_t size;
  size_t length;
} sink;

static void put(sink *s, const char *text, size_t n) {
  if (s->length + 1 < s->size) {
    size_t room = s->size - 1 - s->length;
    memcpy(s->out + s->length, text, n < room ? n : room);
  }
  s->length += n;
}

static void put_repeated(sink *s, char c, size_t n) {
  for (size_t i = 0; i < n; i++) put(s, &c, 1);
}

/* The flag characters; flag i is bit i. */
static const char flag_chars[] = "-+ #0";
enum { FLAG_MINUS = 1, FLAG_PLUS = 2, FLAG_SPACE = 4, FLAG_HASH = 8, FLAG_ZERO = 16 };

/* One conversion specification, read from the format. */
typedef struct spec {
  int flags;
  int width;     /* -1: none */
  int precision; /* -1: none */
  char length[3];
  char conversion;
} spec;

/* Reads the part after '%' into *sp (taking "*" values from *ap); returns
 * the byte after the conversion character, or NULL when it is malformed. */
static const char *parse_spec(const char *p, spec *sp, va_list *ap) {
  memset(sp, 0, sizeof *sp);
  sp->width = sp->precision = -1;
  for (;; p++) {
    const char *at = *p ? strchr(flag_chars, *p) : NULL;
    if (!at) break;
    sp->flags |= 1 << (at - flag_chars);
  }
  if (*p == '*') {
    int w = va_arg(*ap, int);
    if (w == INT_MIN) return NULL;
    if (w < 0) sp->flags |= FLAG_MINUS;
    sp->width = w < 0 ? -w : w;
    p++;
  } else if (*p >= '0' && *p <= '9') {
    for (sp->width = 0; *p >= '0' && *p <= '9'; p++) {
      if (sp->width > (INT_MAX - 9) / 10) return NULL;
      sp->width = sp->width * 10 + (*p - '0');
    }
  }
  if (*p == '.') {
    p++;
    if (*p == '*') {
      int prec = va_arg(*ap, int);
      sp->precision = prec < 0 ? -1 : prec; /* negative: as if omitted */
      p++;
    } else {
      for (sp->precision = 0; *p >= '0' && *p <= '9'; p++) {
        if (sp->precision > (INT_MAX - 9) / 10) return NULL;
        sp->precision = sp->precision * 10 + (*p - '0');
      }
    }
  }
  size_t n = 0;
  while (n < 2 && *p && strchr("hljztL", *p) && (n == 0 || *p == sp->length[0]))
    sp->length[n++] = *p++;
  if (n == 2 && sp->length[0] != 'h' && sp->length[0] != 'l') return NULL;
  sp->conversion = *p;
  return *p ? p + 1 : NULL;
}

/* The specification back as printf text, with `length` for its length
 * modifier, and without the width and the '-' and '0' flags when
 * `with_width` is 0. */
static void spec_text(const spec *sp, const char *length, int with_width,
                      char text[64]) {
  size_t n = 0;
  text[n++] = '%';
  for (int i = 0; i < 5; i++) {
    int padding_flag = (1 << i) == FLAG_MINUS || (1 << i) == FLAG_ZERO;
    if ((sp->flags & (1 << i)) && (with_width || !padding_flag))
      text[n++] = flag_chars[i];
  }
  if (with_width && sp->width >= 0)
    n += (size_t)snprintf(text + n, 64 - n, "%d", sp->width);
  if (sp->precision >= 0) n += (size_t)snprintf(text + n, 64 - n, ".%d", sp->precision);
  for (; *length; length++) text[n++] = *length;
  text[n++] = sp->conversion;
  text[n] = '\0';
}

/* Formats straight into the sink's free space (or only counts when it has
 * none); the C library pads integers and strings itself. */
#define PUT_DIRECT(s, text, value)                                          \
  do {                                                                      \
    int n_ = (s)->length + 1 < (s)->size                                    \
                 ? snprintf((s)->out + (s)->length, (s)->size - (s)->length, \
                            text, value)                                    \
                 : snprintf(NULL, 0, text, value);                          \
    if (n_ < 0) return -1;                                                  \
    (s)->length += (size_t)n_;                                              \
  } while (0)

static int put_signed(sink *s, const spec *sp, va_list *ap) {
  intmax_t v;
  const char *m = sp->length;
  if (!strcmp(m, "hh")) v = (signed char)va_arg(*ap, int);
  else if (!strcmp(m, "h")) v = (short)va_arg(*ap, int);
  else if (!strcmp(m, "")) v = va_arg(*ap, int);
  else if (!strcmp(m, "l")) v = va_arg(*ap, long);
  else if (!strcmp(m, "ll")) v = va_arg(*ap, long long);
  else if (!strcmp(m, "j")) v = va_arg(*ap, intmax_t);
  else if (!strcmp(m, "z") || !strcmp(m, "t")) v = va_arg(*ap, ptrdiff_t);
  else return -1;
  char text[64];
  spec_text(sp, "j", 1, text);
  PUT_DIRECT(s, text, v);
  return 0;
}

static int put_unsigned(sink *s, const spec *sp, va_list *ap) {
  uintmax_t v;
  const char *m = sp->length;
  if (!strcmp(m, "hh")) v = (unsigned char)va_arg(*ap, unsigned);
  else if (!strcmp(m, "h")) v = (unsigned short)va_arg(*ap, unsigned);
  else if (!strcmp(m, "")) v = va_arg(*ap, unsigned);
  else if (!strcmp(m, "l")) v = va_arg(*ap, unsigned long);
  else if (!strcmp(m, "ll")) v = va_arg(*ap, unsigned long long);
  else if (!strcmp(m, "j")) v = va_arg(*ap, uintmax_t);
  else if (!strcmp(m, "z")) v = va_arg(*ap, size_t);
  else if (!strcmp(m, "t")) v = (size_t)va_arg(*ap, ptrdiff_t);
  else return -1;
  char text[64];
  spec_text(sp, "j", 1, text);
  PUT_DIRECT(s, text, v);
  return 0;
}

/* Rewrites the locale's decimal point in a formatted number as '.', in
 * place; returns the new length. A formatted number holds a sign, digits,
 * letters (an exponent, "0x", "inf", "nan"), spaces and the point, which
 * may be any byte or several: whatever else is there is that point. */
static size_t use_c_point(char *text) {
  size_t length = strlen(text), w = 0;
  int point_done = 0;
  for (size_t r = 0; r < length; r++) {
    char c = text[r];
    int ordinary = (c >= '0' && c <= '9') || c == '+' || c == '-' ||
                   (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == ' ';
    if (ordinary || c == '.') {
      text[w++] = c;
    } else if (!point_done) {
      text[w++] = '.';
      point_done = 1;
      while (r + 1 < length && !(text[r + 1] >= '0' && text[r + 1] <= '9') &&
             text[r + 1] != 'e' && text[r + 1] != 'E' && text[r + 1] != 'p' &&
             text[r + 1] != 'P')
        r++; /* the rest of a multi-byte point */
    }
  }
  text[w] = '\0';
  return w;
}

/* The width's padding: spaces on the left, on the right with '-', or
 * zeros after the sign and "0x" with '0' (finite numbers only, as printf). */
static void put_padded_number(sink *s, const spec *sp, const char *text,
                              size_t length, int finite) {
  size_t pad = sp->width > 0 && (size_t)sp->width > length ? (size_t)sp->width - length : 0;
  if (sp->flags & FLAG_MINUS) {
    put(s, text, length);
    put_repeated(s, ' ', pad);
  } else if ((sp->flags & FLAG_ZERO) && finite) {
    size_t prefix = (text[0] == '-' || text[0] == '+' || text[0] == ' ') ? 1 : 0;
    if (text[prefix] == '0' && (text[prefix + 1] == 'x' || text[prefix + 1] == 'X'))
      prefix += 2;
    put(s, text, prefix);
    put_repeated(s, '0', pad);
    put(s, text + prefix, length - prefix);
  } else {
    put_repeated(s, ' ', pad);
    put(s, text, length);
  }
}

static int put_floating(sink *s, const spec *sp, va_list *ap) {
  int is_long = !strcmp(sp->length, "L");
  if (!is_long && strcmp(sp->length, "") && strcmp(sp->length, "l")) return -1;
  long double long_value = 0;
  double value = 0;
  if (is_long) long_value = va_arg(*ap, long double);
  else value = va_arg(*ap, double);
  char format[64];
  spec_text(sp, is_long ? "L" : "", 0, format);
  char small[400], *text = small;
  int n = is_long ? snprintf(small, sizeof small, format, long_value)
                  : snprintf(small, sizeof small, format, value);
  if (n < 0) return -1;
  if ((size_t)n >= sizeof small) { /* "%.300f" of 1e300, say */
    text = fer__malloc((size_t)n + 1);
    if (!text) return -1;
    if (is_long) snprintf(text, (size_t)n + 1, format, long_value);
    else snprintf(text, (size_t)n + 1, format, value);
  }
  size_t length = use_c_point(text);
  put_padded_number(s, sp, text, length,
                    is_long ? isfinite(long_value) : isfinite(value));
  if (text != small) fer__free(text);
  return 0;
}

static int put_other(sink *s, const spec *sp, va_list *ap) {
  if (sp->length[0]) return -1; /* %lc, %ls: wide characters */
  char text[64];
  spec_text(sp, "", 1, text);
  switch (sp->conversion) {
    case 'c': PUT_DIRECT(s, text, va_arg(*ap, int)); return 0;
    case 's': PUT_DIRECT(s, text, va_arg(*ap, const char *)); return 0;
    case 'p': PUT_DIRECT(s, text, va_arg(*ap, void *)); return 0;
    default: return -1;
  }
}

static int put_conversion(sink *s, const spec *sp, va_list *ap) {
  switch (sp->conversion) {
    case '%': put(s, "%", 1); return 0;
    case 'd': case 'i': return put_signed(s, sp, ap);
    case 'u': case 'o': case 'x': case 'X': return put_unsigned(s, sp, ap);
    case 'f': case 'F': case 'e': case 'E':
    case 'g': case 'G': case 'a': case 'A': return put_floating(s, sp, ap);
    default: return put_other(s, sp, ap);
  }
}

int fer__vformat(char *out, size_t size, const char *format, va_list args) {
  sink s = {out, size, 0};
  va_list ap;
  va_copy(ap, args); /* so helpers can take its address on every ABI */
  int ok = 1;
  for (const char *p = format; ok && *p;) {
    const char *percent = strchr(p, '%');
    size_t plain = percent ? (size_t)(percent - p) : strlen(p);
    put(&s, p, plain);
    p += plain;
    if (!*p) break;
    spec sp;
    p = parse_spec(p + 1, &sp, &ap);
    ok = p && put_conversion(&s, &sp, &ap) == 0;
  }
  va_end(ap);
  if (size > 0) out[s.length < size ? s.length : size - 1] = '\0';
  if (!ok || s.length > INT_MAX) return -1;
  return (int)s.length;
}

int fer__format(char *out, size_t size, const char *format, ...) {
  va_list args;
  va_start(args, format);
  int n = fer__vformat(out, size, format, args);
  va_end(args);
  return n;
}
