/* Options shared by the subcommands that run the analyzer (analyze, video,
 * predict): --model, --cascade, --int8, --threads and the detector settings, parsed
 * the same way everywhere, and the analyzer they describe. */
#ifndef FER_CLI_ANALYZER_H
#define FER_CLI_ANALYZER_H

#include <stdio.h>

#include <fer.h>

typedef struct cli_analyzer_options {
  const char *model_path;   /* NULL: the built-in model */
  const char *cascade_path; /* NULL: the built-in (or installed) cascade */
  int threads;              /* 0: libfer's default */
  int int8;                 /* --int8: the model's saved quantisation */
  double values[6];         /* indexed by fer_analyze_param */
  int given[6];
} cli_analyzer_options;

/* The help lines of the shared options. */
void cli_analyzer_usage(FILE *out);

/* If argv[*i] is a shared option, consumes it (and its value) and returns
 * 1; returns 0 for other arguments and -1 (after a message on stderr) for a
 * missing or bad value. `command` names the subcommand in messages. */
int cli_analyzer_parse(const char *command, int argc, char **argv, int *i,
                       cli_analyzer_options *opt);

/* The analyzer and what it is made of (loaded from files or the built-in
 * defaults), kept together so one close releases them. */
typedef struct cli_analyzer {
  fer_analyzer *analyzer;
  fer_model *model;
  fer_cascade *cascade;
} cli_analyzer;

/* Loads what the options name, fills the rest from the built-in defaults,
 * applies the settings and the thread count. Without need_cascade only the
 * model is loaded (ca->analyzer stays NULL). Prints the reason on stderr
 * and returns CLI_FAILURE (or CLI_USAGE for a bad setting). */
int cli_analyzer_open(const char *command, const cli_analyzer_options *opt,
                      int need_cascade, cli_analyzer *out);
void cli_analyzer_close(cli_analyzer *ca);

/* Prints `s` as a JSON string. */
void cli_json_string(FILE *out, const char *s);


/* The model's name for a class, or "unnamed" (never NULL). */
const char *cli_class_name(const fer_model *model, int index);
#endif
