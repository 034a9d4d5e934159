/* The row scan (fer__scan_row, batched for Haar stumps) against a plain
 * per-window reference written here from the cascade's own records: rect
 * corners read straight from the integral tables, trees walked node by
 * node, OpenCV's rounding (float feature values, double stage sums, float
 * for LBP stumps) and its skip-after-stage-0-rejection rule replayed
 * window by window. Every window row of every level is compared at step 1
 * and step 2: the x of each passing window and its score, bit for bit.
 *
 * Cascades: a random Haar stump cascade with tilted and 3-rectangle
 * features (always), libfer's models/frontalface.fercascade, and when
 * opencv-data is installed OpenCV's frontal-face Haar cascade, a tilted
 * stump cascade (frontalcatface_extended), a tree cascade (alt2) and an
 * LBP cascade; each is also cut to its first 1, 2 and 3 stages, which
 * makes the passing set show exactly which windows were evaluated.
 * Images: generated ones at every width that leaves a partial batch, and
 * photos from ../shared/data/faces when present. */
#include <math.h>

#include "core/core_internal.h"
#include "detect/detect_internal.h"
#include "harness.h"

#define MAX_COLS 1024

/* ---- integral tables of one image --------------------------------------- */

typedef struct level {
  int w, h;
  size_t stride;
  uint32_t *sum, *sqsum, *tilted, *work;
} level;

static int level_make(level *l, const uint8_t *img, int w, int h, size_t stride) {
  l->w = w;
  l->h = h;
  l->stride = (size_t)w + 1;
  size_t plane = l->stride * ((size_t)h + 1);
  l->sum = calloc(3 * plane, sizeof(uint32_t));
  l->work = calloc(fer__tilted_work_size(w, h), sizeof(uint32_t));
  if (!l->sum || !l->work) return 0;
  l->sqsum = l->sum + plane;
  l->tilted = l->sqsum + plane;
  fer__integral(img, w, h, stride, l->sum, l->sqsum, l->tilted, l->stride, l->work);
  return 1;
}

static void level_free(level *l) {
  free(l->sum);
  free(l->work);
}

/* ---- the reference ------------------------------------------------------- */

/* Table entry at column x, row y, modulo 2^32 as the tables are. */
static uint32_t at(const uint32_t *t, size_t stride, long x, long y) {
  return t[(size_t)y * stride + (size_t)x];
}

/* An upright rectangle of the window at (wx, wy). */
static int32_t upright_sum(const uint32_t *t, size_t stride, long wx, long wy,
                           const fer__haar_rect *r) {
  long x0 = wx + r->x, y0 = wy + r->y, x1 = x0 + r->width, y1 = y0 + r->height;
  return (int32_t)(at(t, stride, x0, y0) - at(t, stride, x1, y0) - at(t, stride, x0, y1) +
                   at(t, stride, x1, y1));
}

/* A 45-degree rectangle: the table's corners at the top (x, y), left
 * (x - h, y + h), right (x + w, y + w) and bottom (x + w - h, y + w + h). */
static int32_t tilted_sum(const uint32_t *t, size_t stride, long wx, long wy,
                          const fer__haar_rect *r) {
  long x = wx + r->x, y = wy + r->y, w = r->width, h = r->height;
  return (int32_t)(at(t, stride, x, y) - at(t, stride, x - h, y + h) -
                   at(t, stride, x + w, y + w) + at(t, stride, x + w - h, y + w + h));
}

static float ref_haar_feature(const fer_cascade *c, const level *l, int32_t fi, long x, long y) {
  const fer__cascade_feature *f = &c->features[fi];
  int32_t r[3];
  for (int k = 0; k < 3; k++)
    r[k] = f->tilted ? tilted_sum(l->tilted, l->stride, x, y, &f->rect[k])
                     : upright_sum(l->sum, l->stride, x, y, &f->rect[k]);
  float value = f->rect[0].weight * (float)r[0] + f->rect[1].weight * (float)r[1];
  if (f->rect[2].weight != 0.0f) value += f->rect[2].weight * (float)r[2];
  return value;
}

