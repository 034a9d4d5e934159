/* The fer_dataset handle: building, accessors, arrays, split, subset and
 * concatenation. Loaders for files live in dataset_csv.c and
 * dataset_folder.c; batches in dataset_batch.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "data/dataset_internal.h"

fer_status fer__dataset_check(const fer_dataset *ds, const char *who) {
  if (!ds) return fer__fail(FER_ERR_MISUSE, "%s: data set is NULL", who);
  if (ds->magic != FER__DATASET_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_dataset (freed?)",
                     who);
  return FER_OK;
}

static int is_live(const fer_dataset *ds) {
  return ds && ds->magic == FER__DATASET_MAGIC;
}

int fer__equal_ignore_case(const char *a, size_t a_len, const char *b) {
  size_t i = 0;
  for (; i < a_len; i++) {
    unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
    if (y == '\0') return 0;
    if (x >= 'A' && x <= 'Z') x = (unsigned char)(x + 32);
    if (y >= 'A' && y <= 'Z') y = (unsigned char)(y + 32);
    if (x != y) return 0;
  }
  return b[i] == '\0';
}

int fer__dataset_find_class(const fer_dataset *ds, const char *name,
                            size_t len) {
  for (int k = 0; k < ds->num_classes; k++)
    if (fer__equal_ignore_case(name, len, ds->class_names[k])) return k;
  return -1;
}

static char *copy_string(const char *s) {
  size_t len = strlen(s);
  char *copy = fer__malloc(len + 1);
  if (copy) memcpy(copy, s, len + 1);
  return copy;
}

fer_status fer__dataset_new(int channels, int height, int width,
                            const char *const *class_names, int num_classes,
                            const char *who, fer_dataset **out) {
  *out = NULL;
  if (channels != 1 && channels != 3)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %d channels (1 or 3 are supported)", who, channels);
  if (height < 1 || width < 1 || height > FER__DATASET_MAX_SIDE ||
      width > FER__DATASET_MAX_SIDE)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: image size %dx%d outside 1..%d", who, width, height,
                     FER__DATASET_MAX_SIDE);
  if (num_classes < 1 || num_classes > FER__DATASET_MAX_CLASSES)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %d classes (1..%d are supported)", who, num_classes,
                     FER__DATASET_MAX_CLASSES);
  if (class_names)
    for (int k = 0; k < num_classes; k++)
      if (!class_names[k] || !class_names[k][0])
        return fer__fail(FER_ERR_INVALID_ARGUMENT,
                         "%s: class name %d is NULL or empty", who, k);
  fer_dataset *ds = fer__calloc(1, sizeof *ds);
  if (!ds) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
  ds->magic = FER__DATASET_MAGIC;
  ds->channels = channels;
  ds->height = height;
  ds->width = width;
  ds->sample_size = (size_t)channels * (size_t)height * (size_t)width;
  ds->class_names = fer__calloc((size_t)num_classes, sizeof *ds->class_names);
  if (!ds->class_names) {
    fer_dataset_free(ds);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
  }
  ds->num_classes = num_classes;
  for (int k = 0; k < num_classes; k++) {
    char number[16];
    snprintf(number, sizeof number, "%d", k);
    ds->class_names[k] = copy_string(class_names ? class_names[k] : number);
    if (!ds->class_names[k]) {
      fer_dataset_free(ds);
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    }
  }
  *out = ds;
  return FER_OK;
}

/* Grows both arrays to hold `wanted` samples. */
static int reserve(fer_dataset *ds, size_t wanted) {
  if (wanted <= ds->capacity) return 1;
  if (wanted > FER__DATASET_MAX_COUNT) {
    fer__fail(FER_ERR_TOO_LARGE, "data set: more than %zu samples",
              FER__DATASET_MAX_COUNT);
    return 0;
  }
  size_t cap = ds->capacity ? ds->capacity : 64;
  while (cap < wanted) cap *= 2;
  uint8_t *pixels =
      fer__realloc(ds->pixels, fer__mul_size(cap, ds->sample_size));
  if (!pixels) goto oom;
  ds->pixels = pixels;
  int32_t *labels = fer__realloc(ds->labels, cap * sizeof *labels);
  if (!labels) goto oom;
  ds->labels = labels;
  ds->capacity = cap;
  return 1;
oom:
  fer__fail(FER_ERR_OUT_OF_MEMORY, "data set: out of memory for %zu samples",
            cap);
  return 0;
}

