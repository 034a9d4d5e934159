/*
 * Running the analyzer: detect on the gray image, crop every face with the
 * margin, shrink it to the model input with area averaging, normalise it as
 * the model says, and classify all faces of the image in one batch.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analyzer_internal.h"
#include "core/core_internal.h"

/* Grows a scratch array to hold `count` elements of `size` bytes. */
static fer_status reserve(void **array, size_t *capacity, size_t count,
                          size_t size) {
  if (count <= *capacity) return FER_OK;
  size_t bytes = fer__mul_size(count, size);
  void *grown = bytes ? fer__realloc(*array, bytes) : NULL;
  if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "analyzer: out of memory for %zu faces", count);
  *array = grown;
  *capacity = count;
  return FER_OK;
}

static fer_status reserve_batch(fer_analyzer *an, size_t faces) {
  if (faces <= an->batch_capacity) return FER_OK;
  size_t in_size = (size_t)an->channels * (size_t)an->height * (size_t)an->width;
  size_t in_cap = an->batch_capacity, out_cap = an->batch_capacity;
  fer_status st = reserve((void **)&an->batch_input, &in_cap, faces, in_size * sizeof(float));
  if (st == FER_OK)
    st = reserve((void **)&an->batch_output, &out_cap, faces,
                 (size_t)an->num_classes * sizeof(float));
  if (st == FER_OK) an->batch_capacity = faces;
  return st;
}

/* Room for n known faces and their regions. */
static fer_status reserve_known(fer_analyzer *an, size_t n) {
  if (n <= an->regions_capacity) return FER_OK;
  size_t cap = an->regions_capacity;
  fer_status st = reserve((void **)&an->known_boxes, &cap, n, sizeof(fer_rect));
  cap = an->regions_capacity;
  if (st == FER_OK) st = reserve((void **)&an->regions, &cap, n, sizeof(fer__scan_region));
  if (st == FER_OK) an->regions_capacity = n;
  return st;
}

/* The regions around the faces known from recent frames (video mode):
 * each box grown by the region margin, window sides within the region
 * scale of the box side. */
static fer_status known_regions(fer_analyzer *an, size_t *count) {
  *count = 0;
  fer_status st = reserve_known(an, (size_t)fer_tracker_num_tracks(an->known));
  if (st != FER_OK) return st;
  int n = fer__tracker_boxes(an->known, an->known_boxes, (int)an->regions_capacity);
  double margin = an->params[FER_ANALYZE_REGION_MARGIN];
  double range = an->params[FER_ANALYZE_REGION_SCALE];
  for (int i = 0; i < n; i++) {
    fer_rect b = an->known_boxes[i];
    double dx = floor(margin * b.width + 0.5), dy = floor(margin * b.height + 0.5);
    double side = b.width > b.height ? b.width : b.height;
    fer__scan_region *r = &an->regions[i];
    /* Doubles, clamped: a margin of 4 on a huge box stays within int32. */
    double x0 = fmax(b.x - dx, -1e9), y0 = fmax(b.y - dy, -1e9);
    r->area.x = (int32_t)x0;
    r->area.y = (int32_t)y0;
    r->area.width = (int32_t)fmin(b.width + 2 * dx, 1e9);
    r->area.height = (int32_t)fmin(b.height + 2 * dy, 1e9);
    r->min_side = (int32_t)floor(side / range);
    r->max_side = (int32_t)fmin(ceil(side * range), 1e9);
  }
  *count = (size_t)n;
  return FER_OK;
}

/* Feeds this frame's boxes to the tracker of known faces. */
static fer_status remember(fer_analyzer *an, size_t found) {
  int n = found > 4096 ? 4096 : (int)found; /* the tracker's limit per frame */
  fer_status st = reserve_known(an, (size_t)n);
  if (st != FER_OK) return st;
  for (int i = 0; i < n; i++) an->known_boxes[i] = an->detections[i].box;
  /* A face missed around its last place keeps its region until a full
   * detection has had the chance to find it again. */
  st = fer_tracker_set(an->known, FER_TRACKER_MAX_MISSED, an->params[FER_ANALYZE_DETECT_INTERVAL]);
  if (st == FER_OK) st = fer_tracker_update(an->known, an->known_boxes, NULL, n, NULL, NULL, NULL, NULL);
  return st;
}

/* Detects on `gray`, leaving the detections in an->detections and their
 * number in *found: on the whole image, or in video mode between full
 * detections only around the known faces. The buffer starts large enough
 * for any real photo and grows (with a second scan) only for absurd
 * numbers of boxes. */
