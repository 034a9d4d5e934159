/* Training: optimiser updates against a naive double-precision reference,
 * keyed settings, schedules, determinism, state save/restore, and a small
 * problem that must be learnt. */
#include "nn/nn_test_util.h"
#include "train/optim_internal.h"

/* ---- A softmax regression, whose gradient is easy to write down:
 * z = W x + b, p = softmax(z), dz = w_y (p - q) / sum w, dW = dz x^T. ---- */
enum { IN = 5, K = 3, N = 4 };

typedef struct ref_state {
  double w[K * IN + K]; /* weights then biases, as the model's flat order */
  double m1[K * IN + K], m2[K * IN + K];
  long t;
} ref_state;

static void ref_gradient(const double *w, const float *x, const int32_t *y,
                         double smoothing, const float *cw, double *g) {
  memset(g, 0, sizeof(double) * (K * IN + K));
  double wsum = 0;
  for (int n = 0; n < N; n++) wsum += cw ? cw[y[n]] : 1.0;
  for (int n = 0; n < N; n++) {
    double z[K], mx = -1e300, s = 0;
    for (int k = 0; k < K; k++) {
      z[k] = w[K * IN + k];
      for (int i = 0; i < IN; i++) z[k] += w[k * IN + i] * x[n * IN + i];
      if (z[k] > mx) mx = z[k];
    }
    for (int k = 0; k < K; k++) s += exp(z[k] - mx);
    double wn = cw ? cw[y[n]] : 1.0;
    for (int k = 0; k < K; k++) {
      double p = exp(z[k] - mx) / s;
      double q = (1 - smoothing) * (k == y[n]) + smoothing / K;
      double dz = wn * (p - q) / wsum;
      for (int i = 0; i < IN; i++) g[k * IN + i] += dz * x[n * IN + i];
      g[K * IN + k] += dz;
    }
  }
}

typedef struct opt_case {
  fer_optimizer_kind kind;
  double lr, momentum, nesterov, wd, clip;
  double smoothing;
  int weighted;
} opt_case;

static void ref_step(const opt_case *c, ref_state *s, double *g) {
  const int P = K * IN + K;
  if (c->clip > 0) {
    double sq = 0;
    for (int i = 0; i < P; i++) sq += g[i] * g[i];
    double coef = c->clip / (sqrt(sq) + 1e-6);
    if (coef < 1)
      for (int i = 0; i < P; i++) g[i] *= coef;
  }
  s->t++;
  for (int i = 0; i < P; i++) {
    if (c->kind == FER_OPTIMIZER_SGD) {
      double gi = g[i] + c->wd * s->w[i];
      if (c->momentum > 0) {
        s->m1[i] = c->momentum * s->m1[i] + gi;
        gi = c->nesterov ? gi + c->momentum * s->m1[i] : s->m1[i];
      }
      s->w[i] -= c->lr * gi;
    } else {
      double gi = g[i];
      if (c->kind == FER_OPTIMIZER_ADAMW) s->w[i] *= 1 - c->lr * c->wd;
      else gi += c->wd * s->w[i];
      s->m1[i] = 0.9 * s->m1[i] + 0.1 * gi;
      s->m2[i] = 0.999 * s->m2[i] + 0.001 * gi * gi;
      double mh = s->m1[i] / (1 - pow(0.9, (double)s->t));
      double vh = s->m2[i] / (1 - pow(0.999, (double)s->t));
      s->w[i] -= c->lr * mh / (sqrt(vh) + 1e-8);
    }
  }
}

