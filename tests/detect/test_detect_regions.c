/*
 * The region scan (fer__detector_run_regions, used by the analyzer on
 * video) against the full scan as the reference: in raw mode, the windows
 * it returns must be exactly the full scan's windows whose box lies inside
 * a region and whose side is in the region's range, in the same order with
 * the same scores, for random regions on real photos and on noise (where
 * OpenCV's skip-after-a-stage-0-rejection rule makes where a row starts
 * matter). Grouped, a region around each detected face (with a margin)
 * must give back the full scan's boxes.
 */
#include "core/core_internal.h"
#include "detect/detect_internal.h"
#include "harness.h"
#include "tiny_cascade.h"

#define OPENCV_FRONTALFACE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
#define ASTRONAUT_PNG "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
#define MAX_HITS 200000

static fer_detection *full_hits, *region_hits, *expected;

static int inside(const fer_rect *b, const fer__scan_region *r) {
  return b->x >= r->area.x && b->y >= r->area.y && b->x + b->width <= r->area.x + r->area.width &&
         b->y + b->height <= r->area.y + r->area.height && b->width >= r->min_side &&
         b->height >= r->min_side && (r->max_side == 0 || b->width <= r->max_side);
}

/* Random disjoint regions, kept 2 pixels from the right and bottom edges so
 * that no window box inside one was clipped by the full scan. */
static size_t random_regions(fer__rng *rng, int w, int h, fer__scan_region *out, size_t want,
                             const fer_rect *around) {
  size_t n = 0;
  if (around) { /* first a region around a raw window, so that some lie inside */
    fer__scan_region r;
    int32_t left = (int32_t)fer__rng_below(rng, 40), top = (int32_t)fer__rng_below(rng, 40);
    r.area.x = around->x - left;
    r.area.y = around->y - top;
    r.area.width = FER__MIN(around->width + left + (int32_t)fer__rng_below(rng, 40), w - 2 - r.area.x);
    r.area.height = FER__MIN(around->height + top + (int32_t)fer__rng_below(rng, 40), h - 2 - r.area.y);
    r.min_side = around->width - (int32_t)fer__rng_below(rng, 30);
    if (r.min_side < 0) r.min_side = 0;
    r.max_side = fer__rng_below(rng, 2) ? 0 : around->width + (int32_t)fer__rng_below(rng, 50);
    out[n++] = r;
  }
  for (int tries = 0; n < want && tries < 1000; tries++) {
    fer__scan_region r;
    r.area.width = 30 + (int32_t)fer__rng_below(rng, (uint32_t)(w / 2));
    r.area.height = 30 + (int32_t)fer__rng_below(rng, (uint32_t)(h / 2));
    if (r.area.width > w - 3 || r.area.height > h - 3) continue;
    r.area.x = (int32_t)fer__rng_below(rng, (uint32_t)(w - 2 - r.area.width));
    r.area.y = (int32_t)fer__rng_below(rng, (uint32_t)(h - 2 - r.area.height));
    r.min_side = (int32_t)fer__rng_below(rng, 60);
    r.max_side = fer__rng_below(rng, 3) == 0 ? 0 : r.min_side + 10 + (int32_t)fer__rng_below(rng, 150);
    int apart = 1;
    for (size_t i = 0; i < n && apart; i++) {
      const fer_rect *a = &out[i].area, *b = &r.area;
      apart = a->x >= b->x + b->width || b->x >= a->x + a->width || a->y >= b->y + b->height ||
              b->y >= a->y + a->height;
    }
    if (apart) out[n++] = r;
  }
  return n;
}

/* Raw windows of the region scan == the full scan's inside the regions. */
static int check_raw(fer_detector *det, const fer_image *gray, size_t nfull,
                     const fer__scan_region *regions, size_t nregions, const char *what) {
  int w = fer_image_width(gray), h = fer_image_height(gray);
  size_t nregion = 0, nexp = 0;
  for (size_t i = 0; i < nfull; i++) {
    int in = 0;
    for (size_t r = 0; r < nregions && !in; r++) in = inside(&full_hits[i].box, &regions[r]);
    if (in) expected[nexp++] = full_hits[i];
  }
  CHECK_OK(fer__detector_run_regions(det, fer_image_data(gray), w, h, fer_image_stride(gray),
                                     regions, nregions, region_hits, MAX_HITS, &nregion));
  int same = nregion == nexp;
  for (size_t i = 0; same && i < nexp; i++)
    same = memcmp(&region_hits[i].box, &expected[i].box, sizeof(fer_rect)) == 0 &&
           region_hits[i].score == expected[i].score;
  CHECK_MSG(same, "%s: %zu regions: %zu raw windows, the full scan has %zu there (of %zu)", what,
            nregions, nregion, nexp, nfull);
  return (int)nexp;
}

