/* The fit loop: the trainer handle and its one key table, then
 * fer_trainer_fit (epochs of shuffled, augmented batches, validation, the
 * built-in callbacks, history and state written after every epoch). */
#include <math.h>
#include <string.h>

#include "core/params.h"
#include "train/trainer_internal.h"
#include "util/buffer.h"
#include "util/file.h"

/* The one table behind set, get, bounds and names: key, name, kind, min,
 * max, default. Slot 0 is unused. */
#define ROW(key, name, kind, min, max, def)                            \
  FER__PARAM_AT(fer_trainer, value, key, name, kind, min, max, def,   \
                FER__PARAM_MIN_INCLUSIVE)
static const fer__param rows[FER__TRAIN_NUM_KEYS] = {
    ROW(FER_TRAIN_EPOCHS, "epochs", FER__PARAM_INT, 1, 100000, 30),
    ROW(FER_TRAIN_BATCH_SIZE, "batch_size", FER__PARAM_INT, 1, 65536, 64),
    ROW(FER_TRAIN_SHUFFLE, "shuffle", FER__PARAM_BOOL, 0, 1, 1),
    ROW(FER_TRAIN_SEED, "seed", FER__PARAM_INT, 0, 9007199254740992.0, 0),
    ROW(FER_TRAIN_THREADS, "threads", FER__PARAM_INT, 0, 1024, 0),
    ROW(FER_TRAIN_VALIDATION_FRACTION, "validation_fraction", FER__PARAM_FLOAT, 0, 0.9, 0),
    ROW(FER_TRAIN_BALANCED_WEIGHTS, "balanced_weights", FER__PARAM_BOOL, 0, 1, 0),
    ROW(FER_TRAIN_LABEL_SMOOTHING, "label_smoothing", FER__PARAM_FLOAT, 0, 0.999, 0),
    ROW(FER_TRAIN_PLATEAU_FACTOR, "plateau_factor", FER__PARAM_FLOAT, 0, 0.999, 0),
    ROW(FER_TRAIN_PLATEAU_PATIENCE, "plateau_patience", FER__PARAM_INT, 1, 100000, 10),
    ROW(FER_TRAIN_PLATEAU_MIN_LR, "plateau_min_lr", FER__PARAM_FLOAT, 0, 10, 0),
    ROW(FER_TRAIN_PLATEAU_MONITOR, "plateau_monitor", FER__PARAM_ENUM, 0, 3, FER_METRIC_VAL_LOSS),
    ROW(FER_TRAIN_PLATEAU_MIN_DELTA, "plateau_min_delta", FER__PARAM_FLOAT, 0, 1e6, 1e-4),
    ROW(FER_TRAIN_EARLY_STOP_PATIENCE, "early_stop_patience", FER__PARAM_INT, 0, 100000, 0),
    ROW(FER_TRAIN_EARLY_STOP_MONITOR, "early_stop_monitor", FER__PARAM_ENUM, 0, 3, FER_METRIC_VAL_LOSS),
    ROW(FER_TRAIN_RESTORE_BEST, "restore_best", FER__PARAM_BOOL, 0, 1, 0),
    ROW(FER_TRAIN_CHECKPOINT_MONITOR, "checkpoint_monitor", FER__PARAM_ENUM, 0, 3, FER_METRIC_VAL_ACCURACY),
    ROW(FER_TRAIN_EVAL_BATCH_SIZE, "eval_batch_size", FER__PARAM_INT, 1, 65536, 256),
    ROW(FER_TRAIN_SHARD_COUNT, "shard_count", FER__PARAM_INT, 1, 65536, 1),
    ROW(FER_TRAIN_SHARD_INDEX, "shard_index", FER__PARAM_INT, 0, 65535, 0),
    ROW(FER_TRAIN_MIXUP, "mixup", FER__PARAM_FLOAT, 0, 100, 0),
    ROW(FER_TRAIN_DISTILL_WEIGHT, "distill_weight", FER__PARAM_FLOAT, 0, 1, 0.5),
    ROW(FER_TRAIN_DISTILL_TEMPERATURE, "distill_temperature", FER__PARAM_FLOAT, 0.01, 100, 1),
};
#undef ROW
_Static_assert(FER__ARRAY_LEN(rows) == FER__TRAIN_NUM_KEYS,
               "one table row per trainer key");
static const fer__param_table params =
    FER__PARAM_TABLE("trainer", rows, FER_ERR_NOT_FOUND);

static const char *const metric_names[FER_TRAIN_METRIC_COUNT] = {
    "loss", "acc", "val_loss", "val_acc", "lr", "seconds", "images"};

int fer_train_metric_count(void) { return FER_TRAIN_METRIC_COUNT; }

const char *fer_train_metric_name(fer_train_metric metric) {
  return (int)metric >= 0 && (int)metric < FER_TRAIN_METRIC_COUNT
             ? metric_names[metric] : NULL;
}

