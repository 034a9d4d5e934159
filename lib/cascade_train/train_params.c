/* The fer_cascade_trainer handle: settings table, samples in. */
#include <math.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/params.h"
#include "cascade_train/train_internal.h"
#include "image/image_internal.h"

/* One row per key: key, name, kind, min, max, default, and whether the
 * minimum itself is refused (a stage must keep some hits, allow some
 * false alarms). */
#define ROW(key, name, kind, min, max, def, min_rule) \
  FER__PARAM_AT(struct fer_cascade_trainer, values, key, name, kind, min, max, def, min_rule)
#define INCL FER__PARAM_MIN_INCLUSIVE
static const fer__param rows[FER__TRAIN_PARAM_COUNT] = {
  ROW(FER_CASCADE_TRAIN_WINDOW_WIDTH, "window_width", FER__PARAM_INT, 8, 64, 24, INCL),
  ROW(FER_CASCADE_TRAIN_WINDOW_HEIGHT, "window_height", FER__PARAM_INT, 8, 64, 24, INCL),
  ROW(FER_CASCADE_TRAIN_STAGES, "stages", FER__PARAM_INT, 1, 100, 20, INCL),
  ROW(FER_CASCADE_TRAIN_MIN_HIT_RATE, "min_hit_rate", FER__PARAM_FLOAT, 0, 1, 0.995,
      FER__PARAM_MIN_EXCLUSIVE),
  ROW(FER_CASCADE_TRAIN_MAX_FALSE_ALARM, "max_false_alarm", FER__PARAM_FLOAT, 0, 1, 0.5,
      FER__PARAM_MIN_EXCLUSIVE),
  ROW(FER_CASCADE_TRAIN_BOOST, "boost", FER__PARAM_ENUM, 1, 3, FER_BOOST_GENTLE, INCL),
  ROW(FER_CASCADE_TRAIN_TREE_DEPTH, "tree_depth", FER__PARAM_INT, 1, 4, 1, INCL),
  ROW(FER_CASCADE_TRAIN_FEATURE_SET, "feature_set", FER__PARAM_ENUM, 1, 3,
      FER_FEATURES_HAAR_UPRIGHT, INCL),
  ROW(FER_CASCADE_TRAIN_BUFFER_MB, "buffer_mb", FER__PARAM_INT, 0, 65536, 1024, INCL),
  ROW(FER_CASCADE_TRAIN_THREADS, "threads", FER__PARAM_INT, 0, 1024, 0, INCL),
  ROW(FER_CASCADE_TRAIN_SEED, "seed", FER__PARAM_INT, 0, 9007199254740992.0, 1, INCL),
  ROW(FER_CASCADE_TRAIN_NEGATIVES, "negatives", FER__PARAM_INT, 0, 10000000, 0, INCL),
  ROW(FER_CASCADE_TRAIN_POSITIVES, "positives", FER__PARAM_INT, 0, 10000000, 0, INCL),
  ROW(FER_CASCADE_TRAIN_MAX_WEAK, "max_weak", FER__PARAM_INT, 1, 10000, 200, INCL),
  ROW(FER_CASCADE_TRAIN_MAX_FEATURES, "max_features", FER__PARAM_INT, 0, 10000000, 0, INCL),
  ROW(FER_CASCADE_TRAIN_POSITION_STEP, "position_step", FER__PARAM_INT, 1, 16, 1, INCL),
  ROW(FER_CASCADE_TRAIN_HOLD_OUT, "hold_out", FER__PARAM_BOOL, 0, 1, 0, INCL),
};
#undef INCL
#undef ROW
_Static_assert(FER_CASCADE_TRAIN_HOLD_OUT + 1 == FER__TRAIN_PARAM_COUNT,
               "one rows[] row per key");
static const fer__param_table params =
    FER__PARAM_TABLE("cascade trainer", rows, FER_ERR_NOT_FOUND);

