/* The keyed-settings helper (lib/core/params.c) on a toy object with one
 * setting of each kind, a hole in its keys and an exclusive minimum. The
 * expected verdicts come from the ranges written below, not from the
 * helper: values at each bound are allowed, the next double past it is not. */
#include <math.h>

#include "core/params.h"
#include "harness.h"

enum { KEY_RATE = 1, KEY_COUNT = 2, KEY_FLAG = 3, /* 4 unused */ KEY_MODE = 5,
       KEY_SCALE = 6, NUM_KEYS = 7 };

typedef struct toy {
  int other; /* so no value sits at offset 0 */
  double values[NUM_KEYS];
  double named; /* a value outside the array, by offset */
} toy;

#define ROW(key, name, kind, min, max, def, rule) \
  FER__PARAM_AT(toy, values, key, name, kind, min, max, def, rule)
static const fer__param rows[NUM_KEYS] = {
    ROW(KEY_RATE, "rate", FER__PARAM_FLOAT, -0.5, 2.5, 0.25, FER__PARAM_MIN_INCLUSIVE),
    ROW(KEY_COUNT, "count", FER__PARAM_INT, 1, 100, 7, FER__PARAM_MIN_INCLUSIVE),
    ROW(KEY_FLAG, "flag", FER__PARAM_BOOL, 0, 1, 1, FER__PARAM_MIN_INCLUSIVE),
    ROW(KEY_MODE, "mode", FER__PARAM_ENUM, 2, 4, 3, FER__PARAM_MIN_INCLUSIVE),
    [KEY_SCALE] = {"scale", FER__PARAM_FLOAT, 1.0, 4.0, 1.5, FER__PARAM_MIN_EXCLUSIVE,
                   offsetof(toy, named)},
};
static const fer__param_table table = FER__PARAM_TABLE("toy", rows, FER_ERR_NOT_FOUND);
/* The same rows, with the other status some public APIs give for an
 * unknown key. */
static const fer__param_table strict =
    FER__PARAM_TABLE("toy", rows, FER_ERR_INVALID_ARGUMENT);

static void test_defaults_and_listing(void) {
  toy t = {0};
  fer__param_set_defaults(&table, &t);
  CHECK(t.other == 0);
  CHECK(t.values[0] == 0.0 && t.values[4] == 0.0); /* unused keys untouched */
  CHECK(t.values[KEY_RATE] == 0.25);
  CHECK(t.values[KEY_COUNT] == 7);
  CHECK(t.values[KEY_FLAG] == 1);
  CHECK(t.values[KEY_MODE] == 3);
  CHECK(t.named == 1.5);
  int listed[NUM_KEYS], n = 0;
  for (int k = fer__param_next(&table, -1); k >= 0 && n < NUM_KEYS;
       k = fer__param_next(&table, k))
    listed[n++] = k;
  CHECK_EQ_INT(n, 5);
  const int want[] = {KEY_RATE, KEY_COUNT, KEY_FLAG, KEY_MODE, KEY_SCALE};
  for (int i = 0; i < 5 && i < n; i++) CHECK_EQ_INT(listed[i], want[i]);
  CHECK_EQ_INT(fer__param_next(&table, KEY_SCALE), -1);
}

static void test_unknown_keys(void) {
  toy t = {0};
  double v = 0;
  const int unknown[] = {-1, 0, 4, NUM_KEYS, 1000, -2147483647 - 1};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    int key = unknown[i];
    CHECK(fer__param_row(&table, key) == NULL);
    CHECK_STATUS(fer__param_set(&table, "toy_set", &t, key, 1.0), FER_ERR_NOT_FOUND);
    CHECK_MESSAGE_CONTAINS("toy_set: toy key");
    CHECK_STATUS(fer__param_get(&table, "toy_get", &t, key, &v), FER_ERR_NOT_FOUND);
    CHECK_STATUS(fer__param_info(&table, "toy_info", key, NULL, NULL, NULL, NULL),
                 FER_ERR_NOT_FOUND);
    CHECK_STATUS(fer__param_set(&strict, "toy_set", &t, key, 1.0),
                 FER_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fer__param_get(&strict, "toy_get", &t, key, &v),
                 FER_ERR_INVALID_ARGUMENT);
  }
  CHECK_STATUS(fer__param_set(&table, "toy_set", &t, 4, 1.0), FER_ERR_NOT_FOUND);
  CHECK_MESSAGE_CONTAINS("key 4 is unknown");
  CHECK(fer__param_row(NULL, 1) == NULL);
}

