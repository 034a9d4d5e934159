/*
 * libfer training data: data sets, augmentation, evaluation metrics and SVG
 * charts. Independent of the CNN engine: it produces float batches and int
 * labels and consumes predicted probabilities or classes.
 *
 * Thread safety: a fer_dataset and a fer_augment are read-only once built;
 * any number of threads may call the const functions on them at once (batch
 * making included: its random draws are a pure function of the arguments and
 * use no shared state). A fer_metrics accumulates and belongs to one thread
 * at a time.
 */
#ifndef FER_DATA_H
#define FER_DATA_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Data sets                                                                */
/* ------------------------------------------------------------------------ */

/* Images stored compactly as uint8, N x C x H x W (planes of rows), each
 * with an int label in [0, class count), plus the list of class names. */
typedef struct fer_dataset fer_dataset;

/* Which rows of a FER2013 CSV to keep, by its `Usage` column. Values are part
 * of the ABI. */
typedef enum fer_usage {
  FER_USAGE_ALL = 0,
  FER_USAGE_TRAINING = 1,
  FER_USAGE_PUBLIC_TEST = 2,
  FER_USAGE_PRIVATE_TEST = 3
} fer_usage;

/* Load flags (bitwise or). */
#define FER_DATASET_DEFAULT 0u
/* Skip malformed CSV rows and unreadable images instead of failing; the
 * number skipped is reported by fer_dataset_skipped(). */
#define FER_DATASET_SKIP_BAD 1u
/* Folder layout: skip class folders whose name is not in the class list
 * (counted by fer_dataset_skipped_folders()) instead of failing. */
#define FER_DATASET_SKIP_UNKNOWN_CLASSES 2u

/* FER2013's seven classes in the CSV's integer order: angry, disgust, fear,
 * happy, sad, surprise, neutral. Side 48, 1 channel. */
#define FER_FER2013_CLASSES 7
#define FER_FER2013_SIDE 48
FER_API int fer_fer2013_class_count(void);
/* Static string, or NULL when `index` is out of range. */
FER_API const char *fer_fer2013_class_name(int index);

/* Loads a FER2013 CSV file (header `emotion,pixels,Usage`, columns in any
 * order, `Usage` optional when `usage` is FER_USAGE_ALL; each `pixels` field
 * 2304 space-separated values 0..255, row-major 48x48), keeping the rows
 * selected by `usage`. A file starting with the gzip magic (1f 8b) is
 * decompressed on the fly, whatever its name. Labels are the CSV's integers;
 * class names are fer_fer2013_class_name()'s. Rows that `usage` leaves out
 * are checked for their field count, emotion and Usage only (their pixels
 * are not parsed, which keeps loading one split fast). Stores the new data
 * set in *out (NULL on failure); free it with fer_dataset_free().
 * Statuses: FER_ERR_IO (cannot open or read; message names the path),
 * FER_ERR_FORMAT (a malformed header or row: message "path:LINE: what is
 * wrong"; with FER_DATASET_SKIP_BAD bad rows are skipped and counted
 * instead), FER_ERR_NOT_FOUND (a needed column is missing),
 * FER_ERR_TOO_LARGE (a line over 1 MiB), FER_ERR_TRUNCATED or
 * FER_ERR_CHECKSUM (a damaged .gz file; never skipped),
 * FER_ERR_OUT_OF_MEMORY, FER_ERR_INVALID_ARGUMENT. Thread-safe. */
FER_API fer_status fer_dataset_load_fer2013_csv(const char *path,
                                                fer_usage usage,
                                                unsigned flags,
                                                fer_dataset **out);

/* The same from a CSV text in memory (not gzip), which is copied. Messages
 * name the source "<memory>". */
FER_API fer_status fer_dataset_parse_fer2013_csv(const void *data, size_t size,
                                                 fer_usage usage,
                                                 unsigned flags,
                                                 fer_dataset **out);

