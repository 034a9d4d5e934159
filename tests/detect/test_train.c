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
 * tests/detect/train_opencv_check.py.
 */
#include <stdint.h>
#include <stdio.h>

#include "core/core_internal.h"
#include "detect/train_internal.h"
#include "harness.h"

#define WIN 16
#define NEG_SIDE 128

static uint32_t lcg_state = 1;
static uint32_t lcg(void) {
  lcg_state = lcg_state * 1664525u + 1013904223u;
  return lcg_state >> 8;
}

/* A positive: noisy mid-grey with a disk of radius 4-5 near the centre,
 * `contrast` grey levels brighter than the 40-level noise. */
static void make_disk(uint8_t *px, int contrast) {
  int cx = 7 + (int)(lcg() % 3) - 1, cy = 7 + (int)(lcg() % 3) - 1;
  int r2 = 16 + (int)(lcg() % 10);
  for (int y = 0; y < WIN; y++)
    for (int x = 0; x < WIN; x++) {
      int v = 70 + (int)(lcg() % 40);
      if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= r2) v += contrast;
      px[y * WIN + x] = (uint8_t)v;
    }
}

static void make_positive(uint8_t *px) { make_disk(px, 110); }

/* A negative image: noise, stripes and flat blocks, no disks. */
static fer_image *make_negative(int seed) {
  fer_image *img;
  if (fer_image_create(NEG_SIDE, NEG_SIDE, 1, &img) != FER_OK) return NULL;
  uint8_t *p = fer_image_data_mutable(img);
  size_t stride = fer_image_stride(img);
  lcg_state = (uint32_t)seed * 7919u + 17u;
  for (int y = 0; y < NEG_SIDE; y++)
    for (int x = 0; x < NEG_SIDE; x++) {
      int v = (int)(lcg() % 200);
      if (seed % 3 == 1) v = ((x / (2 + seed % 4)) % 2) ? 200 : 40 + (int)(lcg() % 30);
      if (seed % 3 == 2) v = ((y / 3) % 2) ? 180 + (int)(lcg() % 50) : 60;
      p[(size_t)y * stride + x] = (uint8_t)v;
    }
  /* Near misses keep later stages busy: bright squares and bars, the
   * shapes a bright-centre detector confuses first. */
  for (int k = 0; k < 40; k++) {
    int side = 6 + (int)(lcg() % 5), bar = (int)(lcg() % 3);
    int bw = bar == 1 ? side * 2 : side, bh = bar == 2 ? side * 2 : side;
    int x0 = (int)(lcg() % (NEG_SIDE - bw)), y0 = (int)(lcg() % (NEG_SIDE - bh));
    for (int y = y0; y < y0 + bh; y++)
      for (int x = x0; x < x0 + bw; x++) p[(size_t)y * stride + x] = (uint8_t)(170 + lcg() % 60);
  }
  return img;
}

static fer_cascade_trainer *make_trainer(int boost, int depth, int stages) {
  fer_cascade_trainer *tr = NULL;
  CHECK_OK(fer_cascade_trainer_create(&tr));
  if (!tr) return NULL;
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_WINDOW_WIDTH, WIN));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_WINDOW_HEIGHT, WIN));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_STAGES, stages));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_BOOST, boost));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_TREE_DEPTH, depth));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_MAX_FEATURES, 1500));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_NEGATIVES, 150));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_MIN_HIT_RATE, 0.99));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_MAX_FALSE_ALARM, 0.5));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_THREADS, 1));
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_SEED, 7));
  lcg_state = 99;
  uint8_t px[WIN * WIN];
  for (int i = 0; i < 300; i++) {
    make_positive(px);
    CHECK_OK(fer_cascade_trainer_add_positive(tr, px, WIN, WIN, 0, i % 2));
  }
  for (int i = 0; i < 12; i++) {
    fer_image *img = make_negative(i);
    CHECK_OK(fer_cascade_trainer_add_negative(tr, img));
    fer_image_free(img);
  }
  return tr;
}

