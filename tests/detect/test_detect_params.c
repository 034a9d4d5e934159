/* Detector parameters and misuse: bounds, bad values, bad handles, small
 * images, small output buffers. */
#include "core/core_internal.h"
#include "harness.h"
#include "tiny_cascade.h"

static void test_bounds_table(void) {
  double lo, hi, def;
  CHECK_OK(fer_detect_param_bounds(FER_DETECT_SCALE_FACTOR, &lo, &hi, &def));
  CHECK(lo == 1.0 && hi == 4.0 && def == 1.1);
  CHECK_OK(fer_detect_param_bounds(FER_DETECT_MIN_NEIGHBORS, &lo, &hi, &def));
  CHECK(lo == 0 && def == 3);
  CHECK_STATUS(fer_detect_param_bounds((fer_detect_param)0, &lo, &hi, &def), FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_detect_param_bounds((fer_detect_param)99, NULL, NULL, NULL), FER_ERR_NOT_FOUND);
  CHECK(strcmp(fer_detect_param_name(FER_DETECT_MIN_SIZE), "min_size") == 0);
  CHECK(fer_detect_param_name((fer_detect_param)99) == NULL);
}

static void test_set_get(void) {
  fer_cascade *c;
  fer_detector *det;
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &c));
  CHECK_OK(fer_detector_create(c, &det));
  if (!det) return;
  double v;
  for (int p = FER_DETECT_SCALE_FACTOR; p <= FER_DETECT_RAW; p++) {
    double def;
    CHECK_OK(fer_detect_param_bounds((fer_detect_param)p, NULL, NULL, &def));
    CHECK_OK(fer_detector_get(det, (fer_detect_param)p, &v));
    CHECK_MSG(v == def, "%s starts at %g, default %g", fer_detect_param_name((fer_detect_param)p), v, def);
  }
  CHECK_OK(fer_detector_set(det, FER_DETECT_SCALE_FACTOR, 1.3));
  CHECK_OK(fer_detector_get(det, FER_DETECT_SCALE_FACTOR, &v));
  CHECK(v == 1.3);
  CHECK_STATUS(fer_detector_set(det, FER_DETECT_SCALE_FACTOR, 1.0), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("scale_factor");
  CHECK_STATUS(fer_detector_set(det, FER_DETECT_SCALE_FACTOR, 0.9), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_detector_set(det, FER_DETECT_SCALE_FACTOR, NAN), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_detector_set(det, FER_DETECT_MIN_SIZE, -1), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_detector_set(det, FER_DETECT_MAX_SIZE, -5), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, -1), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, 2.5), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("whole number");
  CHECK_STATUS(fer_detector_set(det, (fer_detect_param)42, 1), FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_detector_get(det, FER_DETECT_RAW, NULL), FER_ERR_INVALID_ARGUMENT);
  /* A refused value leaves the old one. */
  CHECK_OK(fer_detector_get(det, FER_DETECT_SCALE_FACTOR, &v));
  CHECK(v == 1.3);
  fer_detector_free(det);
  fer_cascade_free(c);
}

static void test_misuse_and_small_inputs(void) {
  fer_cascade *c;
  fer_detector *det;
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &c));
  CHECK_OK(fer_detector_create(c, &det));
  size_t n = 7;
  fer_detection d[8];
  uint8_t px[5 * 5] = {0};
  CHECK_STATUS(fer_detector_run_gray(NULL, px, 5, 5, 0, d, 8, &n), FER_ERR_MISUSE);
  CHECK_STATUS(fer_detector_run(det, NULL, d, 8, &n), FER_ERR_MISUSE);
  CHECK_STATUS(fer_detector_run_gray(det, NULL, 5, 5, 0, d, 8, &n), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_detector_run_gray(det, px, -5, 5, 0, d, 8, &n), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_detector_run_gray(det, px, 5, 5, 2, d, 8, &n), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_detector_run_gray(det, px, 5, 5, 0, NULL, 8, &n), FER_ERR_INVALID_ARGUMENT);
  /* Smaller than the 6x6 window: an empty result, not an error. */
  n = 7;
  CHECK_OK(fer_detector_run_gray(det, px, 5, 5, 0, d, 8, &n));
  CHECK_EQ_INT(n, 0);
  CHECK_OK(fer_detector_run_gray(det, px, 5, 5, 0, NULL, 0, &n));
  fer_detector *other = (fer_detector *)1;
  CHECK_STATUS(fer_detector_create(NULL, &other), FER_ERR_MISUSE);
  CHECK(other == NULL);
  fer_detector *bad = NULL;
  CHECK_STATUS(fer_detector_set(bad, FER_DETECT_RAW, 1), FER_ERR_MISUSE);
  fer_detector_free(NULL);
  fer_cascade_free(NULL);
  CHECK_EQ_INT(fer_cascade_window_width(NULL), 0);
  fer_detector_free(det);
  fer_cascade_free(c);
}

/* A buffer too small reports the count needed and keeps what fits. */
static void test_buffer_too_small(void) {
  fer_cascade *c;
  fer_detector *det;
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &c));
  CHECK_OK(fer_detector_create(c, &det));
  CHECK_OK(fer_detector_set(det, FER_DETECT_RAW, 1));
  static uint8_t px[40 * 40];
  for (int y = 0; y < 40; y++)
    for (int x = 0; x < 40; x++) px[y * 40 + x] = (uint8_t)((y % 6 < 3 ? 200 : 20) + (x % 6 < 3 ? 30 : 0));
  fer_detection all[4096], few[2];
  size_t n_all = 0, n_few = 0;
  CHECK_OK(fer_detector_run_gray(det, px, 40, 40, 0, all, 4096, &n_all));
  CHECK(n_all > 2);
  CHECK_STATUS(fer_detector_run_gray(det, px, 40, 40, 0, few, 2, &n_few), FER_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_INT(n_few, n_all);
  CHECK(memcmp(few, all, sizeof few) == 0);
  fer_detector_free(det);
  fer_cascade_free(c);
}

static void test_allocation_failures(void) {
  fer_cascade *c;
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &c));
  static uint8_t px[64 * 48];
  for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 37 % 251);
  for (long k = 1; k < 30; k++) {
    fer_detector *det = NULL;
    fer__alloc_fail_after(k);
    fer_status st = fer_detector_create(c, &det);
    size_t n;
    if (st == FER_OK) st = fer_detector_run_gray(det, px, 64, 48, 0, NULL, 0, &n);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY || st == FER_ERR_BUFFER_TOO_SMALL);
    fer_detector_free(det);
  }
  fer_cascade_free(c);
}

int main(void) {
  RUN(test_bounds_table);
  RUN(test_set_get);
  RUN(test_misuse_and_small_inputs);
  RUN(test_buffer_too_small);
  RUN(test_allocation_failures);
  return harness_finish();
}
