/* fer ensemble: several model files into one that averages their logits
 * (fer_model_ensemble). */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define MAX_MEMBERS 8

static void ensemble_usage(FILE *out) {
  fprintf(out,
          "usage: fer ensemble OUT.ferm MODEL.ferm MODEL.ferm... [--float16]\n\n"
          "Writes one model whose output is the softmax of the mean of the\n"
          "members' logits (2 to %d members with the same input, classes and\n"
          "normalisation, each ending with dense + softmax). It costs the sum\n"
          "of the members' FLOPs; use it wherever a model file goes\n"
          "(fer eval, fer analyze --model, the Python binding).\n"
          "--float16 stores the weights as float16.\n",
          MAX_MEMBERS);
}

int cmd_ensemble(int argc, char **argv) {
  if (argc == 2 && cli_is_help(argv[1])) {
    ensemble_usage(stdout);
    return CLI_OK;
  }
  const char *out = NULL, *paths[MAX_MEMBERS];
  int count = 0, float16 = 0, bad = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--float16"))
      float16 = 1;
    else if (argv[i][0] == '-')
      bad = 1;
    else if (!out)
      out = argv[i];
    else if (count < MAX_MEMBERS)
      paths[count++] = argv[i];
    else
      bad = 1; /* too many members */
  }
  if (bad || !out || count < 2) {
    ensemble_usage(stderr);
    return CLI_USAGE;
  }
  fer_model *members[MAX_MEMBERS] = {0}, *e = NULL;
  int rc = CLI_FAILURE;
  for (int k = 0; k < count; k++)
    if (fer_model_load(paths[k], &members[k])) {
      fprintf(stderr, "fer ensemble: %s: %s\n", paths[k], fer_last_error());
      goto done;
    }
  fer_status st = fer_model_ensemble((const fer_model *const *)members, count, &e);
  if (!st) st = fer_model_save(e, out, float16 ? FER_SAVE_FLOAT16 : FER_SAVE_DEFAULT);
  if (st) {
    fprintf(stderr, "fer ensemble: %s\n", fer_last_error());
    goto done;
  }
  rc = CLI_OK;
done:
  fer_model_free(e);
  for (int k = 0; k < count; k++) fer_model_free(members[k]);
  return rc;
}