/* Sets `value`, expects `want`, and on refusal checks the old value stays
 * and the message names the object, the setting and the range. */
static void expect_set(int key, double value, fer_status want, const char *range) {
  toy t = {0};
  fer__param_set_defaults(&table, &t);
  double before = 0, after = 0;
  CHECK_OK(fer__param_get(&table, "toy_get", &t, key, &before));
  fer_status st = fer__param_set(&table, "toy_set", &t, key, value);
  CHECK_MSG(st == want, "key %d = %.17g gave %s", key, value, fer_status_string(st));
  CHECK_OK(fer__param_get(&table, "toy_get", &t, key, &after));
  if (want == FER_OK) {
    CHECK_MSG(after == value, "key %d = %.17g stored %.17g", key, value, after);
  } else {
    CHECK(after == before);
    CHECK_MESSAGE_CONTAINS("toy_set: toy setting ");
    CHECK_MESSAGE_CONTAINS(rows[key].name);
    CHECK_MESSAGE_CONTAINS(range);
  }
}

static void test_bounds_of_each_kind(void) {
  const fer_status ok = FER_OK, bad = FER_ERR_INVALID_ARGUMENT;
  /* FLOAT [-0.5, 2.5]: both ends allowed, one ulp past refused. */
  expect_set(KEY_RATE, -0.5, ok, "");
  expect_set(KEY_RATE, 2.5, ok, "");
  expect_set(KEY_RATE, 0.1, ok, "");
  expect_set(KEY_RATE, nextafter(-0.5, -1.0), bad, "[-0.5, 2.5]");
  expect_set(KEY_RATE, nextafter(2.5, 3.0), bad, "[-0.5, 2.5]");
  /* INT [1, 100]. */
  expect_set(KEY_COUNT, 1, ok, "");
  expect_set(KEY_COUNT, 100, ok, "");
  expect_set(KEY_COUNT, 0, bad, "[1, 100]");
  expect_set(KEY_COUNT, 101, bad, "[1, 100]");
  expect_set(KEY_COUNT, nextafter(100.0, 0.0), bad, "whole number");
  expect_set(KEY_COUNT, 2.5, bad, "whole number in [1, 100]");
  /* BOOL. */
  expect_set(KEY_FLAG, 0, ok, "");
  expect_set(KEY_FLAG, 1, ok, "");
  expect_set(KEY_FLAG, 0.5, bad, "0 or 1");
  expect_set(KEY_FLAG, 2, bad, "[0, 1]");
  expect_set(KEY_FLAG, -1, bad, "[0, 1]");
  /* ENUM [2, 4]. */
  expect_set(KEY_MODE, 2, ok, "");
  expect_set(KEY_MODE, 4, ok, "");
  expect_set(KEY_MODE, 1, bad, "[2, 4]");
  expect_set(KEY_MODE, 5, bad, "[2, 4]");
  expect_set(KEY_MODE, 3.5, bad, "whole number");
  /* FLOAT (1, 4], stored outside the array: the minimum itself refused. */
  expect_set(KEY_SCALE, 1.0, bad, "(1, 4]");
  expect_set(KEY_SCALE, nextafter(1.0, 2.0), ok, "");
  expect_set(KEY_SCALE, 4.0, ok, "");
  expect_set(KEY_SCALE, nextafter(4.0, 5.0), bad, "(1, 4]");
}

