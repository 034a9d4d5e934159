/*
 * Window evaluation, step for step as OpenCV 4 (cascadedetect.cpp):
 *
 *  - Haar: the window's variance over its inner rectangle (1, 1, w-2, h-2)
 *    gives nf = sqrt(area * sumsq - sum^2); windows with nf <= 10 * area
 *    (flat patches) are rejected before any stage; a feature value is
 *    (w0 * R0 + w1 * R1 [+ w2 * R2]) / nf in float, compared with the node
 *    threshold; stage sums add leaf values in double (float for LBP stumps,
 *    as OpenCV does).
 *  - LBP: the 8-bit code compares the 8 blocks around the centre block of a
 *    3x3 grid with it (>=), clockwise from the top-left, most significant
 *    bit first; a node goes left when the code's bit is set in its subset.
 *
 * Feature offsets are resolved once per integral stride (every pyramid level
 * shares one stride), so a window costs only loads, adds and compares.
 * Stumps pick their leaf by index rather than by a branch: whether a window
 * goes left is data, and mispredicting it cost half the scan.
 *
 * A row is scanned in one of two ways, with identical results:
 *  - Haar cascades of stumps (OpenCV's and libfer's face cascades) go
 *    through scan_batch.c, which evaluates 8 adjacent windows at once in
 *    128-bit vectors: variance and stage 0 for all 8, OpenCV's skip rule
 *    replayed over them in order, later stages while at least 3 are alive,
 *    then the survivors one by one through the same inline code as here
 *    (scan_eval.h), from the stage they reached;
 *  - trees and LBP cascades go window by window (fer__scan_row_scalar),
 *    which is also the reference the batched scan is tested against.
 */
#include <math.h>
#include <string.h>

#include "core/core_internal.h"
#include "detect/detect_internal.h"
#include "detect/scan_eval.h"

static void rect_offsets(int32_t ofs[4], const fer__haar_rect *r, int tilted, int32_t step) {
  if (!tilted) {
    ofs[0] = r->x + step * r->y;
    ofs[1] = r->x + r->width + step * r->y;
    ofs[2] = r->x + step * (r->y + r->height);
    ofs[3] = r->x + r->width + step * (r->y + r->height);
  } else {
    ofs[0] = r->x + step * r->y;
    ofs[1] = r->x - r->height + step * (r->y + r->height);
    ofs[2] = r->x + r->width + step * (r->y + r->width);
    ofs[3] = r->x + r->width - r->height + step * (r->y + r->width + r->height);
  }
}

fer_status fer__scan_plan_build(fer__scan_plan *plan, const fer_cascade *c, size_t stride) {
  if (plan->cascade == c && plan->stride == stride && plan->features) return FER_OK;
  fer__scan_plan_release(plan);
  plan->features = fer__calloc((size_t)c->feature_count, sizeof *plan->features);
  if (!plan->features) return fer__fail(FER_ERR_OUT_OF_MEMORY, "detector: out of memory");
  int32_t step = (int32_t)stride;
  for (int32_t i = 0; i < c->feature_count; i++) {
    const fer__cascade_feature *f = &c->features[i];
    fer__opt_feature *o = &plan->features[i];
    if (c->feature_type == FER_CASCADE_LBP) {
      /* The 4x4 grid of corner points of the 3x3 blocks, row by row. */
      for (int gy = 0; gy < 4; gy++)
        for (int gx = 0; gx < 4; gx++) {
          o->ofs[gy * 4 + gx] = f->rect[0].x + gx * f->rect[0].width +
                                step * (f->rect[0].y + gy * f->rect[0].height);
        }
      continue;
    }
    o->tilted = f->tilted;
    for (int k = 0; k < 3; k++) {
      rect_offsets(&o->ofs[4 * k], &f->rect[k], f->tilted, step);
      o->weight[k] = f->rect[k].weight;
    }
  }
  if (c->max_nodes_per_tree == 1) {
    plan->stumps = fer__calloc((size_t)c->tree_count, sizeof *plan->stumps);
    if (!plan->stumps) {
      fer__scan_plan_release(plan);
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "detector: out of memory");
    }
    for (int32_t t = 0; t < c->tree_count; t++) {
      const fer__cascade_tree *tr = &c->trees[t];
      const fer__cascade_node *n = &c->nodes[tr->first_node];
      fer__opt_stump *s = &plan->stumps[t];
      s->f = plan->features[n->feature];
      s->threshold = n->threshold;
      /* OpenCV's stump path takes the tree's first leaf as "left" and its
       * second as "right" whatever the node's child references say (they
       * are "0 -1" in every real cascade); do the same. */
      s->leaf[0] = c->leaves[tr->first_leaf];
      s->leaf[1] = c->leaves[tr->first_leaf + 1];
      s->subset_index = tr->first_node;
    }
  }
  if (c->max_nodes_per_tree > 1 && c->feature_type != FER_CASCADE_LBP) {
    plan->nodes = fer__calloc((size_t)c->node_count, sizeof *plan->nodes);
    if (!plan->nodes) {
      fer__scan_plan_release(plan);
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "detector: out of memory");
    }
    for (int32_t i = 0; i < c->node_count; i++) {
      const fer__cascade_node *n = &c->nodes[i];
      plan->nodes[i].f = plan->features[n->feature];
      plan->nodes[i].threshold = n->threshold;
      plan->nodes[i].child[0] = n->left;
      plan->nodes[i].child[1] = n->right;
    }
  }
  fer__haar_rect norm = {1, 1, c->window_width - 2, c->window_height - 2, 0.f};
  rect_offsets(plan->norm_ofs, &norm, 0, step);
  plan->norm_area = (double)norm.width * (double)norm.height;
  plan->cascade = c;
  plan->stride = stride;
  return FER_OK;
}

