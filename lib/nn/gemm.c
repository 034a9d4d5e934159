/*
 * Blocked, packed SGEMM driver (the GotoBLAS/BLIS loop structure):
 *
 *   for each nc-wide column block of C            (jc)
 *     for each kc-deep slice of the shared dimension   (pc)
 *       pack op(B)[pc.., jc..] into nr-wide panels      -> L2-resident
 *       for each mc-tall row block                      (ic)
 *         (pack op(A)[ic.., pc..] into mr-tall panels, see below)
 *         for each A panel (ir): for each B panel (jr): micro-kernel tile
 *
 * The A panel (kc x mr) stays in L1 while the B panels stream from L2.
 * Packing B turns every transpose and stride into the same contiguous
 * layout; A is read in place through strides (cheaper than packing it, see
 * product_slab), so one micro-kernel per instruction set serves all four
 * transpose cases.
 * Threads each own a disjoint slab of C (a column range, or a row range when
 * C is too narrow) and pack privately: no barriers inside the loops.
 * Products with one row or one column skip packing (a matrix-vector loop).
 */
#include <stdint.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core_internal.h"
#include "nn/gemm.h"
#include "nn/gemm_kernel.h"

/* Below this many flops a second thread costs more (fork/join, a second
 * packing of the shared operand) than it saves. */
#define MIN_FLOPS_PER_THREAD 3.0e6

/* Column chunks per thread when threads share C by columns. */
#define CHUNKS_PER_THREAD 4

/* Packing memory for fer__sgemm without a workspace: small products fit on
 * the stack, so the common small calls never touch the allocator. */
#define STACK_WORKSPACE_BYTES (32 * 1024)

/* Matrix-vector path: outputs accumulated per chunk in a stack buffer, and
 * a strided input vector gathered per chunk. */
#define GEMV_OUT_CHUNK 512
#define GEMV_IN_CHUNK 1024

#define CACHE_LINE 64

/* Largest distance (in floats) between successive steps of op(A) that the
 * micro-kernel reads in place; beyond it A is packed (see product_slab). */
#define DIRECT_A_MAX_STEP 4096

/* Steps per strip when packing a transposed operand. */
#define PACK_STRIP 16

/* One product with transposes folded into strides:
 * op(A)(i, p) = a[i * a_rs + p * a_cs], op(B)(p, j) = b[p * b_rs + j * b_cs]. */
typedef struct gemm_problem {
  int m, n, k;
  float alpha, beta;
  const float *a;
  long a_rs, a_cs;
  const float *b;
  long b_rs, b_cs;
  float *c;
  long ldc;
} gemm_problem;

/* ---- Variant selection: a pure function of the CPU, no state. ---- */

#if FER__GEMM_HAVE_X86
static int cpu_has_avx2(void) {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}
static int cpu_has_avx512(void) {
  return cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
         __builtin_cpu_supports("avx512vl");
}
#endif

static const fer__gemm_kernel *kernel_if_available(fer__gemm_isa isa) {
  switch (isa) {
    case FER__GEMM_GENERIC:
      return &fer__gemm_kernel_generic;
#if FER__GEMM_HAVE_X86
    case FER__GEMM_AVX2:
      return cpu_has_avx2() ? &fer__gemm_kernel_avx2 : NULL;
    case FER__GEMM_AVX512:
      return cpu_has_avx512() ? &fer__gemm_kernel_avx512 : NULL;
#endif
    default:
      return NULL;
  }
}

int fer__gemm_isa_available(fer__gemm_isa isa) {
  return kernel_if_available(isa) != NULL;
}

fer__gemm_isa fer__gemm_isa_best(void) {
  for (int isa = FER__GEMM_ISA_COUNT - 1; isa > 0; isa--)
    if (kernel_if_available((fer__gemm_isa)isa)) return (fer__gemm_isa)isa;
  return FER__GEMM_GENERIC;
}

const char *fer__gemm_isa_name(fer__gemm_isa isa) {
  switch (isa) {
    case FER__GEMM_GENERIC: return "generic";
    case FER__GEMM_AVX2: return "avx2";
    case FER__GEMM_AVX512: return "avx512";
    default: return "unknown";
  }
}

/* ---- Workspace sizing ---- */

