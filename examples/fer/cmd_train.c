/* fer train: trains a CNN on FER2013 (CSV or folders) with the fit loop of
 * include/fer/train.h, printing progress, and saves the model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_train_common.h"

/* The architecture `--net default` builds: the shipped model's (see
 * models/README.md). VGG-style blocks with batch norm, a global average
 * pool and a small dense head. */
static const char default_arch[] =
    "input 1x48x48\n"
    "conv 32 3x3 same nobias\nbn\nrelu\nconv 32 3x3 same nobias\nbn\nrelu\nmax 2x2/2\n"
    "conv 64 3x3 same nobias\nbn\nrelu\nconv 64 3x3 same nobias\nbn\nrelu\nmax 2x2/2\n"
    "conv 128 3x3 same nobias\nbn\nrelu\nconv 128 3x3 same nobias\nbn\nrelu\nmax 2x2/2\n"
    "conv 256 3x3 same nobias\nbn\nrelu\nconv 256 3x3 same nobias\nbn\nrelu\nmax 2x2/2\n"
    "gap\ndrop 0.3\ndense 7\nsoftmax\n";

static void usage(FILE *out) {
  fprintf(out,
"usage: fer train [OPTIONS] DATA\n"
"\n"
"Trains a network on DATA: a FER2013 CSV (.csv or .csv.gz; rows chosen by\n"
"--usage) or a folder of class folders (fer2013/train/<class>/*.jpg).\n"
"The best model on validation accuracy (or the last one without a\n"
"validation set) is saved to --out.\n"
"\n"
"Data:\n"
"  --usage U             CSV rows to train on: training (default), publictest,\n"
"                        privatetest, all\n"
"  --val PATH            validation set (CSV or folder); for a CSV DATA the\n"
"                        default is DATA's PublicTest rows\n"
"  --val-usage U         CSV rows of the validation set (default publictest)\n"
"  --val-fraction F      hold out F of the training set instead (seeded)\n"
"  --no-val              no validation\n"
"Network:\n"
"  --net NAME            default, seed000, seed001, seed002, vgglite,\n"
"                        resnet-lite, mobilenetv2-lite (graphs)\n"
"                        (default: default)\n"
"  --arch FILE           architecture text instead of --net\n"
"  --init-seed N         weight initialisation seed (default: --seed)\n"
"Input normalisation (stored in the model, applied wherever it is used):\n"
"  --standardize         each image to mean 0, standard deviation 1\n"
"  --sharpness-limit X   blur inputs sharper than X (see fer_image_sharpness);\n"
"                        only for training data that is itself soft (off by\n"
"                        default; FER2013 does not need it); 'auto' takes\n"
"                        the median of the training images\n"
"Optimisation:\n"
"  --epochs N (30)  --batch N (64)  --lr X (1e-3)\n"
"  --optimizer adam|adamw|sgd (adam)  --momentum X  --nesterov\n"
"  --weight-decay X  --clip-norm X\n"
"  --schedule none|cosine|step (none; cosine runs over --epochs)\n"
"  --plateau-factor X --plateau-patience N --min-lr X\n"
"  --plateau-monitor val_loss|val_acc|loss|acc (val_loss)\n"
"  --early-stop N  --restore-best  --label-smoothing X  --balanced\n"
"Soft targets (off by default; see docs/cli.md):\n"
"  --mixup ALPHA         mix each batch with a shuffled copy of itself,\n"
"                        lambda ~ Beta(ALPHA, ALPHA)\n"
"  --teacher FILE        distil from this model (same input and classes,\n"
"                        e.g. an ensemble from fer ensemble)\n"
"  --distill-weight W    target = (1 - W) label + W teacher (0.5)\n"
"  --temperature T       teacher probabilities softened as p^(1/T) (1)\n"
"Augmentation:\n"
"  --flip P  --shift FRACTION  --rotate DEGREES  --zoom FRACTION  --erase P\n"
"  --aug NAME=VALUE      any augmentation key (see fer_augment_param_info)\n"
"  --set NAME=VALUE      any trainer key (see fer_trainer_param_info)\n"
"Output:\n"
"  --out FILE            model file (default model.ferm)\n"
"  --float16             store the weights as float16\n"
"  --state FILE          training state, written every epoch; resumes from it\n"
"  --history FILE        per-epoch CSV\n"
"  --curves FILE         training curves SVG\n"
"  --seed N (0)  --threads N (library default)  --quiet\n"
"\n"
"Exit status: 0 done, 1 failure, 2 bad arguments.\n");
}