void fer__scan_plan_release(fer__scan_plan *plan) {
  fer__free(plan->features);
  fer__free(plan->stumps);
  fer__free(plan->nodes);
  memset(plan, 0, sizeof *plan);
}

static inline int lbp_code(const fer__opt_feature *f, const uint32_t *p) {
  const int32_t *o = f->ofs;
#define BLOCK(a, b, c, d) (int32_t)(p[o[a]] - p[o[b]] - p[o[c]] + p[o[d]])
  int32_t centre = BLOCK(5, 6, 9, 10);
  return (BLOCK(0, 1, 4, 5) >= centre ? 128 : 0) | (BLOCK(1, 2, 5, 6) >= centre ? 64 : 0) |
         (BLOCK(2, 3, 6, 7) >= centre ? 32 : 0) | (BLOCK(6, 7, 10, 11) >= centre ? 16 : 0) |
         (BLOCK(10, 11, 14, 15) >= centre ? 8 : 0) | (BLOCK(9, 10, 13, 14) >= centre ? 4 : 0) |
         (BLOCK(8, 9, 12, 13) >= centre ? 2 : 0) | (BLOCK(4, 5, 8, 9) >= centre ? 1 : 0);
#undef BLOCK
}

static inline int subset_has(const uint32_t *subset, int code) {
  return (subset[code >> 5] >> (code & 31)) & 1u;
}

static inline int haar_window(const fer__scan_plan *plan, const fer__level_view *v, size_t offset,
                              double *score) {
  const fer_cascade *c = plan->cascade;
  const uint32_t *sum = v->sum + offset;
  const uint32_t *tilted = v->tilted ? v->tilted + offset : sum;
  float inv_nf = fer__window_inv_norm(plan, sum, v->sqsum + offset);
  if (inv_nf == 0.f) return -1;
  if (plan->stumps) return fer__haar_stumps_from(plan, sum, tilted, inv_nf, 0, score);
  double stage_sum = 0;
  for (int32_t si = 0; si < c->stage_count; si++) {
    const fer__cascade_stage *st = &c->stages[si];
    stage_sum = 0;
    for (int32_t t = st->first_tree; t < st->first_tree + st->tree_count; t++) {
      const fer__cascade_tree *tr = &c->trees[t];
      const fer__opt_node *nodes = plan->nodes + tr->first_node;
      int32_t idx = 0;
      do {
        const fer__opt_node *n = &nodes[idx];
        double value = fer__haar_value(&n->f, sum, tilted) * inv_nf;
        idx = n->child[!(value < n->threshold)]; /* by index: no branch to mispredict */
      } while (idx > 0);
      stage_sum += c->leaves[tr->first_leaf - idx];
    }
    if (stage_sum < st->threshold) {
      *score = stage_sum;
      return -si;
    }
  }
  *score = stage_sum;
  return 1;
}

