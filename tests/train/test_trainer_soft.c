/* The fit loop's soft targets (include/fer/train.h, "Soft targets"):
 *  - mixup's draw: lambda follows Beta(alpha, alpha) (mean 1/2, variance
 *    1 / (4 (2 alpha + 1)), uniform quartiles for alpha = 1) and the
 *    permutation is one, a function of (seed, epoch, batch, shard) only;
 *  - fit with mixup, label smoothing and class weights equals a loop
 *    written here from the definition (batches from fer_epoch_order and
 *    fer_dataset_make_batch, the mix and the targets computed here, steps
 *    with fer_model_train_step_soft), bit for bit;
 *  - fit with a teacher equals such a loop with the tempered teacher
 *    targets computed here as p^(1/T) / sum p^(1/T) (with pow: the library
 *    uses exp and log, so up to float rounding: 1e-5 relative; a wrong T
 *    is off by far more, checked too);
 *  - a student distilled with weight 1 moves toward its teacher: the
 *    cross-entropy from the teacher's outputs to the student's falls;
 *  - the settings' bounds and the teacher's shape check. */
#include "test_trainer_util.h"
#include "train/trainer_internal.h"

enum { CLASSES = 3, BATCH = 16, EPOCHS = 2, SEED = 42 };

static fer_dataset *train_set;

static void test_mixup_draw(void) {
  const double alphas[3] = {0.2, 1.0, 4.0};
  enum { DRAWS = 4000 };
  for (int a = 0; a < 3; a++) {
    double sum = 0, sum2 = 0;
    int low = 0;
    for (int d = 0; d < DRAWS; d++) {
      double lambda;
      uint32_t perm[4];
      fer__mixup_draw(7, (uint32_t)(d / 100), (uint64_t)(d % 100), 0, alphas[a], 4,
                      &lambda, perm);
      CHECK(lambda >= 0.0 && lambda <= 1.0);
      sum += lambda;
      sum2 += lambda * lambda;
      low += lambda < 0.25;
    }
    double mean = sum / DRAWS, var = sum2 / DRAWS - mean * mean;
    double want_var = 1.0 / (4.0 * (2.0 * alphas[a] + 1.0));
    CHECK_MSG(fabs(mean - 0.5) < 4.0 * sqrt(want_var / DRAWS),
              "alpha %g: mean %g", alphas[a], mean);
    CHECK_MSG(fabs(var - want_var) < 0.1 * want_var, "alpha %g: variance %g, "
              "want %g", alphas[a], var, want_var);
    if (alphas[a] == 1.0)
      CHECK_MSG(fabs(low / (double)DRAWS - 0.25) < 0.03, "alpha 1: %d of %d below 1/4",
                low, DRAWS);
  }
  /* A permutation, the same for the same coordinates, others elsewhere. */
  uint32_t p1[BATCH], p2[BATCH];
  double l1, l2;
  fer__mixup_draw(1, 2, 3, 0, 0.4, BATCH, &l1, p1);
  fer__mixup_draw(1, 2, 3, 0, 0.4, BATCH, &l2, p2);
  CHECK(l1 == l2 && memcmp(p1, p2, sizeof p1) == 0);
  int seen[BATCH] = {0}, moved = 0;
  for (int i = 0; i < BATCH; i++) {
    CHECK(p1[i] < BATCH);
    if (p1[i] < BATCH) seen[p1[i]]++;
    moved += p1[i] != (uint32_t)i;
  }
  for (int i = 0; i < BATCH; i++) CHECK_EQ_INT(seen[i], 1);
  CHECK(moved > 0);
  const uint64_t other[4][4] = {{2, 2, 3, 0}, {1, 3, 3, 0}, {1, 2, 4, 0}, {1, 2, 3, 1}};
  for (int o = 0; o < 4; o++) {
    fer__mixup_draw(other[o][0], (uint32_t)other[o][1], other[o][2],
                    (uint32_t)other[o][3], 0.4, BATCH, &l2, p2);
    CHECK_MSG(l1 != l2, "coordinate set %d draws the same lambda", o);
  }
}

/* A model without dropout or batch norm for the reference loops (their
 * generator and statistics would be the same anyway; this keeps the
 * comparison about the targets). */
