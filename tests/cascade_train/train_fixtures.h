/*
 * The tiny synthetic training problem shared by test_train.c (Haar) and
 * test_train_lbp.c: 16x16 windows with a bright disk in the centre
 * (positives) against noise, stripes and bright squares and bars
 * (negative images), and the checks both run on their own trainers.
 * Include after harness.h.
 */
#ifndef FER_TESTS_DETECT_TRAIN_FIXTURES_H
#define FER_TESTS_DETECT_TRAIN_FIXTURES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"
#include "fer.h"

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

/* One stage trained through the internal pieces on the trainer's
 * positives and 300 mined negatives with the features of `pool`: the
 * trainer's final stage sums equal the scan's window by window, to the
 * bit, and the hit rate it reports is the scan's. Returns the number of
 * weak learners. */
static int check_stage_sums_equal_detector(const fer_cascade_trainer *tr,
                                           const fer__feature_pool *pool, const char *what) {
  fer__sample_set set;
  fer__scan_plan norm_plan, plan;
  memset(&norm_plan, 0, sizeof norm_plan);
  memset(&plan, 0, sizeof plan);
  fer_cascade dummy;
  norm_only_plan(&norm_plan, &dummy);
  CHECK_OK(fer__sample_set_init(&set, WIN, WIN, !pool->lbp, 1000));
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
  model.lbp = pool->lbp;
  double *sums = calloc(set.count, sizeof *sums);
  fer__stage_result result = {0, 0, 0, sums};
  CHECK_OK(fer__train_stage(tr, &set, NULL, pool, 2, &model, &result));
  fer_cascade *c = NULL;
  CHECK_OK(fer__train_model_to_cascade(&model, 1, &c));
  CHECK(c && fer_cascade_feature_type(c) == (pool->lbp ? FER_CASCADE_LBP : FER_CASCADE_HAAR));
  CHECK_OK(fer__scan_plan_build(&plan, c, WIN + 1));
  size_t same = 0, passed = 0, pos_passed = 0;
  for (size_t i = 0; i < set.count; i++) {
    fer__level_view v = fer__sample_view(&set, i);
    double score = 0;
    int r = fer__scan_window(&plan, &v, 0, &score);
    same += score == sums[i];
    passed += r > 0;
    if (i < set.positives) pos_passed += r > 0;
  }
  CHECK_MSG(same == set.count, "%s: %zu of %zu stage sums equal", what, same, set.count);
  CHECK_NEAR((double)pos_passed / (double)set.positives, result.hit_rate, 1e-12);
  CHECK(passed > 0);
  free(sums);
  fer_cascade_free(c);
  fer__train_model_release(&model);
  fer__scan_plan_release(&plan);
  fer__scan_plan_release(&norm_plan);
  fer__sample_set_release(&set);
  return result.weak_count;
}

static int encode(const fer_cascade *c, void **data, size_t *size) {
  return c && fer_cascade_encode(c, data, size) == FER_OK;
}

/* A trainer of the test's kind for a number of stages. */
typedef fer_cascade_trainer *(*trainer_maker)(int stages);

static void check_deterministic_across_threads(trainer_maker make, int stages) {
  void *a = NULL, *b = NULL;
  size_t na = 0, nb = 0;
  for (int threads = 1; threads <= 2; threads++) {
    fer_cascade_trainer *tr = make(stages);
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

/* A 4-stage run stopped after stage 1 with a state file, then run again
 * with it, equals an uninterrupted run byte for byte. */
static void check_resume_equals_uninterrupted(trainer_maker make, const char *name) {
  char state[256];
  snprintf(state, sizeof state, "%s_state_%d.fercascade", name,
           (int)(fer__now_seconds() * 1000) % 100000);
  remove(state);
  void *whole = NULL, *resumed = NULL;
  size_t nw = 0, nr = 0;
  fer_cascade_trainer *tr = make(4);
  fer_cascade *c = NULL;
  CHECK_OK(fer_cascade_trainer_run(tr, &c));
  CHECK(encode(c, &whole, &nw));
  fer_cascade_free(c);
  fer_cascade_trainer_free(tr);

  tr = make(4);
  int calls = 0;
  CHECK_OK(fer_cascade_trainer_set_state_file(tr, state));
  CHECK_OK(fer_cascade_trainer_set_progress(tr, stop_after_stage_1, &calls));
  CHECK_STATUS(fer_cascade_trainer_run(tr, &c), FER_ERR_CANCELLED);
  CHECK(c && fer_cascade_stage_count(c) == 2);
  CHECK_EQ_INT(calls, 2);
  fer_cascade_free(c);
  fer_cascade_trainer_free(tr);

  tr = make(4);
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

/* The XML writer's output loads back bit for bit. */
static void check_xml_round_trip(const fer_cascade *c) {
  fer_cascade *back = NULL;
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
}

/* A scene: negative image 0 with bright disks (x, y, radius). */
static const int scene_disks[3][3] = {{20, 20, 4}, {60, 30, 6}, {40, 70, 9}};

static fer_image *make_scene(void) {
  fer_image *scene = make_negative(0);
  if (!scene) return NULL;
  uint8_t *p = fer_image_data_mutable(scene);
  size_t stride = fer_image_stride(scene);
  for (int k = 0; k < 3; k++)
    for (int y = 0; y < NEG_SIDE; y++)
      for (int x = 0; x < NEG_SIDE; x++) {
        int dx = x - scene_disks[k][0], dy = y - scene_disks[k][1], r = scene_disks[k][2];
        if (dx * dx + dy * dy <= r * r) p[(size_t)y * stride + x] = 250;
      }
  return scene;
}

/* For train_opencv_check.py: writes the cascade (DIR/tiny.xml), the scene
 * (DIR/scene.pgm) and libfer's detections on it (DIR/libfer.txt). */
static int export_for_opencv(const fer_cascade *c, const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/tiny.xml", dir);
  if (!c || fer_cascade_save_xml(c, path) != FER_OK) return 1;
  fer_image *scene = make_scene();
  fer_detector *det = NULL;
  fer_detection d[256];
  size_t n = 0;
  snprintf(path, sizeof path, "%s/scene.pgm", dir);
  int failed = !scene || fer_image_save(scene, path, FER_IMAGE_FORMAT_PNM) != FER_OK ||
               fer_detector_create(c, &det) != FER_OK ||
               fer_detector_run(det, scene, d, 256, &n) != FER_OK;
  snprintf(path, sizeof path, "%s/libfer.txt", dir);
  FILE *f = failed ? NULL : fopen(path, "w");
  if (f) {
    for (size_t i = 0; i < n && i < 256; i++)
      fprintf(f, "%d %d %d %d\n", d[i].box.x, d[i].box.y, d[i].box.width, d[i].box.height);
    fclose(f);
  }
  fer_detector_free(det);
  fer_image_free(scene);
  return failed || !f;
}

#endif
