/* The decisions of the built-in callbacks, as pure functions of a metric
 * sequence so that tests can script them: reduce-LR-on-plateau, early
 * stopping and best-model checkpoint, with Keras' conventions (a callback
 * with patience P acts after P epochs in a row without improvement). */
#include <math.h>

#include "train/trainer_internal.h"

void fer__tracker_reset(fer__tracker *t) {
  t->best = NAN;
  t->wait = 0;
  t->best_epoch = 0;
  t->cooldown = 0;
}

int fer__metric_mode_max(fer_train_metric metric) {
  return metric == FER_METRIC_ACCURACY || metric == FER_METRIC_VAL_ACCURACY;
}

int fer__tracker_improves(const fer__tracker *t, fer_train_metric metric,
                          double value, double min_delta) {
  if (!isfinite(value)) return 0;
  if (isnan(t->best)) return 1;
  return fer__metric_mode_max(metric) ? value > t->best + min_delta
                                      : value < t->best - min_delta;
}

double fer__plateau_update(fer__tracker *t, fer_train_metric metric,
                           double value, long epoch, double lr, double factor,
                           long patience, double min_lr, double min_delta) {
  if (t->cooldown > 0) t->cooldown--;
  if (fer__tracker_improves(t, metric, value, min_delta)) {
    t->best = value;
    t->best_epoch = epoch;
    t->wait = 0;
    return lr;
  }
  if (t->cooldown > 0) return lr; /* cooldown 0 for now: kept for Keras parity */
  if (++t->wait < patience) return lr;
  t->wait = 0;
  /* Keras cuts only while the rate is above the floor. */
  return lr > min_lr ? fmax(lr * factor, min_lr) : lr;
}

int fer__early_stop_update(fer__tracker *t, fer_train_metric metric,
                           double value, long epoch, long patience,
                           int *improved) {
  *improved = fer__tracker_improves(t, metric, value, 0.0);
  if (*improved) {
    t->best = value;
    t->best_epoch = epoch;
    t->wait = 0;
    return 0;
  }
  return ++t->wait >= patience;
}

int fer__checkpoint_update(fer__tracker *t, fer_train_metric metric,
                           double value, long epoch) {
  if (!fer__tracker_improves(t, metric, value, 0.0)) return 0;
  t->best = value;
  t->best_epoch = epoch;
  return 1;
}