static fer_status detect(fer_analyzer *an, const fer_image *gray, size_t *found) {
  fer_status st = reserve((void **)&an->detections, &an->detections_capacity,
                          256, sizeof(fer_detection));
  int interval = (int)an->params[FER_ANALYZE_DETECT_INTERVAL];
  int width = fer_image_width(gray), height = fer_image_height(gray);
  if (interval > 1 && (width != an->video_width || height != an->video_height)) {
    an->video_frame = 0; /* another video */
    if (st == FER_OK) st = fer_tracker_reset(an->known);
    an->video_width = width;
    an->video_height = height;
  }
  int full = interval <= 1 || an->video_frame % interval == 0;
  size_t regions = 0;
  if (st == FER_OK && !full) st = known_regions(an, &regions);
  for (int attempt = 0; st == FER_OK && attempt < 2; attempt++) {
    st = full ? fer_detector_run(an->detector, gray, an->detections, an->detections_capacity,
                                 found)
              : fer__detector_run_regions(an->detector, fer_image_data(gray), width, height,
                                          fer_image_stride(gray), an->regions, regions,
                                          an->detections, an->detections_capacity, found);
    if (st != FER_ERR_BUFFER_TOO_SMALL) break;
    st = reserve((void **)&an->detections, &an->detections_capacity, *found,
                 sizeof(fer_detection));
  }
  if (st == FER_OK && interval > 1) {
    st = remember(an, *found);
    an->video_frame++;
  }
  return st;
}

static int larger_box_first(const void *a, const void *b) {
  const fer_detection *da = a, *db = b;
  long area_a = (long)da->box.width * da->box.height;
  long area_b = (long)db->box.width * db->box.height;
  if (area_a != area_b) return area_a > area_b ? -1 : 1;
  if (da->box.y != db->box.y) return da->box.y < db->box.y ? -1 : 1;
  return (da->box.x > db->box.x) - (da->box.x < db->box.x);
}

/* The face box grown by the margin on every side (clipping is left to
 * fer_image_crop). */
static fer_rect grow_box(fer_rect box, double margin) {
  int dx = (int)lround(margin * box.width), dy = (int)lround(margin * box.height);
  fer_rect r = {box.x - dx, box.y - dy, box.width + 2 * dx, box.height + 2 * dy};
  return r;
}

/* Crops, resizes and normalises one face into `dst` (C x H x W floats). */
static fer_status prepare_face(const fer_analyzer *an, const fer_image *source,
                               fer_rect box, float *dst) {
  fer_rect r = grow_box(box, an->params[FER_ANALYZE_MARGIN]);
  fer_image *crop = NULL, *small = NULL;
  fer_status st = fer_image_crop(source, &r, &crop);
  if (st == FER_OK)
    st = fer_image_resize(crop, an->width, an->height, FER_RESIZE_AREA, &small);
  if (st == FER_OK) {
    const uint8_t *pixels = fer_image_data(small);
    size_t stride = fer_image_stride(small);
    size_t plane = (size_t)an->height * (size_t)an->width;
    for (int y = 0; y < an->height; y++)
      for (int x = 0; x < an->width; x++)
        for (int c = 0; c < an->channels; c++) {
          float v = pixels[(size_t)y * stride + (size_t)x * (size_t)an->channels + (size_t)c];
          dst[(size_t)c * plane + (size_t)y * (size_t)an->width + (size_t)x] = v;
        }
    /* The model's own preprocessing, so crops are fed exactly as in
     * training and in fer_model_predict_image. */
    st = fer_model_preprocess(an->model, dst, 1);
  }
  fer_image_free(crop);
  fer_image_free(small);
  return st;
}

/* A 3-channel model is fed RGB crops (made once per image); a 1-channel
 * one the gray image the detector used. */
static fer_status crop_source(const fer_analyzer *an, const fer_image *img,
                              fer_image **rgb) {
  *rgb = NULL;
  return an->channels == 1 ? FER_OK : fer_image_to_rgb(img, rgb);
}

/* Softmax in place when the model's last layer does not already give
 * probabilities, so `probs` always sums to 1. */
static void to_probabilities(const fer_analyzer *an, float *row) {
  int layers = fer_model_num_layers(an->model);
  if (layers > 0 && fer_model_layer_kind(an->model, layers - 1) == FER_LAYER_SOFTMAX) return;
  float top = row[0], sum = 0;
  for (int c = 1; c < an->num_classes; c++) top = row[c] > top ? row[c] : top;
  for (int c = 0; c < an->num_classes; c++) sum += row[c] = expf(row[c] - top);
  for (int c = 0; c < an->num_classes; c++) row[c] /= sum;
}

static fer_status check_run_args(const fer_analyzer *an, const fer_face *faces,
                                 size_t capacity, const float *probs,
                                 size_t probs_stride, const char *caller) {
  if (faces == NULL && capacity > 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: faces is NULL with capacity %zu", caller, capacity);
  if (probs && probs_stride < (size_t)an->num_classes)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: probs_stride %zu is below the %d classes",
                     caller, probs_stride, an->num_classes);
  return FER_OK;
}