static fer_status check(const fer_trainer *tr, const char *who) {
  if (!tr || tr->magic != FER__TRAINER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: trainer is NULL or not live", who);
  return FER_OK;
}

static void reset_progress(fer_trainer *tr) {
  tr->epochs_done = 0;
  tr->history_count = 0;
  fer__tracker_reset(&tr->plateau);
  fer__tracker_reset(&tr->early);
  fer__tracker_reset(&tr->checkpoint);
  fer__free(tr->best_weights);
  tr->best_weights = NULL;
  tr->best_weights_size = 0;
  tr->stopped = 0;
}

fer_status fer_trainer_create(fer_trainer **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_trainer_create: out is NULL");
  *out = NULL;
  fer_trainer *tr = fer__calloc(1, sizeof *tr);
  if (!tr) return fer__fail(FER_ERR_OUT_OF_MEMORY, "trainer: out of memory");
  fer_status st = fer_optimizer_create(FER_OPTIMIZER_ADAM, &tr->own_opt);
  if (st) {
    fer__free(tr);
    return st;
  }
  tr->magic = FER__TRAINER_MAGIC;
  tr->opt = tr->own_opt;
  fer__param_set_defaults(&params, tr);
  reset_progress(tr);
  *out = tr;
  return FER_OK;
}

void fer_trainer_free(fer_trainer *tr) {
  if (!tr || tr->magic != FER__TRAINER_MAGIC) return;
  tr->magic = 0;
  fer_optimizer_free(tr->own_opt);
  for (int i = 0; i < FER__TRAIN_NUM_PATHS; i++) fer__free(tr->path[i]);
  fer__free(tr->class_weights);
  fer__free(tr->history);
  fer__free(tr->best_weights);
  fer__free(tr);
}

fer_status fer_trainer_set(fer_trainer *tr, fer_train_param key, double value) {
  fer_status st = check(tr, "fer_trainer_set");
  return st ? st : fer__param_set(&params, "fer_trainer_set", tr, (int)key, value);
}

fer_status fer_trainer_get(const fer_trainer *tr, fer_train_param key,
                           double *value) {
  fer_status st = check(tr, "fer_trainer_get");
  return st ? st : fer__param_get(&params, "fer_trainer_get", tr, (int)key, value);
}

fer_status fer_trainer_param_info(fer_train_param key, const char **name,
                                  double *default_value, double *min_value,
                                  double *max_value) {
  return fer__param_info(&params, "fer_trainer_param_info", (int)key, name,
                         min_value, max_value, default_value);
}

fer_status fer_trainer_param_find(const char *name, fer_train_param *key) {
  int found = 0;
  fer_status st = fer__param_find(&params, "fer_trainer_param_find", name,
                                  key ? &found : NULL);
  if (st == FER_OK) *key = (fer_train_param)found;
  return st;
}

fer_status fer_trainer_set_path(fer_trainer *tr, fer_train_path key,
                                const char *path) {
  fer_status st = check(tr, "fer_trainer_set_path");
  if (st) return st;
  if ((int)key < 1 || (int)key >= FER__TRAIN_NUM_PATHS)
    return fer__fail(FER_ERR_NOT_FOUND, "fer_trainer_set_path: path key %d is unknown",
                     (int)key);
  char *copy = NULL;
  if (path && *path) {
    size_t len = strlen(path);
    if (!(copy = fer__malloc(len + 1)))
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "trainer path: out of memory");
    memcpy(copy, path, len + 1);
  }
  fer__free(tr->path[key]);
  tr->path[key] = copy;
  return FER_OK;
}

fer_status fer_trainer_set_optimizer(fer_trainer *tr, fer_optimizer *opt) {
  fer_status st = check(tr, "fer_trainer_set_optimizer");
  if (st) return st;
  if (opt && opt->magic != FER__OPTIMIZER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "fer_trainer_set_optimizer: optimizer is not live");
  tr->opt = opt ? opt : tr->own_opt;
  return FER_OK;
}

fer_status fer_trainer_set_schedule(fer_trainer *tr, fer_schedule *sched) {
  fer_status st = check(tr, "fer_trainer_set_schedule");
  if (st) return st;
  if (sched && sched->magic != FER__SCHEDULE_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "fer_trainer_set_schedule: schedule is not live");
  tr->sched = sched;
  return FER_OK;
}

fer_status fer_trainer_set_augment(fer_trainer *tr, const fer_augment *aug) {
  fer_status st = check(tr, "fer_trainer_set_augment");
  if (st) return st;
  tr->aug = aug;
  return FER_OK;
}

fer_status fer_trainer_set_teacher(fer_trainer *tr, const fer_model *teacher) {
  fer_status st = check(tr, "fer_trainer_set_teacher");
  if (st) return st;
  if (teacher && (st = fer__model_check(teacher, "fer_trainer_set_teacher"))) return st;
  tr->teacher = teacher;
  return FER_OK;
}

fer_status fer_trainer_set_class_weights(fer_trainer *tr, const float *weights,
                                         int count) {
  fer_status st = check(tr, "fer_trainer_set_class_weights");
  if (st) return st;
  float *copy = NULL;
  if (weights) {
    if (count < 1 || count > FER_MODEL_MAX_DIM)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "fer_trainer_set_class_weights: count %d is not in 1..%d",
                       count, FER_MODEL_MAX_DIM);
    for (int i = 0; i < count; i++)
      if (!(weights[i] >= 0.0f) || !isfinite(weights[i]))
        return fer__fail(FER_ERR_INVALID_ARGUMENT,
                         "fer_trainer_set_class_weights: weight %d (%g) is not a "
                         "finite number >= 0", i, (double)weights[i]);
    if (!(copy = fer__malloc((size_t)count * sizeof *copy)))
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "class weights: out of memory");
    memcpy(copy, weights, (size_t)count * sizeof *copy);
  }
  fer__free(tr->class_weights);
  tr->class_weights = copy;
  tr->num_class_weights = weights ? count : 0;
  return FER_OK;
}

fer_status fer_trainer_set_callback(fer_trainer *tr, fer_train_callback fn,
                                    void *user) {
  fer_status st = check(tr, "fer_trainer_set_callback");
  if (st) return st;
  tr->callback = fn;
  tr->callback_user = user;
  return FER_OK;
}

