/*
 * libfer Viola-Jones face detector, compatible with OpenCV cascade files.
 *
 * Two objects:
 *
 *  - fer_cascade: a trained cascade (Haar or LBP features), loaded from an
 *    OpenCV XML file (current `opencv-cascade-classifier` layout or the old
 *    `opencv-haar-classifier` one) or from libfer's own binary format
 *    (docs/cascade-format.md). Immutable once loaded: any number of threads
 *    may share one cascade, and it must outlive the detectors that use it.
 *
 *  - fer_detector: the scratch memory and parameters of one scan (image
 *    pyramid, integral images, candidate windows). One thread at a time;
 *    create one detector per thread. After the first image of a given size
 *    a run allocates nothing.
 *
 * A run reproduces OpenCV 4's CascadeClassifier::detectMultiScale: the same
 * pyramid (each level scaled down with bilinear interpolation rounded as
 * OpenCV does it), the same window step (2 pixels of a level below scale 2,
 * 1 above), the same variance normalisation and stage tests, and the same
 * grouping (cv::groupRectangles with eps 0.2). Typical use:
 *
 *   fer_cascade *cascade;
 *   fer_cascade_load("haarcascade_frontalface_default.xml", &cascade);
 *   fer_detector *det;
 *   fer_detector_create(cascade, &det);
 *   fer_detector_set(det, FER_DETECT_SCALE_FACTOR, 1.3);
 *   fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, 5);
 *   fer_detection faces[64];
 *   size_t n;
 *   fer_detector_run(det, image, faces, 64, &n);
 */
#ifndef FER_DETECT_H
#define FER_DETECT_H

#include "core.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fer_cascade fer_cascade;
typedef struct fer_detector fer_detector;

/* Feature kinds a cascade may use. Values are part of the ABI. */
typedef enum fer_cascade_feature {
  FER_CASCADE_HAAR = 1, /* rectangle sums, optionally 45-degree tilted */
  FER_CASCADE_LBP = 2   /* multi-block local binary patterns */
} fer_cascade_feature;

/* One detection. Frozen plain record: its layout never changes. */
typedef struct fer_detection {
  fer_rect box;       /* in input image pixels, clipped to the image */
  int32_t neighbors;  /* raw windows merged into this box (1 in raw mode) */
  int32_t reserved;   /* 0 */
  /* The final stage sum of the best window of the group, as OpenCV's
   * detectMultiScale3 reports it in levelWeights: larger is surer. (Boxes
   * themselves are those of detectMultiScale: detectMultiScale3 filters
   * groups by stage count instead of by neighbours.) */
  double score;
} fer_detection;

/* ---- Cascades ---------------------------------------------------------- */

/* Loads a cascade from a file: OpenCV XML (either layout) or libfer binary,
 * recognised by content. Messages name the file and, for XML, the line
 * ("cascade.xml:412: expected </stages>").
 * Statuses: FER_ERR_IO, FER_ERR_FORMAT, FER_ERR_UNSUPPORTED (for example a
 * HOG cascade), FER_ERR_TRUNCATED, FER_ERR_CHECKSUM, FER_ERR_VERSION,
 * FER_ERR_TOO_LARGE, FER_ERR_OUT_OF_MEMORY, FER_ERR_INVALID_ARGUMENT.
 * Thread safety: any thread; the result may be shared. */
FER_API fer_status fer_cascade_load(const char *path, fer_cascade **out);

/* The same from `size` bytes in memory (copied: the caller keeps `data`). */
FER_API fer_status fer_cascade_load_memory(const void *data, size_t size,
                                           fer_cascade **out);

/* Writes the cascade in libfer's binary format (docs/cascade-format.md),
 * atomically (a temporary file renamed over `path`). FER_ERR_IO. */
FER_API fer_status fer_cascade_save(const fer_cascade *cascade,
                                    const char *path);

/* The binary format in a new buffer that the caller frees with fer_free(). */
FER_API fer_status fer_cascade_encode(const fer_cascade *cascade,
                                      void **out_data, size_t *out_size);

/* NULL is a no-op. Free every detector using the cascade first. */
FER_API void fer_cascade_free(fer_cascade *cascade);