/* Loads a folder of class folders (`dir/<class>/<image>`, the Kaggle and
 * Keras layout). Each sub-folder name is matched to `class_names` by name,
 * ignoring case, never by position; NULL `class_names` takes the sub-folder
 * names themselves, sorted. Files ending in .jpg .jpeg .png .pgm .ppm .pnm
 * .bmp (any case) are decoded with fer_image_load(), converted to `channels`
 * (1 gray, 3 RGB) and resized to `width` x `height` with area averaging when
 * their size differs. Order is deterministic: class folders, then files,
 * sorted by name (bytewise). Stores the data set in *out (NULL on failure).
 * Statuses: FER_ERR_IO (a folder cannot be read), FER_ERR_NOT_FOUND (a
 * sub-folder is not a class; message names the folder), the decoder's status
 * for an unreadable image (message names the path; with
 * FER_DATASET_SKIP_BAD it is skipped and counted), FER_ERR_OUT_OF_MEMORY,
 * FER_ERR_INVALID_ARGUMENT. Thread-safe. */
FER_API fer_status fer_dataset_load_folder(const char *dir,
                                           const char *const *class_names,
                                           int num_classes, int channels,
                                           int height, int width,
                                           unsigned flags, fer_dataset **out);

/* A data set from caller arrays, copied: `pixels` holds count x C x H x W
 * bytes, `labels` count ints in [0, num_classes). `class_names` may be NULL
 * (names become "0", "1", ...). count may be 0.
 * Statuses: FER_ERR_INVALID_ARGUMENT (bad sizes or a label out of range; the
 * message names the sample), FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_dataset_from_u8(const uint8_t *pixels,
                                       const int32_t *labels, size_t count,
                                       int channels, int height, int width,
                                       const char *const *class_names,
                                       int num_classes, fer_dataset **out);

/* As fer_dataset_from_u8() from floats: each value divided by `scale` (for
 * example 1/255 for values in [0, 1]) is rounded to the nearest integer,
 * which must lie in 0..255 (FER_ERR_INVALID_ARGUMENT naming the element
 * otherwise, NaN included). */
FER_API fer_status fer_dataset_from_f32(const float *values,
                                        const int32_t *labels, size_t count,
                                        int channels, int height, int width,
                                        float scale,
                                        const char *const *class_names,
                                        int num_classes, fer_dataset **out);

FER_API void fer_dataset_free(fer_dataset *ds);

/* Accessors. On a NULL or freed handle the counts are 0 and names NULL. */
FER_API size_t fer_dataset_count(const fer_dataset *ds);
FER_API int fer_dataset_channels(const fer_dataset *ds);
FER_API int fer_dataset_height(const fer_dataset *ds);
FER_API int fer_dataset_width(const fer_dataset *ds);
FER_API int fer_dataset_class_count(const fer_dataset *ds);
/* Owned by the data set; NULL when `index` is out of range. */
FER_API const char *fer_dataset_class_name(const fer_dataset *ds, int index);
/* Number of samples with label `label` (0 when out of range). */
FER_API size_t fer_dataset_class_size(const fer_dataset *ds, int label);
/* Label of sample `index`, or -1 when out of range. */
FER_API int32_t fer_dataset_label(const fer_dataset *ds, size_t index);
/* Rows or images skipped by FER_DATASET_SKIP_BAD while loading. */
FER_API size_t fer_dataset_skipped(const fer_dataset *ds);
/* Class folders skipped by FER_DATASET_SKIP_UNKNOWN_CLASSES. */
FER_API size_t fer_dataset_skipped_folders(const fer_dataset *ds);
/* The C x H x W bytes of sample `index`, owned by the data set; NULL when
 * out of range. */
FER_API const uint8_t *fer_dataset_pixels(const fer_dataset *ds, size_t index);

/* Writes sample `index` as C x H x W floats, each byte times `scale`, into
 * `dst` (room for `capacity` floats). Statuses: FER_ERR_INVALID_ARGUMENT
 * (index out of range), FER_ERR_BUFFER_TOO_SMALL, FER_ERR_MISUSE. */
FER_API fer_status fer_dataset_get_sample(const fer_dataset *ds, size_t index,
                                          float scale, float *dst,
                                          size_t capacity);

