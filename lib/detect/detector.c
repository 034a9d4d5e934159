/*
 * fer_detector: parameters, scratch memory and the multi-scale scan of
 * OpenCV 4's CascadeClassifier::detectMultiScale (CPU path):
 *
 *  1. scales 1, f, f^2, ... while the scaled window fits the image, then
 *     those whose window lies within [min size, max size] (or, when none
 *     does, the one closest to min size, as OpenCV does);
 *  2. per scale s (a float): the image shrunk to round(w / s) x round(h / s),
 *     its integral images, and the cascade window slid over it with step 2
 *     (s < 2) or 1, skipping one extra step after a stage-0 rejection;
 *  3. each passing window maps back to (round(x s), round(y s)) with side
 *     round(window * s); grouping as cv::groupRectangles; boxes clipped to
 *     the image.
 * Buffers only grow, so a warm detector allocates nothing per call.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core_internal.h"
#include "core/params.h"
#include "detect/detect_internal.h"
#include "image/image_internal.h"

#define DETECTOR_MAGIC 0x54454446u /* "FDET" */
#define MAX_LEVELS 100000
#define PARAM_COUNT 7 /* keys 1..6 */

/* A passing window with its place in the scan, to order the results of
 * parallel threads exactly as a single thread would produce them. */
typedef struct hit {
  fer__candidate c;
  int32_t level, y, x;
} hit;

/* What one thread needs to scan a level on its own: the level image, its
 * integral images, and the windows it found. */
typedef struct thread_scratch {
  hit *items;
  size_t size, capacity;
  int failed;
  int32_t *row_x; /* one row's passing windows, room for the widest level */
  double *row_score;
  size_t row_capacity;
  uint8_t *level;
  size_t level_cap;
  uint32_t *integrals; /* sum, sqsum, tilted */
  size_t integrals_cap;
  uint32_t *tilted_work;
  size_t tilted_work_cap;
  void *resize_scratch;
  size_t resize_scratch_cap;
} thread_scratch;

struct fer_detector {
  uint32_t magic;
  const fer_cascade *cascade;
  double values[PARAM_COUNT];
  fer__scan_plan plan;
  /* scratch, grow-only */
  uint8_t *gray;
  size_t gray_cap;
  float *scales, *all_scales;
  size_t scales_cap;
  thread_scratch *lists; /* one per thread */
  int list_count;
  hit *hits;
  size_t hits_cap;
  fer__candidate *candidates;
  size_t candidates_cap;
  void *group_scratch;
  size_t group_scratch_cap;
  fer_detection *results;
  size_t results_cap;
  fer__scan_region *regions; /* fer__detector_run_regions' merged regions */
  size_t regions_cap;
};

/* One row per fer_detect_param: key, name, kind, min, max, default, and
 * whether the minimum itself is refused (a scale factor of 1 never ends). */
#define ROW(key, name, kind, min, max, def, min_rule) \
  FER__PARAM_AT(struct fer_detector, values, key, name, kind, min, max, def, min_rule)
static const fer__param rows[PARAM_COUNT] = {
  ROW(FER_DETECT_SCALE_FACTOR, "scale_factor", FER__PARAM_FLOAT, 1.0, 4.0, 1.1,
      FER__PARAM_MIN_EXCLUSIVE),
  ROW(FER_DETECT_MIN_NEIGHBORS, "min_neighbors", FER__PARAM_INT, 0, 10000, 3,
      FER__PARAM_MIN_INCLUSIVE),
  ROW(FER_DETECT_MIN_SIZE, "min_size", FER__PARAM_INT, 0, 32768, 0, FER__PARAM_MIN_INCLUSIVE),
  ROW(FER_DETECT_MAX_SIZE, "max_size", FER__PARAM_INT, 0, 32768, 0, FER__PARAM_MIN_INCLUSIVE),
  ROW(FER_DETECT_GROUP_EPS, "group_eps", FER__PARAM_FLOAT, 0, 10, 0.2, FER__PARAM_MIN_INCLUSIVE),
  ROW(FER_DETECT_RAW, "raw", FER__PARAM_BOOL, 0, 1, 0, FER__PARAM_MIN_INCLUSIVE),
};
#undef ROW
_Static_assert(FER_DETECT_RAW + 1 == PARAM_COUNT, "one rows[] row per key");
static const fer__param_table params =
    FER__PARAM_TABLE("detector", rows, FER_ERR_NOT_FOUND);

