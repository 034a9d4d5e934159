/*
 * libfer fit loop: trains a fer_model on a fer_dataset for a number of
 * epochs with shuffling, augmentation, validation, class weights, label
 * smoothing, an engine optimizer and schedule, and Keras-style callbacks
 * (reduce-LR-on-plateau, best-model checkpoint, early stopping with restore
 * of the best weights, a per-epoch history CSV and a user callback), and
 * resumes from a training-state file written atomically after every epoch.
 *
 * Determinism: everything random is a function of the seed and of (epoch,
 * step) or of state saved in the training-state file (shuffle order via
 * fer_epoch_order, augmentation via fer_augment_apply, dropout via the
 * model's generator, which the state file records), so two runs with the
 * same seed, data and thread count give bit-identical weights, and so does a
 * run killed at any point and resumed from its state file.
 *
 * Thread safety: a fer_trainer belongs to one thread at a time; fit needs
 * exclusive access to the model. The library never prints: progress is
 * reported through the user callback.
 */
#ifndef FER_TRAIN_H
#define FER_TRAIN_H

#include "core.h"
#include "data.h"
#include "nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fer_trainer fer_trainer;

/* Quantities the trainer watches (monitor keys take these values) and the
 * slots of the metrics array handed to the user callback and kept in the
 * history. Values are part of the ABI. */
typedef enum fer_train_metric {
  FER_METRIC_LOSS = 0,          /* mean training loss of the epoch so far */
  FER_METRIC_ACCURACY = 1,      /* training accuracy of the epoch so far */
  FER_METRIC_VAL_LOSS = 2,      /* validation cross-entropy (NaN: none) */
  FER_METRIC_VAL_ACCURACY = 3,  /* validation accuracy (NaN: none) */
  FER_METRIC_LEARNING_RATE = 4, /* learning rate used during the epoch */
  FER_METRIC_SECONDS = 5,       /* wall seconds of the epoch so far (at the
                                   epoch event: with validation) */
  FER_METRIC_IMAGES = 6         /* training images seen in the epoch so far */
} fer_train_metric;
#define FER_TRAIN_METRIC_COUNT 7
FER_API int fer_train_metric_count(void);
/* "loss", "acc", "val_loss", "val_acc", "lr", "seconds", "images" (the
 * history CSV column names); NULL for an unknown metric. */
FER_API const char *fer_train_metric_name(fer_train_metric metric);

/* Keys of fer_trainer_set/get. All values are doubles; integer keys reject
 * fractions. fer_trainer_param_info gives name, default and bounds. Values
 * are part of the ABI. */
typedef enum fer_train_param {
  FER_TRAIN_EPOCHS = 1,              /* total epochs, default 30 */
  FER_TRAIN_BATCH_SIZE = 2,          /* default 64 */
  FER_TRAIN_SHUFFLE = 3,             /* 1: fer_epoch_order each epoch (default) */
  FER_TRAIN_SEED = 4,                /* shuffle, split, dropout; default 0 */
  FER_TRAIN_THREADS = 5,             /* 0: leave the library's setting */
  FER_TRAIN_VALIDATION_FRACTION = 6, /* held out of the training set when no
                                        validation set is given; default 0 */
  FER_TRAIN_BALANCED_WEIGHTS = 7,    /* 1: class weights n / (K n_c) */
  FER_TRAIN_LABEL_SMOOTHING = 8,     /* [0, 1), default 0 */
  FER_TRAIN_PLATEAU_FACTOR = 9,      /* reduce-LR-on-plateau; 0 = off (default) */
  FER_TRAIN_PLATEAU_PATIENCE = 10,   /* epochs without improvement, default 10 */
  FER_TRAIN_PLATEAU_MIN_LR = 11,     /* floor, default 0 */
  FER_TRAIN_PLATEAU_MONITOR = 12,    /* a fer_train_metric, default VAL_LOSS */
  FER_TRAIN_PLATEAU_MIN_DELTA = 13,  /* absolute improvement needed, 1e-4 */
  FER_TRAIN_EARLY_STOP_PATIENCE = 14, /* early stopping; 0 = off (default) */
  FER_TRAIN_EARLY_STOP_MONITOR = 15, /* default VAL_LOSS */
  FER_TRAIN_RESTORE_BEST = 16,       /* 1: on an early stop, restore the best
                                        weights (default 0) */
  FER_TRAIN_CHECKPOINT_MONITOR = 17, /* default VAL_ACCURACY */
  FER_TRAIN_EVAL_BATCH_SIZE = 18,    /* validation batch, default 256 */
  FER_TRAIN_SHARD_COUNT = 19,        /* data-parallel processes, default 1
                                        (see fer_trainer_set_allreduce) */
  FER_TRAIN_SHARD_INDEX = 20,        /* this process, 0..count-1, default 0 */
  FER_TRAIN_MIXUP = 21,              /* mixup alpha in [0, 100]; 0 = off
                                        (default). See "Soft targets". */
  FER_TRAIN_DISTILL_WEIGHT = 22,     /* weight w of the teacher's targets,
                                        [0, 1], default 0.5 (used only with
                                        fer_trainer_set_teacher) */
  FER_TRAIN_DISTILL_TEMPERATURE = 23 /* temperature T, [0.01, 100], default 1 */
} fer_train_param;

