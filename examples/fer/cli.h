/* Shared pieces of the fer command: the subcommand table and exit codes. */
#ifndef FER_CLI_H
#define FER_CLI_H

#include <string.h>

#include <fer.h>

enum { CLI_OK = 0, CLI_FAILURE = 1, CLI_USAGE = 2 };

typedef struct cli_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cli_command;

static inline int cli_is_help(const char *arg) {
  return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

/* Subcommands, each in its own cmd_<name>.c. */
int cmd_detect(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_video(int argc, char **argv);
int cmd_train_cascade(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_ensemble(int argc, char **argv);
int cmd_quantize(int argc, char **argv);

/* The commands that exist in this build; grows as they land. */
#define CLI_COMMANDS_EXTRA \
  {"detect", "find faces with a Viola-Jones cascade", cmd_detect}, \
  {"summary", "print a model's layers, shapes and parameter counts", cmd_summary}, \
  {"train", "train a network on FER2013 (CSV or folders)", cmd_train}, \
  {"eval", "evaluate a model on a data set", cmd_eval}, \
  {"analyze", "find faces in images and classify their expressions", cmd_analyze}, \
  {"video", "expressions in a Y4M video, tracked, annotated", cmd_video}, \
  {"predict", "classify images that are already face crops", cmd_predict}, \
  {"train-cascade", "train a Viola-Jones cascade (OpenCV XML + binary)", cmd_train_cascade}, \
  {"export", "write a model as ONNX", cmd_export}, \
  {"import", "read an ONNX model into a libfer model file", cmd_import}, \
  {"ensemble", "combine models into one that averages their logits", cmd_ensemble}, \
  {"quantize", "calibrate a model's int8 path and save it", cmd_quantize},

#endif
