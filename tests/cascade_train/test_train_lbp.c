/*
 * Multi-block LBP cascade training (FER_FEATURES_LBP) on the synthetic
 * disks of train_fixtures.h. Checks, against references written here:
 *   - the categorical split equals a brute-force search over every
 *     partition of the codes present, for each boosting variant;
 *   - the feature pool is every 3x3 block grid fitting the window, and
 *     the codes training sees equal block means compared naively;
 *   - trained cascades separate held-out windows and find disks in a scene;
 *     the trainer's stage sums are the detector's to the bit (LBP stumps
 *     add in float); determinism across thread counts; resume from a state
 *     file; the XML writer against our loader.
 *
 * With --export DIR it writes a trained LBP cascade (DIR/tiny.xml), a test
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

static fer_cascade_trainer *make_lbp_trainer(int boost, int stages) {
  fer_cascade_trainer *tr = make_trainer(boost, 1, stages);
  if (tr) CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_FEATURE_SET, FER_FEATURES_LBP));
  return tr;
}

/* ---- the categorical split against brute force --------------------------- */

typedef struct toy_sample {
  int code, positive;
  double weight;
} toy_sample;

/* What a partition costs, from the samples themselves (smaller is
 * better): the weighted squared error of the +-1 responses around each
 * side's weighted mean (Gentle), sum sqrt(W+ W-) (Real) or sum min(W+, W-)
 * (Discrete) over the two sides. */
static double partition_cost(const toy_sample *s, int n, int boost,
                             int (*in_left)(const void *, int), const void *ctx) {
  double cost = 0;
  for (int side = 0; side < 2; side++) {
    double wp = 0, wn = 0, wy = 0, w = 0;
    for (int i = 0; i < n; i++) {
      if (in_left(ctx, s[i].code) != (side == 0)) continue;
      double y = s[i].positive ? 1 : -1;
      *(s[i].positive ? &wp : &wn) += s[i].weight;
      wy += s[i].weight * y;
      w += s[i].weight;
    }
    if (boost == FER_BOOST_GENTLE) {
      double mean = w > 0 ? wy / w : 0;
      for (int i = 0; i < n; i++) {
        if (in_left(ctx, s[i].code) != (side == 0)) continue;
        double y = s[i].positive ? 1 : -1;
        cost += s[i].weight * (y - mean) * (y - mean);
      }
    } else if (boost == FER_BOOST_REAL) {
      cost += sqrt(wp * wn);
    } else {
      cost += wp < wn ? wp : wn;
    }
  }
  return cost;
}

static int in_subset(const void *ctx, int code) {
  const uint32_t *subset = ctx;
  return (subset[code >> 5] >> (code & 31)) & 1u;
}

typedef struct mask_ctx {
  const int *codes;
  int k;
  unsigned mask;
} mask_ctx;

static int in_mask(const void *ctx, int code) {
  const mask_ctx *m = ctx;
  for (int j = 0; j < m->k; j++)
    if (m->codes[j] == code) return (m->mask >> j) & 1u;
  return 0;
}