/* ---- parameters ---------------------------------------------------------- */

const char *fer_detect_param_name(fer_detect_param param) {
  const fer__param *row = fer__param_row(&params, (int)param);
  return row ? row->name : NULL;
}

fer_status fer_detect_param_bounds(fer_detect_param param, double *min_value, double *max_value,
                                   double *default_value) {
  return fer__param_info(&params, "fer_detect_param_bounds", (int)param, NULL, min_value,
                         max_value, default_value);
}

static fer_status check_detector(const fer_detector *det, const char *who) {
  if (!det) return fer__fail(FER_ERR_MISUSE, "%s: detector is NULL", who);
  if (det->magic != DETECTOR_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_detector (freed?)", who);
  return FER_OK;
}

fer_status fer_detector_set(fer_detector *det, fer_detect_param param, double value) {
  fer_status st = check_detector(det, "fer_detector_set");
  return st ? st : fer__param_set(&params, "fer_detector_set", det, (int)param, value);
}

fer_status fer_detector_get(const fer_detector *det, fer_detect_param param, double *value) {
  fer_status st = check_detector(det, "fer_detector_get");
  return st ? st : fer__param_get(&params, "fer_detector_get", det, (int)param, value);
}

/* ---- lifetime -------------------------------------------------------------- */

fer_status fer_detector_create(const fer_cascade *cascade, fer_detector **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_detector_create: out is NULL");
  *out = NULL;
  fer_status st = fer__cascade_check(cascade, "fer_detector_create");
  if (st != FER_OK) return st;
  fer_detector *det = fer__calloc(1, sizeof *det);
  if (!det) return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_detector_create: out of memory");
  det->cascade = cascade;
  fer__param_set_defaults(&params, det);
  det->magic = DETECTOR_MAGIC;
  *out = det;
  return FER_OK;
}

void fer_detector_free(fer_detector *det) {
  if (!det || det->magic != DETECTOR_MAGIC) return;
  det->magic = 0;
  fer__scan_plan_release(&det->plan);
  fer__free(det->gray);
  fer__free(det->scales);
  fer__free(det->all_scales);
  for (int i = 0; i < det->list_count; i++) {
    fer__free(det->lists[i].items);
    fer__free(det->lists[i].row_x);
    fer__free(det->lists[i].row_score);
    fer__free(det->lists[i].level);
    fer__free(det->lists[i].integrals);
    fer__free(det->lists[i].tilted_work);
    fer__free(det->lists[i].resize_scratch);
  }
  fer__free(det->lists);
  fer__free(det->hits);
  fer__free(det->candidates);
  fer__free(det->group_scratch);
  fer__free(det->results);
  fer__free(det->regions);
  fer__free(det);
}

/* Grows *buf to hold `need` bytes; 0 on failure. */
static int ensure(void **buf, size_t *cap, size_t need) {
  if (need <= *cap && *buf) return 1;
  void *grown = fer__realloc(*buf, need ? need : 1);
  if (!grown) return 0;
  *buf = grown;
  *cap = need;
  return 1;
}

/* ---- scan extent ----------------------------------------------------------- */

/* The window rows of a level that OpenCV's detectMultiScale scans. It cuts
 * every level into `stripes` bands (ceil(first level's window columns / 32),
 * one count for all levels) of a whole number of steps, rounding the rows
 * per step down, so the last row or two of window positions can lie past
 * the last band and are never scanned. Scanning the same rows keeps the
 * raw windows identical to OpenCV's. */
static int scanned_rows(int rows, int step, int stripes) {
  if (rows <= 0 || stripes <= 0) return 0;
  long band = ((long)rows / step + stripes - 1) / stripes;
  if (band < 1) band = 1;
  long covered = band * step * stripes;
  return covered < rows ? (int)covered : rows;
}

/* ---- scales ---------------------------------------------------------------- */

/* Fills det->scales; returns the count, or -1 when there are too many. */
static long choose_scales(fer_detector *det, int w, int h) {
  const fer_cascade *c = det->cascade;
  double factor_step = det->values[FER_DETECT_SCALE_FACTOR];
  int min_size = (int)det->values[FER_DETECT_MIN_SIZE];
  int max_size = (int)det->values[FER_DETECT_MAX_SIZE];
  int max_w = max_size > 0 ? max_size : w, max_h = max_size > 0 ? max_size : h;
  long all = 0;
  for (double factor = 1;; factor *= factor_step) {
    long ww = lrint(c->window_width * factor), wh = lrint(c->window_height * factor);
    if (ww > w || wh > h) break;
    if (all == MAX_LEVELS) return -1;
    if ((size_t)all >= det->scales_cap) {
      size_t cap = det->scales_cap ? det->scales_cap * 2 : 64, bytes = 0;
      void *a = det->all_scales, *s = det->scales;
      if (!ensure(&a, &bytes, cap * sizeof(float))) return -2;
      det->all_scales = a;
      bytes = 0;
      if (!ensure(&s, &bytes, cap * sizeof(float))) return -2;
      det->scales = s;
      det->scales_cap = cap;
    }
    det->all_scales[all++] = (float)factor;
  }
  long n = 0;
  for (long i = 0; i < all; i++) {
    long ww = lrintf((float)c->window_width * det->all_scales[i]);
    long wh = lrintf((float)c->window_height * det->all_scales[i]);
    if (ww > max_w || wh > max_h) break;
    if (ww < min_size || wh < min_size) continue;
    det->scales[n++] = det->all_scales[i];
  }
  if (n == 0 && all > 0) {
    /* OpenCV's fallback for min size == max size between two levels: the
     * level whose window is nearest (L2) to min size. */
    long best = 0;
    double best_d = INFINITY;
    for (long i = 0; i < all; i++) {
      double dw = min_size - lrintf((float)c->window_width * det->all_scales[i]);
      double dh = min_size - lrintf((float)c->window_height * det->all_scales[i]);
      double d = dw * dw + dh * dh;
      if (d < best_d) {
        best_d = d;
        best = i;
      }
    }
    det->scales[n++] = det->all_scales[best];
  }
  return n;
}

/* ---- the scan -------------------------------------------------------------- */

static void push_hit(thread_scratch *list, const hit *h) {
  if (list->failed) return;
  if (list->size == list->capacity) {
    size_t cap = list->capacity ? list->capacity * 2 : 256;
    hit *grown = fer__realloc(list->items, fer__mul_size(cap, sizeof *grown));
    if (!grown) {
      list->failed = 1;
      return;
    }
    list->items = grown;
    list->capacity = cap;
  }
  list->items[list->size++] = *h;
}

typedef struct level_scan {
  const fer__scan_plan *plan;
  fer__level_view view;
  size_t stride;
  int level, step, cols, rows; /* cols, rows: window positions */
  int crop_y;                  /* level row held in the integrals' row 0 */
  float scale;
  int32_t win_w, win_h;
} level_scan;

/* Scans the windows x0, x0 + step, ..., x1 of row y (grid positions) and
 * keeps those that pass. OpenCV skips the window after a stage-0
 * rejection, so whether x0 is evaluated depends on the windows before it.
 * A window that stage 0 does not reject (it passes stage 0, or is flat)
 * makes the scan evaluate the next one whatever came before, so walking
 * back from x0 to the first such window (or to x = 0, always evaluated)
 * gives a start from which this scan evaluates exactly the windows that
 * the scan of the whole row does. The integrals hold the row from x = 0. */
static void scan_span(const level_scan *ls, int y, int x0, int x1, thread_scratch *list) {
  size_t row_offset = (size_t)(y - ls->crop_y) * ls->stride;
  int start = x0;
  while (start > 0) {
    double ignored;
    if (fer__scan_window(ls->plan, &ls->view, row_offset + (size_t)(start - ls->step), &ignored) != 0)
      break;
    start -= ls->step;
  }
  int32_t *xs = list->row_x;
  double *scores = list->row_score;
  int n = fer__scan_row(ls->plan, &ls->view, row_offset + (size_t)start, x1 - start + 1, ls->step,
                        xs, scores);
  for (int i = 0; i < n; i++) {
    int x = start + xs[i];
    if (x < x0) continue;
    hit h;
    h.c.box.x = (int32_t)lrintf((float)x * ls->scale);
    h.c.box.y = (int32_t)lrintf((float)y * ls->scale);
    h.c.box.width = ls->win_w;
    h.c.box.height = ls->win_h;
    h.c.score = scores[i];
    h.level = ls->level;
    h.y = y;
    h.x = x;
    push_hit(list, &h);
  }
}

static int compare_hits(const void *pa, const void *pb) {
  const hit *a = pa, *b = pb;
  if (a->level != b->level) return a->level < b->level ? -1 : 1;
  if (a->y != b->y) return a->y < b->y ? -1 : 1;
  return (a->x > b->x) - (a->x < b->x);
}

static fer_status oom(void) { return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_detector_run: out of memory"); }

/* What every level of one run shares. */
typedef struct scan_setup {
  const uint8_t *gray;
  int w, h;
  size_t stride;
  long nscales;
  int lw0, lh0, stripes, threads;
  size_t istride, plane; /* integral entries per row, per table */
  const fer__scan_region *regions; /* NULL: the whole image */
  size_t region_count;
} scan_setup;

/* Levels, the integral layout, the plan and every thread's scratch; with
 * s->nscales 0 when the image is smaller than the window. */
static fer_status prepare(fer_detector *det, scan_setup *s) {
  const fer_cascade *c = det->cascade;
  s->nscales = 0;
  if (s->w < c->window_width || s->h < c->window_height) return FER_OK; /* documented: empty */
  long nscales = choose_scales(det, s->w, s->h);
  if (nscales == -1)
    return fer__fail(FER_ERR_TOO_LARGE, "fer_detector_run: more than %d pyramid levels (scale factor %g too close to 1)",
                     MAX_LEVELS, det->values[FER_DETECT_SCALE_FACTOR]);
  if (nscales < 0) return oom();

  /* The first scale gives the largest level; one integral stride for all. */
  int lw0 = (int)lrintf((float)s->w / det->scales[0]), lh0 = (int)lrintf((float)s->h / det->scales[0]);
  s->lw0 = lw0;
  s->lh0 = lh0;
  s->stripes = (FER__MAX(lw0 + 1 - c->window_width, 0) + 31) / 32;
  s->istride = (size_t)lw0 + 1;
  s->plane = s->istride * ((size_t)lh0 + 1);
  int planes = c->has_tilted ? 3 : 2;
  fer_status st = fer__scan_plan_build(&det->plan, c, s->istride);
  if (st != FER_OK) return st;

  /* Levels are shared out between threads, each scanning whole levels in
   * its own buffers: one synchronisation per image rather than per level. */
  int threads = fer__num_threads();
  if (threads > nscales) threads = (int)nscales;
  if (threads < 1) threads = 1;
  if (threads > det->list_count) {
    thread_scratch *grown = fer__realloc(det->lists, fer__mul_size((size_t)threads, sizeof *grown));
    if (!grown) return oom();
    memset(grown + det->list_count, 0, (size_t)(threads - det->list_count) * sizeof *grown);
    det->lists = grown;
    det->list_count = threads;
  }
  for (int t = 0; t < det->list_count; t++) {
    thread_scratch *l = &det->lists[t];
    l->size = 0;
    l->failed = 0;
    if (t >= threads) continue;
#define GROW(field, bytes)                           \
  do {                                               \
    void *grown = l->field;                          \
    if (!ensure(&grown, &l->field##_cap, (bytes)))   \
      return oom();                                  \
    l->field = grown;                                \
  } while (0)
    GROW(level, (size_t)lw0 * (size_t)lh0);
    GROW(integrals, fer__mul_size(s->plane * (size_t)planes, sizeof(uint32_t)));
    if (c->has_tilted) GROW(tilted_work, fer__mul_size(fer__tilted_work_size(lw0, lh0), sizeof(uint32_t)));
    GROW(resize_scratch, fer__pyramid_scratch_size(lw0));
#undef GROW
    if (l->row_capacity < (size_t)lw0 + 1) {
      int32_t *xs = fer__realloc(l->row_x, ((size_t)lw0 + 1) * sizeof *xs);
      if (xs) l->row_x = xs;
      double *sc = fer__realloc(l->row_score, ((size_t)lw0 + 1) * sizeof *sc);
      if (sc) l->row_score = sc;
      if (!xs || !sc) return oom();
      l->row_capacity = (size_t)lw0 + 1;
    }
  }
  s->threads = threads;
  s->nscales = nscales;
  return FER_OK;
}

/* The grid positions p = 0, step, ... < limit whose window, mapped back to
 * the input as hits are (start lrintf(p * scale), length side), lies
 * within [lo, hi): *first..*last; 0 when there is none. The mapping only
 * grows with p, so a search from an estimate either side finds the ends. */
static int window_span(float scale, int step, int limit, int side, int lo, int hi, int *first,
                       int *last) {
  int p = (int)floorf((float)lo / scale) - 2 * step;
  if (p < 0) p = 0;
  p -= p % step;
  while (p < limit && lrintf((float)p * scale) < lo) p += step;
  int q = (int)ceilf((float)(hi - side) / scale) + 2 * step;
  if (q > limit - 1) q = limit - 1;
  if (q < 0) return 0;
  q -= q % step;
  while (q >= 0 && lrintf((float)q * scale) + side > hi) q -= step;
  *first = p;
  *last = q;
  return p < limit && q >= 0 && p <= q;
}

/* Whether region r is scanned at this level, and its window positions
 * (x0, y0, x1, y1, inclusive). */
static int region_span(const level_scan *ls, const fer__scan_region *r, int xy[4]) {
  if (ls->win_w < r->min_side || ls->win_h < r->min_side) return 0;
  if (r->max_side > 0 && (ls->win_w > r->max_side || ls->win_h > r->max_side)) return 0;
  const fer_rect *a = &r->area;
  return window_span(ls->scale, ls->step, ls->cols, ls->win_w, a->x, a->x + a->width, &xy[0],
                     &xy[2]) &&
         window_span(ls->scale, ls->step, ls->rows, ls->win_h, a->y, a->y + a->height, &xy[1],
                     &xy[3]);
}

/* Level li: shrinks the image (all of it, or the rows and columns the
 * regions need), builds the integrals and scans the windows. */
static void scan_level(fer_detector *det, const scan_setup *s, long li, thread_scratch *l) {
  const fer_cascade *c = det->cascade;
  float scale = det->scales[li];
  int lw = (int)lrintf((float)s->w / scale), lh = (int)lrintf((float)s->h / scale);
  if (lw > s->lw0 || lh > s->lh0) return; /* cannot happen: scales grow */
  uint32_t *sum = l->integrals, *sqsum = sum + s->plane;
  uint32_t *tilted = c->has_tilted ? sqsum + s->plane : NULL;
  level_scan ls;
  ls.plan = &det->plan;
  ls.view.sum = sum;
  ls.view.sqsum = sqsum;
  ls.view.tilted = tilted;
  ls.stride = s->istride;
  ls.level = (int)li;
  ls.step = scale >= 2 ? 1 : 2;
  ls.cols = FER__MAX(lw + 1 - c->window_width, 0);
  ls.rows = scanned_rows(lh + 1 - c->window_height, ls.step, s->stripes);
  ls.scale = scale;
  ls.win_w = (int32_t)lrintf((float)c->window_width * scale);
  ls.win_h = (int32_t)lrintf((float)c->window_height * scale);
  ls.crop_y = 0;
  if (!s->regions) {
    fer__pyramid_resize(s->gray, s->w, s->h, s->stride, l->level, lw, lh, (size_t)lw,
                        l->resize_scratch);
    fer__integral(l->level, lw, lh, (size_t)lw, sum, sqsum, tilted, s->istride, l->tilted_work);
    if (ls.cols > 0)
      for (int y = 0; y < ls.rows; y += ls.step) scan_span(&ls, y, 0, ls.cols - 1, l);
    return;
  }
  /* The rows the regions need, and every column from 0 to their right
   * edge: scan_span may walk back to the start of a row. */
  int x_end = 0, y_begin = lh, y_end = 0, xy[4];
  for (size_t i = 0; i < s->region_count; i++) {
    if (!region_span(&ls, &s->regions[i], xy)) continue;
    x_end = FER__MAX(x_end, xy[2] + c->window_width);
    y_begin = FER__MIN(y_begin, xy[1]);
    y_end = FER__MAX(y_end, xy[3] + c->window_height);
  }
  if (x_end == 0) return;
  fer__pyramid_resize_part(s->gray, s->w, s->h, s->stride, lw, lh, 0, y_begin, x_end,
                           y_end - y_begin, l->level, (size_t)x_end, l->resize_scratch);
  fer__integral(l->level, x_end, y_end - y_begin, (size_t)x_end, sum, sqsum, tilted, s->istride,
                l->tilted_work);
  ls.crop_y = y_begin;
  for (size_t i = 0; i < s->region_count; i++) {
    if (!region_span(&ls, &s->regions[i], xy)) continue;
    for (int y = xy[1]; y <= xy[3]; y += ls.step) scan_span(&ls, y, xy[0], xy[2], l);
  }
}

/* Every level, shared out between the threads. */
static void scan_levels(fer_detector *det, const scan_setup *s) {
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(s->threads) if (s->threads > 1)
#endif
  for (long li = 0; li < s->nscales; li++) {
#ifdef _OPENMP
    thread_scratch *l = &det->lists[omp_get_thread_num()];
#else
    thread_scratch *l = &det->lists[0];
#endif
    scan_level(det, s, li, l);
  }
}

/* Gathers the threads' windows in scan order, groups them and writes the
 * boxes clipped to the image. */
static fer_status finish(fer_detector *det, const scan_setup *s, fer_detection *out,
                         size_t capacity, size_t *count) {
  size_t total = 0;
  for (int t = 0; t < det->list_count; t++) {
    if (det->lists[t].failed) return oom();
    total += det->lists[t].size;
  }
  void *p;
  size_t cap;
  p = det->hits, cap = det->hits_cap;
  if (!ensure(&p, &cap, fer__mul_size(total, sizeof(hit)))) return oom();
  det->hits = p, det->hits_cap = cap;
  size_t k = 0;
  for (int t = 0; t < det->list_count; t++) {
    if (det->lists[t].size) memcpy(det->hits + k, det->lists[t].items, det->lists[t].size * sizeof(hit));
    k += det->lists[t].size;
  }
  /* Regions are scanned one after another within a level: sort then too. */
  if (det->list_count > 1 || s->regions) qsort(det->hits, total, sizeof(hit), compare_hits);
  p = det->candidates, cap = det->candidates_cap;
  if (!ensure(&p, &cap, fer__mul_size(total, sizeof(fer__candidate)))) return oom();
  det->candidates = p, det->candidates_cap = cap;
  for (size_t i = 0; i < total; i++) det->candidates[i] = det->hits[i].c;
  p = det->group_scratch, cap = det->group_scratch_cap;
  if (!ensure(&p, &cap, fer__group_scratch_size(total))) return oom();
  det->group_scratch = p, det->group_scratch_cap = cap;
  p = det->results, cap = det->results_cap;
  if (!ensure(&p, &cap, fer__mul_size(total, sizeof(fer_detection)))) return oom();
  det->results = p, det->results_cap = cap;

  int min_neighbors = det->values[FER_DETECT_RAW] != 0 ? 0 : (int)det->values[FER_DETECT_MIN_NEIGHBORS];
  size_t groups = fer__group_rectangles(det->candidates, total, min_neighbors,
                                        det->values[FER_DETECT_GROUP_EPS], det->group_scratch,
                                        det->results);
  /* Clip to the image and drop what is left empty, as OpenCV does. */
  size_t kept = 0;
  for (size_t i = 0; i < groups; i++) {
    fer_detection d = det->results[i];
    int32_t x0 = FER__MAX(d.box.x, 0), y0 = FER__MAX(d.box.y, 0);
    int32_t x1 = FER__MIN(d.box.x + d.box.width, s->w), y1 = FER__MIN(d.box.y + d.box.height, s->h);
    if (x1 <= x0 || y1 <= y0) continue;
    d.box.x = x0;
    d.box.y = y0;
    d.box.width = x1 - x0;
    d.box.height = y1 - y0;
    if (kept < capacity) out[kept] = d;
    kept++;
  }
  *count = kept;
  if (kept > capacity)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL, "fer_detector_run: %zu detections, room for %zu",
                     kept, capacity);
  return FER_OK;
}

static fer_status detect(fer_detector *det, scan_setup *s, fer_detection *out, size_t capacity,
                         size_t *count) {
  *count = 0;
  fer_status st = prepare(det, s);
  if (st != FER_OK || s->nscales == 0) return st;
  scan_levels(det, s);
  return finish(det, s, out, capacity, count);
}

/* The checks fer_detector_run_gray and fer__detector_run_regions share. */
static fer_status check_gray(fer_detector *det, const uint8_t *pixels, int width, int height,
                             size_t stride, fer_detection *out, size_t capacity, size_t *count,
                             const char *who) {
  if (count) *count = 0;
  fer_status st = check_detector(det, who);
  if (st != FER_OK) return st;
  st = fer__cascade_check(det->cascade, who);
  if (st != FER_OK) return st;
  if (!count) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: count is NULL", who);
  if (!out && capacity > 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL with capacity %zu", who, capacity);
  if (!pixels) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: pixels is NULL", who);
  if (width <= 0 || height <= 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: image size %dx%d", who, width, height);
  if (width > FER_IMAGE_MAX_SIDE || height > FER_IMAGE_MAX_SIDE ||
      (double)width * height > (double)FER_IMAGE_MAX_PIXELS)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: image size %dx%d exceeds the image limits", who,
                     width, height);
  if (stride != 0 && stride < (size_t)width)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: stride %zu < width %d", who, stride, width);
  return FER_OK;
}

static int overlap(const fer_rect *a, const fer_rect *b) {
  return a->x < b->x + b->width && b->x < a->x + a->width && a->y < b->y + b->height &&
         b->y < a->y + a->height;
}

/* Copies the regions clipped to the image into det->regions and merges
 * overlapping ones into their bounding box (with both size ranges) until
 * none overlap, so that no window lies in two; returns how many (-1: out
 * of memory). */
static long merge_regions(fer_detector *det, const fer__scan_region *regions, size_t n, int w,
                          int h) {
  void *p = det->regions;
  size_t cap = det->regions_cap;
  if (!ensure(&p, &cap, fer__mul_size(n, sizeof *det->regions))) return -1;
  det->regions = p, det->regions_cap = cap;
  size_t kept = 0;
  for (size_t i = 0; i < n; i++) {
    fer__scan_region r = regions[i];
    int64_t x0 = FER__MAX((int64_t)r.area.x, 0), y0 = FER__MAX((int64_t)r.area.y, 0);
    int64_t x1 = FER__MIN((int64_t)r.area.x + r.area.width, (int64_t)w);
    int64_t y1 = FER__MIN((int64_t)r.area.y + r.area.height, (int64_t)h);
    if (x1 <= x0 || y1 <= y0) continue;
    r.area = (fer_rect){(int32_t)x0, (int32_t)y0, (int32_t)(x1 - x0), (int32_t)(y1 - y0)};
    det->regions[kept++] = r;
  }
  for (int merged = 1; merged;) {
    merged = 0;
    for (size_t i = 0; i < kept; i++)
      for (size_t j = i + 1; j < kept; j++) {
        fer__scan_region *a = &det->regions[i], *b = &det->regions[j];
        if (!overlap(&a->area, &b->area)) continue;
        int32_t x0 = FER__MIN(a->area.x, b->area.x), y0 = FER__MIN(a->area.y, b->area.y);
        int32_t x1 = FER__MAX(a->area.x + a->area.width, b->area.x + b->area.width);
        int32_t y1 = FER__MAX(a->area.y + a->area.height, b->area.y + b->area.height);
        a->area = (fer_rect){x0, y0, x1 - x0, y1 - y0};
        a->min_side = FER__MIN(a->min_side, b->min_side);
        a->max_side = a->max_side == 0 || b->max_side == 0 ? 0 : FER__MAX(a->max_side, b->max_side);
        *b = det->regions[--kept];
        j = i; /* a grew: compare it with every other region again */
        merged = 1;
      }
  }
  return (long)kept;
}

fer_status fer__detector_run_regions(fer_detector *det, const uint8_t *pixels, int width,
                                     int height, size_t stride, const fer__scan_region *regions,
                                     size_t region_count, fer_detection *out, size_t capacity,
                                     size_t *count) {
  static const char who[] = "fer_detector_run_regions";
  fer_status st = check_gray(det, pixels, width, height, stride, out, capacity, count, who);
  if (st != FER_OK) return st;
  if (!regions && region_count > 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: regions is NULL with count %zu", who,
                     region_count);
  for (size_t i = 0; i < region_count; i++) {
    const fer__scan_region *r = &regions[i];
    if (r->area.width < 0 || r->area.height < 0 || r->min_side < 0 || r->max_side < 0)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: region %zu is %dx%d with sides %d..%d (none may be negative)", who, i,
                       r->area.width, r->area.height, r->min_side, r->max_side);
  }
  long kept = merge_regions(det, regions, region_count, width, height);
  if (kept < 0) return oom();
  if (kept == 0) return FER_OK;
  scan_setup s = {pixels, width, height, stride ? stride : (size_t)width, 0, 0, 0, 0, 0, 0, 0,
                  det->regions, (size_t)kept};
  return detect(det, &s, out, capacity, count);
}

fer_status fer_detector_run_gray(fer_detector *det, const uint8_t *pixels, int width, int height,
                                 size_t stride, fer_detection *out, size_t capacity, size_t *count) {
  fer_status st = check_gray(det, pixels, width, height, stride, out, capacity, count,
                             "fer_detector_run_gray");
  if (st != FER_OK) return st;
  scan_setup s = {pixels, width, height, stride ? stride : (size_t)width, 0, 0, 0, 0, 0, 0, 0,
                  NULL, 0};
  return detect(det, &s, out, capacity, count);
}

fer_status fer_detector_run(fer_detector *det, const fer_image *img, fer_detection *out,
                            size_t capacity, size_t *count) {
  if (count) *count = 0;
  fer_status st = check_detector(det, "fer_detector_run");
  if (st != FER_OK) return st;
  st = fer__image_check(img, "fer_detector_run");
  if (st != FER_OK) return st;
  if (img->channels == 1)
    return fer_detector_run_gray(det, img->pixels, img->width, img->height, img->stride, out,
                                 capacity, count);
  void *p = det->gray;
  size_t cap = det->gray_cap;
  if (!ensure(&p, &cap, (size_t)img->width * (size_t)img->height)) return oom();
  det->gray = p, det->gray_cap = cap;
  for (int y = 0; y < img->height; y++) {
    const uint8_t *src = img->pixels + (size_t)y * img->stride;
    uint8_t *dst = det->gray + (size_t)y * (size_t)img->width;
    for (int x = 0; x < img->width; x++, src += 3) dst[x] = fer__luma(src[0], src[1], src[2]);
  }
  return fer_detector_run_gray(det, det->gray, img->width, img->height, (size_t)img->width, out,
                               capacity, count);
}
