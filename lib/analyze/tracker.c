/*
 * The face tracker: greedy IoU matching of each frame's boxes to live
 * tracks, fresh ids for the rest, and exponential moving averages of each
 * track's class probabilities and box.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/params.h"
#include "analyzer_internal.h"
#include "fer/video.h"

#define TRACKER_MAGIC 0x54524B52u /* "TRKR" */
#define TRACKER_MAX_CLASSES 1024
#define TRACKER_MAX_BOXES 4096

#define PARAM_COUNT (FER_TRACKER_BOX_SMOOTHING + 1) /* keys 1..4 */

typedef struct track {
  int32_t id;
  int missed;        /* consecutive frames without a matching box */
  fer_rect last_box; /* as last detected: what the next frame is matched to */
  double box[4];     /* smoothed x, y, width, height */
  float *probs;      /* smoothed probabilities, num_classes of them */
} track;

/* A candidate match, sorted by IoU to match greedily. */
typedef struct pair {
  double iou;
  int track_index;
  int box_index;
} pair;

struct fer_tracker {
  uint32_t magic;
  int num_classes;
  double values[PARAM_COUNT]; /* indexed by key */
  int32_t next_id;
  /* Tracks in creation order (ids increasing), so ties resolve the same way
   * every run. Each track's probs point into prob_store. */
  track *tracks;
  int track_count;
  int track_capacity;
  float *prob_store; /* track i's probabilities at i * num_classes */
  size_t prob_capacity; /* in tracks */
  /* Scratch that grows to the largest frame and is then reused. */
  pair *pairs;
  size_t pair_capacity;
  int *box_track;    /* per box: its track index after matching, -1 none */
  char *track_taken; /* per track: matched this frame */
  int box_capacity;
  int taken_capacity;
};

static fer_status check_tracker(const fer_tracker *t, const char *who) {
  if (!t) return fer__fail(FER_ERR_MISUSE, "%s: tracker is NULL", who);
  if (t->magic != TRACKER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_tracker (freed?)", who);
  return FER_OK;
}

/* One row per key: the table behind the setters, the getters and
 * fer_tracker_param_info(): key, name, kind, min, max, default. */
#define ROW(key, name, kind, min, max, def) \
  FER__PARAM_AT(struct fer_tracker, values, key, name, kind, min, max, def, FER__PARAM_MIN_INCLUSIVE)
static const fer__param rows[PARAM_COUNT] = {
    ROW(FER_TRACKER_IOU_THRESHOLD, "iou_threshold", FER__PARAM_FLOAT, 0.0, 1.0, 0.3),
    ROW(FER_TRACKER_MAX_MISSED, "max_missed", FER__PARAM_INT, 0.0, 10000.0, 5.0),
    ROW(FER_TRACKER_PROB_SMOOTHING, "prob_smoothing", FER__PARAM_FLOAT, 0.0, 0.99, 0.6),
    ROW(FER_TRACKER_BOX_SMOOTHING, "box_smoothing", FER__PARAM_FLOAT, 0.0, 0.99, 0.0),
};
#undef ROW
static const fer__param_table params =
    FER__PARAM_TABLE("tracker", rows, FER_ERR_NOT_FOUND);

fer_status fer_tracker_param_info(fer_tracker_param key, const char **name,
                                  double *min, double *max,
                                  double *default_value) {
  return fer__param_info(&params, "fer_tracker_param_info", (int)key, name, min,
                         max, default_value);
}

fer_status fer_tracker_create(int num_classes, fer_tracker **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_tracker_create: out is NULL");
  *out = NULL;
  if (num_classes < 0 || num_classes > TRACKER_MAX_CLASSES)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_tracker_create: %d classes (0..%d allowed)",
                     num_classes, TRACKER_MAX_CLASSES);
  fer_tracker *t = fer__calloc(1, sizeof *t);
  if (!t)
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_tracker_create: out of memory");
  t->magic = TRACKER_MAGIC;
  t->num_classes = num_classes;
  t->next_id = 1;
  fer__param_set_defaults(&params, t);
  *out = t;
  return FER_OK;
}

