/* SGEMM against a naive double-precision reference.
 *
 * Error bound (checked for every element): a float product of length k,
 * computed in any order with or without FMA, then scaled by alpha and added
 * to beta*C, is within gamma * (|alpha| sum_p |a_ip||b_pj| + |beta||c_ij|)
 * of the exact value, gamma = (k + 4) * 2^-24 (the classical worst-case
 * bound for recursive summation, plus the alpha and beta steps). An indexing
 * mistake gives errors of order one, far above it.
 *
 * Strided operands have NaN in the padding between rows, so reading past a
 * row shows up as NaN in C; C's own padding must come back untouched. */
#include <float.h>
#include <stdint.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "harness.h"

#include "core/core_internal.h"
#include "nn/gemm.h"

#define UNIT_ROUNDOFF (1.0 / 16777216.0) /* 2^-24 */
#define PAD_SENTINEL 12345.0f

typedef struct product {
  int trans_a, trans_b, m, n, k, lda, ldb, ldc;
  float alpha, beta;
  float *a, *b, *c_init; /* inputs (c_init: C before the call) */
  double *ref, *scale;   /* exact result and its error scale */
} product;

static fer__rng rng;

static float *alloc_floats(size_t count) {
  float *p = malloc((count ? count : 1) * sizeof(float));
  if (!p) {
    fprintf(stderr, "test_gemm: out of memory\n");
    exit(1);
  }
  return p;
}

/* A rows x cols matrix with row stride ld >= cols; padding holds `pad`. */
static float *random_matrix(int rows, int cols, int ld, float pad) {
  float *x = alloc_floats((size_t)rows * (size_t)ld);
  for (int i = 0; i < rows; i++)
    for (int j = 0; j < ld; j++)
      x[(size_t)i * ld + j] = j < cols ? 2.0f * fer__rng_uniform(&rng) - 1.0f : pad;
  return x;
}

static void product_make(product *pr, int trans_a, int trans_b, int m, int n,
                         int k, int extra_stride, float alpha, float beta) {
  pr->trans_a = trans_a;
  pr->trans_b = trans_b;
  pr->m = m;
  pr->n = n;
  pr->k = k;
  pr->alpha = alpha;
  pr->beta = beta;
  int a_rows = trans_a ? k : m, a_cols = trans_a ? m : k;
  int b_rows = trans_b ? n : k, b_cols = trans_b ? k : n;
  pr->lda = FER__MAX(a_cols, 1) + extra_stride;
  pr->ldb = FER__MAX(b_cols, 1) + extra_stride;
  pr->ldc = FER__MAX(n, 1) + extra_stride;
  pr->a = random_matrix(a_rows, a_cols, pr->lda, NAN);
  pr->b = random_matrix(b_rows, b_cols, pr->ldb, NAN);
  pr->c_init = random_matrix(m, n, pr->ldc, PAD_SENTINEL);
  if (beta == 0.0f) /* "ignore C" must hold even for NaN */
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) pr->c_init[(size_t)i * pr->ldc + j] = NAN;
  pr->ref = malloc(((size_t)m * n + 1) * sizeof(double));
  pr->scale = malloc(((size_t)m * n + 1) * sizeof(double));
  if (!pr->ref || !pr->scale) exit(1);
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < n; j++) {
      double sum = 0.0, abs_sum = 0.0;
      for (int p = 0; p < k; p++) {
        double av = trans_a ? pr->a[(size_t)p * pr->lda + i] : pr->a[(size_t)i * pr->lda + p];
        double bv = trans_b ? pr->b[(size_t)j * pr->ldb + p] : pr->b[(size_t)p * pr->ldb + j];
        sum += av * bv;
        abs_sum += fabs(av * bv);
      }
      double c0 = beta == 0.0f ? 0.0 : pr->c_init[(size_t)i * pr->ldc + j];
      pr->ref[(size_t)i * n + j] = (double)alpha * sum + (double)beta * c0;
      pr->scale[(size_t)i * n + j] =
          fabs((double)alpha) * abs_sum + fabs((double)beta * c0);
    }
  }
}

static void product_free(product *pr) {
  free(pr->a);
  free(pr->b);
  free(pr->c_init);
  free(pr->ref);
  free(pr->scale);
}

static float *product_fresh_c(const product *pr) {
  size_t count = (size_t)pr->m * pr->ldc;
  float *c = alloc_floats(count);
  if (count) memcpy(c, pr->c_init, count * sizeof(float));
  return c;
}

/* Checks c against the reference and its padding; returns the number of bad
 * elements (reporting the first). */
