/*
 * Locale-independent decimal numbers (see decimal.h).
 *
 * Reading is exact: the digits become a big integer N and the number is
 * N * 10^E. For E >= 0 the integer N * 10^E is formed; for E < 0 the
 * quotient N * 2^s / 10^-E is taken to 64 bits with its remainder. Either
 * way the result is a 64-bit q, a power of two and a "something was left
 * over" bit, which is all that round-to-nearest-even needs. This is slower
 * than the fast paths of a libc strtod, but a cascade or an architecture
 * holds thousands of numbers, not millions, and it is short enough to
 * check by reading.
 */
#include "util/decimal.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "util/format.h"

/* Digits kept exactly. Deciding the rounding of any decimal needs at most
 * 768 significant digits (the longest exact expansion of a halfway point
 * between two doubles); later nonzero digits only break a tie, which one
 * extra nonzero digit at the end does as well. */
#define MAX_DIGITS 780
/* Beyond these decimal magnitudes the answer is zero or infinity:
 * 10^-324 is below half the smallest subnormal double, 10^309 above the
 * largest double. */
#define MIN_DECIMAL_EXPONENT (-324)
#define MAX_DECIMAL_EXPONENT 309
/* Room for 10^(324 + MAX_DIGITS + 1) shifted left by 64 bits. */
#define LIMBS 136

typedef struct big {
  uint32_t limb[LIMBS]; /* little-endian base 2^32 */
  int size;             /* limbs in use; the top one is nonzero */
} big;

static void big_set_small(big *b, uint32_t v) {
  b->limb[0] = v;
  b->size = v ? 1 : 0;
}

static void big_mul_add_small(big *b, uint32_t mul, uint32_t add) {
  uint64_t carry = add;
  for (int i = 0; i < b->size; i++) {
    uint64_t t = (uint64_t)b->limb[i] * mul + carry;
    b->limb[i] = (uint32_t)t;
    carry = t >> 32;
  }
  if (carry) b->limb[b->size++] = (uint32_t)carry;
}

/* b *= 10^n, in steps of 10^9 (which fits a limb). */
static void big_mul_pow10(big *b, int n) {
  for (; n >= 9; n -= 9) big_mul_add_small(b, 1000000000u, 0);
  static const uint32_t small_pow10[9] = {1,      10,      100,      1000,     10000,
                                          100000, 1000000, 10000000, 100000000};
  if (n > 0) big_mul_add_small(b, small_pow10[n], 0);
}

static int big_bits(const big *b) {
  if (b->size == 0) return 0;
  uint32_t top = b->limb[b->size - 1];
  int bits = 0;
  while (top) {
    bits++;
    top >>= 1;
  }
  return (b->size - 1) * 32 + bits;
}

static void big_shift_left(big *b, int n) {
  if (b->size == 0 || n == 0) return;
  int limbs = n / 32, bits = n % 32;
  int size = b->size + limbs + 1;
  for (int i = size - 1; i >= limbs; i--) {
    int from = i - limbs;
    uint32_t hi = from < b->size ? b->limb[from] : 0;
    uint32_t lo = from - 1 >= 0 && from - 1 < b->size ? b->limb[from - 1] : 0;
    b->limb[i] = bits ? (hi << bits) | (lo >> (32 - bits)) : hi;
  }
  for (int i = 0; i < limbs; i++) b->limb[i] = 0;
  b->size = size;
  while (b->size > 0 && b->limb[b->size - 1] == 0) b->size--;
}

static void big_shift_right_one(big *b) {
  for (int i = 0; i < b->size; i++) {
    uint32_t next = i + 1 < b->size ? b->limb[i + 1] : 0;
    b->limb[i] = (b->limb[i] >> 1) | (next << 31);
  }
  while (b->size > 0 && b->limb[b->size - 1] == 0) b->size--;
}

static int big_compare(const big *a, const big *b) {
  if (a->size != b->size) return a->size < b->size ? -1 : 1;
  for (int i = a->size - 1; i >= 0; i--)
    if (a->limb[i] != b->limb[i]) return a->limb[i] < b->limb[i] ? -1 : 1;
  return 0;
}