static size_t round_up(size_t x, size_t to) { return (x + to - 1) / to * to; }
static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* Bytes one thread packs into: a kc x mc A block and a kc x nc B block,
 * clipped to the product (a thread's slab is never larger than C). */
static size_t thread_bytes(const fer__gemm_kernel *kn, int m, int n, int k) {
  size_t kc = min_size((size_t)k, (size_t)kn->kc);
  size_t mc = min_size((size_t)kn->mc, round_up((size_t)m, (size_t)kn->mr));
  size_t nc = min_size((size_t)kn->nc, round_up((size_t)n, (size_t)kn->nr));
  return round_up(kc * (mc + nc) * sizeof(float), CACHE_LINE);
}

size_t fer__sgemm_workspace_size(int m, int n, int k, int threads) {
  if (m < 0) m = 0;
  if (n < 0) n = 0;
  if (k < 0) k = 0;
  if (threads < 1) threads = 1;
  /* Every variant compiled in, whether or not this CPU runs it, so that a
   * size computed here also fits fer__sgemm_variant. */
  size_t per = thread_bytes(&fer__gemm_kernel_generic, m, n, k);
#if FER__GEMM_HAVE_X86
  size_t avx2 = thread_bytes(&fer__gemm_kernel_avx2, m, n, k);
  size_t avx512 = thread_bytes(&fer__gemm_kernel_avx512, m, n, k);
  if (avx2 > per) per = avx2;
  if (avx512 > per) per = avx512;
#endif
  return per * (size_t)threads + CACHE_LINE; /* + room to align the start */
}

/* ---- Small helpers ---- */

static int min_int(int a, int b) { return a < b ? a : b; }

/* Part `part` of `parts` near-equal parts of [0, units). */
static void split_units(int units, int parts, int part, int *lo, int *hi) {
  int base = units / parts, extra = units % parts;
  *lo = part * base + min_int(part, extra);
  *hi = *lo + base + (part < extra ? 1 : 0);
}

static int threads_for(int max_threads, double flops) {
#ifdef _OPENMP
  if (omp_in_parallel()) return 1;
  int threads = max_threads >= 1 ? max_threads : fer__num_threads();
  double by_work = flops / MIN_FLOPS_PER_THREAD;
  if (by_work < (double)threads) threads = by_work < 1.0 ? 1 : (int)by_work;
  return threads;
#else
  (void)max_threads;
  (void)flops;
  return 1;
#endif
}

/* C = beta * C, with beta == 0 writing zeros over anything (NaN included). */
static void scale_c(const gemm_problem *pr) {
  for (int i = 0; i < pr->m; i++) {
    float *row = pr->c + i * pr->ldc;
    if (pr->beta == 0.0f) {
      memset(row, 0, (size_t)pr->n * sizeof(float));
    } else if (pr->beta != 1.0f) {
      for (int j = 0; j < pr->n; j++) row[j] *= pr->beta;
    }
  }
}

/* The last resort when no packing memory can be had: correct, unhurried. */
static void unpacked_product(const gemm_problem *pr) {
  for (int i = 0; i < pr->m; i++) {
    for (int j = 0; j < pr->n; j++) {
      float sum = 0.0f;
      for (int p = 0; p < pr->k; p++)
        sum += pr->a[i * pr->a_rs + p * pr->a_cs] *
               pr->b[p * pr->b_rs + j * pr->b_cs];
      float *cv = &pr->c[i * pr->ldc + j];
      *cv = pr->beta == 0.0f ? pr->alpha * sum : pr->alpha * sum + pr->beta * *cv;
    }
  }
}

/* ---- Packing ---- */

/* Rows [i0, i0 + rows_total) x steps [p0, p0 + kc) of op(A) into mr-row
 * panels, p-major within a panel, short panels zero-padded to mr rows.
 * Only used for a transposed A with far-apart steps (product_slab), where
 * each step's mr values are contiguous. */
static void pack_a(const fer__gemm_kernel *kn, const gemm_problem *pr, int i0,
                   int rows_total, int p0, int kc, float *dst) {
  const int mr = kn->mr;
  for (int ir = 0; ir < rows_total; ir += mr, dst += (long)kc * mr) {
    const int rows = min_int(mr, rows_total - ir);
    const float *src = pr->a + (i0 + ir) * pr->a_rs + p0 * pr->a_cs;
    for (int p = 0; p < kc; p++) {
      const float *s = src + p * pr->a_cs;
      float *d = dst + (long)p * mr;
      for (int i = 0; i < rows; i++) d[i] = s[i * pr->a_rs];
      for (int i = rows; i < mr; i++) d[i] = 0.0f;
    }
  }
}

/* n floats from s to d, 16 at a time with a constant size, which the
 * compiler turns into a few vector moves: a panel row is 16 or 48 floats,
 * and a libc memcpy call per 64 bytes cost more than the copy itself (10%
 * of a batch-1 prediction of the default net went to it). */
static inline void copy_floats(float *d, const float *s, int n) {
  int j = 0;
  for (; j + 16 <= n; j += 16) memcpy(d + j, s + j, 16 * sizeof(float));
  if (j < n) memcpy(d + j, s + j, (size_t)(n - j) * sizeof(float));
}

/* Steps [p0, p0 + kc) x columns [j0, j0 + cols_total) of op(B) into nr-wide
 * panels, p-major within a panel, short panels zero-padded to nr columns. */
static void pack_b(const fer__gemm_kernel *kn, const gemm_problem *pr, int p0,
                   int kc, int j0, int cols_total, float *dst) {
  const int nr = kn->nr;
  for (int jr = 0; jr < cols_total; jr += nr, dst += (long)kc * nr) {
    const int cols = min_int(nr, cols_total - jr);
    const float *src = pr->b + p0 * pr->b_rs + (j0 + jr) * pr->b_cs;
    if (pr->b_cs == 1) { /* plain B: a panel row is a contiguous copy */
      for (int p = 0; p < kc; p++) {
        float *d = dst + (long)p * nr;
        copy_floats(d, src + p * pr->b_rs, cols);
        for (int j = cols; j < nr; j++) d[j] = 0.0f;
      }
    } else { /* transposed B: each column is contiguous along p */
      /* A transpose, in strips of PACK_STRIP steps so that the strip being
       * written (PACK_STRIP x nr floats) stays in L1 instead of touching
       * kc cache lines per column. */
      for (int strip = 0; strip < kc; strip += PACK_STRIP) {
        const int steps = min_int(PACK_STRIP, kc - strip);
        for (int j = 0; j < cols; j++) {
          const float *s = src + j * pr->b_cs + strip * pr->b_rs;
          float *d = dst + (long)strip * nr + j;
          for (int p = 0; p < steps; p++) d[(long)p * nr] = s[p * pr->b_rs];
        }
        for (int p = 0; p < steps; p++)
          for (int j = cols; j < nr; j++) dst[(long)(strip + p) * nr + j] = 0.0f;
      }
    }
  }
}

/* ---- The blocked product over one thread's slab of C ---- */

static void product_slab(const fer__gemm_kernel *kn, const gemm_problem *pr,
                         int i0, int i1, int j0, int j1, float *packed) {
  const int kc_max = min_int(kn->kc, pr->k);
  float *packed_b = packed;
  float *packed_a =
      packed + (long)kc_max * min_int(kn->nc, (int)round_up((size_t)pr->n, (size_t)kn->nr));
  for (int jc = j0; jc < j1; jc += kn->nc) {
    const int nc = min_int(kn->nc, j1 - jc);
    for (int pc = 0; pc < pr->k; pc += kn->kc) {
      const int kc = min_int(kn->kc, pr->k - pc);
      /* The first slice applies the caller's beta; later ones accumulate. */
      const float beta = pc == 0 ? pr->beta : 1.0f;
      pack_b(kn, pr, pc, kc, jc, nc, packed_b);
      for (int ic = i0; ic < i1; ic += kn->mc) {
        const int mc = min_int(kn->mc, i1 - ic);
        /* The tile reads A in place (its A panel, kc x mr floats, stays in
         * L1 across the jr loop either way): measured faster than packing
         * for both layouts, as it saves a pass over A. Only a transposed A
         * whose steps are so far apart that each lands on another page is
         * packed, to spare the TLB. */
        const int direct_a = pr->a_cs <= DIRECT_A_MAX_STEP;
        if (!direct_a) pack_a(kn, pr, ic, mc, pc, kc, packed_a);
        for (int ir = 0; ir < mc; ir += kn->mr) {
          const float *a_panel =
              direct_a ? pr->a + (ic + ir) * pr->a_rs + pc * pr->a_cs
                       : packed_a + (long)ir * kc;
          const long a_rs = direct_a ? pr->a_rs : 1;
          const long a_cs = direct_a ? pr->a_cs : kn->mr;
          float *c_row = pr->c + (ic + ir) * pr->ldc;
          const int rows = min_int(kn->mr, mc - ir);
          for (int jr = 0; jr < nc; jr += kn->nr)
            kn->tile(kc, a_panel, a_rs, a_cs, packed_b + (long)jr * kc,
                     c_row + jc + jr, pr->ldc, rows, min_int(kn->nr, nc - jr),
                     pr->alpha, beta);
        }
      }
    }
  }
}

/* Whether to give threads column ranges rather than row ranges: whichever
 * divides more evenly among nt threads, columns on a tie (row ranges make
 * every thread pack all of B; column ranges duplicate nothing, A is read in
 * place). Compares ceil(units / nt) / units, cross-multiplied. */
static int split_columns(int col_units, int row_units, int nt) {
  long col_slowest = (col_units + nt - 1) / nt, row_slowest = (row_units + nt - 1) / nt;
  return col_slowest * row_units <= row_slowest * col_units;
}

/* Thread `t` of a team of `nt`: its share of C. Column ranges are handed
 * out dynamically in a few chunks per thread (they duplicate no work), so a
 * thread that the OS preempts on a busy machine delays the call by one
 * chunk, not by its whole share. Row ranges each repack all of B, so they
 * stay one per thread. Every thread of the team must call this. */
static void product_thread(const fer__gemm_kernel *kn, const gemm_problem *pr,
                           int t, int nt, float *packed) {
  const int col_units = (pr->n + kn->nr - 1) / kn->nr;
  const int row_units = (pr->m + kn->mr - 1) / kn->mr;
  int lo, hi;
  if (nt == 1) {
    product_slab(kn, pr, 0, pr->m, 0, pr->n, packed);
  } else if (split_columns(col_units, row_units, nt)) {
    const int chunks = min_int(col_units, CHUNKS_PER_THREAD * nt);
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 1)
#endif
    for (int chunk = 0; chunk < chunks; chunk++) {
      split_units(col_units, chunks, chunk, &lo, &hi);
      product_slab(kn, pr, 0, pr->m, lo * kn->nr, min_int(hi * kn->nr, pr->n),
                   packed);
    }
  } else {
    split_units(row_units, nt, t, &lo, &hi);
    if (lo < hi)
      product_slab(kn, pr, lo * kn->mr, min_int(hi * kn->mr, pr->m), 0, pr->n,
                   packed);
  }
}

