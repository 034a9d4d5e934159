/* Per-layer profile of one network: wall time of every layer's forward
 * (training mode) and backward pass, the loss and the optimiser update,
 * and of every layer's inference forward, at one batch size. It runs the
 * same sequence as fer_model_train_step (lib/train/train_step.c) with a
 * clock around each call, so the totals match bench_reference_nets.
 *
 * usage: bench_layers [--threads T] [--batch N] [--reps R]
 *                     [--optimizer sgd|adam|adamw] [--cpu-time]
 *                     (--net NAME | --arch FILE)
 * Prints the median of R steps (default 15, after 2 warm-up steps) per
 * layer in milliseconds and as a share of the step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fer.h>

#include "nn/nn_internal.h"
#include "train/optim_internal.h"

/* Wall clock, or with --cpu-time the process's CPU time: steadier at one
 * thread when other jobs share the cores (at two it also counts the time
 * threads spend waiting for each other). */
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void) {
  struct timespec ts;
  clock_gettime(clock_id, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double median(double *v, int count) {
  qsort(v, (size_t)count, sizeof *v, compare_doubles);
  return v[count / 2];
}

static char *read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *text = malloc((size_t)size + 1);
  if (text && fread(text, 1, (size_t)size, f) != (size_t)size) {
    free(text);
    text = NULL;
  }
  if (text) text[size] = 0;
  fclose(f);
  return text;
}

int main(int argc, char **argv) {
  int batch = 64, reps = 15;
  const char *net = NULL, *arch = NULL;
  fer_optimizer_kind kind = FER_OPTIMIZER_ADAM;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      if (fer_set_num_threads(atoi(argv[++i]))) {
        fprintf(stderr, "%s\n", fer_last_error());
        return 2;
      }
    } else if (!strcmp(argv[i], "--batch") && i + 1 < argc) {
      batch = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--reps") && i + 1 < argc) {
      reps = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--cpu-time")) {
      clock_id = CLOCK_PROCESS_CPUTIME_ID;
    } else if (!strcmp(argv[i], "--net") && i + 1 < argc) {
      net = argv[++i];
    } else if (!strcmp(argv[i], "--arch") && i + 1 < argc) {
      arch = argv[++i];
    } else if (!strcmp(argv[i], "--optimizer") && i + 1 < argc) {
      const char *o = argv[++i];
      kind = !strcmp(o, "sgd") ? FER_OPTIMIZER_SGD
           : !strcmp(o, "adamw") ? FER_OPTIMIZER_ADAMW : FER_OPTIMIZER_ADAM;
    } else {
      fprintf(stderr,
              "usage: %s [--threads T] [--batch N] [--reps R] "
              "[--optimizer sgd|adam|adamw] [--cpu-time] (--net NAME | --arch FILE)\n",
              argv[0]);
      return 2;
    }
  }
  if (batch < 1 || reps < 1 || (!net && !arch)) {
    fprintf(stderr, "need --net or --arch, batch and reps >= 1\n");
    return 2;
  }
  fer_model *m = NULL;
  fer_optimizer *opt = NULL;
  fer_status st;
  if (arch) {
    char *text = read_text(arch);
    if (!text) {
      fprintf(stderr, "%s: cannot read\n", arch);
      return 1;
    }
    st = fer_model_from_text(text, &m);
    free(text);
  } else {
    st = fer_model_create_reference(net, &m);
  }
  if (st || fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 1) ||
      fer_optimizer_create(kind, &opt)) {
    fprintf(stderr, "%s\n", fer_last_error());
    return 1;
  }
  const int L = m->num_layers, K = fer_model_output_size(m);
  const size_t image = (size_t)fer__shape_size(m->input);
  float *x = malloc((size_t)batch * image * sizeof(float));
  int32_t *labels = malloc((size_t)batch * sizeof *labels);
  double *t_fwd = calloc((size_t)L * reps, sizeof(double));
  double *t_bwd = calloc((size_t)L * reps, sizeof(double));
  double *t_inf = calloc((size_t)L * reps, sizeof(double));
  double *t_loss = calloc((size_t)reps, sizeof(double));
  double *t_opt = calloc((size_t)reps, sizeof(double));
  double *t_step = calloc((size_t)reps, sizeof(double));
  double *t_infer = calloc((size_t)reps, sizeof(double));
  unsigned seed = 7;
  for (size_t i = 0; i < (size_t)batch * image; i++) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (float)((seed >> 8) & 0xffff) / 65536.0f - 0.5f;
  }
  for (int i = 0; i < batch; i++) labels[i] = i % K;
  if (fer__workspace_prepare(m, &m->ws, batch, 1)) {
    fprintf(stderr, "%s\n", fer_last_error());
    return 1;
  }
  fer__workspace *ws = m->ws;
  const int warm = 2;
  for (int r = -warm; r < reps; r++) {
    fer__pass pass = {.n = batch, .training = 1, .threads = ws->threads,
                      .scratch = ws->scratch,
                      .scratch_floats = ws->scratch_floats,
                      .rng = &m->dropout_rng};
    const double step0 = now();
    const float *in = x;
    for (int i = 0; i < L; i++) {
      const fer__layer *l = &m->layers[i];
      const fer__layer_ops *ops = fer__layer_ops_of(l->kind);
      double t0 = now();
      ops->forward(l, &pass, in, ws->act[i], ws->saved[i]);
      if (ops->update_running)
        ops->update_running((fer__layer *)l, ws->saved[i], batch);
      if (r >= 0) t_fwd[(size_t)i * reps + r] = now() - t0;
      in = ws->act[i];
    }
    double t0 = now();
    int correct;
    float *delta = ws->delta_a, *other = ws->delta_b;
    fer__cross_entropy(fer__logits_of(m, x), batch, K, labels,
                       m->label_smoothing, m->class_weights, delta, &correct);
    if (r >= 0) t_loss[r] = now() - t0;
    for (int i = fer__logits_layers(m) - 1; i >= 0; i--) {
      const fer__layer *layer = &m->layers[i];
      float *grads[FER__TRAINABLE_TENSORS] = {
          layer->tensor[0] ? ws->grads + layer->param_offset : NULL,
          layer->tensor[1]
              ? ws->grads + layer->param_offset + layer->tensor_size[0] : NULL};
      t0 = now();
      fer__layer_ops_of(layer->kind)->backward(
          layer, &pass, i > 0 ? ws->act[i - 1] : x, ws->act[i], delta,
          i > 0 ? other : NULL, ws->saved[i], grads);
      if (r >= 0) t_bwd[(size_t)i * reps + r] = now() - t0;
      float *t = delta;
      delta = other;
      other = t;
    }
    t0 = now();
    if (fer__optimizer_update(opt, m, ws->grads)) {
      fprintf(stderr, "%s\n", fer_last_error());
      return 1;
    }
    if (r >= 0) {
      t_opt[r] = now() - t0;
      t_step[r] = now() - step0;
    }
    /* Inference forward, evaluation mode, same workspace. */
    pass.training = 0;
    const double inf0 = now();
    in = x;
    for (int i = 0; i < L; i++) {
      const fer__layer *l = &m->layers[i];
      t0 = now();
      fer__layer_ops_of(l->kind)->forward(l, &pass, in, ws->act[i], NULL);
      if (r >= 0) t_inf[(size_t)i * reps + r] = now() - t0;
      in = ws->act[i];
    }
    if (r >= 0) t_infer[r] = now() - inf0;
  }
  fer__buf text;
  fer__buf_init(&text);
  printf("batch %d, threads %d, median of %d steps (ms, %s)\n", batch,
         ws->threads, reps,
         clock_id == CLOCK_MONOTONIC ? "wall clock" : "CPU time");
  printf("%3s %-28s %-12s %9s %9s %9s %7s %9s\n", "#", "layer", "output",
         "fwd", "bwd", "fwd+bwd", "share", "infer");
  double step = median(t_step, reps), sum = 0.0;
  for (int i = 0; i < L; i++) {
    const fer__layer *l = &m->layers[i];
    const fer__layer_ops *ops = fer__layer_ops_of(l->kind);
    text.size = 0;
    fer__buf_printf(&text, "%s", ops->keyword);
    if (ops->format) ops->format(l, &text);
    char shape[32];
    snprintf(shape, sizeof shape, "%dx%dx%d", l->out.c, l->out.h, l->out.w);
    double f = median(t_fwd + (size_t)i * reps, reps);
    double b = median(t_bwd + (size_t)i * reps, reps);
    double inf = median(t_inf + (size_t)i * reps, reps);
    sum += f + b;
    printf("%3d %-28.*s %-12s %9.2f %9.2f %9.2f %6.1f%% %9.2f\n", i,
           (int)text.size, text.data ? (char *)text.data : "", shape, 1e3 * f,
           1e3 * b, 1e3 * (f + b), 100.0 * (f + b) / step, 1e3 * inf);
  }
  double loss = median(t_loss, reps), upd = median(t_opt, reps);
  printf("    %-41s %9.2f %6.1f%%\n", "loss", 1e3 * loss, 100.0 * loss / step);
  printf("    %-41s %9.2f %6.1f%%\n", "optimizer", 1e3 * upd, 100.0 * upd / step);
  printf("    %-41s %9.2f (layers+loss+opt %.2f)  %.1f img/s\n", "train step",
         1e3 * step, 1e3 * (sum + loss + upd), batch / step);
  double inf = median(t_infer, reps);
  printf("    %-41s %9.2f  %.1f img/s\n", "inference forward", 1e3 * inf,
         batch / inf);
  fer__buf_release(&text);
  fer_optimizer_free(opt);
  fer_model_free(m);
  free(x);
  free(labels);
  free(t_fwd);
  free(t_bwd);
  free(t_inf);
  free(t_loss);
  free(t_opt);
  free(t_step);
  free(t_infer);
  return 0;
}
