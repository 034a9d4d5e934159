/* The face tracker on synthetic sequences: moving and crossing boxes keep
 * their ids, short gaps are bridged, smoothing follows the EMA computed
 * here, and random scenes agree with a naive tracker written in this file. */
#include <stdint.h>

#include "core/core_internal.h"
#include "harness.h"

static fer_tracker *make_tracker(int classes) {
  fer_tracker *t = NULL;
  CHECK_OK(fer_tracker_create(classes, &t));
  if (!t) exit(1);
  return t;
}

static void test_moving_boxes_keep_ids(void) {
  fer_tracker *t = make_tracker(0);
  int32_t ids[2];
  for (int frame = 0; frame < 30; frame++) {
    fer_rect boxes[2] = {{10 + 3 * frame, 20, 50, 50}, {300, 200 - 2 * frame, 60, 60}};
    CHECK_OK(fer_tracker_update(t, boxes, NULL, 2, ids, NULL, NULL, NULL));
    CHECK(ids[0] == 1 && ids[1] == 2);
  }
  CHECK_EQ_INT(fer_tracker_num_tracks(t), 2);
  fer_tracker_free(t);
}

/* A box gone for max_missed frames keeps its id; one frame longer and it
 * comes back as a new track. */
static void test_gaps(void) {
  fer_tracker *t = make_tracker(0);
  CHECK_OK(fer_tracker_set(t, FER_TRACKER_MAX_MISSED, 3));
  fer_rect a = {100, 100, 40, 40}, b = {300, 100, 40, 40};
  fer_rect both[2] = {a, b};
  int32_t ids[2];
  CHECK_OK(fer_tracker_update(t, both, NULL, 2, ids, NULL, NULL, NULL));
  CHECK(ids[0] == 1 && ids[1] == 2);
  for (int gap = 0; gap < 3; gap++) {
    CHECK_OK(fer_tracker_update(t, &b, NULL, 1, ids, NULL, NULL, NULL));
    CHECK_EQ_INT(ids[0], 2);
  }
  CHECK_EQ_INT(fer_tracker_num_tracks(t), 2); /* a is missing, not gone */
  CHECK_OK(fer_tracker_update(t, both, NULL, 2, ids, NULL, NULL, NULL));
  CHECK(ids[0] == 1 && ids[1] == 2);
  for (int gap = 0; gap < 4; gap++)
    CHECK_OK(fer_tracker_update(t, &b, NULL, 1, ids, NULL, NULL, NULL));
  CHECK_EQ_INT(fer_tracker_num_tracks(t), 1);
  CHECK_OK(fer_tracker_update(t, both, NULL, 2, ids, NULL, NULL, NULL));
  CHECK(ids[0] == 3 && ids[1] == 2);
  /* An empty frame is a frame in which everything is missing. */
  CHECK_OK(fer_tracker_update(t, NULL, NULL, 0, NULL, NULL, NULL, NULL));
  CHECK_EQ_INT(fer_tracker_num_tracks(t), 2);
  CHECK_OK(fer_tracker_reset(t));
  CHECK_EQ_INT(fer_tracker_num_tracks(t), 0);
  CHECK_OK(fer_tracker_update(t, &b, NULL, 1, ids, NULL, NULL, NULL));
  CHECK_EQ_INT(ids[0], 1);
  fer_tracker_free(t);
}

/* Two faces pass each other (offset vertically, as real faces are); the
 * input order also alternates. Each keeps its id. */
static void test_crossing_boxes(void) {
  fer_tracker *t = make_tracker(0);
  int32_t ids[2];
  for (int frame = 0; frame <= 40; frame++) {
    fer_rect left_to_right = {4 * frame, 100, 40, 40};
    fer_rect right_to_left = {160 - 4 * frame, 120, 40, 40};
    int swap = frame % 2;
    fer_rect boxes[2] = {swap ? right_to_left : left_to_right,
                         swap ? left_to_right : right_to_left};
    CHECK_OK(fer_tracker_update(t, boxes, NULL, 2, ids, NULL, NULL, NULL));
    CHECK_MSG(ids[swap] == 1 && ids[1 - swap] == 2, "frame %d: ids %d %d", frame,
              ids[0], ids[1]);
  }
  fer_tracker_free(t);
}

/* Probabilities and boxes follow s = a * s + (1 - a) * x, computed here in
 * double; the top class switches once the smoothed value crosses over. */
