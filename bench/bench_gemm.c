/*
 * SGEMM throughput: GFLOP/s of fer__sgemm_ws (workspace allocated once, as
 * the engine does) for square sizes and the engine's typical shapes, at 1
 * and 2 threads, median of repeats. With --numpy it also times numpy's
 * matmul (bench/numpy_gemm.py, on OpenBLAS when that is available) on the
 * same shapes in the same run and prints libfer / numpy ratios.
 *
 *   bench_gemm [--numpy] [--quick] [--isa generic|avx2|avx512] [--threads N]
 *
 * Output: a table on stdout, then one JSON line per measurement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core_internal.h"
#include "nn/gemm.h"

#ifndef FER_BENCH_DIR
#define FER_BENCH_DIR "bench"
#endif

typedef struct shape {
  const char *label;
  int trans_a, trans_b, m, n, k;
} shape;

static const shape shapes[] = {
    {"square", 0, 0, 64, 64, 64},
    {"square", 0, 0, 128, 128, 128},
    {"square", 0, 0, 256, 256, 256},
    {"square", 0, 0, 512, 512, 512},
    {"square", 0, 0, 1024, 1024, 1024},
    {"square", 0, 0, 2048, 2048, 2048},
    /* Forward convolutions, C[filters x pixels] = W[filters x k] * cols. */
    {"conv1 48x48", 0, 0, 64, 2304, 9},
    {"conv 5x5 24x24", 0, 0, 128, 576, 1600},
    {"conv 3x3 12x12", 0, 0, 512, 144, 1152},
    {"conv 3x3 3x3", 0, 0, 512, 9, 4608},
    /* Dense layer forward on a batch: Y[batch x out] = X * W^T. */
    {"dense b64", 0, 1, 64, 256, 4608},
    /* Backward passes: weight gradient (B^T) and input gradient (A^T). */
    {"conv dW 12x12", 0, 1, 512, 1152, 144},
    {"conv dX 12x12", 1, 0, 1152, 144, 512},
    /* Batch-1 dense: one row. */
    {"dense b1", 0, 1, 1, 256, 4608},
};

static double flops_of(const shape *s) {
  return 2.0 * s->m * (double)s->n * s->k;
}

/* Wall-clock seconds, or this process's CPU seconds with --cpu-time (a
 * steadier single-thread figure on a machine shared with other jobs). */
