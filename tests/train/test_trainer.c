/* The fit loop: keys, the built-in callbacks on scripted metric sequences
 * (checked against Keras' rules worked out by hand), balanced weights, the
 * validation split, history CSV, user-callback stop, checkpoints, early
 * stopping with restore, and determinism. */
#include <math.h>
#include <stdio.h>
#include <unistd.h>

#include "train/trainer_internal.h"
#include "test_trainer_util.h"

static void test_keys(void) {
  fer_trainer *tr = NULL;
  CHECK_OK(fer_trainer_create(&tr));
  double v;
  CHECK_OK(fer_trainer_get(tr, FER_TRAIN_EPOCHS, &v));
  CHECK_EQ_INT(v, 30);
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_EPOCHS, 5));
  CHECK_OK(fer_trainer_get(tr, FER_TRAIN_EPOCHS, &v));
  CHECK_EQ_INT(v, 5);
  CHECK_STATUS(fer_trainer_set(tr, FER_TRAIN_EPOCHS, 0), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("epochs");
  CHECK_STATUS(fer_trainer_set(tr, FER_TRAIN_BATCH_SIZE, 2.5), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_trainer_set(tr, FER_TRAIN_LABEL_SMOOTHING, NAN), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_trainer_set(tr, (fer_train_param)999, 1), FER_ERR_NOT_FOUND);
  const char *name;
  double def, lo, hi;
  CHECK_OK(fer_trainer_param_info(FER_TRAIN_BATCH_SIZE, &name, &def, &lo, &hi));
  CHECK(strcmp(name, "batch_size") == 0 && def == 64 && lo == 1);
  fer_train_param key;
  CHECK_OK(fer_trainer_param_find("plateau_patience", &key));
  CHECK_EQ_INT(key, FER_TRAIN_PLATEAU_PATIENCE);
  CHECK_STATUS(fer_trainer_param_find("nope", &key), FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_trainer_set_path(tr, (fer_train_path)9, "x"), FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_trainer_fit(tr, NULL, NULL, NULL), FER_ERR_MISUSE);
  fer_trainer_free(tr);
  CHECK_STATUS(fer_trainer_set(NULL, FER_TRAIN_EPOCHS, 1), FER_ERR_MISUSE);
  CHECK(strcmp(fer_train_metric_name(FER_METRIC_VAL_ACCURACY), "val_acc") == 0);
  CHECK(fer_train_metric_name((fer_train_metric)7) == NULL);
}

/* ReduceLROnPlateau(factor 0.1, patience 2, min_delta 1e-4, min_lr 1e-5) on
 * val_loss 1.0 .9 .95 .93 .8 .85 .86 .9 .95 .99: Keras cuts after epoch 4
 * (two epochs without improving on .9) and after epoch 7, then after epoch
 * 9 it would go below min_lr and stops at 1e-5. */
static void test_plateau_script(void) {
  const double loss[] = {1.0, 0.9, 0.95, 0.93, 0.8, 0.85, 0.86, 0.9, 0.95, 0.99};
  const double want_lr_after[] = {1e-3, 1e-3, 1e-3, 1e-4, 1e-4, 1e-4, 1e-5,
                                  1e-5, 1e-5, 1e-5};
  fer__tracker t;
  fer__tracker_reset(&t);
  double lr = 1e-3;
  for (int e = 0; e < 10; e++) {
    lr = fer__plateau_update(&t, FER_METRIC_VAL_LOSS, loss[e], e + 1, lr, 0.1, 2,
                             1e-5, 1e-4);
    CHECK_NEAR(lr, want_lr_after[e], 1e-12);
  }
  /* An accuracy is better when larger; a rise smaller than min_delta is not
   * an improvement. */
  fer__tracker_reset(&t);
  lr = 1.0;
  lr = fer__plateau_update(&t, FER_METRIC_VAL_ACCURACY, 0.5, 1, lr, 0.5, 1, 0, 0.01);
  CHECK_NEAR(lr, 1.0, 0);
  lr = fer__plateau_update(&t, FER_METRIC_VAL_ACCURACY, 0.505, 2, lr, 0.5, 1, 0, 0.01);
  CHECK_NEAR(lr, 0.5, 0);
  lr = fer__plateau_update(&t, FER_METRIC_VAL_ACCURACY, 0.6, 3, lr, 0.5, 1, 0, 0.01);
  CHECK_NEAR(lr, 0.5, 0);
}

