/* Cascade loading: every OpenCV cascade on the system, old and new layouts
 * of the same cascade, errors with line numbers, the binary format. */
#include <dirent.h>

#include "detect/cascade_internal.h"
#include "core/core_internal.h"
#include "harness.h"
#include "tiny_cascade.h"

#define HAAR_DIR "/usr/share/opencv4/haarcascades"
#define LBP_DIR "/usr/share/opencv4/lbpcascades"

static int load_folder(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return -1;
  int loaded = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name);
    if (len < 4 || strcmp(e->d_name + len - 4, ".xml") != 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    fer_cascade *c = NULL;
    fer_status st = fer_cascade_load(path, &c);
    CHECK_MSG(st == FER_OK, "%s: %s (%s)", path, fer_status_string(st), fer_last_error());
    if (st == FER_OK) {
      CHECK(fer_cascade_stage_count(c) > 0 && fer_cascade_window_width(c) > 0);
      loaded++;
    }
    fer_cascade_free(c);
  }
  closedir(d);
  return loaded;
}

static void test_every_opencv_cascade_loads(void) {
  int haar = load_folder(HAAR_DIR), lbp = load_folder(LBP_DIR);
  if (haar < 0 || lbp < 0) SKIP("%s or %s is absent (Debian package opencv-data)", HAAR_DIR, LBP_DIR);
  fprintf(stderr, "loaded %d Haar and %d LBP cascades\n", haar, lbp);
  CHECK(haar >= 17 && lbp >= 5);
}

/* Facts read off the files themselves (stage counts, window, features). */
static void test_known_cascades(void) {
  static const struct {
    const char *path;
    int w, h, stages, type, tilted, trees;
  } known[] = {
      {HAAR_DIR "/haarcascade_frontalface_default.xml", 24, 24, 25, FER_CASCADE_HAAR, 0, 0},
      {HAAR_DIR "/haarcascade_upperbody.xml", 22, 18, 30, FER_CASCADE_HAAR, 1, 0},
      {HAAR_DIR "/haarcascade_eye_tree_eyeglasses.xml", 20, 20, 30, FER_CASCADE_HAAR, 1, 1},
      {LBP_DIR "/lbpcascade_frontalface_improved.xml", 45, 45, 19, FER_CASCADE_LBP, 0, 0},
  };
  for (size_t i = 0; i < FER__ARRAY_LEN(known); i++) {
    fer_cascade *c;
    if (fer_cascade_load(known[i].path, &c) != FER_OK) {
      if (i == 0) SKIP("%s is absent", known[i].path);
      CHECK_MSG(0, "%s: %s", known[i].path, fer_last_error());
      continue;
    }
    CHECK_EQ_INT(fer_cascade_window_width(c), known[i].w);
    CHECK_EQ_INT(fer_cascade_window_height(c), known[i].h);
    CHECK_EQ_INT(fer_cascade_stage_count(c), known[i].stages);
    CHECK_EQ_INT(fer_cascade_feature_type(c), known[i].type);
    CHECK_EQ_INT(c->has_tilted, known[i].tilted);
    CHECK_EQ_INT(c->max_nodes_per_tree > 1, known[i].trees);
    fer_cascade_free(c);
  }
}

static int encode(const fer_cascade *c, void **data, size_t *size) {
  fer_status st = fer_cascade_encode(c, data, size);
  CHECK_OK(st);
  return st == FER_OK;
}

/* The old haartraining layout and the current one hold the same cascade:
 * loaded, they must be the same arrays (so the same binary encoding). */
static void test_old_and_new_layouts_agree(void) {
  const char *shared = harness_shared_data();
  if (!shared) SKIP("../shared/data is absent");
  char old_path[4096];
  snprintf(old_path, sizeof old_path, "%s/cascades/haarcascade_frontalface_default.oldformat.xml", shared);
  fer_cascade *old_c, *new_c;
  if (fer_cascade_load(HAAR_DIR "/haarcascade_frontalface_default.xml", &new_c) != FER_OK)
    SKIP("opencv-data is absent");
  CHECK_OK(fer_cascade_load(old_path, &old_c));
  if (!old_c) {
    fer_cascade_free(new_c);
    return;
  }
  void *a, *b;
  size_t na, nb;
  if (encode(old_c, &a, &na) && encode(new_c, &b, &nb)) {
    CHECK_EQ_INT(na, nb);
    CHECK(na == nb && memcmp(a, b, na) == 0);
    fer_free(a);
    fer_free(b);
  }
  fer_cascade_free(old_c);
  fer_cascade_free(new_c);
}