static int use_cpu_time;
static double now_seconds(void) {
  if (!use_cpu_time) return fer__now_seconds();
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Median GFLOP/s over `repeats` timings, each of enough calls to last about
 * `min_seconds`. */
static double time_shape(const shape *s, fer__gemm_isa isa, int threads,
                         int repeats, double min_seconds) {
  int lda = s->trans_a ? s->m : s->k, ldb = s->trans_b ? s->k : s->n;
  size_t a_count = (size_t)s->m * s->k, b_count = (size_t)s->k * s->n;
  float *a = malloc(a_count * sizeof(float));
  float *b = malloc(b_count * sizeof(float));
  float *c = malloc((size_t)s->m * s->n * sizeof(float));
  size_t ws_size = fer__sgemm_workspace_size(s->m, s->n, s->k, threads);
  void *ws = malloc(ws_size);
  if (!a || !b || !c || !ws) {
    fprintf(stderr, "bench_gemm: out of memory\n");
    exit(1);
  }
  fer__rng rng;
  fer__rng_seed(&rng, 1);
  for (size_t i = 0; i < a_count; i++) a[i] = fer__rng_uniform(&rng) - 0.5f;
  for (size_t i = 0; i < b_count; i++) b[i] = fer__rng_uniform(&rng) - 0.5f;
  memset(c, 0, (size_t)s->m * s->n * sizeof(float));

  double flops = flops_of(s);
  /* Warm up (pages, caches, OpenMP threads) and size the inner loop. */
  int calls = 1;
  for (;;) {
    double t0 = now_seconds();
    for (int i = 0; i < calls; i++)
      fer__sgemm_variant(isa, threads, s->trans_a, s->trans_b, s->m, s->n,
                         s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n, ws, ws_size);
    double dt = now_seconds() - t0;
    if (dt >= min_seconds || calls >= (1 << 24)) break;
    calls = dt <= 0 ? calls * 16 : (int)(calls * (min_seconds * 1.2 / dt)) + 1;
  }
  double rates[64];
  if (repeats > 64) repeats = 64;
  for (int r = 0; r < repeats; r++) {
    double t0 = now_seconds();
    for (int i = 0; i < calls; i++)
      fer__sgemm_variant(isa, threads, s->trans_a, s->trans_b, s->m, s->n,
                         s->k, 1.0f, a, lda, b, ldb, 0.0f, c, s->n, ws,
                         ws_size);
    double dt = now_seconds() - t0;
    rates[r] = flops * calls / dt * 1e-9;
  }
  qsort(rates, (size_t)repeats, sizeof(double), compare_doubles);
  free(a);
  free(b);
  free(c);
  free(ws);
  return rates[repeats / 2];
}

/* numpy's figure for the same shape and threads, or 0 when unavailable. The
 * helper script answers one line per request on a pipe. */
static double numpy_rate(const shape *s, int threads, int repeats,
                         double min_seconds) {
  char command[1024];
  snprintf(command, sizeof command,
           "/usr/bin/python3 '%s/numpy_gemm.py' --threads %d --ta %d --tb %d "
           "--m %d --n %d --k %d --repeats %d --min-seconds %g%s",
           FER_BENCH_DIR, threads, s->trans_a, s->trans_b, s->m, s->n, s->k,
           repeats, min_seconds, use_cpu_time ? " --cpu-time" : "");
  FILE *pipe = popen(command, "r");
  if (!pipe) return 0.0;
  char line[256];
  double rate = 0.0;
  while (fgets(line, sizeof line, pipe))
    if (strncmp(line, "GFLOPS ", 7) == 0) rate = atof(line + 7);
  pclose(pipe);
  return rate;
}

int main(int argc, char **argv) {
  int with_numpy = 0, quick = 0, only_threads = 0;
  shape custom;
  const shape *list = shapes;
  size_t list_len = FER__ARRAY_LEN(shapes);
  fer__gemm_isa isa = fer__gemm_isa_best();
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--numpy") == 0) {
      with_numpy = 1;
    } else if (strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
      if (sscanf(argv[++i], "%d,%d,%d,%d,%d", &custom.trans_a, &custom.trans_b,
                 &custom.m, &custom.n, &custom.k) != 5 ||
          custom.m < 1 || custom.n < 1 || custom.k < 1) {
        fprintf(stderr, "bench_gemm: --shape wants tA,tB,m,n,k\n");
        return 2;
      }
      custom.label = "custom";
      list = &custom;
      list_len = 1;
    } else if (strcmp(argv[i], "--cpu-time") == 0) {
      use_cpu_time = 1;
    } else if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
      only_threads = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--isa") == 0 && i + 1 < argc) {
      const char *name = argv[++i];
      int found = 0;
      for (int v = 0; v < FER__GEMM_ISA_COUNT; v++)
        if (strcmp(name, fer__gemm_isa_name((fer__gemm_isa)v)) == 0) {
          isa = (fer__gemm_isa)v;
          found = 1;
        }
      if (!found || !fer__gemm_isa_available(isa)) {
        fprintf(stderr, "bench_gemm: variant %s is not available here\n", name);
        return 2;
      }
    } else {
      fprintf(stderr,
              "usage: bench_gemm [--numpy] [--quick] [--cpu-time]"
              " [--isa generic|avx2|avx512] [--threads N] [--shape tA,tB,m,n,k]\n");
      return 2;
    }
  }
  const int repeats = quick ? 3 : 7;
  const double min_seconds = quick ? 0.02 : 0.1;
  printf("libfer SGEMM, variant %s, median of %d runs of >= %.2f s each\n",
         fer__gemm_isa_name(isa), repeats, min_seconds);
  printf("%-16s %2s %2s %5s %5s %5s %3s %9s %9s %7s\n", "shape", "tA", "tB", "m",
         "n", "k", "thr", "libfer", with_numpy ? "numpy" : "", with_numpy ? "ratio" : "");
  char json[64][256];
  int json_count = 0;
  for (int threads = 1; threads <= 2; threads++) {
    if (only_threads && threads != only_threads) continue;
    for (size_t i = 0; i < list_len; i++) {
      const shape *s = &list[i];
      if (quick && flops_of(s) > 2.0 * 1024 * 1024 * 1024) continue;
      double ours = time_shape(s, isa, threads, repeats, min_seconds);
      double theirs = with_numpy ? numpy_rate(s, threads, repeats, min_seconds) : 0.0;
      printf("%-16s %2d %2d %5d %5d %5d %3d %9.1f", s->label, s->trans_a,
             s->trans_b, s->m, s->n, s->k, threads, ours);
      if (theirs > 0)
        printf(" %9.1f %7.2f", theirs, ours / theirs);
      printf("\n");
      fflush(stdout);
      if (json_count < 64)
        snprintf(json[json_count++], sizeof json[0],
                 "{\"shape\": \"%s\", \"trans_a\": %d, \"trans_b\": %d, \"m\": %d, "
                 "\"n\": %d, \"k\": %d, \"threads\": %d, \"isa\": \"%s\", "
                 "\"gflops\": %.2f, \"numpy_gflops\": %.2f}",
                 s->label, s->trans_a, s->trans_b, s->m, s->n, s->k, threads,
                 fer__gemm_isa_name(isa), ours, theirs);
    }
  }
  for (int i = 0; i < json_count; i++) printf("%s\n", json[i]);
  return 0;
}
