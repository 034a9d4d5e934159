/*
 * One window's arithmetic, shared by the scalar scan (scan.c) and the
 * batched scan (scan_batch.c). Inline so that each loop compiles it in, and
 * in one place so that both paths round exactly alike: the batched scan
 * hands windows over to these functions part-way through the cascade, and
 * its results must equal theirs bit for bit.
 */
#ifndef FER_DETECT_SCAN_EVAL_H
#define FER_DETECT_SCAN_EVAL_H

#include <math.h>

#include "detect/detect_internal.h"

/* Sum of a rectangle from its 4 corner offsets, modulo 2^32 as the tables. */
static inline int32_t fer__box_sum(const uint32_t *p, const int32_t ofs[4]) {
  return (int32_t)(p[ofs[0]] - p[ofs[1]] - p[ofs[2]] + p[ofs[3]]);
}

/* w0 * R0 + w1 * R1 [+ w2 * R2] in float, in that order (OpenCV's calc()). */
static inline float fer__haar_value(const fer__opt_feature *f, const uint32_t *sum,
                                    const uint32_t *tilted) {
  const uint32_t *p = f->tilted ? tilted : sum;
  float v = f->weight[0] * (float)fer__box_sum(p, &f->ofs[0]) +
            f->weight[1] * (float)fer__box_sum(p, &f->ofs[4]);
  if (f->weight[2] != 0.0f) v += f->weight[2] * (float)fer__box_sum(p, &f->ofs[8]);
  return v;
}

/* The window's 1 / nf with nf = sqrt(area * sumsq - sum^2) over the inner
 * rectangle, or 0 when the scan rejects the window as flat (nf <= 0, or
 * area / nf >= 0.1, i.e. a standard deviation below 10 grey levels). */
static inline float fer__window_inv_norm(const fer__scan_plan *plan, const uint32_t *sum,
                                         const uint32_t *sqsum) {
  int32_t valsum = fer__box_sum(sum, plan->norm_ofs);
  uint32_t valsqsum = (uint32_t)fer__box_sum(sqsum, plan->norm_ofs);
  double nf = plan->norm_area * valsqsum - (double)valsum * valsum;
  if (!(nf > 0.)) return 0.f;
  float inv_nf = (float)(1. / sqrt(nf));
  if (!(plan->norm_area * inv_nf < 1e-1)) return 0.f;
  return inv_nf;
}

/* Stages first_stage.. of a cascade of Haar stumps on one window whose
 * 1 / nf is inv_nf. Returns runAt()'s convention (see fer__scan_window):
 * 1 and the last stage sum when every stage passes, else -stage (0 for
 * stage 0) and that stage's sum. Stage sums add in double, as OpenCV. */
static inline int fer__haar_stumps_from(const fer__scan_plan *plan, const uint32_t *sum,
                                        const uint32_t *tilted, float inv_nf,
                                        int32_t first_stage, double *score) {
  const fer_cascade *c = plan->cascade;
  double stage_sum = 0;
  for (int32_t si = first_stage; si < c->stage_count; si++) {
    const fer__cascade_stage *st = &c->stages[si];
    const fer__opt_stump *s = plan->stumps + st->first_tree;
    stage_sum = 0;
    for (int32_t i = 0; i < st->tree_count; i++, s++) {
      double value = fer__haar_value(&s->f, sum, tilted) * inv_nf;
      stage_sum += s->leaf[!(value < s->threshold)];
    }
    if (stage_sum < st->threshold) {
      *score = stage_sum;
      return -si;
    }
  }
  *score = stage_sum;
  return 1;
}

#endif