/* EarlyStopping(patience 3) on val_acc .5 .6 .55 .58 .59 .7: the best is
 * epoch 2 and it stops at epoch 5; NaN never counts as an improvement. */
static void test_early_stop_script(void) {
  const double acc[] = {0.5, 0.6, 0.55, 0.58, 0.59, 0.7};
  fer__tracker t;
  fer__tracker_reset(&t);
  int stop_epoch = 0, improved;
  for (int e = 0; e < 6 && !stop_epoch; e++)
    if (fer__early_stop_update(&t, FER_METRIC_VAL_ACCURACY, acc[e], e + 1, 3, &improved))
      stop_epoch = e + 1;
  CHECK_EQ_INT(stop_epoch, 5);
  CHECK_EQ_INT(t.best_epoch, 2);
  CHECK_NEAR(t.best, 0.6, 0);
  fer__tracker_reset(&t);
  CHECK(!fer__checkpoint_update(&t, FER_METRIC_VAL_LOSS, NAN, 1));
  CHECK(fer__checkpoint_update(&t, FER_METRIC_VAL_LOSS, 2.0, 2));
  CHECK(!fer__checkpoint_update(&t, FER_METRIC_VAL_LOSS, 2.0, 3));
  CHECK(fer__checkpoint_update(&t, FER_METRIC_VAL_LOSS, 1.5, 4));
  CHECK_EQ_INT(t.best_epoch, 4);
}

static void test_balanced_weights(void) {
  const size_t counts[3] = {10, 30, 60};
  fer_dataset *ds = toy_dataset(counts, 3, 1);
  float w[3];
  CHECK_OK(fer_dataset_balanced_weights(ds, w, 3));
  /* n / (K n_c) with n = 100, K = 3. */
  CHECK_NEAR(w[0], 100.0 / 30.0, 1e-6);
  CHECK_NEAR(w[1], 100.0 / 90.0, 1e-6);
  CHECK_NEAR(w[2], 100.0 / 180.0, 1e-6);
  CHECK_STATUS(fer_dataset_balanced_weights(ds, w, 2), FER_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(fer_dataset_balanced_weights(NULL, w, 3), FER_ERR_MISUSE);
  fer_dataset_free(ds);
}

typedef struct recorder {
  int batches, epochs, stop_at_batch;
  double last_images;
  double val_acc[64];
  const char *checkpoint;
  int checkpoint_changes, checkpoint_expected;
  double best;
  uint8_t previous[1 << 16];
  size_t previous_size;
} recorder;

static size_t read_all(const char *path, uint8_t *buf, size_t cap) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t n = fread(buf, 1, cap, f);
  fclose(f);
  return n;
}

static int record(void *user, fer_train_event event, int epoch, int epochs,
                  long batch, long batches, const double *metrics, int count) {
  recorder *r = user;
  (void)epochs;
  (void)batches;
  (void)count;
  if (event == FER_TRAIN_EVENT_BATCH) {
    r->batches++;
    r->last_images = metrics[FER_METRIC_IMAGES];
    return r->stop_at_batch && batch == r->stop_at_batch;
  }
  r->val_acc[r->epochs++ & 63] = metrics[FER_METRIC_VAL_ACCURACY];
  if (r->checkpoint) {
    /* The checkpoint changes exactly when val_acc beats the best so far. */
    double acc = metrics[FER_METRIC_VAL_ACCURACY];
    if (epoch == 0 || acc > r->best) {
      r->checkpoint_expected++;
      r->best = acc;
    }
    uint8_t now[1 << 16];
    size_t n = read_all(r->checkpoint, now, sizeof now);
    if (n != r->previous_size || memcmp(now, r->previous, n) != 0) {
      r->checkpoint_changes++;
      memcpy(r->previous, now, n);
      r->previous_size = n;
    }
  }
  return 0;
}