/* Splits into two new data sets, shuffled by `seed`: *validation gets
 * round(fraction x count) samples (per class when `stratified` is non-zero,
 * so every class keeps its share), *train the rest; both keep the original
 * relative order. A pure function of (ds, fraction, seed, stratified).
 * fraction in [0, 1]. Both outputs are NULL on failure.
 * Statuses: FER_ERR_INVALID_ARGUMENT, FER_ERR_OUT_OF_MEMORY, FER_ERR_MISUSE. */
FER_API fer_status fer_dataset_split(const fer_dataset *ds, double fraction,
                                     uint64_t seed, int stratified,
                                     fer_dataset **train,
                                     fer_dataset **validation);

/* A new data set of the samples at `indices` (n of them, repeats allowed), in
 * that order. Statuses: FER_ERR_INVALID_ARGUMENT (an index out of range,
 * named), FER_ERR_OUT_OF_MEMORY, FER_ERR_MISUSE. */
FER_API fer_status fer_dataset_subset(const fer_dataset *ds,
                                      const uint32_t *indices, size_t n,
                                      fer_dataset **out);

/* A new data set with the samples of `a` then those of `b`. Shapes must be
 * equal (FER_ERR_SHAPE); `b`'s labels are mapped to `a`'s classes by name,
 * ignoring case (FER_ERR_NOT_FOUND naming a class `a` lacks). */
FER_API fer_status fer_dataset_concat(const fer_dataset *a,
                                      const fer_dataset *b, fer_dataset **out);

/* The order of samples for one epoch: writes a permutation of 0..n-1 into
 * `order` (n entries), a pure function of (n, seed, epoch), so that a run
 * resumed at any epoch sees the same order. Statuses:
 * FER_ERR_INVALID_ARGUMENT (NULL order with n > 0, n over 2^32-1). */
FER_API fer_status fer_epoch_order(size_t n, uint64_t seed, uint32_t epoch,
                                   uint32_t *order);

/* ------------------------------------------------------------------------ */
/* Augmentation                                                             */
/* ------------------------------------------------------------------------ */

/* A set of random transforms applied on the fly to each sample. The draws
 * for a sample are a pure function of (seed, epoch, sample index), so a run
 * killed and resumed mid-way gets the same augmentations, in any batch
 * order and on any thread. Transforms apply in this order: geometry (shift,
 * rotation and zoom about the centre, bilinear, then the horizontal flip),
 * brightness, contrast, random erasing. */
typedef struct fer_augment fer_augment;

/* Parameters, all doubles. Values are part of the ABI. fer_augment_param_info
 * gives each one's name, default and bounds. Every transform has its own
 * probability; with all probabilities 0 (the defaults) nothing changes. */
typedef enum fer_augment_param {
  FER_AUG_FLIP_PROB = 1,        /* horizontal flip */
  FER_AUG_SHIFT_PROB = 2,
  FER_AUG_SHIFT_MAX = 3,        /* whole-pixel shift up to this fraction of W and H */
  FER_AUG_ROTATE_PROB = 4,
  FER_AUG_ROTATE_DEGREES = 5,   /* angle uniform in [-d, d] */
  FER_AUG_ZOOM_PROB = 6,
  FER_AUG_ZOOM_MIN = 7,         /* magnification uniform in [min, max]; >1 zooms in */
  FER_AUG_ZOOM_MAX = 8,
  FER_AUG_FILL_MODE = 9,        /* outside the source: 0 constant, 1 nearest edge */
  FER_AUG_FILL_VALUE = 10,      /* constant fill, 0..255 */
  FER_AUG_BRIGHTNESS_PROB = 11,
  FER_AUG_BRIGHTNESS = 12,      /* add delta*255, delta uniform in [-b, b] */
  FER_AUG_CONTRAST_PROB = 13,
  FER_AUG_CONTRAST = 14,        /* (x - mean) * f + mean, f uniform in [1-c, 1+c] */
  FER_AUG_ERASE_PROB = 15,      /* random erasing of one rectangle */
  FER_AUG_ERASE_AREA_MIN = 16,  /* its area as a fraction of the image */
  FER_AUG_ERASE_AREA_MAX = 17,
  FER_AUG_ERASE_ASPECT_MIN = 18, /* height/width, log-uniform in [min, max] */
  FER_AUG_ERASE_ASPECT_MAX = 19,
  FER_AUG_ERASE_VALUE = 20      /* fill of the erased rectangle, 0..255 */
} fer_augment_param;

