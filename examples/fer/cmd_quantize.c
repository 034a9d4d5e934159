/* fer quantize: calibrates a model's int8 path (fer_model_quantize) and
 * writes a model file that keeps the calibration (its QUNT section), so
 * that int8 inference needs no calibration data later. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_train_common.h"

static void quantize_usage(FILE *out) {
  fprintf(out,
          "usage: fer quantize IN.ferm CALIB OUT.ferm [--calibrate N] [--float16]\n\n"
          "Calibrates IN's int8 path on N images (default 256) spread evenly\n"
          "over CALIB (a FER2013 CSV, whose Training rows are used, or a folder\n"
          "of class folders) and writes OUT: the same model with the\n"
          "calibration kept, which runs int8 when asked (fer eval --int8,\n"
          "fer analyze --int8, Python Model.precision = \"int8\") and fp32\n"
          "otherwise. OUT needs libfer with model format version 4.\n"
          "--float16 stores the weights as float16 (no loss when IN was stored\n"
          "so, as models/default.ferm is; without it OUT takes twice the space).\n");
}

int cmd_quantize(int argc, char **argv) {
  if (argc == 2 && cli_is_help(argv[1])) {
    quantize_usage(stdout);
    return CLI_OK;
  }
  const char *paths[3];
  int count = 0, float16 = 0, bad = 0;
  double calibrate = 256;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--float16")) {
      float16 = 1;
    } else if (!strcmp(argv[i], "--calibrate")) {
      if (i + 1 >= argc || !cli_parse_double(argv[i + 1], &calibrate) ||
          calibrate < 1 || calibrate > 65536 || calibrate != (int)calibrate) {
        fprintf(stderr, "fer quantize: --calibrate needs a count in 1..65536\n");
        return CLI_USAGE;
      }
      i++;
    } else if (argv[i][0] == '-' || count == 3) {
      bad = 1;
    } else {
      paths[count++] = argv[i];
    }
  }
  if (bad || count != 3) {
    quantize_usage(stderr);
    return CLI_USAGE;
  }
  fer_model *m = NULL;
  int rc = CLI_FAILURE;
  if (fer_model_load(paths[0], &m)) {
    fprintf(stderr, "fer quantize: %s\n", fer_last_error());
    goto done;
  }
  if (!cli_quantize_on(m, paths[1], (size_t)calibrate, "fer quantize")) goto done;
  if (fer_model_save(m, paths[2], float16 ? FER_SAVE_FLOAT16 : FER_SAVE_DEFAULT)) {
    fprintf(stderr, "fer quantize: %s\n", fer_last_error());
    goto done;
  }
  rc = CLI_OK;
done:
  fer_model_free(m);
  return rc;
}