fer_status fer_trainer_set_allreduce(fer_trainer *tr, fer_train_allreduce fn,
                                     void *user) {
  fer_status st = check(tr, "fer_trainer_set_allreduce");
  if (st) return st;
  tr->allreduce = fn;
  tr->allreduce_user = fn ? user : NULL;
  return FER_OK;
}

fer_status fer__trainer_history_append(fer_trainer *tr, const double *row) {
  if (tr->history_count == tr->history_capacity) {
    int cap = tr->history_capacity ? 2 * tr->history_capacity : 32;
    double *grown = fer__realloc(
        tr->history, fer__mul_size((size_t)cap, FER_TRAIN_METRIC_COUNT * sizeof(double)));
    if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "history: out of memory");
    tr->history = grown;
    tr->history_capacity = cap;
  }
  memcpy(tr->history + (size_t)tr->history_count * FER_TRAIN_METRIC_COUNT, row,
         FER_TRAIN_METRIC_COUNT * sizeof(double));
  tr->history_count++;
  return FER_OK;
}

int fer_trainer_history_count(const fer_trainer *tr) {
  return check(tr, "fer_trainer_history_count") ? 0 : tr->history_count;
}

fer_status fer_trainer_history_get(const fer_trainer *tr, int epoch,
                                   double *metrics, int capacity) {
  fer_status st = check(tr, "fer_trainer_history_get");
  if (st) return st;
  if (epoch < 0 || epoch >= tr->history_count || !metrics || capacity < 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_trainer_history_get: epoch %d is not in 0..%d", epoch,
                     tr->history_count - 1);
  int n = FER__MIN(capacity, FER_TRAIN_METRIC_COUNT);
  memcpy(metrics, tr->history + (size_t)epoch * FER_TRAIN_METRIC_COUNT,
         (size_t)n * sizeof(double));
  return FER_OK;
}

int fer_trainer_best_epoch(const fer_trainer *tr, double *best) {
  if (check(tr, "fer_trainer_best_epoch")) return 0;
  if (best) *best = tr->checkpoint.best;
  return (int)tr->checkpoint.best_epoch;
}

/* ------------------------------------------------------------------------
 * The loop
 * ------------------------------------------------------------------------ */

/* Everything one fit call allocates, freed in one place. */
typedef struct fit_run {
  fer_dataset *own_train, *own_val; /* from the validation split */
  const fer_dataset *train, *val;
  uint32_t *order;
  float *x, *probs;
  int32_t *labels;
  size_t x_capacity;
  int classes, sample_floats;
  float scale, mean, inv_std;
  const fer_model *model; /* for its per-image normalisation */
  /* Data-parallel (tr->allreduce set): this process's index and the
   * process count, its share of the validation set, and room for the
   * parameters and statistics (params + stats floats). */
  int shard, shards;
  fer_dataset *own_val_shard;
  float *flat;
  size_t params, stats;
  /* Soft targets (mixup or a teacher): the batch's targets (batch x
   * classes), sample weights (NULL without class weights), mixup's
   * permutation and scratch, the teacher's predictor and outputs. */
  int soft;
  float *targets, *sample_weights, *scratch, *teacher_probs;
  uint32_t *perm;
  fer_predictor *teacher;
} fit_run;

static void fit_run_release(fit_run *r) {
  fer_dataset_free(r->own_train);
  fer_dataset_free(r->own_val);
  fer_dataset_free(r->own_val_shard);
  fer__free(r->flat);
  fer__free(r->order);
  fer__free(r->x);
  fer__free(r->probs);
  fer__free(r->labels);
  fer__free(r->targets);
  fer__free(r->sample_weights);
  fer__free(r->scratch);
  fer__free(r->teacher_probs);
  fer__free(r->perm);
  fer_predictor_free(r->teacher);
}

/* Calls the all-reduce; a refusal stops the fit. */
static fer_status allreduce(const fer_trainer *tr, float *floats, size_t float_count,
                            double *doubles, size_t double_count, const char *when,
                            int epoch) {
  int rc = tr->allreduce(tr->allreduce_user, floats, float_count, doubles, double_count);
  if (rc)
    return fer__fail(FER_ERR_CANCELLED, "fer_trainer_fit: the all-reduce failed "
                     "(returned %d) %s of epoch %d", rc, when, epoch + 1);
  return FER_OK;
}

static fer_status check_data(const fer_model *m, const fer_dataset *ds,
                             const char *what) {
  int c, h, w;
  fer_model_input_shape(m, &c, &h, &w);
  if (fer_dataset_channels(ds) != c || fer_dataset_height(ds) != h ||
      fer_dataset_width(ds) != w)
    return fer__fail(FER_ERR_SHAPE,
                     "fer_trainer_fit: %s images are %dx%dx%d, the model takes "
                     "%dx%dx%d", what, fer_dataset_channels(ds),
                     fer_dataset_height(ds), fer_dataset_width(ds), c, h, w);
  if (fer_dataset_class_count(ds) != fer_model_output_size(m))
    return fer__fail(FER_ERR_SHAPE,
                     "fer_trainer_fit: %s has %d classes, the model outputs %d",
                     what, fer_dataset_class_count(ds), fer_model_output_size(m));
  return FER_OK;
}

/* Batch of `n` samples at `indices` into r->x, normalised as the model's
 * preprocessing and per-image normalisation say (after augmentation);
 * `training` batches skip the sharpness limit, validation ones get it as
 * any input at inference does. */
