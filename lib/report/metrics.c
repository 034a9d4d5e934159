/* Classification metrics accumulated over batches: a confusion matrix and a
 * cross-entropy sum are all that is kept; every figure derives from them. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "report/metrics_internal.h"

#define METRICS_MAGIC 0x464D5452u /* "FMTR" */
#define MAX_CLASSES 4096
/* Floor on the probability of the true class, so one confident mistake
 * gives a large but finite loss. */
#define MIN_PROBABILITY 1e-12

fer_status fer__metrics_check(const fer_metrics *m, const char *who) {
  if (!m) return fer__fail(FER_ERR_MISUSE, "%s: metrics is NULL", who);
  if (m->magic != METRICS_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_metrics (freed?)",
                     who);
  return FER_OK;
}

static int is_live(const fer_metrics *m) {
  return m && m->magic == METRICS_MAGIC;
}

fer_status fer_metrics_create(int num_classes, const char *const *class_names,
                              fer_metrics **out) {
  static const char who[] = "fer_metrics_create";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  if (num_classes < 1 || num_classes > MAX_CLASSES)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %d classes (1..%d are supported)", who, num_classes,
                     MAX_CLASSES);
  fer_metrics *m = fer__calloc(1, sizeof *m);
  if (!m) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
  m->magic = METRICS_MAGIC;
  m->num_classes = num_classes;
  size_t k = (size_t)num_classes;
  m->confusion = fer__calloc(k * k, sizeof *m->confusion);
  m->class_names = fer__calloc(k, sizeof *m->class_names);
  if (!m->confusion || !m->class_names) goto oom;
  for (int i = 0; i < num_classes; i++) {
    char number[16];
    const char *name = number;
    snprintf(number, sizeof number, "%d", i);
    if (class_names && class_names[i]) name = class_names[i];
    size_t len = strlen(name);
    m->class_names[i] = fer__malloc(len + 1);
    if (!m->class_names[i]) goto oom;
    memcpy(m->class_names[i], name, len + 1);
  }
  *out = m;
  return FER_OK;
oom:
  fer_metrics_free(m);
  return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
}

void fer_metrics_free(fer_metrics *m) {
  if (!is_live(m)) return;
  if (m->class_names)
    for (int i = 0; i < m->num_classes; i++) fer__free(m->class_names[i]);
  fer__free(m->class_names);
  fer__free(m->confusion);
  m->magic = 0;
  fer__free(m);
}

void fer_metrics_reset(fer_metrics *m) {
  if (!is_live(m)) return;
  size_t k = (size_t)m->num_classes;
  memset(m->confusion, 0, k * k * sizeof *m->confusion);
  m->count = 0;
  m->loss_sum = 0.0;
  m->loss_count = 0;
}

/* Checks every label (and prediction) before adding any, so a failed call
 * leaves the totals as they were. */
static fer_status check_labels(const fer_metrics *m, const int32_t *labels,
                               const int32_t *predicted, size_t n,
                               const char *who) {
  for (size_t i = 0; i < n; i++) {
    if (labels[i] < 0 || labels[i] >= m->num_classes)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: label %ld of sample %zu is outside 0..%d", who,
                       (long)labels[i], i, m->num_classes - 1);
    if (predicted && (predicted[i] < 0 || predicted[i] >= m->num_classes))
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: prediction %ld of sample %zu is outside 0..%d", who,
                       (long)predicted[i], i, m->num_classes - 1);
  }
  return FER_OK;
}

fer_status fer_metrics_add_probs(fer_metrics *m, const float *probs,
                                 const int32_t *labels, size_t n) {
  static const char who[] = "fer_metrics_add_probs";
  fer_status st = fer__metrics_check(m, who);
  if (st != FER_OK) return st;
  if (n && (!probs || !labels))
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: probs or labels is NULL",
                     who);
  st = check_labels(m, labels, NULL, n, who);
  if (st != FER_OK) return st;
  size_t k = (size_t)m->num_classes;
  for (size_t i = 0; i < n * k; i++)
    if (isnan(probs[i]))
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: probability %zu of sample %zu is NaN", who, i % k,
                       i / k);
  for (size_t i = 0; i < n; i++) {
    const float *row = probs + i * k;
    size_t best = 0;
    for (size_t c = 1; c < k; c++)
      if (row[c] > row[best]) best = c;
    m->confusion[(size_t)labels[i] * k + best]++;
    double p = row[labels[i]];
    m->loss_sum += -log(p > MIN_PROBABILITY ? p : MIN_PROBABILITY);
  }
  m->count += n;
  m->loss_count += n;
  return FER_OK;
}