/* 1 when the detector accepts the window-sized image `px`. */
static int detector_accepts(fer_detector *det, const uint8_t *px) {
  fer_detection d[4];
  size_t n = 0;
  fer_status st = fer_detector_run_gray(det, px, WIN, WIN, 0, d, 4, &n);
  return st == FER_OK && n == 1;
}

static void check_separates(const fer_cascade *c, const char *what) {
  fer_detector *det;
  CHECK_OK(fer_detector_create(c, &det));
  CHECK_OK(fer_detector_set(det, FER_DETECT_RAW, 1));
  int pos = 0, neg = 0;
  uint8_t px[WIN * WIN];
  lcg_state = 4242; /* held out: a different stream from the training one */
  for (int i = 0; i < 200; i++) {
    make_positive(px);
    pos += detector_accepts(det, px);
  }
  for (int i = 0; i < 20; i++) {
    fer_image *img = make_negative(100 + i);
    const uint8_t *p = fer_image_data(img);
    size_t stride = fer_image_stride(img);
    for (int k = 0; k < 10; k++) {
      int x = (int)(lcg() % (NEG_SIDE - WIN)), y = (int)(lcg() % (NEG_SIDE - WIN));
      for (int r = 0; r < WIN; r++) memcpy(px + r * WIN, p + (size_t)(y + r) * stride + x, WIN);
      neg += detector_accepts(det, px);
    }
    fer_image_free(img);
  }
  CHECK_MSG(pos >= 180, "%s: %d of 200 held-out positives accepted", what, pos);
  CHECK_MSG(neg <= 20, "%s: %d of 200 held-out negatives accepted", what, neg);
  fer_detector_free(det);
}

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

/* A scan plan with no stage: only the window norm (the flatness test).
 * The plan points at `dummy`, which must outlive it. */
static void norm_only_plan(fer__scan_plan *plan, fer_cascade *dummy) {
  memset(dummy, 0, sizeof *dummy);
  dummy->feature_type = FER_CASCADE_HAAR;
  dummy->window_width = WIN;
  dummy->window_height = WIN;
  dummy->max_nodes_per_tree = 2;
  CHECK_OK(fer__scan_plan_build(plan, dummy, WIN + 1));
}

/* One stage trained through the internal pieces; the trainer's final stage
 * sums must equal the scan's, window by window, to the bit. */
static void test_stage_sums_equal_detector(void) {
  for (int depth = 1; depth <= 2; depth++) {
    fer_cascade_trainer *tr = make_trainer(FER_BOOST_GENTLE, depth, 1);
    fer__sample_set set;
    fer__feature_pool pool;
    fer__scan_plan norm_plan, plan;
    memset(&norm_plan, 0, sizeof norm_plan);
    memset(&plan, 0, sizeof plan);
    fer_cascade dummy;
    norm_only_plan(&norm_plan, &dummy);
    CHECK_OK(fer__sample_set_init(&set, WIN, WIN, 1, 1000));
    CHECK_OK(fer__feature_pool_build(&pool, WIN, WIN, 1, 1, 3000, 3, WIN + 1));
    for (size_t i = 0; i < tr->positive_count; i++) {
      fer__sample_set_add(&set, tr->positives + i * WIN * WIN, WIN, &norm_plan);
      if (!(set.inv_norm[set.count - 1] > 0)) set.count--;
    }
    set.positives = set.count;
    fer__mining_result mined;
    CHECK_OK(fer__train_mine_negatives(tr, NULL, 0, 300, 1, &set, &mined));
    CHECK_EQ_INT(mined.found, 300);
    fer__train_model model;
    memset(&model, 0, sizeof model);
    model.window_width = WIN;
    model.window_height = WIN;
    double *sums = calloc(set.count, sizeof *sums);
    fer__stage_result result = {0, 0, 0, sums};
    CHECK_OK(fer__train_stage(tr, &set, NULL, &pool, 2, &model, &result));
    fer_cascade *c = NULL;
    CHECK_OK(fer__train_model_to_cascade(&model, 1, &c));
    CHECK_OK(fer__scan_plan_build(&plan, c, WIN + 1));
    int same = 0, passed = 0;
    for (size_t i = 0; i < set.count; i++) {
      fer__level_view v = fer__sample_view(&set, i);
      double score = 0;
      int r = fer__scan_window(&plan, &v, 0, &score);
      same += score == sums[i];
      passed += r > 0;
    }
    CHECK_MSG(same == (int)set.count, "depth %d: %d of %zu stage sums equal", depth, same, set.count);
    /* And the hit rate the trainer reported is what the scan gives. */
    int pos_passed = 0;
    for (size_t i = 0; i < set.positives; i++) {
      fer__level_view v = fer__sample_view(&set, i);
      double score;
      pos_passed += fer__scan_window(&plan, &v, 0, &score) > 0;
    }
    CHECK_NEAR((double)pos_passed / (double)set.positives, result.hit_rate, 1e-12);
    CHECK(passed > 0);
    free(sums);
    fer_cascade_free(c);
    fer__train_model_release(&model);
    fer__scan_plan_release(&plan);
    fer__scan_plan_release(&norm_plan);
    fer__feature_pool_release(&pool);
    fer__sample_set_release(&set);
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

static int encode(const fer_cascade *c, void **data, size_t *size) {
  return c && fer_cascade_encode(c, data, size) == FER_OK;
}

static void test_deterministic_across_threads(void) {
  void *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  for (int threads = 1; threads <= 2; threads++) {
    fer_cascade_trainer *tr = make_trainer(FER_BOOST_GENTLE, 1, 3);
    CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_THREADS, threads));
    fer_cascade *c = NULL;
    CHECK_OK(fer_cascade_trainer_run(tr, &c));
    CHECK(encode(c, threads == 1 ? &a : &b, threads == 1 ? &na : &nb));
    fer_cascade_free(c);
    fer_cascade_trainer_free(tr);
  }
  CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
  fer_free(a);
  fer_free(b);
}

