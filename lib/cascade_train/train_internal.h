/*
 * The cascade trainer's pieces, one file each:
 *
 *   train_params.c     the fer_cascade_trainer handle, settings, samples in
 *   train_features.c   the Haar feature pool of a window
 *   train_features_lbp.c  the multi-block LBP feature pool of a window
 *   train_samples.c    a stage's training windows and their integral images
 *   train_bootstrap.c  hard negatives mined from the negative images
 *   train_boost.c      one boosted stage: sorted feature values, weak trees
 *   train_boost_lbp.c  the categorical split of LBP stumps
 *   train_model.c      the growing cascade, its state file
 *   train_run.c        the stage loop
 */
#ifndef FER_DETECT_TRAIN_INTERNAL_H
#define FER_DETECT_TRAIN_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/detect_internal.h"
#include "fer/cascade_train.h"

#define FER__TRAINER_MAGIC 0x4e525443u /* "CTRN" */
#define FER__TRAIN_PARAM_COUNT 18      /* keys 1..17 */

struct fer_cascade_trainer {
  uint32_t magic;
  double values[FER__TRAIN_PARAM_COUNT];
  uint8_t *positives; /* window-sized gray windows, one after the other */
  size_t positive_count, positive_capacity, flat_positives;
  fer_image **negatives; /* gray copies */
  size_t negative_count, negative_capacity;
  fer_cascade_progress_fn progress;
  void *progress_user;
  char *state_path;
  char message[256];
};

/* Reads an integer setting. */
int fer__train_int(const fer_cascade_trainer *tr, fer_cascade_train_param key);

/* ---- train_features.c ---------------------------------------------------- */

typedef struct fer__feature_pool {
  fer__cascade_feature *features; /* descriptors, as a cascade stores them */
  fer__opt_feature *opt;          /* offsets for the sample stride */
  size_t count;
  int lbp; /* multi-block LBP features, else Haar */
} fer__feature_pool;

/* Every Haar feature of the set fitting a w x h window on a grid of
 * `step`, then (max > 0 and more than max) a seeded random subset of `max`
 * in enumeration order; offsets resolved for `stride` integral entries. */
fer_status fer__feature_pool_build(fer__feature_pool *pool, int w, int h, int tilted, int step,
                                   size_t max, uint64_t seed, size_t stride);
void fer__feature_pool_release(fer__feature_pool *pool);
/* Every multi-block LBP feature fitting a w x h window: a 3x3 grid of
 * bw x bh blocks (3 bw <= w, 3 bh <= h) with its corner on a grid of
 * `step`, sizes from 1 in steps of `step`, stored as a loaded LBP cascade
 * stores them; then the same seeded subset and offsets as the Haar pool. */
fer_status fer__feature_pool_build_lbp(fer__feature_pool *pool, int w, int h, int step,
                                       size_t max, uint64_t seed, size_t stride);
/* The part both pools share: takes `items` (fer__malloc'ed, owned by the
 * pool from here on, also on failure), keeps the seeded subset of `max`
 * and resolves the offsets with the scan's plan for `feature_type`. */
fer_status fer__feature_pool_finish(fer__feature_pool *pool, fer__cascade_feature *items,
                                    size_t count, int feature_type, int w, int h, size_t max,
                                    uint64_t seed, size_t stride);

/* ---- train_samples.c ----------------------------------------------------- */

/* Training windows with their own integral images: positives first. */
typedef struct fer__sample_set {
  int width, height;
  size_t stride, area; /* integral entries per row, per sample */
  size_t count, positives, capacity;
  uint32_t *sum, *sqsum, *tilted; /* count * area each (tilted optional) */
  float *inv_norm;                /* per sample, as the scan computes it */
  int with_tilted;
  uint32_t *work;
} fer__sample_set;

fer_status fer__sample_set_init(fer__sample_set *set, int w, int h, int tilted, size_t capacity);
void fer__sample_set_release(fer__sample_set *set);
/* Appends a window (w x h pixels, `pixel_stride` bytes per row) with its
 * integrals; `norm_plan` gives the variance window. */
void fer__sample_set_add(fer__sample_set *set, const uint8_t *pixels, size_t pixel_stride,
                         const fer__scan_plan *norm_plan);
/* The integral view of sample i (offset 0 in it). */
fer__level_view fer__sample_view(const fer__sample_set *set, size_t i);

/* Resizes a gray region to w x h by area averaging into dst (w*h bytes). */
void fer__train_resize_area(const uint8_t *src, int sw, int sh, size_t sstride, uint8_t *dst,
                            int w, int h);

/* ---- train_model.c ------------------------------------------------------- */

