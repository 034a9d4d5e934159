/* Metrics reports: a readable table, CSV and JSON. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "report/metrics_internal.h"
#include "util/buffer.h"
#include "util/file.h"
#include "util/utf8.h"

/* Per-class figures averaged without weights (macro averages). */
typedef struct macro {
  double precision, recall, f1;
} macro;

static macro macro_average(const fer_metrics *m) {
  macro a = {0, 0, 0};
  for (int c = 0; c < m->num_classes; c++) {
    double p, r, f;
    uint64_t s;
    fer__metrics_stats(m, c, &p, &r, &f, &s);
    a.precision += p;
    a.recall += r;
    a.f1 += f;
  }
  a.precision /= m->num_classes;
  a.recall /= m->num_classes;
  a.f1 /= m->num_classes;
  return a;
}

static void write_text(const fer_metrics *m, fer__buf *b) {
  int width = 9; /* "macro avg" */
  for (int c = 0; c < m->num_classes; c++) {
    size_t len = strlen(m->class_names[c]);
    if (len > (size_t)width) width = len > 40 ? 40 : (int)len;
  }
  fer__buf_printf(b, "%-*s %9s %9s %9s %9s\n", width, "class", "precision",
                  "recall", "f1", "support");
  for (int c = 0; c < m->num_classes; c++) {
    double p, r, f;
    uint64_t s;
    fer__metrics_stats(m, c, &p, &r, &f, &s);
    fer__buf_printf(b, "%-*.*s %9.4f %9.4f %9.4f %9llu\n", width, width,
                    m->class_names[c], p, r, f, (unsigned long long)s);
  }
  macro a = macro_average(m);
  fer__buf_printf(b, "\n%-*s %9.4f %9.4f %9.4f %9llu\n", width, "macro avg",
                  a.precision, a.recall, a.f1, (unsigned long long)m->count);
  fer__buf_printf(b, "%-*s %9s %9s %9.4f %9llu\n", width, "accuracy", "", "",
                  fer_metrics_accuracy(m), (unsigned long long)m->count);
  if (m->loss_count)
    fer__buf_printf(b, "%-*s %9s %9s %9.4f %9llu\n", width, "loss", "", "",
                    fer_metrics_loss(m), (unsigned long long)m->loss_count);
  /* The matrix: each column as wide as its name or its largest count. */
  size_t k = (size_t)m->num_classes;
  fer__buf_printf(b, "\nconfusion matrix (rows: true class, columns: "
                     "predicted class)\n%-*s",
                  width, "");
  int *col = fer__malloc(k * sizeof *col);
  if (!col) {
    b->failed = 1;
    return;
  }
  for (size_t j = 0; j < k; j++) {
    int w = (int)FER__MIN(strlen(m->class_names[j]), (size_t)12);
    for (size_t i = 0; i < k; i++) {
      char digits[24];
      int n = snprintf(digits, sizeof digits, "%llu",
                       (unsigned long long)m->confusion[i * k + j]);
      if (n > w) w = n;
    }
    col[j] = w;
    fer__buf_printf(b, " %*.*s", w, w, m->class_names[j]);
  }
  fer__buf_printf(b, "\n");
  for (size_t i = 0; i < k; i++) {
    fer__buf_printf(b, "%-*.*s", width, width, m->class_names[i]);
    for (size_t j = 0; j < k; j++)
      fer__buf_printf(b, " %*llu", col[j],
                      (unsigned long long)m->confusion[i * k + j]);
    fer__buf_printf(b, "\n");
  }
  fer__free(col);
}

/* A CSV field, quoted when it holds a comma, quote or line break. */
static void csv_field(fer__buf *b, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fer__buf_append(b, s, strlen(s));
    return;
  }
  fer__buf_byte(b, '"');
  for (; *s; s++) {
    if (*s == '"') fer__buf_byte(b, '"');
    fer__buf_byte(b, (uint8_t)*s);
  }
  fer__buf_byte(b, '"');
}

static void write_csv(const fer_metrics *m, fer__buf *b) {
  fer__buf_printf(b, "class,precision,recall,f1,support\n");
  for (int c = 0; c < m->num_classes; c++) {
    double p, r, f;
    uint64_t s;
    fer__metrics_stats(m, c, &p, &r, &f, &s);
    csv_field(b, m->class_names[c]);
    fer__buf_printf(b, ",%.6f,%.6f,%.6f,%llu\n", p, r, f,
                    (unsigned long long)s);
  }
  macro a = macro_average(m);
  fer__buf_printf(b, "macro avg,%.6f,%.6f,%.6f,%llu\n", a.precision, a.recall,
                  a.f1, (unsigned long long)m->count);
  fer__buf_printf(b, "accuracy,,,%.6f,%llu\n", fer_metrics_accuracy(m),
                  (unsigned long long)m->count);
  if (m->loss_count)
    fer__buf_printf(b, "loss,,,%.6f,%llu\n", fer_metrics_loss(m),
                    (unsigned long long)m->loss_count);
}

