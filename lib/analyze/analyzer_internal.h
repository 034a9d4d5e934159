/* The analyzer's layout, shared by the files of lib/analyze/ that make,
 * run and draw with it. */
#ifndef FER_ANALYZER_INTERNAL_H
#define FER_ANALYZER_INTERNAL_H

#include "detect/detect_internal.h"
#include "fer/analyze.h"
#include "fer/video.h"

#define FER__ANALYZER_MAGIC 0x5A4E4146u /* "FANZ" */
#define FER__ANALYZE_NUM_PARAMS 8

struct fer_analyzer {
  uint32_t magic;
  const fer_model *model;
  const fer_cascade *cascade;
  fer_model *owned_model;     /* set by fer_analyzer_create_default() */
  fer_cascade *owned_cascade; /* likewise */
  fer_detector *detector;
  fer_predictor *predictor;
  int channels, height, width, num_classes;
  double params[FER__ANALYZE_NUM_PARAMS + 1]; /* indexed by key */
  /* Scratch that grows to the largest image and face count seen. */
  fer_detection *detections;
  size_t detections_capacity;
  float *batch_input, *batch_output;
  size_t batch_capacity; /* faces the two buffers hold */
  /* Video (FER_ANALYZE_DETECT_INTERVAL > 1): the faces of recent frames,
   * followed by a tracker without classes, and the runs since the reset. */
  fer_tracker *known;
  long video_frame;
  int video_width, video_height;
  fer_rect *known_boxes;
  fer__scan_region *regions;
  size_t regions_capacity; /* of both arrays */
};

/* FER_OK when `an` is a live analyzer, FER_ERR_MISUSE (with a message
 * naming `caller`) otherwise. */
fer_status fer__analyzer_check(const fer_analyzer *an, const char *caller);

/* The last detected box of each live track of `t` (tracker.c), oldest
 * track first, up to `capacity`; returns the number of live tracks. */
int fer__tracker_boxes(const fer_tracker *t, fer_rect *out, int capacity);

/* The embedded files (lib/analyze/embedded_*.c, generated at build time by
 * tools/embed.c); size 0 when the build had no such file under models/. */
extern const unsigned char *const fer__embedded_model;
extern const size_t fer__embedded_model_size;
extern const unsigned char *const fer__embedded_cascade;
extern const size_t fer__embedded_cascade_size;

#endif