static int product_check(const product *pr, const float *c, const char *what) {
  double gamma = (pr->k + 4) * UNIT_ROUNDOFF;
  int bad = 0;
  for (int i = 0; i < pr->m; i++) {
    for (int j = 0; j < pr->ldc; j++) {
      float got = c[(size_t)i * pr->ldc + j];
      int ok;
      double want = 0.0, tol = 0.0;
      if (j < pr->n) {
        want = pr->ref[(size_t)i * pr->n + j];
        tol = gamma * pr->scale[(size_t)i * pr->n + j];
        ok = fabs((double)got - want) <= tol;
      } else {
        want = PAD_SENTINEL;
        ok = got == PAD_SENTINEL;
      }
      if (!ok && bad++ == 0)
        fprintf(stderr,
                "%s: ta=%d tb=%d m=%d n=%d k=%d alpha=%g beta=%g: C[%d][%d] = "
                "%.9g, expected %.9g +- %.3g\n",
                what, pr->trans_a, pr->trans_b, pr->m, pr->n, pr->k,
                (double)pr->alpha, (double)pr->beta, i, j, (double)got, want,
                tol);
    }
  }
  return bad;
}

static void run_variant(const product *pr, fer__gemm_isa isa, int threads,
                        float *c, void *ws, size_t ws_size) {
  fer__sgemm_variant(isa, threads, pr->trans_a, pr->trans_b, pr->m, pr->n,
                     pr->k, pr->alpha, pr->a, pr->lda, pr->b, pr->ldb,
                     pr->beta, c, pr->ldc, ws, ws_size);
}

static const int edge_sizes[] = {0, 1, 2, 7, 17, 63, 65, 129, 257, 1000};
static const float alpha_beta[][2] = {
    {1.0f, 0.0f}, {1.0f, 1.0f}, {-0.5f, 2.0f}, {0.75f, 0.0f}, {0.0f, 0.5f}};

/* Every variant the CPU runs, one thread, every combination of edge sizes
 * (up to a volume the naive reference can afford), cycling through the four
 * transpose settings, alpha/beta pairs and padded strides (all four
 * transposes of larger shapes are in test_blocked_shapes_threads). */
static void test_shapes_every_variant(void) {
  const int count = (int)FER__ARRAY_LEN(edge_sizes);
  for (int isa = 0; isa < FER__GEMM_ISA_COUNT; isa++) {
    if (!fer__gemm_isa_available((fer__gemm_isa)isa)) {
      fprintf(stderr, "  variant %s: not supported here, skipped\n",
              fer__gemm_isa_name((fer__gemm_isa)isa));
      continue;
    }
    int tried = 0, failed = 0, combo = 0;
    for (int mi = 0; mi < count; mi++)
        for (int ni = 0; ni < count; ni++)
          for (int ki = 0; ki < count; ki++) {
            int m = edge_sizes[mi], n = edge_sizes[ni], k = edge_sizes[ki];
            if ((double)m * n * k > 8e4) continue;
            combo++;
            const float *ab = alpha_beta[combo % FER__ARRAY_LEN(alpha_beta)];
            const int t = (combo / 5) % 4; /* transposes, cycling too */
            product pr;
            product_make(&pr, t & 1, t >> 1, m, n, k, combo % 3 == 0 ? 0 : 3,
                         ab[0], ab[1]);
            float *c = product_fresh_c(&pr);
            run_variant(&pr, (fer__gemm_isa)isa, 1, c, NULL, 0);
            tried++;
            failed += product_check(&pr, c, fer__gemm_isa_name((fer__gemm_isa)isa)) > 0;
            free(c);
            product_free(&pr);
          }
    fprintf(stderr, "  variant %s: %d products, %d wrong\n",
            fer__gemm_isa_name((fer__gemm_isa)isa), tried, failed);
    CHECK_EQ_INT(failed, 0);
  }
}

/* Shapes the engine uses and shapes that cross the cache blocks (k > kc,
 * n > nc, m > mc) and the matrix-vector chunks; 1 and 2 threads. Both
 * results must meet the reference bound, and differ from each other by at
 * most twice that bound (rounding only). */
