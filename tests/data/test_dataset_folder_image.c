/* fer_dataset_load_folder() with real decoding: the PGM fixtures of
 * tests/fixtures/dataset/folders (several sizes) against folders.expected, and
 * colour PNG/BMP files against folders_colour.expected (gray and RGB
 * planes), both written by make_fixtures.py with OpenCV's cvtColor and
 * INTER_AREA resize. */
#include "harness.h"

#define SIDE 6
#define SAMPLE (SIDE * SIDE)

static const char *const fer2013[] = {"angry", "disgust", "fear", "happy",
                                      "sad",   "surprise", "neutral"};

static void test_against_opencv(void) {
  char dir[4096], path[4096];
  snprintf(dir, sizeof dir, "%s/dataset/folders", harness_fixtures());
  snprintf(path, sizeof path, "%s/dataset/folders.expected", harness_fixtures());
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (!f) return;
  uint8_t expected[64 * (1 + SAMPLE)];
  size_t n = fread(expected, 1, sizeof expected, f) / (1 + SAMPLE);
  fclose(f);
  for (int channels = 1; channels <= 3; channels += 2) {
    fer_dataset *ds = NULL;
    CHECK_OK(fer_dataset_load_folder(dir, fer2013, 7, channels, SIDE, SIDE, 0,
                                     &ds));
    CHECK_EQ_INT(fer_dataset_count(ds), n);
    for (size_t i = 0; i < n && i < fer_dataset_count(ds); i++) {
      const uint8_t *want = expected + i * (1 + SAMPLE);
      CHECK_EQ_INT(fer_dataset_label(ds, i), want[0]);
      const uint8_t *got = fer_dataset_pixels(ds, i);
      int worst = 0;
      for (int c = 0; c < channels; c++) /* gray replicated in RGB */
        for (int k = 0; k < SAMPLE; k++) {
          int d = abs(got[c * SAMPLE + k] - want[1 + k]);
          worst = d > worst ? d : worst;
        }
      CHECK_MSG(worst <= 1, "image %zu differs from OpenCV by %d", i, worst);
    }
    fer_dataset_free(ds);
  }
  /* A truncated image: the decoder's status with the path. */
  fer_dataset *ds = NULL;
  snprintf(dir, sizeof dir, "%s/dataset/folders_broken", harness_fixtures());
  fer_status st = fer_dataset_load_folder(dir, fer2013, 7, 1, SIDE, SIDE, 0, &ds);
  CHECK(st != FER_OK && ds == NULL);
  CHECK_MESSAGE_CONTAINS("truncated.pgm");
  CHECK_OK(fer_dataset_load_folder(dir, fer2013, 7, 1, SIDE, SIDE,
                                   FER_DATASET_SKIP_BAD, &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 1);
  CHECK_EQ_INT(fer_dataset_skipped(ds), 1);
  fer_dataset_free(ds);
}

static void test_colour(void) {
  char dir[4096], path[4096];
  snprintf(dir, sizeof dir, "%s/dataset/folders_colour", harness_fixtures());
  snprintf(path, sizeof path, "%s/dataset/folders_colour.expected",
           harness_fixtures());
  FILE *f = fopen(path, "rb");
  CHECK(f != NULL);
  if (!f) return;
  uint8_t expected[3 * 4 * SAMPLE];
  size_t n = fread(expected, 1, sizeof expected, f) / (4 * SAMPLE);
  fclose(f);
  CHECK_EQ_INT(n, 3);
  for (int channels = 1; channels <= 3; channels += 2) {
    fer_dataset *ds = NULL;
    CHECK_OK(fer_dataset_load_folder(dir, fer2013, 7, channels, SIDE, SIDE, 0,
                                     &ds));
    CHECK_EQ_INT(fer_dataset_count(ds), n);
    for (size_t i = 0; i < n && i < fer_dataset_count(ds); i++) {
      CHECK_EQ_INT(fer_dataset_label(ds, i), 2); /* fear */
      /* Gray first, then the R, G, B planes. */
      const uint8_t *want = expected + i * 4 * SAMPLE + (channels == 3) * SAMPLE;
      const uint8_t *got = fer_dataset_pixels(ds, i);
      int worst = 0;
      for (int k = 0; k < channels * SAMPLE; k++) {
        int d = abs(got[k] - want[k]);
        worst = d > worst ? d : worst;
      }
      CHECK_MSG(worst <= 1, "colour image %zu (%d channels) differs by %d", i,
                channels, worst);
    }
    fer_dataset_free(ds);
  }
}

int main(void) {
  RUN(test_against_opencv);
  RUN(test_colour);
  return harness_finish();
}