static inline int lbp_window(const fer__scan_plan *plan, const fer__level_view *v, size_t offset,
                      double *score) {
  const fer_cascade *c = plan->cascade;
  const uint32_t *sum = v->sum + offset;
  if (plan->stumps) {
    /* OpenCV accumulates LBP stumps in float. */
    const fer__opt_stump *s = plan->stumps;
    float stage_sum = 0;
    for (int32_t si = 0; si < c->stage_count; si++) {
      int32_t n = c->stages[si].tree_count;
      stage_sum = 0;
      for (int32_t i = 0; i < n; i++, s++) {
        int code = lbp_code(&s->f, sum);
        const uint32_t *subset = c->subsets + (size_t)s->subset_index * FER__LBP_SUBSET_WORDS;
        stage_sum += s->leaf[!subset_has(subset, code)];
      }
      if (stage_sum < c->stages[si].threshold) {
        *score = stage_sum;
        return -si;
      }
    }
    *score = stage_sum;
    return 1;
  }
  double stage_sum = 0;
  for (int32_t si = 0; si < c->stage_count; si++) {
    const fer__cascade_stage *st = &c->stages[si];
    stage_sum = 0;
    for (int32_t t = st->first_tree; t < st->first_tree + st->tree_count; t++) {
      const fer__cascade_tree *tr = &c->trees[t];
      int32_t idx = 0;
      do {
        const fer__cascade_node *n = &c->nodes[tr->first_node + idx];
        int code = lbp_code(&plan->features[n->feature], sum);
        const uint32_t *subset =
            c->subsets + (size_t)(tr->first_node + idx) * FER__LBP_SUBSET_WORDS;
        idx = subset_has(subset, code) ? n->left : n->right;
      } while (idx > 0);
      stage_sum += c->leaves[tr->first_leaf - idx];
    }
    if (stage_sum < st->threshold) {
      *score = stage_sum;
      return -si;
    }
  }
  *score = stage_sum;
  return 1;
}

int fer__scan_window(const fer__scan_plan *plan, const fer__level_view *v, size_t offset,
                     double *score) {
  return plan->cascade->feature_type == FER_CASCADE_LBP ? lbp_window(plan, v, offset, score)
                                                         : haar_window(plan, v, offset, score);
}

/* The row loop with the window evaluation inlined, one copy per feature
 * kind, so that the per-window cost is the cascade itself. */
#define SCAN_ROW(window_fn)                                                  \
  do {                                                                       \
    for (int x = 0; x < cols; x += step) {                                   \
      double score = 0;                                                      \
      int result = window_fn(plan, v, row_offset + (size_t)x, &score);      \
      if (result > 0) {                                                      \
        xs[found] = x;                                                       \
        scores[found++] = score;                                             \
      }                                                                      \
      if (result == 0) x += step; /* OpenCV skips after a stage-0 reject */ \
    }                                                                        \
  } while (0)

int fer__scan_row_scalar(const fer__scan_plan *plan, const fer__level_view *v, size_t row_offset,
                         int cols, int step, int32_t *xs, double *scores) {
  int found = 0;
  if (plan->cascade->feature_type == FER_CASCADE_LBP) SCAN_ROW(lbp_window);
  else SCAN_ROW(haar_window);
  return found;
}

int fer__scan_row(const fer__scan_plan *plan, const fer__level_view *v, size_t row_offset,
                  int cols, int step, int32_t *xs, double *scores) {
  if (plan->cascade->feature_type == FER_CASCADE_HAAR && plan->stumps)
    return fer__scan_row_batched(plan, v, row_offset, cols, step, xs, scores);
  return fer__scan_row_scalar(plan, v, row_offset, cols, step, xs, scores);
}

/* ---- Access for the cascade trainer (lib/cascade_train/) -------------- */

float fer__scan_inv_norm(const fer__scan_plan *plan, const fer__level_view *v, size_t offset) {
  return fer__window_inv_norm(plan, v->sum + offset, v->sqsum + offset);
}

float fer__scan_haar_value(const fer__opt_feature *f, const fer__level_view *v, size_t offset,
                           float inv_nf) {
  const uint32_t *sum = v->sum + offset;
  const uint32_t *tilted = v->tilted ? v->tilted + offset : sum;
  return fer__haar_value(f, sum, tilted) * inv_nf;
}

int fer__scan_lbp_code(const fer__opt_feature *f, const fer__level_view *v, size_t offset) {
  return lbp_code(f, v->sum + offset);
}
