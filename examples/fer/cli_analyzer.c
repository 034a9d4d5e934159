/* The options and analyzer set-up shared by analyze, video and predict. */
#include "cli_analyzer.h"

#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct {
  const char *flag;
  fer_analyze_param key;
} setting_flags[] = {
    {"--scale-factor", FER_ANALYZE_SCALE_FACTOR},
    {"--min-neighbors", FER_ANALYZE_MIN_NEIGHBORS},
    {"--min-size", FER_ANALYZE_MIN_SIZE},
    {"--max-size", FER_ANALYZE_MAX_SIZE},
    {"--margin", FER_ANALYZE_MARGIN},
};
#define NUM_SETTINGS (sizeof setting_flags / sizeof setting_flags[0])

void cli_analyzer_usage(FILE *out) {
  double def[6];
  for (size_t k = 0; k < NUM_SETTINGS; k++)
    fer_analyze_param_info(setting_flags[k].key, NULL, NULL, NULL, &def[k]);
  fprintf(out,
          "  --model FILE          expression model (default: the built-in one)\n"
          "  --cascade FILE        face cascade, OpenCV XML or libfer binary (default:\n"
          "                        $FER_CASCADE, else the built-in one)\n"
          "  --int8                classify with the int8 path: the --model file\n"
          "                        must hold a saved quantisation (fer quantize)\n"
          "  --threads N           threads to use (default: all cores)\n"
          "  --scale-factor F      detector pyramid step, > 1 (default %g)\n"
          "  --min-neighbors N     detector neighbours (default %g)\n"
          "  --min-size N          smallest face side in pixels (default %g)\n"
          "  --max-size N          largest face side, 0 = no limit (default %g)\n"
          "  --margin F            crop margin per side, fraction of the box (default %g)\n",
          def[0], def[1], def[2], def[3], def[4]);
}

static int parse_number(const char *command, const char *flag, const char *text,
                        double *out) {
  char *end;
  *out = strtod(text, &end);
  if (end == text || *end) {
    fprintf(stderr, "fer %s: %s needs a number, not '%s'\n", command, flag, text);
    return 0;
  }
  return 1;
}

int cli_analyzer_parse(const char *command, int argc, char **argv, int *i,
                       cli_analyzer_options *opt) {
  const char *a = argv[*i];
  if (strcmp(a, "--int8") == 0) {
    opt->int8 = 1;
    return 1;
  }
  int setting = -1;
  for (size_t k = 0; k < NUM_SETTINGS; k++)
    if (strcmp(a, setting_flags[k].flag) == 0) setting = (int)k;
  int takes_value = setting >= 0 || strcmp(a, "--model") == 0 ||
                    strcmp(a, "--cascade") == 0 || strcmp(a, "--threads") == 0;
  if (!takes_value) return 0;
  if (*i + 1 >= argc) {
    fprintf(stderr, "fer %s: %s needs a value\n", command, a);
    return -1;
  }
  const char *v = argv[++*i];
  if (strcmp(a, "--model") == 0) opt->model_path = v;
  else if (strcmp(a, "--cascade") == 0) opt->cascade_path = v;
  else if (strcmp(a, "--threads") == 0) {
    double n;
    if (!parse_number(command, a, v, &n)) return -1;
    if (n < 1 || n > 1024 || n != (int)n) {
      fprintf(stderr, "fer %s: --threads must be a whole number from 1 to 1024\n", command);
      return -1;
    }
    opt->threads = (int)n;
  } else {
    if (!parse_number(command, a, v, &opt->values[setting_flags[setting].key])) return -1;
    opt->given[setting_flags[setting].key] = 1;
  }
  return 1;
}

void cli_analyzer_close(cli_analyzer *ca) {
  fer_analyzer_free(ca->analyzer);
  fer_model_free(ca->model);
  fer_cascade_free(ca->cascade);
  memset(ca, 0, sizeof *ca);
}

static int fail(const char *command, cli_analyzer *ca) {
  fprintf(stderr, "fer %s: %s\n", command, fer_last_error());
  cli_analyzer_close(ca);
  return CLI_FAILURE;
}

int cli_analyzer_open(const char *command, const cli_analyzer_options *opt,
                      int need_cascade, cli_analyzer *ca) {
  memset(ca, 0, sizeof *ca);
  if (opt->threads > 0 && fer_set_num_threads(opt->threads) != FER_OK) return fail(command, ca);
  if (opt->model_path && fer_model_load(opt->model_path, &ca->model) != FER_OK)
    return fail(command, ca);
  if (opt->cascade_path && fer_cascade_load(opt->cascade_path, &ca->cascade) != FER_OK)
    return fail(command, ca);
  if (!ca->model && fer_default_model_load(&ca->model) != FER_OK) return fail(command, ca);
  if (opt->int8 && fer_model_set(ca->model, FER_MODEL_PRECISION, FER_PRECISION_INT8)) {
    fprintf(stderr, "fer %s: --int8: %s holds no quantisation (write one with "
            "fer quantize MODEL CALIB OUT.ferm)\n", command,
            opt->model_path ? opt->model_path : "the built-in model");
    cli_analyzer_close(ca);
    return CLI_FAILURE;
  }
  if (need_cascade && !ca->cascade && fer_default_cascade_load(&ca->cascade) != FER_OK)
    return fail(command, ca);
  if (!need_cascade) return CLI_OK;
  if (fer_analyzer_create(ca->model, ca->cascade, &ca->analyzer) != FER_OK) return fail(command, ca);
  for (int key = 1; key <= 5; key++)
    if (opt->given[key] && fer_analyzer_set(ca->analyzer, (fer_analyze_param)key,
                                            opt->values[key]) != FER_OK) {
      fprintf(stderr, "fer %s: %s\n", command, fer_last_error());
      cli_analyzer_close(ca);
      return CLI_USAGE;
    }
  return CLI_OK;
}

/* Bytes in the UTF-8 character at s (2..4), or 0 when s does not start a
 * valid multi-byte one (overlong forms, surrogates and code points past
 * U+10FFFF are not). */
static int utf8_multibyte(const unsigned char *s) {
  int n = s[0] >= 0xC2 && s[0] <= 0xDF ? 2 : s[0] >= 0xE0 && s[0] <= 0xEF ? 3
        : s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : 0;
  unsigned lo = s[0] == 0xE0 ? 0xA0 : s[0] == 0xF0 ? 0x90 : 0x80;
  unsigned hi = s[0] == 0xED ? 0x9F : s[0] == 0xF4 ? 0x8F : 0xBF;
  if (n && (s[1] < lo || s[1] > hi)) return 0;
  for (int i = 2; i < n; i++)
    if ((s[i] & 0xC0) != 0x80) return 0;
  return n;
}

/* A file name need not be UTF-8, JSON must be: a byte that is not part of
 * a valid character is written as \u00XX (the resume reader,
 * image_of_line, turns it back into that byte). */
void cli_json_string(FILE *out, const char *s) {
  fputc('"', out);
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    unsigned char c = *p;
    int n = c < 0x80 ? 1 : utf8_multibyte(p);
    if (c == '"' || c == '\\') fprintf(out, "\\%c", c);
    else if (c < 0x20 || n == 0) fprintf(out, "\\u%04x", c);
    else fwrite(p, 1, (size_t)n, out);
    p += n ? n : 1;
  }
  fputc('"', out);
}

const char *cli_class_name(const fer_model *model, int index) {
  const char *name = fer_model_class_name(model, index);
  return name ? name : "unnamed";
}
