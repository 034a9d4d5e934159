/*
 * Hard-negative mining: the negative images are scanned with the cascade
 * trained so far, as the detector would scan them (pyramid levels shrunk
 * as the detector shrinks them, step 2), and windows it accepts become the
 * next stage's negatives. Each image keeps a uniform random sample
 * (reservoir) of its accepted windows, so negatives spread over all images
 * and positions instead of piling up in the first ones.
 *
 * Scanning every window of every image at every stage is what made
 * training slow (over 90% of the time went into the scan while the early
 * cascades accept a third of all windows, so a few thousand negatives are
 * found in a tiny fraction of them). So each round looks at a uniform
 * random sample of the windows (each one with probability p, decided
 * before it is evaluated): the first round's p expects about
 * SAMPLE_MARGIN * need windows scanned, and p grows SAMPLE_GROWTH-fold per
 * round up to 1 (every window), as the cascade gets more selective and the
 * rounds run short. A uniform sample of a uniform sample is uniform, and
 * accepted / scanned stays an unbiased acceptance ratio.
 *
 * Images are processed in parallel, each with its own generator seeded
 * from (seed, stage, round, image), and merged in image order: the result
 * does not depend on the thread count.
 */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"

#define LEVEL_FACTOR 1.2
#define MAX_ROUNDS 8 /* full scans at most per stage */
#define SAMPLE_MARGIN 64.0 /* windows scanned per negative wanted, first round */
#define SAMPLE_GROWTH 16.0 /* the sampling probability grows this much per round */

/* What one image gives in one round. */
typedef struct image_take {
  uint8_t *windows; /* kept windows, w*h bytes each */
  size_t kept;
  double evaluated, accepted;
  int failed;
} image_take;

static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

/* A plan for the window norm only, when there is no cascade yet. */
static fer_status norm_only_plan(fer__scan_plan *plan, fer_cascade *dummy, int w, int h,
                                 size_t stride) {
  memset(dummy, 0, sizeof *dummy);
  dummy->feature_type = FER_CASCADE_HAAR;
  dummy->window_width = w;
  dummy->window_height = h;
  dummy->max_nodes_per_tree = 2;
  return fer__scan_plan_build(plan, dummy, stride);
}

/* About how many windows a scan of an image at step 2 and level factor
 * LEVEL_FACTOR sees (the first scale is random; 1.1 is its midpoint). */
static double window_count(const fer_image *img, int w, int h) {
  int W = fer_image_width(img), H = fer_image_height(img);
  double total = 0;
  for (double scale = 1.0 + (LEVEL_FACTOR - 1.0) / 2;; scale *= LEVEL_FACTOR) {
    int lw = (int)lround(W / scale), lh = (int)lround(H / scale);
    if (lw < w || lh < h) break;
    total += (double)((lw - w) / 2 + 1) * (double)((lh - h) / 2 + 1);
  }
  return total;
}

/* Scans one image, looking at each window with probability `sample`. */
static void mine_image(const fer_image *img, const fer_cascade *cascade, int w, int h,
                       uint64_t seed, size_t quota, double sample, image_take *take) {
  memset(take, 0, sizeof *take);
  fer__rng rng;
  fer__rng_seed(&rng, seed);
  int W = fer_image_width(img), H = fer_image_height(img);
  size_t src_stride = fer_image_stride(img);
  const uint8_t *src = fer_image_data(img);
  int tilted = cascade && cascade->has_tilted;
  size_t wsize = (size_t)w * (size_t)h;
  size_t level_cap = (size_t)W * (size_t)H, integral_cap = ((size_t)W + 1) * ((size_t)H + 1);
  uint8_t *level = fer__malloc(level_cap);
  uint32_t *sums = fer__malloc(fer__mul_size(integral_cap, (tilted ? 3 : 2) * sizeof(uint32_t)));
  uint32_t *work = tilted ? fer__malloc(fer__mul_size(fer__tilted_work_size(W, H), sizeof(uint32_t)))
                          : NULL;
  void *scratch = fer__malloc(fer__pyramid_scratch_size(W));
  take->windows = fer__malloc(fer__mul_size(quota ? quota : 1, wsize));
  fer__scan_plan plan;
  memset(&plan, 0, sizeof plan);
  fer_cascade dummy;
  if (!level || !sums || (tilted && !work) || !scratch || !take->windows) {
    take->failed = 1;
    goto done;
  }
  double scale = 1.0 + fer__rng_uniform(&rng) * (LEVEL_FACTOR - 1.0);
  for (;; scale *= LEVEL_FACTOR) {
    int lw = (int)lround(W / scale), lh = (int)lround(H / scale);
    if (lw < w || lh < h) break;
    fer__pyramid_resize(src, W, H, src_stride, level, lw, lh, (size_t)lw, scratch);
    size_t istride = (size_t)lw + 1, iarea = istride * ((size_t)lh + 1);
    fer__level_view v = {sums, sums + iarea, tilted ? sums + 2 * iarea : NULL};
    fer__integral(level, lw, lh, (size_t)lw, sums, sums + iarea, tilted ? sums + 2 * iarea : NULL,
                  istride, work);
    fer_status st = cascade ? fer__scan_plan_build(&plan, cascade, istride)
                            : norm_only_plan(&plan, &dummy, w, h, istride);
    if (st != FER_OK) {
      take->failed = 1;
      goto done;
    }
    int ox = (int)fer__rng_below(&rng, 2), oy = (int)fer__rng_below(&rng, 2);
    for (int y = oy; y + h <= lh; y += 2)
      for (int x = ox; x + w <= lw; x += 2) {
        if (sample < 1.0 && fer__rng_uniform(&rng) >= sample) continue;
        size_t offset = (size_t)y * istride + (size_t)x;
        double score;
        int pass = cascade ? fer__scan_window(&plan, &v, offset, &score) > 0
                           : fer__scan_inv_norm(&plan, &v, offset) > 0.f;
        take->evaluated++;
        if (!pass) continue;
        take->accepted++;
        /* Reservoir sampling: the k-th accepted window replaces a kept one
         * with probability quota / k. */
        size_t slot;
        if (take->kept < quota) slot = take->kept++;
        else {
          uint64_t k = (uint64_t)take->accepted;
          uint64_t j = fer__rng_next(&rng) % k;
          if (j >= quota) continue;
          slot = (size_t)j;
        }
        uint8_t *dst = take->windows + slot * wsize;
        for (int r = 0; r < h; r++) memcpy(dst + (size_t)r * w, level + (size_t)(y + r) * lw + x, (size_t)w);
      }
    if (!cascade) fer__scan_plan_release(&plan);
  }
done:
  fer__scan_plan_release(&plan);
  fer__free(level);
  fer__free(sums);
  fer__free(work);
  fer__free(scratch);
}

