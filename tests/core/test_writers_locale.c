/* Everything libfer writes for programs to read, under a comma-decimal
 * locale: a program that called setlocale(LC_ALL, "de_DE.UTF-8") must get
 * byte for byte what a program in the "C" locale gets. The reference is
 * the same call made first in the "C" locale (where printf's '.' is
 * right): metrics reports (text, CSV, JSON), the confusion and training
 * curve SVG charts, the model summary and architecture text, the built-in
 * cascade as XML, a trainer's history CSV and fer__format itself.
 *
 * Needs a comma-decimal locale installed (`locale -a`); skips, saying so,
 * when there is none (comma_locale.h says how to make one). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "comma_locale.h"
#include "core/core_internal.h"
#include "harness.h"
#include "util/format.h"

enum { MAX_OUTPUTS = 16 };

/* What one locale makes of every writer: named texts. */
typedef struct outputs {
  const char *name[MAX_OUTPUTS];
  char *text[MAX_OUTPUTS];
  int count;
} outputs;

/* Takes a text that the library allocated; call it after the call that
 * made the text (not with that call as an argument: the order in which
 * arguments are evaluated is unspecified). */
static void keep(outputs *o, const char *name, fer_status st, char *text) {
  CHECK_MSG(st == FER_OK && text, "%s: %s", name, fer_last_error());
  if (o->count < MAX_OUTPUTS) {
    o->name[o->count] = name;
    o->text[o->count++] = st == FER_OK ? text : NULL;
  }
}

/* A copy freed with fer_free(), as the library's own texts are. */
static char *copy_text(const char *s) {
  char *c = fer__malloc(strlen(s) + 1);
  if (c) strcpy(c, s);
  return c;
}

/* Numbers that fail most easily: fractions, widths and zero padding
 * (where a multi-byte point would shift the columns), exponents. */
static void render_numbers(outputs *o) {
  char text[512];
  int n = fer__format(text, sizeof text,
                      "%.2f|%9.4f|%-9.4f|%09.3f|%+.1e|%.9g|%g|%a|%.0f|%#.0f|%5.1f%%|%d",
                      0.5, 0.125, -0.25, -1.5, 12345.678, 0.1, 1e-7, 0.75, 2.5, 2.5, 87.25,
                      -12);
  keep(o, "fer__format", n > 0 ? FER_OK : FER_ERR_INVALID_ARGUMENT, copy_text(text));
}

/* A 3-class metrics object with fractional precision, recall and loss,
 * and a class name with a comma (quoted in the CSV). */
static fer_metrics *sample_metrics(void) {
  static const char *const names[] = {"angry", "happy", "neutral, calm"};
  static const float probs[] = {0.7f, 0.2f, 0.1f, 0.3f, 0.6f, 0.1f, 0.2f, 0.3f, 0.5f,
                                0.5f, 0.4f, 0.1f, 0.1f, 0.1f, 0.8f, 0.25f, 0.5f, 0.25f,
                                0.6f, 0.3f, 0.1f};
  static const int32_t labels[] = {0, 1, 2, 1, 2, 2, 0};
  fer_metrics *m = NULL;
  if (fer_metrics_create(3, names, &m) != FER_OK) return NULL;
  fer_metrics_add_probs(m, probs, labels, 7);
  return m;
}

static void render_metrics_and_charts(outputs *o) {
  fer_metrics *m = sample_metrics();
  CHECK(m != NULL);
  char *text = NULL;
  fer_status st = fer_metrics_report(m, FER_METRICS_TEXT, &text);
  keep(o, "metrics text", st, text);
  st = fer_metrics_report(m, FER_METRICS_CSV, &text);
  keep(o, "metrics CSV", st, text);
  st = fer_metrics_report(m, FER_METRICS_JSON, &text);
  keep(o, "metrics JSON", st, text);
  st = fer_chart_confusion(m, "Confusion", &text);
  keep(o, "confusion SVG", st, text);
  fer_metrics_free(m);
  const float train_loss[] = {1.9f, 1.4f, 1.1f, 0.95f, 0.875f};
  const float val_loss[] = {1.95f, 1.5f, 1.3f, 1.25f, 1.3f};
  const float train_acc[] = {0.25f, 0.41f, 0.525f, 0.6f, 0.66f};
  const float val_acc[] = {0.2f, 0.38f, 0.45f, 0.475f, 0.46f};
  st = fer_chart_training_curves(train_loss, val_loss, train_acc, val_acc, 5, "Curves", &text);
  keep(o, "curves SVG", st, text);
}

