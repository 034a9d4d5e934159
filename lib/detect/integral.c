/*
 * Integral images for window sums in four lookups.
 *
 *   sum[Y][X]    = sum of I(x, y) for x < X, y < Y
 *   sqsum[Y][X]  = the same of I(x, y)^2
 *   tilted[Y][X] = sum of I(x, y) for y < Y and |x - (X - 1)| <= Y - 1 - y,
 *                  the upward triangle under (X - 1, Y - 1) (cv::integral's
 *                  third output, Lienhart's rotated summed area table).
 *
 * The tilted table is built from row prefix sums R_y(k) = sum_{x<=k} I(x, y)
 * accumulated along the two diagonals:
 *   tilted[Y][X] = P_Y(X + Y - 2) - Q_Y(X - Y - 1),
 *   P_Y(k) = sum_{y<Y} R_y(k - y),   Q_Y(k) = sum_{y<Y} R_y(k + y),
 * each updated once per row over all diagonals that can be needed.
 * Arithmetic is modulo 2^32, as OpenCV's 32-bit tables are.
 */
#include "detect/detect_internal.h"

size_t fer__tilted_work_size(int w, int h) {
  /* row prefix sums (w) + P over k in [-2, w+h-2] + Q over k in [-h-1, w-1] */
  return (size_t)w + 2 * ((size_t)w + (size_t)h + 2);
}

void fer__integral(const uint8_t *img, int w, int h, size_t stride, uint32_t *sum,
                   uint32_t *sqsum, uint32_t *tilted, size_t istride, uint32_t *work) {
  for (int x = 0; x <= w; x++) sum[x] = sqsum[x] = 0;
  for (int y = 0; y < h; y++) {
    const uint8_t *row = img + (size_t)y * stride;
    uint32_t *s = sum + (size_t)(y + 1) * istride, *sp = s - istride;
    uint32_t *q = sqsum + (size_t)(y + 1) * istride, *qp = q - istride;
    uint32_t run = 0, run_sq = 0;
    s[0] = q[0] = 0;
    for (int x = 0; x < w; x++) {
      uint32_t v = row[x];
      run += v;
      run_sq += v * v;
      s[x + 1] = sp[x + 1] + run;
      q[x + 1] = qp[x + 1] + run_sq;
    }
  }
  if (!tilted) return;

  uint32_t *prefix = work;                 /* R_y(0..w-1) of the current row */
  size_t span = (size_t)w + (size_t)h + 2; /* diagonals of P and of Q */
  uint32_t *p_diag = work + w;             /* P(k) at p_diag[k + 2] */
  uint32_t *q_diag = p_diag + span;        /* Q(k) at q_diag[k + h + 1] */
  for (size_t i = 0; i < 2 * span; i++) p_diag[i] = 0;
  for (int x = 0; x <= w; x++) tilted[x] = 0;
  for (int y = 0; y < h; y++) {
    const uint8_t *row = img + (size_t)y * stride;
    uint32_t run = 0;
    for (int x = 0; x < w; x++) prefix[x] = run += row[x];
    uint32_t total = w > 0 ? prefix[w - 1] : 0;
    /* Add row y to every diagonal: P(k) += R_y(k - y), Q(k) += R_y(k + y). */
    for (long k = -2; k <= (long)w + h - 2; k++) {
      long j = k - y;
      uint32_t r = j < 0 ? 0 : j >= w ? total : prefix[j];
      p_diag[k + 2] += r;
    }
    for (long k = -(long)h - 1; k <= (long)w - 1; k++) {
      long j = k + y;
      uint32_t r = j < 0 ? 0 : j >= w ? total : prefix[j];
      q_diag[k + h + 1] += r;
    }
    /* Row Y = y + 1 of the table now uses rows 0..y. */
    long Y = y + 1;
    uint32_t *t = tilted + (size_t)Y * istride;
    for (long X = 0; X <= w; X++)
      t[X] = p_diag[X + Y - 2 + 2] - q_diag[X - Y - 1 + h + 1];
  }
}