static void test_split_and_stop(void) {
  const size_t counts[3] = {40, 40, 40};
  fer_dataset *ds = toy_dataset(counts, 3, 2);
  fer_model *m = toy_model();
  fer_trainer *tr = toy_trainer(2, 3);
  recorder r = {0};
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_VALIDATION_FRACTION, 0.25));
  CHECK_OK(fer_trainer_set_callback(tr, record, &r));
  CHECK_OK(fer_trainer_fit(tr, m, ds, NULL));
  /* 25% of each class held out: 90 trained on, 6 batches of 16 per epoch. */
  CHECK_EQ_INT(r.last_images, 90);
  CHECK_EQ_INT(r.batches, 12);
  CHECK_EQ_INT(r.epochs, 2);
  CHECK(!isnan(r.val_acc[0]));
  /* The user callback stops training at batch 3 of the first epoch. */
  recorder stop = {.stop_at_batch = 3};
  CHECK_OK(fer_trainer_set_callback(tr, record, &stop));
  CHECK_STATUS(fer_trainer_fit(tr, m, ds, NULL), FER_ERR_CANCELLED);
  CHECK_MESSAGE_CONTAINS("callback");
  CHECK_EQ_INT(stop.batches, 3);
  CHECK_EQ_INT(stop.epochs, 0);
  CHECK_EQ_INT(fer_trainer_history_count(tr), 0);
  /* Shapes must fit. */
  const size_t two[2] = {5, 5};
  fer_dataset *wrong = toy_dataset(two, 2, 3);
  CHECK_STATUS(fer_trainer_fit(tr, m, wrong, NULL), FER_ERR_SHAPE);
  CHECK_MESSAGE_CONTAINS("classes");
  fer_dataset_free(wrong);
  fer_trainer_free(tr);
  fer_model_free(m);
  fer_dataset_free(ds);
}

/* Validation accuracy of the model now, computed outside the trainer. */
static double val_accuracy(const fer_model *m, const fer_dataset *ds) {
  size_t n = fer_dataset_count(ds), hits = 0;
  for (size_t i = 0; i < n; i++) {
    float x[64], p[3];
    fer_dataset_get_sample(ds, i, 1.0f / 255, x, 64);
    fer_model_predict(m, x, 1, p);
    int top = 0;
    for (int k = 1; k < 3; k++)
      if (p[k] > p[top]) top = k;
    hits += top == fer_dataset_label(ds, i);
  }
  return (double)hits / (double)n;
}