/* Many random region sets on one image, at two scale factors; returns the
 * windows compared. */
static long check_image(fer_detector *det, const fer_image *gray, uint64_t seed, const char *what) {
  fer__rng rng;
  fer__rng_seed(&rng, seed);
  fer__scan_region regions[6];
  long windows = 0;
  const double factors[2] = {1.1, 1.25};
  for (int f = 0; f < 2; f++) {
    CHECK_OK(fer_detector_set(det, FER_DETECT_SCALE_FACTOR, factors[f]));
    CHECK_OK(fer_detector_set(det, FER_DETECT_RAW, 1));
    size_t nfull = 0; /* the reference: the full scan's raw windows */
    CHECK_OK(fer_detector_run(det, gray, full_hits, MAX_HITS, &nfull));
    for (int trial = 0; trial < 8; trial++) {
      const fer_rect *around =
          nfull > 0 && trial % 2 == 0 ? &full_hits[fer__rng_below(&rng, (uint32_t)nfull)].box : NULL;
      fer_rect seed_box = around ? *around : (fer_rect){0, 0, 0, 0};
      size_t n = random_regions(&rng, fer_image_width(gray), fer_image_height(gray), regions,
                                1 + (size_t)trial % 4, around ? &seed_box : NULL);
      windows += check_raw(det, gray, nfull, regions, n, what);
    }
  }
  CHECK_OK(fer_detector_set(det, FER_DETECT_RAW, 0));
  return windows;
}

static fer_image *to_gray(fer_image *img) {
  fer_image *gray = NULL;
  if (fer_image_to_gray(img, &gray) != FER_OK) gray = NULL;
  fer_image_free(img);
  return gray;
}

static void test_raw_windows_equal_full_scan(void) {
  fer_cascade *cascade = NULL;
  if (fer_cascade_load(OPENCV_FRONTALFACE, &cascade) != FER_OK)
    SKIP("%s is missing (Debian package opencv-data)", OPENCV_FRONTALFACE);
  fer_detector *det = NULL;
  CHECK_OK(fer_detector_create(cascade, &det));
  /* Noise with some structure: many stage-0 rejections in a row. */
  fer_image *noise = NULL;
  CHECK_OK(fer_image_create(200, 150, 1, &noise));
  fer__rng rng;
  fer__rng_seed(&rng, 7);
  uint8_t *p = fer_image_data_mutable(noise);
  for (int y = 0; y < 150; y++)
    for (int x = 0; x < 200; x++)
      p[(size_t)y * fer_image_stride(noise) + (size_t)x] =
          (uint8_t)((x / 7 + y / 5) % 3 * 60 + fer__rng_below(&rng, 60));
  check_image(det, noise, 1, "noise"); /* no face there: checks that nothing is invented */

  /* The tiny cascade passes stage 0 on about half of the noise windows
   * and keeps half of those: many windows, and OpenCV's skips after a
   * stage-0 rejection decide which are evaluated, so a region that starts
   * its rows out of step with the full scan fails here. */
  fer_cascade *tiny = NULL;
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &tiny));
  fer_detector *tiny_det = NULL;
  CHECK_OK(fer_detector_create(tiny, &tiny_det));
  long windows = check_image(tiny_det, noise, 3, "noise, tiny cascade");
  CHECK_MSG(windows > 1000, "noise, tiny cascade: only %ld windows in the regions", windows);
  fer_detector_free(tiny_det);
  fer_cascade_free(tiny);

  fer_image *img = NULL;
  if (fer_image_load(ASTRONAUT_PNG, FER_DECODE_DEFAULT, &img) == FER_OK) {
    fer_image *gray = to_gray(img);
    windows = check_image(det, gray, 2, "astronaut");
    CHECK_MSG(windows > 20, "astronaut: only %ld windows in the regions", windows);
    fer_image_free(gray);
  }
  fer_image_free(noise);
  const char *shared = harness_shared_data();
  const char *photos[2] = {"pic00036.jpg", "pic00060.jpg"};
  for (int i = 0; shared && i < 2; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/faces/images/%s", shared, photos[i]);
    if (fer_image_load(path, FER_DECODE_DEFAULT, &img) != FER_OK) continue;
    fer_image *gray = to_gray(img);
    windows = check_image(det, gray, 10 + (uint64_t)i, photos[i]);
    CHECK_MSG(windows > 0, "%s: the regions held no window: the check proved nothing", photos[i]);
    fer_image_free(gray);
  }
  fer_detector_free(det);
  fer_cascade_free(cascade);
}