void fer_tracker_free(fer_tracker *t) {
  if (!t || t->magic != TRACKER_MAGIC) return;
  t->magic = 0;
  fer__free(t->tracks);
  fer__free(t->prob_store);
  fer__free(t->pairs);
  fer__free(t->box_track);
  fer__free(t->track_taken);
  fer__free(t);
}

fer_status fer_tracker_set(fer_tracker *t, fer_tracker_param key, double value) {
  fer_status st = check_tracker(t, "fer_tracker_set");
  return st ? st : fer__param_set(&params, "fer_tracker_set", t, (int)key, value);
}

fer_status fer_tracker_get(const fer_tracker *t, fer_tracker_param key,
                           double *value) {
  fer_status st = check_tracker(t, "fer_tracker_get");
  return st ? st : fer__param_get(&params, "fer_tracker_get", t, (int)key, value);
}

static double param(const fer_tracker *t, fer_tracker_param key) {
  return t->values[key];
}

int fer_tracker_num_tracks(const fer_tracker *t) {
  return check_tracker(t, "fer_tracker_num_tracks") == FER_OK ? t->track_count
                                                              : 0;
}

int fer__tracker_boxes(const fer_tracker *t, fer_rect *out, int capacity) {
  if (check_tracker(t, "fer__tracker_boxes") != FER_OK) return 0;
  for (int i = 0; i < t->track_count && i < capacity; i++) out[i] = t->tracks[i].last_box;
  return t->track_count;
}

fer_status fer_tracker_reset(fer_tracker *t) {
  fer_status st = check_tracker(t, "fer_tracker_reset");
  if (st != FER_OK) return st;
  t->track_count = 0;
  t->next_id = 1;
  return FER_OK;
}

static double box_iou(const fer_rect *a, const fer_rect *b) {
  int64_t x0 = FER__MAX(a->x, b->x), y0 = FER__MAX(a->y, b->y);
  int64_t x1 = FER__MIN((int64_t)a->x + a->width, (int64_t)b->x + b->width);
  int64_t y1 = FER__MIN((int64_t)a->y + a->height, (int64_t)b->y + b->height);
  if (x1 <= x0 || y1 <= y0) return 0.0;
  double inter = (double)(x1 - x0) * (double)(y1 - y0);
  double area_a = (double)a->width * a->height, area_b = (double)b->width * b->height;
  return inter / (area_a + area_b - inter);
}

/* Highest IoU first; ties to the older track, then the earlier box, so the
 * order is total and the result deterministic. */
static int compare_pairs(const void *pa, const void *pb) {
  const pair *a = pa, *b = pb;
  if (a->iou != b->iou) return a->iou > b->iou ? -1 : 1;
  if (a->track_index != b->track_index) return a->track_index < b->track_index ? -1 : 1;
  return (a->box_index > b->box_index) - (a->box_index < b->box_index);
}

/* Grows *buf to hold `need` elements of `size` bytes. */
static int grow(void **buf, size_t *capacity, size_t need, size_t size) {
  if (need <= *capacity) return 1;
  size_t cap = FER__MAX(need, *capacity * 2);
  void *bigger = fer__realloc(*buf, fer__mul_size(cap, size));
  if (!bigger) return 0;
  *buf = bigger;
  *capacity = cap;
  return 1;
}

static int grow_int(void **buf, int *capacity, size_t need, size_t size) {
  size_t cap = (size_t)*capacity;
  int ok = grow(buf, &cap, need, size);
  *capacity = (int)cap;
  return ok;
}

/* Makes every buffer big enough for this frame before anything changes, so
 * an allocation failure leaves the tracker as it was. */