static void test_split_brute_force(void) {
  static const int boosts[] = {FER_BOOST_GENTLE, FER_BOOST_REAL, FER_BOOST_DISCRETE};
  lcg_state = 2024;
  int checked = 0;
  for (int trial = 0; trial < 300; trial++) {
    int k = 2 + (int)(lcg() % 9); /* 2..10 codes present */
    int codes[10];
    for (int j = 0; j < k; j++) {
      int fresh;
      do {
        codes[j] = (int)(lcg() % 256);
        fresh = 1;
        for (int q = 0; q < j; q++) fresh &= codes[q] != codes[j];
      } while (!fresh);
    }
    toy_sample s[60];
    int n = k + (int)(lcg() % (60 - k));
    for (int i = 0; i < n; i++) {
      s[i].code = i < k ? codes[i] : codes[lcg() % (uint32_t)k]; /* every code present */
      s[i].positive = (int)(lcg() % 2);
      /* Some trials with few weight levels, so that ties occur. */
      s[i].weight = trial % 3 == 0 ? (double)(1 + lcg() % 3) : (double)(1 + lcg() % 100000) / 1e5;
    }
    double wp[256] = {0}, wn[256] = {0};
    for (int i = 0; i < n; i++) (s[i].positive ? wp : wn)[s[i].code] += s[i].weight;
    for (int b = 0; b < 3; b++) {
      uint32_t subset[FER__LBP_SUBSET_WORDS];
      double score = 0;
      CHECK(fer__lbp_best_split(wp, wn, boosts[b], subset, &score) == 1);
      int left = 0, stray = 0;
      for (int c = 0; c < 256; c++) {
        if (!in_subset(subset, c)) continue;
        int present = 0;
        for (int j = 0; j < k; j++) present |= codes[j] == c;
        left += present;
        stray += !present;
      }
      CHECK_MSG(stray == 0 && left >= 1 && left < k,
                "trial %d: %d of %d codes left, %d absent ones", trial, left, k, stray);
      double got = partition_cost(s, n, boosts[b], in_subset, subset);
      double best = INFINITY;
      for (unsigned mask = 1; mask + 1 < (1u << k); mask++) {
        mask_ctx m = {codes, k, mask};
        double cost = partition_cost(s, n, boosts[b], in_mask, &m);
        if (cost < best) best = cost;
      }
      CHECK_MSG(got <= best + 1e-9 * (1 + best),
                "trial %d boost %d (%d codes): cost %.17g, best %.17g", trial, boosts[b], k, got,
                best);
      checked++;
    }
  }
  CHECK_EQ_INT(checked, 900);
  /* Fewer than two codes with weight: nothing to split. */
  double wp[256] = {0}, wn[256] = {0};
  wp[7] = 1;
  wn[7] = 2;
  uint32_t subset[FER__LBP_SUBSET_WORDS];
  double score;
  CHECK(fer__lbp_best_split(wp, wn, FER_BOOST_GENTLE, subset, &score) == 0);
}

/* ---- the feature pool and the codes ------------------------------------- */

/* Block (row r, column c) of the feature's 3x3 grid: its mean from raw pixels. */
static double block_mean(const uint8_t *px, const fer__haar_rect *r, int row, int col) {
  double sum = 0;
  for (int y = 0; y < r->height; y++)
    for (int x = 0; x < r->width; x++)
      sum += px[(r->y + row * r->height + y) * WIN + r->x + col * r->width + x];
  return sum / (r->width * r->height);
}

/* OpenCV's MB-LBP code: the 8 outer blocks against the centre one (>=),
 * clockwise from the top-left block, which is the most significant bit. */
static int naive_code(const uint8_t *px, const fer__haar_rect *r) {
  static const int ring[8][2] = {{0, 0}, {0, 1}, {0, 2}, {1, 2}, {2, 2}, {2, 1}, {2, 0}, {1, 0}};
  double centre = block_mean(px, r, 1, 1);
  int code = 0;
  for (int b = 0; b < 8; b++)
    code |= (block_mean(px, r, ring[b][0], ring[b][1]) >= centre) << (7 - b);
  return code;
}

static void test_pool_is_every_grid(void) {
  for (int step = 1; step <= 2; step++) {
    fer__feature_pool pool;
    CHECK_OK(fer__feature_pool_build_lbp(&pool, WIN, 12, step, 0, 0, WIN + 1));
    CHECK(pool.lbp);
    size_t expected = 0, found = 0;
    for (int bw = 1; 3 * bw <= WIN; bw += step)
      for (int bh = 1; 3 * bh <= 12; bh += step)
        for (int y = 0; y + 3 * bh <= 12; y += step)
          for (int x = 0; x + 3 * bw <= WIN; x += step) {
            expected++;
            for (size_t i = 0; i < pool.count; i++) {
              const fer__cascade_feature *f = &pool.features[i];
              fer__cascade_feature want;
              memset(&want, 0, sizeof want);
              want.rect[0] = (fer__haar_rect){x, y, bw, bh, 0.f};
              if (memcmp(f, &want, sizeof want) == 0) {
                found++;
                break;
              }
            }
          }
    CHECK_EQ_INT(pool.count, expected);
    CHECK_EQ_INT(found, expected);
    fer__feature_pool_release(&pool);
  }
  /* max_features: a seeded subset, in enumeration order. */
  fer__feature_pool all, some, again;
  CHECK_OK(fer__feature_pool_build_lbp(&all, WIN, WIN, 1, 0, 0, WIN + 1));
  CHECK_OK(fer__feature_pool_build_lbp(&some, WIN, WIN, 1, 100, 5, WIN + 1));
  CHECK_OK(fer__feature_pool_build_lbp(&again, WIN, WIN, 1, 100, 5, WIN + 1));
  CHECK_EQ_INT(some.count, 100);
  CHECK(memcmp(some.features, again.features, 100 * sizeof *some.features) == 0);
  size_t at = 0, in_order = 0;
  for (size_t i = 0; i < some.count; i++) {
    while (at < all.count && memcmp(&all.features[at], &some.features[i], sizeof *all.features))
      at++;
    in_order += at < all.count;
  }
  CHECK_EQ_INT(in_order, 100);
  fer__feature_pool_release(&all);
  fer__feature_pool_release(&some);
  fer__feature_pool_release(&again);
  fer__feature_pool none;
  CHECK_STATUS(fer__feature_pool_build_lbp(&none, 2, 2, 1, 0, 0, 3), FER_ERR_INVALID_ARGUMENT);
}

