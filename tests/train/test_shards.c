/* Data-parallel fit (fer_trainer_set_allreduce, FER_TRAIN_SHARD_*) without
 * MPI: R threads, each with its own model and trainer, stand for R
 * processes; their all-reduce sums in shared memory behind a barrier, in
 * process order, so every thread gets the same sums.
 *
 * What is compared: a net without batch norm or dropout, trained by 2
 * processes x batch 16 and by 1 process x batch 32 (no all-reduce, the
 * plain fit loop), with shuffling and flips on. Their parameters must agree
 * within 1e-6 of the largest parameter after 3 epochs (12 Adam steps; the
 * two differ only in the order float sums are taken). Also: 4 processes x
 * batch 8; a state written by 2 processes resumed by 1 (and the result
 * compared with an uninterrupted run); only process 0 writes files; the
 * history agrees; batch norm runs and its statistics are the same on every
 * process; bad shard settings. */
#include <pthread.h>
#include <unistd.h>

#include "nn/nn_test_util.h"

enum { SAMPLES = 128, SIDE = 10, CLASSES = 4, MAX_SHARDS = 4 };

static const char plain_arch[] =
    "input 1x10x10\nconv 4 3x3 same\nrelu\nmax 2x2/2\nflatten\ndense 16\ntanh\n"
    "dense 4\nsoftmax\n";
static const char bn_arch[] =
    "input 1x10x10\nconv 4 3x3 same nobias\nbn\nrelu\nmax 2x2/2\nflatten\n"
    "dense 4\nsoftmax\n";

/* A data set whose label is the brightest quadrant, plus noise. */
static fer_dataset *make_data(size_t count, uint64_t seed) {
  uint8_t *pixels = malloc(count * SIDE * SIDE);
  int32_t *labels = malloc(count * sizeof *labels);
  uint64_t s = seed;
  for (size_t i = 0; i < count; i++) {
    int label = (int)(tu_uniform(&s) * CLASSES);
    labels[i] = label;
    for (int y = 0; y < SIDE; y++)
      for (int x = 0; x < SIDE; x++) {
        int quadrant = (y >= SIDE / 2) * 2 + (x >= SIDE / 2);
        double v = 60 + 120 * tu_uniform(&s) + (quadrant == label ? 70 : 0);
        pixels[i * SIDE * SIDE + (size_t)(y * SIDE + x)] = (uint8_t)(v > 255 ? 255 : v);
      }
  }
  fer_dataset *ds = NULL;
  CHECK_OK(fer_dataset_from_u8(pixels, labels, count, 1, SIDE, SIDE, NULL, CLASSES, &ds));
  free(pixels);
  free(labels);
  return ds;
}

/* ---- The in-process "communicator". ---- */
typedef struct group {
  int size;
  pthread_barrier_t barrier;
  float *floats[MAX_SHARDS];
  double *doubles[MAX_SHARDS];
  long calls[MAX_SHARDS];
} group;

typedef struct shard {
  group *g;
  int rank;
  float *tmp_f;
  double tmp_d[64];
  size_t tmp_capacity;
} shard;

static int sum_over_group(void *user, float *floats, size_t nf, double *doubles, size_t nd) {
  shard *me = user;
  group *g = me->g;
  if (nd > 64) return 1;
  if (nf > me->tmp_capacity) {
    float *grown = realloc(me->tmp_f, nf * sizeof *grown);
    if (!grown) return 2;
    me->tmp_f = grown;
    me->tmp_capacity = nf;
  }
  g->floats[me->rank] = floats;
  g->doubles[me->rank] = doubles;
  g->calls[me->rank]++;
  pthread_barrier_wait(&g->barrier);
  for (size_t i = 0; i < nf; i++) {
    float sum = 0.0f;
    for (int r = 0; r < g->size; r++) sum += g->floats[r][i];
    me->tmp_f[i] = sum;
  }
  for (size_t i = 0; i < nd; i++) {
    double sum = 0.0;
    for (int r = 0; r < g->size; r++) sum += g->doubles[r][i];
    me->tmp_d[i] = sum;
  }
  pthread_barrier_wait(&g->barrier); /* everyone has read everyone */
  if (nf) memcpy(floats, me->tmp_f, nf * sizeof *floats);
  if (nd) memcpy(doubles, me->tmp_d, nd * sizeof *doubles);
  return 0;
}