/* Facts about a loaded cascade; 0 for a NULL or invalid handle. */
FER_API int fer_cascade_window_width(const fer_cascade *cascade);
FER_API int fer_cascade_window_height(const fer_cascade *cascade);
FER_API int fer_cascade_stage_count(const fer_cascade *cascade);
/* FER_CASCADE_HAAR or FER_CASCADE_LBP. */
FER_API int fer_cascade_feature_type(const fer_cascade *cascade);

/* ---- Detector parameters ----------------------------------------------- */

/* Keys for fer_detector_set/get. Values are part of the ABI. Every value is
 * a double; integer parameters must hold whole numbers. */
typedef enum fer_detect_param {
  /* Pyramid step: each level is this much smaller. Default 1.1, range
   * (1, 4]; 1 or less is FER_ERR_INVALID_ARGUMENT. */
  FER_DETECT_SCALE_FACTOR = 1,
  /* A group of windows is kept when it has more than this many members.
   * Default 3, range [0, 10000]; 0 keeps every raw window (as OpenCV). */
  FER_DETECT_MIN_NEIGHBORS = 2,
  /* Smallest window side scanned, in input pixels. Default 0 (the cascade
   * window), range [0, 32768]. */
  FER_DETECT_MIN_SIZE = 3,
  /* Largest window side scanned. Default 0 (no limit: the image size),
   * range [0, 32768]. */
  FER_DETECT_MAX_SIZE = 4,
  /* Grouping tolerance (cv::groupRectangles eps). Default 0.2, range
   * [0, 10]. */
  FER_DETECT_GROUP_EPS = 5,
  /* 1: return every window that passed all stages, ungrouped, with its
   * score (for evaluation curves); 0: grouped boxes. Default 0. */
  FER_DETECT_RAW = 6
} fer_detect_param;

/* Sets a parameter. FER_ERR_INVALID_ARGUMENT when the value is out of its
 * range (or not whole for an integer parameter), FER_ERR_NOT_FOUND for an
 * unknown key, FER_ERR_MISUSE for a bad handle. */
FER_API fer_status fer_detector_set(fer_detector *det, fer_detect_param param,
                                    double value);
FER_API fer_status fer_detector_get(const fer_detector *det,
                                    fer_detect_param param, double *value);
/* The range and default of a parameter (any pointer may be NULL).
 * FER_ERR_NOT_FOUND for an unknown key. */
FER_API fer_status fer_detect_param_bounds(fer_detect_param param,
                                           double *min_value,
                                           double *max_value,
                                           double *default_value);
/* "scale_factor", "min_neighbors", ...; NULL for an unknown key. */
FER_API const char *fer_detect_param_name(fer_detect_param param);

/* ---- Detection --------------------------------------------------------- */

/* A new detector using `cascade` (which must outlive it), with default
 * parameters. FER_ERR_MISUSE for a bad cascade, FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_detector_create(const fer_cascade *cascade,
                                       fer_detector **out);
/* NULL is a no-op. */
FER_API void fer_detector_free(fer_detector *det);

/* Finds objects in `img` (gray, or RGB converted with BT.601 as OpenCV's
 * cvtColor does). Writes at most `capacity` detections to `out` (which may
 * be NULL when capacity is 0) and their total number to *count. An image
 * without faces, or smaller than the cascade window, is a normal result
 * with *count = 0. When more than `capacity` were found, the first
 * `capacity` are written, *count holds the total and the status is
 * FER_ERR_BUFFER_TOO_SMALL.
 * Other statuses: FER_ERR_MISUSE (bad handle or image), FER_ERR_INVALID_ARGUMENT,
 * FER_ERR_OUT_OF_MEMORY.
 * Thread safety: one thread per detector; uses fer_get_num_threads()
 * threads inside when built with OpenMP. */
FER_API fer_status fer_detector_run(fer_detector *det, const fer_image *img,
                                    fer_detection *out, size_t capacity,
                                    size_t *count);

/* The same on caller memory holding 8-bit gray pixels (a camera's Y plane,
 * for example), with `stride` bytes between rows (0 = width), read without
 * copying. */
FER_API fer_status fer_detector_run_gray(fer_detector *det,
                                         const uint8_t *pixels, int width,
                                         int height, size_t stride,
                                         fer_detection *out, size_t capacity,
                                         size_t *count);

#ifdef __cplusplus
}
#endif

#endif /* FER_DETECT_H */
