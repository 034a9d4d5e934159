/*
 * Pieces of the scan shared between the files of lib/detect/: the pyramid
 * resize, integral images, window evaluation and grouping. Each follows
 * OpenCV 4's CPU code path exactly, so detections match it box for box.
 */
#ifndef FER_DETECT_INTERNAL_H
#define FER_DETECT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "detect/cascade_internal.h"

/* ---- pyramid.c: one level of the image pyramid --------------------------- */

/* Bytes of scratch fer__pyramid_resize needs for a destination width. */
size_t fer__pyramid_scratch_size(int dst_width);

/* Shrinks src (sw x sh) to dst (dw x dh, dw <= sw, dh <= sh) bit for bit as
 * OpenCV's resize(..., INTER_LINEAR_EXACT) does for 8-bit gray (8-bit
 * fixed-point weights); equal sizes copy. */
void fer__pyramid_resize(const uint8_t *src, int sw, int sh, size_t sstride,
                         uint8_t *dst, int dw, int dh, size_t dstride,
                         void *scratch);

/* The part x0..x0+cw-1, y0..y0+ch-1 of that dw x dh level, written from
 * dst's first pixel: the same bytes as those of the whole level (a region
 * scan needs only part of it). Scratch as for a destination width cw. */
void fer__pyramid_resize_part(const uint8_t *src, int sw, int sh, size_t sstride, int dw, int dh,
                              int x0, int y0, int cw, int ch, uint8_t *dst, size_t dstride,
                              void *scratch);

/* ---- integral.c ---------------------------------------------------------- */

/* Integral images with (w+1) x (h+1) entries and `istride` entries per row,
 * as cv::integral lays them out: sum[y][x] = sum of pixels above and left,
 * sqsum the same of squares, tilted (optional, NULL to skip) the 45-degree
 * sums of Lienhart's rotated features. 32-bit values wrap on huge images;
 * window sums computed by differences stay exact. `work` needs
 * fer__tilted_work_size(w, h) entries when tilted is wanted. */
size_t fer__tilted_work_size(int w, int h);
void fer__integral(const uint8_t *img, int w, int h, size_t stride,
                   uint32_t *sum, uint32_t *sqsum, uint32_t *tilted,
                   size_t istride, uint32_t *work);

/* ---- scan.c: evaluating windows ----------------------------------------- */

/* A cascade with feature offsets resolved for one integral stride. */
typedef struct fer__opt_feature {
  /* Haar: 4 corner offsets per rectangle (ofs[4k..4k+3]); LBP: the 4x4
   * grid of block corners, row by row. */
  int32_t ofs[16];
  float weight[3];
  int32_t tilted;
} fer__opt_feature;

typedef struct fer__opt_stump {
  fer__opt_feature f;
  float threshold;
  /* leaf[0] when the stump goes left (value < threshold, or the LBP code's
   * bit is set), leaf[1] otherwise: picked by index, not by a branch that
   * data makes unpredictable. */
  float leaf[2];
  int32_t subset_index; /* LBP: node index for its subset */
} fer__opt_stump;

/* A node of a Haar tree with its feature resolved in place, so that a tree
 * walk reads one array in order instead of chasing node -> feature. */
typedef struct fer__opt_node {
  fer__opt_feature f;
  float threshold;
  int32_t child[2]; /* value < threshold: [0], else [1]; > 0: node within
                     * the tree, <= 0: minus the leaf */
} fer__opt_node;

typedef struct fer__scan_plan {
  const fer_cascade *cascade;
  size_t stride;                /* integral entries per row */
  fer__opt_feature *features;   /* cascade->feature_count */
  fer__opt_stump *stumps;       /* when every tree is a stump */
  fer__opt_node *nodes;         /* Haar trees deeper than a stump: cascade->node_count */
  int32_t norm_ofs[4];          /* variance window (1,1,w-2,h-2) */
  double norm_area;
} fer__scan_plan;

/* (Re)builds the plan for `stride`; the arrays are reused when they fit.
 * Returns FER_ERR_OUT_OF_MEMORY on failure. */
fer_status fer__scan_plan_build(fer__scan_plan *plan, const fer_cascade *c,
                                size_t stride);
void fer__scan_plan_release(fer__scan_plan *plan);