uint8_t *fer__dataset_append(fer_dataset *ds, int32_t label) {
  if (!reserve(ds, ds->count + 1)) return NULL;
  ds->labels[ds->count] = label;
  return ds->pixels + ds->count++ * ds->sample_size;
}

void fer__dataset_drop_last(fer_dataset *ds) {
  if (ds->count) ds->count--;
}

void fer__dataset_shrink(fer_dataset *ds) {
  if (ds->count == ds->capacity || ds->count == 0) return;
  uint8_t *pixels = fer__realloc(ds->pixels, ds->count * ds->sample_size);
  if (pixels) ds->pixels = pixels;
  int32_t *labels = fer__realloc(ds->labels, ds->count * sizeof *labels);
  if (labels) ds->labels = labels;
  if (pixels && labels) ds->capacity = ds->count;
}

void fer_dataset_free(fer_dataset *ds) {
  if (!is_live(ds)) return;
  for (int k = 0; k < ds->num_classes; k++) fer__free(ds->class_names[k]);
  fer__free(ds->class_names);
  fer__free(ds->pixels);
  fer__free(ds->labels);
  ds->magic = 0;
  fer__free(ds);
}

/* Shared by the two array constructors: checks shape and labels, allocates. */
static fer_status from_arrays(const void *values, const int32_t *labels,
                              size_t count, int channels, int height,
                              int width, const char *const *class_names,
                              int num_classes, const char *who,
                              fer_dataset **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  if (count && (!values || !labels))
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: pixels or labels is NULL",
                     who);
  if (count > FER__DATASET_MAX_COUNT)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: %zu samples (at most %zu)", who,
                     count, FER__DATASET_MAX_COUNT);
  for (size_t i = 0; i < count; i++)
    if (labels[i] < 0 || labels[i] >= num_classes)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: label %ld of sample %zu is outside 0..%d", who,
                       (long)labels[i], i, num_classes - 1);
  fer_dataset *ds;
  fer_status st = fer__dataset_new(channels, height, width, class_names,
                                   num_classes, who, &ds);
  if (st != FER_OK) return st;
  if (!reserve(ds, count)) {
    fer_dataset_free(ds);
    return fer__fail_prefix(FER_ERR_OUT_OF_MEMORY, who);
  }
  if (count) memcpy(ds->labels, labels, count * sizeof *labels);
  ds->count = count;
  *out = ds;
  return FER_OK;
}

fer_status fer_dataset_from_u8(const uint8_t *pixels, const int32_t *labels,
                               size_t count, int channels, int height,
                               int width, const char *const *class_names,
                               int num_classes, fer_dataset **out) {
  fer_status st = from_arrays(pixels, labels, count, channels, height, width,
                              class_names, num_classes, "fer_dataset_from_u8",
                              out);
  if (st != FER_OK) return st;
  if (count) memcpy((*out)->pixels, pixels, count * (*out)->sample_size);
  return FER_OK;
}

fer_status fer_dataset_from_f32(const float *values, const int32_t *labels,
                                size_t count, int channels, int height,
                                int width, float scale,
                                const char *const *class_names,
                                int num_classes, fer_dataset **out) {
  static const char who[] = "fer_dataset_from_f32";
  if (!(scale > 0.0f) || !isfinite(scale)) {
    if (out) *out = NULL;
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: scale %g is not positive",
                     who, (double)scale);
  }
  fer_status st = from_arrays(values, labels, count, channels, height, width,
                              class_names, num_classes, who, out);
  if (st != FER_OK) return st;
  fer_dataset *ds = *out;
  size_t total = count * ds->sample_size;
  for (size_t i = 0; i < total; i++) {
    double level = floor((double)values[i] / (double)scale + 0.5);
    if (!(level >= 0.0 && level <= 255.0)) { /* also catches NaN */
      size_t sample_size = ds->sample_size;
      fer_dataset_free(ds);
      *out = NULL;
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: value %g of sample %zu (element %zu) is outside "
                       "0..255 x scale",
                       who, (double)values[i], i / sample_size,
                       i % sample_size);
    }
    ds->pixels[i] = (uint8_t)level;
  }
  return FER_OK;
}

