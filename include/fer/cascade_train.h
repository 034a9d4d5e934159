/*
 * Training Viola-Jones cascades (experimental).
 *
 * A fer_cascade_trainer collects positive windows (faces) and negative
 * images (photos without faces), then boosts one stage after another:
 * each stage is trained on the positives the cascade so far still accepts
 * and on negatives mined from the negative images with that cascade (hard
 * negatives), and keeps adding weak trees until its false-alarm rate is at
 * most FER_CASCADE_TRAIN_MAX_FALSE_ALARM at a hit rate of at least
 * FER_CASCADE_TRAIN_MIN_HIT_RATE. Feature values are computed from integral
 * images with the detector's own variance normalisation, so the result runs
 * unchanged in fer_detector and (written with fer_cascade_save_xml) in
 * OpenCV's CascadeClassifier.
 *
 *   fer_cascade_trainer *tr;
 *   fer_cascade_trainer_create(&tr);
 *   fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_STAGES, 20);
 *   fer_cascade_trainer_add_positive(tr, crop, 46, 46, stride);   (many)
 *   fer_cascade_trainer_add_negative(tr, photo);                  (many)
 *   fer_cascade *cascade;
 *   fer_cascade_trainer_run(tr, &cascade);
 *
 * Results are deterministic for a given seed and settings, whatever the
 * thread count. A trainer belongs to one thread at a time; it uses
 * FER_CASCADE_TRAIN_THREADS threads inside (OpenMP builds).
 */
#ifndef FER_CASCADE_TRAIN_H
#define FER_CASCADE_TRAIN_H

#include "core.h"
#include "detect.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fer_cascade_trainer fer_cascade_trainer;

/* Boosting variants (FER_CASCADE_TRAIN_BOOST). Values are part of the ABI. */
typedef enum fer_cascade_boost {
  FER_BOOST_DISCRETE = 1, /* Discrete AdaBoost: leaves +-alpha */
  FER_BOOST_REAL = 2,     /* Real AdaBoost: leaves half log-odds */
  FER_BOOST_GENTLE = 3    /* Gentle AdaBoost: leaves weighted mean label */
} fer_cascade_boost;

/* Feature sets (FER_CASCADE_TRAIN_FEATURE_SET). Values are part of the ABI. */
typedef enum fer_cascade_feature_set {
  FER_FEATURES_HAAR_UPRIGHT = 1, /* edge, line and centre-surround rectangles */
  FER_FEATURES_HAAR_ALL = 2,     /* the same plus 45-degree tilted ones */
  FER_FEATURES_LBP = 3           /* multi-block LBP: stumps only (tree_depth 1) */
} fer_cascade_feature_set;

/* Keys for fer_cascade_trainer_set/get; every value is a double, integer
 * settings must hold whole numbers. Values are part of the ABI. */
typedef enum fer_cascade_train_param {
  FER_CASCADE_TRAIN_WINDOW_WIDTH = 1,     /* default 24, [8, 64] */
  FER_CASCADE_TRAIN_WINDOW_HEIGHT = 2,    /* default 24, [8, 64] */
  FER_CASCADE_TRAIN_STAGES = 3,           /* default 20, [1, 100] */
  FER_CASCADE_TRAIN_MIN_HIT_RATE = 4,     /* per stage, default 0.995, (0, 1] */
  FER_CASCADE_TRAIN_MAX_FALSE_ALARM = 5,  /* per stage, default 0.5, (0, 1] */
  FER_CASCADE_TRAIN_BOOST = 6,            /* fer_cascade_boost, default GENTLE */
  FER_CASCADE_TRAIN_TREE_DEPTH = 7,       /* 1 = stumps (default), up to 4 */
  FER_CASCADE_TRAIN_FEATURE_SET = 8,      /* fer_cascade_feature_set, default HAAR_UPRIGHT */
  FER_CASCADE_TRAIN_BUFFER_MB = 9,        /* precomputed feature values, default 1024, [0, 65536] */
  FER_CASCADE_TRAIN_THREADS = 10,         /* 0 (default) = fer_get_num_threads() */
  FER_CASCADE_TRAIN_SEED = 11,            /* default 1, [0, 2^53] */
  FER_CASCADE_TRAIN_NEGATIVES = 12,       /* negatives per stage, default 0 = as many as positives */
  FER_CASCADE_TRAIN_POSITIVES = 13,       /* positives boosted on per stage, default 0 = all accepted */
  FER_CASCADE_TRAIN_MAX_WEAK = 14,        /* weak trees per stage at most, default 200 */
  FER_CASCADE_TRAIN_MAX_FEATURES = 15,    /* features sampled from the set, default 0 = all */
  FER_CASCADE_TRAIN_POSITION_STEP = 16,   /* grid step of feature positions and sizes, default 1 */
  /* 1: each stage threshold keeps MIN_HIT_RATE of the accepted positives
   * beyond POSITIVES (held out: not boosted on) instead of the training
   * ones; it generalises better but needs more trees. Default 0. */
  FER_CASCADE_TRAIN_HOLD_OUT = 17
} fer_cascade_train_param;

/* Progress after each finished stage (and after its state file is
 * written): return nonzero to stop training there (fer_cascade_trainer_run
 * then returns FER_ERR_CANCELLED with the stages so far). `weak_count` trees; hit and false-alarm rates measured on the
 * stage's training samples; `acceptance_ratio` the fraction of scanned
 * negative windows the cascade before this stage accepted (OpenCV's
 * "acceptanceRatio"); `seconds` the stage's wall time. */