/* The body of fer_analyzer_run, without argument checks. */
static fer_status run_one(fer_analyzer *an, const fer_image *img, fer_face *faces,
                          float *probs, size_t capacity, size_t probs_stride,
                          size_t *count) {
  *count = 0;
  if (fer_image_width(img) < 1)
    return fer__fail(FER_ERR_MISUSE, "analyzer: NULL or freed image");
  fer_image *gray = NULL, *rgb = NULL;
  size_t found = 0;
  fer_status st = fer_image_to_gray(img, &gray);
  if (st == FER_OK) st = detect(an, gray, &found);
  size_t used = found < capacity ? found : capacity;
  if (st == FER_OK && found > capacity)
    qsort(an->detections, found, sizeof(fer_detection), larger_box_first);
  if (st == FER_OK && used > 0) st = crop_source(an, img, &rgb);
  if (st == FER_OK) st = reserve_batch(an, used);
  size_t face_size = (size_t)an->channels * (size_t)an->height * (size_t)an->width;
  for (size_t i = 0; st == FER_OK && i < used; i++)
    st = prepare_face(an, rgb ? rgb : gray, an->detections[i].box,
                      an->batch_input + i * face_size);
  if (st == FER_OK && used > 0)
    st = fer_predictor_run(an->predictor, an->batch_input, (int)used, an->batch_output);
  for (size_t i = 0; st == FER_OK && i < used; i++) {
    float *row = an->batch_output + i * (size_t)an->num_classes;
    to_probabilities(an, row);
    int best = 0;
    for (int c = 1; c < an->num_classes; c++)
      if (row[c] > row[best]) best = c;
    fer_face *f = &faces[i];
    f->box = an->detections[i].box;
    f->neighbors = an->detections[i].neighbors;
    f->label = best;
    f->detector_score = an->detections[i].score;
    f->confidence = row[best];
    f->reserved = 0;
    if (probs)
      for (int c = 0; c < an->num_classes; c++) probs[i * probs_stride + (size_t)c] = row[c];
  }
  fer_image_free(gray);
  fer_image_free(rgb);
  if (st != FER_OK) return st;
  *count = found;
  if (found > capacity)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL,
                     "analyzer: %zu faces found, room for %zu (the largest were kept)",
                     found, capacity);
  return FER_OK;
}

fer_status fer_analyzer_run(fer_analyzer *an, const fer_image *img,
                            fer_face *faces, float *probs, size_t capacity,
                            size_t probs_stride, size_t *count) {
  fer_status st = fer__analyzer_check(an, "fer_analyzer_run");
  if (st != FER_OK) return st;
  if (!count) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_analyzer_run: count is NULL");
  *count = 0;
  st = check_run_args(an, faces, capacity, probs, probs_stride, "fer_analyzer_run");
  if (st != FER_OK) return st;
  if (!img) return fer__fail(FER_ERR_MISUSE, "fer_analyzer_run: NULL image");
  return run_one(an, img, faces, probs, capacity, probs_stride, count);
}

fer_status fer_analyzer_run_batch(fer_analyzer *an, const fer_image *const *images,
                                  size_t num_images, fer_face *faces, float *probs,
                                  size_t capacity, size_t probs_stride,
                                  size_t *counts, size_t *total) {
  fer_status st = fer__analyzer_check(an, "fer_analyzer_run_batch");
  if (st != FER_OK) return st;
  if (!total || (num_images > 0 && (!images || !counts)))
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_analyzer_run_batch: NULL %s",
                     !total ? "total" : !images ? "images" : "counts");
  *total = 0;
  st = check_run_args(an, faces, capacity, probs, probs_stride, "fer_analyzer_run_batch");
  if (st != FER_OK) return st;
  for (size_t i = 0; i < num_images; i++) counts[i] = 0;
  size_t written = 0, needed = 0;
  int overflow = 0;
  for (size_t i = 0; i < num_images; i++) {
    if (!images[i])
      return fer__fail(FER_ERR_MISUSE, "fer_analyzer_run_batch: image %zu is NULL", i);
    size_t room = overflow ? 0 : capacity - written;
    st = run_one(an, images[i], faces ? faces + written : NULL,
                 probs ? probs + written * probs_stride : NULL, room, probs_stride,
                 &counts[i]);
    if (st == FER_ERR_BUFFER_TOO_SMALL) overflow = 1;
    else if (st != FER_OK) {
      *total = needed;
      char prefix[64];
      snprintf(prefix, sizeof prefix, "fer_analyzer_run_batch: image %zu", i);
      return fer__fail_prefix(st, prefix);
    }
    needed += counts[i];
    if (!overflow) written += counts[i];
  }
  *total = needed;
  if (overflow)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL,
                     "fer_analyzer_run_batch: %zu faces found, room for %zu", needed, capacity);
  return FER_OK;
}