static fer_status load_batch(fit_run *r, const fer_dataset *ds,
                             const fer_augment *aug, uint32_t epoch,
                             const uint32_t *indices, int n, int training) {
  fer_status st = fer_dataset_make_batch(ds, aug, epoch, indices, (size_t)n,
                                         r->scale, r->x, r->x_capacity, r->labels);
  if (st) return st;
  if (r->mean != 0.0f || r->inv_std != 1.0f) {
    size_t total = (size_t)n * (size_t)r->sample_floats;
    for (size_t i = 0; i < total; i++) r->x[i] = (r->x[i] - r->mean) * r->inv_std;
  }
  return fer__model_normalize(r->model, r->x, n, training);
}

/* Validation loss (plain cross-entropy) and accuracy in evaluation mode. */
static fer_status validate(fit_run *r, fer_model *m, int batch, double *loss,
                           double *accuracy) {
  fer_metrics *metrics = NULL;
  fer_status st = fer_metrics_create(r->classes, NULL, &metrics);
  if (st) return st;
  int was_training = fer_model_is_training(m);
  fer_model_set_training(m, 0);
  int softmax_last = m->num_layers > 0 &&
                     m->layers[m->num_layers - 1].kind == FER_LAYER_SOFTMAX;
  size_t count = fer_dataset_count(r->val);
  for (size_t start = 0; start < count && !st; start += (size_t)batch) {
    int n = (int)FER__MIN((size_t)batch, count - start);
    for (int i = 0; i < n; i++) r->order[i] = (uint32_t)(start + (size_t)i);
    if ((st = load_batch(r, r->val, NULL, 0, r->order, n, 0))) break;
    if ((st = fer_model_forward(m, r->x, n, r->probs))) break;
    if (!softmax_last) {
      for (int i = 0; i < n; i++) {
        float *z = r->probs + (size_t)i * (size_t)r->classes, top = z[0], sum = 0;
        for (int k = 1; k < r->classes; k++) top = FER__MAX(top, z[k]);
        for (int k = 0; k < r->classes; k++) sum += z[k] = expf(z[k] - top);
        for (int k = 0; k < r->classes; k++) z[k] /= sum;
      }
    }
    st = fer_metrics_add_probs(metrics, r->probs, r->labels, (size_t)n);
  }
  fer_model_set_training(m, was_training);
  *loss = fer_metrics_loss(metrics);
  *accuracy = fer_metrics_accuracy(metrics);
  fer_metrics_free(metrics);
  return st;
}

/* Validation into row: alone, the whole set; data-parallel, this process's
 * share, its sums all-reduced. */
static fer_status validate_shared(const fer_trainer *tr, fit_run *r, fer_model *m,
                                  int epoch, double *row) {
  const int batch = (int)tr->value[FER_TRAIN_EVAL_BATCH_SIZE];
  double loss = NAN, accuracy = NAN;
  if (!tr->allreduce) {
    fer_status st = validate(r, m, batch, &loss, &accuracy);
    row[FER_METRIC_VAL_LOSS] = loss;
    row[FER_METRIC_VAL_ACCURACY] = accuracy;
    return st;
  }
  const fer_dataset *all = r->val;
  if (r->own_val_shard) r->val = r->own_val_shard;
  double count = (double)fer_dataset_count(r->val);
  fer_status st = count > 0 ? validate(r, m, batch, &loss, &accuracy) : FER_OK;
  r->val = all;
  if (st) return st;
  double sums[3] = {count > 0 ? loss * count : 0.0, count > 0 ? accuracy * count : 0.0,
                    count};
  if ((st = allreduce(tr, NULL, 0, sums, 3, "at the validation", epoch))) return st;
  row[FER_METRIC_VAL_LOSS] = sums[2] > 0 ? sums[0] / sums[2] : NAN;
  row[FER_METRIC_VAL_ACCURACY] = sums[2] > 0 ? sums[1] / sums[2] : NAN;
  return FER_OK;
}

/* The value a callback watches; validation metrics fall back to their
 * training counterparts when there is no validation set (Keras would warn
 * and do nothing; a silent no-op is worse). */
static double monitored(const double *row, int metric, int has_val) {
  if (!has_val && metric == FER_METRIC_VAL_LOSS) metric = FER_METRIC_LOSS;
  if (!has_val && metric == FER_METRIC_VAL_ACCURACY) metric = FER_METRIC_ACCURACY;
  return row[metric];
}

static fer_status write_history(const fer_trainer *tr, const char *path) {
  fer__buf b;
  fer__buf_init(&b);
  fer__buf_printf(&b, "epoch,loss,acc,val_loss,val_acc,lr,seconds\n");
  for (int e = 0; e < tr->history_count; e++) {
    const double *row = tr->history + (size_t)e * FER_TRAIN_METRIC_COUNT;
    fer__buf_printf(&b, "%d,%.9g,%.9g,%.9g,%.9g,%.9g,%.3f\n", e + 1,
                    row[FER_METRIC_LOSS], row[FER_METRIC_ACCURACY],
                    row[FER_METRIC_VAL_LOSS], row[FER_METRIC_VAL_ACCURACY],
                    row[FER_METRIC_LEARNING_RATE], row[FER_METRIC_SECONDS]);
  }
  fer_status st = fer__buf_status(&b, "history");
  if (!st) st = fer__write_file_atomic(path, b.data, b.size);
  fer__buf_release(&b);
  return st;
}

/* Data-parallel set-up: checks the shard keys, takes this process's share
 * of the validation set (samples r, r + R, ...) and makes the buffer the
 * end-of-epoch all-reduce uses. */
