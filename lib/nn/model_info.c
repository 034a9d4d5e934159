/* What a model carries besides its layers: class names, preprocessing and
 * free-form metadata. All of it is stored in model files. */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"

/* 1 when `s` is 1..max_len bytes without control characters. */
static int printable_text(const char *s, size_t max_len) {
  size_t n = strnlen(s, max_len + 1);
  if (n == 0 || n > max_len) return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return 0;
  return 1;
}

static char *copy_string(const char *s) {
  size_t n = strlen(s);
  char *c = fer__malloc(n + 1);
  if (c) memcpy(c, s, n + 1);
  return c;
}

fer_status fer_model_set_class_names(fer_model *m, const char *const *names,
                                     int count) {
  fer_status st = fer__model_check(m, "fer_model_set_class_names");
  if (st) return st;
  int classes = fer_model_output_size(m);
  if (!names || count != classes)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_set_class_names: %d names for %d classes", count,
                     classes);
  for (int i = 0; i < count; i++)
    if (!names[i] || !printable_text(names[i], 255))
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "fer_model_set_class_names: name %d is empty, longer "
                       "than 255 bytes or has control characters", i);
  char **copy = fer__calloc((size_t)count, sizeof *copy);
  if (!copy) return fer__fail(FER_ERR_OUT_OF_MEMORY, "class names: out of memory");
  for (int i = 0; i < count; i++) {
    copy[i] = copy_string(names[i]);
    if (!copy[i]) {
      for (int j = 0; j < i; j++) fer__free(copy[j]);
      fer__free(copy);
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "class names: out of memory");
    }
  }
  for (int i = 0; i < m->num_class_names; i++) fer__free(m->class_names[i]);
  fer__free(m->class_names);
  m->class_names = copy;
  m->num_class_names = count;
  return FER_OK;
}

const char *fer_model_class_name(const fer_model *m, int index) {
  if (fer__model_check(m, "fer_model_class_name")) return NULL;
  int classes = fer_model_output_size(m);
  if (index < 0 || index >= classes) return NULL;
  if (m->class_names && m->num_class_names == classes) return m->class_names[index];
  if (classes == 7) return fer__fer2013_class_names[index];
  return NULL;
}

fer_status fer_model_set_preprocessing(fer_model *m, float scale, float mean,
                                       float std) {
  fer_status st = fer__model_check(m, "fer_model_set_preprocessing");
  if (st) return st;
  if (!isfinite(scale) || !isfinite(mean) || !isfinite(std) || std == 0.0f)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_set_preprocessing: scale %g, mean %g, std %g "
                     "must be finite with std != 0",
                     (double)scale, (double)mean, (double)std);
  m->pre_scale = scale;
  m->pre_mean = mean;
  m->pre_std = std;
  return FER_OK;
}

void fer_model_get_preprocessing(const fer_model *m, float *scale, float *mean,
                                 float *std) {
  int ok = fer__model_check(m, "fer_model_get_preprocessing") == FER_OK;
  if (scale) *scale = ok ? m->pre_scale : 0.0f;
  if (mean) *mean = ok ? m->pre_mean : 0.0f;
  if (std) *std = ok ? m->pre_std : 0.0f;
}

static int find_key(const fer_model *m, const char *key) {
  for (int i = 0; i < m->num_metadata; i++)
    if (strcmp(m->metadata[i].key, key) == 0) return i;
  return -1;
}

fer_status fer_model_set_metadata(fer_model *m, const char *key,
                                  const char *value) {
  fer_status st = fer__model_check(m, "fer_model_set_metadata");
  if (st) return st;
  if (!key || !printable_text(key, 255))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_set_metadata: key is empty, longer than 255 "
                     "bytes or has control characters");
  if (value && strnlen(value, 65536) > 65535)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_set_metadata: value of '%s' is longer than "
                     "65535 bytes", key);
  int at = find_key(m, key);
  if (!value) {
    if (at >= 0) {
      fer__free(m->metadata[at].key);
      fer__free(m->metadata[at].value);
      memmove(&m->metadata[at], &m->metadata[at + 1],
              (size_t)(m->num_metadata - at - 1) * sizeof *m->metadata);
      m->num_metadata--;
    }
    return FER_OK;
  }
  char *v = copy_string(value);
  if (!v) return fer__fail(FER_ERR_OUT_OF_MEMORY, "metadata: out of memory");
  if (at >= 0) {
    fer__free(m->metadata[at].value);
    m->metadata[at].value = v;
    return FER_OK;
  }
  if (m->num_metadata >= 4096) {
    fer__free(v);
    return fer__fail(FER_ERR_TOO_LARGE, "fer_model_set_metadata: more than 4096 keys");
  }
  char *k = copy_string(key);
  fer__metadata_entry *grown = k ? fer__realloc(m->metadata,
      (size_t)(m->num_metadata + 1) * sizeof *grown) : NULL;
  if (!grown) {
    fer__free(k);
    fer__free(v);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "metadata: out of memory");
  }
  m->metadata = grown;
  m->metadata[m->num_metadata].key = k;
  m->metadata[m->num_metadata].value = v;
  m->num_metadata++;
  return FER_OK;
}

const char *fer_model_get_metadata(const fer_model *m, const char *key) {
  if (fer__model_check(m, "fer_model_get_metadata") || !key) return NULL;
  int at = find_key(m, key);
  return at < 0 ? NULL : m->metadata[at].value;
}

int fer_model_metadata_count(const fer_model *m) {
  return fer__model_check(m, "fer_model_metadata_count") ? 0 : m->num_metadata;
}

fer_status fer_model_metadata_at(const fer_model *m, int index, const char **key,
                                 const char **value) {
  fer_status st = fer__model_check(m, "fer_model_metadata_at");
  if (st) return st;
  if (index < 0 || index >= m->num_metadata)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_metadata_at: entry %d is not in 0..%d", index,
                     m->num_metadata - 1);
  if (key) *key = m->metadata[index].key;
  if (value) *value = m->metadata[index].value;
  return FER_OK;
}
