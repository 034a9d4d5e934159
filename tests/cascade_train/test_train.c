/*
 * The cascade trainer on a tiny synthetic problem: 16x16 windows with a
 * bright disk in the centre (positives) against noise and stripes
 * (negative images). Checks that trained cascades separate held-out
 * windows for every boosting variant and tree depth, that the trainer's
 * stage sums are the detector's, determinism across thread counts, resume
 * from a state file, and the XML writer against our loader.
 *
 * With --export DIR it writes a trained cascade (DIR/tiny.xml), a test
 * image (DIR/scene.pgm) and libfer's detections (DIR/libfer.txt) for
 * tests/cascade_train/train_opencv_check.py.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"
#include "harness.h"

#include "train_fixtures.h"

static void test_boost_variants(void) {
  static const struct {
    int boost;
    const char *name;
  } boosts[] = {{FER_BOOST_GENTLE, "gentle"}, {FER_BOOST_DISCRETE, "discrete"}, {FER_BOOST_REAL, "real"}};
  for (size_t b = 0; b < 3; b++)
    for (int depth = 1; depth <= 2; depth++) {
      fer_cascade_trainer *tr = make_trainer(boosts[b].boost, depth, 3);
      fer_cascade *c = NULL;
      CHECK_OK(fer_cascade_trainer_run(tr, &c));
      char what[64];
      snprintf(what, sizeof what, "%s depth %d", boosts[b].name, depth);
      fprintf(stderr, "  %s: %s\n", what, fer_cascade_trainer_message(tr));
      if (c) {
        CHECK_MSG(fer_cascade_stage_count(c) >= 2, "%s: %d stages", what, fer_cascade_stage_count(c));
        check_separates(c, what);
      }
      fer_cascade_free(c);
      fer_cascade_trainer_free(tr);
    }
}

/* One stage trained through the internal pieces; the trainer's final stage
 * sums must equal the scan's, window by window, to the bit. */
/* Each boosting criterion against its formula written out here, including
 * a side whose weight is a rounding error below zero (an empty side, as
 * total minus running sum gives it): the score must stay a number. */
static void test_criteria(void) {
  const double wp = 0.3, wn = 0.2;
  CHECK(fabs(fer__boost_criterion(FER_BOOST_GENTLE, wp, wn) - 0.01 / 0.5) < 1e-15);
  CHECK(fabs(fer__boost_criterion(FER_BOOST_REAL, wp, wn) + sqrt(0.06)) < 1e-15);
  CHECK(fabs(fer__boost_criterion(FER_BOOST_DISCRETE, wp, wn) + 0.2) < 1e-15);
  const int boosts[] = {FER_BOOST_GENTLE, FER_BOOST_REAL, FER_BOOST_DISCRETE};
  for (int b = 0; b < 3; b++) {
    double empty_negatives = fer__boost_criterion(boosts[b], 0.5, -1e-17);
    double empty_positives = fer__boost_criterion(boosts[b], -1e-17, 0.5);
    CHECK(isfinite(empty_negatives) && isfinite(empty_positives));
    /* a pure side is at least as good as a mixed one of the same weight */
    CHECK(empty_negatives >= fer__boost_criterion(boosts[b], 0.25, 0.25));
  }
}

static void test_stage_sums_equal_detector(void) {
  for (int depth = 1; depth <= 2; depth++) {
    fer_cascade_trainer *tr = make_trainer(FER_BOOST_GENTLE, depth, 1);
    fer__feature_pool pool;
    CHECK_OK(fer__feature_pool_build(&pool, WIN, WIN, 1, 1, 3000, 3, WIN + 1));
    char what[32];
    snprintf(what, sizeof what, "depth %d", depth);
    check_stage_sums_equal_detector(tr, &pool, what);
    fer__feature_pool_release(&pool);
    fer_cascade_trainer_free(tr);
  }
}

/* A stage given held-out positives sets its threshold on them: the
 * detector's own scan accepts at least min_hit_rate (0.9 here) of them, and exactly
 * the share the trainer reports. Depth 2 too, since the trainer walks its
 * trees over the held-out windows itself. */