/* Soft targets. With mixup or a teacher the fit loop trains on soft
 * targets (fer_model_train_step_soft); without either it runs the integer
 * path, exactly as before. Per batch, after augmentation:
 *  1. t_i = (1 - s) onehot(y_i) + s / K (s = FER_TRAIN_LABEL_SMOOTHING),
 *     sample weight v_i = w[y_i] (the class weights; 1 without them);
 *  2. mixup (alpha > 0): lambda ~ Beta(alpha, alpha) and a permutation pi
 *     of the batch, both drawn from a generator seeded by (seed, epoch,
 *     batch index, shard index), so a resumed run draws what an
 *     uninterrupted one does; then x_i, t_i and v_i each become
 *     lambda a_i + (1 - lambda) a_pi(i);
 *  3. distillation (a teacher set): the teacher, in inference mode, maps
 *     the batch of step 2 to probabilities p_i, and
 *     t_i = (1 - w) t_i + w softmax(log p_i / T) (p^(1/T) normalised; the
 *     teacher's own softmax output divided by T in log space).
 * The training loss and accuracy in the history are those against t_i
 * (accuracy: argmax of the output == argmax of t_i); validation is
 * unchanged (plain labels). Neither alpha, the teacher nor w and T are
 * recorded in the training state: resume with the same settings. */

/* Paths the trainer writes (each atomically). NULL or "" = off. */
typedef enum fer_train_path {
  FER_TRAIN_PATH_STATE = 1,      /* training state: written after every epoch,
                                    resumed from when it exists */
  FER_TRAIN_PATH_CHECKPOINT = 2, /* best model (fer_model_save), written only
                                    when the checkpoint monitor improves */
  FER_TRAIN_PATH_HISTORY = 3     /* per-epoch CSV: epoch,loss,acc,val_loss,
                                    val_acc,lr,seconds */
} fer_train_path;

/* Events of the user callback. */
typedef enum fer_train_event {
  FER_TRAIN_EVENT_BATCH = 1, /* after each training step */
  FER_TRAIN_EVENT_EPOCH = 2  /* after an epoch: validation done, callbacks
                                run, history and state written */
} fer_train_event;

/* The user callback: `epoch` is 0-based, `batch` 1-based within the epoch
 * (equal to `batches` at the epoch event), `metrics` has `metric_count`
 * values indexed by fer_train_metric (running means at batch events).
 * Return 0 to go on, non-zero to stop: fit then returns FER_ERR_CANCELLED
 * (after an epoch event the state of that epoch is already saved; a stop
 * in the middle of an epoch loses that epoch's partial progress on
 * resume). Called on the thread that called fit. */
typedef int (*fer_train_callback)(void *user, fer_train_event event,
                                  int epoch, int epochs, long batch,
                                  long batches, const double *metrics,
                                  int metric_count);

/* A trainer with every key at its default. The optimizer defaults to Adam
 * (lr 1e-3) owned by the trainer. Free with fer_trainer_free().
 * Statuses: FER_ERR_INVALID_ARGUMENT (NULL out), FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_trainer_create(fer_trainer **out);
FER_API void fer_trainer_free(fer_trainer *tr);

/* Sets / gets one key. Statuses: FER_ERR_NOT_FOUND (unknown key),
 * FER_ERR_INVALID_ARGUMENT (outside the bounds, NaN, a fraction for an
 * integer key; the message names the key and its bounds), FER_ERR_MISUSE. */
FER_API fer_status fer_trainer_set(fer_trainer *tr, fer_train_param key,
                                   double value);
FER_API fer_status fer_trainer_get(const fer_trainer *tr, fer_train_param key,
                                   double *value);
/* Name ("epochs"), default and inclusive bounds of a key; outputs may be
 * NULL. FER_ERR_NOT_FOUND for an unknown key. */