static fer_status check(const fer_cascade_trainer *tr, const char *who) {
  if (!tr) return fer__fail(FER_ERR_MISUSE, "%s: trainer is NULL", who);
  if (tr->magic != FER__TRAINER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_cascade_trainer (freed?)", who);
  return FER_OK;
}

int fer__train_int(const fer_cascade_trainer *tr, fer_cascade_train_param key) {
  return (int)tr->values[key];
}

fer_status fer_cascade_trainer_create(fer_cascade_trainer **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_trainer_create: NULL out");
  *out = NULL;
  fer_cascade_trainer *tr = fer__calloc(1, sizeof *tr);
  if (!tr) return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_cascade_trainer_create: out of memory");
  tr->magic = FER__TRAINER_MAGIC;
  fer__param_set_defaults(&params, tr);
  *out = tr;
  return FER_OK;
}

void fer_cascade_trainer_free(fer_cascade_trainer *tr) {
  if (!tr || tr->magic != FER__TRAINER_MAGIC) return;
  tr->magic = 0;
  fer__free(tr->positives);
  for (size_t i = 0; i < tr->negative_count; i++) fer_image_free(tr->negatives[i]);
  fer__free(tr->negatives);
  fer__free(tr->state_path);
  fer__free(tr);
}

fer_status fer_cascade_train_param_bounds(fer_cascade_train_param key, double *min_value,
                                          double *max_value, double *default_value) {
  return fer__param_info(&params, "fer_cascade_train_param_bounds", (int)key, NULL, min_value,
                         max_value, default_value);
}

const char *fer_cascade_train_param_name(fer_cascade_train_param key) {
  const fer__param *row = fer__param_row(&params, (int)key);
  return row ? row->name : NULL;
}

fer_status fer_cascade_train_param_find(const char *name, fer_cascade_train_param *key) {
  int found = 0;
  fer_status st = fer__param_find(&params, "fer_cascade_train_param_find", name,
                                  key ? &found : NULL);
  if (st == FER_OK) *key = (fer_cascade_train_param)found;
  return st;
}

fer_status fer_cascade_trainer_set(fer_cascade_trainer *tr, fer_cascade_train_param key,
                                   double value) {
  static const char who[] = "fer_cascade_trainer_set";
  fer_status st = check(tr, who);
  const fer__param *row = NULL;
  if (st == FER_OK) st = fer__param_check(&params, who, (int)key, value, &row);
  if (st != FER_OK) return st;
  if ((key == FER_CASCADE_TRAIN_WINDOW_WIDTH || key == FER_CASCADE_TRAIN_WINDOW_HEIGHT) &&
      tr->positive_count > 0 && value != tr->values[key])
    return fer__fail(FER_ERR_MISUSE, "%s: %s cannot change after positives were added", who,
                     row->name);
  tr->values[key] = value;
  return FER_OK;
}

fer_status fer_cascade_trainer_get(const fer_cascade_trainer *tr, fer_cascade_train_param key,
                                   double *value) {
  fer_status st = check(tr, "fer_cascade_trainer_get");
  return st ? st : fer__param_get(&params, "fer_cascade_trainer_get", tr, (int)key, value);
}

/* Appends one window-sized positive; flat windows (which the detector
 * rejects before any stage) are counted and dropped. */
static fer_status keep_positive(fer_cascade_trainer *tr, const uint8_t *window) {
  int w = fer__train_int(tr, FER_CASCADE_TRAIN_WINDOW_WIDTH);
  int h = fer__train_int(tr, FER_CASCADE_TRAIN_WINDOW_HEIGHT);
  double n = 0, s = 0, s2 = 0;
  for (int y = 1; y < h - 1; y++)
    for (int x = 1; x < w - 1; x++) {
      double v = window[y * w + x];
      n++;
      s += v;
      s2 += v * v;
    }
  /* The scan's test: sqrt(area * sumsq - sum^2) > 10 * area, i.e. a
   * standard deviation above 10 grey levels (checked again exactly when the
   * sample's integral image is built). */
  if (!(n * s2 - s * s > 100.0 * n * n)) {
    tr->flat_positives++;
    return FER_OK;
  }
  size_t size = (size_t)w * (size_t)h;
  if (tr->positive_count == tr->positive_capacity) {
    size_t cap = tr->positive_capacity ? tr->positive_capacity * 2 : 256;
    uint8_t *p = fer__realloc(tr->positives, fer__mul_size(cap, size));
    if (!p) return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_cascade_trainer_add_positive: out of memory");
    tr->positives = p;
    tr->positive_capacity = cap;
  }
  memcpy(tr->positives + tr->positive_count * size, window, size);
  tr->positive_count++;
  return FER_OK;
}

fer_status fer_cascade_trainer_add_positive(fer_cascade_trainer *tr, const uint8_t *pixels,
                                            int width, int height, size_t stride, int mirror) {
  fer_status st = check(tr, "fer_cascade_trainer_add_positive");
  if (st != FER_OK) return st;
  if (!pixels || width < 1 || height < 1 || width > 65536 || height > 65536)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_cascade_trainer_add_positive: no pixels or size %dx%d outside 1..65536",
                     width, height);
  if (stride == 0) stride = (size_t)width;
  if (stride < (size_t)width)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_cascade_trainer_add_positive: stride %zu below width %d", stride, width);
  int w = fer__train_int(tr, FER_CASCADE_TRAIN_WINDOW_WIDTH);
  int h = fer__train_int(tr, FER_CASCADE_TRAIN_WINDOW_HEIGHT);
  uint8_t window[64 * 64], flipped[64 * 64];
  fer__train_resize_area(pixels, width, height, stride, window, w, h);
  st = keep_positive(tr, window);
  if (st != FER_OK || !mirror) return st;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) flipped[y * w + x] = window[y * w + (w - 1 - x)];
  return keep_positive(tr, flipped);
}