static void check_optimizer(const opt_case *c) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text("input 5x1x1\ndense 3\nsoftmax\n", &m));
  const float cw[K] = {1.0f, 3.0f, 0.5f};
  if (c->weighted) CHECK_OK(fer_model_set_class_weights(m, cw, K));
  CHECK_OK(fer_model_set_label_smoothing(m, (float)c->smoothing));
  float x[N * IN];
  tu_fill(x, N * IN, 21, -2, 2);
  const int32_t y[N] = {0, 2, 1, 2};
  float w[K * IN], b[K];
  tu_fill(w, K * IN, 22, -1, 1);
  tu_fill(b, K, 23, -1, 1);
  CHECK_OK(fer_model_set_tensor(m, 0, FER_TENSOR_WEIGHT, w, K * IN));
  CHECK_OK(fer_model_set_tensor(m, 0, FER_TENSOR_BIAS, b, K));
  ref_state s;
  memset(&s, 0, sizeof s);
  for (int i = 0; i < K * IN; i++) s.w[i] = w[i];
  for (int k = 0; k < K; k++) s.w[K * IN + k] = b[k];

  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(c->kind, &opt));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, c->lr));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_WEIGHT_DECAY, c->wd));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_CLIP_NORM, c->clip));
  if (c->kind == FER_OPTIMIZER_SGD) {
    CHECK_OK(fer_optimizer_set(opt, FER_OPT_MOMENTUM, c->momentum));
    CHECK_OK(fer_optimizer_set(opt, FER_OPT_NESTEROV, c->nesterov));
  }
  for (int step = 0; step < 5; step++) {
    double g[K * IN + K];
    ref_gradient(s.w, x, y, c->smoothing, c->weighted ? cw : NULL, g);
    ref_step(c, &s, g);
    CHECK_OK(fer_model_train_step(m, opt, x, y, N, NULL, NULL));
  }
  CHECK_OK(fer_model_get_tensor(m, 0, FER_TENSOR_WEIGHT, w, K * IN, NULL));
  CHECK_OK(fer_model_get_tensor(m, 0, FER_TENSOR_BIAS, b, K, NULL));
  double err = 0;
  for (int i = 0; i < K * IN; i++) err = fmax(err, fabs(w[i] - s.w[i]));
  for (int k = 0; k < K; k++) err = fmax(err, fabs(b[k] - s.w[K * IN + k]));
  CHECK_MSG(err < 2e-5, "optimizer %d (momentum %g nesterov %g wd %g clip %g): "
            "error %g", (int)c->kind, c->momentum, c->nesterov, c->wd, c->clip, err);
  CHECK_EQ_INT(fer_optimizer_steps(opt), 5);
  fer_optimizer_free(opt);
  fer_model_free(m);
}

static void test_optimizers(void) {
  static const opt_case cases[] = {
    {FER_OPTIMIZER_SGD, 0.1, 0, 0, 0, 0, 0, 0},
    {FER_OPTIMIZER_SGD, 0.1, 0.9, 0, 0.01, 0, 0.1, 1},
    {FER_OPTIMIZER_SGD, 0.05, 0.9, 1, 0, 0.5, 0, 0},
    {FER_OPTIMIZER_ADAM, 0.01, 0, 0, 0, 0, 0, 0},
    {FER_OPTIMIZER_ADAM, 0.01, 0, 0, 0.05, 0.3, 0.2, 1},
    {FER_OPTIMIZER_ADAMW, 0.01, 0, 0, 0.1, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_optimizer(&cases[i]);
}

static void test_settings(void) {
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAMW, &opt));
  double v = 0;
  CHECK_OK(fer_optimizer_get(opt, FER_OPT_WEIGHT_DECAY, &v));
  CHECK_NEAR(v, 0.01, 0);
  CHECK_OK(fer_optimizer_get(opt, FER_OPT_LEARNING_RATE, &v));
  CHECK_NEAR(v, 1e-3, 0);
  CHECK_STATUS(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, -1), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("learning_rate");
  CHECK_STATUS(fer_optimizer_set(opt, FER_OPT_BETA1, 1.0), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_optimizer_set(opt, (fer_optimizer_param)99, 1.0), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_optimizer_set(NULL, FER_OPT_BETA1, 0.5), FER_ERR_MISUSE);
  const char *name;
  double def, lo, hi;
  CHECK_OK(fer_optimizer_param_info(FER_OPT_BETA2, &name, &def, &lo, &hi));
  CHECK(strcmp(name, "beta2") == 0 && def == 0.999 && lo <= def && def <= hi);
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_BETA2, hi));
  fer_optimizer_free(opt);
  CHECK_STATUS(fer_optimizer_create((fer_optimizer_kind)7, &opt), FER_ERR_INVALID_ARGUMENT);
  CHECK(opt == NULL);
  fer_schedule *s = NULL;
  CHECK_OK(fer_schedule_create(FER_SCHEDULE_PLATEAU, &s));
  CHECK_STATUS(fer_schedule_set(s, FER_SCHED_FACTOR, 2.0), FER_ERR_INVALID_ARGUMENT);
  CHECK_OK(fer_schedule_param_info(FER_SCHED_PATIENCE, &name, &def, &lo, &hi));
  CHECK(strcmp(name, "patience") == 0 && def == 10);
  fer_schedule_free(s);
  fer_optimizer_free(NULL);
  fer_schedule_free(NULL);
}

