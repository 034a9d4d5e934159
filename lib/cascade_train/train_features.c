/*
 * The Haar feature pool of a training window. Each feature is a whole
 * rectangle of weight -1 with one or two inner rectangles weighted so that
 * a flat patch sums to zero (the form opencv_traincascade uses too):
 * edges (2 cells), lines (3 cells), a 2x2 chequer and a centre-surround
 * (3x3 cells), each cell dx x dy; the tilted set adds the 45-degree
 * versions (Lienhart and Maydt) of edges, lines and centre-surround.
 */
#include <string.h>

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"

typedef struct pool_builder {
  fer__cascade_feature *items;
  size_t count, capacity;
  int failed;
} pool_builder;

static void rect(fer__haar_rect *r, int x, int y, int w, int h, float weight) {
  r->x = x;
  r->y = y;
  r->width = w;
  r->height = h;
  r->weight = weight;
}

static void push(pool_builder *b, const fer__cascade_feature *f) {
  if (b->failed) return;
  if (b->count == b->capacity) {
    size_t cap = b->capacity ? b->capacity * 2 : 4096;
    fer__cascade_feature *p = fer__realloc(b->items, fer__mul_size(cap, sizeof *p));
    if (!p) {
      b->failed = 1;
      return;
    }
    b->items = p;
    b->capacity = cap;
  }
  b->items[b->count++] = *f;
}

/* Cell counts across and down of each kind, and the inner rectangles'
 * cells and weight (the whole rectangle always has weight -1). */
typedef struct kind {
  int cx, cy;
  int inner_count;
  int inner[2][2]; /* cell column, row */
  float weight;
} kind;

static const kind kinds[] = {
  {2, 1, 1, {{1, 0}}, 2.f},         /* edge, left-right */
  {1, 2, 1, {{0, 1}}, 2.f},         /* edge, top-bottom */
  {3, 1, 1, {{1, 0}}, 3.f},         /* line, vertical bar */
  {1, 3, 1, {{0, 1}}, 3.f},         /* line, horizontal bar */
  {3, 3, 1, {{1, 1}}, 9.f},         /* centre-surround */
  {2, 2, 2, {{0, 0}, {1, 1}}, 2.f}, /* chequer (upright only) */
};

static void enumerate_upright(pool_builder *b, int W, int H, int step) {
  for (size_t k = 0; k < FER__ARRAY_LEN(kinds); k++) {
    const kind *kd = &kinds[k];
    for (int dx = 1; kd->cx * dx <= W; dx += step)
      for (int dy = 1; kd->cy * dy <= H; dy += step)
        for (int y = 0; y + kd->cy * dy <= H; y += step)
          for (int x = 0; x + kd->cx * dx <= W; x += step) {
            fer__cascade_feature f;
            memset(&f, 0, sizeof f);
            rect(&f.rect[0], x, y, kd->cx * dx, kd->cy * dy, -1.f);
            for (int i = 0; i < kd->inner_count; i++)
              rect(&f.rect[1 + i], x + kd->inner[i][0] * dx, y + kd->inner[i][1] * dy, dx, dy,
                   kd->weight);
            push(b, &f);
          }
  }
}

/* A tilted rectangle (x, y, w, h) runs w pixels down-right and h pixels
 * down-left from its top corner (x, y); cell (i, j) of cells dx x dy starts
 * at (x + i dx - j dy, y + i dx + j dy). */
static void enumerate_tilted(pool_builder *b, int W, int H, int step) {
  for (size_t k = 0; k + 1 < FER__ARRAY_LEN(kinds); k++) {
    const kind *kd = &kinds[k];
    for (int dx = 1; kd->cx * dx <= W; dx += step)
      for (int dy = 1; kd->cy * dy <= H; dy += step) {
        int rw = kd->cx * dx, rh = kd->cy * dy;
        for (int y = 0; y + rw + rh <= H; y += step)
          for (int x = rh; x + rw <= W; x += step) {
            fer__cascade_feature f;
            memset(&f, 0, sizeof f);
            f.tilted = 1;
            rect(&f.rect[0], x, y, rw, rh, -1.f);
            int ci = kd->inner[0][0], cj = kd->inner[0][1];
            rect(&f.rect[1], x + ci * dx - cj * dy, y + ci * dx + cj * dy, dx, dy, kd->weight);
            push(b, &f);
          }
      }
  }
}

fer_status fer__feature_pool_build(fer__feature_pool *pool, int w, int h, int tilted, int step,
                                   size_t max, uint64_t seed, size_t stride) {
  memset(pool, 0, sizeof *pool);
  pool_builder b = {0};
  enumerate_upright(&b, w, h, step);
  if (tilted) enumerate_tilted(&b, w, h, step);
  if (b.failed) {
    fer__free(b.items);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory for features");
  }
  return fer__feature_pool_finish(pool, b.items, b.count, FER_CASCADE_HAAR, w, h, max, seed,
                                  stride);
}

fer_status fer__feature_pool_finish(fer__feature_pool *pool, fer__cascade_feature *items,
                                    size_t count, int feature_type, int w, int h, size_t max,
                                    uint64_t seed, size_t stride) {
  memset(pool, 0, sizeof *pool);
  if (max > 0 && count > max) {
    /* Selection sampling (Knuth's algorithm S): a uniform subset of `max`,
     * kept in enumeration order. */
    fer__rng rng;
    fer__rng_seed(&rng, seed ^ 0x66656174u);
    size_t kept = 0;
    for (size_t i = 0; i < count && kept < max; i++) {
      uint64_t left = count - i, need = max - kept;
      if (fer__rng_next(&rng) % left < need) items[kept++] = items[i];
    }
    count = kept;
  }
  pool->features = items;
  pool->count = count;
  pool->lbp = feature_type == FER_CASCADE_LBP;
  pool->opt = fer__calloc(count ? count : 1, sizeof *pool->opt);
  if (!pool->opt) {
    fer__feature_pool_release(pool);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory for features");
  }
  /* Resolve offsets through the scan's own plan code: a one-feature
   * cascade per feature would be wasteful, so share one plan of all. */
  fer_cascade c;
  memset(&c, 0, sizeof c);
  c.feature_type = feature_type;
  c.window_width = w;
  c.window_height = h;
  c.feature_count = (int32_t)count;
  c.features = items;
  c.max_nodes_per_tree = 2; /* no stump table needed */
  fer__scan_plan plan;
  memset(&plan, 0, sizeof plan);
  fer_status st = fer__scan_plan_build(&plan, &c, stride);
  if (st != FER_OK) {
    fer__feature_pool_release(pool);
    return st;
  }
  memcpy(pool->opt, plan.features, count * sizeof *pool->opt);
  fer__scan_plan_release(&plan);
  return FER_OK;
}

void fer__feature_pool_release(fer__feature_pool *pool) {
  fer__free(pool->features);
  fer__free(pool->opt);
  memset(pool, 0, sizeof *pool);
}