static void test_history_and_checkpoint(void) {
  const size_t counts[3] = {30, 30, 30}, vcounts[3] = {10, 10, 10};
  fer_dataset *ds = toy_dataset(counts, 3, 4), *val = toy_dataset(vcounts, 3, 5);
  fer_model *m = toy_model();
  fer_trainer *tr = toy_trainer(4, 5);
  char history[] = "/tmp/fer_test_history_XXXXXX", checkpoint[64];
  int fd = mkstemp(history);
  close(fd);
  snprintf(checkpoint, sizeof checkpoint, "%s.ferm", history);
  recorder r = {.checkpoint = checkpoint};
  CHECK_OK(fer_trainer_set_path(tr, FER_TRAIN_PATH_HISTORY, history));
  CHECK_OK(fer_trainer_set_path(tr, FER_TRAIN_PATH_CHECKPOINT, checkpoint));
  CHECK_OK(fer_trainer_set_callback(tr, record, &r));
  CHECK_OK(fer_trainer_fit(tr, m, ds, val));
  CHECK_EQ_INT(r.epochs, 4);
  CHECK_EQ_INT(r.checkpoint_changes, r.checkpoint_expected);
  CHECK(r.checkpoint_expected >= 1);
  /* The last row's val_acc is the model's accuracy measured independently. */
  CHECK_NEAR(r.val_acc[3], val_accuracy(m, val), 1e-12);
  /* The saved checkpoint holds the best epoch's weights. */
  fer_model *best = NULL;
  CHECK_OK(fer_model_load(checkpoint, &best));
  double best_acc;
  int best_epoch = fer_trainer_best_epoch(tr, &best_acc);
  CHECK(best_epoch >= 1 && best_epoch <= 4);
  if (best) CHECK_NEAR(val_accuracy(best, val), best_acc, 1e-12);
  fer_model_free(best);
  /* The CSV: header and one row per epoch equal to the history. */
  FILE *f = fopen(history, "r");
  char line[512];
  CHECK(f && fgets(line, sizeof line, f));
  CHECK(strcmp(line, "epoch,loss,acc,val_loss,val_acc,lr,seconds\n") == 0);
  for (int e = 0; f && e < 4; e++) {
    int epoch;
    double v[6], row[FER_TRAIN_METRIC_COUNT];
    CHECK(fgets(line, sizeof line, f) != NULL);
    CHECK_EQ_INT(sscanf(line, "%d,%lf,%lf,%lf,%lf,%lf,%lf", &epoch, &v[0], &v[1],
                        &v[2], &v[3], &v[4], &v[5]), 7);
    CHECK_EQ_INT(epoch, e + 1);
    CHECK_OK(fer_trainer_history_get(tr, e, row, FER_TRAIN_METRIC_COUNT));
    for (int k = 0; k < 5; k++) CHECK_NEAR(v[k], row[k], 1e-8 * fabs(row[k]));
    CHECK_NEAR(v[4], 1e-3, 0); /* Adam's default rate, no schedule */
  }
  CHECK(f && !fgets(line, sizeof line, f));
  if (f) fclose(f);
  remove(history);
  remove(checkpoint);
  fer_trainer_free(tr);
  fer_model_free(m);
  fer_dataset_free(ds);
  fer_dataset_free(val);
}

/* A rate far too high makes validation loss climb: early stopping with
 * patience 1 stops and restores the weights of the best epoch. */
static void test_early_stop_restore(void) {
  const size_t counts[3] = {30, 30, 30}, vcounts[3] = {10, 10, 10};
  fer_dataset *ds = toy_dataset(counts, 3, 6), *val = toy_dataset(vcounts, 3, 7);
  fer_model *m = toy_model();
  fer_trainer *tr = toy_trainer(20, 8);
  fer_optimizer *sgd = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &sgd));
  CHECK_OK(fer_optimizer_set(sgd, FER_OPT_LEARNING_RATE, 3.0));
  CHECK_OK(fer_trainer_set_optimizer(tr, sgd));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_EARLY_STOP_PATIENCE, 1));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_RESTORE_BEST, 1));
  CHECK_OK(fer_trainer_fit(tr, m, ds, val));
  int epochs = fer_trainer_history_count(tr);
  CHECK(epochs < 20);
  double best = INFINITY, row[FER_TRAIN_METRIC_COUNT];
  int best_epoch = 0;
  for (int e = 0; e < epochs; e++) {
    fer_trainer_history_get(tr, e, row, FER_TRAIN_METRIC_COUNT);
    if (row[FER_METRIC_VAL_LOSS] < best) {
      best = row[FER_METRIC_VAL_LOSS];
      best_epoch = e + 1;
    }
  }
  CHECK_EQ_INT(epochs, best_epoch + 1); /* patience 1 */
  /* The model now scores the best epoch's validation accuracy. */
  fer_trainer_history_get(tr, best_epoch - 1, row, FER_TRAIN_METRIC_COUNT);
  CHECK_NEAR(val_accuracy(m, val), row[FER_METRIC_VAL_ACCURACY], 1e-12);
  fer_optimizer_free(sgd);
  fer_trainer_free(tr);
  fer_model_free(m);
  fer_dataset_free(ds);
  fer_dataset_free(val);
}

