/*
 * The row scan for Haar cascades of stumps, LANES adjacent windows at once.
 *
 * Windows x, x + step, ..., x + (LANES - 1) step of a row read integral
 * entries at the same offsets from LANES consecutive (step 1) or every
 * other (step 2) columns, so each corner of each rectangle is one vector
 * load (two and a shuffle at step 2). Every lane does the scalar arithmetic
 * of scan_eval.h operation for operation (int32 corner sums, float feature
 * value times 1/nf, double stage sum), so its result is the scalar one bit
 * for bit.
 *
 * A batch runs:
 *  1. the variance normalisation per lane (scalar, fer__window_inv_norm);
 *  2. stage 0 on all lanes;
 *  3. OpenCV's "skip the next window after a stage-0 rejection" replayed in
 *     order over the lanes (carried over from the previous batch): a lane
 *     the rule skips was never evaluated, so it is dropped whatever it gave;
 *  4. later stages on all lanes while at least MIN_LANES are alive (dead
 *     lanes ride along and their sums are ignored), then the survivors one
 *     by one through the scalar code from the stage reached.
 * The last windows of a row that do not fill a batch go through the scalar
 * code, which also keeps every load inside the integral images.
 */
#include <string.h>

#include "detect/detect_internal.h"
#include "detect/scan_eval.h"

#if defined(__GNUC__) || defined(__clang__)

#define LANES 8
/* Below this many live lanes a vector stage costs more than the scalar
 * windows it replaces. */
#define MIN_LANES 3

typedef uint32_t lanes_u32 __attribute__((vector_size(LANES * sizeof(uint32_t))));
typedef int32_t lanes_i32 __attribute__((vector_size(LANES * sizeof(int32_t))));
typedef float lanes_f32 __attribute__((vector_size(LANES * sizeof(float))));
typedef double lanes_f64 __attribute__((vector_size(LANES * sizeof(double))));

#define INLINE static inline __attribute__((always_inline))
/* The compilers note that vectors wider than SSE pass differently with
 * AVX; these helpers are all inlined here, so no call crosses that ABI. */
#if defined(__clang__)
#if __has_warning("-Wpsabi")
#pragma clang diagnostic ignored "-Wpsabi"
#endif
#else
#pragma GCC diagnostic ignored "-Wpsabi"
#endif

INLINE lanes_f32 splat_f32(float x) {
  lanes_f32 v;
  for (int k = 0; k < LANES; k++) v[k] = x;
  return v;
}

INLINE lanes_i32 splat_i32(int32_t x) {
  lanes_i32 v;
  for (int k = 0; k < LANES; k++) v[k] = x;
  return v;
}

/* Integral entries p[0], p[step], ..., p[(LANES - 1) step]; step 2 reads
 * p[2 LANES - 1] too, which the caller keeps in bounds. */
INLINE lanes_u32 load_lanes(const uint32_t *p, int step) {
  lanes_u32 a;
  memcpy(&a, p, sizeof a);
  if (step == 1) return a;
  lanes_u32 b;
  memcpy(&b, p + LANES, sizeof b);
  return __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14);
}

INLINE lanes_f32 box_lanes(const uint32_t *p, const int32_t ofs[4], int step) {
  lanes_u32 s = load_lanes(p + ofs[0], step) - load_lanes(p + ofs[1], step) -
                load_lanes(p + ofs[2], step) + load_lanes(p + ofs[3], step);
  return __builtin_convertvector((lanes_i32)s, lanes_f32);
}

/* fer__haar_value on every lane. */
INLINE lanes_f32 haar_lanes(const fer__opt_feature *f, const uint32_t *sum,
                            const uint32_t *tilted, int step) {
  const uint32_t *p = f->tilted ? tilted : sum;
  lanes_f32 v = splat_f32(f->weight[0]) * box_lanes(p, &f->ofs[0], step) +
                splat_f32(f->weight[1]) * box_lanes(p, &f->ofs[4], step);
  if (f->weight[2] != 0.0f) v += splat_f32(f->weight[2]) * box_lanes(p, &f->ofs[8], step);
  return v;
}

INLINE int32_t float_bits(float x) {
  int32_t b;
  memcpy(&b, &x, sizeof b);
  return b;
}

/* One stage's sum on every lane, as fer__haar_stumps_from adds it. */
INLINE lanes_f64 stage_lanes(const fer__scan_plan *plan, const fer__cascade_stage *st,
                             const uint32_t *sum, const uint32_t *tilted, lanes_f32 inv_nf,
                             int step) {
  const fer__opt_stump *s = plan->stumps + st->first_tree;
  lanes_f64 stage_sum = {0};
  for (int32_t i = 0; i < st->tree_count; i++, s++) {
    lanes_f32 value = haar_lanes(&s->f, sum, tilted, step) * inv_nf;
    lanes_i32 go_left = value < splat_f32(s->threshold);
    lanes_i32 leaf = (go_left & splat_i32(float_bits(s->left))) |
                     (~go_left & splat_i32(float_bits(s->right)));
    stage_sum += __builtin_convertvector((lanes_f32)leaf, lanes_f64);
  }
  return stage_sum;
}

