/* The fer_metrics layout, shared by the accumulator (metrics.c), the report
 * writers (metrics_report.c) and the confusion chart (chart_confusion.c). */
#ifndef FER_NN_METRICS_INTERNAL_H
#define FER_NN_METRICS_INTERNAL_H

#include <stdint.h>

#include "fer/data.h"

struct fer_metrics {
  uint32_t magic;
  int num_classes;
  char **class_names;  /* owned */
  uint64_t *confusion; /* num_classes^2, row = true class, column = predicted */
  uint64_t count;      /* samples added */
  double loss_sum;     /* sum of -ln p(true class) */
  uint64_t loss_count; /* samples added with probabilities */
};

fer_status fer__metrics_check(const fer_metrics *m, const char *who);

/* Per-class figures for a valid `label`. */
void fer__metrics_stats(const fer_metrics *m, int label, double *precision,
                        double *recall, double *f1, uint64_t *support);

#endif
