/*
 * The analyzer object: creation from a model and a cascade, the keyed
 * parameter table, and the queries. Running it is analyzer_run.c; drawing
 * is analyzer_annotate.c; the built-in defaults are analyzer_default.c.
 */
#include <math.h>

#include "analyzer_internal.h"
#include "core/core_internal.h"
#include "core/params.h"

/* One row per key: key, name, kind, min, max, default, and whether the
 * minimum itself is refused. The defaults lean towards speed: a coarser
 * pyramid than OpenCV's 1.1 and no faces under 36 pixels, which the model
 * could not read well at 48x48 anyway. With the built-in cascade they give
 * about 45 frames/s at 640x480 on 2 threads (bench/bench_pipeline.c; the
 * figures are in models/frontalface.md). */
#define ROW(key, name, kind, min, max, def, min_rule) \
  FER__PARAM_AT(struct fer_analyzer, params, key, name, kind, min, max, def, min_rule)
static const fer__param rows[FER__ANALYZE_NUM_PARAMS + 1] = {
    ROW(FER_ANALYZE_SCALE_FACTOR, "scale_factor", FER__PARAM_FLOAT, 1.0, 4.0, 1.2,
        FER__PARAM_MIN_EXCLUSIVE),
    ROW(FER_ANALYZE_MIN_NEIGHBORS, "min_neighbors", FER__PARAM_INT, 0, 10000, 4,
        FER__PARAM_MIN_INCLUSIVE),
    ROW(FER_ANALYZE_MIN_SIZE, "min_size", FER__PARAM_INT, 0, 32768, 36, FER__PARAM_MIN_INCLUSIVE),
    ROW(FER_ANALYZE_MAX_SIZE, "max_size", FER__PARAM_INT, 0, 32768, 0, FER__PARAM_MIN_INCLUSIVE),
    ROW(FER_ANALYZE_MARGIN, "margin", FER__PARAM_FLOAT, 0, 1, 0, FER__PARAM_MIN_INCLUSIVE),
    /* Video: 1 keeps every run independent (a photo's behaviour). */
    ROW(FER_ANALYZE_DETECT_INTERVAL, "detect_interval", FER__PARAM_INT, 1, 10000, 1,
        FER__PARAM_MIN_INCLUSIVE),
    ROW(FER_ANALYZE_REGION_MARGIN, "region_margin", FER__PARAM_FLOAT, 0, 4, 0.5,
        FER__PARAM_MIN_INCLUSIVE),
    ROW(FER_ANALYZE_REGION_SCALE, "region_scale", FER__PARAM_FLOAT, 1, 4, 2,
        FER__PARAM_MIN_INCLUSIVE),
};
_Static_assert(FER_ANALYZE_REGION_SCALE == FER__ANALYZE_NUM_PARAMS, "one rows[] row per key");
#undef ROW
static const fer__param_table params =
    FER__PARAM_TABLE("analyzer", rows, FER_ERR_NOT_FOUND);

/* The detector key each analyzer key forwards to (0: the analyzer's own). */
static const fer_detect_param detector_key[FER__ANALYZE_NUM_PARAMS + 1] = {
    [FER_ANALYZE_SCALE_FACTOR] = FER_DETECT_SCALE_FACTOR,
    [FER_ANALYZE_MIN_NEIGHBORS] = FER_DETECT_MIN_NEIGHBORS,
    [FER_ANALYZE_MIN_SIZE] = FER_DETECT_MIN_SIZE,
    [FER_ANALYZE_MAX_SIZE] = FER_DETECT_MAX_SIZE,
};

fer_status fer_analyze_param_info(fer_analyze_param key, const char **name,
                                  double *min, double *max,
                                  double *default_value) {
  return fer__param_info(&params, "fer_analyze_param_info", (int)key, name, min,
                         max, default_value);
}

