/*
 * fer_cascade_trainer_run: the stage loop. Per stage:
 *   1. positives: the stored windows the cascade so far accepts, in order,
 *      up to FER_CASCADE_TRAIN_POSITIVES;
 *   2. negatives: windows of the negative images the cascade so far accepts
 *      (train_bootstrap.c), FER_CASCADE_TRAIN_NEGATIVES of them;
 *   3. boosting (train_boost.c), then the state file and the progress call.
 * Every random choice is seeded from (seed, stage), so continuing from a
 * state file repeats exactly what an uninterrupted run would have done.
 */
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"
#include "util/file.h"

static int file_exists(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  fclose(f);
  return 1;
}

static fer_status resume_from_state(fer_cascade_trainer *tr, fer__train_model *model) {
  if (!tr->state_path || !file_exists(tr->state_path)) return FER_OK;
  fer_cascade *saved;
  fer_status st = fer_cascade_load(tr->state_path, &saved);
  if (st != FER_OK) return fer__fail_prefix(st, "cascade trainer state");
  int want_type = model->lbp ? FER_CASCADE_LBP : FER_CASCADE_HAAR;
  if (saved->feature_type != want_type || saved->window_width != model->window_width ||
      saved->window_height != model->window_height) {
    fer_cascade_free(saved);
    return fer__fail(FER_ERR_FORMAT,
                     "%s: state is a different cascade (window or features differ from the settings)",
                     tr->state_path);
  }
  st = fer__train_model_from_cascade(model, saved);
  fer_cascade_free(saved);
  return st;
}

static fer_status save_state(const fer_cascade_trainer *tr, const fer__train_model *model) {
  if (!tr->state_path) return FER_OK;
  fer_cascade *c;
  fer_status st = fer__train_model_to_cascade(model, model->stage_count, &c);
  if (st != FER_OK) return st;
  st = fer_cascade_save(c, tr->state_path);
  fer_cascade_free(c);
  return st;
}

/* Adds the stored positives that `cascade` (NULL: none yet) accepts,
 * taken in an order shuffled per stage, so that when there are more than
 * FER_CASCADE_TRAIN_POSITIVES the stages see different ones; the accepted
 * ones beyond that number go to `held_out` (the stage is not boosted on
 * them; its threshold is set on them). */
static fer_status take_positives(const fer_cascade_trainer *tr, const fer_cascade *cascade,
                                 int stage, size_t want, fer__sample_set *set,
                                 fer__sample_set *held_out, const fer__scan_plan *norm_plan) {
  fer__scan_plan plan;
  memset(&plan, 0, sizeof plan);
  uint32_t *order = fer__malloc(fer__mul_size(tr->positive_count, sizeof *order));
  if (!order) return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory");
  fer__rng rng;
  fer__rng_seed(&rng, (uint64_t)tr->values[FER_CASCADE_TRAIN_SEED] * 1000003u + (uint64_t)stage);
  for (size_t i = 0; i < tr->positive_count; i++) order[i] = (uint32_t)i;
  for (size_t i = tr->positive_count; i > 1; i--) {
    size_t j = (size_t)(fer__rng_next(&rng) % i);
    uint32_t t = order[i - 1];
    order[i - 1] = order[j];
    order[j] = t;
  }
  if (cascade) {
    fer_status st = fer__scan_plan_build(&plan, cascade, set->stride);
    if (st != FER_OK) {
      fer__free(order);
      return st;
    }
  }
  size_t wsize = (size_t)set->width * (size_t)set->height;
  for (size_t i = 0; i < tr->positive_count; i++) {
    fer__sample_set *into = set->count < want ? set : held_out;
    if (into->count >= into->capacity) break;
    fer__sample_set_add(into, tr->positives + (size_t)order[i] * wsize, (size_t)into->width,
                        norm_plan);
    fer__level_view v = fer__sample_view(into, into->count - 1);
    double score;
    int keep = into->inv_norm[into->count - 1] > 0.f &&
               (!cascade || fer__scan_window(&plan, &v, 0, &score) > 0);
    if (!keep) into->count--;
  }
  set->positives = set->count;
  held_out->positives = held_out->count;
  fer__scan_plan_release(&plan);
  fer__free(order);
  return FER_OK;
}