/* Grouped: a region around each face the full scan finds gives back the
 * same boxes, with the built-in cascade at the analyzer's settings and
 * with OpenCV's, on 1 and 2 threads. */
static void check_faces_back(fer_cascade *cascade, const fer_image *gray, const char *what) {
  fer_detector *det = NULL;
  CHECK_OK(fer_detector_create(cascade, &det));
  CHECK_OK(fer_detector_set(det, FER_DETECT_SCALE_FACTOR, 1.2));
  CHECK_OK(fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, 4));
  CHECK_OK(fer_detector_set(det, FER_DETECT_MIN_SIZE, 36));
  size_t nfull = 0, nregion = 0;
  CHECK_OK(fer_detector_run(det, gray, full_hits, MAX_HITS, &nfull));
  fer__scan_region regions[64];
  size_t n = nfull < 64 ? nfull : 64;
  for (size_t i = 0; i < n; i++) {
    fer_rect b = full_hits[i].box;
    regions[i].area = (fer_rect){b.x - b.width / 2, b.y - b.height / 2, 2 * b.width, 2 * b.height};
    regions[i].min_side = b.width / 2;
    regions[i].max_side = b.width * 2;
  }
  for (int threads = 1; threads <= 2; threads++) {
    CHECK_OK(fer_set_num_threads(threads));
    CHECK_OK(fer__detector_run_regions(det, fer_image_data(gray), fer_image_width(gray),
                                       fer_image_height(gray), fer_image_stride(gray), regions, n,
                                       region_hits, MAX_HITS, &nregion));
    int same = nregion == nfull;
    for (size_t i = 0; same && i < nfull; i++)
      same = memcmp(&region_hits[i].box, &full_hits[i].box, sizeof(fer_rect)) == 0;
    CHECK_MSG(same && nfull > 0, "%s, %d threads: %zu faces around the %zu of the full scan", what,
              threads, nregion, nfull);
  }
  CHECK_OK(fer_set_num_threads(1));
  fer_detector_free(det);
}

static void test_faces_found_again(void) {
  fer_image *img = NULL;
  if (fer_image_load(ASTRONAUT_PNG, FER_DECODE_DEFAULT, &img) != FER_OK)
    SKIP("%s is missing (Debian package python3-skimage)", ASTRONAUT_PNG);
  fer_image *gray = to_gray(img);
  fer_cascade *cascade = NULL;
  if (fer_default_cascade_load(&cascade) == FER_OK) {
    check_faces_back(cascade, gray, "astronaut, default cascade");
    fer_cascade_free(cascade);
  }
  if (fer_cascade_load(OPENCV_FRONTALFACE, &cascade) == FER_OK) {
    check_faces_back(cascade, gray, "astronaut, OpenCV cascade");
    fer_cascade_free(cascade);
  }
  const char *shared = harness_shared_data();
  char path[4096];
  snprintf(path, sizeof path, "%s/faces/images/pic03872.jpg", shared ? shared : ".");
  if (shared && fer_default_cascade_load(&cascade) == FER_OK) {
    if (fer_image_load(path, FER_DECODE_DEFAULT, &img) == FER_OK) {
      fer_image *photo = to_gray(img);
      check_faces_back(cascade, photo, "pic03872 (four faces), default cascade");
      fer_image_free(photo);
    }
    fer_cascade_free(cascade);
  }
  fer_image_free(gray);
}