fer_status fer__analyzer_check(const fer_analyzer *an, const char *caller) {
  if (!an || an->magic != FER__ANALYZER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: NULL or freed analyzer", caller);
  return FER_OK;
}

static fer_status apply_param(fer_analyzer *an, int key, double value) {
  static const char who[] = "fer_analyzer_set";
  fer_status st = fer__param_check(&params, who, key, value, NULL);
  if (st == FER_OK && detector_key[key])
    st = fer_detector_set(an->detector, detector_key[key], value);
  if (st == FER_OK) st = fer__param_set(&params, who, an, key, value);
  return st;
}

fer_status fer_analyzer_set(fer_analyzer *an, fer_analyze_param key,
                            double value) {
  fer_status st = fer__analyzer_check(an, "fer_analyzer_set");
  return st != FER_OK ? st : apply_param(an, (int)key, value);
}

fer_status fer_analyzer_get(const fer_analyzer *an, fer_analyze_param key,
                            double *value) {
  fer_status st = fer__analyzer_check(an, "fer_analyzer_get");
  return st ? st : fer__param_get(&params, "fer_analyzer_get", an, (int)key, value);
}

fer_status fer_analyzer_create(const fer_model *model,
                               const fer_cascade *cascade,
                               fer_analyzer **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_analyzer_create: out is NULL");
  *out = NULL;
  if (!model || !cascade)
    return fer__fail(FER_ERR_MISUSE, "fer_analyzer_create: NULL %s",
                     !model ? "model" : "cascade");
  int channels = 0, height = 0, width = 0;
  fer_status st = fer_model_input_shape(model, &channels, &height, &width);
  if (st != FER_OK) return st;
  int classes = fer_model_output_size(model);
  if ((channels != 1 && channels != 3) || height < 1 || width < 1 || classes < 1)
    return fer__fail(FER_ERR_SHAPE,
                     "fer_analyzer_create: the model takes %dx%dx%d and gives %d "
                     "values; an analyzer needs a 1- or 3-channel image input",
                     channels, height, width, classes);
  fer_analyzer *an = fer__calloc(1, sizeof *an);
  if (!an) return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_analyzer_create: out of memory");
  an->model = model;
  an->cascade = cascade;
  an->channels = channels;
  an->height = height;
  an->width = width;
  an->num_classes = classes;
  st = fer_detector_create(cascade, &an->detector);
  if (st == FER_OK) st = fer_predictor_create(model, &an->predictor);
  if (st == FER_OK) st = fer_tracker_create(0, &an->known);
  for (int key = 1; st == FER_OK && key <= FER__ANALYZE_NUM_PARAMS; key++)
    st = apply_param(an, key, rows[key].default_value);
  if (st != FER_OK) {
    fer_analyzer_free(an);
    return st;
  }
  an->magic = FER__ANALYZER_MAGIC;
  *out = an;
  return FER_OK;
}

void fer_analyzer_free(fer_analyzer *an) {
  if (!an) return;
  an->magic = 0;
  fer_detector_free(an->detector);
  fer_predictor_free(an->predictor);
  fer_tracker_free(an->known);
  fer__free(an->known_boxes);
  fer__free(an->regions);
  fer_model_free(an->owned_model);
  fer_cascade_free(an->owned_cascade);
  fer__free(an->detections);
  fer__free(an->batch_input);
  fer__free(an->batch_output);
  fer__free(an);
}

fer_status fer_analyzer_reset(fer_analyzer *an) {
  fer_status st = fer__analyzer_check(an, "fer_analyzer_reset");
  if (st != FER_OK) return st;
  an->video_frame = 0;
  return fer_tracker_reset(an->known);
}

const fer_model *fer_analyzer_model(const fer_analyzer *an) {
  return fer__analyzer_check(an, "fer_analyzer_model") == FER_OK ? an->model : NULL;
}

const fer_cascade *fer_analyzer_cascade(const fer_analyzer *an) {
  return fer__analyzer_check(an, "fer_analyzer_cascade") == FER_OK ? an->cascade : NULL;
}

int fer_analyzer_num_classes(const fer_analyzer *an) {
  return fer__analyzer_check(an, "fer_analyzer_num_classes") == FER_OK ? an->num_classes : 0;
}

const char *fer_analyzer_class_name(const fer_analyzer *an, int index) {
  if (fer__analyzer_check(an, "fer_analyzer_class_name") != FER_OK) return NULL;
  return fer_model_class_name(an->model, index);
}