static void test_schedules(void) {
  fer_optimizer *opt = NULL;
  fer_schedule *s = NULL;
  double lr;
  /* step: 0.1 * 0.5^floor(e/3) after epoch e = 1.. */
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_SGD, &opt));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, 0.1));
  CHECK_OK(fer_schedule_create(FER_SCHEDULE_STEP, &s));
  CHECK_OK(fer_schedule_set(s, FER_SCHED_STEP_SIZE, 3));
  CHECK_OK(fer_schedule_set(s, FER_SCHED_GAMMA, 0.5));
  for (int e = 1; e <= 7; e++) {
    CHECK_OK(fer_schedule_step(s, opt, 0.0));
    fer_optimizer_get(opt, FER_OPT_LEARNING_RATE, &lr);
    CHECK_NEAR(lr, 0.1 * pow(0.5, e / 3), 1e-12);
  }
  fer_schedule_free(s);
  /* cosine from 0.1 to 0.01 over 4 epochs, then flat */
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, 0.1));
  CHECK_OK(fer_schedule_create(FER_SCHEDULE_COSINE, &s));
  CHECK_OK(fer_schedule_set(s, FER_SCHED_T_MAX, 4));
  CHECK_OK(fer_schedule_set(s, FER_SCHED_MIN_LR, 0.01));
  const double cosine[6] = {0.01 + 0.09 * (1 + cos(3.14159265358979 / 4)) / 2,
                            0.055, 0.01 + 0.09 * (1 + cos(3 * 3.14159265358979 / 4)) / 2,
                            0.01, 0.01, 0.01};
  for (int e = 0; e < 6; e++) {
    CHECK_OK(fer_schedule_step(s, opt, 0.0));
    fer_optimizer_get(opt, FER_OPT_LEARNING_RATE, &lr);
    CHECK_NEAR(lr, cosine[e], 1e-9);
  }
  fer_schedule_free(s);
  /* plateau on accuracy (max), patience 1, factor 0.5, min 0.02 */
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, 0.1));
  CHECK_OK(fer_schedule_create(FER_SCHEDULE_PLATEAU, &s));
  CHECK_OK(fer_schedule_set(s, FER_SCHED_MODE_MAX, 1));
  CHECK_OK(fer_schedule_set(s, FER_SCHED_PATIENCE, 1));
  CHECK_OK(fer_schedule_set(s, FER_SCHED_FACTOR, 0.5));
  CHECK_OK(fer_schedule_set(s, FER_SCHED_MIN_LR, 0.02));
  const double metric[8] = {0.5, 0.6, 0.6, 0.59, 0.7, 0.7, 0.7, 0.7};
  const double want[8] = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025};
  for (int e = 0; e < 8; e++) {
    CHECK_OK(fer_schedule_step(s, opt, metric[e]));
    fer_optimizer_get(opt, FER_OPT_LEARNING_RATE, &lr);
    CHECK_MSG(fabs(lr - want[e]) < 1e-12, "plateau epoch %d: lr %g, want %g", e, lr, want[e]);
  }
  /* two more bad epochs: 0.0125 would pass the floor, so 0.02 */
  CHECK_OK(fer_schedule_step(s, opt, 0.1));
  CHECK_OK(fer_schedule_step(s, opt, 0.1));
  fer_optimizer_get(opt, FER_OPT_LEARNING_RATE, &lr);
  CHECK_NEAR(lr, 0.02, 1e-12);
  CHECK_STATUS(fer_schedule_step(s, opt, NAN), FER_ERR_INVALID_ARGUMENT);
  fer_schedule_free(s);
  fer_optimizer_free(opt);
}