static void test_threshold_on_held_out(void) {
  for (int depth = 1; depth <= 2; depth++) {
    fer_cascade_trainer *tr = make_trainer(FER_BOOST_GENTLE, depth, 1);
    /* A low hit target and a strict false-alarm one (many trees) put the
     * threshold among many distinct sums, where the training and the
     * held-out shares differ. */
    CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_MIN_HIT_RATE, 0.9));
    CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_MAX_FALSE_ALARM, 0.01));
    fer__sample_set set, held_out;
    fer__feature_pool pool;
    fer__scan_plan norm_plan, plan;
    memset(&norm_plan, 0, sizeof norm_plan);
    memset(&plan, 0, sizeof plan);
    fer_cascade dummy;
    norm_only_plan(&norm_plan, &dummy);
    CHECK_OK(fer__sample_set_init(&set, WIN, WIN, 0, 1000));
    CHECK_OK(fer__sample_set_init(&held_out, WIN, WIN, 0, 1000));
    CHECK_OK(fer__feature_pool_build(&pool, WIN, WIN, 0, 1, 3000, 3, WIN + 1));
    /* Faint disks (a few grey levels over the noise) that no single tree
     * separates, so the stage sums spread out; every third is held out. */
    lcg_state = 321;
    uint8_t px[WIN * WIN];
    for (size_t i = 0; i < 600; i++) {
      make_disk(px, 12);
      fer__sample_set *into = i % 3 == 2 ? &held_out : &set;
      fer__sample_set_add(into, px, WIN, &norm_plan);
      if (!(into->inv_norm[into->count - 1] > 0)) into->count--;
    }
    set.positives = set.count;
    held_out.positives = held_out.count;
    fer__mining_result mined;
    CHECK_OK(fer__train_mine_negatives(tr, NULL, 0, 300, 1, &set, &mined));
    fer__train_model model;
    memset(&model, 0, sizeof model);
    model.window_width = WIN;
    model.window_height = WIN;
    fer__stage_result result = {0, 0, 0, NULL};
    CHECK_OK(fer__train_stage(tr, &set, &held_out, &pool, 1, &model, &result));
    fer_cascade *c = NULL;
    CHECK_OK(fer__train_model_to_cascade(&model, 1, &c));
    CHECK_OK(fer__scan_plan_build(&plan, c, WIN + 1));
    int passed = 0;
    for (size_t i = 0; i < held_out.count; i++) {
      fer__level_view v = fer__sample_view(&held_out, i);
      double score;
      passed += fer__scan_window(&plan, &v, 0, &score) > 0;
    }
    double share = (double)passed / (double)held_out.count;
    CHECK_MSG(held_out.count > 50, "only %zu held-out positives", held_out.count);
    CHECK_MSG(share >= 0.9, "depth %d: the scan accepts %d of %zu held-out positives", depth,
              passed, held_out.count);
    CHECK_NEAR(share, result.hit_rate, 1e-12);
    fer_cascade_free(c);
    fer__train_model_release(&model);
    fer__scan_plan_release(&plan);
    fer__scan_plan_release(&norm_plan);
    fer__feature_pool_release(&pool);
    fer__sample_set_release(&set);
    fer__sample_set_release(&held_out);
    fer_cascade_trainer_free(tr);
  }
}

/* Mining looks at a uniform sample of the windows when few negatives are
 * wanted: far fewer windows scanned than a full scan, the quota still
 * filled, and the acceptance ratio (here of the flatness test alone) the
 * same as the full scan's within sampling noise. */
static void test_mining_samples_windows(void) {
  fer_cascade_trainer *tr = make_trainer(FER_BOOST_GENTLE, 1, 1);
  fer__scan_plan norm_plan;
  memset(&norm_plan, 0, sizeof norm_plan);
  fer_cascade dummy;
  norm_only_plan(&norm_plan, &dummy);
  fer__sample_set full_set, sampled_set;
  CHECK_OK(fer__sample_set_init(&full_set, WIN, WIN, 0, 5000));
  CHECK_OK(fer__sample_set_init(&sampled_set, WIN, WIN, 0, 20));
  fer__mining_result full, sampled;
  /* 5000 wanted: more than 1/64 of the windows, so every window is scanned. */
  CHECK_OK(fer__train_mine_negatives(tr, NULL, 0, 5000, 2, &full_set, &full));
  CHECK_OK(fer__train_mine_negatives(tr, NULL, 0, 20, 2, &sampled_set, &sampled));
  CHECK_EQ_INT(full.found, 5000);
  CHECK_EQ_INT(sampled.found, 20);
  CHECK_MSG(sampled.evaluated < 0.05 * full.evaluated, "sampled round scanned %.0f of %.0f windows",
            sampled.evaluated, full.evaluated);
  CHECK_MSG(sampled.evaluated >= 20, "only %.0f windows scanned", sampled.evaluated);
  CHECK_NEAR(sampled.accepted / sampled.evaluated, full.accepted / full.evaluated, 0.1);
  fer__sample_set_release(&full_set);
  fer__sample_set_release(&sampled_set);
  fer__scan_plan_release(&norm_plan);
  fer_cascade_trainer_free(tr);
}