/* a -= b, where a >= b. */
static void big_subtract(big *a, const big *b) {
  int64_t borrow = 0;
  for (int i = 0; i < a->size; i++) {
    int64_t t = (int64_t)a->limb[i] - (i < b->size ? b->limb[i] : 0) - borrow;
    borrow = t < 0;
    a->limb[i] = (uint32_t)(t + (borrow ? (int64_t)1 << 32 : 0));
  }
  while (a->size > 0 && a->limb[a->size - 1] == 0) a->size--;
}

/* The bits [from, from + 64) of b as one integer. */
static uint64_t big_bits_at(const big *b, int from) {
  uint64_t v = 0;
  for (int k = 63; k >= 0; k--) {
    int bit = from + k, limb = bit / 32;
    v = (v << 1) | (limb < b->size ? (b->limb[limb] >> (bit % 32)) & 1u : 0u);
  }
  return v;
}

static int big_any_below(const big *b, int bit) {
  for (int i = 0; i < b->size && i * 32 < bit; i++) {
    int n = bit - i * 32;
    uint32_t mask = n >= 32 ? 0xffffffffu : (1u << n) - 1u;
    if (b->limb[i] & mask) return 1;
  }
  return 0;
}

/* The value (q + f) * 2^exp2, 0 <= f < 1 and f > 0 exactly when `sticky`,
 * rounded to nearest-even with `precision` significant bits and no
 * exponent below `min_exponent` (that of the smallest normal number), as a
 * double (exact: precision <= 53). */
static double round_binary(uint64_t q, int exp2, int sticky, int precision,
                           int min_exponent) {
  if (q == 0) return 0.0;
  int length = 64;
  while (!(q >> (length - 1))) length--;
  int leading = exp2 + length - 1; /* exponent of the leading bit */
  int keep = precision;
  if (leading < min_exponent) keep -= min_exponent - leading; /* subnormal */
  int drop = length - keep; /* low bits rounded away; >= 0 here */
  if (drop <= 0) return ldexp((double)q, exp2); /* exact already */
  uint64_t kept = drop >= 64 ? 0 : q >> drop;
  /* The dropped part against half a unit: its top bit, then the rest. */
  int half = drop > 64 ? 0 : (int)((q >> (drop - 1)) & 1u);
  int more = sticky || (drop >= 2 && drop <= 64 && (q & ((UINT64_C(1) << (drop - 1)) - 1u)) != 0);
  if (half && (more || (kept & 1u))) kept++;
  return ldexp((double)kept, exp2 + drop);
}

/* What the text holds: up to MAX_DIGITS significant digits (then a 1 for
 * any nonzero digits dropped) and the power of ten they are scaled by. */
typedef struct decimal {
  char digit[MAX_DIGITS + 1];
  int count;
  long exponent; /* value = digits * 10^exponent */
  int negative;
} decimal;

/* Returns the end of the number, or `text` when none starts there. */
static const char *scan(const char *text, decimal *d) {
  const char *s = text;
  memset(d, 0, sizeof *d);
  if (*s == '+' || *s == '-') d->negative = *s++ == '-';
  int digits_seen = 0, dropped_nonzero = 0;
  long exponent = 0;
  for (int point = 0;; s++) {
    if (*s == '.' && !point) {
      point = 1;
      continue;
    }
    if (*s < '0' || *s > '9') break;
    digits_seen = 1;
    if (d->count == 0 && *s == '0') { /* a leading zero only moves the point */
      if (point) exponent--;
    } else if (d->count < MAX_DIGITS) {
      d->digit[d->count++] = *s;
      if (point) exponent--;
    } else { /* dropped: a digit before the point still counts as a ten */
      dropped_nonzero |= *s != '0';
      if (!point) exponent++;
    }
  }
  if (!digits_seen) return text;
  if (dropped_nonzero) {
    d->digit[d->count++] = '1';
    exponent--;
  }
  /* The exponent part, only when it has digits ("1e" is 1 then "e"). */
  if (*s == 'e' || *s == 'E') {
    const char *e = s + 1;
    int negative = 0;
    if (*e == '+' || *e == '-') negative = *e++ == '-';
    if (*e >= '0' && *e <= '9') {
      long value = 0;
      for (; *e >= '0' && *e <= '9'; e++)
        if (value < 100000000) value = value * 10 + (*e - '0');
      exponent += negative ? -value : value;
      s = e;
    }
  }
  /* Trailing zeros of the digits move into the exponent. */
  while (d->count > 0 && d->digit[d->count - 1] == '0') {
    d->count--;
    exponent++;
  }
  d->exponent = exponent;
  return s;
}

