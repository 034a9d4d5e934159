/* The Winograd F(2x2, 3x3) convolution (lib/nn/conv_winograd.c) against a
 * direct convolution written here in double precision:
 *  - the kernel alone (fer__winograd_run), forward and adjoint, on odd and
 *    tiny sizes, one and many channels, several images per chunk;
 *  - the conv layer that uses it (3x3 "same" or pad=1, >= 8 channels, at
 *    least 128 tiles in the batch), its forward output and its input,
 *    weight and bias gradients, for batches of 1 to 67 images on 1 and 2
 *    threads (a batch of one runs the GEMM threaded; larger batches split
 *    the images), and one batch below the threshold.
 * Tolerance: |libfer - reference| <= 1e-5 x the sum of the absolute values
 * of the products in that output (float rounding of a sum of up to a few
 * thousand products, times the transforms' few extra roundings). */
#include <string.h>

#include "nn_test_util.h"
#include "nn/conv_winograd.h"
#include "nn/nn_internal.h"

#define REL 1e-5

/* Reference: y[i][f] = sum_c corr(x[i][c], w[f][c]) with one pixel of zero
 * padding; also the sum of |products| per output, for the tolerance. */
static void direct_conv(const float *x, const float *w, int n, int C, int F,
                        int H, int W, double *y, double *mag) {
  for (int i = 0; i < n; i++)
    for (int f = 0; f < F; f++)
      for (int oy = 0; oy < H; oy++)
        for (int ox = 0; ox < W; ox++) {
          double sum = 0.0, abs_sum = 0.0;
          for (int c = 0; c < C; c++)
            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++) {
                int iy = oy + ky - 1, ix = ox + kx - 1;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                double p = (double)w[((f * C + c) * 3 + ky) * 3 + kx] *
                           x[((size_t)(i * C + c) * H + iy) * W + ix];
                sum += p;
                abs_sum += fabs(p);
              }
          size_t at = ((size_t)(i * F + f) * H + oy) * W + ox;
          y[at] = sum;
          mag[at] = abs_sum;
        }
}

/* Worst |a - ref| / (REL * mag), over n values: <= 1 passes. */
static double worst_ratio(const float *a, const double *ref, const double *mag,
                          size_t n) {
  double worst = 0.0;
  for (size_t i = 0; i < n; i++) {
    double r = fabs((double)a[i] - ref[i]) / (REL * (mag[i] + 1e-30));
    if (!(r <= worst)) worst = r;
  }
  return worst;
}

/* Filters of the adjoint run from the forward filters: the input gradient of
 * conv(x, w) is conv(dy, w') with w'[c][f] = w[f][c] turned by 180 degrees. */
static void turned(const float *w, int F, int C, float *out) {
  for (int f = 0; f < F; f++)
    for (int c = 0; c < C; c++)
      for (int k = 0; k < 9; k++)
        out[(c * F + f) * 9 + k] = w[(f * C + c) * 9 + 8 - k];
}

static void check_kernel(int n, int C, int F, int H, int W, int adjoint) {
  /* Adjoint: the run goes from F channels (dy) to C (dx). */
  const int cin = adjoint ? F : C, cout = adjoint ? C : F;
  size_t in_n = (size_t)n * cin * H * W, out_n = (size_t)n * cout * H * W;
  float *x = tu_alloc(in_n), *w = tu_alloc((size_t)F * C * 9);
  float *wref = tu_alloc((size_t)F * C * 9), *y = tu_alloc(out_n);
  float *u = tu_alloc(fer__winograd_weight_floats(C, F));
  float *scratch = tu_alloc(fer__winograd_scratch_floats(C, F, H, W));
  double *ref = calloc(out_n, sizeof *ref), *mag = calloc(out_n, sizeof *mag);
  if (!ref || !mag) abort();
  tu_fill(x, in_n, (uint64_t)(n * 131 + H * 7 + W), -1, 1);
  tu_fill(w, (size_t)F * C * 9, (uint64_t)(C * 17 + F), -1, 1);
  fer__winograd_weights(w, F, C, adjoint, u);
  fer__winograd_run(u, n, cin, cout, H, W, x, y, scratch, NULL, 0, NULL);
  if (adjoint) turned(w, F, C, wref);
  else memcpy(wref, w, (size_t)F * C * 9 * sizeof(float));
  direct_conv(x, wref, n, cin, cout, H, W, ref, mag);
  double r = worst_ratio(y, ref, mag, out_n);
  CHECK_MSG(r <= 1.0, "winograd n=%d %d->%d %dx%d%s: error %.3g x tolerance",
            n, cin, cout, H, W, adjoint ? " adjoint" : "", r);
  free(x);
  free(w);
  free(wref);
  free(y);
  free(u);
  free(scratch);
  free(ref);
  free(mag);
}

static void test_kernel(void) {
  static const int shapes[][5] = {
      /* n, C, F, H, W */
      {1, 1, 1, 1, 1},  {1, 1, 2, 2, 2},   {2, 3, 2, 3, 5},   {1, 2, 3, 7, 4},
      {3, 5, 7, 9, 11}, {1, 16, 8, 48, 48}, {40, 8, 12, 6, 6}, {9, 32, 24, 12, 13},
      {70, 4, 4, 3, 3},
  };
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (int adjoint = 0; adjoint <= 1; adjoint++)
      check_kernel(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3],
                   shapes[i][4], adjoint);
}

