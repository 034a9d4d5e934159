/* fer__format (lib/util/format.c), printf with a '.' whatever the locale,
 * against the C library's vsnprintf in the "C" locale (this program never
 * calls setlocale), where the two must agree byte for byte on every
 * conversion, flag, width, precision and length modifier, and on how a
 * small buffer is cut. Under a comma locale the same calls are checked by
 * test_decimal_locale. */
#include <float.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "harness.h"
#include "util/format.h"

/* Formats with both and compares the texts and the returned lengths, in a
 * large buffer and cut at every size up to one past the whole text. */
static void same_as_libc(int line, const char *format, ...) FER__PRINTF_LIKE(2, 3);
static void same_as_libc(int line, const char *format, ...) {
  char want[1024], got[1024];
  va_list args, copy;
  va_start(args, format);
  va_copy(copy, args);
  int want_n = vsnprintf(want, sizeof want, format, args);
  int got_n = fer__vformat(got, sizeof got, format, copy);
  va_end(copy);
  va_end(args);
  CHECK_MSG(want_n == got_n && strcmp(want, got) == 0,
            "line %d, \"%s\": libc \"%s\" (%d), fer__format \"%s\" (%d)", line, format,
            want, want_n, got, got_n);
  if (want_n < 0 || want_n >= (int)sizeof want) return;
  for (size_t size = 0; size <= (size_t)want_n + 1; size++) {
    char cut[1024];
    memset(cut, 'x', sizeof cut);
    va_start(args, format);
    int n = fer__vformat(cut, size, format, args);
    va_end(args);
    size_t kept = size == 0 ? 0 : size - 1 < (size_t)want_n ? size - 1 : (size_t)want_n;
    int ok = n == want_n && memcmp(cut, want, kept) == 0 &&
             (size == 0 ? cut[0] == 'x' : cut[kept] == '\0') && cut[size] == 'x';
    CHECK_MSG(ok, "line %d, \"%s\" cut to %zu bytes: \"%.*s\" (%d)", line, format, size,
              (int)kept, cut, n);
  }
}
#define SAME(...) same_as_libc(__LINE__, __VA_ARGS__)

static void integers_strings_and_pointers(void) {
  SAME("plain text, no conversion");
  SAME("%d|%i|%5d|%-5d|%05d|%+d|% d|%.3d|%8.3d|%-+8.3d", 42, -42, 7, 7, -7, 7, 7, 7, -7, 7);
  SAME("%d %d", INT_MIN, INT_MAX);
  SAME("%hhd %hhu %hd %hu", (signed char)-5, (unsigned char)250, (short)-30000,
       (unsigned short)60000);
  SAME("%ld %lu %lld %llu", LONG_MIN, ULONG_MAX, LLONG_MIN, ULLONG_MAX);
  SAME("%jd %ju %zu %zd %td %tu", INTMAX_MIN, UINTMAX_MAX, (size_t)-1, (ptrdiff_t)-3,
       (ptrdiff_t)PTRDIFF_MIN, (ptrdiff_t)12);
  SAME("%o %#o %x %#x %X %#X %#010x %.0d|%.0x|%#.0o", 8u, 8u, 255u, 255u, 255u, 255u, 255u, 0,
       0u, 0u);
  SAME("%*d|%-*d|%*d|%.*d|%.*d", 6, 12, 6, 12, -6, 12, 4, 12, -4, 12);
  SAME("%s|%10s|%-10s|%.2s|%*.*s|", "word", "word", "word", "word", 8, 3, "word");
  SAME("%c%c%5c%-3c|", 'a', 'b', 'c', 'd');
  SAME("100%% and %%d %d%%", 5);
  int local = 0;
  SAME("%p %20p", (void *)&local, (void *)&local);
  SAME("%s", "a string longer than the two hundred and fifty-six bytes of the "
             "stack buffer that fer__buf_printf tries first, so that its second "
             "pass, with the exact length, is the one that writes the text: the "
             "length returned by the first pass has to be the length of what the "
             "second writes, byte for byte, or the buffer is cut or overrun.");
}

