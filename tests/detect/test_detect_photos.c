/* Real photos (when ../shared/data is present): libfer on the decoded
 * colour JPEG must give exactly OpenCV 4.6's boxes, recorded by
 * gen_photo_boxes.py in tests/fixtures/detect/photo_boxes.txt. */
#include "core/core_internal.h"
#include "harness.h"

static int same_boxes(const fer_detection *got, size_t n, const fer_rect *want, int m) {
  if ((int)n != m) return 0;
  for (int i = 0; i < m; i++) { /* any order */
    int found = 0;
    for (size_t j = 0; j < n && !found; j++)
      found = memcmp(&got[j].box, &want[i], sizeof want[i]) == 0;
    if (!found) return 0;
  }
  return 1;
}

static void test_photos_match_opencv(void) {
  const char *shared = harness_shared_data();
  if (!shared) SKIP("../shared/data is absent");
  char path[4096];
  snprintf(path, sizeof path, "%s/detect/photo_boxes.txt", harness_fixtures());
  FILE *f = fopen(path, "r");
  CHECK_MSG(f != NULL, "cannot open %s", path);
  if (!f) return;
  char name[256], cascade_name[256], loaded_name[256] = "";
  double scale;
  int neighbors, m, cases = 0, identical = 0;
  fer_cascade *cascade = NULL;
  fer_detector *det = NULL;
  while (fscanf(f, "%255s %255s %lf %d %d", name, cascade_name, &scale, &neighbors, &m) == 5) {
    fer_rect want[64];
    for (int i = 0; i < m; i++)
      if (fscanf(f, "%d %d %d %d", &want[i].x, &want[i].y, &want[i].width, &want[i].height) != 4 || i >= 63)
        m = 0;
    if (strcmp(cascade_name, loaded_name) != 0) {
      fer_detector_free(det);
      fer_cascade_free(cascade);
      det = NULL;
      snprintf(path, sizeof path, "/usr/share/opencv4/%s/%s",
               strncmp(cascade_name, "lbp", 3) == 0 ? "lbpcascades" : "haarcascades", cascade_name);
      if (fer_cascade_load(path, &cascade) != FER_OK) {
        fclose(f);
        SKIP("%s is absent (opencv-data)", path);
      }
      CHECK_OK(fer_detector_create(cascade, &det));
      snprintf(loaded_name, sizeof loaded_name, "%s", cascade_name);
    }
    if (!det) break;
    CHECK_OK(fer_detector_set(det, FER_DETECT_SCALE_FACTOR, scale));
    CHECK_OK(fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, neighbors));
    snprintf(path, sizeof path, "%s/faces/%s", shared, name);
    fer_image *img;
    CHECK_OK(fer_image_load(path, FER_DECODE_DEFAULT, &img));
    if (!img) continue;
    fer_detection got[64];
    size_t n = 0;
    CHECK_OK(fer_detector_run(det, img, got, 64, &n));
    int same = same_boxes(got, n, want, m);
    CHECK_MSG(same, "%s, %s (%.1f, %d): %zu boxes, OpenCV %d", name, cascade_name, scale,
              neighbors, n, m);
    identical += same;
    cases++;
    fer_image_free(img);
  }
  fclose(f);
  fer_detector_free(det);
  fer_cascade_free(cascade);
  fprintf(stderr, "%d of %d photo runs identical to OpenCV\n", identical, cases);
  CHECK(cases >= 40);
}

int main(void) {
  RUN(test_photos_match_opencv);
  return harness_finish();
}