static fer_cascade_trainer *make_gentle_stumps(int stages) {
  return make_trainer(FER_BOOST_GENTLE, 1, stages);
}

static void test_deterministic_across_threads(void) {
  check_deterministic_across_threads(make_gentle_stumps, 3);
}

static void test_resume_equals_uninterrupted(void) {
  check_resume_equals_uninterrupted(make_gentle_stumps, "test_train");
}

static void test_xml_round_trip(void) {
  fer_cascade_trainer *tr = make_trainer(FER_BOOST_REAL, 2, 2);
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_FEATURE_SET, FER_FEATURES_HAAR_ALL));
  fer_cascade *c = NULL;
  CHECK_OK(fer_cascade_trainer_run(tr, &c));
  check_xml_round_trip(c);
  fer_cascade_free(c);
  fer_cascade_trainer_free(tr);
}

static void test_misuse(void) {
  fer_cascade_trainer *tr = NULL;
  fer_cascade *c = NULL;
  CHECK_STATUS(fer_cascade_trainer_run(NULL, &c), FER_ERR_MISUSE);
  CHECK_OK(fer_cascade_trainer_create(&tr));
  CHECK_STATUS(fer_cascade_trainer_run(tr, &c), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("positives");
  CHECK_STATUS(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_MIN_HIT_RATE, 1.5), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_STAGES, 2.5), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_cascade_trainer_set(tr, (fer_cascade_train_param)99, 1), FER_ERR_NOT_FOUND);
  fer_cascade_train_param key;
  CHECK_OK(fer_cascade_train_param_find("min_hit_rate", &key));
  CHECK_EQ_INT(key, FER_CASCADE_TRAIN_MIN_HIT_RATE);
  double lo, hi, def;
  CHECK_OK(fer_cascade_train_param_bounds(FER_CASCADE_TRAIN_STAGES, &lo, &hi, &def));
  CHECK(def == 20 && lo == 1);
  fer_image *small;
  CHECK_OK(fer_image_create(10, 10, 1, &small));
  CHECK_STATUS(fer_cascade_trainer_add_negative(tr, small), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("smaller than");
  fer_image_free(small);
  /* LBP trees deeper than stumps are refused (test_train_lbp.c trains stumps). */
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_FEATURE_SET, FER_FEATURES_LBP));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_TREE_DEPTH, 2));
  uint8_t px[24 * 24];
  lcg_state = 5;
  for (int i = 0; i < 24 * 24; i++) px[i] = (uint8_t)(lcg() & 255);
  CHECK_OK(fer_cascade_trainer_add_positive(tr, px, 24, 24, 0, 0));
  fer_image *neg = make_negative(1);
  CHECK_OK(fer_cascade_trainer_add_negative(tr, neg));
  fer_image_free(neg);
  CHECK_STATUS(fer_cascade_trainer_run(tr, &c), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("stumps only");
  CHECK(c == NULL);
  fer_cascade_trainer_free(tr);
  fer_cascade_trainer_free(NULL);
  CHECK_STATUS(fer_cascade_save_xml(NULL, "x.xml"), FER_ERR_MISUSE);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--export") == 0) {
    fer_cascade_trainer *tr = make_gentle_stumps(4);
    fer_cascade *c = NULL;
    int failed = fer_cascade_trainer_run(tr, &c) != FER_OK || export_for_opencv(c, argv[2]) != 0;
    fer_cascade_free(c);
    fer_cascade_trainer_free(tr);
    return failed;
  }
  RUN(test_misuse);
  RUN(test_criteria);
  RUN(test_stage_sums_equal_detector);
  RUN(test_mining_samples_windows);
  RUN(test_threshold_on_held_out);
  RUN(test_boost_variants);
  RUN(test_deterministic_across_threads);
  RUN(test_resume_equals_uninterrupted);
  RUN(test_xml_round_trip);
  return harness_finish();
}
