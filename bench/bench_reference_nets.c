/* Times the reference networks (see ../shared/bench/reference-nets.md):
 * training images/s (batch 64, Adam, train mode), inference images/s (batch
 * 64, eval mode, a predictor) and batch-1 latency (median of many calls).
 * Prints a table, then one JSON line per net for the comparison script:
 *   {"net": "seed000", "threads": 2, "train_ips": ..., "infer_ips": ...,
 *    "latency_ms": ..., "gflops_fwd": ...}
 * gflops_fwd is the forward cost of one image in GFLOP (2 x multiply-adds);
 * achieved GFLOP/s = ips x gflops_fwd (x 3 for training).
 *
 * usage: bench_reference_nets [--seconds S] [--threads T] [NET...]
 * Each measurement runs at least one timed iteration and until S seconds
 * (default 3) have passed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fer.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static void fill(float *x, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    x[i] = (float)((seed >> 8) & 0xffff) / 65536.0f;
  }
}

typedef struct result {
  double train_ips, infer_ips, latency_ms, gflops;
} result;

static int bench_net(const char *name, double seconds, result *r) {
  fer_model *m = NULL;
  fer_optimizer *opt = NULL;
  fer_predictor *pred = NULL;
  int c, h, w, ok = 0;
  if (fer_model_create_reference(name, &m) || fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 1) ||
      fer_optimizer_create(FER_OPTIMIZER_ADAM, &opt) || fer_predictor_create(m, &pred)) {
    fprintf(stderr, "%s: %s\n", name, fer_last_error());
    goto done;
  }
  fer_model_input_shape(m, &c, &h, &w);
  const int batch = 64, classes = fer_model_output_size(m);
  const size_t image = (size_t)c * h * w;
  float *x = malloc(batch * image * sizeof(float));
  float *out = malloc((size_t)batch * classes * sizeof(float));
  int32_t labels[64];
  for (int i = 0; i < batch; i++) labels[i] = i % classes;
  fill(x, batch * image, 7);
  r->gflops = fer_model_flops(m) / 1e9;

  /* training: one warm-up step allocates the workspace */
  if (fer_model_train_step(m, opt, x, labels, batch, NULL, NULL)) goto fail;
  int steps = 0;
  double t0 = now(), t;
  do {
    if (fer_model_train_step(m, opt, x, labels, batch, NULL, NULL)) goto fail;
    steps++;
  } while ((t = now() - t0) < seconds);
  r->train_ips = steps * batch / t;

  /* inference, batch 64 */
  if (fer_predictor_run(pred, x, batch, out)) goto fail;
  steps = 0;
  t0 = now();
  do {
    if (fer_predictor_run(pred, x, batch, out)) goto fail;
    steps++;
  } while ((t = now() - t0) < seconds);
  r->infer_ips = steps * batch / t;

  /* batch-1 latency: median of the calls */
  if (fer_predictor_run(pred, x, 1, out)) goto fail;
  enum { MAX_CALLS = 2000 };
  static double times[MAX_CALLS];
  int calls = 0;
  t0 = now();
  do {
    double s = now();
    if (fer_predictor_run(pred, x + (calls % batch) * image, 1, out)) goto fail;
    times[calls++] = now() - s;
  } while (calls < MAX_CALLS && (now() - t0 < seconds || calls < 20));
  qsort(times, (size_t)calls, sizeof times[0], compare_doubles);
  r->latency_ms = 1e3 * times[calls / 2];
  ok = 1;
fail:
  if (!ok) fprintf(stderr, "%s: %s\n", name, fer_last_error());
  free(x);
  free(out);
done:
  fer_predictor_free(pred);
  fer_optimizer_free(opt);
  fer_model_free(m);
  return ok;
}

int main(int argc, char **argv) {
  double seconds = 3.0;
  const char *nets[8];
  int count = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      if (fer_set_num_threads(atoi(argv[++i]))) {
        fprintf(stderr, "%s\n", fer_last_error());
        return 2;
      }
    } else if (argv[i][0] == '-' || count == 8) {
      fprintf(stderr, "usage: %s [--seconds S] [--threads T] [NET...]\n", argv[0]);
      return 2;
    } else {
      nets[count++] = argv[i];
    }
  }
  if (count == 0)
    for (int i = 0; fer_model_reference_name(i) && count < 8; i++)
      nets[count++] = fer_model_reference_name(i);
  result results[8];
  int done[8] = {0};
  int threads = fer_get_num_threads();
  printf("%-8s %7s %12s %12s %12s %12s %14s\n", "net", "threads", "GFLOP/img",
         "train img/s", "infer img/s", "latency ms", "train GFLOP/s");
  for (int i = 0; i < count; i++) {
    done[i] = bench_net(nets[i], seconds, &results[i]);
    if (!done[i]) continue;
    const result *r = &results[i];
    printf("%-8s %7d %12.3f %12.1f %12.1f %12.3f %14.1f\n", nets[i], threads,
           r->gflops, r->train_ips, r->infer_ips, r->latency_ms,
           3.0 * r->gflops * r->train_ips);
    fflush(stdout);
  }
  for (int i = 0; i < count; i++)
    if (done[i])
      printf("{\"net\": \"%s\", \"threads\": %d, \"train_ips\": %.2f, \"infer_ips\": %.2f, "
             "\"latency_ms\": %.4f, \"gflops_fwd\": %.5f}\n",
             nets[i], threads, results[i].train_ips, results[i].infer_ips,
             results[i].latency_ms, results[i].gflops);
  for (int i = 0; i < count; i++)
    if (!done[i]) return 1;
  return 0;
}