FER_API fer_status fer_trainer_param_info(fer_train_param key,
                                          const char **name,
                                          double *default_value,
                                          double *min_value,
                                          double *max_value);
/* The key called `name`, or FER_ERR_NOT_FOUND. */
FER_API fer_status fer_trainer_param_find(const char *name,
                                          fer_train_param *key);

/* Sets a path (copied; NULL or "" turns it off). FER_ERR_NOT_FOUND for an
 * unknown key, FER_ERR_OUT_OF_MEMORY, FER_ERR_MISUSE. */
FER_API fer_status fer_trainer_set_path(fer_trainer *tr, fer_train_path key,
                                        const char *path);

/* The optimizer and the per-epoch schedule (stepped with the plateau
 * monitor's metric). Borrowed: they must outlive fit, and the trainer never
 * frees them. NULL optimizer = the trainer's own Adam; NULL schedule = none.
 * The optimizer's state is part of the training state. */
FER_API fer_status fer_trainer_set_optimizer(fer_trainer *tr,
                                             fer_optimizer *opt);
FER_API fer_status fer_trainer_set_schedule(fer_trainer *tr,
                                            fer_schedule *sched);
/* Augmentation of training batches (borrowed; NULL = none). */
FER_API fer_status fer_trainer_set_augment(fer_trainer *tr,
                                           const fer_augment *aug);
/* The teacher of knowledge distillation (borrowed: it must outlive fit and
 * must not change during it; it is only read, through a predictor, so it
 * may be shared with other threads' predictors), or NULL for none. At fit
 * its input shape, preprocessing and per-image normalisation must equal
 * the student's and its output size the class count (FER_ERR_SHAPE
 * otherwise); it should end in softmax (an ensemble from
 * fer_model_ensemble does). Statuses: FER_ERR_MISUSE. */
FER_API fer_status fer_trainer_set_teacher(fer_trainer *tr,
                                           const fer_model *teacher);
/* Explicit class weights (copied; count = classes), or NULL to clear. They
 * take precedence over FER_TRAIN_BALANCED_WEIGHTS. */
FER_API fer_status fer_trainer_set_class_weights(fer_trainer *tr,
                                                 const float *weights,
                                                 int count);
FER_API fer_status fer_trainer_set_callback(fer_trainer *tr,
                                            fer_train_callback fn, void *user);

/* Data-parallel training: the same fit on several processes (MPI ranks,
 * machines), each given the whole data set, the same settings and an
 * identically initialised model, FER_TRAIN_SHARD_COUNT = R and its own
 * FER_TRAIN_SHARD_INDEX = r, and an all-reduce: a function that replaces
 * `floats` and `doubles` by their element-wise sums over the R processes
 * (MPI_Allreduce with MPI_SUM on each array; it must give every process
 * the same sums). It returns 0, or non-zero to stop the fit
 * (FER_ERR_CANCELLED). Then, in every epoch:
 *  - all processes draw the same order of the whole set (fer_epoch_order);
 *    process r trains on its positions r, r + R, r + 2R, ... (floor(N / R)
 *    of them: up to R - 1 samples sit out each epoch, different ones each
 *    time). Its batch b holds FER_TRAIN_BATCH_SIZE of them, so the R
 *    batches b together are the positions a single process with batch
 *    R x FER_TRAIN_BATCH_SIZE would train on (exactly, when R divides N);
 *  - each step computes the gradient of the process's batch, sums W_r g_r
 *    and W_r (fer_model_compute_gradients) with the all-reduce, and
 *    applies sum W_r g_r / sum W_r: without batch norm or dropout, R
 *    processes follow one process with an R times larger batch, up to
 *    float rounding (tests/train/test_shards.c, suite mpi);
 *  - batch norm uses each process's own batch statistics (ghost batches of
 *    FER_TRAIN_BATCH_SIZE); at the end of the epoch the running statistics
 *    are averaged over the processes and the parameters of process 0 are
 *    copied to all (so float rounding in the all-reduce cannot let them
 *    drift apart); dropout masks come from a generator seeded per process;
 *  - validation is split the same way and its sums all-reduced; the
 *    history row of process 0 is given to all, so every callback decides
 *    the same on every process;
 *  - only process 0 writes the state, history and checkpoint files; every
 *    process resumes from the state path, which must therefore be readable
 *    by all. The state does not depend on R: a job may resume on any
 *    number of processes (with the same seed and the same global batch
 *    R x FER_TRAIN_BATCH_SIZE it goes on as an uninterrupted run would, up
 *    to float rounding).
 * With an all-reduce set and R = 1 the fit runs the same path alone. fn
 * NULL turns it off (FER_TRAIN_SHARD_COUNT > 1 then fails at fit with
 * FER_ERR_INVALID_ARGUMENT). The all-reduce is called on the thread that
 * called fit, a fixed number of times per step and per epoch, the same on
 * every process. Statuses: FER_ERR_MISUSE. */