typedef int (*fer_cascade_progress_fn)(void *user, int stage, int weak_count,
                                       double hit_rate, double false_alarm,
                                       double acceptance_ratio,
                                       double seconds);

/* A new trainer with default settings and no samples.
 * Statuses: FER_ERR_INVALID_ARGUMENT (NULL out), FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_cascade_trainer_create(fer_cascade_trainer **out);
/* NULL is a no-op. */
FER_API void fer_cascade_trainer_free(fer_cascade_trainer *tr);

/* Settings. FER_ERR_INVALID_ARGUMENT out of range or not whole,
 * FER_ERR_NOT_FOUND unknown key, FER_ERR_MISUSE bad handle. Changing the
 * window size after adding positives is FER_ERR_MISUSE. */
FER_API fer_status fer_cascade_trainer_set(fer_cascade_trainer *tr,
                                           fer_cascade_train_param key,
                                           double value);
FER_API fer_status fer_cascade_trainer_get(const fer_cascade_trainer *tr,
                                           fer_cascade_train_param key,
                                           double *value);
/* Range and default of a key (pointers may be NULL); FER_ERR_NOT_FOUND. */
FER_API fer_status fer_cascade_train_param_bounds(fer_cascade_train_param key,
                                                  double *min_value,
                                                  double *max_value,
                                                  double *default_value);
/* "window_width", "stages", ...; NULL for an unknown key. */
FER_API const char *fer_cascade_train_param_name(fer_cascade_train_param key);
/* The key named `name`; FER_ERR_NOT_FOUND. */
FER_API fer_status fer_cascade_train_param_find(const char *name,
                                                fer_cascade_train_param *key);

/* Adds one positive: `width` x `height` 8-bit gray pixels with `stride`
 * bytes per row (0 = width), the object filling the whole region. It is
 * resized (area averaging) to the window and copied. When `mirror` is
 * nonzero its left-right mirror image is added too. Windows too flat for
 * the detector (it rejects them before any stage) are counted but not
 * kept. FER_ERR_INVALID_ARGUMENT, FER_ERR_OUT_OF_MEMORY, FER_ERR_MISUSE. */
FER_API fer_status fer_cascade_trainer_add_positive(fer_cascade_trainer *tr,
                                                    const uint8_t *pixels,
                                                    int width, int height,
                                                    size_t stride, int mirror);
/* Adds a negative image (gray or RGB; copied as gray). It must contain no
 * object. Images smaller than the window are refused with
 * FER_ERR_INVALID_ARGUMENT. */
FER_API fer_status fer_cascade_trainer_add_negative(fer_cascade_trainer *tr,
                                                    const fer_image *img);
/* Number of positives kept and negative images added. */
FER_API size_t fer_cascade_trainer_positive_count(const fer_cascade_trainer *tr);
FER_API size_t fer_cascade_trainer_negative_image_count(const fer_cascade_trainer *tr);

/* The progress callback (NULL for none), called on the training thread. */
FER_API fer_status fer_cascade_trainer_set_progress(fer_cascade_trainer *tr,
                                                    fer_cascade_progress_fn fn,
                                                    void *user);
/* A state file (NULL for none), written atomically after every stage: the
 * cascade so far in libfer's binary format. When it exists at the start of
 * fer_cascade_trainer_run, training continues after its last stage; with
 * the same samples and settings the result equals an uninterrupted run.
 * The path is copied. FER_ERR_OUT_OF_MEMORY, FER_ERR_MISUSE. */
FER_API fer_status fer_cascade_trainer_set_state_file(fer_cascade_trainer *tr,
                                                      const char *path);

/* Trains and returns the cascade (the caller frees it with
 * fer_cascade_free). When the negatives run out (the cascade rejects nearly
 * every window of the negative images) training ends early with the
 * stages finished so far and FER_OK; fer_cascade_trainer_message() says so.
 * When the progress callback asks to stop, *out holds the stages finished
 * so far and the status is FER_ERR_CANCELLED.
 * Statuses: FER_ERR_MISUSE, FER_ERR_INVALID_ARGUMENT (no positives or no
 * negative images), FER_ERR_UNSUPPORTED (LBP with tree_depth > 1), FER_ERR_OUT_OF_MEMORY,
 * FER_ERR_IO / FER_ERR_FORMAT (state file), FER_ERR_CANCELLED. */
FER_API fer_status fer_cascade_trainer_run(fer_cascade_trainer *tr,
                                           fer_cascade **out);
/* Why the last run ended ("20 stages trained", "negatives ran out at stage
 * 14: ..."); owned by the trainer, valid until the next run or free. */
FER_API const char *fer_cascade_trainer_message(const fer_cascade_trainer *tr);

/* ---- OpenCV XML output ------------------------------------------------- */

/* Writes a Haar or LBP cascade in OpenCV's current XML layout
 * (`opencv-cascade-classifier`), which cv::CascadeClassifier and
 * fer_cascade_load read back to the same thresholds (every float written
 * with 9 significant digits; stage thresholds with OpenCV's 1e-5 added back
 * so that loading restores the stored value). Atomic. FER_ERR_IO,
 * FER_ERR_MISUSE, FER_ERR_OUT_OF_MEMORY. Any thread. */
FER_API fer_status fer_cascade_save_xml(const fer_cascade *cascade,
                                        const char *path);
/* The same into a new buffer (NUL-terminated; *out_size excludes the NUL)
 * that the caller frees with fer_free(). */
FER_API fer_status fer_cascade_encode_xml(const fer_cascade *cascade,
                                          char **out_data, size_t *out_size);

#ifdef __cplusplus
}
#endif

#endif /* FER_CASCADE_TRAIN_H */