static void test_non_finite_refused(void) {
  const int keys[] = {KEY_RATE, KEY_COUNT, KEY_FLAG, KEY_MODE, KEY_SCALE};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    expect_set(keys[i], NAN, FER_ERR_INVALID_ARGUMENT, "not a finite number");
    expect_set(keys[i], -NAN, FER_ERR_INVALID_ARGUMENT, "not a finite number");
    expect_set(keys[i], INFINITY, FER_ERR_INVALID_ARGUMENT, "not a finite number");
    expect_set(keys[i], -INFINITY, FER_ERR_INVALID_ARGUMENT, "not a finite number");
  }
  /* A table whose maximum is infinite still refuses infinity. */
  static const fer__param open_rows[] = {
      [1] = {"open", FER__PARAM_FLOAT, 0, INFINITY, 0, FER__PARAM_MIN_INCLUSIVE, 0}};
  static const fer__param_table open = FER__PARAM_TABLE("open", open_rows, FER_ERR_NOT_FOUND);
  double value = 0;
  CHECK_STATUS(fer__param_set(&open, "open_set", &value, 1, INFINITY), FER_ERR_INVALID_ARGUMENT);
  CHECK_OK(fer__param_set(&open, "open_set", &value, 1, 1e300));
  CHECK(value == 1e300);
}

static void test_check_without_storing(void) {
  const fer__param *row = NULL;
  CHECK_OK(fer__param_check(&table, "toy_check", KEY_COUNT, 5, &row));
  CHECK(row == &rows[KEY_COUNT]);
  CHECK_STATUS(fer__param_check(&table, "toy_check", KEY_COUNT, 500, &row),
               FER_ERR_INVALID_ARGUMENT);
  CHECK(row == &rows[KEY_COUNT]);
  CHECK_STATUS(fer__param_check(&table, "toy_check", 4, 1, &row), FER_ERR_NOT_FOUND);
  CHECK(row == NULL);
  CHECK_OK(fer__param_check(&table, "toy_check", KEY_FLAG, 1, NULL));
}

static void test_info_find_and_nulls(void) {
  const char *name = NULL;
  double lo = 0, hi = 0, def = 0;
  CHECK_OK(fer__param_info(&table, "toy_info", KEY_MODE, &name, &lo, &hi, &def));
  CHECK(name && strcmp(name, "mode") == 0);
  CHECK(lo == 2 && hi == 4 && def == 3);
  CHECK_OK(fer__param_info(&table, "toy_info", KEY_MODE, NULL, NULL, NULL, NULL));
  int key = -7;
  CHECK_OK(fer__param_find(&table, "toy_find", "scale", &key));
  CHECK_EQ_INT(key, KEY_SCALE);
  key = -7;
  CHECK_STATUS(fer__param_find(&table, "toy_find", "Scale", &key), FER_ERR_NOT_FOUND);
  CHECK_MESSAGE_CONTAINS("'Scale'");
  CHECK_MESSAGE_CONTAINS("toy");
  CHECK_EQ_INT(key, -7);
  CHECK_STATUS(fer__param_find(&table, "toy_find", "", &key), FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer__param_find(&table, "toy_find", NULL, &key), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("name is NULL");
  CHECK_STATUS(fer__param_find(&table, "toy_find", "rate", NULL), FER_ERR_INVALID_ARGUMENT);
  toy t = {0};
  CHECK_STATUS(fer__param_get(&table, "toy_get", &t, KEY_RATE, NULL), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("toy_get: value is NULL");
}

int main(void) {
  RUN(test_defaults_and_listing);
  RUN(test_unknown_keys);
  RUN(test_bounds_of_each_kind);
  RUN(test_non_finite_refused);
  RUN(test_check_without_storing);
  RUN(test_info_find_and_nulls);
  return harness_finish();
}
