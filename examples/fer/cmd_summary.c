/* fer summary: prints the layer table of a model file, an architecture
 * text file or a reference network. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void summary_usage(FILE *out) {
  fprintf(out,
          "usage: fer summary MODEL.ferm | ARCH.txt | --net NAME\n\n"
          "Prints each layer's output shape and parameter count, the totals\n"
          "and the forward FLOPs per image. NAME is a reference network:");
  for (int i = 0; fer_model_reference_name(i); i++)
    fprintf(out, " %s", fer_model_reference_name(i));
  fprintf(out, ".\n");
}

/* The whole file as a NUL-terminated string (architecture text is small). */
static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, size = 0;
  char *text = malloc(cap);
  while (text) {
    size_t n = fread(text + size, 1, cap - size - 1, f);
    size += n;
    if (n == 0) break;
    if (size + 1 == cap) {
      char *grown = cap < (1u << 20) ? realloc(text, cap *= 2) : NULL;
      if (!grown) {
        free(text);
        text = NULL;
      }
      text = grown;
    }
  }
  fclose(f);
  if (text) text[size] = '\0';
  return text;
}

static int is_model_file(const char *path) {
  char magic[8] = {0};
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(magic, 1, sizeof magic, f);
  fclose(f);
  return n == sizeof magic && memcmp(magic, "FERMODEL", 8) == 0;
}

int cmd_summary(int argc, char **argv) {
  if (argc == 2 && cli_is_help(argv[1])) {
    summary_usage(stdout);
    return CLI_OK;
  }
  fer_model *m = NULL;
  fer_status st;
  const char *what;
  if (argc == 3 && strcmp(argv[1], "--net") == 0) {
    what = argv[2];
    st = fer_model_create_reference(argv[2], &m);
  } else if (argc == 2 && argv[1][0] != '-') {
    what = argv[1];
    if (is_model_file(argv[1])) {
      st = fer_model_load(argv[1], &m);
    } else {
      char *text = read_text(argv[1]);
      if (!text) {
        fprintf(stderr, "fer summary: cannot read %s\n", argv[1]);
        return CLI_FAILURE;
      }
      st = fer_model_from_text(text, &m);
      free(text);
    }
  } else {
    summary_usage(stderr);
    return CLI_USAGE;
  }
  if (st) {
    fprintf(stderr, "fer summary: %s: %s\n", what, fer_last_error());
    return st == FER_ERR_NOT_FOUND ? CLI_USAGE : CLI_FAILURE;
  }
  char *table = NULL;
  st = fer_model_summary(m, &table);
  if (st) {
    fprintf(stderr, "fer summary: %s\n", fer_last_error());
    fer_model_free(m);
    return CLI_FAILURE;
  }
  fputs(table, stdout);
  fer_free(table);
  fer_model_free(m);
  return CLI_OK;
}