/* ---- One row or one column: matrix-vector, no packing ---- */

/* y[o] = alpha * sum_p x[p] * M(p, o) + beta * y[o] for o in [lo, hi).
 * "axpy form": M(p, o) = mat[p * line + o] (rows of M contiguous in o);
 * otherwise "dot form": M(p, o) = mat[o * line + p]. */
typedef struct gemv_problem {
  int k;
  int axpy_form;
  const float *mat;
  long line;
  const float *x;
  long x_stride;
  float *y;
  long y_stride;
  float alpha, beta;
} gemv_problem;

static void gemv_range(const fer__gemm_kernel *kn, const gemv_problem *g,
                       int lo, int hi) {
  float acc[GEMV_OUT_CHUNK];
  float x_chunk[GEMV_IN_CHUNK];
  for (int o0 = lo; o0 < hi; o0 += GEMV_OUT_CHUNK) {
    const int len = min_int(GEMV_OUT_CHUNK, hi - o0);
    memset(acc, 0, (size_t)len * sizeof(float));
    if (g->axpy_form) {
      kn->gemv_rows(g->k, len, g->x, g->x_stride, g->mat + o0, g->line, acc);
    } else if (g->x_stride == 1) {
      kn->gemv_dots(len, g->k, g->x, g->mat + o0 * g->line, g->line, acc);
    } else { /* gather x per chunk so the dots read it contiguously */
      for (int p0 = 0; p0 < g->k; p0 += GEMV_IN_CHUNK) {
        const int plen = min_int(GEMV_IN_CHUNK, g->k - p0);
        for (int p = 0; p < plen; p++) x_chunk[p] = g->x[(p0 + p) * g->x_stride];
        kn->gemv_dots(len, plen, x_chunk, g->mat + o0 * g->line + p0, g->line,
                      acc);
      }
    }
    for (int o = 0; o < len; o++) {
      float *yv = g->y + (o0 + o) * g->y_stride;
      *yv = g->beta == 0.0f ? g->alpha * acc[o] : g->alpha * acc[o] + g->beta * *yv;
    }
  }
}