static fer_model *plain_model(uint64_t seed, int hidden) {
  char arch[160];
  snprintf(arch, sizeof arch, "input 1x8x8\nconv %d 3x3 same\ntanh\navg 2x2/2\n"
           "flatten\ndense 3\nsoftmax\n", hidden);
  fer_model *m = NULL;
  if (fer_model_from_text(arch, &m)) return NULL;
  fer_model_init_weights(m, FER_INIT_GLOROT_UNIFORM, seed);
  return m;
}

static fer_trainer *soft_trainer(fer_optimizer *opt) {
  fer_trainer *tr = toy_trainer(EPOCHS, SEED);
  fer_trainer_set(tr, FER_TRAIN_BATCH_SIZE, BATCH);
  fer_trainer_set(tr, FER_TRAIN_LABEL_SMOOTHING, 0.1);
  fer_trainer_set_optimizer(tr, opt);
  return tr;
}

static fer_optimizer *sgd(void) {
  fer_optimizer *opt = NULL;
  fer_optimizer_create(FER_OPTIMIZER_SGD, &opt);
  fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, 0.1);
  return opt;
}

/* The reference: EPOCHS epochs of the definition in include/fer/train.h,
 * with class weights `cw` (may be NULL), mixup alpha (0: off) and a
 * teacher (NULL: none) of weight w and temperature T. */
static void reference_fit(fer_model *m, const float *cw, double alpha,
                          const fer_model *teacher, double w, double T) {
  const size_t n = fer_dataset_count(train_set);
  const double s = 0.1;
  fer_optimizer *opt = sgd();
  uint32_t order[256];
  float x[BATCH * 64], copy[BATCH * 64], t[BATCH * CLASSES], tcopy[BATCH * CLASSES];
  float v[BATCH], vcopy[BATCH], p[BATCH * CLASSES];
  int32_t labels[BATCH];
  CHECK(n <= 256);
  fer_model_set_seed(m, SEED);
  for (uint32_t epoch = 0; epoch < EPOCHS; epoch++) {
    CHECK_OK(fer_epoch_order(n, SEED, epoch, order));
    for (size_t start = 0, b = 0; start < n; start += BATCH, b++) {
      int count = (int)(n - start < BATCH ? n - start : BATCH);
      CHECK_OK(fer_dataset_make_batch(train_set, NULL, epoch, order + start,
                                      (size_t)count, 1.0f / 255.0f, x,
                                      sizeof x / sizeof *x, labels));
      for (int i = 0; i < count; i++) {
        for (int k = 0; k < CLASSES; k++)
          t[i * CLASSES + k] = (float)((1.0 - s) * (k == labels[i]) + s / CLASSES);
        v[i] = cw ? cw[labels[i]] : 1.0f;
      }
      if (alpha > 0) {
        double lambda;
        uint32_t perm[BATCH];
        fer__mixup_draw(SEED, epoch, b, 0, alpha, count, &lambda, perm);
        memcpy(copy, x, sizeof x);
        memcpy(tcopy, t, sizeof t);
        memcpy(vcopy, v, sizeof v);
        for (int i = 0; i < count; i++) {
          int j = (int)perm[i];
          for (int e = 0; e < 64; e++)
            x[i * 64 + e] = (float)(lambda * copy[i * 64 + e] + (1 - lambda) * copy[j * 64 + e]);
          for (int k = 0; k < CLASSES; k++)
            t[i * CLASSES + k] = (float)(lambda * tcopy[i * CLASSES + k] +
                                         (1 - lambda) * tcopy[j * CLASSES + k]);
          v[i] = (float)(lambda * vcopy[i] + (1 - lambda) * vcopy[j]);
        }
      }
      if (teacher) {
        CHECK_OK(fer_model_predict(teacher, x, count, p));
        for (int i = 0; i < count; i++) {
          double q[CLASSES], sum = 0;
          for (int k = 0; k < CLASSES; k++) sum += q[k] = pow(p[i * CLASSES + k], 1.0 / T);
          for (int k = 0; k < CLASSES; k++)
            t[i * CLASSES + k] = (float)((1 - w) * t[i * CLASSES + k] + w * q[k] / sum);
        }
      }
      CHECK_OK(fer_model_train_step_soft(m, opt, x, t, (size_t)count * CLASSES,
                                         cw ? v : NULL, count, NULL, NULL));
    }
  }
  fer_optimizer_free(opt);
}

