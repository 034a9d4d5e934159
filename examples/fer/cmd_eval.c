/* fer eval: runs a model over a data set and reports loss, accuracy,
 * confusion matrix, per-class precision/recall/F1 and macro F1, with
 * optional horizontal-flip test-time augmentation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_train_common.h"

static void usage(FILE *out) {
  fprintf(out,
"usage: fer eval [OPTIONS] MODEL DATA\n"
"\n"
"Evaluates MODEL (.ferm) on DATA: a FER2013 CSV (.csv or .csv.gz; rows chosen\n"
"by --usage) or a folder of class folders. Prints loss, accuracy, macro F1\n"
"and a per-class table with the confusion matrix.\n"
"\n"
"  --usage U             CSV rows: publictest (default), training,\n"
"                        privatetest, all\n"
"  --tta                 average the probabilities of each image and its\n"
"                        horizontal mirror\n"
"  --batch N             images per forward pass (default 256)\n"
"  --csv FILE            write the per-class report as CSV\n"
"  --json FILE           write the report as JSON\n"
"  --confusion-svg FILE  write the confusion matrix as an SVG heat map\n"
"  --threads N           threads (default: library default)\n"
"  --int8 CALIB          evaluate the int8 path: quantise the model on images\n"
"                        of CALIB (CSV rows of --usage training, or a folder)\n"
"  --calibrate N         calibration images for --int8, spread evenly over\n"
"                        CALIB (default 256)\n"
"  --precision P         fp32 (default) or int8: int8 runs MODEL's saved\n"
"                        quantisation (a file from fer quantize)\n"
"\n"
"Exit status: 0 done, 1 failure, 2 bad arguments.\n");
}

/* Probabilities of `n` images (already normalised) with optional flip TTA;
 * `mirror` is scratch of the same size as x. */
static fer_status predict(fer_predictor *p, float *x, float *mirror, int n,
                          int c, int h, int w, int classes, int tta,
                          float *probs, float *probs2) {
  fer_status st = fer_predictor_run(p, x, n, probs);
  if (st || !tta) return st;
  for (long plane = 0; plane < (long)n * c; plane++)
    for (int y = 0; y < h; y++) {
      const float *src = x + (plane * h + y) * w;
      float *dst = mirror + (plane * h + y) * w;
      for (int i = 0; i < w; i++) dst[i] = src[w - 1 - i];
    }
  if ((st = fer_predictor_run(p, mirror, n, probs2))) return st;
  for (long i = 0; i < (long)n * classes; i++) probs[i] = 0.5f * (probs[i] + probs2[i]);
  return FER_OK;
}