/* Same seed, same threads: bit-identical weights; another seed: not. */
static void test_determinism(void) {
  const size_t counts[3] = {20, 20, 20};
  fer_dataset *ds = toy_dataset(counts, 3, 9);
  fer_augment *aug = NULL;
  CHECK_OK(fer_augment_create(11, &aug));
  fer_augment_set(aug, FER_AUG_FLIP_PROB, 0.5);
  fer_augment_set(aug, FER_AUG_SHIFT_PROB, 0.5);
  fer_model *a = toy_model(), *b = toy_model(), *c = toy_model();
  fer_trainer *ta = toy_trainer(3, 1), *tb = toy_trainer(3, 1), *tc = toy_trainer(3, 2);
  fer_trainer *all[3] = {ta, tb, tc};
  for (int i = 0; i < 3; i++) {
    fer_trainer_set_augment(all[i], aug);
    fer_trainer_set(all[i], FER_TRAIN_LABEL_SMOOTHING, 0.1);
    fer_trainer_set(all[i], FER_TRAIN_BALANCED_WEIGHTS, 1);
    fer_trainer_set(all[i], FER_TRAIN_THREADS, 2);
  }
  CHECK_OK(fer_trainer_fit(ta, a, ds, NULL));
  CHECK_OK(fer_trainer_fit(tb, b, ds, NULL));
  CHECK_OK(fer_trainer_fit(tc, c, ds, NULL));
  CHECK(same_weights(a, b));
  CHECK(!same_weights(a, c));
  for (int i = 0; i < 3; i++) fer_trainer_free(all[i]);
  fer_model_free(a);
  fer_model_free(b);
  fer_model_free(c);
  fer_augment_free(aug);
  fer_dataset_free(ds);
}

/* Mean cross-entropy of `m` on `ds`, fed through fer_model_preprocess. */
static double manual_loss(const fer_model *m, const fer_dataset *ds) {
  size_t n = fer_dataset_count(ds);
  float *x = malloc(n * 64 * sizeof *x), *p = malloc(n * 3 * sizeof *p);
  int32_t *y = malloc(n * sizeof *y);
  uint32_t *idx = malloc(n * sizeof *idx);
  double loss = NAN;
  if (x && p && y && idx) {
    for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
    CHECK_OK(fer_dataset_make_batch(ds, NULL, 0, idx, n, 1.0f, x, n * 64, y));
    CHECK_OK(fer_model_preprocess(m, x, (int)n));
    CHECK_OK(fer_model_predict(m, x, (int)n, p));
    loss = 0.0;
    for (size_t i = 0; i < n; i++) loss -= log(p[i * 3 + y[i]]) / (double)n;
  }
  free(x);
  free(p);
  free(y);
  free(idx);
  return loss;
}

/* The fit loop feeds training and validation batches through the model's
 * per-image normalisation (training batches without the sharpness limit):
 * with a learning rate too small to move the
 * weights of a net without batch norm or dropout, the epoch's training
 * and validation losses equal the loss computed by hand on
 * fer_model_preprocess'd data (and differ clearly from it without). */
static void test_uses_image_normalization(void) {
  const size_t counts[3] = {10, 12, 9};
  fer_dataset *train = toy_dataset(counts, 3, 21), *val = toy_dataset(counts, 3, 22);
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text("input 1x8x8\nflatten\ndense 3\nsoftmax\n", &m));
  fer_trainer *tr = toy_trainer(1, 3);
  fer_optimizer *sgd = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &sgd));
  if (!m || !tr || !sgd || !train || !val) return;
  CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 4));
  CHECK_OK(fer_optimizer_set(sgd, FER_OPT_LEARNING_RATE, 1e-12));
  CHECK_OK(fer_trainer_set_optimizer(tr, sgd));
  CHECK_OK(fer_model_set_image_normalization(m, FER_NORM_STANDARDIZE, 0.2f));
  CHECK_OK(fer_trainer_fit(tr, m, train, val));
  double row[FER_TRAIN_METRIC_COUNT];
  CHECK_OK(fer_trainer_history_get(tr, 0, row, FER_TRAIN_METRIC_COUNT));
  /* Training batches get the standardisation but not the sharpness
   * limit; validation gets both. */
  double want_val = manual_loss(m, val);
  CHECK_OK(fer_model_set_image_normalization(m, FER_NORM_STANDARDIZE, 0.0f));
  double want_train = manual_loss(m, train);
  CHECK_NEAR(row[FER_METRIC_LOSS], want_train, 1e-5);
  CHECK_NEAR(row[FER_METRIC_VAL_LOSS], want_val, 1e-5);
  CHECK_OK(fer_model_set_image_normalization(m, 0, 0.0f));
  CHECK(fabs(manual_loss(m, val) - want_val) > 1e-2);
  fer_trainer_free(tr);
  fer_optimizer_free(sgd);
  fer_model_free(m);
  fer_dataset_free(train);
  fer_dataset_free(val);
}