static fer_status prepare_shards(const fer_trainer *tr, fer_model *m, fit_run *r) {
  if (r->shards > 1 && !tr->allreduce)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_trainer_fit: shard_count %d "
                     "needs an all-reduce (fer_trainer_set_allreduce)", r->shards);
  if (r->shard >= r->shards)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_trainer_fit: shard_index %d "
                     "is not below shard_count %d", r->shard, r->shards);
  if (!tr->allreduce) return FER_OK;
  size_t n = fer_dataset_count(r->train);
  if (n < (size_t)r->shards)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_trainer_fit: %zu training "
                     "samples cannot be shared by %d processes", n, r->shards);
  long trainable = 0, statistics = 0;
  fer_model_num_params(m, &trainable, &statistics);
  r->params = (size_t)trainable;
  r->stats = (size_t)statistics;
  if (!(r->flat = fer__malloc(fer__mul_size(r->params + r->stats + 1, sizeof(float)))))
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_trainer_fit: out of memory for "
                     "%zu parameters", r->params + r->stats);
  if (r->val && r->shards > 1) {
    size_t count = fer_dataset_count(r->val), mine = 0;
    uint32_t *indices = fer__malloc(fer__mul_size(count / (size_t)r->shards + 1,
                                                  sizeof *indices));
    if (!indices) return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_trainer_fit: out of memory");
    for (size_t i = (size_t)r->shard; i < count; i += (size_t)r->shards)
      indices[mine++] = (uint32_t)i;
    fer_status st = fer_dataset_subset(r->val, indices, mine, &r->own_val_shard);
    fer__free(indices);
    if (st) return st;
  }
  return FER_OK;
}

/* One data-parallel step: this process's gradient, weighted by its loss
 * denominator W_r, summed over the processes with W_r and the metrics'
 * sums, then the step with sum W_r g_r / sum W_r. sums[] gets the
 * processes' totals: images, loss x images, correct. */
static fer_status shared_step(fer_trainer *tr, fer_model *m, fit_run *r, int count,
                              int epoch, double *sums) {
  float loss, accuracy;
  double weight;
  fer_status st =
      r->soft ? fer_model_compute_gradients_soft(m, r->x, r->targets,
                                                 (size_t)count * (size_t)r->classes,
                                                 r->sample_weights, count, &loss,
                                                 &accuracy, &weight)
              : fer_model_compute_gradients(m, r->x, r->labels, count, &loss,
                                            &accuracy, &weight);
  if (st) return st;
  float *grads = m->ws->grads;
  const size_t P = m->trainable_floats;
  for (size_t i = 0; i < P; i++) grads[i] = (float)(grads[i] * weight);
  double totals[4] = {weight, (double)count, (double)loss * count,
                      (double)accuracy * count};
  if ((st = allreduce(tr, grads, P, totals, 4, "at a step", epoch))) return st;
  const double inv = totals[0] > 0.0 ? 1.0 / totals[0] : 0.0;
  for (size_t i = 0; i < P; i++) grads[i] = (float)(grads[i] * inv);
  if ((st = fer_model_apply_gradients(m, tr->opt))) return st;
  sums[0] = totals[1];
  sums[1] = totals[2];
  sums[2] = totals[3];
  return FER_OK;
}

/* End of a data-parallel epoch: every process takes process 0's parameters
 * (the others add zeros, so the sum is exact) and the mean of the running
 * statistics. */
static fer_status share_model(const fer_trainer *tr, fer_model *m, fit_run *r,
                              int epoch) {
  float *params = r->flat, *stats = r->flat + r->params;
  fer_status st = fer_model_get_parameters(m, params, r->params, NULL);
  if (!st) st = fer_model_get_statistics(m, stats, r->stats, NULL);
  if (st) return st;
  if (r->shard != 0) memset(params, 0, r->params * sizeof *params);
  double processes = 1.0;
  if ((st = allreduce(tr, r->flat, r->params + r->stats, &processes, 1,
                      "at the end", epoch)))
    return st;
  for (size_t i = 0; i < r->stats; i++) stats[i] = (float)(stats[i] / processes);
  if ((st = fer_model_set_parameters(m, params, r->params))) return st;
  return fer_model_set_statistics(m, stats, r->stats);
}

/* The teacher must see the batches the student sees. */
static fer_status check_teacher(const fer_model *teacher, const fer_model *m) {
  int c, h, w, tc, th, tw;
  fer_model_input_shape(m, &c, &h, &w);
  fer_model_input_shape(teacher, &tc, &th, &tw);
  if (c != tc || h != th || w != tw || fer_model_output_size(teacher) != fer_model_output_size(m))
    return fer__fail(FER_ERR_SHAPE, "fer_trainer_fit: the teacher maps %dx%dx%d to "
                     "%d classes, the model %dx%dx%d to %d", tc, th, tw,
                     fer_model_output_size(teacher), c, h, w, fer_model_output_size(m));
  float scale[2], mean[2], std[2], limit[2];
  unsigned flags[2];
  fer_model_get_preprocessing(m, &scale[0], &mean[0], &std[0]);
  fer_model_get_preprocessing(teacher, &scale[1], &mean[1], &std[1]);
  fer_model_get_image_normalization(m, &flags[0], &limit[0]);
  fer_model_get_image_normalization(teacher, &flags[1], &limit[1]);
  if (scale[0] != scale[1] || mean[0] != mean[1] || std[0] != std[1] ||
      flags[0] != flags[1])
    return fer__fail(FER_ERR_SHAPE, "fer_trainer_fit: the teacher's preprocessing "
                     "or image normalisation differs from the model's");
  return FER_OK;
}