static void gemv_product(const fer__gemm_kernel *kn, const gemm_problem *pr,
                         int threads) {
  gemv_problem g;
  int outputs;
  g.k = pr->k;
  g.alpha = pr->alpha;
  g.beta = pr->beta;
  if (pr->m == 1) { /* C row = x^T op(B), x = row 0 of op(A) */
    outputs = pr->n;
    g.x = pr->a;
    g.x_stride = pr->a_cs;
    g.y = pr->c;
    g.y_stride = 1;
    g.mat = pr->b;
    g.axpy_form = pr->b_cs == 1;
    g.line = g.axpy_form ? pr->b_rs : pr->b_cs;
  } else { /* C column = op(A) x, x = column 0 of op(B) */
    outputs = pr->m;
    g.x = pr->b;
    g.x_stride = pr->b_rs;
    g.y = pr->c;
    g.y_stride = pr->ldc;
    g.mat = pr->a;
    g.axpy_form = pr->a_rs == 1;
    g.line = g.axpy_form ? pr->a_cs : pr->a_rs;
  }
  if (threads > outputs / 16) threads = outputs / 16 > 1 ? outputs / 16 : 1;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int lo, hi;
    int units = (outputs + 15) / 16;
    split_units(units, omp_get_num_threads(), omp_get_thread_num(), &lo, &hi);
    if (lo < hi) gemv_range(kn, &g, lo * 16, min_int(hi * 16, outputs));
  }