/* The magnitude of d rounded to `precision` bits with normal exponents
 * down to `min_exponent`; *range set when it overflows or vanishes. */
static double convert(const decimal *d, int precision, int min_exponent, int *range) {
  *range = 0;
  if (d->count == 0) return 0.0;
  long magnitude = d->count + d->exponent; /* value < 10^magnitude */
  if (magnitude > MAX_DECIMAL_EXPONENT) {
    *range = 1;
    return HUGE_VAL;
  }
  if (magnitude < MIN_DECIMAL_EXPONENT) {
    *range = 1;
    return 0.0;
  }
  big n;
  big_set_small(&n, 0);
  for (int i = 0; i < d->count; i++) {
    if (n.size == 0) big_set_small(&n, (uint32_t)(d->digit[i] - '0'));
    else big_mul_add_small(&n, 10, (uint32_t)(d->digit[i] - '0'));
  }
  uint64_t q;
  int exp2, sticky;
  if (d->exponent >= 0) {
    big_mul_pow10(&n, (int)d->exponent);
    int bits = big_bits(&n);
    int from = bits > 64 ? bits - 64 : 0;
    q = big_bits_at(&n, from);
    exp2 = from;
    sticky = big_any_below(&n, from);
  } else {
    /* q = floor(n * 2^s / 10^-exponent), with s making q 63 or 64 bits. */
    big den;
    big_set_small(&den, 1);
    big_mul_pow10(&den, (int)-d->exponent);
    int s = 63 + big_bits(&den) - big_bits(&n);
    if (s >= 0) big_shift_left(&n, s);
    else big_shift_left(&den, -s);
    big_shift_left(&den, 63);
    q = 0;
    for (int bit = 63; bit >= 0; bit--) {
      if (big_compare(&n, &den) >= 0) {
        big_subtract(&n, &den);
        q |= UINT64_C(1) << bit;
      }
      big_shift_right_one(&den);
    }
    exp2 = -s;
    sticky = n.size != 0;
  }
  double v = round_binary(q, exp2, sticky, precision, min_exponent);
  if (v == 0.0 || isinf(v)) *range = 1;
  return v;
}

/* Either reader, rounding to `precision` bits; `largest` is the largest
 * finite value of the target type (anything rounded past it overflows). */
static fer__number_result parse(const char *text, const char **end, int precision,
                                int min_exponent, double largest, double *value) {
  decimal d;
  const char *stop = scan(text, &d);
  if (end) *end = stop;
  if (stop == text) return FER__NUMBER_NONE;
  int range;
  double v = convert(&d, precision, min_exponent, &range);
  if (v > largest) {
    v = HUGE_VAL;
    range = 1;
  }
  if (d.count == 0) range = 0; /* a written zero is not an underflow */
  *value = d.negative ? -v : v;
  return range ? FER__NUMBER_RANGE : FER__NUMBER_OK;
}

fer__number_result fer__parse_double(const char *text, const char **end,
                                     double *value) {
  return parse(text, end, DBL_MANT_DIG, DBL_MIN_EXP - 1, DBL_MAX, value);
}

fer__number_result fer__parse_float(const char *text, const char **end,
                                    float *value) {
  double v = 0.0;
  fer__number_result r = parse(text, end, FLT_MANT_DIG, FLT_MIN_EXP - 1, FLT_MAX, &v);
  if (r != FER__NUMBER_NONE) *value = (float)v; /* exact: v has float precision */
  return r;
}

int fer__format_double(char *out, size_t size, const char *format,
                       double value) {
  return fer__format(out, size, format, value);
}