/* Buffers of the soft-target path, when mixup or a teacher is on. */
static fer_status prepare_soft(const fer_trainer *tr, const fer_model *m, fit_run *r) {
  r->soft = tr->value[FER_TRAIN_MIXUP] > 0.0 || tr->teacher;
  if (!r->soft) return FER_OK;
  fer_status st;
  if (tr->teacher) {
    if ((st = check_teacher(tr->teacher, m))) return st;
    if ((st = fer_predictor_create(tr->teacher, &r->teacher))) return st;
  }
  const size_t batch = (size_t)tr->value[FER_TRAIN_BATCH_SIZE], K = (size_t)r->classes;
  const size_t width = FER__MAX((size_t)r->sample_floats, K);
  r->targets = fer__malloc(fer__mul_size(batch * K, sizeof *r->targets));
  r->teacher_probs = fer__malloc(fer__mul_size(batch * K, sizeof *r->teacher_probs));
  r->scratch = fer__malloc(fer__mul_size(fer__mul_size(batch, width), sizeof *r->scratch));
  r->perm = fer__malloc(fer__mul_size(batch, sizeof *r->perm));
  if (m->class_weights)
    r->sample_weights = fer__malloc(fer__mul_size(batch, sizeof *r->sample_weights));
  if (!r->targets || !r->teacher_probs || !r->scratch || !r->perm ||
      (m->class_weights && !r->sample_weights))
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_trainer_fit: out of memory for "
                     "soft targets of batches of %zu", batch);
  return FER_OK;
}

/* Steps 1 to 3 of "Soft targets" (include/fer/train.h) on the loaded batch
 * `b` of the epoch: targets, sample weights, mixup, distillation. */
static fer_status make_soft_targets(const fer_trainer *tr, const fer_model *m,
                                    fit_run *r, uint32_t epoch, long b, int count) {
  const int K = r->classes;
  fer__label_targets(r->labels, count, K, tr->value[FER_TRAIN_LABEL_SMOOTHING],
                     r->targets);
  if (r->sample_weights)
    for (int i = 0; i < count; i++) r->sample_weights[i] = m->class_weights[r->labels[i]];
  const double alpha = tr->value[FER_TRAIN_MIXUP];
  if (alpha > 0.0) {
    double lambda;
    fer__mixup_draw((uint64_t)tr->value[FER_TRAIN_SEED], epoch, (uint64_t)b,
                    (uint32_t)r->shard, alpha, count, &lambda, r->perm);
    fer__mixup_apply(r->x, (size_t)r->sample_floats, r->targets, K,
                     r->sample_weights, count, lambda, r->perm, r->scratch);
  }
  if (!r->teacher) return FER_OK;
  fer_status st = fer_predictor_run(r->teacher, r->x, count, r->teacher_probs);
  if (st) return st;
  return fer__distill_targets(r->teacher_probs, r->targets, count, K,
                              tr->value[FER_TRAIN_DISTILL_WEIGHT],
                              tr->value[FER_TRAIN_DISTILL_TEMPERATURE]);
}

static fer_status prepare(fer_trainer *tr, fer_model *m,
                          const fer_dataset *train, const fer_dataset *val,
                          fit_run *r) {
  fer_status st;
  if ((st = check_data(m, train, "the training set"))) return st;
  if (val && (st = check_data(m, val, "the validation set"))) return st;
  uint64_t seed = (uint64_t)tr->value[FER_TRAIN_SEED];
  r->model = m;
  r->train = train;
  r->val = val;
  if (!val && tr->value[FER_TRAIN_VALIDATION_FRACTION] > 0.0) {
    if ((st = fer_dataset_split(train, tr->value[FER_TRAIN_VALIDATION_FRACTION],
                                seed, 1, &r->own_train, &r->own_val)))
      return st;
    r->train = r->own_train;
    r->val = fer_dataset_count(r->own_val) ? r->own_val : NULL;
  }
  if (fer_dataset_count(r->train) == 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_trainer_fit: the training set is empty");
  if (fer_dataset_count(r->train) > UINT32_MAX)
    return fer__fail(FER_ERR_TOO_LARGE, "fer_trainer_fit: over 2^32-1 training samples");
  r->shards = (int)tr->value[FER_TRAIN_SHARD_COUNT];
  r->shard = (int)tr->value[FER_TRAIN_SHARD_INDEX];
  if ((st = prepare_shards(tr, m, r))) return st;
  r->classes = fer_model_output_size(m);
  /* Class weights: explicit, else balanced on the samples trained on. */
  float *balanced = NULL;
  const float *weights = NULL;
  if (tr->class_weights) {
    if (tr->num_class_weights != r->classes)
      return fer__fail(FER_ERR_SHAPE, "fer_trainer_fit: %d class weights for %d "
                       "classes", tr->num_class_weights, r->classes);
    weights = tr->class_weights;
  } else if (tr->value[FER_TRAIN_BALANCED_WEIGHTS] != 0.0) {
    if (!(balanced = fer__malloc((size_t)r->classes * sizeof *balanced)))
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "class weights: out of memory");
    if ((st = fer_dataset_balanced_weights(r->train, balanced, r->classes))) {
      fer__free(balanced);
      return st;
    }
    weights = balanced;
  }
  st = fer_model_set_class_weights(m, weights, r->classes);
  fer__free(balanced);
  if (st) return st;
  if ((st = fer_model_set_label_smoothing(m, (float)tr->value[FER_TRAIN_LABEL_SMOOTHING])))
    return st;
  if ((st = fer_model_set_seed(m, seed))) return st;
  float std;
  fer_model_get_preprocessing(m, &r->scale, &r->mean, &std);
  r->inv_std = 1.0f / std;
  int c, h, w;
  fer_model_input_shape(m, &c, &h, &w);
  r->sample_floats = c * h * w;
  size_t batch = (size_t)FER__MAX(tr->value[FER_TRAIN_BATCH_SIZE],
                                  tr->value[FER_TRAIN_EVAL_BATCH_SIZE]);
  size_t n = fer_dataset_count(r->train);
  r->x_capacity = fer__mul_size(batch, (size_t)r->sample_floats);
  r->order = fer__malloc(fer__mul_size(FER__MAX(n, batch), sizeof *r->order));
  r->x = fer__malloc(fer__mul_size(r->x_capacity, sizeof *r->x));
  r->probs = fer__malloc(fer__mul_size(batch, (size_t)r->classes * sizeof *r->probs));
  r->labels = fer__malloc(fer__mul_size(batch, sizeof *r->labels));
  if (!r->order || !r->x || !r->probs || !r->labels)
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_trainer_fit: out of memory for "
                     "batches of %zu", batch);
  return prepare_soft(tr, m, r);
}