static void test_xml_errors_have_line_numbers(void) {
  /* Take the tiny cascade and break it in known places. */
  static const struct {
    const char *from, *to, *message;
    fer_status status;
  } breaks[] = {
      {"<stageThreshold>0.5</stageThreshold>", "<stageThreshold>x</stageThreshold>",
       "<memory>:19: <stageThreshold> must hold a number", FER_ERR_FORMAT},
      {"</stages>", "</stage>", "<memory>:22: expected </stages>", FER_ERR_FORMAT},
      {"<featureType>HAAR</featureType>", "<featureType>HOG</featureType>",
       "<memory>:4: feature type \"HOG\"", FER_ERR_UNSUPPORTED},
      {"<leafValues>-1. 1.</leafValues></_></weakClassifiers></_>\n    <_>",
       "<leafValues>-1.</leafValues></_></weakClassifiers></_>\n    <_>",
       "<memory>:16: <leafValues> must hold 2 numbers", FER_ERR_FORMAT},
      {"<_>0 0 3 6 2.</_>", "<_>0 0 9 6 2.</_>", "feature 1 rectangle 1 (0 0 9 6) leaves the 6x6 window",
       FER_ERR_FORMAT},
      {"0 -1 1 0.", "0 -1 7 0.", "uses feature 7 of 2", FER_ERR_FORMAT},
  };
  for (size_t i = 0; i < FER__ARRAY_LEN(breaks); i++) {
    const char *at = strstr(tiny_cascade_xml, breaks[i].from);
    CHECK(at != NULL);
    if (!at) continue;
    char text[4096];
    size_t head = (size_t)(at - tiny_cascade_xml);
    snprintf(text, sizeof text, "%.*s%s%s", (int)head, tiny_cascade_xml, breaks[i].to,
             at + strlen(breaks[i].from));
    fer_cascade *c = (fer_cascade *)1;
    CHECK_STATUS(fer_cascade_load_memory(text, strlen(text), &c), breaks[i].status);
    CHECK(c == NULL);
    CHECK_MESSAGE_CONTAINS(breaks[i].message);
  }
  fer_cascade *c;
  CHECK_STATUS(fer_cascade_load("/nonexistent/cascade.xml", &c), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("/nonexistent/cascade.xml");
  CHECK_STATUS(fer_cascade_load_memory("<a/>", 4, &c), FER_ERR_FORMAT);
  CHECK_STATUS(fer_cascade_load_memory(NULL, 0, NULL), FER_ERR_INVALID_ARGUMENT);
}

static void test_binary_round_trip_and_damage(void) {
  fer_cascade *c, *back;
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &c));
  if (!c) return;
  void *data;
  size_t size;
  if (!encode(c, &data, &size)) return;
  CHECK_OK(fer_cascade_load_memory(data, size, &back));
  void *again;
  size_t again_size;
  if (back && encode(back, &again, &again_size)) {
    CHECK(again_size == size && memcmp(again, data, size) == 0);
    fer_free(again);
  }
  fer_cascade_free(back);

  /* Through a file (atomic save), in the test's working folder. */
  CHECK_OK(fer_cascade_save(c, "tiny.fercascade"));
  CHECK_OK(fer_cascade_load("tiny.fercascade", &back));
  CHECK_EQ_INT(fer_cascade_stage_count(back), 2);
  fer_cascade_free(back);

  uint8_t *bytes = data, *copy = malloc(size);
  /* Every single-byte change after the header fails a CRC or a check. */
  for (size_t i = 16; i < size; i++) {
    memcpy(copy, bytes, size);
    copy[i] ^= 0x55;
    back = (fer_cascade *)1;
    fer_status st = fer_cascade_load_memory(copy, size, &back);
    CHECK_MSG(st != FER_OK && back == NULL, "byte %zu flipped still loads", i);
  }
  /* Every truncation fails with a status, never a crash. */
  for (size_t n = 0; n < size; n++) {
    fer_status st = fer_cascade_load_memory(bytes, n, &back);
    CHECK_MSG(st != FER_OK, "truncated to %zu bytes still loads", n);
  }
  CHECK_STATUS(fer_cascade_load_memory(bytes, size - 3, &back), FER_ERR_TRUNCATED);
  memcpy(copy, bytes, size);
  copy[9] = 1; /* version 257 */
  CHECK_STATUS(fer_cascade_load_memory(copy, size, &back), FER_ERR_VERSION);
  memcpy(copy, bytes, size);
  copy[30] ^= 1; /* inside the HEAD payload */
  CHECK_STATUS(fer_cascade_load_memory(copy, size, &back), FER_ERR_CHECKSUM);
  free(copy);
  fer_free(data);
  fer_cascade_free(c);
}

static void test_allocation_failures(void) {
  for (long n = 1; n < 40; n++) {
    fer_cascade *c;
    fer__alloc_fail_after(n);
    fer_status st = fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &c);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    fer_cascade_free(c);
  }
}

int main(void) {
  RUN(test_xml_errors_have_line_numbers);
  RUN(test_binary_round_trip_and_damage);
  RUN(test_allocation_failures);
  RUN(test_known_cascades);
  RUN(test_old_and_new_layouts_agree);
  RUN(test_every_opencv_cascade_loads);
  return harness_finish();
}