/* A new augmenter with every parameter at its default, drawing from `seed`.
 * Statuses: FER_ERR_INVALID_ARGUMENT (NULL out), FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_augment_create(uint64_t seed, fer_augment **out);
FER_API void fer_augment_free(fer_augment *aug);
/* Sets one parameter. A range given by a MIN and a MAX key is used between
 * the two values whichever is larger, so they can be set in any order.
 * Statuses: FER_ERR_NOT_FOUND (unknown key), FER_ERR_INVALID_ARGUMENT (value
 * outside the bounds, NaN, or a fraction for an integer key; the message
 * names the key and the bounds), FER_ERR_MISUSE. Not thread-safe against
 * concurrent use of the same augmenter. */
FER_API fer_status fer_augment_set(fer_augment *aug, fer_augment_param key,
                                   double value);
FER_API fer_status fer_augment_get(const fer_augment *aug,
                                   fer_augment_param key, double *value);
/* Name ("flip_prob"), default and bounds of a key; any output may be NULL.
 * FER_ERR_NOT_FOUND for an unknown key. */
FER_API fer_status fer_augment_param_info(fer_augment_param key,
                                          const char **name,
                                          double *default_value,
                                          double *min_value,
                                          double *max_value);
/* The key called `name`, or FER_ERR_NOT_FOUND. */
FER_API fer_status fer_augment_param_find(const char *name,
                                          fer_augment_param *key);

/* Augments one C x H x W byte image as sample `index` of epoch `epoch`,
 * writing C x H x W floats (each 0..255 value times `scale`) into `dst`,
 * which must not overlap `src`. Statuses: FER_ERR_INVALID_ARGUMENT,
 * FER_ERR_OUT_OF_MEMORY, FER_ERR_MISUSE. Thread-safe. */
FER_API fer_status fer_augment_apply(const fer_augment *aug, uint32_t epoch,
                                     uint64_t index, const uint8_t *src,
                                     int channels, int height, int width,
                                     float scale, float *dst);

/* Fills one batch: for each i < n, sample indices[i] of `ds`, augmented by
 * `aug` as sample indices[i] of `epoch` (NULL aug: no augmentation), goes to
 * x_out + i x C x H x W as floats times `scale`, and its label to
 * labels_out[i] (labels_out may be NULL). `x_capacity` is the number of
 * floats x_out holds. Statuses: FER_ERR_INVALID_ARGUMENT (an index out of
 * range, named), FER_ERR_BUFFER_TOO_SMALL, FER_ERR_OUT_OF_MEMORY,
 * FER_ERR_MISUSE. Thread-safe. */
FER_API fer_status fer_dataset_make_batch(const fer_dataset *ds,
                                          const fer_augment *aug,
                                          uint32_t epoch,
                                          const uint32_t *indices, size_t n,
                                          float scale, float *x_out,
                                          size_t x_capacity,
                                          int32_t *labels_out);

/* ------------------------------------------------------------------------ */
/* Metrics                                                                  */
/* ------------------------------------------------------------------------ */

/* Accumulates predictions against true labels for a classification task:
 * cross-entropy loss (when probabilities are given), accuracy, the confusion
 * matrix (rows true class, columns predicted class), per-class precision,
 * recall, F1 and support, and macro F1. One thread at a time. */
typedef struct fer_metrics fer_metrics;

/* Report formats. Values are part of the ABI. */
typedef enum fer_metrics_format {
  FER_METRICS_TEXT = 1, /* a readable table */
  FER_METRICS_CSV = 2,  /* one row per class, then macro and accuracy rows */
  FER_METRICS_JSON = 3
} fer_metrics_format;

/* `class_names` may be NULL (names "0", "1", ...); it is copied.
 * Statuses: FER_ERR_INVALID_ARGUMENT (num_classes < 1 or over 4096),
 * FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_metrics_create(int num_classes,
                                      const char *const *class_names,
                                      fer_metrics **out);
FER_API void fer_metrics_free(fer_metrics *m);
FER_API void fer_metrics_reset(fer_metrics *m);

/* Adds n samples given as probabilities (n x num_classes, row-major): the
 * prediction is the first class of highest probability, the loss
 * -ln(max(p[label], 1e-12)). Statuses: FER_ERR_INVALID_ARGUMENT (a label out
 * of range or a NaN probability, named; nothing is added), FER_ERR_MISUSE. */