/* A JSON string; bytes that are not valid UTF-8 become U+FFFD, so a
 * strange class name never makes the whole report unreadable. */
static void json_string(fer__buf *b, const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  fer__buf_byte(b, '"');
  while (*p) {
    int n = fer__utf8_length(p);
    if (n > 1) {
      fer__buf_append(b, p, (size_t)n);
      p += n;
      continue;
    }
    if (n == 0)
      fer__buf_printf(b, "\\ufffd");
    else if (*p == '"' || *p == '\\')
      fer__buf_printf(b, "\\%c", *p);
    else if (*p < 0x20)
      fer__buf_printf(b, "\\u%04x", *p);
    else
      fer__buf_byte(b, *p);
    p++;
  }
  fer__buf_byte(b, '"');
}

/* JSON has no NaN: undefined figures are null. */
static void json_number(fer__buf *b, double v) {
  if (isfinite(v))
    fer__buf_printf(b, "%.9g", v);
  else
    fer__buf_printf(b, "null");
}

static void write_json(const fer_metrics *m, fer__buf *b) {
  macro a = macro_average(m);
  fer__buf_printf(b, "{\n  \"count\": %llu,\n  \"accuracy\": ",
                  (unsigned long long)m->count);
  json_number(b, fer_metrics_accuracy(m));
  fer__buf_printf(b, ",\n  \"loss\": ");
  json_number(b, fer_metrics_loss(m));
  fer__buf_printf(b, ",\n  \"macro_precision\": ");
  json_number(b, m->count ? a.precision : NAN);
  fer__buf_printf(b, ",\n  \"macro_recall\": ");
  json_number(b, m->count ? a.recall : NAN);
  fer__buf_printf(b, ",\n  \"macro_f1\": ");
  json_number(b, fer_metrics_macro_f1(m));
  fer__buf_printf(b, ",\n  \"classes\": [");
  for (int c = 0; c < m->num_classes; c++) {
    double p, r, f;
    uint64_t s;
    fer__metrics_stats(m, c, &p, &r, &f, &s);
    fer__buf_printf(b, "%s\n    {\"name\": ", c ? "," : "");
    json_string(b, m->class_names[c]);
    fer__buf_printf(b, ", \"precision\": ");
    json_number(b, p);
    fer__buf_printf(b, ", \"recall\": ");
    json_number(b, r);
    fer__buf_printf(b, ", \"f1\": ");
    json_number(b, f);
    fer__buf_printf(b, ", \"support\": %llu}", (unsigned long long)s);
  }
  fer__buf_printf(b, "\n  ],\n  \"confusion\": [");
  size_t k = (size_t)m->num_classes;
  for (size_t i = 0; i < k; i++) {
    fer__buf_printf(b, "%s\n    [", i ? "," : "");
    for (size_t j = 0; j < k; j++)
      fer__buf_printf(b, "%s%llu", j ? ", " : "",
                      (unsigned long long)m->confusion[i * k + j]);
    fer__buf_printf(b, "]");
  }
  fer__buf_printf(b, "\n  ]\n}\n");
}

fer_status fer_metrics_report(const fer_metrics *m, fer_metrics_format format,
                              char **out) {
  static const char who[] = "fer_metrics_report";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  fer_status st = fer__metrics_check(m, who);
  if (st != FER_OK) return st;
  fer__buf b;
  fer__buf_init(&b);
  switch (format) {
    case FER_METRICS_TEXT: write_text(m, &b); break;
    case FER_METRICS_CSV: write_csv(m, &b); break;
    case FER_METRICS_JSON: write_json(m, &b); break;
    default:
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: unknown format %d", who,
                       (int)format);
  }
  fer__buf_byte(&b, '\0');
  st = fer__buf_status(&b, who);
  if (st != FER_OK) {
    fer__buf_release(&b);
    return st;
  }
  /* The buffer's block becomes the caller's, freed with fer_free(). */
  *out = (char *)b.data;
  return FER_OK;
}

fer_status fer_metrics_save(const fer_metrics *m, fer_metrics_format format,
                            const char *path) {
  char *text;
  fer_status st = fer_metrics_report(m, format, &text);
  if (st != FER_OK) return st;
  st = fer__write_file_atomic(path, text, strlen(text));
  fer__free(text);
  return st;
}