static void test_codes_match_naive(void) {
  fer__feature_pool pool;
  CHECK_OK(fer__feature_pool_build_lbp(&pool, WIN, WIN, 1, 0, 0, WIN + 1));
  fer__scan_plan norm_plan;
  memset(&norm_plan, 0, sizeof norm_plan);
  fer_cascade dummy;
  norm_only_plan(&norm_plan, &dummy);
  enum { SAMPLES = 40 };
  fer__sample_set set;
  CHECK_OK(fer__sample_set_init(&set, WIN, WIN, 0, SAMPLES));
  static uint8_t px[SAMPLES][WIN * WIN];
  lcg_state = 77;
  for (int s = 0; s < SAMPLES; s++) {
    /* Noise, a few grey levels (ties between blocks: the >= matters),
     * disks, and flat windows (every code 255). */
    if (s % 4 == 0) make_positive(px[s]);
    for (int i = 0; i < WIN * WIN; i++) {
      if (s % 4 == 1) px[s][i] = (uint8_t)(lcg() & 255);
      if (s % 4 == 2) px[s][i] = (uint8_t)(100 * (lcg() % 3));
      if (s % 4 == 3) px[s][i] = 90;
    }
    fer__sample_set_add(&set, px[s], WIN, &norm_plan);
  }
  size_t equal = 0, total = 0, full = 0;
  for (size_t f = 0; f < pool.count; f++)
    for (size_t s = 0; s < set.count; s++) {
      fer__level_view v = fer__sample_view(&set, s);
      int got = fer__scan_lbp_code(&pool.opt[f], &v, 0);
      int want = naive_code(px[s], &pool.features[f].rect[0]);
      equal += got == want;
      total++;
      full += want == 255;
      if (got != want && total - equal <= 3)
        fprintf(stderr, "  feature (%d %d %d %d) sample %zu: %d, naive %d\n",
                pool.features[f].rect[0].x, pool.features[f].rect[0].y,
                pool.features[f].rect[0].width, pool.features[f].rect[0].height, s, got, want);
    }
  CHECK_MSG(equal == total, "%zu of %zu codes equal the naive ones", equal, total);
  CHECK(full > 0 && full < total);
  fer__sample_set_release(&set);
  fer__scan_plan_release(&norm_plan);
  fer__feature_pool_release(&pool);
}

/* ---- training ------------------------------------------------------------ */

/* One LBP stage through the internal pieces: the trainer's stage sums (in
 * float, as the scan adds LBP stumps) equal the scan's to the bit, and so
 * does the hit rate it reports. A false-alarm target of ~0 makes many
 * stumps, so that float rounding has sums to show up in. */
static void test_stage_sums_equal_detector(void) {
  fer_cascade_trainer *tr = make_lbp_trainer(FER_BOOST_GENTLE, 1);
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_MAX_FALSE_ALARM, 1e-6));
  fer__feature_pool pool;
  CHECK_OK(fer__feature_pool_build_lbp(&pool, WIN, WIN, 1, 0, 3, WIN + 1));
  int weak = check_stage_sums_equal_detector(tr, &pool, "lbp");
  CHECK_MSG(weak > 3, "%d weak learners", weak);
  fer__feature_pool_release(&pool);
  fer_cascade_trainer_free(tr);
}