static int ref_lbp_code(const fer_cascade *c, const level *l, int32_t fi, long x, long y) {
  const fer__haar_rect *b = &c->features[fi].rect[0];
  int32_t block[3][3];
  for (int i = 0; i < 3; i++)
    for (int j = 0; j < 3; j++) {
      fer__haar_rect r = {b->x + j * b->width, b->y + i * b->height, b->width, b->height, 1.f};
      block[i][j] = upright_sum(l->sum, l->stride, x, y, &r);
    }
  /* Clockwise from the top-left block, most significant bit first. */
  static const int order[8][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 2}, {2, 2}, {2, 1}, {2, 0}, {1, 0}};
  int code = 0;
  for (int k = 0; k < 8; k++)
    code = code << 1 | (block[order[k][0]][order[k][1]] >= block[1][1]);
  return code;
}

/* One window: 1 (score = last stage sum), 0 when stage 0 rejects it, -1
 * otherwise. */
static int ref_window(const fer_cascade *c, const level *l, long x, long y, double *score) {
  float inv_nf = 0;
  if (c->feature_type == FER_CASCADE_HAAR) {
    fer__haar_rect inner = {1, 1, c->window_width - 2, c->window_height - 2, 1.f};
    int32_t s = upright_sum(l->sum, l->stride, x, y, &inner);
    uint32_t sq = (uint32_t)upright_sum(l->sqsum, l->stride, x, y, &inner);
    double area = (double)inner.width * inner.height;
    double nf = area * (double)sq - (double)s * (double)s;
    if (!(nf > 0)) return -1;
    inv_nf = (float)(1.0 / sqrt(nf));
    if (!(area * inv_nf < 0.1)) return -1;
  }
  int stumps = c->max_nodes_per_tree == 1;
  for (int32_t si = 0; si < c->stage_count; si++) {
    const fer__cascade_stage *st = &c->stages[si];
    double sum_double = 0;
    float sum_float = 0; /* OpenCV adds LBP stumps in float */
    for (int32_t t = st->first_tree; t < st->first_tree + st->tree_count; t++) {
      const fer__cascade_tree *tr = &c->trees[t];
      int32_t idx = 0, leaf;
      for (;;) {
        int32_t node = tr->first_node + idx;
        const fer__cascade_node *n = &c->nodes[node];
        int left;
        if (c->feature_type == FER_CASCADE_HAAR) {
          float value = ref_haar_feature(c, l, n->feature, x, y) * inv_nf;
          left = value < n->threshold;
        } else {
          int code = ref_lbp_code(c, l, n->feature, x, y);
          const uint32_t *subset = c->subsets + (size_t)node * FER__LBP_SUBSET_WORDS;
          left = (subset[code / 32] >> (code % 32)) & 1u;
        }
        /* A stump's leaves are its first and second, as OpenCV reads them. */
        if (stumps) {
          leaf = left ? 0 : 1;
          break;
        }
        idx = left ? n->left : n->right;
        if (idx <= 0) {
          leaf = -idx;
          break;
        }
      }
      float value = c->leaves[tr->first_leaf + leaf];
      if (c->feature_type == FER_CASCADE_LBP && stumps) sum_float += value;
      else sum_double += value;
    }
    double stage_sum = c->feature_type == FER_CASCADE_LBP && stumps ? sum_float : sum_double;
    *score = stage_sum;
    if (stage_sum < st->threshold) return si == 0 ? 0 : -1;
  }
  return 1;
}

static int ref_row(const fer_cascade *c, const level *l, long y, int cols, int step, int32_t *xs,
                   double *scores) {
  int found = 0;
  for (int x = 0; x < cols; x += step) {
    double score = 0;
    int r = ref_window(c, l, x, y, &score);
    if (r > 0) {
      xs[found] = x;
      scores[found++] = score;
    }
    if (r == 0) x += step; /* the window after a stage-0 rejection is skipped */
  }
  return found;
}

/* ---- comparison ---------------------------------------------------------- */

typedef int (*row_fn)(const fer__scan_plan *, const fer__level_view *, size_t, int, int,
                      int32_t *, double *);

static long windows_passed, rows_compared;

/* Every row of `l` at `step` through `fn` against the reference; returns
 * the number of mismatching rows (the first few are printed). */