int cmd_eval(int argc, char **argv) {
  const char *model_path = NULL, *data_path = NULL, *csv = NULL, *json = NULL,
             *svg_path = NULL, *int8_data = NULL;
  double calibrate = 256;
  int usage_rows = FER_USAGE_PUBLIC_TEST, tta = 0, batch = 256, saved_int8 = 0;
  double threads = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    double x;
    if (cli_is_help(a)) { usage(stdout); return CLI_OK; }
    int takes_value = !strcmp(a, "--usage") || !strcmp(a, "--batch") ||
                      !strcmp(a, "--csv") || !strcmp(a, "--json") ||
                      !strcmp(a, "--confusion-svg") || !strcmp(a, "--threads") ||
                      !strcmp(a, "--int8") || !strcmp(a, "--calibrate") ||
                      !strcmp(a, "--precision");
    if (takes_value && !v) { fprintf(stderr, "fer eval: %s needs a value\n", a); return CLI_USAGE; }
    if (!strcmp(a, "--usage")) {
      if ((usage_rows = cli_parse_usage(v)) < 0) { fprintf(stderr, "fer eval: unknown usage '%s'\n", v); return CLI_USAGE; }
    } else if (!strcmp(a, "--batch")) {
      if (!cli_parse_double(v, &x) || x < 1 || x > 65536 || x != (int)x) { fprintf(stderr, "fer eval: --batch: '%s' is not in 1..65536\n", v); return CLI_USAGE; }
      batch = (int)x;
    } else if (!strcmp(a, "--threads")) {
      if (!cli_parse_double(v, &threads) || threads < 0 || threads > 1024) { fprintf(stderr, "fer eval: --threads: bad value '%s'\n", v); return CLI_USAGE; }
    } else if (!strcmp(a, "--calibrate")) {
      if (!cli_parse_double(v, &calibrate) || calibrate < 1 || calibrate > 65536 || calibrate != (int)calibrate) { fprintf(stderr, "fer eval: --calibrate: '%s' is not in 1..65536\n", v); return CLI_USAGE; }
    } else if (!strcmp(a, "--precision")) {
      if (strcmp(v, "fp32") && strcmp(v, "int8")) { fprintf(stderr, "fer eval: --precision: '%s' is not fp32 or int8\n", v); return CLI_USAGE; }
      saved_int8 = !strcmp(v, "int8");
    } else if (!strcmp(a, "--int8")) int8_data = v;
    else if (!strcmp(a, "--csv")) csv = v;
    else if (!strcmp(a, "--json")) json = v;
    else if (!strcmp(a, "--confusion-svg")) svg_path = v;
    else if (!strcmp(a, "--tta")) tta = 1;
    else if (a[0] == '-' && a[1]) { fprintf(stderr, "fer eval: unknown option %s (see --help)\n", a); return CLI_USAGE; }
    else if (!model_path) model_path = a;
    else if (!data_path) data_path = a;
    else { fprintf(stderr, "fer eval: unexpected argument %s\n", a); return CLI_USAGE; }
    if (takes_value) i++;
  }
  if (!model_path || !data_path) { fprintf(stderr, "fer eval: need MODEL and DATA (see --help)\n"); return CLI_USAGE; }
  if (threads > 0) fer_set_num_threads((int)threads);

  int rc = CLI_FAILURE;
  fer_model *model = NULL;
  fer_dataset *ds = NULL;
  fer_predictor *pred = NULL;
  fer_metrics *metrics = NULL;
  float *x = NULL, *mirror = NULL, *probs = NULL, *probs2 = NULL;
  int32_t *labels = NULL;
  uint32_t *indices = NULL;
  char *report = NULL;
  fer_status st = fer_model_load(model_path, &model);
  if (st) { fprintf(stderr, "fer eval: %s\n", fer_last_error()); goto done; }
  if (int8_data && !cli_quantize_on(model, int8_data, (size_t)calibrate, "fer eval: --int8"))
    goto done;
  if ((int8_data || saved_int8) &&
      fer_model_set(model, FER_MODEL_PRECISION, FER_PRECISION_INT8)) {
    fprintf(stderr, "fer eval: --precision int8: %s has no saved quantisation "
            "(write one with fer quantize, or use --int8 CALIB)\n", model_path);
    goto done;
  }
  if (!(ds = cli_load_dataset(data_path, (fer_usage)usage_rows))) goto done;
  int c, h, w, classes = fer_model_output_size(model);
  fer_model_input_shape(model, &c, &h, &w);
  if (fer_dataset_channels(ds) != c || fer_dataset_height(ds) != h ||
      fer_dataset_width(ds) != w || fer_dataset_class_count(ds) != classes) {
    fprintf(stderr, "fer eval: the data (%dx%dx%d, %d classes) does not fit the model "
            "(%dx%dx%d, %d classes)\n", fer_dataset_channels(ds), fer_dataset_height(ds),
            fer_dataset_width(ds), fer_dataset_class_count(ds), c, h, w, classes);
    goto done;
  }
  const char *names[4096];
  for (int k = 0; k < classes && k < 4096; k++) names[k] = fer_dataset_class_name(ds, k);
  size_t sample = (size_t)c * h * w, count = fer_dataset_count(ds);
  x = malloc(sample * batch * sizeof *x);
  mirror = malloc(sample * batch * sizeof *mirror);
  probs = malloc((size_t)classes * batch * sizeof *probs);
  probs2 = malloc((size_t)classes * batch * sizeof *probs2);
  labels = malloc((size_t)batch * sizeof *labels);
  indices = malloc((size_t)batch * sizeof *indices);
  if (!x || !mirror || !probs || !probs2 || !labels || !indices) { fprintf(stderr, "fer eval: out of memory\n"); goto done; }
  if ((st = fer_predictor_create(model, &pred)) ||
      (st = fer_metrics_create(classes, names, &metrics))) {
    fprintf(stderr, "fer eval: %s\n", fer_last_error());
    goto done;
  }
  for (size_t start = 0; start < count; start += (size_t)batch) {
    int n = (int)(count - start < (size_t)batch ? count - start : (size_t)batch);
    for (int i = 0; i < n; i++) indices[i] = (uint32_t)(start + i);
    st = fer_dataset_make_batch(ds, NULL, 0, indices, (size_t)n, 1.0f, x,
                                sample * batch, labels);
    if (!st) st = fer_model_preprocess(model, x, n);
    if (!st) st = predict(pred, x, mirror, n, c, h, w, classes, tta, probs, probs2);
    if (!st) st = fer_metrics_add_probs(metrics, probs, labels, (size_t)n);
    if (st) { fprintf(stderr, "fer eval: %s\n", fer_last_error()); goto done; }
  }
  if ((st = fer_metrics_report(metrics, FER_METRICS_TEXT, &report))) { fprintf(stderr, "fer eval: %s\n", fer_last_error()); goto done; }
  printf("model %s on %s (%zu images%s%s)\n", model_path, data_path, count,
         tta ? ", flip TTA" : "", int8_data || saved_int8 ? ", int8" : "");
  printf("loss %.4f  accuracy %.4f  macro F1 %.4f\n\n%s", fer_metrics_loss(metrics),
         fer_metrics_accuracy(metrics), fer_metrics_macro_f1(metrics), report);
  if (csv && (st = fer_metrics_save(metrics, FER_METRICS_CSV, csv))) { fprintf(stderr, "fer eval: %s\n", fer_last_error()); goto done; }
  if (json && (st = fer_metrics_save(metrics, FER_METRICS_JSON, json))) { fprintf(stderr, "fer eval: %s\n", fer_last_error()); goto done; }
  if (svg_path) {
    char *svg = NULL;
    st = fer_chart_confusion(metrics, "Confusion matrix", &svg);
    if (!st) st = fer_chart_save(svg, svg_path);
    fer_free(svg);
    if (st) { fprintf(stderr, "fer eval: %s\n", fer_last_error()); goto done; }
  }
  rc = CLI_OK;
done:
  fer_free(report);
  fer_metrics_free(metrics);
  fer_predictor_free(pred);
  fer_dataset_free(ds);
  fer_model_free(model);
  free(x); free(mirror); free(probs); free(probs2); free(labels); free(indices);
  return rc;
}