static void test_boost_variants(void) {
  static const struct {
    int boost;
    const char *name;
  } boosts[] = {{FER_BOOST_GENTLE, "lbp gentle"}, {FER_BOOST_DISCRETE, "lbp discrete"},
                {FER_BOOST_REAL, "lbp real"}};
  for (size_t b = 0; b < 3; b++) {
    fer_cascade_trainer *tr = make_lbp_trainer(boosts[b].boost, 3);
    fer_cascade *c = NULL;
    CHECK_OK(fer_cascade_trainer_run(tr, &c));
    fprintf(stderr, "  %s: %s\n", boosts[b].name, fer_cascade_trainer_message(tr));
    if (c) {
      CHECK(fer_cascade_feature_type(c) == FER_CASCADE_LBP);
      CHECK_MSG(fer_cascade_stage_count(c) >= 2, "%s: %d stages", boosts[b].name,
                fer_cascade_stage_count(c));
      check_separates(c, boosts[b].name);
    }
    fer_cascade_free(c);
    fer_cascade_trainer_free(tr);
  }
}

static fer_cascade *train_stages(int stages) {
  fer_cascade_trainer *tr = make_lbp_trainer(FER_BOOST_GENTLE, stages);
  fer_cascade *c = NULL;
  fer_status st = fer_cascade_trainer_run(tr, &c);
  fer_cascade_trainer_free(tr);
  return st == FER_OK ? c : NULL;
}

/* The scene's disks lie on stronger noise than the training windows, and
 * the smallest (radius 4) is at the edge of the training radii: a 6-stage
 * cascade must find at least two of the three, and every box it gives must
 * be centred on a disk (no false alarm). */
static void test_finds_disks_in_scene(void) {
  fer_cascade *c = train_stages(6);
  CHECK(c != NULL);
  if (!c) return;
  fer_image *scene = make_scene();
  fer_detector *det;
  CHECK_OK(fer_detector_create(c, &det));
  fer_detection d[64];
  size_t n = 0;
  CHECK_OK(fer_detector_run(det, scene, d, 64, &n));
  int found = 0, on_disk = 0;
  int hit[3] = {0, 0, 0};
  for (size_t i = 0; i < n && i < 64; i++) {
    int cx = d[i].box.x + d[i].box.width / 2, cy = d[i].box.y + d[i].box.height / 2;
    int on = 0;
    for (int k = 0; k < 3; k++) {
      int dx = cx - scene_disks[k][0], dy = cy - scene_disks[k][1];
      /* Centred within the disk, and the box no smaller than it. */
      int r = scene_disks[k][2];
      if (dx * dx + dy * dy <= r * r && d[i].box.width >= 2 * r) {
        hit[k] = 1;
        on = 1;
      }
    }
    on_disk += on;
  }
  for (int k = 0; k < 3; k++) found += hit[k];
  CHECK_MSG(found >= 2 && on_disk == (int)n, "%d of 3 disks found; %d of %zu boxes on a disk",
            found, on_disk, n);
  fer_detector_free(det);
  fer_image_free(scene);
  fer_cascade_free(c);
}

static fer_cascade_trainer *make_gentle_stumps(int stages) {
  return make_lbp_trainer(FER_BOOST_GENTLE, stages);
}

static void test_deterministic_across_threads(void) {
  check_deterministic_across_threads(make_gentle_stumps, 3);
}

static void test_resume_equals_uninterrupted(void) {
  check_resume_equals_uninterrupted(make_gentle_stumps, "test_train_lbp");
}