static fer_status reserve(fer_tracker *t, int count) {
  size_t tracks_max = (size_t)t->track_count + (size_t)count;
  int ok = grow_int((void **)&t->tracks, &t->track_capacity, tracks_max,
                    sizeof(track));
  if (ok && t->num_classes > 0) {
    float *before = t->prob_store;
    ok = grow((void **)&t->prob_store, &t->prob_capacity, tracks_max,
              (size_t)t->num_classes * sizeof(float));
    if (ok && t->prob_store != before) /* moved: re-point every track */
      for (int i = 0; i < t->track_count; i++)
        t->tracks[i].probs = t->prob_store + (size_t)i * (size_t)t->num_classes;
  }
  ok = ok && grow(
      (void **)&t->pairs, &t->pair_capacity,
      fer__mul_size((size_t)t->track_count, (size_t)count), sizeof(pair));
  ok = ok && grow_int((void **)&t->box_track, &t->box_capacity, (size_t)count,
                      sizeof(int));
  ok = ok && grow_int((void **)&t->track_taken, &t->taken_capacity,
                      tracks_max, sizeof(char));
  if (!ok)
    return fer__fail(FER_ERR_OUT_OF_MEMORY,
                     "fer_tracker_update: out of memory for %d boxes and %d "
                     "tracks", count, t->track_count);
  return FER_OK;
}

static fer_status check_inputs(const fer_tracker *t, const fer_rect *boxes,
                               const float *probs, int count) {
  if (count < 0 || count > TRACKER_MAX_BOXES)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_tracker_update: count %d is outside 0..%d", count,
                     TRACKER_MAX_BOXES);
  if (count > 0 && (!boxes || (t->num_classes > 0 && !probs)))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_tracker_update: %s is NULL", !boxes ? "detections" : "probs");
  for (int i = 0; i < count; i++) {
    if (boxes[i].width < 1 || boxes[i].height < 1)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "fer_tracker_update: box %d is %dx%d (must be at least 1x1)",
                       i, boxes[i].width, boxes[i].height);
    for (int c = 0; c < t->num_classes; c++) {
      if (!isfinite(probs[(size_t)i * (size_t)t->num_classes + (size_t)c]))
        return fer__fail(FER_ERR_INVALID_ARGUMENT,
                         "fer_tracker_update: probability %d of box %d is not "
                         "finite", c, i);
    }
  }
  return FER_OK;
}

/* Fills t->box_track: each box's track index, or -1 for a new one. */
static void match(fer_tracker *t, const fer_rect *boxes, int count) {
  double threshold = param(t, FER_TRACKER_IOU_THRESHOLD);
  size_t n = 0;
  for (int ti = 0; ti < t->track_count; ti++) {
    for (int bi = 0; bi < count; bi++) {
      double iou = box_iou(&t->tracks[ti].last_box, &boxes[bi]);
      if (iou > 0.0 && iou >= threshold)
        t->pairs[n++] = (pair){iou, ti, bi};
    }
  }
  /* Empty buffers may still be NULL, which qsort and memset must not see. */
  if (n > 1) qsort(t->pairs, n, sizeof(pair), compare_pairs);
  for (int bi = 0; bi < count; bi++) t->box_track[bi] = -1;
  if (t->track_count > 0) memset(t->track_taken, 0, (size_t)t->track_count);
  for (size_t i = 0; i < n; i++) {
    const pair *p = &t->pairs[i];
    if (t->track_taken[p->track_index] || t->box_track[p->box_index] >= 0) continue;
    t->track_taken[p->track_index] = 1;
    t->box_track[p->box_index] = p->track_index;
  }
}

/* Drops tracks that missed too many frames, keeping creation order;
 * box_track indices are remapped. */
static void drop_stale(fer_tracker *t, int count) {
  int max_missed = (int)param(t, FER_TRACKER_MAX_MISSED);
  int kept = 0;
  for (int ti = 0; ti < t->track_count; ti++) {
    if (t->tracks[ti].missed > max_missed) continue;
    if (kept != ti) {
      float *keep_probs = t->tracks[kept].probs; /* slot `kept`'s storage */
      t->tracks[kept] = t->tracks[ti];
      t->tracks[kept].probs = keep_probs;
      if (t->num_classes > 0)
        memcpy(keep_probs, t->tracks[ti].probs,
               (size_t)t->num_classes * sizeof(float));
      for (int bi = 0; bi < count; bi++)
        if (t->box_track[bi] == ti) t->box_track[bi] = kept;
    }
    kept++;
  }
  t->track_count = kept;
}