/* One epoch of training steps; fills row's training metrics. */
static fer_status train_epoch(fer_trainer *tr, fer_model *m, fit_run *r,
                              int epoch, double *row) {
  size_t n = fer_dataset_count(r->train);
  int batch = (int)tr->value[FER_TRAIN_BATCH_SIZE];
  fer_status st = FER_OK;
  if (tr->value[FER_TRAIN_SHUFFLE] != 0.0) {
    if ((st = fer_epoch_order(n, (uint64_t)tr->value[FER_TRAIN_SEED],
                              (uint32_t)epoch, r->order)))
      return st;
  } else {
    for (size_t i = 0; i < n; i++) r->order[i] = (uint32_t)i;
  }
  if (r->shards > 1) {
    /* This process's positions r, r + R, ...: floor(n / R) of them. */
    size_t mine = n / (size_t)r->shards;
    for (size_t j = 0; j < mine; j++)
      r->order[j] = r->order[(size_t)r->shard + j * (size_t)r->shards];
    n = mine;
  }
  long batches = (long)((n + (size_t)batch - 1) / (size_t)batch);
  double seen = 0;
  double loss_sum = 0, hits = 0, t0 = fer__now_seconds();
  row[FER_METRIC_LEARNING_RATE] = tr->opt->lr;
  for (long b = 0; b < batches; b++) {
    size_t start = (size_t)b * (size_t)batch;
    int count = (int)FER__MIN((size_t)batch, n - start);
    if ((st = load_batch(r, r->train, tr->aug, (uint32_t)epoch, r->order + start, count, 1)))
      return st;
    if (r->soft && (st = make_soft_targets(tr, m, r, (uint32_t)epoch, b, count)))
      return st;
    if (tr->allreduce) {
      double sums[3];
      if ((st = shared_step(tr, m, r, count, epoch, sums))) return st;
      seen += sums[0];
      loss_sum += sums[1];
      hits += sums[2];
    } else {
      float loss, accuracy;
      st = r->soft ? fer_model_train_step_soft(m, tr->opt, r->x, r->targets,
                                               (size_t)count * (size_t)r->classes,
                                               r->sample_weights, count, &loss,
                                               &accuracy)
                   : fer_model_train_step(m, tr->opt, r->x, r->labels, count,
                                          &loss, &accuracy);
      if (st) return st;
      loss_sum += (double)loss * count;
      hits += (double)accuracy * count;
      seen = (double)(start + (size_t)count);
    }
    row[FER_METRIC_LOSS] = loss_sum / seen;
    row[FER_METRIC_ACCURACY] = hits / seen;
    row[FER_METRIC_SECONDS] = fer__now_seconds() - t0;
    row[FER_METRIC_IMAGES] = seen;
    if (tr->callback &&
        tr->callback(tr->callback_user, FER_TRAIN_EVENT_BATCH, epoch,
                     (int)tr->value[FER_TRAIN_EPOCHS], b + 1, batches, row,
                     FER_TRAIN_METRIC_COUNT))
      return fer__fail(FER_ERR_CANCELLED, "fer_trainer_fit: stopped by the user "
                       "callback at epoch %d, batch %ld", epoch + 1, b + 1);
  }
  return FER_OK;
}

/* The built-in callbacks at the end of 1-based epoch `e`: checkpoint, early
 * stopping (and its best weights), plateau, schedule. */