static void test_blocked_shapes_threads(void) {
  static const int shapes[][3] = {
      /* m, n, k */
      {64, 700, 9},   {128, 300, 300}, {40, 144, 1152}, {130, 9, 1200},
      {64, 256, 600}, {150, 500, 70},  {1, 2049, 1500}, {1500, 1, 1100},
      {1, 256, 4608}, {33, 529, 257}};
  for (size_t s = 0; s < FER__ARRAY_LEN(shapes); s++) {
    for (int t = 0; t < 4; t++) {
      product pr;
      product_make(&pr, t & 1, t >> 1, shapes[s][0], shapes[s][1], shapes[s][2],
                   (int)(s % 2) * 5, t == 3 ? 0.5f : 1.0f, t == 2 ? 1.0f : 0.0f);
      for (int isa = 0; isa < FER__GEMM_ISA_COUNT; isa++) {
        if (!fer__gemm_isa_available((fer__gemm_isa)isa)) continue;
        float *c1 = product_fresh_c(&pr), *c2 = product_fresh_c(&pr);
        run_variant(&pr, (fer__gemm_isa)isa, 1, c1, NULL, 0);
        run_variant(&pr, (fer__gemm_isa)isa, 2, c2, NULL, 0);
        CHECK(product_check(&pr, c1, "1 thread") == 0);
        CHECK(product_check(&pr, c2, "2 threads") == 0);
        double gamma = (pr.k + 4) * UNIT_ROUNDOFF;
        int differ = 0;
        for (int i = 0; i < pr.m; i++)
          for (int j = 0; j < pr.n; j++) {
            double d = fabs((double)c1[(size_t)i * pr.ldc + j] - c2[(size_t)i * pr.ldc + j]);
            differ += !(d <= 2.0 * gamma * pr.scale[(size_t)i * pr.n + j]);
          }
        CHECK_MSG(differ == 0, "%s m=%d n=%d k=%d: %d elements differ between 1 and 2 threads",
                  fer__gemm_isa_name((fer__gemm_isa)isa), pr.m, pr.n, pr.k, differ);
        free(c1);
        free(c2);
      }
      product_free(&pr);
    }
  }
}

/* A transposed A whose steps lie more than a few KiB apart is packed
 * rather than read in place: both routes, every variant. */
static void test_far_apart_steps(void) {
  for (int extra = 0; extra <= 5000; extra += 5000) {
    product pr;
    product_make(&pr, 1, 0, 21, 70, 300, extra, 1.0f, 0.0f);
    for (int isa = 0; isa < FER__GEMM_ISA_COUNT; isa++) {
      if (!fer__gemm_isa_available((fer__gemm_isa)isa)) continue;
      float *c = product_fresh_c(&pr);
      run_variant(&pr, (fer__gemm_isa)isa, 1, c, NULL, 0);
      CHECK_MSG(product_check(&pr, c, "far-apart steps") == 0, "%s, lda %d",
                fer__gemm_isa_name((fer__gemm_isa)isa), pr.lda);
      free(c);
    }
    product_free(&pr);
  }
}

/* The caller-workspace variant: exact size, an odd (misaligned) start, a
 * size for one thread only, and a useless size all give correct results
 * without reading or writing outside the buffer (ASan checks that). */
static void test_workspace(void) {
  product pr;
  product_make(&pr, 0, 1, 200, 700, 600, 2, 1.0f, 0.0f);
  size_t two = fer__sgemm_workspace_size(pr.m, pr.n, pr.k, 2);
  size_t one = fer__sgemm_workspace_size(pr.m, pr.n, pr.k, 1);
  CHECK(two > one && one > 0);
  CHECK(fer__sgemm_workspace_size(0, 0, 0, 1) > 0);
  CHECK(fer__sgemm_workspace_size(pr.m, pr.n, pr.k, 0) == one);
  size_t sizes[] = {two, one, one - 1, 16};
  for (size_t s = 0; s < FER__ARRAY_LEN(sizes); s++) {
    for (int offset = 0; offset < 2; offset++) {
      unsigned char *buf = malloc(sizes[s] + 3);
      if (!buf) exit(1);
      float *c = product_fresh_c(&pr);
      fer__sgemm_ws(pr.trans_a, pr.trans_b, pr.m, pr.n, pr.k, pr.alpha, pr.a,
                    pr.lda, pr.b, pr.ldb, pr.beta, c, pr.ldc,
                    buf + 3 * offset, sizes[s]);
      CHECK_MSG(product_check(&pr, c, "workspace") == 0, "workspace of %zu bytes",
                sizes[s]);
      free(c);
      free(buf);
    }
  }
  /* Reusing one workspace across different shapes that fit in it. */
  unsigned char *ws = malloc(two);
  if (!ws) exit(1);
  for (int m = 1; m <= 200; m += 66) {
    product small;
    product_make(&small, 1, 0, m, 300, 600, 0, 1.0f, 1.0f);
    float *c = product_fresh_c(&small);
    fer__sgemm_ws(1, 0, small.m, small.n, small.k, 1.0f, small.a, small.lda,
                  small.b, small.ldb, 1.0f, c, small.ldc, ws, two);
    CHECK(product_check(&small, c, "reused workspace") == 0);
    free(c);
    product_free(&small);
  }
  free(ws);
  product_free(&pr);
}