static void test_smoothing(void) {
  const double a = 0.7, box_a = 0.5;
  fer_tracker *t = make_tracker(3);
  CHECK_OK(fer_tracker_set(t, FER_TRACKER_PROB_SMOOTHING, a));
  CHECK_OK(fer_tracker_set(t, FER_TRACKER_BOX_SMOOTHING, box_a));
  double want[3] = {0, 0, 0}, want_x = 0, want_w = 0;
  int first_switch = -1;
  for (int frame = 0; frame < 40; frame++) {
    /* Class 0 for 5 frames, then class 2 for good. */
    float p[3] = {frame < 5 ? 0.8f : 0.1f, 0.1f, frame < 5 ? 0.1f : 0.8f};
    fer_rect box = {100 + frame, 50, 40 + (frame % 2) * 4, 40};
    float smoothed[3];
    int32_t id;
    int top;
    fer_rect out;
    CHECK_OK(fer_tracker_update(t, &box, p, 1, &id, smoothed, &top, &out));
    for (int c = 0; c < 3; c++) {
      want[c] = frame == 0 ? p[c] : a * want[c] + (1 - a) * p[c];
      CHECK_NEAR(smoothed[c], want[c], 1e-5);
    }
    want_x = frame == 0 ? box.x : box_a * want_x + (1 - box_a) * box.x;
    want_w = frame == 0 ? box.width : box_a * want_w + (1 - box_a) * box.width;
    CHECK_NEAR(out.x, want_x, 0.5 + 1e-9);
    CHECK_NEAR(out.width, want_w, 0.5 + 1e-9);
    CHECK_EQ_INT(out.y, 50);
    CHECK_EQ_INT(id, 1);
    int want_top = want[2] > want[0] ? 2 : 0;
    CHECK_EQ_INT(top, want_top);
    if (top == 2 && first_switch < 0) first_switch = frame;
    if (frame == 39) CHECK_NEAR(smoothed[2], 0.8, 1e-5); /* converged */
  }
  /* 0.8 vs 0.1 after n frames of the new class: 0.1 + 0.7 * 0.7^n against
   * 0.8 - 0.7 * 0.7^n, equal when 0.7^n = 0.5: the label waits 2 frames. */
  CHECK_EQ_INT(first_switch, 6);
  /* Smoothing 0 passes the input through. */
  CHECK_OK(fer_tracker_set(t, FER_TRACKER_PROB_SMOOTHING, 0));
  fer_rect box = {140, 50, 40, 40};
  float p[3] = {0.2f, 0.5f, 0.3f}, smoothed[3];
  int top;
  CHECK_OK(fer_tracker_update(t, &box, p, 1, NULL, smoothed, &top, NULL));
  CHECK(smoothed[0] == p[0] && smoothed[1] == p[1] && smoothed[2] == p[2]);
  CHECK_EQ_INT(top, 1);
  fer_tracker_free(t);
}

/* ---- a naive tracker, written from the contract in fer/video.h ---- */

typedef struct naive_track {
  int32_t id;
  int missed;
  fer_rect box;
  int alive;
} naive_track;

static double naive_iou(fer_rect a, fer_rect b) {
  double ix = fmin(a.x + a.width, b.x + b.width) - fmax(a.x, b.x);
  double iy = fmin(a.y + a.height, b.y + b.height) - fmax(a.y, b.y);
  if (ix <= 0 || iy <= 0) return 0;
  return ix * iy / ((double)a.width * a.height + (double)b.width * b.height - ix * iy);
}

/* Repeatedly takes the best remaining pair (older track, then earlier box
 * on ties): O(n^3), obviously greedy. */