static int metric_by_name(const char *name) {
  for (int i = 0; i < 4; i++)
    if (strcmp(name, fer_train_metric_name((fer_train_metric)i)) == 0) return i;
  if (strcmp(name, "val_accuracy") == 0) return FER_METRIC_VAL_ACCURACY;
  if (strcmp(name, "accuracy") == 0) return FER_METRIC_ACCURACY;
  return -1;
}

typedef struct train_options {
  const char *data, *val, *arch, *net, *out, *state, *history, *curves;
  int usage, val_usage, no_val, quiet, float16, threads_set, standardize;
  const char *sharpness; /* NULL, "auto" or a number */
  double epochs, batch, lr, seed, threads, init_seed;
  const char *optimizer, *schedule;
  const char *teacher; /* knowledge distillation's teacher model file */
} train_options;

/* Applies NAME=VALUE through a find + set pair. */
static int set_named(const char *arg, int augment, fer_trainer *tr,
                     fer_augment *aug) {
  const char *eq = strchr(arg, '=');
  double value;
  if (!eq || !cli_parse_double(eq + 1, &value)) {
    fprintf(stderr, "fer train: expected NAME=NUMBER, got '%s'\n", arg);
    return 0;
  }
  char name[64];
  snprintf(name, sizeof name, "%.*s", (int)(eq - arg), arg);
  fer_status st;
  if (augment) {
    fer_augment_param key;
    st = fer_augment_param_find(name, &key);
    if (!st) st = fer_augment_set(aug, key, value);
  } else {
    fer_train_param key;
    st = fer_trainer_param_find(name, &key);
    if (!st) st = fer_trainer_set(tr, key, value);
  }
  if (st) fprintf(stderr, "fer train: %s\n", fer_last_error());
  return st == FER_OK;
}

static int compare_floats(const void *a, const void *b) {
  float x = *(const float *)a, y = *(const float *)b;
  return (x > y) - (x < y);
}

static fer_model *build_model(const train_options *o) {
  fer_model *m = NULL;
  fer_status st;
  if (o->arch) {
    FILE *f = fopen(o->arch, "rb");
    if (!f) {
      fprintf(stderr, "fer train: cannot open %s\n", o->arch);
      return NULL;
    }
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    st = fer_model_from_text(text, &m);
  } else if (!o->net || strcmp(o->net, "default") == 0) {
    st = fer_model_from_text(default_arch, &m);
  } else {
    st = fer_model_create_reference(o->net, &m);
  }
  if (!st) st = fer_model_init_weights(m, FER_INIT_HE_UNIFORM, (uint64_t)o->init_seed);
  if (st) {
    fprintf(stderr, "fer train: cannot build the network: %s\n", fer_last_error());
    fer_model_free(m);
    return NULL;
  }
  return m;
}

/* Median sharpness (fer_image_sharpness) of the images of `ds`, as they
 * come from the data set (no augmentation). */
static int median_sharpness(const fer_dataset *ds, float *out) {
  const int c = fer_dataset_channels(ds), h = fer_dataset_height(ds),
            w = fer_dataset_width(ds);
  const size_t count = fer_dataset_count(ds), sample = (size_t)c * h * w;
  enum { BATCH = 256 };
  float *x = malloc(sample * BATCH * sizeof *x), *values = malloc(count * sizeof *values);
  int32_t labels[BATCH];
  uint32_t indices[BATCH];
  int ok = x && values && count > 0;
  for (size_t start = 0; ok && start < count; start += BATCH) {
    size_t n = count - start < BATCH ? count - start : BATCH;
    for (size_t i = 0; i < n; i++) indices[i] = (uint32_t)(start + i);
    if (fer_dataset_make_batch(ds, NULL, 0, indices, n, 1.0f, x, sample * BATCH, labels)) {
      fprintf(stderr, "fer train: %s\n", fer_last_error());
      ok = 0;
      break;
    }
    for (size_t i = 0; i < n; i++) values[start + i] = fer_image_sharpness(x + i * sample, c, h, w);
  }
  if (ok) {
    qsort(values, count, sizeof *values, compare_floats);
    *out = values[count / 2];
  }
  free(x);
  free(values);
  return ok;
}

