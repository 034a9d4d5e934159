/* The scan on a generated image with the hand-written tiny cascade, checked
 * window by window against a naive reading of the documented rules (direct
 * pixel sums, no integral images, no shared code with lib/detect/). */
#include <math.h>

#include "core/core_internal.h"
#include "harness.h"
#include "image/image_internal.h"
#include "tiny_cascade.h"

#define W 61
#define H 47

static uint8_t image[H][W];

/* Blocks of random levels, a flat region (fails the contrast test) and a
 * gradient, so that every branch of the scan is taken. */
static void make_image(void) {
  uint32_t s = 12345;
  for (int by = 0; by < H; by += 3)
    for (int bx = 0; bx < W; bx += 3) {
      s = s * 1103515245u + 12345u;
      uint8_t v = (uint8_t)(s >> 23);
      for (int y = by; y < by + 3 && y < H; y++)
        for (int x = bx; x < bx + 3 && x < W; x++) image[y][x] = v;
    }
  for (int y = 10; y < 30; y++)
    for (int x = 20; x < 45; x++) image[y][x] = 90;
  for (int y = 30; y < H; y++)
    for (int x = 0; x < 20; x++) image[y][x] = (uint8_t)(255 - 5 * y);
}

static long box(int x0, int y0, int w, int h) {
  long s = 0;
  for (int y = y0; y < y0 + h; y++)
    for (int x = x0; x < x0 + w; x++) s += image[y][x];
  return s;
}

/* 1 pass, 0 rejected by stage 0, -1 rejected later or too flat. */
static int naive_window(int x, int y) {
  long sum = 0, sumsq = 0;
  for (int yy = y + 1; yy < y + 5; yy++)
    for (int xx = x + 1; xx < x + 5; xx++) {
      sum += image[yy][xx];
      sumsq += (long)image[yy][xx] * image[yy][xx];
    }
  double nf = 16.0 * (double)sumsq - (double)sum * (double)sum;
  if (!(nf > 0) || !(16.0 / sqrt(nf) < 0.1)) return -1;
  long top = box(x, y, 6, 3), bottom = box(x, y + 3, 6, 3);
  if (top - bottom < 0) return 0;
  long left = box(x, y, 3, 6), right = box(x + 3, y, 3, 6);
  return left - right < 0 ? -1 : 1;
}

static void test_windows_match_naive_rules(void) {
  make_image();
  fer_cascade *c;
  fer_detector *det;
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &c));
  CHECK_OK(fer_detector_create(c, &det));
  if (!det) return;
  /* Only the 6x6 level: min size = max size = the window. */
  CHECK_OK(fer_detector_set(det, FER_DETECT_MIN_SIZE, 6));
  CHECK_OK(fer_detector_set(det, FER_DETECT_MAX_SIZE, 6));
  CHECK_OK(fer_detector_set(det, FER_DETECT_RAW, 1));
  fer_detection found[4096];
  size_t n = 0;
  CHECK_OK(fer_detector_run_gray(det, &image[0][0], W, H, W, found, 4096, &n));
  /* Expected: step 2 below scale 2, and one extra step after a window that
   * stage 0 rejects, in scan order. */
  size_t k = 0, passes = 0, stage0 = 0, later = 0;
  for (int y = 0; y + 6 <= H; y += 2)
    for (int x = 0; x + 6 <= W; x += 2) {
      int r = naive_window(x, y);
      if (r == 1) {
        passes++;
        CHECK_MSG(k < n && found[k].box.x == x && found[k].box.y == y &&
                      found[k].box.width == 6 && found[k].box.height == 6,
                  "window %zu: expected (%d, %d)", k, x, y);
        if (k < n) CHECK_NEAR(found[k].score, 1.0, 0);
        k++;
      }
      if (r == 0) {
        stage0++;
        x += 2;
      }
      if (r < 0) later++;
    }
  CHECK_EQ_INT(n, passes);
  fprintf(stderr, "%zu windows pass, %zu rejected by stage 0, %zu later or flat\n", passes,
          stage0, later);
  CHECK(passes > 10 && stage0 > 10 && later > 10);

  /* Grouped over every scale: every kept group has more than
   * min_neighbors members, and there are fewer groups than windows. */
  CHECK_OK(fer_detector_set(det, FER_DETECT_MIN_SIZE, 0));
  CHECK_OK(fer_detector_set(det, FER_DETECT_MAX_SIZE, 0));
  CHECK_OK(fer_detector_run_gray(det, &image[0][0], W, H, W, found, 4096, &passes));
  CHECK_OK(fer_detector_set(det, FER_DETECT_RAW, 0));
  CHECK_OK(fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, 1));
  size_t groups = 0;
  CHECK_OK(fer_detector_run_gray(det, &image[0][0], W, H, W, found, 4096, &groups));
  CHECK(groups > 0 && groups < passes);
  for (size_t i = 0; i < groups; i++) CHECK(found[i].neighbors > 1);

  /* A gray image through fer_image gives the same answer. */
  fer_image *img;
  CHECK_OK(fer__image_alloc(W, H, 1, 0, "test", &img));
  memcpy(fer_image_data_mutable(img), image, sizeof image);
  size_t again = 0;
  fer_detection found2[4096];
  CHECK_OK(fer_detector_run(det, img, found2, 4096, &again));
  CHECK(again == groups && memcmp(found, found2, groups * sizeof *found) == 0);
  /* Colour: gray replicated into R, G and B converts back to the same. */
  fer_image *rgb;
  CHECK_OK(fer__image_alloc(W, H, 3, 0, "test", &rgb));
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++)
      for (int ch = 0; ch < 3; ch++) rgb->pixels[(size_t)y * rgb->stride + 3 * x + ch] = image[y][x];
  CHECK_OK(fer_detector_run(det, rgb, found2, 4096, &again));
  CHECK(again == groups && memcmp(found, found2, groups * sizeof *found) == 0);
  fer_image_free(rgb);
  fer_image_free(img);
  fer_detector_free(det);
  fer_cascade_free(c);
}

/* All pyramid levels on a flat image: nothing passes, count 0, no error. */
static void test_flat_image_finds_nothing(void) {
  fer_cascade *c;
  fer_detector *det;
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &c));
  CHECK_OK(fer_detector_create(c, &det));
  static uint8_t flat[100 * 80];
  memset(flat, 77, sizeof flat);
  size_t n = 99;
  fer_detection d[4];
  CHECK_OK(fer_detector_run_gray(det, flat, 100, 80, 0, d, 4, &n));
  CHECK_EQ_INT(n, 0);
  fer_detector_free(det);
  fer_cascade_free(c);
}

int main(void) {
  RUN(test_windows_match_naive_rules);
  RUN(test_flat_image_finds_nothing);
  return harness_finish();
}