static void render_model_and_cascade(outputs *o) {
  fer_model *m = NULL;
  char *text = NULL;
  CHECK_OK(fer_model_from_text("input 1x8x8\nconv 4 3x3 same\nbn\nleaky 0.125\nmax 2x2/2\n"
                               "flatten\ndrop 0.25\ndense 3\nsoftmax\n",
                               &m));
  fer_status st = fer_model_summary(m, &text);
  keep(o, "model summary", st, text);
  st = fer_model_to_text(m, &text);
  keep(o, "architecture text", st, text);
  fer_model_free(m);
  if (!fer_analyzer_has_default_cascade()) return;
  fer_cascade *c = NULL;
  size_t size = 0;
  CHECK_OK(fer_default_cascade_load(&c));
  st = fer_cascade_encode_xml(c, &text, &size);
  keep(o, "cascade XML", st, text);
  fer_cascade_free(c);
}

/* A trainer's per-epoch CSV without its last column (seconds, which no
 * two runs share); training is seeded and runs on one thread, so the rest
 * is the same in both locales. */
static void render_history(outputs *o) {
  enum { N = 24 };
  uint8_t pixels[N * 16];
  int32_t labels[N];
  for (int i = 0; i < N; i++) {
    labels[i] = i % 2;
    for (int p = 0; p < 16; p++) pixels[i * 16 + p] = (uint8_t)((p < 8) == (i % 2) ? 200 : 30 + i);
  }
  fer_dataset *ds = NULL;
  fer_model *m = NULL;
  fer_trainer *tr = NULL;
  CHECK_OK(fer_dataset_from_u8(pixels, labels, N, 1, 4, 4, NULL, 2, &ds));
  CHECK_OK(fer_model_from_text("input 1x4x4\nflatten\ndense 2\nsoftmax\n", &m));
  CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 3));
  CHECK_OK(fer_trainer_create(&tr));
  char path[] = "/tmp/fer_test_history_XXXXXX";
  int fd = mkstemp(path);
  if (fd >= 0) close(fd);
  fer_trainer_set(tr, FER_TRAIN_EPOCHS, 3);
  fer_trainer_set(tr, FER_TRAIN_BATCH_SIZE, 8);
  fer_trainer_set(tr, FER_TRAIN_SEED, 5);
  fer_trainer_set(tr, FER_TRAIN_VALIDATION_FRACTION, 0.25);
  fer_trainer_set_path(tr, FER_TRAIN_PATH_HISTORY, path);
  fer_status st = fer_trainer_fit(tr, m, ds, NULL);
  char *text = NULL;
  FILE *f = st == FER_OK ? fopen(path, "rb") : NULL;
  if (f) {
    char line[512];
    size_t used = 0, capacity = 4096;
    text = fer__malloc(capacity);
    while (text && fgets(line, sizeof line, f) && used + strlen(line) < capacity) {
      char *last = strrchr(line, ',');
      if (last) strcpy(last, "\n");
      strcpy(text + used, line);
      used += strlen(line);
    }
    fclose(f);
  }
  keep(o, "history CSV", st, text);
  remove(path);
  fer_trainer_free(tr);
  fer_model_free(m);
  fer_dataset_free(ds);
}

static void render_all(outputs *o) {
  memset(o, 0, sizeof *o);
  render_numbers(o);
  render_metrics_and_charts(o);
  render_model_and_cascade(o);
  render_history(o);
}

static void free_outputs(outputs *o) {
  for (int i = 0; i < o->count; i++) fer_free(o->text[i]);
}

int main(void) {
  fer_set_num_threads(1);
  outputs in_c, in_comma;
  render_all(&in_c); /* this program starts in the "C" locale */
  const char *name = comma_locale();
  if (!name) {
    free_outputs(&in_c);
    SKIP("no comma-decimal locale installed (locale -a); fer__format itself is "
         "tested by test_format");
  }
  char probe[16];
  snprintf(probe, sizeof probe, "%.1f", 0.5);
  fprintf(stderr, "locale %s: printf writes 0.5 as \"%s\"\n", name, probe);
  CHECK(strcmp(probe, "0.5") != 0); /* the trap is real here */
  render_all(&in_comma);
  CHECK_EQ_INT(in_comma.count, in_c.count);
  for (int i = 0; i < in_c.count && i < in_comma.count; i++) {
    const char *want = in_c.text[i], *got = in_comma.text[i];
    if (!want || !got) continue; /* reported by keep() */
    size_t at = 0;
    while (want[at] && want[at] == got[at]) at++;
    CHECK_MSG(want[at] == got[at], "%s differs at byte %zu: \"%.40s\" in C, \"%.40s\" in %s",
              in_c.name[i], at, want + (at > 10 ? at - 10 : 0), got + (at > 10 ? at - 10 : 0),
              name);
  }
  fprintf(stderr, "%d outputs compared\n", in_c.count);
  free_outputs(&in_c);
  free_outputs(&in_comma);
  setlocale(LC_ALL, "C");
  return harness_finish();
}
