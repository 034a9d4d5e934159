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
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "detect/detect_internal.h"
#include "detect/scan_eval.h"

#if defined(__GNUC__) || defined(__clang__)

#define LANES 8
/* Later stages stay in vectors while this many lanes live. On both face
 * cascades anything from 1 to 5 measured the same within noise (a vector
 * stage with 1 or 2 live lanes costs about what those windows cost alone);
 * 4 lanes per batch instead of 8 measured the same too. */
#define MIN_LANES 3

/* 128-bit vectors (SSE2, NEON): compilers lower wider generic vectors to
 * these badly (per-lane compares), so a batch is LANES / 4 groups of
 * four lanes, written out. An AVX2 copy with 256-bit vectors, chosen at
 * run time, was slower on this code (and the 128-bit one with AVX2's
 * encoding only ~5% faster), so there is none. */
#define QUAD 4
#define QUADS (LANES / QUAD)
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));

#define INLINE static inline __attribute__((always_inline))

INLINE f32x4 splat_f32(float x) {
  f32x4 v = {x, x, x, x};
  return v;
}

INLINE i32x4 splat_bits(float x) {
  int32_t b;
  memcpy(&b, &x, sizeof b);
  i32x4 v = {b, b, b, b};
  return v;
}

/* Integral entries p[0], p[step], p[2 step], p[3 step]; step 2 reads p[7]
 * too, which the caller keeps in bounds. */
INLINE u32x4 load_quad(const uint32_t *p, int step) {
  u32x4 a;
  memcpy(&a, p, sizeof a);
  if (step == 1) return a;
  u32x4 b;
  memcpy(&b, p + QUAD, sizeof b);
  return __builtin_shufflevector(a, b, 0, 2, 4, 6);
}

/* fer__box_sum on four lanes, then to float as (float)int32. */
INLINE f32x4 box_quad(const uint32_t *p, const int32_t ofs[4], int step) {
  u32x4 s = load_quad(p + ofs[0], step) - load_quad(p + ofs[1], step) -
            load_quad(p + ofs[2], step) + load_quad(p + ofs[3], step);
  return __builtin_convertvector((i32x4)s, f32x4);
}

/* Lanes 0, 1 (low) and 2, 3 (high) of a float vector in double: GCC
 * turns the generic form into one conversion per lane, hence cvtps2pd. */
INLINE f64x2 low_to_double(f32x4 v) {
#if defined(__SSE2__)
  return (f64x2)_mm_cvtps_pd((__m128)v);
#else
  return __builtin_convertvector(__builtin_shufflevector(v, v, 0, 1), f64x2);
#endif
}

INLINE f64x2 high_to_double(f32x4 v) {
#if defined(__SSE2__)
  return (f64x2)_mm_cvtps_pd(_mm_movehl_ps((__m128)v, (__m128)v));
#else
  return __builtin_convertvector(__builtin_shufflevector(v, v, 2, 3), f64x2);
#endif
}

/* Lane sums of one stage: sums[2 q] holds lanes 4q, 4q + 1 of quad q,
 * sums[2 q + 1] lanes 4q + 2, 4q + 3. */
typedef struct stage_sums {
  f64x2 sums[2 * QUADS];
} stage_sums;

/* One stage on every lane, stump for stump as fer__haar_stumps_from: the
 * float value w0 R0 + w1 R1 [+ w2 R2] times 1/nf, its leaf, added to the
 * lane's sum in double. */
INLINE stage_sums stage_lanes(const fer__scan_plan *plan, const fer__cascade_stage *st,
                              const uint32_t *sum, const uint32_t *tilted,
                              const f32x4 inv_nf[QUADS], int step) {
  const fer__opt_stump *s = plan->stumps + st->first_tree;
  stage_sums out;
  for (int i = 0; i < 2 * QUADS; i++) out.sums[i] = (f64x2){0, 0};
  for (int32_t i = 0; i < st->tree_count; i++, s++) {
    const fer__opt_feature *f = &s->f;
    const uint32_t *p = f->tilted ? tilted : sum;
    f32x4 value[QUADS];
    for (int q = 0; q < QUADS; q++) {
      const uint32_t *pq = p + q * QUAD * step;
      value[q] = splat_f32(f->weight[0]) * box_quad(pq, &f->ofs[0], step) +
                 splat_f32(f->weight[1]) * box_quad(pq, &f->ofs[4], step);
    }
    if (f->weight[2] != 0.0f)
      for (int q = 0; q < QUADS; q++)
        value[q] += splat_f32(f->weight[2]) * box_quad(p + q * QUAD * step, &f->ofs[8], step);
    i32x4 left = splat_bits(s->leaf[0]), right = splat_bits(s->leaf[1]);
    f32x4 threshold = splat_f32(s->threshold);
    for (int q = 0; q < QUADS; q++) {
      i32x4 go_left = value[q] * inv_nf[q] < threshold;
      f32x4 leaf = (f32x4)((go_left & left) | (~go_left & right));
      out.sums[2 * q] += low_to_double(leaf);
      out.sums[2 * q + 1] += high_to_double(leaf);
    }
  }
  return out;
}

INLINE double lane_sum(const stage_sums *s, int k) { return s->sums[k / 2][k % 2]; }

/* Bit k set when lane k's stage sum is below the stage threshold. */
INLINE unsigned below_threshold(const stage_sums *s, float threshold) {
  unsigned mask = 0;
  for (int k = 0; k < LANES; k++) mask |= (unsigned)(lane_sum(s, k) < threshold) << k;
  return mask;
}

/* Set bits of a lane mask; __builtin_popcount is a libgcc call on
 * baseline x86-64. */
INLINE int lanes_alive(unsigned mask) {
  int n = 0;
  for (; mask; mask &= mask - 1) n++;
  return n;
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
  float inv[LANES] __attribute__((aligned(16)));
  unsigned alive = 0;
  for (int k = 0; k < LANES; k++) {
    inv[k] = fer__window_inv_norm(plan, sum + k * step, sqsum + k * step);
    alive |= (unsigned)(inv[k] != 0.f) << k;
  }
  unsigned rejected0 = 0;
  stage_sums last;
  memset(&last, 0, sizeof last); /* read only for lanes that are alive */
  f32x4 inv_nf[QUADS];
  memcpy(inv_nf, inv, sizeof inv_nf);
  if (alive) {
    last = stage_lanes(plan, &c->stages[0], sum, tilted, inv_nf, step);
    rejected0 = below_threshold(&last, c->stages[0].threshold) & alive;
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
  for (; si < c->stage_count && lanes_alive(alive) >= MIN_LANES; si++) {
    last = stage_lanes(plan, &c->stages[si], sum, tilted, inv_nf, step);
    alive &= ~below_threshold(&last, c->stages[si].threshold);
  }
  int found = 0;
  for (int k = 0; k < LANES; k++) {
    if (!((alive >> k) & 1u)) continue;
    double score = lane_sum(&last, k);
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