/* The cascade being trained, in growable arrays shaped like fer_cascade. */
typedef struct fer__train_model {
  int window_width, window_height;
  fer__cascade_stage *stages;
  fer__cascade_tree *trees;
  fer__cascade_node *nodes;
  float *leaves;
  fer__cascade_feature *features;
  uint32_t *subsets; /* lbp: FER__LBP_SUBSET_WORDS per node */
  int lbp;           /* 0: a Haar cascade, 1: LBP */
  int32_t stage_count, tree_count, node_count, leaf_count, feature_count;
  int32_t stage_cap, tree_cap, node_cap, leaf_cap, feature_cap, subset_cap;
} fer__train_model;

void fer__train_model_release(fer__train_model *m);
/* Index of `f` in the model's feature table (added when new); -1 on OOM. */
int32_t fer__train_model_feature(fer__train_model *m, const fer__cascade_feature *f);
/* Opens a stage / appends a tree with its nodes and leaves to the open
 * stage. Children in `nodes` use the cascade's convention; `subsets`
 * (LBP models only, else NULL) holds FER__LBP_SUBSET_WORDS per node. */
fer_status fer__train_model_begin_stage(fer__train_model *m);
fer_status fer__train_model_add_tree(fer__train_model *m, const fer__cascade_node *nodes,
                                     int32_t node_count, const float *leaves,
                                     const uint32_t *subsets);
/* Sets the open stage's threshold (stored form: written value - 1e-5f). */
void fer__train_model_set_stage_threshold(fer__train_model *m, float threshold);
/* A validated fer_cascade copy of the finished stages (NULL model stages
 * -> FER_ERR_INVALID_ARGUMENT). */
fer_status fer__train_model_to_cascade(const fer__train_model *m, int32_t stages,
                                       fer_cascade **out);
/* Replaces the model with the stages of a cascade (state resume), Haar or
 * LBP as the cascade is. */
fer_status fer__train_model_from_cascade(fer__train_model *m, const fer_cascade *c);

/* ---- train_bootstrap.c --------------------------------------------------- */

typedef struct fer__mining_result {
  size_t found;          /* windows added */
  double evaluated;      /* windows scanned */
  double accepted;       /* windows the cascade accepted */
} fer__mining_result;

/* Adds up to `need` negative windows that `cascade` (NULL: no stage yet,
 * only the flatness test) accepts, mined from the trainer's negative images
 * at many scales and positions; deterministic for (seed, stage). */
fer_status fer__train_mine_negatives(const fer_cascade_trainer *tr, const fer_cascade *cascade,
                                     int stage, size_t need, int threads,
                                     fer__sample_set *set, fer__mining_result *result);

/* ---- train_boost.c ------------------------------------------------------- */

typedef struct fer__stage_result {
  int weak_count;
  double hit_rate, false_alarm; /* hit rate on the held-out positives when there are some */
  double *stage_sums; /* in: NULL or room for every sample's final stage sum */
} fer__stage_result;

/* Boosts one stage on `set` with the features of `pool` and appends it
 * to `model`. `held_out` (NULL or empty: none) holds positives the stage
 * is not boosted on; when it has any, the stage threshold keeps
 * FER_CASCADE_TRAIN_MIN_HIT_RATE of them instead of the training ones. */
fer_status fer__train_stage(const fer_cascade_trainer *tr, const fer__sample_set *set,
                            const fer__sample_set *held_out, const fer__feature_pool *pool,
                            int threads, fer__train_model *model, fer__stage_result *result);

/* ---- train_boost_lbp.c --------------------------------------------------- */

/* The score of one side of a split with positive weight wp and negative
 * weight wn for a boosting variant (larger is better; a split scores the
 * sum of its two sides):
 *   Gentle:   (wp - wn)^2 / (wp + wn), i.e. minus the side's weighted
 *             squared error up to a constant (the response is +-1);
 *   Real:     -sqrt(wp wn);   Discrete: -min(wp, wn).
 * Inline, and called with a constant `boost` from the Haar split search's
 * innermost loop, so that each variant's loop compiles without a call or
 * a switch in it (the split search is where training spends its time). */
static inline double fer__boost_criterion(int boost, double wp, double wn) {
  switch (boost) {
    case FER_BOOST_GENTLE: return wp + wn > 0 ? (wp - wn) * (wp - wn) / (wp + wn) : 0;
    /* A side's weights come from totals minus running sums, so an empty
     * side can be a rounding error below zero: sqrt of that is NaN, and a
     * NaN score would win or lose every comparison by accident. */
    case FER_BOOST_REAL: return wp > 0 && wn > 0 ? -sqrt(wp * wn) : 0;
    default: return -(wp < wn ? wp : wn);
  }
}

/* The best split of the 256 LBP codes given each code's positive and
 * negative weight: the codes going left (leaf 0) into `subset`, the
 * split's score into *score. Returns 0 (empty subset) when fewer than two
 * codes carry weight, so that nothing can be split. */
int fer__lbp_best_split(const double wp[256], const double wn[256], int boost,
                        uint32_t subset[FER__LBP_SUBSET_WORDS], double *score);

#endif