typedef int (*fer_train_allreduce)(void *user, float *floats,
                                   size_t float_count, double *doubles,
                                   size_t double_count);
FER_API fer_status fer_trainer_set_allreduce(fer_trainer *tr,
                                             fer_train_allreduce fn,
                                             void *user);

/* The "balanced" class weights of a data set, as scikit-learn and Keras
 * compute them: w_c = n / (K n_c), 0 for an absent class. Writes K =
 * fer_dataset_class_count() floats. Statuses: FER_ERR_BUFFER_TOO_SMALL
 * (capacity < K), FER_ERR_INVALID_ARGUMENT (empty data set), MISUSE. */
FER_API fer_status fer_dataset_balanced_weights(const fer_dataset *ds,
                                                float *weights, int capacity);

/* Trains `model` on `train`, validating on `validation` (may be NULL: then a
 * seeded stratified FER_TRAIN_VALIDATION_FRACTION of `train` is held out, or
 * none). With a state path that exists, first restores everything from it
 * (weights, optimizer, schedule, callbacks, generator, epoch, history) and
 * continues after its last epoch; the model must have the architecture the
 * state was written with. The model's label smoothing, class weights and
 * dropout seed are set from the trainer. On return the model holds the
 * final weights (the best ones when early stopping restored them).
 * Statuses: FER_OK (all epochs done or stopped early), FER_ERR_CANCELLED
 * (the user callback stopped it), FER_ERR_SHAPE (data and model shapes or
 * class counts differ), FER_ERR_INVALID_ARGUMENT, FER_ERR_IO (a file could
 * not be written), the state loader's statuses (FER_ERR_FORMAT,
 * FER_ERR_TRUNCATED, FER_ERR_CHECKSUM, FER_ERR_VERSION), the engine's, and
 * FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_trainer_fit(fer_trainer *tr, fer_model *model,
                                   const fer_dataset *train,
                                   const fer_dataset *validation);

/* The history so far (after fit, or after a resume): the number of epochs
 * recorded, and the metrics of epoch `epoch` (0-based) into `metrics`
 * (capacity values, up to FER_TRAIN_METRIC_COUNT are written).
 * FER_ERR_INVALID_ARGUMENT for an epoch out of range. */
FER_API int fer_trainer_history_count(const fer_trainer *tr);
FER_API fer_status fer_trainer_history_get(const fer_trainer *tr, int epoch,
                                           double *metrics, int capacity);
/* 1-based epoch of the best checkpoint-monitor value so far (0: none) and
 * that value. */
FER_API int fer_trainer_best_epoch(const fer_trainer *tr, double *best);

/* ------------------------------------------------------------------------
 * Flat buffers: a training step in two halves, for data-parallel training
 * ------------------------------------------------------------------------
 * fer_model_train_step() is "compute the gradient" then "apply the
 * optimiser step". These functions expose the two halves and the state in
 * between as flat float arrays, so that several processes (MPI ranks,
 * machines) can each compute the gradient of their part of a batch, sum
 * the gradients (an all-reduce), and all apply the same step.
 *
 * The flat layouts (version FER_FLAT_LAYOUT_VERSION):
 *  - parameters and gradients: for each layer in order, its WEIGHT then its
 *    BIAS tensor when it has them (fer_tensor layouts: convolution
 *    [F][C/groups][KH][KW], dense [N][inputs], batch norm gamma then beta),
 *    with nothing between them; fer_model_num_params()'s trainable count
 *    floats. Gradient element i belongs to parameter element i.
 *  - statistics: for each batch-norm layer in order, RUNNING_MEAN then
 *    RUNNING_VAR (C floats each); the non-trainable count floats.
 * The layout changes only with a new layout version.
 *
 * A gradient is that of the batch's mean loss (see fer_model_evaluate):
 * sum_i w_i loss_i / W with W = sum_i w_i, w_i the class weight of sample
 * i's label (1 without class weights). The gradient of a batch split into
 * parts p with weights W_p is therefore sum_p W_p g_p / sum_p W_p: with
 * equal parts and no class weights, the mean of the parts' gradients.
 * Batch norm normalises each part with the part's own statistics, so only
 * a network without batch norm gets the whole batch's gradient this way
 * (exactly, up to float rounding); with batch norm the result is that of
 * "ghost" batches the size of a part, as in PyTorch's DistributedDataParallel
 * without SyncBatchNorm.
 *
 * Thread safety: as fer_model_train_step (exclusive access to the model). */