fer_status fer__train_mine_negatives(const fer_cascade_trainer *tr, const fer_cascade *cascade,
                                     int stage, size_t need, int threads, fer__sample_set *set,
                                     fer__mining_result *result) {
  memset(result, 0, sizeof *result);
  int w = set->width, h = set->height;
  size_t n_images = tr->negative_count;
  uint64_t seed = (uint64_t)tr->values[FER_CASCADE_TRAIN_SEED];
  image_take *takes = fer__calloc(n_images, sizeof *takes);
  fer__scan_plan norm_plan;
  memset(&norm_plan, 0, sizeof norm_plan);
  fer_cascade dummy;
  fer_status st = takes ? norm_only_plan(&norm_plan, &dummy, w, h, set->stride)
                        : fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory");
  size_t wsize = (size_t)w * (size_t)h;
  double windows = 0;
  for (size_t i = 0; i < n_images; i++) windows += window_count(tr->negatives[i], w, h);
  double sample = windows > 0 ? SAMPLE_MARGIN * (double)need / windows : 1.0;
  /* Up to MAX_ROUNDS full scans, after the sampled rounds leading to them. */
  int full_rounds = 0;
  for (int round = 0; st == FER_OK && full_rounds < MAX_ROUNDS && result->found < need;
       round++, sample *= SAMPLE_GROWTH) {
    if (sample >= 1.0) {
      sample = 1.0;
      full_rounds++;
    }
    size_t remaining = need - result->found;
    size_t quota = (2 * remaining + n_images - 1) / n_images;
    if (quota < 1) quota = 1;
    int failed = 0;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (threads > 1)
#endif
    for (long i = 0; i < (long)n_images; i++) {
      uint64_t s = mix(seed ^ mix(((uint64_t)stage << 40) ^ ((uint64_t)round << 32) ^ (uint64_t)i));
      mine_image(tr->negatives[i], cascade, w, h, s, quota, sample, &takes[i]);
    }
    (void)threads;
    size_t total = 0;
    double accepted = 0;
    for (size_t i = 0; i < n_images; i++) {
      failed |= takes[i].failed;
      total += takes[i].kept;
      accepted += takes[i].accepted;
      result->evaluated += takes[i].evaluated;
    }
    result->accepted += accepted;
    if (failed) {
      st = fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory mining negatives");
    } else {
      /* Keep `remaining` of the `total` windows, uniformly (selection
       * sampling), in image order. */
      fer__rng rng;
      fer__rng_seed(&rng, mix(seed ^ 0x6e6567ULL ^ ((uint64_t)stage << 20) ^ (uint64_t)round));
      size_t seen = 0;
      for (size_t i = 0; i < n_images; i++)
        for (size_t k = 0; k < takes[i].kept; k++, seen++) {
          size_t left = total - seen;
          if (result->found >= need) break;
          size_t still = need - result->found;
          if (fer__rng_next(&rng) % left < still) {
            fer__sample_set_add(set, takes[i].windows + k * wsize, (size_t)w, &norm_plan);
            result->found++;
          }
        }
    }
    for (size_t i = 0; i < n_images; i++) {
      fer__free(takes[i].windows);
      takes[i].windows = NULL;
    }
    /* The cascade rejects every window: exhausted (a sampled round may
     * just have been unlucky, so only a full scan decides). */
    if (accepted == 0 && sample >= 1.0) break;
  }
  fer__scan_plan_release(&norm_plan);
  fer__free(takes);
  return st;
}