size_t fer_dataset_count(const fer_dataset *ds) {
  return is_live(ds) ? ds->count : 0;
}
int fer_dataset_channels(const fer_dataset *ds) {
  return is_live(ds) ? ds->channels : 0;
}
int fer_dataset_height(const fer_dataset *ds) {
  return is_live(ds) ? ds->height : 0;
}
int fer_dataset_width(const fer_dataset *ds) {
  return is_live(ds) ? ds->width : 0;
}
int fer_dataset_class_count(const fer_dataset *ds) {
  return is_live(ds) ? ds->num_classes : 0;
}
const char *fer_dataset_class_name(const fer_dataset *ds, int index) {
  if (!is_live(ds) || index < 0 || index >= ds->num_classes) return NULL;
  return ds->class_names[index];
}
size_t fer_dataset_class_size(const fer_dataset *ds, int label) {
  if (!is_live(ds)) return 0;
  size_t n = 0;
  for (size_t i = 0; i < ds->count; i++) n += ds->labels[i] == label;
  return n;
}
int32_t fer_dataset_label(const fer_dataset *ds, size_t index) {
  if (!is_live(ds) || index >= ds->count) return -1;
  return ds->labels[index];
}
size_t fer_dataset_skipped(const fer_dataset *ds) {
  return is_live(ds) ? ds->skipped : 0;
}
size_t fer_dataset_skipped_folders(const fer_dataset *ds) {
  return is_live(ds) ? ds->skipped_folders : 0;
}
const uint8_t *fer_dataset_pixels(const fer_dataset *ds, size_t index) {
  if (!is_live(ds) || index >= ds->count) return NULL;
  return ds->pixels + index * ds->sample_size;
}

fer_status fer_dataset_get_sample(const fer_dataset *ds, size_t index,
                                  float scale, float *dst, size_t capacity) {
  fer_status st = fer__dataset_check(ds, "fer_dataset_get_sample");
  if (st != FER_OK) return st;
  if (index >= ds->count)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_dataset_get_sample: index %zu outside 0..%zu", index,
                     ds->count ? ds->count - 1 : 0);
  if (!dst || capacity < ds->sample_size)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL,
                     "fer_dataset_get_sample: buffer of %zu floats, needs %zu",
                     dst ? capacity : 0, ds->sample_size);
  const uint8_t *src = ds->pixels + index * ds->sample_size;
  for (size_t i = 0; i < ds->sample_size; i++) dst[i] = (float)src[i] * scale;
  return FER_OK;
}

/* Copies the shape and class list of `ds` into a new empty data set. */
static fer_status empty_like(const fer_dataset *ds, const char *who,
                             fer_dataset **out) {
  return fer__dataset_new(ds->channels, ds->height, ds->width,
                          (const char *const *)ds->class_names,
                          ds->num_classes, who, out);
}

fer_status fer_dataset_subset(const fer_dataset *ds, const uint32_t *indices,
                              size_t n, fer_dataset **out) {
  static const char who[] = "fer_dataset_subset";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  fer_status st = fer__dataset_check(ds, who);
  if (st != FER_OK) return st;
  if (n && !indices)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: indices is NULL", who);
  for (size_t i = 0; i < n; i++)
    if (indices[i] >= ds->count)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: indices[%zu] = %lu is outside 0..%zu", who, i,
                       (unsigned long)indices[i],
                       ds->count ? ds->count - 1 : 0);
  fer_dataset *sub;
  st = empty_like(ds, who, &sub);
  if (st != FER_OK) return st;
  if (!reserve(sub, n)) {
    fer_dataset_free(sub);
    return fer__fail_prefix(FER_ERR_OUT_OF_MEMORY, who);
  }
  for (size_t i = 0; i < n; i++) {
    memcpy(sub->pixels + i * sub->sample_size,
           ds->pixels + (size_t)indices[i] * ds->sample_size, ds->sample_size);
    sub->labels[i] = ds->labels[indices[i]];
  }
  sub->count = n;
  *out = sub;
  return FER_OK;
}

/* Fisher-Yates over `items` with a generator seeded by `seed`. */
static void shuffle(uint32_t *items, size_t n, fer__rng *rng) {
  for (size_t i = n; i > 1; i--) {
    size_t j = fer__rng_below(rng, (uint32_t)i);
    uint32_t t = items[i - 1];
    items[i - 1] = items[j];
    items[j] = t;
  }
}