static void naive_update(naive_track *tracks, int *count, int32_t *next_id,
                         const fer_rect *boxes, int n, double threshold,
                         int max_missed, int32_t *ids) {
  int box_track[64], taken[4096] = {0};
  for (int b = 0; b < n; b++) box_track[b] = -1;
  for (;;) {
    double best = -1;
    int bt = -1, bb = -1;
    for (int t = 0; t < *count; t++) {
      if (!tracks[t].alive || taken[t]) continue;
      for (int b = 0; b < n; b++) {
        if (box_track[b] >= 0) continue;
        double iou = naive_iou(tracks[t].box, boxes[b]);
        if (iou > 0 && iou >= threshold && iou > best) best = iou, bt = t, bb = b;
      }
    }
    if (bt < 0) break;
    taken[bt] = 1;
    box_track[bb] = bt;
  }
  for (int t = 0; t < *count; t++)
    if (tracks[t].alive && !taken[t] && ++tracks[t].missed > max_missed)
      tracks[t].alive = 0;
  for (int b = 0; b < n; b++) {
    int t = box_track[b];
    if (t < 0) {
      t = (*count)++;
      tracks[t].id = (*next_id)++;
      tracks[t].alive = 1;
    }
    tracks[t].missed = 0;
    tracks[t].box = boxes[b];
    ids[b] = tracks[t].id;
  }
}

static void test_random_scenes_match_naive(void) {
  fer__rng rng;
  fer__rng_seed(&rng, 7);
  for (int scene = 0; scene < 40; scene++) {
    double threshold = 0.1 * (scene % 6);
    int max_missed = scene % 4;
    fer_tracker *t = make_tracker(0);
    CHECK_OK(fer_tracker_set(t, FER_TRACKER_IOU_THRESHOLD, threshold));
    CHECK_OK(fer_tracker_set(t, FER_TRACKER_MAX_MISSED, max_missed));
    static naive_track tracks[4096];
    int count = 0;
    int32_t next_id = 1;
    /* Boxes wander on a small field so that they overlap a lot. */
    fer_rect walkers[8];
    for (int i = 0; i < 8; i++)
      walkers[i] = (fer_rect){(int)fer__rng_below(&rng, 100), (int)fer__rng_below(&rng, 100),
                              20 + (int)fer__rng_below(&rng, 30), 20 + (int)fer__rng_below(&rng, 30)};
    int mismatches = 0;
    for (int frame = 0; frame < 60; frame++) {
      fer_rect boxes[8];
      int n = 0;
      for (int i = 0; i < 8; i++) {
        walkers[i].x += (int)fer__rng_below(&rng, 11) - 5;
        walkers[i].y += (int)fer__rng_below(&rng, 11) - 5;
        if (fer__rng_below(&rng, 4) != 0) boxes[n++] = walkers[i]; /* missed 1 in 4 */
      }
      int32_t got[8], want[8];
      CHECK_OK(fer_tracker_update(t, boxes, NULL, n, got, NULL, NULL, NULL));
      naive_update(tracks, &count, &next_id, boxes, n, threshold, max_missed, want);
      for (int b = 0; b < n; b++) mismatches += got[b] != want[b];
    }
    CHECK_MSG(mismatches == 0, "scene %d: %d ids differ from the naive tracker",
              scene, mismatches);
    fer_tracker_free(t);
  }
}