typedef struct run_args {
  const char *arch;
  const fer_dataset *train, *val;
  int shards, rank, batch, epochs, use_allreduce;
  const char *state, *history;
  group *g;
  /* Results. */
  fer_status status;
  float *params, *stats;
  size_t num_params, num_stats;
  double last_row[FER_TRAIN_METRIC_COUNT];
  int history_count;
} run_args;

static void *run(void *arg) {
  run_args *a = arg;
  fer_model *m = NULL;
  fer_trainer *tr = NULL;
  fer_augment *aug = NULL;
  shard me = {.g = a->g, .rank = a->rank};
  a->status = fer_model_from_text(a->arch, &m);
  if (!a->status) a->status = fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 21);
  if (!a->status) a->status = fer_trainer_create(&tr);
  if (!a->status) a->status = fer_augment_create(3, &aug);
  if (!a->status) a->status = fer_augment_set(aug, FER_AUG_FLIP_PROB, 0.5);
  if (!a->status) {
    fer_trainer_set(tr, FER_TRAIN_EPOCHS, a->epochs);
    fer_trainer_set(tr, FER_TRAIN_BATCH_SIZE, a->batch);
    fer_trainer_set(tr, FER_TRAIN_SEED, 8);
    fer_trainer_set(tr, FER_TRAIN_EVAL_BATCH_SIZE, 20);
    fer_trainer_set_augment(tr, aug);
    if (a->state) fer_trainer_set_path(tr, FER_TRAIN_PATH_STATE, a->state);
    if (a->history) fer_trainer_set_path(tr, FER_TRAIN_PATH_HISTORY, a->history);
    if (a->use_allreduce) {
      fer_trainer_set(tr, FER_TRAIN_SHARD_COUNT, a->shards);
      fer_trainer_set(tr, FER_TRAIN_SHARD_INDEX, a->rank);
      fer_trainer_set_allreduce(tr, sum_over_group, &me);
    }
    a->status = fer_trainer_fit(tr, m, a->train, a->val);
    if (a->status) fprintf(stderr, "shard %d: %s\n", a->rank, fer_last_error());
  }
  if (!a->status) {
    long t = 0, s = 0;
    fer_model_num_params(m, &t, &s);
    a->num_params = (size_t)t;
    a->num_stats = (size_t)s;
    a->params = tu_alloc(a->num_params);
    a->stats = tu_alloc(a->num_stats);
    fer_model_get_parameters(m, a->params, a->num_params, NULL);
    fer_model_get_statistics(m, a->stats, a->num_stats, NULL);
    a->history_count = fer_trainer_history_count(tr);
    if (a->history_count)
      fer_trainer_history_get(tr, a->history_count - 1, a->last_row, FER_TRAIN_METRIC_COUNT);
  }
  free(me.tmp_f);
  fer_augment_free(aug);
  fer_trainer_free(tr);
  fer_model_free(m);
  return NULL;
}

/* Runs `shards` threads (or, with use_allreduce 0, the plain fit on this
 * thread) and leaves each one's results in out[]. */
static void fit_group(const char *arch, const fer_dataset *train, const fer_dataset *val,
                      int shards, int batch, int epochs, int use_allreduce,
                      const char *state, const char *history, run_args *out) {
  group g = {.size = shards};
  pthread_barrier_init(&g.barrier, NULL, (unsigned)shards);
  pthread_t threads[MAX_SHARDS];
  for (int r = 0; r < shards; r++) {
    out[r] = (run_args){.arch = arch, .train = train, .val = val, .shards = shards,
                        .rank = r, .batch = batch, .epochs = epochs,
                        .use_allreduce = use_allreduce, .state = state,
                        .history = history, .g = &g};
    if (shards == 1) run(&out[0]);
    else pthread_create(&threads[r], NULL, run, &out[r]);
  }
  if (shards > 1)
    for (int r = 0; r < shards; r++) pthread_join(threads[r], NULL);
  for (int r = 1; r < shards; r++) CHECK_EQ_INT(g.calls[r], g.calls[0]);
  pthread_barrier_destroy(&g.barrier);
}

