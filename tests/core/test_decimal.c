/* The locale-independent decimal reader and writer (lib/util/decimal.c),
 * against the C library's strtod and strtof in the "C" locale (this
 * program never calls setlocale), which glibc rounds correctly for any
 * number of digits. The inputs: hand-picked edge cases, random decimal
 * strings of every length and exponent, every double printed the ways
 * OpenCV and printf print them, and exact halfway points between
 * neighbouring doubles (where a reader that is only nearly right fails). */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "util/decimal.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t next_random(void) { /* splitmix64 */
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15u);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}
static int random_below(int n) { return (int)(next_random() % (uint64_t)n); }

static int same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }
static int same_float(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static int mismatches; /* printed in full only for the first few */

/* Parses `text` both ways and compares value (bit for bit) and end. */
static void compare_with_libc(const char *text) {
  char *libc_end;
  double want = strtod(text, &libc_end);
  const char *end = NULL;
  double got = -12345.0;
  fer__number_result r = fer__parse_double(text, &end, &got);
  int ok = end == libc_end && (r == FER__NUMBER_NONE ? libc_end == text : same_double(got, want));
  if (r == FER__NUMBER_OK) ok = ok && isfinite(want);
  if (isinf(want)) ok = ok && r == FER__NUMBER_RANGE;
  float want_f = strtof(text, &libc_end);
  float got_f = -12345.0f;
  fer__number_result rf = fer__parse_float(text, &end, &got_f);
  ok = ok && end == libc_end &&
       (rf == FER__NUMBER_NONE ? libc_end == text : same_float(got_f, want_f));
  if (isinf(want_f)) ok = ok && rf == FER__NUMBER_RANGE;
  harness_checks++;
  if (!ok) {
    harness_failures++;
    if (mismatches++ < 10)
      fprintf(stderr, "'%.60s%s': double %.17g (want %.17g), float %.9g (want %.9g), "
              "end +%td\n", text, strlen(text) > 60 ? "..." : "", got, want,
              (double)got_f, (double)want_f, end - text);
  }
}

static void test_edge_cases(void) {
  static const char *const cases[] = {
      "0", "-0", "+0", "0.0", "-0.0e10", ".5", "5.", "-.5e-3", "1e", "1e+", "1e-x",
      "1.5e3x", "12 34", "00012.500", "1E5", "1e+05", "1e-05", "2.2250738585072014e-308",
      "2.2250738585072011e-308", "4.9406564584124654e-324", "2.4703282292062327e-324",
      "2.4703282292062328e-324", "1.7976931348623157e308", "1.7976931348623158e308",
      "1.7976931348623159e308", "1e309", "-1e400", "1e-400", "9007199254740993",
      "9007199254740992.5", "0.1", "0.2", "0.30000000000000004", "3.4028235e38",
      "3.4028236e38", "1.17549435e-38", "1.4e-45", "7e-46", "-1.2563890218734741e-01",
      "8.5000002384185791e-01", "1e23", "8.533e-12", "123456789012345678901234567890",
      "0.000000000000000000000000000000000000001", "1e99999999999", "1e-99999999999",
      "0e99999999999", "", "-", "+", ".", "-.", "e5", "abc"};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) compare_with_libc(cases[i]);
  /* What a caller relies on, spelled out. */
  double v = 0;
  const char *end = NULL;
  CHECK(fer__parse_double("0.5", &end, &v) == FER__NUMBER_OK && v == 0.5);
  CHECK(fer__parse_double("x", &end, &v) == FER__NUMBER_NONE);
  CHECK(fer__parse_double("1e999", &end, &v) == FER__NUMBER_RANGE && isinf(v));
  CHECK(fer__parse_double("1e-999", &end, &v) == FER__NUMBER_RANGE && v == 0.0);
  CHECK(fer__parse_double("0e-999", &end, &v) == FER__NUMBER_OK && v == 0.0);
  float f = 0;
  CHECK(fer__parse_float("1e39", &end, &f) == FER__NUMBER_RANGE && isinf(f));
  CHECK(fer__parse_double("7", NULL, &v) == FER__NUMBER_OK && v == 7.0);
  /* Unlike strtod: no hexadecimal, no words. */
  const char *hex = "0x10";
  CHECK(fer__parse_double(hex, &end, &v) == FER__NUMBER_OK && v == 0.0 && end == hex + 1);
  CHECK(fer__parse_double("inf", &end, &v) == FER__NUMBER_NONE);
  CHECK(fer__parse_double("nan", &end, &v) == FER__NUMBER_NONE);
}

/* Random decimals: 1 to 30 digits (sometimes 400), a point anywhere or
 * none, leading zeros, exponents from -360 to 360 or none. */
static void test_random_strings(void) {
  char text[1024];
  for (int n = 0; n < 40000; n++) {
    size_t at = 0;
    if (random_below(3) == 0) text[at++] = random_below(2) ? '-' : '+';
    int digits = random_below(50) == 0 ? 1 + random_below(400) : 1 + random_below(30);
    int point = random_below(digits + 2) - 1; /* -1: none */
    int zeros = random_below(4) == 0 ? random_below(5) : 0;
    for (int i = 0; i < zeros; i++) text[at++] = '0';
    for (int i = 0; i < digits; i++) {
      if (i == point) text[at++] = '.';
      text[at++] = (char)('0' + random_below(10));
    }
    if (random_below(3) != 0) {
      int exponent = random_below(721) - 360;
      at += (size_t)snprintf(text + at, sizeof text - at, "%c%d", random_below(2) ? 'e' : 'E',
                             exponent);
    }
    text[at] = '\0';
    compare_with_libc(text);
  }
}