static int compare_rows(const fer_cascade *c, const level *l, int step, row_fn fn,
                        const char *what) {
  int cols = l->w + 1 - c->window_width, rows = l->h + 1 - c->window_height;
  if (cols <= 0 || rows <= 0 || cols > MAX_COLS) return 0;
  fer__scan_plan plan;
  memset(&plan, 0, sizeof plan);
  if (fer__scan_plan_build(&plan, c, l->stride) != FER_OK) return 1;
  fer__level_view view = {l->sum, l->sqsum, c->has_tilted ? l->tilted : NULL};
  static int32_t want_x[MAX_COLS], got_x[MAX_COLS];
  static double want_score[MAX_COLS], got_score[MAX_COLS];
  int bad = 0;
  for (int y = 0; y < rows; y += step) {
    int want = ref_row(c, l, y, cols, step, want_x, want_score);
    int got = fn(&plan, &view, (size_t)y * l->stride, cols, step, got_x, got_score);
    rows_compared++;
    windows_passed += want;
    int same = want == got && memcmp(want_x, got_x, (size_t)want * sizeof *want_x) == 0 &&
               memcmp(want_score, got_score, (size_t)want * sizeof *want_score) == 0;
    if (!same && bad++ < 3)
      fprintf(stderr, "%s: %dx%d, step %d, row %d: %d windows passed, expected %d%s\n", what,
              l->w, l->h, step, y, got, want, want == got ? " (x or score differ)" : "");
  }
  fer__scan_plan_release(&plan);
  return bad;
}

/* The cascade as it is and cut to its first 1, 2 and 3 stages, through the
 * dispatching row scan and both of its paths. */
static void compare_cascade(fer_cascade *c, const level *l, const char *name) {
  int32_t stages = c->stage_count;
  static const int32_t cuts[] = {1, 2, 3, 0};
  for (int k = 0; k < 4; k++) {
    int32_t keep = cuts[k] ? cuts[k] : stages;
    if (keep > stages) continue;
    c->stage_count = keep;
    char what[256];
    for (int step = 1; step <= 2; step++) {
      snprintf(what, sizeof what, "%s (%d stages), fer__scan_row", name, (int)keep);
      CHECK_EQ_INT(compare_rows(c, l, step, fer__scan_row, what), 0);
      snprintf(what, sizeof what, "%s (%d stages), scalar", name, (int)keep);
      CHECK_EQ_INT(compare_rows(c, l, step, fer__scan_row_scalar, what), 0);
      if (c->feature_type == FER_CASCADE_HAAR && c->max_nodes_per_tree == 1) {
        snprintf(what, sizeof what, "%s (%d stages), batched", name, (int)keep);
        CHECK_EQ_INT(compare_rows(c, l, step, fer__scan_row_batched, what), 0);
      }
    }
  }
  c->stage_count = stages;
}

/* ---- images -------------------------------------------------------------- */

static uint32_t rng_state = 2463534242u;
static uint32_t rng_next(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* Random blocks of several sizes over a smooth ramp, with a flat patch
 * (rejected by the variance test) and a noisy band, so that windows die
 * at every stage. */
static void make_image(uint8_t *img, int w, int h) {
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++) img[(size_t)y * w + x] = (uint8_t)((x * 3 + y * 2) & 255);
  for (int i = 0; i < w * h / 40; i++) {
    int bw = 1 + (int)(rng_next() % 8), bh = 1 + (int)(rng_next() % 8);
    int bx = (int)(rng_next() % (unsigned)w), by = (int)(rng_next() % (unsigned)h);
    uint8_t v = (uint8_t)rng_next();
    for (int y = by; y < by + bh && y < h; y++)
      for (int x = bx; x < bx + bw && x < w; x++) img[(size_t)y * w + x] = v;
  }
  for (int y = h / 3; y < h / 3 + h / 4; y++)
    for (int x = w / 4; x < w / 2; x++) img[(size_t)y * w + x] = 77;
  for (int y = 2 * h / 3; y < h; y++)
    for (int x = 0; x < w; x++)
      if (rng_next() % 3 == 0) img[(size_t)y * w + x] = (uint8_t)rng_next();
}

/* Generated images of every width from the window to two step-2 batches
 * and a bit more (every partial-batch length at both steps), and a larger
 * one. */