static void floating(void) {
  SAME("%f %F %e %E %g %G", 3.14159, 3.14159, 31415.9, 0.000314159, 1e-5, 1e20);
  SAME("%.0f %#.0f %.0e %#.0e %#g %#.3g", 2.5, 2.5, 15.0, 15.0, 1.0, 100.0);
  SAME("%.9g %.17g %.3g %.1f%%", 0.1, 0.1, 1234567.0, 87.25);
  SAME("%10.3f|%-10.3f|%010.3f|%+010.3f|% 010.3f|%+.2f|% .2f", 1.5, 1.5, -1.5, 1.5, 1.5, 2.0,
       2.0);
  SAME("%012.4e|%-12.4e|%012g|%+g", -12345.678, 12345.678, 0.5, 0.5);
  SAME("%a %A %.2a %015a %-15a|", 1.5, -0.375, 1.0 / 3.0, 1.5, 1.5);
  SAME("%f %f %f %e %g", -0.0, 0.0, DBL_MIN, DBL_MAX, DBL_TRUE_MIN);
  SAME("%f %F %010f %-10f| %+f %e %g %010g|", INFINITY, -INFINITY, INFINITY, INFINITY,
       INFINITY, NAN, -NAN, NAN);
  SAME("%lf %Lf %.20Lg %15.3Le|", 0.25, (long double)1 / 3, (long double)0.1,
       (long double)-2.5e300);
  SAME("%*.*f|%.*f|%*f", 12, 3, 2.0, -1, 2.0, -12, 2.0);
  SAME("x=%.2f y=%.2f w=%.2f h=%.2f", 1.0, 2.25, 100.125, 0.005);
  /* Longer than the stack buffer for one number (400 bytes). */
  char want[1024], got[1024];
  int want_n = snprintf(want, sizeof want, "%.300f", 1e300);
  int got_n = fer__format(got, sizeof got, "%.300f", 1e300);
  CHECK(want_n == got_n && strcmp(want, got) == 0);
}

/* Calls fer__vformat without the compile-time format check, to pass it
 * what it refuses. */
static int unchecked(char *out, size_t size, const char *format, ...) {
  va_list args;
  va_start(args, format);
  int n = fer__vformat(out, size, format, args);
  va_end(args);
  return n;
}

static void refusals(void) {
  char out[64];
  int count = 0;
  CHECK_EQ_INT(unchecked(out, sizeof out, "ab%n", &count), -1);
  CHECK_EQ_INT(count, 0);
  CHECK_EQ_INT(unchecked(out, sizeof out, "%ls", L"wide"), -1);
  CHECK_EQ_INT(unchecked(out, sizeof out, "%lc", (int)L'w'), -1);
  CHECK_EQ_INT(unchecked(out, sizeof out, "%'d", 1234567), -1);
  CHECK_EQ_INT(unchecked(out, sizeof out, "%hf", 1.0), -1);
  CHECK_EQ_INT(unchecked(out, sizeof out, "%Ld", 1), -1);
  CHECK_EQ_INT(unchecked(out, sizeof out, "%lll", 1), -1);
  CHECK_EQ_INT(unchecked(out, sizeof out, "trailing %"), -1);
  CHECK_EQ_INT(unchecked(out, sizeof out, "%99999999999d", 1), -1);
  CHECK_EQ_INT(unchecked(out, sizeof out, "%*d", INT_MIN, 1), -1);
  /* What came before a refused conversion is still terminated. */
  CHECK(unchecked(out, sizeof out, "ab%n", &count) == -1 && strcmp(out, "ab") == 0);
  /* A number too long for the stack buffer needs memory; without it the
   * call says so instead of writing a wrong text. */
  fer__alloc_fail_after(1);
  CHECK_EQ_INT(fer__format(out, sizeof out, "%.300f", 1e300), -1);
  fer__alloc_fail_after(0);
}

int main(void) {
  RUN(integers_strings_and_pointers);
  RUN(floating);
  RUN(refusals);
  return harness_finish();
}
