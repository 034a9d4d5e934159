/*
 * The fit loop's insides, shared by trainer.c (keys and the loop),
 * callbacks.c (plateau, early stopping, checkpoint decisions) and
 * trainer_state.c (the resumable training-state file). Nothing here is
 * exported.
 */
#ifndef FER_TRAINER_INTERNAL_H
#define FER_TRAINER_INTERNAL_H

#include "fer/train.h"
#include "train/optim_internal.h"

#define FER__TRAINER_MAGIC 0x4E525446u

/* The training-state format version (docs/training-state-format.md). */
#define FER__TRAIN_STATE_VERSION 1

/* Number of keys + 1 (slot 0 unused): the one parameter table's size. */
#define FER__TRAIN_NUM_KEYS (FER_TRAIN_DISTILL_TEMPERATURE + 1)
#define FER__TRAIN_NUM_PATHS (FER_TRAIN_PATH_HISTORY + 1)

/* What a monitor-driven callback remembers between epochs: the best value
 * of its metric (NaN before the first finite one), epochs since it (Keras'
 * `wait`), the 1-based epoch it was reached at, and the plateau's cooldown. */
typedef struct fer__tracker {
  double best;
  long wait;
  long best_epoch;
  long cooldown;
} fer__tracker;

void fer__tracker_reset(fer__tracker *t);
/* Whether a larger value of `metric` is better (accuracies). */
int fer__metric_mode_max(fer_train_metric metric);
/* Whether `value` improves on t->best by more than min_delta (any finite
 * value improves on no best yet; NaN never improves). */
int fer__tracker_improves(const fer__tracker *t, fer_train_metric metric,
                          double value, double min_delta);

/* Keras ReduceLROnPlateau at the end of 1-based epoch `epoch`: returns the
 * learning rate for the next epoch (lr itself when not reduced). */
double fer__plateau_update(fer__tracker *t, fer_train_metric metric,
                           double value, long epoch, double lr, double factor,
                           long patience, double min_lr, double min_delta);
/* Keras EarlyStopping: records the epoch; *improved tells whether it is the
 * new best; returns 1 when training should stop now. */
int fer__early_stop_update(fer__tracker *t, fer_train_metric metric,
                           double value, long epoch, long patience,
                           int *improved);
/* ModelCheckpoint(save_best_only): returns 1 when this epoch is the new best
 * and the model is to be saved. */
int fer__checkpoint_update(fer__tracker *t, fer_train_metric metric,
                           double value, long epoch);

struct fer_trainer {
  uint32_t magic;
  double value[FER__TRAIN_NUM_KEYS];
  char *path[FER__TRAIN_NUM_PATHS];
  fer_optimizer *opt;     /* borrowed, or own_opt */
  fer_optimizer *own_opt;
  fer_schedule *sched;    /* borrowed, may be NULL */
  const fer_augment *aug; /* borrowed, may be NULL */
  const fer_model *teacher; /* borrowed, may be NULL */
  float *class_weights;   /* explicit weights, NULL when none */
  int num_class_weights;
  fer_train_callback callback;
  void *callback_user;
  fer_train_allreduce allreduce; /* data-parallel: NULL when alone */
  void *allreduce_user;
  /* Progress: everything below goes into the training-state file. */
  int epochs_done;
  double *history;        /* history_count rows of FER_TRAIN_METRIC_COUNT */
  int history_count, history_capacity;
  fer__tracker plateau, early, checkpoint;
  uint8_t *best_weights;  /* model file bytes at early stopping's best */
  size_t best_weights_size;
  int stopped;            /* early stopping fired */
};

/* Appends one history row (FER_TRAIN_METRIC_COUNT doubles). */
fer_status fer__trainer_history_append(fer_trainer *tr, const double *row);

/* Writes the whole training state (trainer progress, model, optimizer,
 * schedule, dropout generator) to `path` atomically. */
fer_status fer__train_state_save(const fer_trainer *tr, const fer_model *m,
                                 uint64_t train_count, const char *path);
/* `train_count` (samples trained on) must match the state's. Reads `path` and restores the trainer's progress, the model's tensors and
 * generator, the optimizer and the schedule. All or nothing: on failure
 * nothing is changed. `path` names the file in messages. */
fer_status fer__train_state_load(fer_trainer *tr, fer_model *m,
                                 uint64_t train_count, const char *path);

/* Whether a file exists at `path` (resume or start afresh). */
int fer__train_state_exists(const char *path);

/* ---- Soft targets (soft_targets.c) ---- */

/* Mixup's draw for one batch: lambda ~ Beta(alpha, alpha) and a uniform
 * permutation perm[0..n) of the batch, from a generator seeded by (seed,
 * epoch, batch index within the epoch, shard index): a function of those
 * alone, so a resumed run draws what an uninterrupted one would. */
void fer__mixup_draw(uint64_t seed, uint32_t epoch, uint64_t batch,
                     uint32_t shard, double alpha, int n, double *lambda,
                     uint32_t *perm);
/* targets (n x K) = (1 - s) onehot(labels) + s / K. */
void fer__label_targets(const int32_t *labels, int n, int K, double smoothing,
                        float *targets);
/* Mixes the batch with its permuted copy: row i of x (sample_floats),
 * targets (K) and weights (1; may be NULL) becomes lambda row_i + (1 -
 * lambda) row_perm(i). `scratch` holds n x max(sample_floats, K) floats. */
void fer__mixup_apply(float *x, size_t sample_floats, float *targets, int K,
                      float *weights, int n, double lambda, const uint32_t *perm,
                      float *scratch);
/* Distillation: targets_i <- (1 - weight) targets_i + weight softmax(log
 * teacher_i / T), teacher_i being the teacher's output probabilities
 * (p^(1/T) normalised; p = 0 stays 0). FER_ERR_INVALID_ARGUMENT when a
 * teacher output is negative, not finite, or a row is all 0. */
fer_status fer__distill_targets(const float *teacher, float *targets, int n,
                                int K, double weight, double temperature);

/* Copies every tensor of `src` into `dst` (same architecture). */
fer_status fer__model_copy_tensors(fer_model *dst, const fer_model *src,
                                   const char *who);

#endif