/* The conv layer on the Winograd path against the direct reference: its
 * output, and its gradients for dy = r (dx = conv(r, w') as above,
 * dW[f][c][ky][kx] = sum x * r, db[f] = sum r), all in double. */
static void check_layer(const char *line, int n, int C, int F, int H, int W,
                        int threads) {
  CHECK_OK(fer_set_num_threads(threads));
  fer_model *m = NULL;
  CHECK_OK(fer_model_create(C, H, W, &m));
  if (!m || fer_model_add_text(m, line) != FER_OK) {
    CHECK_MSG(0, "%s: %s", line, fer_last_error());
    fer_model_free(m);
    return;
  }
  fer__layer *l = &m->layers[0];
  const int bias = l->tensor[1] != NULL;
  tu_fill(l->tensor[0], l->tensor_size[0], 5, -1, 1);
  if (bias) tu_fill(l->tensor[1], l->tensor_size[1], 6, -1, 1);
  size_t in_n = (size_t)n * C * H * W, out_n = (size_t)n * F * H * W;
  float *x = tu_alloc(in_n), *r = tu_alloc(out_n), *dx = tu_alloc(in_n);
  tu_fill(x, in_n, 7, -1, 1);
  tu_fill(r, out_n, 8, -1, 1);
  CHECK_OK(fer__workspace_prepare(m, &m->ws, n, 1));
  fer__workspace *ws = m->ws;
  const float *y = fer__forward(m, ws, x, n, 1, &m->dropout_rng);
  fer__pass pass = {.n = n, .training = 1, .threads = ws->threads,
                    .scratch = ws->scratch, .scratch_floats = ws->scratch_floats,
                    .rng = &m->dropout_rng};
  float *grads[2] = {ws->grads, bias ? ws->grads + l->tensor_size[0] : NULL};
  fer__layer_ops_of(l->kind)->backward(l, &pass, x, ws->act[0], r, dx,
                                       ws->saved[0], grads);

  double *ref = calloc(out_n > in_n ? out_n : in_n, sizeof *ref);
  double *mag = calloc(out_n > in_n ? out_n : in_n, sizeof *mag);
  if (!ref || !mag) abort();
  direct_conv(x, l->tensor[0], n, C, F, H, W, ref, mag);
  if (bias)
    for (size_t i = 0; i < out_n; i++) {
      double b = l->tensor[1][(i / ((size_t)H * W)) % F];
      ref[i] += b;
      mag[i] += fabs(b);
    }
  double ry = worst_ratio(y, ref, mag, out_n);
  float *wt = tu_alloc((size_t)F * C * 9);
  turned(l->tensor[0], F, C, wt);
  direct_conv(r, wt, n, F, C, H, W, ref, mag);
  double rdx = worst_ratio(dx, ref, mag, in_n);
  double rdw = 0.0, rdb = 0.0;
  for (int f = 0; f < F; f++)
    for (int c = 0; c < C; c++)
      for (int ky = 0; ky < 3; ky++)
        for (int kx = 0; kx < 3; kx++) {
          double sum = 0.0, abs_sum = 0.0;
          for (int i = 0; i < n; i++)
            for (int oy = 0; oy < H; oy++)
              for (int ox = 0; ox < W; ox++) {
                int iy = oy + ky - 1, ix = ox + kx - 1;
                if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                double p = (double)r[((size_t)(i * F + f) * H + oy) * W + ox] *
                           x[((size_t)(i * C + c) * H + iy) * W + ix];
                sum += p;
                abs_sum += fabs(p);
              }
          float got = grads[0][((f * C + c) * 3 + ky) * 3 + kx];
          double q = fabs(got - sum) / (REL * abs_sum + 1e-30);
          if (!(q <= rdw)) rdw = q;
        }
  if (bias)
    for (int f = 0; f < F; f++) {
      double sum = 0.0, abs_sum = 0.0;
      for (int i = 0; i < n; i++)
        for (int k = 0; k < H * W; k++) {
          double v = r[((size_t)(i * F + f)) * H * W + k];
          sum += v;
          abs_sum += fabs(v);
        }
      double q = fabs(grads[1][f] - sum) / (REL * abs_sum + 1e-30);
      if (!(q <= rdb)) rdb = q;
    }
  CHECK_MSG(ry <= 1.0 && rdx <= 1.0 && rdw <= 1.0 && rdb <= 1.0,
            "%s, %d images %dx%dx%d, %d threads: error / tolerance: y %.3g, "
            "dx %.3g, dW %.3g, db %.3g", line, n, C, H, W, threads, ry, rdx,
            rdw, rdb);
  free(x);
  free(r);
  free(dx);
  free(wt);
  free(ref);
  free(mag);
  fer_model_free(m);
}

static void test_layer(void) {
  for (int threads = 1; threads <= 2; threads++) {
    /* Batches with at least 128 tiles (the layer's Winograd threshold)... */
    check_layer("conv 8 3x3 same", 7, 8, 8, 9, 7, threads);
    check_layer("conv 12 3x3 pad=1 nobias", 1, 9, 12, 24, 23, threads);
    check_layer("conv 16 3x3 same nobias", 67, 8, 16, 6, 6, threads);
    check_layer("conv 8 3x3 same", 20, 16, 8, 13, 3, threads);
    /* ...and one below it (im2col), against the same reference. */
    check_layer("conv 8 3x3 same", 1, 8, 8, 6, 6, threads);
  }
  CHECK_OK(fer_set_num_threads(0));
}

int main(void) {
  RUN(test_kernel);
  RUN(test_layer);
  return harness_finish();
}