/* Integral images of one pyramid level. */
typedef struct fer__level_view {
  const uint32_t *sum, *sqsum, *tilted;
} fer__level_view;

/* Evaluates the window whose top-left integral entry is at `offset`.
 * Returns 1 when it passes every stage (*score = last stage sum), 0 when
 * stage 0 rejects it, a negative value when a later stage rejects it or its
 * variance is too low: OpenCV's runAt() convention, which the scan loop
 * uses to skip the next window after a stage-0 rejection. */
int fer__scan_window(const fer__scan_plan *plan, const fer__level_view *v,
                     size_t offset, double *score);

/* Scans the windows at x = 0, step, ... < cols of one row (offset of its
 * first window), skipping as OpenCV does after a stage-0 rejection; writes
 * the x and score of each passing window (room for cols) and returns how
 * many passed. Batched for Haar stumps, window by window otherwise. */
int fer__scan_row(const fer__scan_plan *plan, const fer__level_view *v, size_t row_offset,
                  int cols, int step, int32_t *xs, double *scores);

/* The same, one window after another (scan.c): the reference the batched
 * scan must equal, and the path for trees and LBP cascades. */
int fer__scan_row_scalar(const fer__scan_plan *plan, const fer__level_view *v, size_t row_offset,
                         int cols, int step, int32_t *xs, double *scores);

/* The same for Haar cascades of stumps, several adjacent windows at once
 * (scan_batch.c); step is 1 or 2. Results equal fer__scan_row_scalar's. */
int fer__scan_row_batched(const fer__scan_plan *plan, const fer__level_view *v, size_t row_offset,
                          int cols, int step, int32_t *xs, double *scores);

/* For the trainer, so trained thresholds mean what they mean at detection
 * time: the window's 1/norm factor exactly as the scan computes it (0 when
 * the scan rejects the window as flat), and a Haar feature's normalised
 * value (the float the scan compares with a node threshold). */
float fer__scan_inv_norm(const fer__scan_plan *plan, const fer__level_view *v, size_t offset);
float fer__scan_haar_value(const fer__opt_feature *f, const fer__level_view *v, size_t offset,
                           float inv_nf);
/* An LBP feature's 8-bit code on a window, the value the scan looks up in
 * a node's subset (no variance normalisation: LBP compares block sums). */
int fer__scan_lbp_code(const fer__opt_feature *f, const fer__level_view *v, size_t offset);

/* ---- detector.c: scanning parts of an image ------------------------------ */

/* A part of the image to scan, for video: windows whose box (in input
 * pixels) lies inside `area`, with sides from min_side to max_side
 * (0: no upper limit), on top of the detector's own settings. */
typedef struct fer__scan_region {
  fer_rect area;
  int32_t min_side, max_side;
} fer__scan_region;

/* fer_detector_run_gray on the regions only: the windows scanned are
 * exactly those of the whole scan (same levels, positions and skips) whose
 * box lies inside a region and whose side is in its range, so the raw
 * windows are exactly those of the whole scan there; grouping then sees
 * only them. Overlapping regions are first merged into their bounding box
 * (both size ranges), so no window counts twice. No region: no detection.
 * Statuses as fer_detector_run_gray, and FER_ERR_INVALID_ARGUMENT for
 * regions NULL with a count, or a negative size. */
fer_status fer__detector_run_regions(fer_detector *det, const uint8_t *pixels, int width,
                                     int height, size_t stride, const fer__scan_region *regions,
                                     size_t region_count, fer_detection *out, size_t capacity,
                                     size_t *count);

/* ---- group.c: cv::groupRectangles -------------------------------------- */

typedef struct fer__candidate {
  fer_rect box;
  double score;
} fer__candidate;

/* Scratch for grouping n candidates: 2 ints + 1 class record per item. */
size_t fer__group_scratch_size(size_t n);

/* Groups candidates[0..n) in place as cv::groupRectangles(rects, weights
 * (levels), levelWeights, min_neighbors, eps) does, writing the kept groups
 * to out (room for n) with their member counts and best score; returns how
 * many. min_neighbors <= 0 copies the candidates through unchanged. */
size_t fer__group_rectangles(const fer__candidate *candidates, size_t n,
                             int min_neighbors, double eps, void *scratch,
                             fer_detection *out);

#endif
