/*
 * printf for text that programs read back: numbers are written as in the
 * "C" locale whatever the caller set.
 *
 * printf's floating conversions (%f %e %g %a) write LC_NUMERIC's decimal
 * point, so a program that called setlocale(LC_ALL, "de_DE.UTF-8") would
 * get "0,5" in an SVG coordinate, a CSV cell or a JSON number. Everything
 * libfer writes with numbers in it (fer__buf_printf included) goes through
 * fer__format instead. Integer, string and character conversions do not
 * depend on the locale and are passed to the C library as they are.
 */
#ifndef FER_UTIL_FORMAT_H
#define FER_UTIL_FORMAT_H

#include <stdarg.h>
#include <stddef.h>

#if defined(__GNUC__) || defined(__clang__)
#define FER__PRINTF_LIKE(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FER__PRINTF_LIKE(fmt, args)
#endif

/* vsnprintf(out, size, format, args) with every floating conversion
 * written with a '.' for the decimal point and padded to its width here
 * (so a locale whose point takes several bytes pads the same as "C").
 * Understands the C99 conversions d i u o x X c s p f F e E g G a A and
 * %%, flags "-+ #0", widths and precisions ("*" too) and the length
 * modifiers hh h l ll j z t L. Returns the length the whole text needs
 * (not counting the NUL, as snprintf), writing at most size - 1 bytes and
 * a NUL when size > 0; returns -1 for a conversion outside that list (%n,
 * %ls, %lc, the ' flag), or when a conversion wider than its stack buffer
 * cannot get memory. Reentrant. */
int fer__vformat(char *out, size_t size, const char *format, va_list args);

/* The same with its arguments in place. */
int fer__format(char *out, size_t size, const char *format, ...)
    FER__PRINTF_LIKE(3, 4);

#endif /* FER_UTIL_FORMAT_H */