static void smooth_box(track *tr, const fer_rect *box, double a) {
  const double in[4] = {box->x, box->y, box->width, box->height};
  for (int k = 0; k < 4; k++) tr->box[k] = a * tr->box[k] + (1.0 - a) * in[k];
}

static void start_track(fer_tracker *t, track *tr, const fer_rect *box,
                        const float *probs) {
  tr->id = t->next_id;
  t->next_id = t->next_id == INT32_MAX ? 1 : t->next_id + 1;
  tr->missed = 0;
  tr->last_box = *box;
  /* Assigned, not smoothed with weight 0: the slot may hold garbage (even
   * NaN, and 0 * NaN is NaN). */
  tr->box[0] = box->x;
  tr->box[1] = box->y;
  tr->box[2] = box->width;
  tr->box[3] = box->height;
  if (t->num_classes > 0)
    memcpy(tr->probs, probs, (size_t)t->num_classes * sizeof(float));
}

static void report(const fer_tracker *t, const track *tr, int bi, int32_t *ids,
                   float *smoothed_probs, int *top_class, fer_rect *boxes) {
  size_t k = (size_t)t->num_classes;
  if (ids) ids[bi] = tr->id;
  if (smoothed_probs && k > 0)
    memcpy(smoothed_probs + (size_t)bi * k, tr->probs, k * sizeof(float));
  if (top_class) {
    int best = k > 0 ? 0 : -1;
    for (int c = 1; c < t->num_classes; c++)
      if (tr->probs[c] > tr->probs[best]) best = c;
    top_class[bi] = best;
  }
  if (boxes)
    boxes[bi] = (fer_rect){(int32_t)lround(tr->box[0]), (int32_t)lround(tr->box[1]),
                           (int32_t)lround(tr->box[2]), (int32_t)lround(tr->box[3])};
}

fer_status fer_tracker_update(fer_tracker *t, const fer_rect *detections,
                              const float *probs, int count, int32_t *ids,
                              float *smoothed_probs, int *top_class,
                              fer_rect *boxes) {
  fer_status st = check_tracker(t, "fer_tracker_update");
  if (st == FER_OK) st = check_inputs(t, detections, probs, count);
  if (st == FER_OK) st = reserve(t, count);
  if (st != FER_OK) return st;

  match(t, detections, count);
  for (int ti = 0; ti < t->track_count; ti++)
    if (!t->track_taken[ti]) t->tracks[ti].missed++;
  drop_stale(t, count);

  double prob_a = param(t, FER_TRACKER_PROB_SMOOTHING);
  double box_a = param(t, FER_TRACKER_BOX_SMOOTHING);
  size_t k = (size_t)t->num_classes;
  /* Boxes are handled in input order, so new ids follow it. */
  for (int bi = 0; bi < count; bi++) {
    const float *p = probs ? probs + (size_t)bi * k : NULL;
    track *tr;
    if (t->box_track[bi] >= 0) {
      tr = &t->tracks[t->box_track[bi]];
      tr->missed = 0;
      tr->last_box = detections[bi];
      smooth_box(tr, &detections[bi], box_a);
      for (size_t c = 0; c < k; c++)
        tr->probs[c] = (float)(prob_a * tr->probs[c] + (1.0 - prob_a) * p[c]);
    } else {
      tr = &t->tracks[t->track_count];
      tr->probs = k > 0 ? t->prob_store + (size_t)t->track_count * k : NULL;
      t->track_count++;
      start_track(t, tr, &detections[bi], p);
    }
    report(t, tr, bi, ids, smoothed_probs, top_class, boxes);
  }
  return FER_OK;
}