/* Every allocation of a fit (with a validation split, checkpoint, history,
 * state and early-stopping best weights) and of a resume from its state
 * file fails in turn: each attempt returns FER_ERR_OUT_OF_MEMORY (or a
 * status from a layer that reports it) and leaks nothing (ASan build). */
static void test_allocation_failures(void) {
  const size_t counts[3] = {6, 6, 6};
  fer_dataset *ds = toy_dataset(counts, 3, 12);
  char base[] = "/tmp/fer_test_alloc_XXXXXX", state[64], history[64], ckpt[64];
  int fd = mkstemp(base);
  close(fd);
  snprintf(state, sizeof state, "%s.state", base);
  snprintf(history, sizeof history, "%s.csv", base);
  snprintf(ckpt, sizeof ckpt, "%s.ferm", base);
  for (int pass = 0; pass < 2; pass++) {
    /* pass 0: fresh runs (the state is removed); pass 1: resumes of a
     * 2-epoch state to 3 epochs. */
    int succeeded = 0;
    for (long n = 1; n < 5000 && !succeeded; n++) {
      remove(state);
      if (pass == 1) {
        fer_model *m = toy_model();
        fer_trainer *tr = toy_trainer(2, 1);
        fer_trainer_set_path(tr, FER_TRAIN_PATH_STATE, state);
        fer_trainer_set(tr, FER_TRAIN_EARLY_STOP_PATIENCE, 5);
        fer_trainer_set(tr, FER_TRAIN_RESTORE_BEST, 1);
        fer_trainer_set(tr, FER_TRAIN_VALIDATION_FRACTION, 0.3);
        CHECK_OK(fer_trainer_fit(tr, m, ds, NULL));
        fer_trainer_free(tr);
        fer_model_free(m);
      }
      fer_model *m = toy_model();
      fer_trainer *tr = toy_trainer(pass ? 3 : 2, 1);
      fer_trainer_set_path(tr, FER_TRAIN_PATH_STATE, state);
      fer_trainer_set_path(tr, FER_TRAIN_PATH_HISTORY, history);
      fer_trainer_set_path(tr, FER_TRAIN_PATH_CHECKPOINT, ckpt);
      fer_trainer_set(tr, FER_TRAIN_EARLY_STOP_PATIENCE, 5);
      fer_trainer_set(tr, FER_TRAIN_RESTORE_BEST, 1);
      fer_trainer_set(tr, FER_TRAIN_VALIDATION_FRACTION, 0.3);
      fer__alloc_fail_after(n);
      fer_status st = fer_trainer_fit(tr, m, ds, NULL);
      fer__alloc_fail_after(0);
      if (st == FER_OK) succeeded = 1;
      else CHECK_MSG(st == FER_ERR_OUT_OF_MEMORY, "allocation %ld: %s (%s)", n,
                     fer_status_string(st), fer_last_error());
      fer_trainer_free(tr);
      fer_model_free(m);
    }
    CHECK(succeeded);
  }
  remove(base);
  remove(state);
  remove(history);
  remove(ckpt);
  fer_dataset_free(ds);
}

int main(void) {
  RUN(test_keys);
  RUN(test_plateau_script);
  RUN(test_early_stop_script);
  RUN(test_balanced_weights);
  RUN(test_split_and_stop);
  RUN(test_history_and_checkpoint);
  RUN(test_early_stop_restore);
  RUN(test_determinism);
  RUN(test_uses_image_normalization);
  RUN(test_allocation_failures);
  return harness_finish();
}