/* Stores --standardize and --sharpness-limit in the model. */
static int set_normalization(const train_options *o, fer_model *model,
                             const fer_dataset *train) {
  float limit = 0.0f;
  if (o->sharpness && !strcmp(o->sharpness, "auto")) {
    if (!median_sharpness(train, &limit)) return 0;
    if (!o->quiet)
      fprintf(stderr, "fer train: sharpness limit %.4f (median of the training images)\n",
              (double)limit);
  } else if (o->sharpness) {
    limit = (float)strtod(o->sharpness, NULL);
  }
  if (fer_model_set_image_normalization(model, o->standardize ? FER_NORM_STANDARDIZE : 0u,
                                        limit)) {
    fprintf(stderr, "fer train: %s\n", fer_last_error());
    return 0;
  }
  return 1;
}

static int write_curves(const fer_trainer *tr, const char *path) {
  int n = fer_trainer_history_count(tr);
  if (n < 1) return 1;
  float *series = calloc((size_t)n * 4, sizeof *series);
  if (!series) return 0;
  for (int e = 0; e < n; e++) {
    double row[FER_TRAIN_METRIC_COUNT];
    fer_trainer_history_get(tr, e, row, FER_TRAIN_METRIC_COUNT);
    for (int k = 0; k < 4; k++) series[k * n + e] = (float)row[k];
  }
  char *svg = NULL;
  fer_status st = fer_chart_training_curves(series, series + 2 * n, series + n,
                                            series + 3 * n, n, "Training", &svg);
  if (!st) st = fer_chart_save(svg, path);
  fer_free(svg);
  free(series);
  if (st) fprintf(stderr, "fer train: curves: %s\n", fer_last_error());
  return st == FER_OK;
}

int cmd_train(int argc, char **argv) { return cli_train_run(argc, argv, NULL); }

