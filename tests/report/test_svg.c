/* The SVG writer and the two charts: escaping, well-formed XML (checked by
 * Python's xml.etree through check_outputs.py) and the expected labels and
 * values in <text> elements. Writes training_curves.svg and confusion.svg
 * into the build folder for looking at. */
#include "harness.h"

#include <unistd.h>

#include "core/core_internal.h"
#include "util/buffer.h"
#include "util/svg.h"

static int have_python(void) { return access("/usr/bin/python3", X_OK) == 0; }

static int check_svg(const char *file, const char *texts) {
  if (!have_python()) {
    fprintf(stderr, "note: /usr/bin/python3 missing, %s not parsed\n", file);
    return 0;
  }
  const char *root = getenv("FER_SOURCE_ROOT");
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "/usr/bin/python3 %s/tests/report/check_outputs.py svg %s %s",
           root ? root : ".", file, texts);
  return system(cmd);
}

static void test_escape(void) {
  fer__buf b;
  fer__buf_init(&b);
  fer__svg_escape(&b, "a<b>&\"c'\x01\xC3\xA9\xFF\xED\xA0\x80z");
  fer__buf_byte(&b, 0);
  /* é kept; the control byte, a stray 0xFF and an encoded surrogate (three
   * invalid bytes) become '?'. */
  CHECK(strcmp((char *)b.data,
               "a&lt;b&gt;&amp;&quot;c&apos;?\xC3\xA9??" "??z") == 0);
  fer__buf_release(&b);
}

static void test_curves(void) {
  enum { E = 30 };
  float train_loss[E], val_loss[E], train_acc[E], val_acc[E];
  for (int e = 0; e < E; e++) {
    train_loss[e] = 1.9f * expf(-e / 9.0f) + 0.35f;
    val_loss[e] = 1.8f * expf(-e / 11.0f) + 0.6f + 0.004f * e;
    train_acc[e] = 0.25f + 0.6f * (1 - expf(-e / 8.0f));
    val_acc[e] = 0.25f + 0.42f * (1 - expf(-e / 9.0f));
  }
  val_loss[12] = NAN; /* a missing point breaks the line, nothing else */
  char *svg = NULL;
  CHECK_OK(fer_chart_training_curves(train_loss, val_loss, train_acc, val_acc,
                                     E, "FER2013 <baseline> & co", &svg));
  CHECK(svg && strstr(svg, "FER2013 &lt;baseline&gt; &amp; co"));
  CHECK_OK(fer_chart_save(svg, "training_curves.svg"));
  fer_free(svg);
  CHECK_EQ_INT(check_svg("training_curves.svg",
                         "'FER2013 <baseline> & co' Loss Accuracy epoch "
                         "training validation 1 10 20 30 cross-entropy "
                         "accuracy"),
               0);
  /* One epoch, only some series, flat and extreme values: still valid. */
  float one = 0.5f;
  CHECK_OK(fer_chart_training_curves(&one, NULL, NULL, NULL, 1, NULL, &svg));
  fer_free(svg);
  float odd[4] = {1e30f, -1e30f, INFINITY, 3.0f};
  CHECK_OK(fer_chart_training_curves(odd, odd, odd, odd, 4, "odd", &svg));
  CHECK_OK(fer_chart_save(svg, "odd_curves.svg"));
  fer_free(svg);
  CHECK_EQ_INT(check_svg("odd_curves.svg", "odd"), 0);
  float flat[3] = {0.5f, 0.5f, 0.5f};
  CHECK_OK(fer_chart_training_curves(flat, flat, flat, flat, 3, "flat", &svg));
  CHECK_OK(fer_chart_save(svg, "flat_curves.svg"));
  fer_free(svg);
  CHECK_EQ_INT(check_svg("flat_curves.svg", "flat"), 0);
  /* Errors. */
  CHECK_STATUS(fer_chart_training_curves(NULL, NULL, NULL, NULL, 3, NULL, &svg),
               FER_ERR_INVALID_ARGUMENT);
  CHECK(svg == NULL);
  CHECK_STATUS(fer_chart_training_curves(flat, NULL, NULL, NULL, 0, NULL, &svg),
               FER_ERR_INVALID_ARGUMENT);
  for (long k = 1; k < 8; k++) {
    fer__alloc_fail_after(k);
    fer_status st = fer_chart_training_curves(train_loss, val_loss, train_acc,
                                              val_acc, E, NULL, &svg);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    CHECK((st == FER_OK) == (svg != NULL));
    fer_free(svg);
  }
}

static void test_confusion(void) {
  static const char *const names[] = {"angry", "disgust", "fear", "happy",
                                      "sad", "surprise", "neutral"};
  /* A plausible FER2013 PublicTest confusion matrix (rows true class). */
  static const int counts[7][7] = {
      {270, 5, 45, 30, 70, 10, 37},  {12, 30, 4, 3, 4, 1, 2},
      {60, 2, 220, 25, 100, 45, 44}, {20, 0, 15, 780, 25, 20, 35},
      {70, 1, 75, 40, 340, 10, 117}, {10, 0, 35, 20, 8, 330, 12},
      {35, 0, 30, 50, 110, 12, 370}};
  fer_metrics *m = NULL;
  CHECK_OK(fer_metrics_create(7, names, &m));
  for (int t = 0; t < 7; t++)
    for (int p = 0; p < 7; p++)
      for (int i = 0; i < counts[t][p]; i++) {
        int32_t label = t, pred = p;
        CHECK_OK(fer_metrics_add_classes(m, &pred, &label, 1));
      }
  char *svg = NULL;
  CHECK_OK(fer_chart_confusion(m, "FER2013 PublicTest", &svg));
  CHECK_OK(fer_chart_save(svg, "confusion.svg"));
  fer_free(svg);
  /* Names, counts and row shares (270 of 467 angry = 57.8%). */
  CHECK_EQ_INT(check_svg("confusion.svg",
                         "'FER2013 PublicTest' angry disgust neutral 270 780 "
                         "57.8% 'predicted class' 'true class' 'n = 467'"),
               0);
  fer_metrics_free(m);
  /* An empty matrix, long and hostile names. */
  static const char *const odd[] = {
      "a very long class name that goes on and on", "<&>", "\xC3\xA9t\xC3\xA9"};
  CHECK_OK(fer_metrics_create(3, odd, &m));
  CHECK_OK(fer_chart_confusion(m, NULL, &svg));
  CHECK_OK(fer_chart_save(svg, "confusion_odd.svg"));
  fer_free(svg);
  CHECK_EQ_INT(check_svg("confusion_odd.svg", "'<&>' 'Confusion matrix'"), 0);
  CHECK_STATUS(fer_chart_confusion(NULL, NULL, &svg), FER_ERR_MISUSE);
  fer_metrics_free(m);
}

int main(void) {
  RUN(test_escape);
  RUN(test_curves);
  RUN(test_confusion);
  return harness_finish();
}
