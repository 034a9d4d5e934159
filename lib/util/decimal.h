/*
 * Decimal numbers in text, read and written the same way whatever the
 * process locale says.
 *
 * strtod, strtof and printf's %g follow LC_NUMERIC: a program that called
 * setlocale(LC_ALL, "de_DE.UTF-8") reads "0.5" as 0 and writes 0.5 as
 * "0,5". Cascade XML, architecture text and model files are written with a
 * '.', so libfer reads and writes them through these functions instead.
 */
#ifndef FER_UTIL_DECIMAL_H
#define FER_UTIL_DECIMAL_H

#include <stddef.h>

/* What fer__parse_double and fer__parse_float found. */
typedef enum fer__number_result {
  FER__NUMBER_OK = 1,    /* a finite number, correctly rounded */
  FER__NUMBER_NONE = 0,  /* no number starts here; *end = text */
  FER__NUMBER_RANGE = -1 /* a number whose magnitude overflows (value is
                            +-HUGE_VAL) or underflows to zero (value is
                            +-0); *end is past it */
} fer__number_result;

/* Reads the longest prefix of `text` that is a decimal number, as strtod
 * does in the "C" locale: optional sign, digits with an optional '.',
 * optional exponent ("e-5", "E+07"); no leading blanks, no hexadecimal,
 * "inf" or "nan". The result is the nearest double to the exact decimal
 * value (ties to even) for any number of digits. *end (may be NULL) gets
 * the first byte not used. Reentrant; allocates nothing. */
fer__number_result fer__parse_double(const char *text, const char **end,
                                     double *value);

/* The same, rounded once, directly to the nearest float (rounding to
 * double first and then to float can be off by one in rare cases). */
fer__number_result fer__parse_float(const char *text, const char **end,
                                    float *value);

/* snprintf(out, size, format, value) for a format with one floating
 * conversion (such as "%.9g"), written with a '.' whatever the locale's
 * decimal point is (fer__format in format.h, which this calls). Returns
 * snprintf's result. */
int fer__format_double(char *out, size_t size, const char *format,
                       double value);

#endif /* FER_UTIL_DECIMAL_H */