static void compare_on_generated(fer_cascade *c, const char *name) {
  int ww = c->window_width, wh = c->window_height;
  for (int extra = 0; extra <= 2 * 16 + 3; extra++) {
    int w = ww + extra, h = wh + 4;
    uint8_t *img = malloc((size_t)w * h);
    level l;
    if (img) make_image(img, w, h);
    if (!img || !level_make(&l, img, w, h, (size_t)w)) {
      CHECK(0);
      free(img);
      return;
    }
    compare_cascade(c, &l, name);
    level_free(&l);
    free(img);
  }
  int w = 4 * ww + 21, h = 3 * wh + 7;
  uint8_t *img = malloc((size_t)w * h);
  level l;
  if (img) make_image(img, w, h);
  if (img && level_make(&l, img, w, h, (size_t)w)) {
    compare_cascade(c, &l, name);
    level_free(&l);
  } else {
    CHECK(0);
  }
  free(img);
}

/* A few shared photos in gray, shrunk to at most 200 pixels wide as the
 * detector's pyramid shrinks them. */
#define PHOTOS 3
static level photos[PHOTOS];
static int photo_count;

static void load_photos(void) {
  const char *shared = harness_shared_data();
  if (!shared) {
    fprintf(stderr, "SKIP part: ../shared/data is absent, generated images only\n");
    return;
  }
  static const char *names[PHOTOS] = {"pic00036.jpg", "pic00060.jpg", "pic00040.jpg"};
  for (int i = 0; i < PHOTOS; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/faces/images/%s", shared, names[i]);
    fer_image *img = NULL, *gray = NULL;
    if (fer_image_load(path, 0, &img) != FER_OK || fer_image_to_gray(img, &gray) != FER_OK) {
      fprintf(stderr, "SKIP part: cannot read %s: %s\n", path, fer_last_error());
      fer_image_free(img);
      continue;
    }
    int w = fer_image_width(gray), h = fer_image_height(gray);
    int dw = w > 200 ? 200 : w, dh = (int)lrint((double)h * dw / w);
    uint8_t *small = malloc((size_t)dw * dh);
    void *scratch = malloc(fer__pyramid_scratch_size(dw));
    if (small && scratch) {
      fer__pyramid_resize(fer_image_data(gray), w, h, fer_image_stride(gray), small, dw, dh,
                          (size_t)dw, scratch);
      if (level_make(&photos[photo_count], small, dw, dh, (size_t)dw)) photo_count++;
    }
    free(small);
    free(scratch);
    fer_image_free(img);
    fer_image_free(gray);
  }
}

static void compare_everywhere(fer_cascade *c, const char *name) {
  compare_on_generated(c, name);
  for (int i = 0; i < photo_count; i++) compare_cascade(c, &photos[i], name);
}

/* ---- cascades ------------------------------------------------------------ */

/* A random Haar cascade of stumps: 6 stages of 3 to 12 stumps on a 19x23
 * window, a third of the features tilted, a third with 3 rectangles,
 * thresholds loose enough that many windows reach the later stages. */