static int stop_after_stage_1(void *user, int stage, int weak, double hit, double fa,
                              double acceptance, double seconds) {
  (void)weak, (void)hit, (void)fa, (void)acceptance, (void)seconds;
  ++*(int *)user;
  return stage == 1;
}

static void test_resume_equals_uninterrupted(void) {
  char state[256];
  snprintf(state, sizeof state, "test_train_state_%d.fercascade", (int)(fer__now_seconds() * 1000) % 100000);
  remove(state);
  void *whole = NULL, *resumed = NULL;
  size_t nw = 0, nr = 0;
  fer_cascade_trainer *tr = make_trainer(FER_BOOST_GENTLE, 1, 4);
  fer_cascade *c = NULL;
  CHECK_OK(fer_cascade_trainer_run(tr, &c));
  CHECK(encode(c, &whole, &nw));
  fer_cascade_free(c);
  fer_cascade_trainer_free(tr);

  tr = make_trainer(FER_BOOST_GENTLE, 1, 4);
  int calls = 0;
  CHECK_OK(fer_cascade_trainer_set_state_file(tr, state));
  CHECK_OK(fer_cascade_trainer_set_progress(tr, stop_after_stage_1, &calls));
  CHECK_STATUS(fer_cascade_trainer_run(tr, &c), FER_ERR_CANCELLED);
  CHECK(c && fer_cascade_stage_count(c) == 2);
  CHECK_EQ_INT(calls, 2);
  fer_cascade_free(c);
  fer_cascade_trainer_free(tr);

  tr = make_trainer(FER_BOOST_GENTLE, 1, 4);
  calls = 0;
  CHECK_OK(fer_cascade_trainer_set_state_file(tr, state));
  CHECK_OK(fer_cascade_trainer_set_progress(tr, stop_after_stage_1, &calls));
  CHECK_OK(fer_cascade_trainer_run(tr, &c));
  CHECK_EQ_INT(calls, 2); /* stages 2 and 3 only */
  CHECK(encode(c, &resumed, &nr));
  fer_cascade_free(c);
  fer_cascade_trainer_free(tr);
  CHECK(whole && resumed && nw == nr && memcmp(whole, resumed, nw) == 0);
  fer_free(whole);
  fer_free(resumed);
  remove(state);
}