static fer_status end_of_epoch(fer_trainer *tr, fer_model *m, const double *row,
                               int has_val, long e, int writer) {
  fer_status st;
  const char *checkpoint = writer ? tr->path[FER_TRAIN_PATH_CHECKPOINT] : NULL;
  int metric = (int)tr->value[FER_TRAIN_CHECKPOINT_MONITOR];
  if (checkpoint && fer__checkpoint_update(&tr->checkpoint, metric,
                                           monitored(row, metric, has_val), e))
    if ((st = fer_model_save(m, checkpoint, FER_SAVE_DEFAULT))) return st;
  if (!checkpoint) /* still track the best, for fer_trainer_best_epoch (and
                      on every process of a data-parallel fit) */
    fer__checkpoint_update(&tr->checkpoint, metric, monitored(row, metric, has_val), e);
  long patience = (long)tr->value[FER_TRAIN_EARLY_STOP_PATIENCE];
  if (patience > 0) {
    int improved;
    metric = (int)tr->value[FER_TRAIN_EARLY_STOP_MONITOR];
    int stop = fer__early_stop_update(&tr->early, metric,
                                      monitored(row, metric, has_val), e,
                                      patience, &improved);
    if (improved && tr->value[FER_TRAIN_RESTORE_BEST] != 0.0) {
      void *bytes;
      size_t size;
      if ((st = fer_model_save_memory(m, FER_SAVE_DEFAULT, &bytes, &size))) return st;
      fer__free(tr->best_weights);
      tr->best_weights = bytes;
      tr->best_weights_size = size;
    }
    if (stop) {
      tr->stopped = 1;
      if (tr->value[FER_TRAIN_RESTORE_BEST] != 0.0 && tr->best_weights) {
        fer_model *best = NULL;
        if ((st = fer_model_load_memory(tr->best_weights, tr->best_weights_size, &best)))
          return st;
        st = fer__model_copy_tensors(m, best, "restore best weights");
        fer_model_free(best);
        if (st) return st;
      }
    }
  }
  metric = (int)tr->value[FER_TRAIN_PLATEAU_MONITOR];
  double value = monitored(row, metric, has_val);
  if (tr->value[FER_TRAIN_PLATEAU_FACTOR] > 0.0)
    tr->opt->lr = fer__plateau_update(
        &tr->plateau, metric, value, e, tr->opt->lr,
        tr->value[FER_TRAIN_PLATEAU_FACTOR],
        (long)tr->value[FER_TRAIN_PLATEAU_PATIENCE],
        tr->value[FER_TRAIN_PLATEAU_MIN_LR], tr->value[FER_TRAIN_PLATEAU_MIN_DELTA]);
  if (tr->sched && (st = fer_schedule_step(tr->sched, tr->opt, value))) return st;
  return FER_OK;
}

static fer_status fit(fer_trainer *tr, fer_model *m, fit_run *r) {
  fer_status st;
  reset_progress(tr);
  const char *state = tr->path[FER_TRAIN_PATH_STATE];
  if (state && fer__train_state_exists(state) && (st = fer__train_state_load(tr, m, fer_dataset_count(r->train), state)))
    return st;
  /* Data-parallel: process 0 keeps the generator of the state file (or of
   * the seed), the others draw their own dropout masks. */
  if (r->shard > 0)
    fer_model_set_seed(m, (uint64_t)tr->value[FER_TRAIN_SEED] ^
                              (0x9E3779B97F4A7C15ull * (uint64_t)r->shard +
                               (uint64_t)tr->epochs_done));
  int epochs = (int)tr->value[FER_TRAIN_EPOCHS];
  int has_val = r->val != NULL, writer = r->shard == 0;
  for (int epoch = tr->epochs_done; epoch < epochs && !tr->stopped; epoch++) {
    double row[FER_TRAIN_METRIC_COUNT] = {0}, t0 = fer__now_seconds();
    if ((st = train_epoch(tr, m, r, epoch, row))) return st;
    if (tr->allreduce && (st = share_model(tr, m, r, epoch))) return st;
    row[FER_METRIC_VAL_LOSS] = row[FER_METRIC_VAL_ACCURACY] = NAN;
    if (has_val && (st = validate_shared(tr, r, m, epoch, row))) return st;
    row[FER_METRIC_SECONDS] = fer__now_seconds() - t0; /* validation included */
    if (tr->allreduce) {
      /* Process 0's row for everyone: the callbacks decide alike. */
      double mine[FER_TRAIN_METRIC_COUNT];
      for (int k = 0; k < FER_TRAIN_METRIC_COUNT; k++) mine[k] = writer ? row[k] : 0.0;
      if ((st = allreduce(tr, NULL, 0, mine, FER_TRAIN_METRIC_COUNT, "at the end", epoch)))
        return st;
      memcpy(row, mine, sizeof row);
    }
    if ((st = fer__trainer_history_append(tr, row))) return st;
    tr->epochs_done = epoch + 1;
    if ((st = end_of_epoch(tr, m, row, has_val, epoch + 1, writer))) return st;
    const char *history = writer ? tr->path[FER_TRAIN_PATH_HISTORY] : NULL;
    if (history && (st = write_history(tr, history))) return st;
    if (state && writer &&
        (st = fer__train_state_save(tr, m, fer_dataset_count(r->train), state)))
      return st;
    if (tr->callback &&
        tr->callback(tr->callback_user, FER_TRAIN_EVENT_EPOCH, epoch, epochs,
                     0, 0, row, FER_TRAIN_METRIC_COUNT))
      return fer__fail(FER_ERR_CANCELLED, "fer_trainer_fit: stopped by the user "
                       "callback after epoch %d", epoch + 1);
  }
  return FER_OK;
}

fer_status fer_trainer_fit(fer_trainer *tr, fer_model *model,
                           const fer_dataset *train,
                           const fer_dataset *validation) {
  fer_status st = check(tr, "fer_trainer_fit");
  if (st) return st;
  if ((st = fer__model_check(model, "fer_trainer_fit"))) return st;
  if (!train) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_trainer_fit: no training set");
  int threads = (int)tr->value[FER_TRAIN_THREADS];
  int old_threads = fer_get_num_threads();
  if (threads > 0 && (st = fer_set_num_threads(threads))) return st;
  fit_run run;
  memset(&run, 0, sizeof run);
  st = prepare(tr, model, train, validation, &run);
  if (!st) st = fit(tr, model, &run);
  fit_run_release(&run);
  if (threads > 0) fer_set_num_threads(old_threads);
  return st;
}