/* Overlapping regions are scanned as their bounding box; none is nothing. */
static void test_overlap_and_bad_input(void) {
  fer_cascade *cascade = NULL;
  if (fer_cascade_load(OPENCV_FRONTALFACE, &cascade) != FER_OK)
    SKIP("%s is missing (Debian package opencv-data)", OPENCV_FRONTALFACE);
  fer_image *img = NULL;
  if (fer_image_load(ASTRONAUT_PNG, FER_DECODE_DEFAULT, &img) != FER_OK)
    SKIP("%s is missing (Debian package python3-skimage)", ASTRONAUT_PNG);
  fer_image *gray = to_gray(img);
  const uint8_t *px = fer_image_data(gray);
  int w = fer_image_width(gray), h = fer_image_height(gray);
  size_t stride = fer_image_stride(gray), n1 = 0, n2 = 0;
  fer_detector *det = NULL;
  CHECK_OK(fer_detector_create(cascade, &det));
  CHECK_OK(fer_detector_set(det, FER_DETECT_RAW, 1));
  fer__scan_region two[2] = {{{100, 20, 160, 150}, 20, 0}, {{200, 100, 150, 140}, 40, 120}};
  fer__scan_region box = {{100, 20, 250, 220}, 20, 0};
  CHECK_OK(fer__detector_run_regions(det, px, w, h, stride, two, 2, full_hits, MAX_HITS, &n1));
  CHECK_OK(fer__detector_run_regions(det, px, w, h, stride, &box, 1, region_hits, MAX_HITS, &n2));
  CHECK(n1 == n2 && n1 > 0 && memcmp(full_hits, region_hits, n1 * sizeof *full_hits) == 0);
  /* A region partly outside the image is clipped to it. */
  fer__scan_region out_left = {{-50, 20, 400, 220}, 20, 0}, clipped = {{0, 20, 350, 220}, 20, 0};
  CHECK_OK(fer__detector_run_regions(det, px, w, h, stride, &out_left, 1, full_hits, MAX_HITS, &n1));
  CHECK_OK(fer__detector_run_regions(det, px, w, h, stride, &clipped, 1, region_hits, MAX_HITS, &n2));
  CHECK(n1 == n2 && n1 > 0 && memcmp(full_hits, region_hits, n1 * sizeof *full_hits) == 0);

  n1 = 5;
  CHECK_OK(fer__detector_run_regions(det, px, w, h, stride, NULL, 0, full_hits, MAX_HITS, &n1));
  CHECK(n1 == 0);
  fer__scan_region off = {{w + 10, 0, 50, 50}, 0, 0};
  CHECK_OK(fer__detector_run_regions(det, px, w, h, stride, &off, 1, full_hits, MAX_HITS, &n1));
  CHECK(n1 == 0);
  CHECK_STATUS(fer__detector_run_regions(det, px, w, h, stride, NULL, 2, full_hits, MAX_HITS, &n1),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("regions is NULL");
  fer__scan_region negative = {{0, 0, -5, 10}, 0, 0};
  CHECK_STATUS(fer__detector_run_regions(det, px, w, h, stride, &negative, 1, full_hits, MAX_HITS, &n1),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("region 0");
  CHECK_STATUS(fer__detector_run_regions(NULL, px, w, h, stride, &box, 1, full_hits, MAX_HITS, &n1),
               FER_ERR_MISUSE);
  CHECK_STATUS(fer__detector_run_regions(det, NULL, w, h, stride, &box, 1, full_hits, MAX_HITS, &n1),
               FER_ERR_INVALID_ARGUMENT);
  fer_detector_free(det);
  fer_image_free(gray);
  fer_cascade_free(cascade);
}

int main(void) {
  full_hits = malloc(MAX_HITS * sizeof *full_hits);
  region_hits = malloc(MAX_HITS * sizeof *region_hits);
  expected = malloc(MAX_HITS * sizeof *expected);
  if (!full_hits || !region_hits || !expected) return 1;
  RUN(test_overlap_and_bad_input);
  RUN(test_raw_windows_equal_full_scan);
  RUN(test_faces_found_again);
  free(full_hits);
  free(region_hits);
  free(expected);
  return harness_finish();
}
