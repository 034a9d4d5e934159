/* fer export, fer import: a libfer model file to ONNX and back
 * (docs/onnx.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void export_usage(FILE *out) {
  fprintf(out,
          "usage: fer export MODEL.ferm|--net NAME OUT.onnx\n\n"
          "Writes the model as ONNX (opset %d). The ONNX input is the model's\n"
          "input after its preprocessing, which the file records in its\n"
          "metadata (libfer.preprocessing, libfer.image_normalization).\n"
          "Dropout layers are left out (inference).\n",
          fer_model_onnx_opset());
}

int cmd_export(int argc, char **argv) {
  if (argc == 2 && cli_is_help(argv[1])) {
    export_usage(stdout);
    return CLI_OK;
  }
  fer_model *m = NULL;
  fer_status st;
  const char *what, *out;
  if (argc == 4 && strcmp(argv[1], "--net") == 0) {
    what = argv[2];
    out = argv[3];
    st = fer_model_create_reference(argv[2], &m);
  } else if (argc == 3 && argv[1][0] != '-') {
    what = argv[1];
    out = argv[2];
    st = fer_model_load(argv[1], &m);
  } else {
    export_usage(stderr);
    return CLI_USAGE;
  }
  if (st) {
    fprintf(stderr, "fer export: %s: %s\n", what, fer_last_error());
    return st == FER_ERR_NOT_FOUND ? CLI_USAGE : CLI_FAILURE;
  }
  st = fer_model_save_onnx(m, out);
  fer_model_free(m);
  if (st) {
    fprintf(stderr, "fer export: %s\n", fer_last_error());
    return CLI_FAILURE;
  }
  return CLI_OK;
}

static void import_usage(FILE *out) {
  fprintf(out,
          "usage: fer import MODEL.onnx OUT.ferm\n\n"
          "Reads an ONNX model made of the operators libfer's layers express\n"
          "(docs/onnx.md) and saves it as a libfer model file. The first\n"
          "operator outside that subset is named in the error.\n");
}

int cmd_import(int argc, char **argv) {
  if (argc == 2 && cli_is_help(argv[1])) {
    import_usage(stdout);
    return CLI_OK;
  }
  if (argc != 3 || argv[1][0] == '-') {
    import_usage(stderr);
    return CLI_USAGE;
  }
  fer_model *m = NULL;
  fer_status st = fer_model_load_onnx(argv[1], &m);
  if (!st) st = fer_model_save(m, argv[2], FER_SAVE_DEFAULT);
  fer_model_free(m);
  if (st) {
    fprintf(stderr, "fer import: %s\n", fer_last_error());
    return CLI_FAILURE;
  }
  return CLI_OK;
}
