/*
 * libfer face analyzer: the whole pipeline in one object.
 *
 *   image -> gray -> Viola-Jones detection -> crop each face with a margin
 *         -> area-averaged resize to the model input -> the model's
 *         normalisation -> one batched forward pass -> probabilities
 *
 * Typical use:
 *
 *   fer_analyzer *an;
 *   fer_analyzer_create_default(&an);          // embedded model and cascade
 *   fer_face faces[32];
 *   float probs[32 * 16];
 *   size_t n;
 *   fer_analyzer_run(an, img, faces, probs, 32, 16, &n);
 *   printf("%s\n", fer_analyzer_class_name(an, faces[0].label));
 *
 * Threads: an analyzer holds scratch memory (a detector, a predictor, crop
 * buffers), so one thread at a time uses it. The model and cascade it was
 * made from are only read: any number of analyzers, in any threads, may
 * share one model and one cascade (which must outlive them).
 */
#ifndef FER_ANALYZE_H
#define FER_ANALYZE_H

#include "core.h"
#include "detect.h"
#include "image.h"
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fer_analyzer fer_analyzer;

/* One analysed face. Frozen plain record: its layout never changes. */
typedef struct fer_face {
  fer_rect box;          /* the detected box, in input image pixels */
  int32_t neighbors;     /* raw detector windows merged into the box */
  int32_t label;         /* index of the most probable class */
  double detector_score; /* the detector's confidence (fer_detection.score) */
  float confidence;      /* probability of `label`, 0..1 */
  int32_t reserved;      /* 0 */
} fer_face;

/* Keys for fer_analyzer_set()/get(); values are part of the ABI. Every
 * value is a double; integer keys must hold whole numbers. */
typedef enum fer_analyze_param {
  /* Detector pyramid step (FER_DETECT_SCALE_FACTOR). Default 1.2, range
   * (1, 4]. */
  FER_ANALYZE_SCALE_FACTOR = 1,
  /* Detector neighbours (FER_DETECT_MIN_NEIGHBORS). Default 4, 0..10000. */
  FER_ANALYZE_MIN_NEIGHBORS = 2,
  /* Smallest face side in pixels; 0 = the cascade window. Default 36,
   * 0..32768. */
  FER_ANALYZE_MIN_SIZE = 3,
  /* Largest face side in pixels; 0 = no limit. Default 0, 0..32768. */
  FER_ANALYZE_MAX_SIZE = 4,
  /* Margin added around each box before cropping, as a fraction of the
   * box side on every side (0.1 grows a 100-pixel box to 120). The crop
   * is clipped to the image. Default 0, range 0..1. */
  FER_ANALYZE_MARGIN = 5,
  /* Video: detect on the whole image every this many runs, and in the runs
   * between only around the faces of recent runs (regions set by the two
   * keys below), which costs a fraction of a full scan. A new face is then
   * found within this many frames; a face found before is followed from
   * frame to frame while it moves less than the region margin. Successive
   * runs (and the images of a batch, in order) are taken as the frames of
   * one video: fer_analyzer_reset() starts another, as does a change of
   * image size. Within the regions the detector sees exactly the windows
   * of a full scan, so a face that stays well inside its region gets the
   * same box as full detection would give it. 1 (the default): every run
   * detects on the whole image and runs are independent. Integer,
   * 1..10000. */
  FER_ANALYZE_DETECT_INTERVAL = 6,
  /* Video: the region scanned around a known face is its box grown by this
   * fraction of its side on every side. Default 0.5, range 0..4. */
  FER_ANALYZE_REGION_MARGIN = 7,
  /* Video: within a region, window sides from side / r to side * r of the
   * known face's side are scanned. The windows a cascade merges into one
   * face span about 0.6 to 1.4 times its box, hence the default 2 (range
   * 1..4). */
  FER_ANALYZE_REGION_SCALE = 8
} fer_analyze_param;

/* A key's name ("scale_factor", ...), bounds and default; any output may be
 * NULL. FER_ERR_NOT_FOUND for an unknown key, so a program can list every
 * key by counting up from 1. Thread-safe (static data). */
FER_API fer_status fer_analyze_param_info(fer_analyze_param key,
                                          const char **name, double *min,
                                          double *max, double *default_value);

/* An analyzer using `model` (a classifier whose input is 1 or 3 channels)
 * and `cascade`; both stay the caller's, are only read, and must outlive
 * the analyzer. Statuses: FER_ERR_MISUSE (NULL or bad handles),
 * FER_ERR_SHAPE (a model input that is not an image of 1 or 3 channels),
 * FER_ERR_INVALID_ARGUMENT (out NULL), FER_ERR_OUT_OF_MEMORY. *out is NULL
 * on failure. Thread-safe. The analyzer classifies with the model's
 * precision at each run: a quantised model (fer_model_quantize, or loaded
 * from a file that keeps its quantisation) set to FER_PRECISION_INT8 runs
 * the int8 path here too (change the setting only while no analyzer
 * sharing the model runs). */
FER_API fer_status fer_analyzer_create(const fer_model *model,
                                       const fer_cascade *cascade,
                                       fer_analyzer **out);

/* An analyzer with the expression model and frontal-face cascade built into
 * this libfer (it owns them). The cascade is the file named by
 * $FER_CASCADE when that is set (an error if it cannot be loaded), else
 * the built-in one (libfer's own, models/frontalface.md); a build without
 * one loads the first readable of
 * /usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml,
 * /usr/share/opencv/haarcascades/haarcascade_frontalface_default.xml,
 * /usr/local/share/opencv4/haarcascades/haarcascade_frontalface_default.xml.
 * Statuses: FER_ERR_NOT_FOUND (no model built in; no cascade built in and
 * none of those files readable: the message lists what was tried), the
 * load statuses of fer_model_load()/fer_cascade_load(),
 * FER_ERR_OUT_OF_MEMORY. Thread-safe. */
