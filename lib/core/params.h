/*
 * Keyed settings, one table per object (trainer, optimizer, schedule,
 * augmenter, detector, cascade trainer, tracker, analyzer).
 *
 * Every public setting is a double held inside its object; a table row says
 * where (a byte offset), what kind of number it is and which values are
 * allowed. The functions here do the finding, checking, storing and
 * reading, so every object validates and words its messages the same way:
 *
 *   "fer_trainer_set: trainer setting epochs = 0 is outside [1, 100000]"
 *
 * Rows are indexed by key; a row whose name is NULL is an unused key.
 * Nothing here is exported.
 */
#ifndef FER_CORE_PARAMS_H
#define FER_CORE_PARAMS_H

#include <stddef.h>

#include "fer/core.h"

typedef enum fer__param_kind {
  FER__PARAM_FLOAT = 1, /* any finite value in range */
  FER__PARAM_INT = 2,   /* a whole number in range */
  FER__PARAM_BOOL = 3,  /* 0 or 1 (the range is [0, 1]) */
  FER__PARAM_ENUM = 4   /* a whole number that is one of a public enum's values */
} fer__param_kind;

/* min_exclusive: the range is (min, max] rather than [min, max], for values
 * such as a scale factor that must stay above 1. */
enum { FER__PARAM_MIN_INCLUSIVE = 0, FER__PARAM_MIN_EXCLUSIVE = 1 };

typedef struct fer__param {
  const char *name; /* NULL: no setting has this key */
  fer__param_kind kind;
  double min_value, max_value, default_value;
  int min_exclusive;
  size_t offset; /* of the double inside the object */
} fer__param;

typedef struct fer__param_table {
  const char *object;     /* the noun in messages: "trainer" */
  const fer__param *rows; /* indexed by key */
  int count;              /* keys are 0 .. count - 1 */
  /* What an unknown key returns. The public contracts were written one
   * object at a time and differ (FER_ERR_NOT_FOUND for most, the optimizer
   * and schedule say FER_ERR_INVALID_ARGUMENT); the table keeps each one. */
  fer_status unknown_key;
} fer__param_table;

/* A table over a static array of rows. */
#define FER__PARAM_TABLE(object, rows, unknown_key) \
  {(object), (rows), (int)(sizeof(rows) / sizeof((rows)[0])), (unknown_key)}

/* The offset of element `key` of a double array member, for objects that
 * keep their settings as `double array[count]` indexed by key. */
#define FER__PARAM_SLOT(type, array, key) \
  (offsetof(type, array) + (size_t)(key) * sizeof(double))

/* The row of `key` for an object that keeps its values in a double array
 * member indexed by key (the usual layout). */
#define FER__PARAM_AT(type, array, key, name, kind, min, max, def, min_rule) \
  [key] = {(name), (kind), (min), (max), (def), (min_rule),                  \
           FER__PARAM_SLOT(type, array, key)}

/* The row of `key`, or NULL when the table has no such key. */
const fer__param *fer__param_row(const fer__param_table *table, int key);

/* Whether `value` is allowed for `row`: finite, in range, whole for the
 * integer kinds. On refusal, FER_ERR_INVALID_ARGUMENT with a message
 * "<who>: <object> setting <name> = <value> <reason and allowed range>". */
fer_status fer__param_check_value(const fer__param_table *table,
                                  const char *who, const fer__param *row,
                                  double value);

/* Finds `key` and checks `value` without storing it, for objects that must
 * do more before a value takes effect. *row (may be NULL) gets the row.
 * Statuses: FER_OK; table->unknown_key; FER_ERR_INVALID_ARGUMENT. */
fer_status fer__param_check(const fer__param_table *table, const char *who,
                            int key, double value, const fer__param **row);

/* Checks and stores a value into `object`; a refused value leaves the old
 * one. Statuses as fer__param_check. */
fer_status fer__param_set(const fer__param_table *table, const char *who,
                          void *object, int key, double value);

/* Reads a value. Statuses: FER_OK; FER_ERR_INVALID_ARGUMENT when value is
 * NULL; table->unknown_key for an unknown key. */
fer_status fer__param_get(const fer__param_table *table, const char *who,
                          const void *object, int key, double *value);

/* Name, range and default of a key; every output may be NULL.
 * Statuses: FER_OK; table->unknown_key. */
fer_status fer__param_info(const fer__param_table *table, const char *who,
                           int key, const char **name, double *min_value,
                           double *max_value, double *default_value);

/* The key called `name`. Statuses: FER_OK; FER_ERR_INVALID_ARGUMENT for a
 * NULL argument; FER_ERR_NOT_FOUND when no setting has that name. */
fer_status fer__param_find(const fer__param_table *table, const char *who,
                           const char *name, int *key);

/* Lists the keys in order: the first key after `key` (pass -1 to start),
 * or -1 after the last. */
int fer__param_next(const fer__param_table *table, int key);

/* Stores every default into `object`. */
void fer__param_set_defaults(const fer__param_table *table, void *object);

/* The stored value of a row, without checks (the caller knows the row). */
double fer__param_value(const fer__param *row, const void *object);

#endif /* FER_CORE_PARAMS_H */