static void release(run_args *a, int n) {
  for (int i = 0; i < n; i++) {
    free(a[i].params);
    free(a[i].stats);
  }
}

static double relative_diff(const run_args *a, const run_args *b) {
  if (a->status || b->status || a->num_params != b->num_params || !a->num_params)
    return INFINITY;
  double worst = 0, big = 0;
  for (size_t i = 0; i < a->num_params; i++) {
    double d = fabs((double)a->params[i] - b->params[i]);
    if (!(d <= worst)) worst = d;
    if (fabs(a->params[i]) > big) big = fabs(a->params[i]);
  }
  return worst / big;
}

static void test_two_shards_follow_one_process(void) {
  fer_dataset *train = make_data(SAMPLES, 1), *val = make_data(40, 2);
  run_args one[1], two[2], four[4];
  fit_group(plain_arch, train, val, 1, 32, 3, 0, NULL, NULL, one);
  fit_group(plain_arch, train, val, 2, 16, 3, 1, NULL, NULL, two);
  fit_group(plain_arch, train, val, 4, 8, 3, 1, NULL, NULL, four);
  CHECK_OK(one[0].status);
  double d2 = relative_diff(&one[0], &two[0]), d4 = relative_diff(&one[0], &four[0]);
  CHECK_MSG(d2 < 1e-6, "2 x 16 against 1 x 32: relative difference %g", d2);
  CHECK_MSG(d4 < 1e-6, "4 x 8 against 1 x 32: relative difference %g", d4);
  /* The processes agree exactly, and so do their histories. */
  CHECK(relative_diff(&two[0], &two[1]) == 0.0);
  CHECK(relative_diff(&four[0], &four[3]) == 0.0);
  CHECK_EQ_INT(two[1].history_count, 3);
  CHECK(memcmp(two[0].last_row, two[1].last_row, sizeof two[0].last_row) == 0);
  /* The history's metrics are those of the whole set. */
  CHECK_NEAR(two[0].last_row[FER_METRIC_IMAGES], SAMPLES, 0);
  CHECK_NEAR(two[0].last_row[FER_METRIC_LOSS], one[0].last_row[FER_METRIC_LOSS], 1e-4);
  CHECK_NEAR(two[0].last_row[FER_METRIC_VAL_LOSS], one[0].last_row[FER_METRIC_VAL_LOSS], 1e-4);
  CHECK_NEAR(two[0].last_row[FER_METRIC_VAL_ACCURACY],
             one[0].last_row[FER_METRIC_VAL_ACCURACY], 1e-9);
  /* The test can fail: a different global batch gives other weights. */
  run_args other[2];
  fit_group(plain_arch, train, val, 2, 32, 3, 1, NULL, NULL, other);
  double d_other = relative_diff(&one[0], &other[0]);
  CHECK_MSG(d_other > 1e-3, "2 x 32 against 1 x 32 should differ: %g", d_other);
  release(one, 1);
  release(two, 2);
  release(four, 4);
  release(other, 2);
  fer_dataset_free(train);
  fer_dataset_free(val);
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

/* A state written by 2 processes is resumed by 1 (a job restarted on
 * another number of ranks); only process 0 writes. */
static void test_resume_on_another_count(void) {
  fer_dataset *train = make_data(SAMPLES, 5);
  char state[64], history[64];
  snprintf(state, sizeof state, "shards-%ld.state", (long)getpid());
  snprintf(history, sizeof history, "shards-%ld.csv", (long)getpid());
  remove(state);
  remove(history);
  run_args straight[1], first[2], rest[1];
  fit_group(plain_arch, train, NULL, 1, 32, 3, 0, NULL, NULL, straight);
  fit_group(plain_arch, train, NULL, 2, 16, 2, 1, state, history, first);
  CHECK_OK(first[0].status);
  CHECK(file_exists(state) && file_exists(history));
  fit_group(plain_arch, train, NULL, 1, 32, 3, 1, state, history, rest);
  CHECK_OK(rest[0].status);
  CHECK_EQ_INT(rest[0].history_count, 3);
  double d = relative_diff(&straight[0], &rest[0]);
  CHECK_MSG(d < 1e-6, "2 epochs on 2 + 1 on 1 against 3 on 1: relative difference %g", d);
  FILE *f = fopen(history, "r");
  int lines = 0;
  for (int c; f && (c = fgetc(f)) != EOF;) lines += c == '\n';
  if (f) fclose(f);
  CHECK_EQ_INT(lines, 4); /* header + 3 epochs */
  remove(state);
  remove(history);
  release(straight, 1);
  release(first, 2);
  release(rest, 1);
  fer_dataset_free(train);
}

/* Batch norm: ghost batches, so no equality with one process, but the
 * running statistics are averaged and the same everywhere. */
static void test_batch_norm(void) {
  fer_dataset *train = make_data(SAMPLES, 7);
  run_args two[2];
  fit_group(bn_arch, train, NULL, 2, 16, 2, 1, NULL, NULL, two);
  CHECK_OK(two[0].status);
  CHECK_OK(two[1].status);
  CHECK_EQ_INT(two[0].num_stats, 8);
  CHECK(two[0].num_stats == two[1].num_stats &&
        memcmp(two[0].stats, two[1].stats, two[0].num_stats * sizeof(float)) == 0);
  CHECK(relative_diff(&two[0], &two[1]) == 0.0);
  int moved = 0;
  for (size_t i = 0; i < two[0].num_stats; i++) moved += two[0].stats[i] != (i < 4 ? 0.0f : 1.0f);
  CHECK(moved == 8);
  release(two, 2);
  fer_dataset_free(train);
}

static int refuse(void *user, float *f, size_t nf, double *d, size_t nd) {
  (void)user, (void)f, (void)nf, (void)d, (void)nd;
  return 7;
}

static void test_bad_settings(void) {
  fer_dataset *train = make_data(8, 9);
  fer_model *m = NULL;
  fer_trainer *tr = NULL;
  CHECK_OK(fer_model_from_text(plain_arch, &m));
  CHECK_OK(fer_trainer_create(&tr));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_EPOCHS, 1));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_SHARD_COUNT, 2));
  CHECK_STATUS(fer_trainer_fit(tr, m, train, NULL), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("all-reduce");
  CHECK_OK(fer_trainer_set_allreduce(tr, refuse, NULL));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_SHARD_INDEX, 2));
  CHECK_STATUS(fer_trainer_fit(tr, m, train, NULL), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("shard_index 2");
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_SHARD_INDEX, 1));
  CHECK_STATUS(fer_trainer_fit(tr, m, train, NULL), FER_ERR_CANCELLED);
  CHECK_MESSAGE_CONTAINS("returned 7");
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_SHARD_COUNT, 9));
  CHECK_STATUS(fer_trainer_fit(tr, m, train, NULL), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("8 training samples");
  CHECK_STATUS(fer_trainer_set(tr, FER_TRAIN_SHARD_COUNT, 0), FER_ERR_INVALID_ARGUMENT);
  fer_train_param key;
  CHECK_OK(fer_trainer_param_find("shard_count", &key));
  CHECK_EQ_INT(key, FER_TRAIN_SHARD_COUNT);
  CHECK_STATUS(fer_trainer_set_allreduce(NULL, refuse, NULL), FER_ERR_MISUSE);
  fer_trainer_free(tr);
  fer_model_free(m);
  fer_dataset_free(train);
}

int main(void) {
  fer_set_num_threads(1);
  RUN(test_two_shards_follow_one_process);
  RUN(test_resume_on_another_count);
  RUN(test_batch_norm);
  RUN(test_bad_settings);
  return harness_finish();
}