fer_status fer_cascade_trainer_run(fer_cascade_trainer *tr, fer_cascade **out) {
  if (out) *out = NULL;
  if (!tr || tr->magic != FER__TRAINER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "fer_cascade_trainer_run: not a live trainer");
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_trainer_run: NULL out");
  tr->message[0] = 0;
  int feature_set = fer__train_int(tr, FER_CASCADE_TRAIN_FEATURE_SET);
  int lbp = feature_set == FER_FEATURES_LBP;
  /* LBP nodes are trained as stumps only: deeper LBP trees would need the
   * trainer to follow the scan's switch from float to double stage sums
   * (it adds in float only when every tree of the cascade is a stump). */
  if (lbp && fer__train_int(tr, FER_CASCADE_TRAIN_TREE_DEPTH) > 1)
    return fer__fail(FER_ERR_UNSUPPORTED,
                     "fer_cascade_trainer_run: LBP training makes stumps only (tree_depth %d, "
                     "need 1)",
                     fer__train_int(tr, FER_CASCADE_TRAIN_TREE_DEPTH));
  if (tr->positive_count == 0 || tr->negative_count == 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_cascade_trainer_run: %zu positives and %zu negative images (need both)",
                     tr->positive_count, tr->negative_count);
  int w = fer__train_int(tr, FER_CASCADE_TRAIN_WINDOW_WIDTH);
  int h = fer__train_int(tr, FER_CASCADE_TRAIN_WINDOW_HEIGHT);
  int stages = fer__train_int(tr, FER_CASCADE_TRAIN_STAGES);
  int threads = fer__train_int(tr, FER_CASCADE_TRAIN_THREADS);
  if (threads <= 0) threads = fer_get_num_threads();
  if (threads < 1) threads = 1;
  size_t want_pos = (size_t)tr->values[FER_CASCADE_TRAIN_POSITIVES];
  if (want_pos == 0 || want_pos > tr->positive_count) want_pos = tr->positive_count;
  size_t want_neg = (size_t)tr->values[FER_CASCADE_TRAIN_NEGATIVES];
  if (want_neg == 0) want_neg = want_pos;
  uint64_t seed = (uint64_t)tr->values[FER_CASCADE_TRAIN_SEED];

  fer__train_model model;
  memset(&model, 0, sizeof model);
  model.window_width = w;
  model.window_height = h;
  model.lbp = lbp;
  fer__feature_pool pool;
  memset(&pool, 0, sizeof pool);
  fer__sample_set set, held_out;
  memset(&set, 0, sizeof set);
  memset(&held_out, 0, sizeof held_out);
  /* With hold_out, the positives beyond the per-stage number are held
   * out to set the stage thresholds on (capacity 0: none). */
  size_t held_out_capacity =
      fer__train_int(tr, FER_CASCADE_TRAIN_HOLD_OUT) ? tr->positive_count - want_pos : 0;
  fer__scan_plan norm_plan;
  memset(&norm_plan, 0, sizeof norm_plan);
  fer_cascade *current = NULL;
  fer_cascade norm_cascade;
  memset(&norm_cascade, 0, sizeof norm_cascade);
  norm_cascade.feature_type = FER_CASCADE_HAAR;
  norm_cascade.window_width = w;
  norm_cascade.window_height = h;
  norm_cascade.max_nodes_per_tree = 2;

  fer_status st = resume_from_state(tr, &model);
  int step = fer__train_int(tr, FER_CASCADE_TRAIN_POSITION_STEP);
  size_t max_features = (size_t)tr->values[FER_CASCADE_TRAIN_MAX_FEATURES];
  if (st == FER_OK && lbp)
    st = fer__feature_pool_build_lbp(&pool, w, h, step, max_features, seed, (size_t)w + 1);
  else if (st == FER_OK)
    st = fer__feature_pool_build(&pool, w, h, feature_set == FER_FEATURES_HAAR_ALL, step,
                                 max_features, seed, (size_t)w + 1);
  if (st == FER_OK) st = fer__scan_plan_build(&norm_plan, &norm_cascade, (size_t)w + 1);
  int cancelled = 0;
  for (int stage = model.stage_count; st == FER_OK && stage < stages; stage++) {
    double start = fer__now_seconds();
    fer_cascade_free(current);
    current = NULL;
    if (stage > 0) st = fer__train_model_to_cascade(&model, stage, &current);
    if (st == FER_OK)
      st = fer__sample_set_init(&set, w, h, feature_set == FER_FEATURES_HAAR_ALL, want_pos + want_neg);
    if (st == FER_OK)
      st = fer__sample_set_init(&held_out, w, h, feature_set == FER_FEATURES_HAAR_ALL,
                                held_out_capacity);
    if (st == FER_OK)
      st = take_positives(tr, current, stage, want_pos, &set, &held_out, &norm_plan);
    if (st != FER_OK) break;
    if (set.positives < 10) {
      snprintf(tr->message, sizeof tr->message,
               "positives ran out at stage %d: the cascade accepts only %zu of them", stage,
               set.positives);
      fer__sample_set_release(&set);
      fer__sample_set_release(&held_out);
      break;
    }
    fer__mining_result mined;
    st = fer__train_mine_negatives(tr, current, stage, want_neg, threads, &set, &mined);
    if (st != FER_OK) break;
    double acceptance = mined.evaluated > 0 ? mined.accepted / mined.evaluated : 0;
    if (mined.found < want_neg) {
      snprintf(tr->message, sizeof tr->message,
               "negatives ran out at stage %d: the cascade accepts %zu windows of the %.0f scanned "
               "(acceptance ratio %.3g), %zu wanted; the cascade keeps its %d stages",
               stage, mined.found, mined.evaluated, acceptance, want_neg, stage);
      fer__sample_set_release(&set);
      fer__sample_set_release(&held_out);
      break;
    }
    fer__stage_result result = {0, 0, 0, NULL};
    st = fer__train_stage(tr, &set, &held_out, &pool, threads, &model, &result);
    fer__sample_set_release(&set);
    fer__sample_set_release(&held_out);
    if (st != FER_OK) break;
    st = save_state(tr, &model);
    if (st != FER_OK) break;
    if (tr->progress &&
        tr->progress(tr->progress_user, stage, result.weak_count, result.hit_rate,
                     result.false_alarm, acceptance, fer__now_seconds() - start)) {
      snprintf(tr->message, sizeof tr->message, "stopped by the progress callback after stage %d",
               stage);
      cancelled = 1;
      break;
    }
  }
  if (st == FER_OK && tr->message[0] == 0)
    snprintf(tr->message, sizeof tr->message, "%d stages trained", (int)model.stage_count);
  if (st == FER_OK) {
    if (model.stage_count == 0)
      st = fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_trainer_run: no stage trained: %s",
                     tr->message);
    else st = fer__train_model_to_cascade(&model, model.stage_count, out);
  }
  if (st == FER_OK && cancelled)
    st = fer__fail(FER_ERR_CANCELLED, "fer_cascade_trainer_run: %s", tr->message);
  fer_cascade_free(current);
  fer__sample_set_release(&set);
  fer__sample_set_release(&held_out);
  fer__scan_plan_release(&norm_plan);
  fer__feature_pool_release(&pool);
  fer__train_model_release(&model);
  return st;
}
