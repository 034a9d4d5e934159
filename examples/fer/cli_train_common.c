/* Data set loading, number parsing and progress lines for train and eval. */
#include "cli_train_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <sys/stat.h>

int cli_parse_usage(const char *text) {
  if (strcasecmp(text, "training") == 0) return FER_USAGE_TRAINING;
  if (strcasecmp(text, "publictest") == 0) return FER_USAGE_PUBLIC_TEST;
  if (strcasecmp(text, "privatetest") == 0) return FER_USAGE_PRIVATE_TEST;
  if (strcasecmp(text, "all") == 0) return FER_USAGE_ALL;
  return -1;
}

fer_dataset *cli_load_dataset(const char *path, fer_usage usage) {
  struct stat info;
  fer_dataset *ds = NULL;
  fer_status st;
  if (stat(path, &info) == 0 && S_ISDIR(info.st_mode)) {
    const char *names[FER_FER2013_CLASSES];
    for (int i = 0; i < FER_FER2013_CLASSES; i++) names[i] = fer_fer2013_class_name(i);
    st = fer_dataset_load_folder(path, names, FER_FER2013_CLASSES, 1,
                                 FER_FER2013_SIDE, FER_FER2013_SIDE,
                                 FER_DATASET_DEFAULT, &ds);
  } else {
    st = fer_dataset_load_fer2013_csv(path, usage, FER_DATASET_DEFAULT, &ds);
  }
  if (st) {
    fprintf(stderr, "fer: cannot load data set %s: %s\n", path, fer_last_error());
    return NULL;
  }
  if (fer_dataset_count(ds) == 0) {
    fprintf(stderr, "fer: data set %s has no images%s\n", path,
            usage != FER_USAGE_ALL ? " with that Usage" : "");
    fer_dataset_free(ds);
    return NULL;
  }
  return ds;
}

int cli_parse_double(const char *text, double *out) {
  char *end;
  double v = strtod(text, &end);
  if (end == text || *end != '\0' || !isfinite(v)) return 0;
  *out = v;
  return 1;
}

static void format_duration(double seconds, char *out, size_t size) {
  long s = (long)(seconds + 0.5);
  if (s >= 3600)
    snprintf(out, size, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
  else
    snprintf(out, size, "%ld:%02ld", s / 60, s % 60);
}

int cli_progress_callback(void *user, fer_train_event event, int epoch,
                          int epochs, long batch, long batches,
                          const double *metrics, int metric_count) {
  const cli_progress *p = user;
  if (p->quiet || metric_count < FER_TRAIN_METRIC_COUNT) return 0;
  double seconds = metrics[FER_METRIC_SECONDS];
  double rate = seconds > 0 ? metrics[FER_METRIC_IMAGES] / seconds : 0;
  if (event == FER_TRAIN_EVENT_BATCH) {
    if (!p->terminal || (batch % 5 != 0 && batch != batches)) return 0;
    char eta[32];
    format_duration(rate > 0 ? seconds * (double)(batches - batch) / (double)batch : 0,
                    eta, sizeof eta);
    fprintf(stderr, "\repoch %d/%d  batch %ld/%ld  %.0f img/s  ETA %s  loss %.4f  "
            "acc %.4f   ", epoch + 1, epochs, batch, batches, rate, eta,
            metrics[FER_METRIC_LOSS], metrics[FER_METRIC_ACCURACY]);
    fflush(stderr);
    return 0;
  }
  char took[32];
  format_duration(seconds, took, sizeof took);
  fprintf(stderr, "%sepoch %d/%d  %s  %.0f img/s  loss %.4f  acc %.4f", p->terminal ? "\r" : "",
          epoch + 1, epochs, took, rate, metrics[FER_METRIC_LOSS],
          metrics[FER_METRIC_ACCURACY]);
  if (!isnan(metrics[FER_METRIC_VAL_LOSS]))
    fprintf(stderr, "  val_loss %.4f  val_acc %.4f", metrics[FER_METRIC_VAL_LOSS],
            metrics[FER_METRIC_VAL_ACCURACY]);
  fprintf(stderr, "  lr %.3g%s\n", metrics[FER_METRIC_LEARNING_RATE],
          p->terminal ? "          " : "");
  fflush(stderr);
  return 0;
}

int cli_quantize_on(fer_model *model, const char *path, size_t n, const char *who) {
  int c, h, w, ok = 0;
  fer_model_input_shape(model, &c, &h, &w);
  fer_dataset *ds = cli_load_dataset(path, FER_USAGE_TRAINING);
  if (!ds) return 0;
  size_t count = fer_dataset_count(ds), sample = (size_t)c * h * w;
  if (n > count) n = count;
  float *x = malloc(n * sample * sizeof *x);
  uint32_t *indices = malloc(n * sizeof *indices);
  int32_t *labels = malloc(n * sizeof *labels);
  fer_status st = FER_ERR_OUT_OF_MEMORY;
  if (x && indices && labels) {
    for (size_t i = 0; i < n; i++) indices[i] = (uint32_t)(i * count / n);
    st = fer_dataset_make_batch(ds, NULL, 0, indices, n, 1.0f, x, n * sample, labels);
    if (!st) st = fer_model_preprocess(model, x, (int)n);
    if (!st) st = fer_model_quantize(model, x, n);
    ok = !st;
  }
  if (!ok)
    fprintf(stderr, "%s: %s\n", who,
            st == FER_ERR_OUT_OF_MEMORY ? "out of memory" : fer_last_error());
  free(x);
  free(indices);
  free(labels);
  fer_dataset_free(ds);
  return ok;
}
