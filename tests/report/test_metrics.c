/* Metrics against a hand-computed example and a naive computation, and the
 * reports (text, CSV, JSON) cross-checked by tests/report/check_outputs.py,
 * which recomputes every figure from the raw labels with Python's standard
 * library. */
#include "harness.h"

#include <unistd.h>

#include "core/core_internal.h"

static void test_hand_example(void) {
  /* labels 0 0 0 1 1 2, predictions 0 1 0 1 2 2:
   *   confusion [[2,1,0],[0,1,1],[0,0,1]]
   *   precision 2/2, 1/2, 1/2; recall 2/3, 1/2, 1/1
   *   F1 0.8, 0.5, 2/3; macro F1 0.655556; accuracy 4/6 */
  const int32_t labels[] = {0, 0, 0, 1, 1, 2};
  const int32_t predicted[] = {0, 1, 0, 1, 2, 2};
  fer_metrics *m = NULL;
  CHECK_OK(fer_metrics_create(3, NULL, &m));
  CHECK(isnan(fer_metrics_accuracy(m)));
  CHECK(isnan(fer_metrics_macro_f1(m)));
  CHECK_OK(fer_metrics_add_classes(m, predicted, labels, 6));
  CHECK_EQ_INT(fer_metrics_count(m), 6);
  CHECK_NEAR(fer_metrics_accuracy(m), 4.0 / 6, 1e-12);
  CHECK(isnan(fer_metrics_loss(m)));
  uint64_t cm[9];
  const uint64_t want[9] = {2, 1, 0, 0, 1, 1, 0, 0, 1};
  CHECK_OK(fer_metrics_confusion(m, cm, 9));
  for (int i = 0; i < 9; i++) CHECK_EQ_INT(cm[i], want[i]);
  CHECK_STATUS(fer_metrics_confusion(m, cm, 8), FER_ERR_BUFFER_TOO_SMALL);
  const double precision[] = {1, 0.5, 0.5}, recall[] = {2.0 / 3, 0.5, 1},
               f1[] = {0.8, 0.5, 2.0 / 3};
  const uint64_t support[] = {3, 2, 1};
  for (int c = 0; c < 3; c++) {
    double p, r, f;
    uint64_t s;
    CHECK_OK(fer_metrics_class_stats(m, c, &p, &r, &f, &s));
    CHECK_NEAR(p, precision[c], 1e-12);
    CHECK_NEAR(r, recall[c], 1e-12);
    CHECK_NEAR(f, f1[c], 1e-12);
    CHECK_EQ_INT(s, support[c]);
  }
  CHECK_NEAR(fer_metrics_macro_f1(m), (0.8 + 0.5 + 2.0 / 3) / 3, 1e-12);
  CHECK_STATUS(fer_metrics_class_stats(m, 3, NULL, NULL, NULL, NULL),
               FER_ERR_INVALID_ARGUMENT);
  /* A bad label anywhere adds nothing. */
  const int32_t bad_labels[] = {0, 5};
  CHECK_STATUS(fer_metrics_add_classes(m, predicted, bad_labels, 2),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("sample 1");
  CHECK_EQ_INT(fer_metrics_count(m), 6);
  /* Reset. */
  fer_metrics_reset(m);
  CHECK_EQ_INT(fer_metrics_count(m), 0);
  CHECK_OK(fer_metrics_confusion(m, cm, 9));
  for (int i = 0; i < 9; i++) CHECK_EQ_INT(cm[i], 0);
  fer_metrics_free(m);
}

static void test_probabilities(void) {
  /* Cross-entropy by hand: -(ln 0.7 + ln 0.2 + ln 0.5) / 3. */
  const float probs[] = {0.7f, 0.2f, 0.1f,  /* label 0, predicted 0 */
                         0.5f, 0.2f, 0.3f,  /* label 1, predicted 0 */
                         0.25f, 0.25f, 0.5f}; /* label 2, predicted 2 */
  const int32_t labels[] = {0, 1, 2};
  fer_metrics *m = NULL;
  CHECK_OK(fer_metrics_create(3, NULL, &m));
  CHECK_OK(fer_metrics_add_probs(m, probs, labels, 3));
  double want = -(log((double)0.7f) + log((double)0.2f) + log((double)0.5f)) / 3;
  CHECK_NEAR(fer_metrics_loss(m), want, 1e-9);
  CHECK_NEAR(fer_metrics_accuracy(m), 2.0 / 3, 1e-12);
  /* Ties go to the first class; a zero probability gives a finite loss. */
  const float tie[] = {0.0f, 0.5f, 0.5f};
  const int32_t zero_label[] = {0};
  CHECK_OK(fer_metrics_add_probs(m, tie, zero_label, 1));
  uint64_t cm[9];
  CHECK_OK(fer_metrics_confusion(m, cm, 9));
  CHECK_EQ_INT(cm[0 * 3 + 1], 1);
  CHECK(isfinite(fer_metrics_loss(m)));
  CHECK_NEAR(fer_metrics_loss(m), (want * 3 - log(1e-12)) / 4, 1e-9);
  const float nan_row[] = {NAN, 0.5f, 0.5f};
  CHECK_STATUS(fer_metrics_add_probs(m, nan_row, zero_label, 1),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_EQ_INT(fer_metrics_count(m), 4);
  fer_metrics_free(m);
}

/* The figures recomputed naively from raw arrays, one class at a time. */
static void test_against_naive(void) {
  enum { N = 5000, K = 7 };
  static int32_t labels[N], predicted[N];
  fer__rng rng;
  fer__rng_seed(&rng, 2024);
  for (int i = 0; i < N; i++) {
    labels[i] = (int32_t)fer__rng_below(&rng, K);
    /* Mostly right, with a class-dependent bias; class 6 never predicted. */
    predicted[i] = fer__rng_uniform(&rng) < 0.6f
                       ? labels[i]
                       : (int32_t)fer__rng_below(&rng, K - 1);
    if (predicted[i] == 6) predicted[i] = 5;
  }
  fer_metrics *m = NULL;
  CHECK_OK(fer_metrics_create(K, NULL, &m));
  /* In uneven chunks, as batches arrive. */
  for (int start = 0; start < N;) {
    int n = 1 + (start * 7) % 300;
    if (start + n > N) n = N - start;
    CHECK_OK(fer_metrics_add_classes(m, predicted + start, labels + start,
                                     (size_t)n));
    start += n;
  }
  int correct = 0;
  for (int i = 0; i < N; i++) correct += labels[i] == predicted[i];
  CHECK_NEAR(fer_metrics_accuracy(m), correct / (double)N, 1e-12);
  double f1_sum = 0;
  for (int c = 0; c < K; c++) {
    int tp = 0, fp = 0, fn = 0;
    for (int i = 0; i < N; i++) {
      tp += labels[i] == c && predicted[i] == c;
      fp += labels[i] != c && predicted[i] == c;
      fn += labels[i] == c && predicted[i] != c;
    }
    double p = tp + fp ? tp / (double)(tp + fp) : 0;
    double r = tp + fn ? tp / (double)(tp + fn) : 0;
    double f = p + r > 0 ? 2 * p * r / (p + r) : 0;
    f1_sum += f;
    double gp, gr, gf;
    uint64_t gs;
    CHECK_OK(fer_metrics_class_stats(m, c, &gp, &gr, &gf, &gs));
    CHECK_NEAR(gp, p, 1e-12);
    CHECK_NEAR(gr, r, 1e-12);
    CHECK_NEAR(gf, f, 1e-12);
    CHECK_EQ_INT(gs, tp + fn);
  }
  CHECK_NEAR(fer_metrics_macro_f1(m), f1_sum / K, 1e-12);
  fer_metrics_free(m);
}

static int have_python(void) { return access("/usr/bin/python3", X_OK) == 0; }

/* Runs check_outputs.py MODE ARGS...; 0 when it passes. */
static int run_checker(const char *args) {
  const char *root = getenv("FER_SOURCE_ROOT");
  char cmd[8192];
  snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/report/check_outputs.py %s",
           root ? root : ".", args);
  return system(cmd);
}

static void test_reports(void) {
  enum { N = 400, K = 4 };
  static const char *const names[K] = {"angry", "has,comma", "quote\"d",
                                       "<tag>&"};
  static int32_t labels[N];
  static float probs[N * K];
  fer__rng rng;
  fer__rng_seed(&rng, 77);
  for (int i = 0; i < N; i++) {
    labels[i] = (int32_t)fer__rng_below(&rng, K);
    float sum = 0;
    for (int c = 0; c < K; c++) {
      probs[i * K + c] = fer__rng_uniform(&rng) + (c == labels[i] ? 0.6f : 0);
      sum += probs[i * K + c];
    }
    for (int c = 0; c < K; c++) probs[i * K + c] /= sum;
  }
  fer_metrics *m = NULL;
  CHECK_OK(fer_metrics_create(K, names, &m));
  CHECK_OK(fer_metrics_add_probs(m, probs, labels, N));
  char *text = NULL;
  CHECK_OK(fer_metrics_report(m, FER_METRICS_TEXT, &text));
  CHECK(text && strstr(text, "macro avg") && strstr(text, "has,comma") &&
        strstr(text, "confusion matrix"));
  fer_free(text);
  CHECK_STATUS(fer_metrics_report(m, (fer_metrics_format)9, &text),
               FER_ERR_INVALID_ARGUMENT);
  CHECK(text == NULL);
  /* Raw inputs for the independent checker. */
  FILE *f = fopen("metrics_raw.txt", "w");
  CHECK(f != NULL);
  if (!f) return;
  for (int i = 0; i < N; i++) {
    fprintf(f, "%d", labels[i]);
    for (int c = 0; c < K; c++) fprintf(f, " %.9g", (double)probs[i * K + c]);
    fprintf(f, "\n");
  }
  fclose(f);
  CHECK_OK(fer_metrics_save(m, FER_METRICS_JSON, "metrics.json"));
  CHECK_OK(fer_metrics_save(m, FER_METRICS_CSV, "metrics.csv"));
  CHECK_OK(fer_metrics_save(m, FER_METRICS_TEXT, "metrics.txt"));
  CHECK_STATUS(fer_metrics_save(m, FER_METRICS_TEXT, "no/such/dir/m.txt"),
               FER_ERR_IO);
  /* Allocation failures in the writers. */
  for (long k = 1; k < 6; k++) {
    fer__alloc_fail_after(k);
    fer_status st = fer_metrics_report(m, FER_METRICS_JSON, &text);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    fer_free(text);
  }
  fer_metrics_free(m);
  if (!have_python()) {
    fprintf(stderr, "note: /usr/bin/python3 missing, reports not cross-checked\n");
    return;
  }
  CHECK_EQ_INT(run_checker("metrics metrics_raw.txt metrics.json metrics.csv "
                           "metrics.txt 'angry' 'has,comma' 'quote\"d' '<tag>&'"),
               0);
}

static void test_misuse(void) {
  fer_metrics *m = (fer_metrics *)1;
  CHECK_STATUS(fer_metrics_create(0, NULL, &m), FER_ERR_INVALID_ARGUMENT);
  CHECK(m == NULL);
  CHECK_STATUS(fer_metrics_add_classes(NULL, NULL, NULL, 0), FER_ERR_MISUSE);
  CHECK(isnan(fer_metrics_accuracy(NULL)));
  CHECK_EQ_INT(fer_metrics_class_count(NULL), 0);
  fer_metrics_free(NULL);
  for (long k = 1; k < 6; k++) {
    fer__alloc_fail_after(k);
    fer_status st = fer_metrics_create(5, NULL, &m);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    fer_metrics_free(m);
  }
}

static void test_json_names(void) {
  /* Invalid UTF-8 becomes U+FFFD; valid UTF-8 and escapes survive. */
  static const char *const names[] = {"bad\xFF", "\xC3\xA9t\xC3\xA9",
                                      "a\"b\\c\n"};
  fer_metrics *m = NULL;
  CHECK_OK(fer_metrics_create(3, names, &m));
  char *json = NULL;
  CHECK_OK(fer_metrics_report(m, FER_METRICS_JSON, &json));
  CHECK(json && strstr(json, "\"bad\\ufffd\""));
  CHECK(json && strstr(json, "\"\xC3\xA9t\xC3\xA9\""));
  CHECK(json && strstr(json, "\"a\\\"b\\\\c\\u000a\""));
  CHECK(json && strstr(json, "\"accuracy\": null"));
  fer_free(json);
  fer_metrics_free(m);
}

int main(void) {
  RUN(test_json_names);
  RUN(test_hand_example);
  RUN(test_probabilities);
  RUN(test_against_naive);
  RUN(test_reports);
  RUN(test_misuse);
  return harness_finish();
}