/* Largest parameter difference relative to the largest parameter. */
static double relative_diff(const fer_model *a, const fer_model *b) {
  float pa[2048], pb[2048];
  size_t na = 0;
  CHECK_OK(fer_model_get_parameters(a, pa, 2048, &na));
  CHECK_OK(fer_model_get_parameters(b, pb, 2048, NULL));
  double worst = 0, big = 0;
  for (size_t i = 0; i < na; i++) {
    double d = fabs((double)pa[i] - pb[i]);
    if (!(d <= worst)) worst = d;
    if (fabs(pa[i]) > big) big = fabs(pa[i]);
  }
  return worst / big;
}

static void test_mixup_fit_is_the_definition(void) {
  static const float cw[CLASSES] = {0.5f, 2.0f, 1.0f};
  for (int weighted = 0; weighted < 2; weighted++) {
    fer_optimizer *opt = sgd();
    fer_trainer *tr = soft_trainer(opt);
    CHECK_OK(fer_trainer_set(tr, FER_TRAIN_MIXUP, 0.4));
    if (weighted) CHECK_OK(fer_trainer_set_class_weights(tr, cw, CLASSES));
    fer_model *fitted = plain_model(3, 4), *ref = plain_model(3, 4), *plain = plain_model(3, 4);
    CHECK_OK(fer_trainer_fit(tr, fitted, train_set, NULL));
    reference_fit(ref, weighted ? cw : NULL, 0.4, NULL, 0, 1);
    CHECK_MSG(same_weights(fitted, ref), "%s: fit with mixup is not the reference "
              "(relative difference %g)", weighted ? "class weights" : "no weights",
              relative_diff(fitted, ref));
    /* Mixup changes the result: the comparison can fail. */
    reference_fit(plain, weighted ? cw : NULL, 0, NULL, 0, 1);
    CHECK(relative_diff(fitted, plain) > 1e-3);
    fer_model_free(fitted);
    fer_model_free(ref);
    fer_model_free(plain);
    fer_trainer_free(tr);
    fer_optimizer_free(opt);
  }
}

static void test_distill_fit_is_the_definition(void) {
  fer_model *teacher = plain_model(11, 6);
  const double T = 2.5, w = 0.7;
  for (int mix = 0; mix < 2; mix++) {
    fer_optimizer *opt = sgd();
    fer_trainer *tr = soft_trainer(opt);
    CHECK_OK(fer_trainer_set_teacher(tr, teacher));
    CHECK_OK(fer_trainer_set(tr, FER_TRAIN_DISTILL_WEIGHT, w));
    CHECK_OK(fer_trainer_set(tr, FER_TRAIN_DISTILL_TEMPERATURE, T));
    if (mix) CHECK_OK(fer_trainer_set(tr, FER_TRAIN_MIXUP, 1.0));
    fer_model *fitted = plain_model(3, 4), *ref = plain_model(3, 4), *wrong = plain_model(3, 4);
    CHECK_OK(fer_trainer_fit(tr, fitted, train_set, NULL));
    reference_fit(ref, NULL, mix ? 1.0 : 0, teacher, w, T);
    double d = relative_diff(fitted, ref);
    CHECK_MSG(d < 1e-5, "mixup %d: fit with a teacher differs from the reference by %g",
              mix, d);
    reference_fit(wrong, NULL, mix ? 1.0 : 0, teacher, w, 1.0);
    d = relative_diff(fitted, wrong);
    CHECK_MSG(d > 1e-4, "mixup %d: temperature 1 should differ (%g)", mix, d);
    fer_model_free(fitted);
    fer_model_free(ref);
    fer_model_free(wrong);
    fer_trainer_free(tr);
    fer_optimizer_free(opt);
  }
  fer_model_free(teacher);
}

/* Mean cross-entropy from the teacher's outputs to the student's over the
 * training images. */