int cli_train_run(int argc, char **argv, const cli_train_hooks *hooks) {
  const int writer = !hooks || hooks->writer;
  train_options o = {.usage = FER_USAGE_TRAINING, .val_usage = FER_USAGE_PUBLIC_TEST,
                     .out = "model.ferm", .epochs = 30, .batch = 64, .lr = 1e-3,
                     .init_seed = -1, .optimizer = "adam", .schedule = "none"};
  fer_trainer *tr = NULL;
  fer_augment *aug = NULL;
  int rc = CLI_USAGE;
  if (fer_trainer_create(&tr) || fer_augment_create(0, &aug)) {
    fprintf(stderr, "fer train: %s\n", fer_last_error());
    rc = CLI_FAILURE;
    goto done;
  }
  /* Options in two passes: first the plain ones (--seed must be known before
   * the augmenter is made), then NAME=VALUE settings applied in order. */
  double plateau_monitor = -1, momentum = -1, weight_decay = -1, clip = -1;
  int nesterov = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    double x = 0;
#define NEED_VALUE() do { if (!v) { fprintf(stderr, "fer train: %s needs a value\n", a); goto done; } i++; } while (0)
#define NEED_NUMBER() do { NEED_VALUE(); if (!cli_parse_double(v, &x)) { fprintf(stderr, "fer train: %s: '%s' is not a number\n", a, v); goto done; } } while (0)
#define TRAINER_KEY(key) do { NEED_NUMBER(); if (fer_trainer_set(tr, key, x)) { fprintf(stderr, "fer train: %s: %s\n", a, fer_last_error()); goto done; } } while (0)
    if (cli_is_help(a)) { usage(stdout); rc = CLI_OK; goto done; }
    else if (!strcmp(a, "--usage") || !strcmp(a, "--val-usage")) {
      NEED_VALUE();
      int u = cli_parse_usage(v);
      if (u < 0) { fprintf(stderr, "fer train: %s: unknown usage '%s'\n", a, v); goto done; }
      if (a[2] == 'u') o.usage = u; else o.val_usage = u;
    }
    else if (!strcmp(a, "--val")) { NEED_VALUE(); o.val = v; }
    else if (!strcmp(a, "--val-fraction")) { TRAINER_KEY(FER_TRAIN_VALIDATION_FRACTION); o.no_val = 1; }
    else if (!strcmp(a, "--no-val")) o.no_val = 1;
    else if (!strcmp(a, "--net")) { NEED_VALUE(); o.net = v; }
    else if (!strcmp(a, "--arch")) { NEED_VALUE(); o.arch = v; }
    else if (!strcmp(a, "--init-seed")) { NEED_NUMBER(); o.init_seed = x; }
    else if (!strcmp(a, "--standardize")) o.standardize = 1;
    else if (!strcmp(a, "--sharpness-limit")) {
      NEED_VALUE();
      double limit;
      if (strcmp(v, "auto") && (!cli_parse_double(v, &limit) || !(limit >= 0))) {
        fprintf(stderr, "fer train: --sharpness-limit: expected 'auto' or a number >= 0, got '%s'\n", v);
        goto done;
      }
      o.sharpness = v;
    }
    else if (!strcmp(a, "--epochs")) TRAINER_KEY(FER_TRAIN_EPOCHS);
    else if (!strcmp(a, "--batch")) TRAINER_KEY(FER_TRAIN_BATCH_SIZE);
    else if (!strcmp(a, "--seed")) { TRAINER_KEY(FER_TRAIN_SEED); o.seed = x; }
    else if (!strcmp(a, "--threads")) TRAINER_KEY(FER_TRAIN_THREADS);
    else if (!strcmp(a, "--lr")) { NEED_NUMBER(); o.lr = x; }
    else if (!strcmp(a, "--optimizer")) { NEED_VALUE(); o.optimizer = v; }
    else if (!strcmp(a, "--momentum")) { NEED_NUMBER(); momentum = x; }
    else if (!strcmp(a, "--nesterov")) nesterov = 1;
    else if (!strcmp(a, "--weight-decay")) { NEED_NUMBER(); weight_decay = x; }
    else if (!strcmp(a, "--clip-norm")) { NEED_NUMBER(); clip = x; }
    else if (!strcmp(a, "--schedule")) { NEED_VALUE(); o.schedule = v; }
    else if (!strcmp(a, "--plateau-factor")) TRAINER_KEY(FER_TRAIN_PLATEAU_FACTOR);
    else if (!strcmp(a, "--plateau-patience")) TRAINER_KEY(FER_TRAIN_PLATEAU_PATIENCE);
    else if (!strcmp(a, "--min-lr")) TRAINER_KEY(FER_TRAIN_PLATEAU_MIN_LR);
    else if (!strcmp(a, "--plateau-monitor")) {
      NEED_VALUE();
      if ((plateau_monitor = metric_by_name(v)) < 0) { fprintf(stderr, "fer train: %s: unknown metric '%s'\n", a, v); goto done; }
    }
    else if (!strcmp(a, "--early-stop")) TRAINER_KEY(FER_TRAIN_EARLY_STOP_PATIENCE);
    else if (!strcmp(a, "--restore-best")) fer_trainer_set(tr, FER_TRAIN_RESTORE_BEST, 1);
    else if (!strcmp(a, "--label-smoothing")) TRAINER_KEY(FER_TRAIN_LABEL_SMOOTHING);
    else if (!strcmp(a, "--balanced")) fer_trainer_set(tr, FER_TRAIN_BALANCED_WEIGHTS, 1);
    else if (!strcmp(a, "--mixup")) TRAINER_KEY(FER_TRAIN_MIXUP);
    else if (!strcmp(a, "--distill-weight")) TRAINER_KEY(FER_TRAIN_DISTILL_WEIGHT);
    else if (!strcmp(a, "--temperature")) TRAINER_KEY(FER_TRAIN_DISTILL_TEMPERATURE);
    else if (!strcmp(a, "--teacher")) { NEED_VALUE(); o.teacher = v; }
    else if (!strcmp(a, "--flip") || !strcmp(a, "--shift") || !strcmp(a, "--rotate") ||
             !strcmp(a, "--zoom") || !strcmp(a, "--erase") || !strcmp(a, "--aug") ||
             !strcmp(a, "--set")) { NEED_VALUE(); } /* second pass */
    else if (!strcmp(a, "--out")) { NEED_VALUE(); o.out = v; }
    else if (!strcmp(a, "--float16")) o.float16 = 1;
    else if (!strcmp(a, "--state")) { NEED_VALUE(); o.state = v; }
    else if (!strcmp(a, "--history")) { NEED_VALUE(); o.history = v; }
    else if (!strcmp(a, "--curves")) { NEED_VALUE(); o.curves = v; }
    else if (!strcmp(a, "--quiet")) o.quiet = 1;
    else if (a[0] == '-' && a[1]) { fprintf(stderr, "fer train: unknown option %s (see --help)\n", a); goto done; }
    else if (!o.data) o.data = a;
    else { fprintf(stderr, "fer train: more than one DATA (%s)\n", a); goto done; }
  }
  if (!o.data) { fprintf(stderr, "fer train: no DATA given (see --help)\n"); goto done; }
  fer_augment_free(aug);
  aug = NULL;
  if (fer_augment_create((uint64_t)o.seed, &aug)) goto done;
  for (int i = 1; i + 1 < argc; i++) {
    const char *a = argv[i], *v = argv[i + 1];
    double x;
    struct { const char *option; fer_augment_param prob, amount; } simple[] = {
        {"--flip", FER_AUG_FLIP_PROB, 0}, {"--shift", FER_AUG_SHIFT_PROB, FER_AUG_SHIFT_MAX},
        {"--rotate", FER_AUG_ROTATE_PROB, FER_AUG_ROTATE_DEGREES},
        {"--zoom", FER_AUG_ZOOM_PROB, 0}, {"--erase", FER_AUG_ERASE_PROB, 0}};
    for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++) {
      if (strcmp(a, simple[k].option)) continue;
      if (!cli_parse_double(v, &x)) { fprintf(stderr, "fer train: %s: '%s' is not a number\n", a, v); goto done; }
      fer_status st;
      if (simple[k].prob == FER_AUG_ZOOM_PROB) {
        st = fer_augment_set(aug, FER_AUG_ZOOM_PROB, 0.5);
        if (!st) st = fer_augment_set(aug, FER_AUG_ZOOM_MIN, 1 - x);
        if (!st) st = fer_augment_set(aug, FER_AUG_ZOOM_MAX, 1 + x);
      } else if (simple[k].amount) {
        st = fer_augment_set(aug, simple[k].prob, 0.5);
        if (!st) st = fer_augment_set(aug, simple[k].amount, x);
      } else {
        st = fer_augment_set(aug, simple[k].prob, x);
      }
      if (st) { fprintf(stderr, "fer train: %s: %s\n", a, fer_last_error()); goto done; }
    }
    if (!strcmp(a, "--aug") && !set_named(v, 1, tr, aug)) goto done;
    if (!strcmp(a, "--set") && !set_named(v, 0, tr, aug)) goto done;
    if (a[0] == '-' && strcmp(a, "--nesterov") && strcmp(a, "--no-val") &&
        strcmp(a, "--quiet") && strcmp(a, "--float16") && strcmp(a, "--balanced") &&
        strcmp(a, "--restore-best") && strcmp(a, "--standardize"))
      i++; /* skip the value */
  }
  if (o.init_seed < 0) o.init_seed = o.seed;
  if (!writer) o.quiet = 1;
  if (plateau_monitor >= 0) fer_trainer_set(tr, FER_TRAIN_PLATEAU_MONITOR, plateau_monitor);

  fer_optimizer_kind kind = !strcmp(o.optimizer, "adam") ? FER_OPTIMIZER_ADAM
                            : !strcmp(o.optimizer, "adamw") ? FER_OPTIMIZER_ADAMW
                            : !strcmp(o.optimizer, "sgd") ? FER_OPTIMIZER_SGD : 0;
  if (!kind) { fprintf(stderr, "fer train: unknown optimizer '%s'\n", o.optimizer); goto done; }
  fer_schedule_kind skind = !strcmp(o.schedule, "cosine") ? FER_SCHEDULE_COSINE
                            : !strcmp(o.schedule, "step") ? FER_SCHEDULE_STEP : 0;
  if (!skind && strcmp(o.schedule, "none")) { fprintf(stderr, "fer train: unknown schedule '%s'\n", o.schedule); goto done; }

  fer_optimizer *opt = NULL;
  fer_schedule *sched = NULL;
  fer_model *model = NULL, *teacher = NULL;
  fer_dataset *train = NULL, *val = NULL;
  rc = CLI_FAILURE;
  fer_status st = fer_optimizer_create(kind, &opt);
  if (!st) st = fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, o.lr);
  if (!st && momentum >= 0) st = fer_optimizer_set(opt, FER_OPT_MOMENTUM, momentum);
  if (!st && nesterov) st = fer_optimizer_set(opt, FER_OPT_NESTEROV, 1);
  if (!st && weight_decay >= 0) st = fer_optimizer_set(opt, FER_OPT_WEIGHT_DECAY, weight_decay);
  if (!st && clip >= 0) st = fer_optimizer_set(opt, FER_OPT_CLIP_NORM, clip);
  double epochs;
  fer_trainer_get(tr, FER_TRAIN_EPOCHS, &epochs);
  if (!st && skind) {
    st = fer_schedule_create(skind, &sched);
    if (!st && skind == FER_SCHEDULE_COSINE) st = fer_schedule_set(sched, FER_SCHED_T_MAX, epochs);
    if (!st) st = fer_trainer_set_schedule(tr, sched);
  }
  if (st) { fprintf(stderr, "fer train: %s\n", fer_last_error()); rc = CLI_USAGE; goto cleanup; }
  if (!(model = build_model(&o))) goto cleanup;
  if (o.teacher) {
    if (fer_model_load(o.teacher, &teacher)) {
      fprintf(stderr, "fer train: --teacher %s: %s\n", o.teacher, fer_last_error());
      goto cleanup;
    }
    fer_trainer_set_teacher(tr, teacher);
  }
  if (!(train = cli_load_dataset(o.data, (fer_usage)o.usage))) goto cleanup;
  if (!set_normalization(&o, model, train)) goto cleanup;
  if (o.val) {
    if (!(val = cli_load_dataset(o.val, (fer_usage)o.val_usage))) goto cleanup;
  } else if (!o.no_val && fer_dataset_count(train) > 0) {
    const char *dot = strrchr(o.data, '.');
    int is_csv = dot && (!strcmp(dot, ".csv") || !strcmp(dot, ".gz"));
    if (is_csv && o.usage != o.val_usage &&
        !(val = cli_load_dataset(o.data, (fer_usage)o.val_usage)))
      goto cleanup;
  }
  fer_trainer_set_optimizer(tr, opt);
  fer_trainer_set_augment(tr, aug);
  if (o.state) fer_trainer_set_path(tr, FER_TRAIN_PATH_STATE, o.state);
  if (o.history) fer_trainer_set_path(tr, FER_TRAIN_PATH_HISTORY, o.history);
  if (val) fer_trainer_set_path(tr, FER_TRAIN_PATH_CHECKPOINT, o.out);
  cli_progress progress = {.quiet = o.quiet, .terminal = isatty(2)};
  fer_trainer_set_callback(tr, cli_progress_callback, &progress);
  if (!o.quiet) {
    long trainable = 0;
    fer_model_num_params(model, &trainable, NULL);
    fprintf(stderr, "fer train: %zu training images, %zu validation, %ld "
            "parameters, %.1f MFLOP/image forward\n", fer_dataset_count(train),
            fer_dataset_count(val), trainable, fer_model_flops(model) / 1e6);
  }
  if (hooks && hooks->before_fit && hooks->before_fit(hooks->user, tr, model)) goto cleanup;
  st = fer_trainer_fit(tr, model, train, val);
  if (st) {
    fprintf(stderr, "fer train: %s\n", fer_last_error());
    goto cleanup;
  }
  if (!writer) {
    rc = CLI_OK;
    goto cleanup;
  }
  if (o.curves && !write_curves(tr, o.curves)) goto cleanup;
  if (val) {
    /* --out holds the best checkpoint; store it as asked (float16). */
    fer_model *best = NULL;
    double best_acc;
    int best_epoch = fer_trainer_best_epoch(tr, &best_acc);
    if (o.float16 && !fer_model_load(o.out, &best)) {
      st = fer_model_save(best, o.out, FER_SAVE_FLOAT16);
      fer_model_free(best);
    }
    if (!o.quiet)
      fprintf(stderr, "fer train: best epoch %d (%s %.4f) saved to %s\n",
              best_epoch, "val_acc", best_acc, o.out);
  } else {
    st = fer_model_save(model, o.out, o.float16 ? FER_SAVE_FLOAT16 : FER_SAVE_DEFAULT);
  }
  if (st) { fprintf(stderr, "fer train: %s\n", fer_last_error()); goto cleanup; }
  rc = CLI_OK;
cleanup:
  fer_dataset_free(train);
  fer_dataset_free(val);
  fer_model_free(model);
  fer_model_free(teacher);
  fer_schedule_free(sched);
  fer_optimizer_free(opt);
done:
  fer_augment_free(aug);
  fer_trainer_free(tr);
  return rc;
}
