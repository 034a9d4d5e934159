/*
 * The tiny test harness every test program includes: CHECK macros that
 * report file:line and keep going, a skip that meson understands (exit 77)
 * and a summary line. One test program per file; main() calls test
 * functions through RUN().
 */
#ifndef FER_TEST_HARNESS_H
#define FER_TEST_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fer.h"

static int harness_failures;
static int harness_checks;

#define CHECK(cond)                                                        \
  do {                                                                     \
    harness_checks++;                                                      \
    if (!(cond)) {                                                         \
      harness_failures++;                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__,     \
              #cond);                                                      \
    }                                                                      \
  } while (0)

#define CHECK_MSG(cond, ...)                                               \
  do {                                                                     \
    harness_checks++;                                                      \
    if (!(cond)) {                                                         \
      harness_failures++;                                                  \
      fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__,     \
              #cond);                                                      \
      fprintf(stderr, __VA_ARGS__);                                        \
      fputc('\n', stderr);                                                 \
    }                                                                      \
  } while (0)

/* Expects a call to return `want`; prints fer_last_error() when it does not. */
#define CHECK_STATUS(expr, want)                                           \
  do {                                                                     \
    harness_checks++;                                                      \
    fer_status harness_st = (expr);                                        \
    if (harness_st != (want)) {                                            \
      harness_failures++;                                                  \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (%s)\n",         \
              __FILE__, __LINE__, #expr, fer_status_string(harness_st),    \
              fer_status_string(want), fer_last_error());                  \
    }                                                                      \
  } while (0)

#define CHECK_OK(expr) CHECK_STATUS(expr, FER_OK)

#define CHECK_EQ_INT(a, b)                                                 \
  do {                                                                     \
    harness_checks++;                                                      \
    long long harness_a = (long long)(a), harness_b = (long long)(b);      \
    if (harness_a != harness_b) {                                          \
      harness_failures++;                                                  \
      fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",          \
              __FILE__, __LINE__, #a, harness_a, #b, harness_b);           \
    }                                                                      \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                              \
  do {                                                                     \
    harness_checks++;                                                      \
    double harness_a = (double)(a), harness_b = (double)(b);               \
    if (!(fabs(harness_a - harness_b) <= (tol))) {                         \
      harness_failures++;                                                  \
      fprintf(stderr, "%s:%d: %s = %.9g, expected %.9g +- %g\n", __FILE__, \
              __LINE__, #a, harness_a, harness_b, (double)(tol));          \
    }                                                                      \
  } while (0)

/* Error messages must say something: the thing and the reason. */
#define CHECK_MESSAGE_CONTAINS(needle)                                     \
  CHECK_MSG(strstr(fer_last_error(), (needle)) != NULL,                    \
            "message \"%s\" lacks \"%s\"", fer_last_error(), (needle))

#define RUN(fn)                                                            \
  do {                                                                     \
    int harness_before = harness_failures;                                 \
    fn();                                                                  \
    fprintf(stderr, "%s %s\n",                                             \
            harness_failures == harness_before ? "ok  " : "FAIL", #fn);    \
  } while (0)

/* meson counts exit code 77 as a skipped test. */
#define SKIP(...)                                                          \
  do {                                                                     \
    fprintf(stderr, "SKIP: ");                                             \
    fprintf(stderr, __VA_ARGS__);                                          \
    fputc('\n', stderr);                                                   \
    exit(77);                                                              \
  } while (0)

static inline int harness_finish(void) {
  fprintf(stderr, "%d checks, %d failed\n", harness_checks, harness_failures);
  return harness_failures == 0 ? 0 : 1;
}

/* 1 when both images have the same size, channels and pixels (rows
 * compared without their padding). */
static inline int harness_images_equal(const fer_image *a, const fer_image *b) {
  if (fer_image_width(a) != fer_image_width(b) || fer_image_height(a) != fer_image_height(b) ||
      fer_image_channels(a) != fer_image_channels(b))
    return 0;
  size_t row = (size_t)fer_image_width(a) * (size_t)fer_image_channels(a);
  for (int y = 0; y < fer_image_height(a); y++)
    if (memcmp(fer_image_data(a) + (size_t)y * fer_image_stride(a),
               fer_image_data(b) + (size_t)y * fer_image_stride(b), row) != 0)
      return 0;
  return 1;
}

/* Path of the shared data folder (../shared/data beside the checkout), or
 * NULL when absent. Tests that need it SKIP with a message. */
static inline const char *harness_shared_data(void) {
  const char *dir = getenv("FER_SHARED_DATA");
  if (!dir || !*dir) return NULL;
  FILE *f;
  char probe[4096];
  snprintf(probe, sizeof probe, "%s/README.md", dir);
  f = fopen(probe, "rb");
  if (!f) return NULL;
  fclose(f);
  return dir;
}

/* Folder of committed test fixtures (tests/fixtures). */
static inline const char *harness_fixtures(void) {
  const char *dir = getenv("FER_TEST_DATA");
  return dir ? dir : "tests/fixtures";
}

#endif