FER_API fer_status fer_analyzer_create_default(fer_analyzer **out);

/* The pieces of fer_analyzer_create_default() on their own, for a program
 * that brings one of the two itself: a new copy of the built-in model, and
 * the built-in cascade (or the installed OpenCV one, as above). The caller
 * owns *out (NULL on failure) and frees it with fer_model_free() or
 * fer_cascade_free(). Statuses as fer_analyzer_create_default().
 * Thread-safe. */
FER_API fer_status fer_default_model_load(fer_model **out);
FER_API fer_status fer_default_cascade_load(fer_cascade **out);

/* 1 when this libfer carries a default model (cascade), 0 when not. */
FER_API int fer_analyzer_has_default_model(void);
FER_API int fer_analyzer_has_default_cascade(void);

/* NULL is a no-op. Frees the model and cascade only when
 * fer_analyzer_create_default() made them. */
FER_API void fer_analyzer_free(fer_analyzer *an);

/* Sets or reads a parameter; it applies from the next run.
 * FER_ERR_NOT_FOUND (unknown key), FER_ERR_INVALID_ARGUMENT (out of range,
 * or not whole for an integer key), FER_ERR_MISUSE (bad handle). */
FER_API fer_status fer_analyzer_set(fer_analyzer *an, fer_analyze_param key,
                                    double value);
FER_API fer_status fer_analyzer_get(const fer_analyzer *an,
                                    fer_analyze_param key, double *value);

/* Forgets the faces of earlier runs (FER_ANALYZE_DETECT_INTERVAL), so the
 * next run detects on the whole image: call it between two videos.
 * Parameters are kept. FER_ERR_MISUSE (bad handle). */
FER_API fer_status fer_analyzer_reset(fer_analyzer *an);

/* The model and cascade in use (owned by whoever made them; NULL for a bad
 * handle), the number of classes K, and the name of class `index` (owned
 * by the model; NULL when out of range). */
FER_API const fer_model *fer_analyzer_model(const fer_analyzer *an);
FER_API const fer_cascade *fer_analyzer_cascade(const fer_analyzer *an);
FER_API int fer_analyzer_num_classes(const fer_analyzer *an);
FER_API const char *fer_analyzer_class_name(const fer_analyzer *an,
                                            int index);

/* Detects and classifies the faces of one image (gray or RGB). All crops
 * of the image go through the model in one batched call. Writes up to
 * `capacity` faces to `faces` and, when `probs` is not NULL, their
 * probabilities to probs[i * probs_stride + c] for the K classes
 * (probs_stride >= K). *count gets the number of faces found; an image
 * without faces is a normal result with *count 0. When more than
 * `capacity` faces were found, the `capacity` with the largest boxes are
 * analysed, *count holds the total and the status is
 * FER_ERR_BUFFER_TOO_SMALL.
 * Other statuses: FER_ERR_MISUSE (bad handle or image),
 * FER_ERR_INVALID_ARGUMENT (NULL count, faces NULL with capacity > 0,
 * probs_stride < K), FER_ERR_OUT_OF_MEMORY.
 * Thread safety: one thread per analyzer; uses fer_get_num_threads()
 * threads inside. */
FER_API fer_status fer_analyzer_run(fer_analyzer *an, const fer_image *img,
                                    fer_face *faces, float *probs,
                                    size_t capacity, size_t probs_stride,
                                    size_t *count);

/* Many images per call: the faces of image i follow those of image i-1 in
 * `faces` (and `probs`, same layout as fer_analyzer_run()); counts[i] gets
 * image i's number of faces (0 is normal and does not stop the batch).
 * When the faces do not all fit in `capacity`, the status is
 * FER_ERR_BUFFER_TOO_SMALL, counts[] hold what was found per image and
 * *total the sum needed; `faces` then holds the faces of the images that
 * fitted, then the largest faces of the first one that did not. Statuses otherwise as fer_analyzer_run(); a NULL image is
 * FER_ERR_MISUSE (the message gives its index). */
FER_API fer_status fer_analyzer_run_batch(fer_analyzer *an,
                                          const fer_image *const *images,
                                          size_t num_images, fer_face *faces,
                                          float *probs, size_t capacity,
                                          size_t probs_stride, size_t *counts,
                                          size_t *total);

/* Draws each face's box and a label "happy 87%" on a filled background in
 * a colour per expression, with line width and text scaled to the image
 * and face size so the result reads well from 100 to 4000 pixels (text at
 * least 8 pixels high). Labels never overlap one another and never leave
 * the image: each goes above its box, else below it, else inside its top,
 * moved sideways past its neighbours' labels, and keeps clear of other
 * faces where it can; in a crowd a label may get smaller, and on an image
 * too small for the whole text it drops the percentage or is cut (an
 * image under 12 pixels wide or high gets boxes only). Needs exclusive access
 * to `img` (RGB for colour; on gray the luma is used). Statuses:
 * FER_ERR_MISUSE (bad handle or image), FER_ERR_INVALID_ARGUMENT (faces
 * NULL with count > 0), FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_analyzer_annotate(const fer_analyzer *an,
                                         fer_image *img,
                                         const fer_face *faces, size_t count);

/* The drawing colour (0xRRGGBB) used for an expression name: happy yellow,
 * sad blue, angry red, surprise orange, fear purple, disgust green, neutral
 * gray; other names get a colour from their index. Thread-safe. */
FER_API uint32_t fer_expression_color(const char *name, int index);

#ifdef __cplusplus
}
#endif

#endif /* FER_ANALYZE_H */