/* A Haar run does not continue from an LBP state file. */
static void test_state_of_other_kind_refused(void) {
  char state[256];
  snprintf(state, sizeof state, "test_train_lbp_kind_%d.fercascade",
           (int)(fer__now_seconds() * 1000) % 100000);
  remove(state);
  fer_cascade_trainer *tr = make_lbp_trainer(FER_BOOST_GENTLE, 1);
  fer_cascade *c = NULL;
  CHECK_OK(fer_cascade_trainer_set_state_file(tr, state));
  CHECK_OK(fer_cascade_trainer_run(tr, &c));
  fer_cascade_free(c);
  fer_cascade_trainer_free(tr);
  tr = make_trainer(FER_BOOST_GENTLE, 1, 2);
  c = NULL;
  CHECK_OK(fer_cascade_trainer_set_state_file(tr, state));
  CHECK_STATUS(fer_cascade_trainer_run(tr, &c), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("different cascade");
  CHECK(c == NULL);
  fer_cascade_trainer_free(tr);
  remove(state);
}

static void test_xml_round_trip(void) {
  fer_cascade *c = train_stages(4);
  CHECK(c != NULL);
  if (!c) return;
  char *xml = NULL;
  size_t size = 0;
  CHECK_OK(fer_cascade_encode_xml(c, &xml, &size));
  CHECK(xml && strstr(xml, "<featureType>LBP</featureType>") != NULL);
  fer_free(xml);
  check_xml_round_trip(c);
  fer_cascade_free(c);
}

/* The Nth allocation of a small LBP run failing, for every N until a run
 * succeeds: FER_ERR_OUT_OF_MEMORY and no cascade, never a crash or (under
 * ASan) a leak. */
static void test_allocation_failures(void) {
  /* A smaller problem than make_trainer's, so the ~1000 runs stay quick
   * under ASan: 40 positives, 2 negative images, 50 features. */
  fer_cascade_trainer *tr = NULL;
  CHECK_OK(fer_cascade_trainer_create(&tr));
  if (!tr) return;
  static const struct {
    fer_cascade_train_param key;
    double value;
  } settings[] = {{FER_CASCADE_TRAIN_WINDOW_WIDTH, WIN},
                  {FER_CASCADE_TRAIN_WINDOW_HEIGHT, WIN},
                  {FER_CASCADE_TRAIN_STAGES, 2},
                  {FER_CASCADE_TRAIN_FEATURE_SET, FER_FEATURES_LBP},
                  {FER_CASCADE_TRAIN_MAX_FEATURES, 50},
                  {FER_CASCADE_TRAIN_NEGATIVES, 40},
                  {FER_CASCADE_TRAIN_THREADS, 1}};
  for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
    CHECK_OK(fer_cascade_trainer_set(tr, settings[i].key, settings[i].value));
  lcg_state = 11;
  uint8_t px[WIN * WIN];
  for (int i = 0; i < 40; i++) {
    make_positive(px);
    CHECK_OK(fer_cascade_trainer_add_positive(tr, px, WIN, WIN, 0, 0));
  }
  for (int i = 0; i < 2; i++) {
    fer_image *img = make_negative(i);
    CHECK_OK(fer_cascade_trainer_add_negative(tr, img));
    fer_image_free(img);
  }
  int succeeded = 0;
  long n;
  for (n = 1; n < 3000 && !succeeded; n++) {
    fer_cascade *c = NULL;
    fer__alloc_fail_after(n);
    fer_status st = fer_cascade_trainer_run(tr, &c);
    fer__alloc_fail_after(0);
    CHECK_MSG(st == FER_OK || (st == FER_ERR_OUT_OF_MEMORY && c == NULL),
              "allocation %ld failing: status %d", n, (int)st);
    succeeded = st == FER_OK;
    fer_cascade_free(c);
  }
  CHECK_MSG(succeeded && n > 10, "a run succeeded after %ld failing allocations", n - 1);
  fer_cascade_trainer_free(tr);
}

static void test_refusals(void) {
  fer_cascade_trainer *tr = make_lbp_trainer(FER_BOOST_GENTLE, 2);
  fer_cascade *c = NULL;
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_TREE_DEPTH, 2));
  CHECK_STATUS(fer_cascade_trainer_run(tr, &c), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("tree_depth 2");
  CHECK(c == NULL);
  fer_cascade_trainer_free(tr);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--export") == 0) {
    fer_cascade *c = train_stages(4);
    int failed = export_for_opencv(c, argv[2]) != 0;
    fer_cascade_free(c);
    return failed;
  }
  RUN(test_split_brute_force);
  RUN(test_pool_is_every_grid);
  RUN(test_codes_match_naive);
  RUN(test_stage_sums_equal_detector);
  RUN(test_refusals);
  RUN(test_allocation_failures);
  RUN(test_boost_variants);
  RUN(test_finds_disks_in_scene);
  RUN(test_deterministic_across_threads);
  RUN(test_resume_equals_uninterrupted);
  RUN(test_state_of_other_kind_refused);
  RUN(test_xml_round_trip);
  return harness_finish();
}
