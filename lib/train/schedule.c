/* Learning-rate schedules, one call per epoch (PyTorch's StepLR,
 * CosineAnnealingLR clamped at T_max, ReduceLROnPlateau with a relative
 * threshold). Settings through keyed setters driven by one table. */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "core/params.h"
#include "train/optim_internal.h"
#include "util/endian.h"

/* The one table behind set, get, bounds and the state file (which writes
 * the values in key order): key, name, min, max, default, field. Every row
 * is FLOAT: counts such as step_size have always accepted fractions (the
 * step schedule divides by it) and mode_max any value (nonzero means max). */
#define ROW(key, name, min, max, def, member)                                \
  [key] = {(name), FER__PARAM_FLOAT, (min), (max), (def),                  \
           FER__PARAM_MIN_INCLUSIVE, offsetof(fer_schedule, member)}
static const fer__param rows[] = {
  ROW(FER_SCHED_STEP_SIZE, "step_size", 1, 1e9, 10, step_size),
  ROW(FER_SCHED_GAMMA, "gamma", 0.0, 1.0, 0.1, gamma),
  ROW(FER_SCHED_T_MAX, "t_max", 1, 1e9, 50, t_max),
  ROW(FER_SCHED_MIN_LR, "min_lr", 0.0, 10.0, 0.0, min_lr),
  ROW(FER_SCHED_FACTOR, "factor", 0.0, 0.999999, 0.1, factor),
  ROW(FER_SCHED_PATIENCE, "patience", 0, 1e9, 10, patience),
  ROW(FER_SCHED_MODE_MAX, "mode_max", 0, 1, 0, mode_max),
  ROW(FER_SCHED_THRESHOLD, "threshold", 0.0, 1.0, 1e-4, threshold),
  ROW(FER_SCHED_COOLDOWN, "cooldown", 0, 1e9, 0, cooldown),
};
#undef ROW
_Static_assert(FER__ARRAY_LEN(rows) == FER_SCHED_COOLDOWN + 1,
               "one table row per schedule key");
static const fer__param_table params =
    FER__PARAM_TABLE("schedule", rows, FER_ERR_INVALID_ARGUMENT);
enum { NUM_VALUES = FER_SCHED_COOLDOWN }; /* keys 1..9, as written in state */