static double teacher_to_student(const fer_model *teacher, const fer_model *student) {
  const size_t n = fer_dataset_count(train_set);
  float x[256 * 64], pt[256 * CLASSES], ps[256 * CLASSES];
  uint32_t idx[256];
  int32_t labels[256];
  for (size_t i = 0; i < n; i++) idx[i] = (uint32_t)i;
  CHECK_OK(fer_dataset_make_batch(train_set, NULL, 0, idx, n, 1.0f / 255.0f, x,
                                  sizeof x / sizeof *x, labels));
  CHECK_OK(fer_model_predict(teacher, x, (int)n, pt));
  CHECK_OK(fer_model_predict(student, x, (int)n, ps));
  double ce = 0;
  for (size_t i = 0; i < n * CLASSES; i++) ce -= pt[i] * log((double)ps[i]);
  return ce / (double)n;
}

static void test_student_moves_toward_teacher(void) {
  /* A teacher that disagrees with the labels: only distillation can pull
   * the student toward it. */
  fer_model *teacher = plain_model(29, 6), *student = plain_model(5, 4);
  double entropy = 0;
  {
    fer_model *self = plain_model(29, 6);
    entropy = teacher_to_student(teacher, self); /* the floor: H(teacher) */
    fer_model_free(self);
  }
  double before = teacher_to_student(teacher, student);
  fer_optimizer *opt = sgd();
  fer_trainer *tr = soft_trainer(opt);
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_EPOCHS, 15));
  CHECK_OK(fer_trainer_set_teacher(tr, teacher));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_DISTILL_WEIGHT, 1.0));
  CHECK_OK(fer_trainer_fit(tr, student, train_set, NULL));
  double after = teacher_to_student(teacher, student);
  /* The excess over the floor (the KL divergence) at least halves. */
  CHECK_MSG(after - entropy < 0.5 * (before - entropy), "KL(teacher || student) "
            "%g before, %g after", before - entropy, after - entropy);
  fer_trainer_free(tr);
  fer_optimizer_free(opt);
  fer_model_free(teacher);
  fer_model_free(student);
}

static void test_settings(void) {
  fer_trainer *tr = toy_trainer(1, 0);
  double v = -1;
  CHECK_OK(fer_trainer_get(tr, FER_TRAIN_MIXUP, &v));
  CHECK_NEAR(v, 0, 0);
  CHECK_STATUS(fer_trainer_set(tr, FER_TRAIN_MIXUP, -0.1), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_trainer_set(tr, FER_TRAIN_DISTILL_WEIGHT, 1.5), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_trainer_set(tr, FER_TRAIN_DISTILL_TEMPERATURE, 0), FER_ERR_INVALID_ARGUMENT);
  fer_train_param key;
  CHECK_OK(fer_trainer_param_find("distill_temperature", &key));
  CHECK_EQ_INT(key, FER_TRAIN_DISTILL_TEMPERATURE);
  CHECK_STATUS(fer_trainer_set_teacher(NULL, NULL), FER_ERR_MISUSE);
  /* A teacher with another class count is refused at fit. */
  fer_model *teacher = NULL, *m = plain_model(1, 4);
  CHECK_OK(fer_model_from_text("input 1x8x8\nflatten\ndense 4\nsoftmax\n", &teacher));
  CHECK_OK(fer_trainer_set_teacher(tr, teacher));
  CHECK_STATUS(fer_trainer_fit(tr, m, train_set, NULL), FER_ERR_SHAPE);
  CHECK_MESSAGE_CONTAINS("teacher");
  fer_model_free(teacher);
  fer_model_free(m);
  fer_trainer_free(tr);
}

int main(void) {
  const size_t counts[CLASSES] = {20, 20, 20};
  train_set = toy_dataset(counts, CLASSES, 21);
  fer_set_num_threads(1);
  (void)toy_model; /* the shared helper's; these tests use plain_model */
  RUN(test_mixup_draw);
  RUN(test_mixup_fit_is_the_definition);
  RUN(test_distill_fit_is_the_definition);
  RUN(test_student_moves_toward_teacher);
  RUN(test_settings);
  fer_dataset_free(train_set);
  return harness_finish();
}