#else
  (void)threads;
  gemv_range(kn, &g, 0, outputs);
#endif
}

/* ---- Entry points ---- */

static void sgemm_with(const fer__gemm_kernel *kn, int max_threads,
                       int trans_a, int trans_b, int m, int n, int k,
                       float alpha, const float *a, int lda, const float *b,
                       int ldb, float beta, float *c, int ldc, void *workspace,
                       size_t workspace_size) {
  if (m <= 0 || n <= 0) return;
  gemm_problem pr = {
      .m = m, .n = n, .k = k < 0 ? 0 : k, .alpha = alpha, .beta = beta,
      .a = a, .a_rs = trans_a ? 1 : lda, .a_cs = trans_a ? lda : 1,
      .b = b, .b_rs = trans_b ? 1 : ldb, .b_cs = trans_b ? ldb : 1,
      .c = c, .ldc = ldc,
  };
  if (pr.k == 0 || alpha == 0.0f) { /* BLAS convention: A and B unread */
    scale_c(&pr);
    return;
  }
  int threads = threads_for(max_threads, 2.0 * m * n * k);
  if (m == 1 || n == 1) {
    gemv_product(kn, &pr, threads);
    return;
  }

  const size_t per_thread = thread_bytes(kn, m, n, k);
  _Alignas(CACHE_LINE) unsigned char stack_space[STACK_WORKSPACE_BYTES];
  unsigned char *base = NULL;
  void *allocated = NULL;
  if (workspace && workspace_size >= per_thread + CACHE_LINE) {
    size_t fit = (workspace_size - CACHE_LINE) / per_thread;
    if (fit < (size_t)threads) threads = (int)fit;
    base = (unsigned char *)round_up((uintptr_t)workspace, CACHE_LINE);
  } else if (per_thread * (size_t)threads <= sizeof stack_space) {
    base = stack_space;
  } else {
    allocated = fer__malloc(per_thread * (size_t)threads + CACHE_LINE);
    if (!allocated && threads > 1) {
      threads = 1;
      allocated = fer__malloc(per_thread + CACHE_LINE);
    }
    if (!allocated) {
      unpacked_product(&pr);
      return;
    }
    base = (unsigned char *)round_up((uintptr_t)allocated, CACHE_LINE);
  }

#ifdef _OPENMP
#pragma omp parallel num_threads(threads) if (threads > 1)
  {
    int t = omp_get_thread_num(), nt = omp_get_num_threads();
    product_thread(kn, &pr, t, nt, (float *)(void *)(base + per_thread * (size_t)t));
  }
#else
  product_thread(kn, &pr, 0, 1, (float *)(void *)base);
#endif
  fer__free(allocated);
}

void fer__sgemm_variant(fer__gemm_isa isa, int max_threads, int trans_a,
                        int trans_b, int m, int n, int k, float alpha,
                        const float *a, int lda, const float *b, int ldb,
                        float beta, float *c, int ldc, void *workspace,
                        size_t workspace_size) {
  const fer__gemm_kernel *kn = kernel_if_available(isa);
  if (!kn) kn = kernel_if_available(fer__gemm_isa_best());
  sgemm_with(kn, max_threads, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
             beta, c, ldc, workspace, workspace_size);
}

void fer__sgemm_ws(int trans_a, int trans_b, int m, int n, int k, float alpha,
                   const float *a, int lda, const float *b, int ldb,
                   float beta, float *c, int ldc, void *workspace,
                   size_t workspace_size) {
  sgemm_with(kernel_if_available(fer__gemm_isa_best()), 0, trans_a, trans_b, m,
             n, k, alpha, a, lda, b, ldb, beta, c, ldc, workspace,
             workspace_size);
}

void fer__sgemm(int trans_a, int trans_b, int m, int n, int k, float alpha,
                const float *a, int lda, const float *b, int ldb, float beta,
                float *c, int ldc) {
  fer__sgemm_ws(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc,
                NULL, 0);
}