static void test_params(void) {
  const char *name = NULL;
  double min = -1, max = -1, def = -1;
  CHECK_OK(fer_tracker_param_info(FER_TRACKER_IOU_THRESHOLD, &name, &min, &max, &def));
  CHECK(strcmp(name, "iou_threshold") == 0 && min == 0 && max == 1 && def == 0.3);
  int keys = 0;
  for (int k = 1; fer_tracker_param_info((fer_tracker_param)k, NULL, NULL, NULL, NULL) == FER_OK; k++)
    keys++;
  CHECK_EQ_INT(keys, 4);
  CHECK_STATUS(fer_tracker_param_info((fer_tracker_param)99, &name, NULL, NULL, NULL),
               FER_ERR_NOT_FOUND);
  fer_tracker *t = make_tracker(7);
  double v = -1;
  for (int k = 1; k <= keys; k++) {
    CHECK_OK(fer_tracker_param_info((fer_tracker_param)k, &name, &min, &max, &def));
    CHECK_OK(fer_tracker_get(t, (fer_tracker_param)k, &v));
    CHECK_MSG(v == def, "%s = %g, default %g", name, v, def);
    CHECK_STATUS(fer_tracker_set(t, (fer_tracker_param)k, max + 1), FER_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE_CONTAINS(name);
    CHECK_STATUS(fer_tracker_set(t, (fer_tracker_param)k, min - 1), FER_ERR_INVALID_ARGUMENT);
    CHECK_STATUS(fer_tracker_set(t, (fer_tracker_param)k, NAN), FER_ERR_INVALID_ARGUMENT);
    CHECK_OK(fer_tracker_set(t, (fer_tracker_param)k, max));
    CHECK_OK(fer_tracker_get(t, (fer_tracker_param)k, &v));
    CHECK(v == max);
  }
  CHECK_STATUS(fer_tracker_set(t, FER_TRACKER_MAX_MISSED, 2.5), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_tracker_set(t, (fer_tracker_param)0, 1), FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_tracker_set(NULL, FER_TRACKER_MAX_MISSED, 1), FER_ERR_MISUSE);
  fer_tracker_free(t);
  CHECK_STATUS(fer_tracker_create(-1, &t), FER_ERR_INVALID_ARGUMENT);
  CHECK(t == NULL);
  CHECK_STATUS(fer_tracker_create(1025, &t), FER_ERR_INVALID_ARGUMENT);
  fer_tracker_free(NULL);
}

static void test_bad_inputs_leave_tracker_unchanged(void) {
  fer_tracker *t = make_tracker(2);
  fer_rect box = {0, 0, 10, 10}, flat = {0, 0, 10, 0};
  float p[2] = {0.5f, 0.5f}, nan_p[2] = {NAN, 0.5f};
  int32_t id = 0;
  CHECK_OK(fer_tracker_update(t, &box, p, 1, &id, NULL, NULL, NULL));
  CHECK_STATUS(fer_tracker_update(t, &flat, p, 1, &id, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("box 0");
  CHECK_STATUS(fer_tracker_update(t, &box, nan_p, 1, &id, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_tracker_update(t, &box, NULL, 1, &id, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_tracker_update(t, NULL, p, 1, &id, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_tracker_update(t, &box, p, -1, &id, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_tracker_update(t, &box, p, 5000, &id, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_tracker_update(NULL, &box, p, 1, &id, NULL, NULL, NULL),
               FER_ERR_MISUSE);
  /* None of that counted as a frame: the track was not missed. */
  CHECK_OK(fer_tracker_set(t, FER_TRACKER_MAX_MISSED, 0));
  CHECK_OK(fer_tracker_update(t, &box, p, 1, &id, NULL, NULL, NULL));
  CHECK_EQ_INT(id, 1);
  fer_tracker_free(t);
}

/* Each allocation failing in turn: FER_ERR_OUT_OF_MEMORY and no change;
 * once the buffers have grown, updates of that size allocate nothing. */
static void test_allocation(void) {
  fer_rect boxes[6];
  float probs[6 * 7];
  for (int i = 0; i < 6; i++) boxes[i] = (fer_rect){i * 50, 0, 40, 40};
  for (int i = 0; i < 6 * 7; i++) probs[i] = (float)(i % 7) / 7.0f;
  for (long n = 1; n < 12; n++) {
    fer_tracker *t = make_tracker(7);
    int32_t ids[6];
    fer__alloc_fail_after(n);
    fer_status st = fer_tracker_update(t, boxes, probs, 6, ids, NULL, NULL, NULL);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    if (st != FER_OK) CHECK_EQ_INT(fer_tracker_num_tracks(t), 0);
    CHECK_OK(fer_tracker_update(t, boxes, probs, 6, ids, NULL, NULL, NULL));
    CHECK(ids[0] == 1 && ids[5] == 6);
    fer_tracker_free(t);
  }
  fer_tracker *t = make_tracker(7);
  int32_t ids[6];
  float smoothed[6 * 7];
  CHECK_OK(fer_tracker_update(t, boxes, probs, 6, ids, smoothed, NULL, NULL));
  CHECK_OK(fer_tracker_update(t, boxes, probs, 6, ids, smoothed, NULL, NULL));
  fer__alloc_fail_after(1);
  for (int frame = 0; frame < 10; frame++) {
    for (int i = 0; i < 6; i++) boxes[i].x += 2;
    CHECK_OK(fer_tracker_update(t, boxes, probs, 6, ids, smoothed, NULL, NULL));
  }
  fer__alloc_fail_after(0);
  CHECK(ids[0] == 1 && ids[5] == 6);
  fer_tracker_free(t);
}

int main(void) {
  RUN(test_moving_boxes_keep_ids);
  RUN(test_gaps);
  RUN(test_crossing_boxes);
  RUN(test_smoothing);
  RUN(test_random_scenes_match_naive);
  RUN(test_params);
  RUN(test_bad_inputs_leave_tracker_unchanged);
  RUN(test_allocation);
  return harness_finish();
}
