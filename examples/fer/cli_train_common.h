/* Pieces `fer train` and `fer eval` share: loading a data set named on the
 * command line (FER2013 CSV/CSV.gz with a Usage selection, or a folder of
 * class folders), parsing numbers, and progress printing. */
#ifndef FER_CLI_TRAIN_COMMON_H
#define FER_CLI_TRAIN_COMMON_H

#include <fer.h>

/* "training", "publictest", "privatetest", "all" (any case); -1 otherwise. */
int cli_parse_usage(const char *text);

/* Loads `path`: a directory as a folder layout with the FER2013 class names
 * (gray 48x48), anything else as a FER2013 CSV keeping `usage` rows.
 * Prints the reason to stderr and returns NULL on failure. */
fer_dataset *cli_load_dataset(const char *path, fer_usage usage);

/* Quantises `model` (fer_model_quantize) on `n` images spread evenly over
 * the data set at `path` (CSV Training rows or a folder), preprocessed as
 * the model wants. Prints "`who`: reason" to stderr and returns 0 on
 * failure, 1 on success; the model stays fp32. */
int cli_quantize_on(fer_model *model, const char *path, size_t n, const char *who);

/* Strict number parsing: the whole text must be a finite number. */
int cli_parse_double(const char *text, double *out);

/* Progress: a fer_train_callback that prints to stderr. On a terminal one
 * line per epoch updated in place (batch i/n, images/s, ETA, running loss
 * and accuracy); otherwise one line per finished epoch; nothing when quiet. */
typedef struct cli_progress {
  int quiet;
  int terminal;
} cli_progress;
int cli_progress_callback(void *user, fer_train_event event, int epoch,
                          int epochs, long batch, long batches,
                          const double *metrics, int metric_count);

/* `fer train` as a function, for front ends that add to it
 * (examples/mpi_train): `hooks` may be NULL (plain `fer train`).
 * before_fit sees the trainer and the model just before fer_trainer_fit,
 * after every option was applied (return 0 to go on); a process that is
 * not the writer prints nothing and writes neither --out nor --curves (the
 * trainer writes the state and history files on shard 0 only). Returns the
 * exit status. */
typedef struct cli_train_hooks {
  int (*before_fit)(void *user, fer_trainer *tr, fer_model *model);
  void *user;
  int writer;
} cli_train_hooks;
int cli_train_run(int argc, char **argv, const cli_train_hooks *hooks);

#endif