/* Bars: class 0 has a bright horizontal bar, class 1 a vertical one, class
 * 2 none, on noise. A small convolutional net must learn it. */
static void make_bars(float *x, int32_t *y, int n, uint64_t seed) {
  uint64_t s = seed;
  for (int i = 0; i < n; i++) {
    float *img = x + i * 64;
    for (int p = 0; p < 64; p++) img[p] = (float)(0.3 * tu_uniform(&s));
    y[i] = (int32_t)(tu_uniform(&s) * 3);
    int at = 1 + (int)(tu_uniform(&s) * 6);
    for (int j = 0; j < 8 && y[i] < 2; j++)
      img[y[i] == 0 ? at * 8 + j : j * 8 + at] += 1.0f;
  }
}

static const char *bars_net =
    "input 1x8x8\nconv 8 3x3 same\nbn\nrelu\nmax 2x2/2\n"
    "conv 8 3x3 same\nrelu\ngap\ndrop 0.1\ndense 3\nsoftmax\n";

static void train_bars(fer_model *m, fer_optimizer *opt, int steps, float *first,
                       float *last) {
  float x[32 * 64];
  int32_t y[32];
  for (int step = 0; step < steps; step++) {
    make_bars(x, y, 32, 1000 + (uint64_t)step);
    float loss;
    CHECK_OK(fer_model_train_step(m, opt, x, y, 32, &loss, NULL));
    if (step == 0 && first) *first = loss;
    if (last) *last = loss;
  }
}

static void test_learns_bars(void) {
  fer_model *m = NULL;
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_model_from_text(bars_net, &m));
  CHECK_OK(fer_model_set_seed(m, 3));
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAM, &opt));
  CHECK_OK(fer_optimizer_set(opt, FER_OPT_LEARNING_RATE, 0.01));
  float first = 0, last = 0;
  train_bars(m, opt, 150, &first, &last);
  float x[256 * 64], loss, acc;
  int32_t y[256];
  make_bars(x, y, 256, 7);
  CHECK_OK(fer_model_set_training(m, 0));
  CHECK_OK(fer_model_evaluate(m, x, y, 256, &loss, &acc));
  CHECK_MSG(acc > 0.95f, "accuracy %g after training (first loss %g, last %g)",
            (double)acc, (double)first, (double)last);
  CHECK_MSG(last < 0.5f * first, "loss %g -> %g", (double)first, (double)last);
  /* predict agrees with evaluate's argmax */
  float probs[256 * 3];
  CHECK_OK(fer_model_predict(m, x, 256, probs));
  int hits = 0;
  for (int i = 0; i < 256; i++) {
    int best = 0;
    for (int k = 1; k < 3; k++)
      if (probs[i * 3 + k] > probs[i * 3 + best]) best = k;
    hits += best == y[i];
    CHECK_NEAR(probs[i * 3] + probs[i * 3 + 1] + probs[i * 3 + 2], 1.0, 1e-5);
  }
  CHECK_NEAR((double)hits / 256, acc, 1e-6);
  fer_optimizer_free(opt);
  fer_model_free(m);
}

static void weights_of(fer_model *m, float *out, size_t cap) {
  size_t at = 0;
  for (int l = 0; l < fer_model_num_layers(m); l++)
    for (int t = FER_TENSOR_WEIGHT; t <= FER_TENSOR_RUNNING_VAR; t++) {
      size_t n = 0;
      if (fer_model_get_tensor(m, l, (fer_tensor)t, NULL, 0, &n) == FER_ERR_NOT_FOUND)
        continue;
      if (at + n > cap) return;
      CHECK_OK(fer_model_get_tensor(m, l, (fer_tensor)t, out + at, n, NULL));
      at += n;
    }
}