FER_API fer_status fer_metrics_add_probs(fer_metrics *m, const float *probs,
                                         const int32_t *labels, size_t n);
/* Adds n samples given as predicted classes (no loss). Same statuses. */
FER_API fer_status fer_metrics_add_classes(fer_metrics *m,
                                           const int32_t *predicted,
                                           const int32_t *labels, size_t n);

FER_API int fer_metrics_class_count(const fer_metrics *m);
FER_API const char *fer_metrics_class_name(const fer_metrics *m, int index);
/* Samples added so far. */
FER_API uint64_t fer_metrics_count(const fer_metrics *m);
/* Mean cross-entropy over samples added with probabilities; NaN when none. */
FER_API double fer_metrics_loss(const fer_metrics *m);
/* Fraction correct; NaN when empty. */
FER_API double fer_metrics_accuracy(const fer_metrics *m);
/* Copies the num_classes x num_classes matrix (row = true class, column =
 * predicted class) into `dst` (capacity entries). Statuses:
 * FER_ERR_BUFFER_TOO_SMALL, FER_ERR_MISUSE. */
FER_API fer_status fer_metrics_confusion(const fer_metrics *m, uint64_t *dst,
                                         size_t capacity);
/* Per-class figures; any output may be NULL. A ratio with a zero
 * denominator (a class never predicted, or absent) is 0. Statuses:
 * FER_ERR_INVALID_ARGUMENT (class out of range), FER_ERR_MISUSE. */
FER_API fer_status fer_metrics_class_stats(const fer_metrics *m, int label,
                                           double *precision, double *recall,
                                           double *f1, uint64_t *support);
/* Unweighted mean of the per-class F1 over all classes; NaN when empty. */
FER_API double fer_metrics_macro_f1(const fer_metrics *m);

/* The report as a NUL-terminated string in *out, freed with fer_free().
 * Statuses: FER_ERR_INVALID_ARGUMENT (unknown format), FER_ERR_OUT_OF_MEMORY,
 * FER_ERR_MISUSE. */
FER_API fer_status fer_metrics_report(const fer_metrics *m,
                                      fer_metrics_format format, char **out);
/* Writes the report to `path` atomically. Adds FER_ERR_IO. */
FER_API fer_status fer_metrics_save(const fer_metrics *m,
                                    fer_metrics_format format,
                                    const char *path);

/* ------------------------------------------------------------------------ */
/* SVG charts                                                               */
/* ------------------------------------------------------------------------ */

/* Training curves as a self-contained SVG: two panels (loss, accuracy) over
 * epochs 1..epochs, training vs validation, with axes, ticks, a legend and
 * `title` (may be NULL). Any of the four series may be NULL (not drawn);
 * NaN points are left out. The SVG text goes to *out_svg, freed with
 * fer_free(). Statuses: FER_ERR_INVALID_ARGUMENT (epochs < 1 or over
 * 100000, all series NULL), FER_ERR_OUT_OF_MEMORY. Thread-safe. */
FER_API fer_status fer_chart_training_curves(const float *train_loss,
                                             const float *val_loss,
                                             const float *train_accuracy,
                                             const float *val_accuracy,
                                             int epochs, const char *title,
                                             char **out_svg);

/* The confusion matrix of `m` as an SVG heat map: class names on both axes,
 * the count in each cell, colour by the row-normalised fraction (recall
 * along the diagonal). `title` may be NULL. Statuses as above, plus
 * FER_ERR_MISUSE. */
FER_API fer_status fer_chart_confusion(const fer_metrics *m, const char *title,
                                       char **out_svg);

/* Writes an SVG string (or any text) to `path` atomically. FER_ERR_IO. */
FER_API fer_status fer_chart_save(const char *svg, const char *path);

#ifdef __cplusplus
}
#endif

#endif /* FER_DATA_H */