/* Random doubles (all bit patterns, all exponents), printed with 6 to 17
 * significant digits in %e and %g form, as OpenCV and printf write them. */
static void test_printed_doubles(void) {
  static const char *const formats[] = {"%.17g", "%.16g", "%.15g", "%.9g", "%.6g",
                                        "%.16e", "%.8e", "%.17e"};
  char text[64];
  for (int n = 0; n < 20000; n++) {
    uint64_t bits = next_random();
    double x;
    memcpy(&x, &bits, sizeof x);
    if (!isfinite(x)) continue;
    snprintf(text, sizeof text, formats[n % 8], x);
    compare_with_libc(text);
    float xf = (float)x;
    if (isfinite(xf)) {
      snprintf(text, sizeof text, "%.9g", (double)xf);
      compare_with_libc(text);
    }
  }
}

/* The exact decimal value halfway between a double and the next one, then
 * that value cut short or with a 1 appended: round to even, down, up. The
 * halfway point needs 64 significant bits, so this uses long double when
 * it has them (x86) and skips otherwise. */
static void test_halfway_points(void) {
  if (LDBL_MANT_DIG < 64) {
    fprintf(stderr, "SKIP part: long double has %d bits, no exact halfway points\n",
            LDBL_MANT_DIG);
    return;
  }
  static char text[1200];
  for (int n = 0; n < 3000; n++) {
    uint64_t bits = next_random() >> 1; /* positive */
    double x;
    memcpy(&x, &bits, sizeof x);
    double y = nextafter(x, HUGE_VAL);
    if (!isfinite(y)) continue;
    long double mid = ((long double)x + (long double)y) / 2; /* exact */
    snprintf(text, sizeof text, "%.800Le", mid); /* glibc prints it exactly */
    compare_with_libc(text);
    char *e = strchr(text, 'e');
    if (!e) continue;
    char exponent[16];
    snprintf(exponent, sizeof exponent, "%s", e);
    /* Trailing zeros of the exact expansion, then a 1 past them. */
    char *last = e - 1;
    while (*last == '0') last--;
    size_t keep = (size_t)(last - text) + 1;
    snprintf(text + keep, sizeof text - keep, "00001%s", exponent);
    compare_with_libc(text);
    /* Cut to 17 .. 25 significant digits. */
    int cut = 17 + random_below(9);
    snprintf(text + cut + 1, sizeof text - (size_t)cut - 1, "%s", exponent);
    compare_with_libc(text);
  }
  /* The same for floats, whose halfway points a double holds exactly. */
  for (int n = 0; n < 3000; n++) {
    uint32_t bits = (uint32_t)(next_random() >> 33);
    float x;
    memcpy(&x, &bits, sizeof x);
    float y = nextafterf(x, HUGE_VALF);
    if (!isfinite(y)) continue;
    double mid = ((double)x + (double)y) / 2;
    snprintf(text, sizeof text, "%.200e", mid);
    compare_with_libc(text);
  }
}

/* More digits than the reader keeps: the dropped ones must still count. */
static void test_long_digit_strings(void) {
  static char text[4000];
  for (int n = 0; n < 200; n++) {
    int digits = 700 + random_below(2500);
    size_t at = 0;
    int point = random_below(digits);
    for (int i = 0; i < digits; i++) {
      if (i == point) text[at++] = '.';
      /* Mostly a repeated pattern, so rounding hinges on a far digit. */
      text[at++] = (char)(i < 20 || random_below(40) == 0 ? '0' + random_below(10)
                                                            : (n % 2 ? '0' : '9'));
    }
    snprintf(text + at, sizeof text - at, "e%d", random_below(600) - 300 - point);
    compare_with_libc(text);
  }
}

static void test_format(void) {
  char out[64];
  /* In the "C" locale this is snprintf. */
  CHECK_EQ_INT(fer__format_double(out, sizeof out, "%.9g", 0.25), 4);
  CHECK(strcmp(out, "0.25") == 0);
  CHECK_EQ_INT(fer__format_double(out, sizeof out, "%.3e", -1.5e-7), 10);
  CHECK(strcmp(out, "-1.500e-07") == 0);
  CHECK_EQ_INT(fer__format_double(out, sizeof out, "%g", 12.0), 2);
  CHECK(strcmp(out, "12") == 0);
  CHECK_EQ_INT(fer__format_double(out, 3, "%.9g", 0.25), 4); /* truncated */
  CHECK(strcmp(out, "0.") == 0);
}

int main(void) {
  RUN(test_edge_cases);
  RUN(test_random_strings);
  RUN(test_printed_doubles);
  RUN(test_halfway_points);
  RUN(test_long_digit_strings);
  RUN(test_format);
  return harness_finish();
}
