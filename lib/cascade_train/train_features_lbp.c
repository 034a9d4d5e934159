/*
 * The multi-block LBP feature pool of a training window (Liao et al.,
 * "Learning Multi-scale Block Local Binary Patterns", 2007): a 3x3 grid
 * of equal bw x bh blocks whose 8-bit code compares each outer block's sum
 * with the centre block's. A feature is stored as a loaded LBP cascade
 * stores it, rect[0] = (x, y, bw, bh) of the top-left block and every other
 * field zero, so the scan evaluates a trained feature exactly as it
 * evaluates one read from OpenCV's XML.
 */
#include <string.h>

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"

fer_status fer__feature_pool_build_lbp(fer__feature_pool *pool, int w, int h, int step,
                                       size_t max, uint64_t seed, size_t stride) {
  memset(pool, 0, sizeof *pool);
  /* Count first so that one allocation holds them all. */
  size_t count = 0;
  for (int bw = 1; 3 * bw <= w; bw += step)
    for (int bh = 1; 3 * bh <= h; bh += step)
      count += (size_t)((w - 3 * bw) / step + 1) * (size_t)((h - 3 * bh) / step + 1);
  if (count == 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "cascade trainer: no LBP feature fits a %dx%d window", w, h);
  fer__cascade_feature *items = fer__calloc(count, sizeof *items);
  if (!items)
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory for features");
  size_t k = 0;
  for (int bw = 1; 3 * bw <= w; bw += step)
    for (int bh = 1; 3 * bh <= h; bh += step)
      for (int y = 0; y + 3 * bh <= h; y += step)
        for (int x = 0; x + 3 * bw <= w; x += step) {
          fer__haar_rect *r = &items[k++].rect[0];
          r->x = x;
          r->y = y;
          r->width = bw;
          r->height = bh;
        }
  return fer__feature_pool_finish(pool, items, k, FER_CASCADE_LBP, w, h, max, seed, stride);
}
