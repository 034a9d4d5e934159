/* Shared by the analyzer tests: a small random-weight classifier (the
 * tests check plumbing, not accuracy, so any fixed weights do) and the
 * photo and cascade they run on, or a skip when those are absent. */
#ifndef FER_ANALYZER_FIXTURES_H
#define FER_ANALYZER_FIXTURES_H

#include "harness.h"

#define ASTRONAUT_PNG "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
#define OPENCV_FRONTALFACE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

/* 1x48x48 (or 3x48x48) -> 7 probabilities, weights from `seed`. */
static inline fer_model *fixture_model(int channels, uint64_t seed) {
  char text[256];
  snprintf(text, sizeof text,
           "input %dx48x48\nconv 4 3x3 same\nrelu\nmax 2x2/2\nconv 8 3x3 same\nrelu\n"
           "max 4x4/4\ndense 7\nsoftmax\n",
           channels);
  fer_model *m = NULL;
  if (fer_model_from_text(text, &m) != FER_OK) return NULL;
  if (fer_model_init_weights(m, FER_INIT_HE_UNIFORM, seed) != FER_OK) {
    fer_model_free(m);
    return NULL;
  }
  /* Normalisation other than the default, so a crop that skipped it would
   * give other numbers. */
  fer_model_set_preprocessing(m, 1.0f / 255.0f, 0.5f, 0.25f);
  return m;
}

static inline fer_cascade *fixture_cascade(void) {
  fer_cascade *c = NULL;
  if (fer_cascade_load(OPENCV_FRONTALFACE, &c) != FER_OK)
    SKIP("%s is missing (Debian package opencv-data)", OPENCV_FRONTALFACE);
  return c;
}

static inline fer_image *fixture_astronaut(void) {
  fer_image *img = NULL;
  if (fer_image_load(ASTRONAUT_PNG, FER_DECODE_DEFAULT, &img) != FER_OK)
    SKIP("%s is missing (Debian package python3-skimage)", ASTRONAUT_PNG);
  return img;
}

#endif