fer_status fer_cascade_trainer_add_negative(fer_cascade_trainer *tr, const fer_image *img) {
  fer_status st = check(tr, "fer_cascade_trainer_add_negative");
  if (st != FER_OK) return st;
  st = fer__image_check(img, "fer_cascade_trainer_add_negative");
  if (st != FER_OK) return st;
  int w = fer__train_int(tr, FER_CASCADE_TRAIN_WINDOW_WIDTH);
  int h = fer__train_int(tr, FER_CASCADE_TRAIN_WINDOW_HEIGHT);
  if (fer_image_width(img) < w || fer_image_height(img) < h)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_cascade_trainer_add_negative: image %dx%d smaller than the %dx%d window",
                     fer_image_width(img), fer_image_height(img), w, h);
  fer_image *gray;
  if (fer_image_channels(img) == 1) st = fer_image_clone(img, &gray);
  else st = fer_image_to_gray(img, &gray);
  if (st != FER_OK) return st;
  if (tr->negative_count == tr->negative_capacity) {
    size_t cap = tr->negative_capacity ? tr->negative_capacity * 2 : 64;
    fer_image **p = fer__realloc(tr->negatives, fer__mul_size(cap, sizeof *p));
    if (!p) {
      fer_image_free(gray);
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_cascade_trainer_add_negative: out of memory");
    }
    tr->negatives = p;
    tr->negative_capacity = cap;
  }
  tr->negatives[tr->negative_count++] = gray;
  return FER_OK;
}

size_t fer_cascade_trainer_positive_count(const fer_cascade_trainer *tr) {
  return check(tr, "fer_cascade_trainer_positive_count") == FER_OK ? tr->positive_count : 0;
}

size_t fer_cascade_trainer_negative_image_count(const fer_cascade_trainer *tr) {
  return check(tr, "fer_cascade_trainer_negative_image_count") == FER_OK ? tr->negative_count : 0;
}

fer_status fer_cascade_trainer_set_progress(fer_cascade_trainer *tr, fer_cascade_progress_fn fn,
                                            void *user) {
  fer_status st = check(tr, "fer_cascade_trainer_set_progress");
  if (st != FER_OK) return st;
  tr->progress = fn;
  tr->progress_user = user;
  return FER_OK;
}

fer_status fer_cascade_trainer_set_state_file(fer_cascade_trainer *tr, const char *path) {
  fer_status st = check(tr, "fer_cascade_trainer_set_state_file");
  if (st != FER_OK) return st;
  char *copy = NULL;
  if (path) {
    size_t n = strlen(path) + 1;
    copy = fer__malloc(n);
    if (!copy) return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_cascade_trainer_set_state_file: out of memory");
    memcpy(copy, path, n);
  }
  fer__free(tr->state_path);
  tr->state_path = copy;
  return FER_OK;
}

const char *fer_cascade_trainer_message(const fer_cascade_trainer *tr) {
  if (!tr || tr->magic != FER__TRAINER_MAGIC) return "";
  return tr->message;
}
