/*
 * fer predict: classify images that are already face crops (no detection),
 * such as the FER2013 images.
 *
 *   fer predict IMAGE... [--json | --csv] [--model FILE] [--threads N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_analyzer.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: fer predict IMAGE... [options]\n"
          "\n"
          "Classifies each image as a whole (it should be a face crop): converted as\n"
          "the model needs, resized with area averaging, normalised as the model says.\n"
          "Prints 'IMAGE: LABEL PERCENT%%' per image.\n"
          "\n"
          "options:\n"
          "  --json                one JSON object per image per line\n"
          "  --csv                 one CSV row per image, with a header\n"
          "  --model FILE          expression model (default: the built-in one)\n"
          "  --threads N           threads to use (default: all cores)\n"
          "\n"
          "Exit status: 0 ok, 1 an image or the model could not be used, 2 usage.\n");
}

static int predict_one(const fer_model *model, fer_predictor *pred, const char *path,
                       int format, float *probs, int k) {
  fer_image *img;
  if (fer_image_load(path, FER_DECODE_DEFAULT, &img) != FER_OK) {
    fprintf(stderr, "fer predict: %s\n", fer_last_error());
    return CLI_FAILURE;
  }
  int top = 0;
  fer_status st = fer_predictor_run_image(pred, img, probs, k, &top);
  fer_image_free(img);
  if (st != FER_OK) {
    fprintf(stderr, "fer predict: %s: %s\n", path, fer_last_error());
    return CLI_FAILURE;
  }
  if (format == 'j') {
    printf("{\"image\":");
    cli_json_string(stdout, path);
    printf(",\"label\":");
    cli_json_string(stdout, cli_class_name(model, top));
    printf(",\"confidence\":%.6f,\"probabilities\":{", probs[top]);
    for (int c = 0; c < k; c++) {
      printf("%s", c ? "," : "");
      cli_json_string(stdout, cli_class_name(model, c));
      printf(":%.6f", probs[c]);
    }
    printf("}}\n");
  } else if (format == 'c') {
    printf("%s,%s,%.6f", path, cli_class_name(model, top), probs[top]);
    for (int c = 0; c < k; c++) printf(",%.6f", probs[c]);
    printf("\n");
  } else {
    printf("%s: %s %.0f%%\n", path, cli_class_name(model, top), 100.0 * probs[top]);
  }
  return CLI_OK;
}

int cmd_predict(int argc, char **argv) {
  cli_analyzer_options opt = {0};
  int format = 't';
  char **images = calloc((size_t)argc + 1, sizeof *images);
  int count = 0;
  if (!images) return CLI_FAILURE;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--model") == 0 || strcmp(a, "--threads") == 0) {
      if (cli_analyzer_parse("predict", argc, argv, &i, &opt) < 0) {
        free(images);
        return CLI_USAGE;
      }
    } else if (cli_is_help(a)) {
      usage(stdout);
      free(images);
      return CLI_OK;
    } else if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0) {
      int f = a[2];
      if (format != 't' && format != f) {
        fprintf(stderr, "fer predict: --json and --csv exclude each other\n");
        free(images);
        return CLI_USAGE;
      }
      format = f;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "fer predict: unknown option %s\n", a);
      usage(stderr);
      free(images);
      return CLI_USAGE;
    } else {
      images[count++] = argv[i];
    }
  }
  if (count == 0) {
    fprintf(stderr, "fer predict: no image given\n");
    usage(stderr);
    free(images);
    return CLI_USAGE;
  }
  cli_analyzer ca;
  int rc = cli_analyzer_open("predict", &opt, 0, &ca);
  if (rc != CLI_OK) {
    free(images);
    return rc;
  }
  fer_predictor *pred = NULL;
  int k = fer_model_output_size(ca.model);
  float *probs = malloc((size_t)k * sizeof *probs);
  if (!probs || fer_predictor_create(ca.model, &pred) != FER_OK) {
    fprintf(stderr, "fer predict: %s\n", probs ? fer_last_error() : "out of memory");
    rc = CLI_FAILURE;
  }
  if (rc == CLI_OK && format == 'c') {
    printf("image,label,confidence");
    for (int c = 0; c < k; c++) printf(",%s", cli_class_name(ca.model, c));
    printf("\n");
  }
  for (int i = 0; pred && i < count; i++)
    if (predict_one(ca.model, pred, images[i], format, probs, k) != CLI_OK) rc = CLI_FAILURE;
  fer_predictor_free(pred);
  free(probs);
  cli_analyzer_close(&ca);
  free(images);
  return rc;
}