static fer_status check_sched(const fer_schedule *s, const char *who) {
  if (!s || s->magic != FER__SCHEDULE_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: schedule is NULL or not live", who);
  return FER_OK;
}

static void reset_state(fer_schedule *s) {
  s->epoch = 0;
  s->base_lr = 0.0;
  s->best = s->mode_max != 0.0 ? -HUGE_VAL : HUGE_VAL;
  s->bad_epochs = 0;
  s->cooldown_left = 0;
  s->current_lr = 0.0;
}

fer_status fer_schedule_create(fer_schedule_kind kind, fer_schedule **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_schedule_create: out is NULL");
  *out = NULL;
  if (kind < FER_SCHEDULE_STEP || kind > FER_SCHEDULE_PLATEAU)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_schedule_create: kind %d is unknown", (int)kind);
  fer_schedule *s = fer__calloc(1, sizeof *s);
  if (!s) return fer__fail(FER_ERR_OUT_OF_MEMORY, "schedule: out of memory");
  s->magic = FER__SCHEDULE_MAGIC;
  s->kind = kind;
  fer__param_set_defaults(&params, s);
  reset_state(s);
  *out = s;
  return FER_OK;
}

void fer_schedule_free(fer_schedule *s) {
  if (!s || s->magic != FER__SCHEDULE_MAGIC) return;
  s->magic = 0;
  fer__free(s);
}

fer_status fer_schedule_set(fer_schedule *s, fer_schedule_param key,
                            double value) {
  fer_status st = check_sched(s, "fer_schedule_set");
  if (!st) st = fer__param_set(&params, "fer_schedule_set", s, (int)key, value);
  if (st) return st;
  if (key == FER_SCHED_MODE_MAX && s->epoch == 0) reset_state(s);
  return FER_OK;
}

fer_status fer_schedule_get(const fer_schedule *s, fer_schedule_param key,
                            double *value) {
  fer_status st = check_sched(s, "fer_schedule_get");
  return st ? st : fer__param_get(&params, "fer_schedule_get", s, (int)key, value);
}

fer_status fer_schedule_param_info(fer_schedule_param key, const char **name,
                                   double *default_value, double *min_value,
                                   double *max_value) {
  return fer__param_info(&params, "fer_schedule_param_info", (int)key, name,
                         min_value, max_value, default_value);
}

static int improved(const fer_schedule *s, double metric) {
  if (s->mode_max != 0.0) return metric > s->best * (1.0 + s->threshold) ||
                                 (s->best == -HUGE_VAL);
  return metric < s->best * (1.0 - s->threshold) || s->best == HUGE_VAL;
}

fer_status fer_schedule_step(fer_schedule *s, fer_optimizer *opt, double metric) {
  fer_status st = check_sched(s, "fer_schedule_step");
  if (st) return st;
  if (!opt || opt->magic != FER__OPTIMIZER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "fer_schedule_step: optimizer is NULL or not live");
  if (s->kind == FER_SCHEDULE_PLATEAU && !isfinite(metric))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_schedule_step: metric %g is not finite", metric);
  if (s->epoch == 0) s->base_lr = opt->lr;
  s->epoch++;
  double lr = opt->lr;
  if (s->kind == FER_SCHEDULE_STEP) {
    lr = s->base_lr * pow(s->gamma, floor((double)s->epoch / s->step_size));
  } else if (s->kind == FER_SCHEDULE_COSINE) {
    double e = FER__MIN((double)s->epoch, s->t_max);
    lr = s->min_lr + (s->base_lr - s->min_lr) * (1.0 + cos(3.14159265358979323846 * e / s->t_max)) / 2.0;
  } else {
    if (improved(s, metric)) {
      s->best = metric;
      s->bad_epochs = 0;
    } else {
      s->bad_epochs++;
    }
    if (s->cooldown_left > 0) {
      s->cooldown_left--;
      s->bad_epochs = 0;
    }
    if (s->bad_epochs > (long)s->patience) {
      double cut = FER__MAX(lr * s->factor, s->min_lr);
      if (lr - cut > 1e-12) lr = cut;
      s->cooldown_left = (long)s->cooldown;
      s->bad_epochs = 0;
    }
  }
  /* The optimizer's bounds still hold: a rate cannot reach zero. */
  if (lr < 1e-12) lr = 1e-12;
  opt->lr = lr;
  s->current_lr = lr;
  return FER_OK;
}

/* ---- State for resumable training ---- */

static void put_f64(fer__buf *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  fer__buf_u64le(b, u);
}

static double get_f64(const uint8_t *p) {
  uint64_t u = fer__get_u64le(p);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

enum { SCHED_RECORD = 4 + 9 * 8 + 8 + 8 + 8 + 8 + 8 + 8 };

void fer__schedule_serialize(const fer_schedule *s, fer__buf *out) {
  fer__buf_append(out, "SCH1", 4);
  fer__buf_u32le(out, SCHED_RECORD);
  fer__buf_u32le(out, (uint32_t)s->kind);
  for (int k = 1; k <= NUM_VALUES; k++) put_f64(out, fer__param_value(&rows[k], s));
  fer__buf_u64le(out, (uint64_t)s->epoch);
  put_f64(out, s->base_lr);
  put_f64(out, s->best);
  fer__buf_u64le(out, (uint64_t)s->bad_epochs);
  fer__buf_u64le(out, (uint64_t)s->cooldown_left);
  put_f64(out, s->current_lr);
}

fer_status fer__schedule_restore(fer_schedule *s, const uint8_t *data,
                                 size_t size, size_t *offset) {
  size_t at = *offset;
  if (size < at || size - at < 8 || memcmp(data + at, "SCH1", 4) != 0)
    return fer__fail(FER_ERR_FORMAT, "schedule state: no SCH1 record at byte %zu", at);
  if (fer__get_u32le(data + at + 4) != SCHED_RECORD)
    return fer__fail(FER_ERR_FORMAT, "schedule state: record size is not %d",
                     SCHED_RECORD);
  if (size - at - 8 < SCHED_RECORD)
    return fer__fail(FER_ERR_TRUNCATED, "schedule state: truncated at byte %zu", size);
  const uint8_t *p = data + at + 8;
  if ((fer_schedule_kind)fer__get_u32le(p) != s->kind)
    return fer__fail(FER_ERR_FORMAT, "schedule state: written by another schedule kind");
  double values[NUM_VALUES + 1];
  for (int k = 1; k <= NUM_VALUES; k++) {
    values[k] = get_f64(p + 4 + 8 * (size_t)(k - 1));
    if (fer__param_check_value(&params, "schedule state", &rows[k], values[k]))
      return fer__fail(FER_ERR_FORMAT, "schedule state: %s out of bounds",
                       rows[k].name);
  }
  const uint8_t *q = p + 4 + 8 * (size_t)NUM_VALUES;
  uint64_t epoch = fer__get_u64le(q), bad = fer__get_u64le(q + 24),
           cool = fer__get_u64le(q + 32);
  if (epoch > (1ull << 40) || bad > (1ull << 40) || cool > (1ull << 40))
    return fer__fail(FER_ERR_FORMAT, "schedule state: counters out of range");
  for (int k = 1; k <= NUM_VALUES; k++) /* each checked above */
    (void)fer__param_set(&params, "schedule state", s, k, values[k]);
  s->epoch = (long)epoch;
  s->base_lr = get_f64(q + 8);
  s->best = get_f64(q + 16);
  s->bad_epochs = (long)bad;
  s->cooldown_left = (long)cool;
  s->current_lr = get_f64(q + 40);
  *offset = at + 8 + SCHED_RECORD;
  return FER_OK;
}