static size_t round_share(double fraction, size_t n) {
  return (size_t)floor(fraction * (double)n + 0.5);
}

fer_status fer_dataset_split(const fer_dataset *ds, double fraction,
                             uint64_t seed, int stratified,
                             fer_dataset **train, fer_dataset **validation) {
  static const char who[] = "fer_dataset_split";
  if (!train || !validation)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: output is NULL", who);
  *train = *validation = NULL;
  fer_status st = fer__dataset_check(ds, who);
  if (st != FER_OK) return st;
  if (!(fraction >= 0.0 && fraction <= 1.0))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: fraction %g is outside [0, 1]", who, fraction);
  size_t n = ds->count;
  uint32_t *order = fer__malloc(fer__mul_size(n, sizeof *order));
  uint8_t *in_validation = fer__calloc(n, 1);
  uint32_t *train_idx = fer__malloc(fer__mul_size(n, sizeof *train_idx));
  uint32_t *val_idx = fer__malloc(fer__mul_size(n, sizeof *val_idx));
  if (!order || !in_validation || !train_idx || !val_idx) {
    st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    goto done;
  }
  fer__rng rng;
  fer__rng_seed(&rng, seed);
  /* Stratified: shuffle each class on its own and take its share; plain:
   * one group holding everything. */
  int groups = stratified ? ds->num_classes : 1;
  for (int g = 0; g < groups; g++) {
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
      if (!stratified || ds->labels[i] == g) order[m++] = (uint32_t)i;
    shuffle(order, m, &rng);
    size_t take = round_share(fraction, m);
    for (size_t i = 0; i < take; i++) in_validation[order[i]] = 1;
  }
  size_t n_train = 0, n_val = 0;
  for (size_t i = 0; i < n; i++) {
    if (in_validation[i])
      val_idx[n_val++] = (uint32_t)i;
    else
      train_idx[n_train++] = (uint32_t)i;
  }
  st = fer_dataset_subset(ds, train_idx, n_train, train);
  if (st == FER_OK) st = fer_dataset_subset(ds, val_idx, n_val, validation);
  if (st != FER_OK) {
    fer_dataset_free(*train);
    *train = NULL;
  }
done:
  fer__free(order);
  fer__free(in_validation);
  fer__free(train_idx);
  fer__free(val_idx);
  return st;
}

fer_status fer_dataset_concat(const fer_dataset *a, const fer_dataset *b,
                              fer_dataset **out) {
  static const char who[] = "fer_dataset_concat";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  fer_status st = fer__dataset_check(a, who);
  if (st == FER_OK) st = fer__dataset_check(b, who);
  if (st != FER_OK) return st;
  if (a->channels != b->channels || a->height != b->height ||
      a->width != b->width)
    return fer__fail(FER_ERR_SHAPE, "%s: shapes %dx%dx%d and %dx%dx%d differ",
                     who, a->channels, a->height, a->width, b->channels,
                     b->height, b->width);
  int *map = fer__malloc((size_t)b->num_classes * sizeof *map);
  if (!map) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
  for (int k = 0; k < b->num_classes; k++) {
    map[k] = fer__dataset_find_class(a, b->class_names[k],
                                     strlen(b->class_names[k]));
    if (map[k] < 0) {
      fer__free(map);
      return fer__fail(FER_ERR_NOT_FOUND,
                       "%s: class '%s' of the second data set is not a class "
                       "of the first",
                       who, b->class_names[k]);
    }
  }
  fer_dataset *ds;
  st = empty_like(a, who, &ds);
  if (st == FER_OK && !reserve(ds, a->count + b->count)) {
    fer_dataset_free(ds);
    st = fer__fail_prefix(FER_ERR_OUT_OF_MEMORY, who);
  }
  if (st != FER_OK) {
    fer__free(map);
    return st;
  }
  if (a->count) {
    memcpy(ds->pixels, a->pixels, a->count * a->sample_size);
    memcpy(ds->labels, a->labels, a->count * sizeof *a->labels);
  }
  if (b->count)
    memcpy(ds->pixels + a->count * a->sample_size, b->pixels,
           b->count * b->sample_size);
  for (size_t i = 0; i < b->count; i++)
    ds->labels[a->count + i] = map[b->labels[i]];
  ds->count = a->count + b->count;
  fer__free(map);
  *out = ds;
  return FER_OK;
}