#define FER_FLAT_LAYOUT_VERSION 1
/* FER_FLAT_LAYOUT_VERSION of the library in use. */
FER_API int fer_flat_layout_version(void);

/* The first half of fer_model_train_step: forward in training mode (batch
 * statistics folded into the running statistics, dropout drawn from the
 * model's generator), loss, backward. The gradient stays in the model's
 * gradient buffer for fer_model_get_gradients / set_gradients /
 * apply_gradients; nothing is updated. *loss and *accuracy as in
 * fer_model_train_step, *weight = W above (each out pointer may be NULL).
 * fer_model_compute_gradients then fer_model_apply_gradients gives the same
 * weights as fer_model_train_step, bit for bit. Statuses as
 * fer_model_train_step. */
FER_API fer_status fer_model_compute_gradients(fer_model *m, const float *x,
                                               const int32_t *labels, int n,
                                               float *loss, float *accuracy,
                                               double *weight);

/* The first half of fer_model_train_step_soft (soft targets, optional
 * sample weights, the same checks and statuses); *weight = sum_i v_i (n
 * without sample weights). */
FER_API fer_status fer_model_compute_gradients_soft(fer_model *m,
                                                    const float *x,
                                                    const float *targets,
                                                    size_t target_count,
                                                    const float *sample_weights,
                                                    int n, float *loss,
                                                    float *accuracy,
                                                    double *weight);

/* Copies the gradient buffer out (`count` floats of room; *needed, which
 * may be NULL, gets the trainable count; a NULL dst with count 0 asks for
 * the size: FER_ERR_BUFFER_TOO_SMALL and *needed) or replaces it (count must be the
 * trainable count exactly). get needs a gradient computed since the last
 * step (FER_ERR_MISUSE otherwise); set may also be called before any
 * gradient was computed. Statuses: FER_ERR_BUFFER_TOO_SMALL (get),
 * FER_ERR_SHAPE (set with another count), FER_ERR_INVALID_ARGUMENT (NULL
 * buffer), FER_ERR_OUT_OF_MEMORY (set: the buffer is made on first use),
 * FER_ERR_MISUSE. */
FER_API fer_status fer_model_get_gradients(const fer_model *m, float *dst,
                                           size_t count, size_t *needed);
FER_API fer_status fer_model_set_gradients(fer_model *m, const float *src,
                                           size_t count);

/* The second half: one step of `opt` from the gradient buffer (computed or
 * set), as fer_model_train_step does it (clipping by global norm included).
 * The buffer is then used up: a second apply without a new gradient is
 * FER_ERR_MISUSE. Also FER_ERR_MISUSE when `opt` belongs to another model
 * shape, and FER_ERR_OUT_OF_MEMORY (the optimizer's moments, first step). */
FER_API fer_status fer_model_apply_gradients(fer_model *m, fer_optimizer *opt);

/* Copies every trainable parameter out / in, in the flat layout (for
 * broadcasting the initial weights, or checking that processes agree).
 * Same count rules and statuses as the gradient pair. */
FER_API fer_status fer_model_get_parameters(const fer_model *m, float *dst,
                                            size_t count, size_t *needed);
FER_API fer_status fer_model_set_parameters(fer_model *m, const float *src,
                                            size_t count);
/* The same for the batch-norm running statistics (for averaging them over
 * processes). A model without batch norm has 0 of them: get and set with
 * count 0 succeed. set rejects a negative or non-finite variance
 * (FER_ERR_INVALID_ARGUMENT naming the layer). */
FER_API fer_status fer_model_get_statistics(const fer_model *m, float *dst,
                                            size_t count, size_t *needed);
FER_API fer_status fer_model_set_statistics(fer_model *m, const float *src,
                                            size_t count);

/* Checks a training-state file in memory without training: FER_OK when it
 * is well-formed (every section, checksum and bound), else the loader's
 * status and message. For tools and fuzzing. */
FER_API fer_status fer_train_state_validate(const void *data, size_t size);
/* The training-state format version this library writes and reads. */
FER_API int fer_train_state_version(void);

#ifdef __cplusplus
}
#endif

#endif /* FER_TRAIN_H */