/* Packing memory that cannot be had: the product is still right. */
static void test_allocation_failure(void) {
  product pr;
  product_make(&pr, 1, 1, 150, 160, 170, 1, 1.0f, 0.0f);
  for (int threads = 1; threads <= 2; threads++) {
    float *c = product_fresh_c(&pr);
    fer__alloc_fail_after(1);
    run_variant(&pr, fer__gemm_isa_best(), threads, c, NULL, 0);
    fer__alloc_fail_after(0);
    CHECK_MSG(product_check(&pr, c, "allocation failure") == 0, "%d threads",
              threads);
    free(c);
  }
  /* The plain entry point too. */
  float *c = product_fresh_c(&pr);
  fer__alloc_fail_after(1);
  fer__sgemm(1, 1, pr.m, pr.n, pr.k, pr.alpha, pr.a, pr.lda, pr.b, pr.ldb,
             pr.beta, c, pr.ldc);
  fer__alloc_fail_after(0);
  CHECK(product_check(&pr, c, "fer__sgemm, allocation failure") == 0);
  free(c);
  product_free(&pr);
}

/* Called from inside a parallel region (as the engine does per image), each
 * thread on its own C: single-threaded inside, all correct. */
static void test_inside_parallel_region(void) {
#ifdef _OPENMP
  enum { COPIES = 4 };
  product pr;
  product_make(&pr, 0, 0, 70, 90, 110, 0, 1.0f, 0.0f);
  float *c[COPIES];
  for (int i = 0; i < COPIES; i++) c[i] = product_fresh_c(&pr);
#pragma omp parallel for num_threads(2)
  for (int i = 0; i < COPIES; i++)
    fer__sgemm(0, 0, pr.m, pr.n, pr.k, 1.0f, pr.a, pr.lda, pr.b, pr.ldb, 0.0f,
               c[i], pr.ldc);
  for (int i = 0; i < COPIES; i++) {
    CHECK(product_check(&pr, c[i], "inside a parallel region") == 0);
    free(c[i]);
  }
  product_free(&pr);
#else
  fprintf(stderr, "  built without OpenMP: nothing to check\n");
#endif
}

/* alpha == 0 or k == 0: C = beta * C, with A and B never read (they are
 * NULL here, which would crash if touched). */
static void test_degenerate(void) {
  float c[6] = {1, 2, 3, NAN, 5, 6};
  fer__sgemm(0, 0, 2, 3, 0, 1.0f, NULL, 1, NULL, 3, 2.0f, c, 3);
  CHECK(c[0] == 2.0f && c[2] == 6.0f && c[5] == 12.0f);
  fer__sgemm(1, 1, 2, 3, 5, 0.0f, NULL, 2, NULL, 5, 0.0f, c, 3);
  int zeros = 0;
  for (int i = 0; i < 6; i++) zeros += c[i] == 0.0f;
  CHECK_EQ_INT(zeros, 6);
  /* m == 0 or n == 0: nothing happens, C untouched. */
  fer__sgemm(0, 0, 0, 3, 5, 1.0f, NULL, 5, NULL, 3, 0.0f, NULL, 3);
  fer__sgemm(0, 0, 2, 0, 5, 1.0f, NULL, 5, NULL, 1, 0.0f, c, 1);
  CHECK(c[0] == 0.0f);
}

int main(void) {
  fer__rng_seed(&rng, 20261122);
  fprintf(stderr, "best variant here: %s\n", fer__gemm_isa_name(fer__gemm_isa_best()));
  double t0 = fer__now_seconds();
  RUN(test_degenerate);
  RUN(test_shapes_every_variant);
  fprintf(stderr, "  (%.1f s so far)\n", fer__now_seconds() - t0);
  RUN(test_blocked_shapes_threads);
  fprintf(stderr, "  (%.1f s so far)\n", fer__now_seconds() - t0);
  RUN(test_far_apart_steps);
  RUN(test_workspace);
  RUN(test_allocation_failure);
  RUN(test_inside_parallel_region);
  fprintf(stderr, "  (%.1f s in all)\n", fer__now_seconds() - t0);
  return harness_finish();
}
