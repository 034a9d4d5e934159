/* Keyed settings: find, check, store, read and list through one table per
 * object (see params.h). */
#include "core/params.h"

#include <math.h>
#include <string.h>

#include "core/core_internal.h"

const fer__param *fer__param_row(const fer__param_table *table, int key) {
  if (!table || key < 0 || key >= table->count) return NULL;
  const fer__param *row = &table->rows[key];
  return row->name ? row : NULL;
}

static fer_status unknown_key(const fer__param_table *table, const char *who,
                              int key) {
  return fer__fail(table->unknown_key, "%s: %s key %d is unknown", who,
                   table->object, key);
}

fer_status fer__param_check_value(const fer__param_table *table,
                                  const char *who, const fer__param *row,
                                  double value) {
  const char *open = row->min_exclusive ? "(" : "[";
  /* NaN fails every comparison and infinities lie outside every range, but
   * saying "not finite" tells the caller what went wrong. */
  if (!isfinite(value))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %s setting %s = %g is not a finite number "
                     "(allowed: %s%g, %g])",
                     who, table->object, row->name, value, open,
                     row->min_value, row->max_value);
  int below = row->min_exclusive ? !(value > row->min_value)
                                 : !(value >= row->min_value);
  if (below || !(value <= row->max_value))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %s setting %s = %g is outside %s%g, %g]", who,
                     table->object, row->name, value, open, row->min_value,
                     row->max_value);
  if (row->kind == FER__PARAM_BOOL && value != 0.0 && value != 1.0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %s setting %s = %g must be 0 or 1 (a whole number)",
                     who, table->object, row->name, value);
  if ((row->kind == FER__PARAM_INT || row->kind == FER__PARAM_ENUM) &&
      value != floor(value))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %s setting %s = %g must be a whole number in "
                     "%s%g, %g]",
                     who, table->object, row->name, value, open,
                     row->min_value, row->max_value);
  return FER_OK;
}

fer_status fer__param_check(const fer__param_table *table, const char *who,
                            int key, double value, const fer__param **row) {
  const fer__param *found = fer__param_row(table, key);
  if (row) *row = found;
  if (!found) return unknown_key(table, who, key);
  return fer__param_check_value(table, who, found, value);
}

static double *slot(const fer__param *row, void *object) {
  return (double *)((char *)object + row->offset);
}

double fer__param_value(const fer__param *row, const void *object) {
  return *(const double *)((const char *)object + row->offset);
}

fer_status fer__param_set(const fer__param_table *table, const char *who,
                          void *object, int key, double value) {
  const fer__param *row;
  fer_status st = fer__param_check(table, who, key, value, &row);
  if (st != FER_OK) return st;
  *slot(row, object) = value;
  return FER_OK;
}

fer_status fer__param_get(const fer__param_table *table, const char *who,
                          const void *object, int key, double *value) {
  if (!value)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: value is NULL", who);
  const fer__param *row = fer__param_row(table, key);
  if (!row) return unknown_key(table, who, key);
  *value = fer__param_value(row, object);
  return FER_OK;
}

fer_status fer__param_info(const fer__param_table *table, const char *who,
                           int key, const char **name, double *min_value,
                           double *max_value, double *default_value) {
  const fer__param *row = fer__param_row(table, key);
  if (!row) return unknown_key(table, who, key);
  if (name) *name = row->name;
  if (min_value) *min_value = row->min_value;
  if (max_value) *max_value = row->max_value;
  if (default_value) *default_value = row->default_value;
  return FER_OK;
}

fer_status fer__param_find(const fer__param_table *table, const char *who,
                           const char *name, int *key) {
  if (!name || !key)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", who,
                     !name ? "name" : "key");
  for (int k = fer__param_next(table, -1); k >= 0; k = fer__param_next(table, k))
    if (strcmp(table->rows[k].name, name) == 0) {
      *key = k;
      return FER_OK;
    }
  return fer__fail(FER_ERR_NOT_FOUND, "%s: no %s setting called '%s'", who,
                   table->object, name);
}

int fer__param_next(const fer__param_table *table, int key) {
  for (int k = key < 0 ? 0 : key + 1; k < table->count; k++)
    if (table->rows[k].name) return k;
  return -1;
}

void fer__param_set_defaults(const fer__param_table *table, void *object) {
  for (int k = fer__param_next(table, -1); k >= 0; k = fer__param_next(table, k))
    *slot(&table->rows[k], object) = table->rows[k].default_value;
}