static void test_xml_round_trip(void) {
  fer_cascade_trainer *tr = make_trainer(FER_BOOST_REAL, 2, 2);
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_FEATURE_SET, FER_FEATURES_HAAR_ALL));
  fer_cascade *c = NULL, *back = NULL;
  CHECK_OK(fer_cascade_trainer_run(tr, &c));
  char *xml = NULL;
  size_t size = 0;
  CHECK_OK(fer_cascade_encode_xml(c, &xml, &size));
  CHECK(xml && strstr(xml, "opencv-cascade-classifier") != NULL);
  CHECK_OK(fer_cascade_load_memory(xml, size, &back));
  void *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  CHECK(encode(c, &a, &na) && encode(back, &b, &nb));
  CHECK_MSG(na == nb && a && b && memcmp(a, b, na) == 0, "XML does not load back bit for bit");
  fer_free(a);
  fer_free(b);
  fer_free(xml);
  fer_cascade_free(back);
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
  CHECK_OK(fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_FEATURE_SET, FER_FEATURES_LBP));
  uint8_t px[24 * 24];
  lcg_state = 5;
  for (int i = 0; i < 24 * 24; i++) px[i] = (uint8_t)(lcg() & 255);
  CHECK_OK(fer_cascade_trainer_add_positive(tr, px, 24, 24, 0, 0));
  fer_image *neg = make_negative(1);
  CHECK_OK(fer_cascade_trainer_add_negative(tr, neg));
  fer_image_free(neg);
  CHECK_STATUS(fer_cascade_trainer_run(tr, &c), FER_ERR_UNSUPPORTED);
  CHECK(c == NULL);
  fer_cascade_trainer_free(tr);
  fer_cascade_trainer_free(NULL);
  CHECK_STATUS(fer_cascade_save_xml(NULL, "x.xml"), FER_ERR_MISUSE);
}

/* Writes the cascade, a scene with disks and libfer's detections. */
static int export_for_opencv(const char *dir) {
  fer_cascade_trainer *tr = make_trainer(FER_BOOST_GENTLE, 1, 4);
  fer_cascade *c = NULL;
  if (fer_cascade_trainer_run(tr, &c) != FER_OK) return 1;
  char path[1024];
  snprintf(path, sizeof path, "%s/tiny.xml", dir);
  if (fer_cascade_save_xml(c, path) != FER_OK) return 1;
  fer_image *scene = make_negative(0);
  uint8_t *p = fer_image_data_mutable(scene);
  size_t stride = fer_image_stride(scene);
  int centres[3][3] = {{20, 20, 4}, {60, 30, 6}, {40, 70, 9}};
  for (int k = 0; k < 3; k++)
    for (int y = 0; y < NEG_SIDE; y++)
      for (int x = 0; x < NEG_SIDE; x++) {
        int dx = x - centres[k][0], dy = y - centres[k][1], r = centres[k][2];
        if (dx * dx + dy * dy <= r * r) p[(size_t)y * stride + x] = 250;
      }
  snprintf(path, sizeof path, "%s/scene.pgm", dir);
  if (fer_image_save(scene, path, FER_IMAGE_FORMAT_PNM) != FER_OK) return 1;
  fer_detector *det;
  fer_detection d[256];
  size_t n = 0;
  fer_detector_create(c, &det);
  fer_detector_run(det, scene, d, 256, &n);
  snprintf(path, sizeof path, "%s/libfer.txt", dir);
  FILE *f = fopen(path, "w");
  if (!f) return 1;
  for (size_t i = 0; i < n && i < 256; i++)
    fprintf(f, "%d %d %d %d\n", d[i].box.x, d[i].box.y, d[i].box.width, d[i].box.height);
  fclose(f);
  fer_detector_free(det);
  fer_image_free(scene);
  fer_cascade_free(c);
  fer_cascade_trainer_free(tr);
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--export") == 0) return export_for_opencv(argv[2]);
  RUN(test_misuse);
  RUN(test_stage_sums_equal_detector);
  RUN(test_mining_samples_windows);
  RUN(test_threshold_on_held_out);
  RUN(test_boost_variants);
  RUN(test_deterministic_across_threads);
  RUN(test_resume_equals_uninterrupted);
  RUN(test_xml_round_trip);
  return harness_finish();
}
