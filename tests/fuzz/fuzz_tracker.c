/* libFuzzer harness for the video tracker: the input is its settings and a
 * stream of frames with any boxes (empty, negative, huge, overlapping) and
 * probabilities (NaN, infinities, negative), with resets between frames.
 * Two trackers get the same calls and must give the same outputs (the
 * tracker is deterministic), and every output must keep its promises: ids
 * from 1, distinct within a frame; top classes in range (-1 without
 * classes); smoothed probabilities finite when the inputs were; a refused
 * frame leaves the track count as it was.
 *
 * Layout (little-endian; missing bytes read as 0): u8 classes (% 9),
 * u8 iou (/255), u8 max missed, u8 prob smoothing, u8 box smoothing
 * (each /255 * 0.99), then frames until the input ends (at most 64):
 * u8 op (bit 7: reset first; the low 6 bits: box count, 63 meaning 5000,
 * past the limit), then per box i32 x, y and u16 width, height, each
 * width and height minus 8 (so some are below 1), then per box `classes`
 * f32 probabilities. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fer.h"
#include "fuzz_reader.h"

enum { MAX_BOXES = 62, MAX_FRAMES = 64, OVER_LIMIT = 5000 };

#define REQUIRE(cond) \
  do {                \
    if (!(cond)) __builtin_trap(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_reader r = {data, size, 0};
  int classes = (int)(fuzz_take(&r, 1) % 9);
  double settings[4];
  for (int i = 0; i < 4; i++) settings[i] = fuzz_take(&r, 1) / 255.0;
  fer_tracker *trackers[2] = {NULL, NULL};
  for (int t = 0; t < 2; t++) {
    if (fer_tracker_create(classes, &trackers[t]) != FER_OK) goto done;
    fer_tracker_set(trackers[t], FER_TRACKER_IOU_THRESHOLD, settings[0]);
    fer_tracker_set(trackers[t], FER_TRACKER_MAX_MISSED, (double)(int)(settings[1] * 20));
    fer_tracker_set(trackers[t], FER_TRACKER_PROB_SMOOTHING, settings[2] * 0.99);
    fer_tracker_set(trackers[t], FER_TRACKER_BOX_SMOOTHING, settings[3] * 0.99);
  }

  static fer_rect boxes[MAX_BOXES];
  static float probs[MAX_BOXES * 8];
  static int32_t ids[2][MAX_BOXES];
  static float smoothed[2][MAX_BOXES * 8];
  static int top[2][MAX_BOXES];
  static fer_rect out_boxes[2][MAX_BOXES];
  for (int frame = 0; frame < MAX_FRAMES && fuzz_more(&r); frame++) {
    unsigned op = fuzz_take(&r, 1);
    int count = (int)(op & 63u);
    int claimed = count == 63 ? OVER_LIMIT : count;
    if (count > MAX_BOXES) count = MAX_BOXES;
    int finite = 1;
    for (int i = 0; i < count; i++) {
      boxes[i].x = (int32_t)fuzz_take(&r, 4);
      boxes[i].y = (int32_t)fuzz_take(&r, 4);
      boxes[i].width = (int32_t)fuzz_take(&r, 2) - 8;
      boxes[i].height = (int32_t)fuzz_take(&r, 2) - 8;
    }
    for (int i = 0; i < count * classes; i++) {
      uint32_t bits = fuzz_take(&r, 4);
      memcpy(&probs[i], &bits, sizeof bits);
      finite &= isfinite(probs[i]) != 0;
    }
    fer_status st[2];
    int before = fer_tracker_num_tracks(trackers[0]);
    for (int t = 0; t < 2; t++) {
      if (op & 128u) fer_tracker_reset(trackers[t]);
      /* A count past the limit is refused before any box is read. */
      st[t] = fer_tracker_update(trackers[t], boxes, classes ? probs : NULL,
                                 claimed == OVER_LIMIT ? OVER_LIMIT : count, ids[t],
                                 smoothed[t], top[t], out_boxes[t]);
    }
    REQUIRE(st[0] == st[1]);
    REQUIRE(fer_tracker_num_tracks(trackers[0]) == fer_tracker_num_tracks(trackers[1]));
    if (st[0] != FER_OK) {
      REQUIRE(st[0] == FER_ERR_INVALID_ARGUMENT);
      if (!(op & 128u)) REQUIRE(fer_tracker_num_tracks(trackers[0]) == before);
      continue;
    }
    REQUIRE(memcmp(ids[0], ids[1], (size_t)count * sizeof ids[0][0]) == 0);
    REQUIRE(memcmp(top[0], top[1], (size_t)count * sizeof top[0][0]) == 0);
    REQUIRE(memcmp(out_boxes[0], out_boxes[1], (size_t)count * sizeof out_boxes[0][0]) == 0);
    for (int i = 0; i < count; i++) {
      REQUIRE(ids[0][i] >= 1);
      for (int j = 0; j < i; j++) REQUIRE(ids[0][j] != ids[0][i]);
      REQUIRE(classes ? top[0][i] >= 0 && top[0][i] < classes : top[0][i] == -1);
      for (int c = 0; finite && c < classes; c++)
        REQUIRE(isfinite(smoothed[0][i * classes + c]));
    }
  }
done:
  fer_tracker_free(trackers[0]);
  fer_tracker_free(trackers[1]);
  return 0;
}