fer_status fer_metrics_add_classes(fer_metrics *m, const int32_t *predicted,
                                   const int32_t *labels, size_t n) {
  static const char who[] = "fer_metrics_add_classes";
  fer_status st = fer__metrics_check(m, who);
  if (st != FER_OK) return st;
  if (n && (!predicted || !labels))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: predicted or labels is NULL", who);
  st = check_labels(m, labels, predicted, n, who);
  if (st != FER_OK) return st;
  size_t k = (size_t)m->num_classes;
  for (size_t i = 0; i < n; i++)
    m->confusion[(size_t)labels[i] * k + (size_t)predicted[i]]++;
  m->count += n;
  return FER_OK;
}

int fer_metrics_class_count(const fer_metrics *m) {
  return is_live(m) ? m->num_classes : 0;
}

const char *fer_metrics_class_name(const fer_metrics *m, int index) {
  if (!is_live(m) || index < 0 || index >= m->num_classes) return NULL;
  return m->class_names[index];
}

uint64_t fer_metrics_count(const fer_metrics *m) {
  return is_live(m) ? m->count : 0;
}

double fer_metrics_loss(const fer_metrics *m) {
  if (!is_live(m) || m->loss_count == 0) return NAN;
  return m->loss_sum / (double)m->loss_count;
}

double fer_metrics_accuracy(const fer_metrics *m) {
  if (!is_live(m) || m->count == 0) return NAN;
  uint64_t correct = 0;
  size_t k = (size_t)m->num_classes;
  for (size_t c = 0; c < k; c++) correct += m->confusion[c * k + c];
  return (double)correct / (double)m->count;
}

fer_status fer_metrics_confusion(const fer_metrics *m, uint64_t *dst,
                                 size_t capacity) {
  fer_status st = fer__metrics_check(m, "fer_metrics_confusion");
  if (st != FER_OK) return st;
  size_t cells = (size_t)m->num_classes * (size_t)m->num_classes;
  if (!dst || capacity < cells)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL,
                     "fer_metrics_confusion: buffer of %zu entries, needs %zu",
                     dst ? capacity : 0, cells);
  memcpy(dst, m->confusion, cells * sizeof *dst);
  return FER_OK;
}

static double ratio(uint64_t num, uint64_t den) {
  return den ? (double)num / (double)den : 0.0;
}

void fer__metrics_stats(const fer_metrics *m, int label, double *precision,
                        double *recall, double *f1, uint64_t *support) {
  size_t k = (size_t)m->num_classes, c = (size_t)label;
  uint64_t true_pos = m->confusion[c * k + c], actual = 0, predicted = 0;
  for (size_t j = 0; j < k; j++) {
    actual += m->confusion[c * k + j];
    predicted += m->confusion[j * k + c];
  }
  double p = ratio(true_pos, predicted), r = ratio(true_pos, actual);
  *precision = p;
  *recall = r;
  /* 2PR/(P+R) written as 2TP/(2TP+FP+FN): the same value, and defined (0)
   * whenever the class is neither present nor predicted. */
  *f1 = ratio(2 * true_pos, actual + predicted);
  *support = actual;
}

fer_status fer_metrics_class_stats(const fer_metrics *m, int label,
                                   double *precision, double *recall,
                                   double *f1, uint64_t *support) {
  fer_status st = fer__metrics_check(m, "fer_metrics_class_stats");
  if (st != FER_OK) return st;
  if (label < 0 || label >= m->num_classes)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_metrics_class_stats: class %d is outside 0..%d",
                     label, m->num_classes - 1);
  double p, r, f;
  uint64_t s;
  fer__metrics_stats(m, label, &p, &r, &f, &s);
  if (precision) *precision = p;
  if (recall) *recall = r;
  if (f1) *f1 = f;
  if (support) *support = s;
  return FER_OK;
}

double fer_metrics_macro_f1(const fer_metrics *m) {
  if (!is_live(m) || m->count == 0) return NAN;
  double sum = 0.0;
  for (int c = 0; c < m->num_classes; c++) {
    double p, r, f;
    uint64_t s;
    fer__metrics_stats(m, c, &p, &r, &f, &s);
    sum += f;
  }
  return sum / m->num_classes;
}