static void test_deterministic_and_resumable(void) {
  enum { CAP = 4096 };
  static float wa[CAP], wb[CAP];
  fer_model *a = NULL, *b = NULL;
  fer_optimizer *oa = NULL, *ob = NULL;
  CHECK_OK(fer_model_from_text(bars_net, &a));
  CHECK_OK(fer_model_from_text(bars_net, &b));
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAM, &oa));
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAM, &ob));
  fer_model_set_seed(a, 11);
  fer_model_set_seed(b, 11);
  train_bars(a, oa, 6, NULL, NULL);
  /* b trains 3 steps, its optimizer state goes through bytes into a fresh
   * optimizer, then 3 more steps: the same weights as a. */
  train_bars(b, ob, 3, NULL, NULL);
  fer__buf buf;
  fer__buf_init(&buf);
  fer__optimizer_serialize(ob, &buf);
  fer_optimizer *oc = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAM, &oc));
  size_t off = 0;
  CHECK_OK(fer__optimizer_restore(oc, buf.data, buf.size, &off));
  CHECK_EQ_INT(off, buf.size);
  /* truncated state is refused */
  size_t off2 = 0;
  CHECK_STATUS(fer__optimizer_restore(oc, buf.data, buf.size - 1, &off2), FER_ERR_TRUNCATED);
  fer__buf_release(&buf);
  /* the rest of the steps use the same data as a's last three */
  float x[32 * 64];
  int32_t y[32];
  for (int step = 3; step < 6; step++) {
    make_bars(x, y, 32, 1000 + (uint64_t)step);
    CHECK_OK(fer_model_train_step(b, oc, x, y, 32, NULL, NULL));
  }
  weights_of(a, wa, CAP);
  weights_of(b, wb, CAP);
  CHECK(memcmp(wa, wb, sizeof wa) == 0);
  CHECK_EQ_INT(fer_optimizer_steps(oc), 6);
  /* an optimizer bound to one model refuses another shape */
  fer_model *other = NULL;
  CHECK_OK(fer_model_from_text("input 1x8x8\nflatten\ndense 3\n", &other));
  make_bars(x, y, 32, 1);
  CHECK_STATUS(fer_model_train_step(other, oa, x, y, 32, NULL, NULL), FER_ERR_MISUSE);
  y[3] = 3;
  CHECK_STATUS(fer_model_train_step(a, oa, x, y, 32, NULL, NULL), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("label 3 of image 3");
  /* schedule state round trip */
  fer_schedule *s = NULL, *s2 = NULL;
  CHECK_OK(fer_schedule_create(FER_SCHEDULE_PLATEAU, &s));
  CHECK_OK(fer_schedule_create(FER_SCHEDULE_PLATEAU, &s2));
  fer_schedule_set(s, FER_SCHED_PATIENCE, 0);
  fer_schedule_step(s, oa, 1.0);
  fer_schedule_step(s, oa, 2.0);
  fer__buf_init(&buf);
  fer__schedule_serialize(s, &buf);
  off = 0;
  CHECK_OK(fer__schedule_restore(s2, buf.data, buf.size, &off));
  CHECK(s2->epoch == 2 && s2->best == 1.0 && s2->patience == 0);
  fer__buf_release(&buf);
  fer_schedule_free(s);
  fer_schedule_free(s2);
  fer_model_free(other);
  fer_optimizer_free(oa);
  fer_optimizer_free(ob);
  fer_optimizer_free(oc);
  fer_model_free(a);
  fer_model_free(b);
}

int main(void) {
  RUN(test_optimizers);
  RUN(test_settings);
  RUN(test_schedules);
  RUN(test_learns_bars);
  RUN(test_deterministic_and_resumable);
  return harness_finish();
}