/* Bit k set when lane k's stage sum is below the stage threshold. */
INLINE unsigned below_threshold(lanes_f64 stage_sum, float threshold) {
  unsigned mask = 0;
  for (int k = 0; k < LANES; k++) mask |= (unsigned)(stage_sum[k] < threshold) << k;
  return mask;
}

/* The scalar scan of one window (scan.c's haar_window for stumps). */
INLINE int window_scalar(const fer__scan_plan *plan, const fer__level_view *v, size_t offset,
                         double *score) {
  const uint32_t *sum = v->sum + offset;
  float inv_nf = fer__window_inv_norm(plan, sum, v->sqsum + offset);
  if (inv_nf == 0.f) return -1;
  return fer__haar_stumps_from(plan, sum, v->tilted ? v->tilted + offset : sum, inv_nf, 0, score);
}

/* One batch of windows from `offset`; *skip carries the skip rule in and
 * out. Writes the lane numbers and scores of passing windows in order and
 * returns how many. */
INLINE int scan_batch(const fer__scan_plan *plan, const fer__level_view *v, size_t offset,
                      int step, int *skip, int *lanes, double *scores) {
  const fer_cascade *c = plan->cascade;
  const uint32_t *sum = v->sum + offset, *sqsum = v->sqsum + offset;
  const uint32_t *tilted = v->tilted ? v->tilted + offset : sum;
  float inv[LANES];
  unsigned alive = 0;
  for (int k = 0; k < LANES; k++) {
    inv[k] = fer__window_inv_norm(plan, sum + k * step, sqsum + k * step);
    alive |= (unsigned)(inv[k] != 0.f) << k;
  }
  unsigned rejected0 = 0;
  lanes_f64 stage_sum = {0};
  lanes_f32 inv_nf;
  memcpy(&inv_nf, inv, sizeof inv_nf);
  if (alive) {
    stage_sum = stage_lanes(plan, &c->stages[0], sum, tilted, inv_nf, step);
    rejected0 = below_threshold(stage_sum, c->stages[0].threshold) & alive;
  }
  /* Flat windows return -1, which skips nothing. */
  unsigned skipped = 0;
  for (int k = 0; k < LANES; k++) {
    if (*skip) {
      skipped |= 1u << k;
      *skip = 0;
    } else {
      *skip = (int)((rejected0 >> k) & 1u);
    }
  }
  alive &= ~(rejected0 | skipped);
  int32_t si = 1;
  for (; si < c->stage_count && __builtin_popcount(alive) >= MIN_LANES; si++) {
    stage_sum = stage_lanes(plan, &c->stages[si], sum, tilted, inv_nf, step);
    alive &= ~below_threshold(stage_sum, c->stages[si].threshold);
  }
  int found = 0;
  for (int k = 0; k < LANES; k++) {
    if (!((alive >> k) & 1u)) continue;
    double score = stage_sum[k];
    if (si < c->stage_count &&
        fer__haar_stumps_from(plan, sum + k * step, tilted + k * step, inv[k], si, &score) <= 0)
      continue;
    lanes[found] = k;
    scores[found++] = score;
  }
  return found;
}

INLINE int scan_row_lanes(const fer__scan_plan *plan, const fer__level_view *v,
                          size_t row_offset, int cols, int step, int32_t *xs, double *scores) {
  int found = 0, skip = 0, x = 0;
  /* x + LANES step <= cols keeps step 2's extra load in the row. */
  for (; x + LANES * step <= cols; x += LANES * step) {
    int lanes[LANES];
    int n = scan_batch(plan, v, row_offset + (size_t)x, step, &skip, lanes, scores + found);
    for (int i = 0; i < n; i++) xs[found + i] = x + lanes[i] * step;
    found += n;
  }
  for (; x < cols; x += step) {
    if (skip) {
      skip = 0;
      continue;
    }
    double score = 0;
    int result = window_scalar(plan, v, row_offset + (size_t)x, &score);
    if (result > 0) {
      xs[found] = x;
      scores[found++] = score;
    }
    skip = result == 0;
  }
  return found;
}

int fer__scan_row_batched(const fer__scan_plan *plan, const fer__level_view *v, size_t row_offset,
                          int cols, int step, int32_t *xs, double *scores) {
  /* One copy per step, so that the loads compile to their best form. */
  if (plan->cascade->stage_count > 0 && step == 1)
    return scan_row_lanes(plan, v, row_offset, cols, 1, xs, scores);
  if (plan->cascade->stage_count > 0 && step == 2)
    return scan_row_lanes(plan, v, row_offset, cols, 2, xs, scores);
  return fer__scan_row_scalar(plan, v, row_offset, cols, step, xs, scores);
}

#else /* no vector extensions: the scalar scan */

int fer__scan_row_batched(const fer__scan_plan *plan, const fer__level_view *v, size_t row_offset,
                          int cols, int step, int32_t *xs, double *scores) {
  return fer__scan_row_scalar(plan, v, row_offset, cols, step, xs, scores);
}

#endif