static fer_cascade *random_stump_cascade(void) {
  fer_cascade *c = fer__calloc(1, sizeof *c);
  if (!c) return NULL;
  c->feature_type = FER_CASCADE_HAAR;
  c->window_width = 19;
  c->window_height = 23;
  c->stage_count = 6;
  int32_t sizes[6] = {3, 5, 12, 7, 9, 4}, trees = 0;
  for (int s = 0; s < 6; s++) trees += sizes[s];
  c->tree_count = c->node_count = c->feature_count = trees;
  c->leaf_count = 2 * trees;
  if (fer__cascade_alloc_arrays(c, "random") != FER_OK) {
    fer__cascade_destroy(c);
    return NULL;
  }
  int32_t t = 0;
  for (int s = 0; s < 6; s++) {
    c->stages[s].first_tree = t;
    c->stages[s].tree_count = sizes[s];
    float spread = 0;
    for (int i = 0; i < sizes[s]; i++, t++) {
      c->trees[t].first_node = t;
      c->trees[t].node_count = 1;
      c->trees[t].first_leaf = 2 * t;
      c->nodes[t].left = 0;
      c->nodes[t].right = -1;
      c->nodes[t].feature = t;
      c->nodes[t].threshold = ((float)(rng_next() % 2001) - 1000.f) / 20000.f;
      float a = 0.25f + (float)(rng_next() % 100) / 100.f;
      c->leaves[2 * t] = rng_next() % 2 ? -a : a;
      c->leaves[2 * t + 1] = -c->leaves[2 * t];
      spread += a;
      fer__cascade_feature *f = &c->features[t];
      f->tilted = rng_next() % 3 == 0;
      int rects = rng_next() % 3 == 0 ? 3 : 2;
      for (int k = 0; k < rects; k++) {
        fer__haar_rect *r = &f->rect[k];
        if (f->tilted) { /* x - h >= 0, x + w <= 19, y + w + h <= 23 */
          r->width = 1 + (int32_t)(rng_next() % 8);
          r->height = 1 + (int32_t)(rng_next() % 8);
          r->x = r->height + (int32_t)(rng_next() % (unsigned)(19 - r->width - r->height + 1));
          r->y = (int32_t)(rng_next() % (unsigned)(23 - r->width - r->height + 1));
        } else {
          r->width = 1 + (int32_t)(rng_next() % 18);
          r->height = 1 + (int32_t)(rng_next() % 22);
          r->x = (int32_t)(rng_next() % (unsigned)(19 - r->width + 1));
          r->y = (int32_t)(rng_next() % (unsigned)(23 - r->height + 1));
        }
      }
      /* Weights that cancel on a flat patch, as trained features roughly do. */
      f->rect[0].weight = -1.f;
      for (int k = 1; k < rects; k++)
        f->rect[k].weight = (float)((double)f->rect[0].width * f->rect[0].height /
                                    ((double)f->rect[k].width * f->rect[k].height * (rects - 1)));
    }
    c->stages[s].threshold = -0.4f * spread;
  }
  if (fer__cascade_validate(c, "random") != FER_OK) {
    fprintf(stderr, "random cascade: %s\n", fer_last_error());
    fer__cascade_destroy(c);
    return NULL;
  }
  return c;
}

static void test_random_stump_cascade(void) {
  fer_cascade *c = random_stump_cascade();
  CHECK(c != NULL);
  if (!c) return;
  CHECK(c->has_tilted && c->max_nodes_per_tree == 1);
  long before = windows_passed;
  compare_everywhere(c, "random stumps");
  /* The comparison means something only when windows pass. */
  CHECK_MSG(windows_passed - before > 1000, "only %ld windows passed", windows_passed - before);
  fer_cascade_free(c);
}

static void compare_file(const char *path, const char *name) {
  fer_cascade *c = NULL;
  if (fer_cascade_load(path, &c) != FER_OK) {
    fprintf(stderr, "SKIP part: %s: %s\n", name, fer_last_error());
    return;
  }
  long before = windows_passed;
  compare_everywhere(c, name);
  CHECK_MSG(windows_passed - before > 100, "%s: only %ld windows passed", name,
            windows_passed - before);
  fer_cascade_free(c);
}

static void test_libfer_cascade(void) {
  const char *root = getenv("FER_SOURCE_ROOT");
  char path[4096];
  snprintf(path, sizeof path, "%s/models/frontalface.fercascade", root ? root : ".");
  fer_cascade *c = NULL;
  CHECK_OK(fer_cascade_load(path, &c));
  fer_cascade_free(c);
  compare_file(path, "frontalface.fercascade");
}

static void test_opencv_cascades(void) {
  static const char *files[] = {
      "haarcascades/haarcascade_frontalface_default.xml",
      "haarcascades/haarcascade_frontalcatface_extended.xml", /* tilted stumps */
      "haarcascades/haarcascade_frontalface_alt2.xml",         /* trees */
      "lbpcascades/lbpcascade_frontalface_improved.xml",       /* LBP */
  };
  for (size_t i = 0; i < FER__ARRAY_LEN(files); i++) {
    char path[512];
    snprintf(path, sizeof path, "/usr/share/opencv4/%s", files[i]);
    FILE *f = fopen(path, "rb");
    if (!f) {
      fprintf(stderr, "SKIP part: %s is absent (Debian package opencv-data)\n", path);
      continue;
    }
    fclose(f);
    compare_file(path, strrchr(files[i], '/') + 1);
  }
}

int main(void) {
  load_photos();
  RUN(test_random_stump_cascade);
  RUN(test_libfer_cascade);
  RUN(test_opencv_cascades);
  fprintf(stderr, "%ld rows compared, %ld windows passed\n", rows_compared, windows_passed);
  for (int i = 0; i < photo_count; i++) level_free(&photos[i]);
  return harness_finish();
}
