/* Augmentation: the parameter table, identities, determinism and
 * resumability, and each transform checked by a property a naive reading
 * of its definition gives (mirror, integer translation, magnification about
 * the centre, constant brightness offset, mean-preserving contrast, erased
 * area fraction). */
#include "harness.h"

#include "core/core_internal.h"

#define SIDE 15 /* odd: the centre is a pixel */
#define PLANE (SIDE * SIDE)

static uint8_t image[3 * PLANE];

static void make_image(int channels) {
  for (int i = 0; i < channels * PLANE; i++)
    image[i] = (uint8_t)(40 + (i * 37 + (i / SIDE) * 11) % 170);
}

static fer_augment *create(uint64_t seed) {
  fer_augment *aug = NULL;
  CHECK_OK(fer_augment_create(seed, &aug));
  return aug;
}

static void set(fer_augment *aug, fer_augment_param key, double v) {
  CHECK_OK(fer_augment_set(aug, key, v));
}

static void test_parameters(void) {
  fer_augment *aug = create(1);
  int keys = 0;
  for (int k = 0; k < 64; k++) {
    const char *name;
    double def, lo, hi, got;
    if (fer_augment_param_info((fer_augment_param)k, &name, &def, &lo, &hi) !=
        FER_OK)
      continue;
    keys++;
    CHECK(lo <= def && def <= hi);
    CHECK_OK(fer_augment_get(aug, (fer_augment_param)k, &got));
    CHECK(got == def);
    fer_augment_param found;
    CHECK_OK(fer_augment_param_find(name, &found));
    CHECK_EQ_INT(found, k);
    CHECK_OK(fer_augment_set(aug, (fer_augment_param)k, hi));
    CHECK_OK(fer_augment_get(aug, (fer_augment_param)k, &got));
    CHECK(got == hi);
    CHECK_STATUS(fer_augment_set(aug, (fer_augment_param)k, hi + 1),
                 FER_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE_CONTAINS(name);
    CHECK_STATUS(fer_augment_set(aug, (fer_augment_param)k, NAN),
                 FER_ERR_INVALID_ARGUMENT);
  }
  CHECK_EQ_INT(keys, 20);
  CHECK_STATUS(fer_augment_set(aug, FER_AUG_FILL_MODE, 0.5),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_augment_set(aug, (fer_augment_param)0, 0), FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_augment_set(aug, (fer_augment_param)999, 0),
               FER_ERR_NOT_FOUND);
  fer_augment_param key;
  CHECK_STATUS(fer_augment_param_find("flip", &key), FER_ERR_NOT_FOUND);
  CHECK_OK(fer_augment_param_find("flip_prob", &key));
  CHECK_EQ_INT(key, FER_AUG_FLIP_PROB);
  CHECK_STATUS(fer_augment_set(NULL, FER_AUG_FLIP_PROB, 0), FER_ERR_MISUSE);
  fer_augment_free(aug);
  fer_augment_free(NULL);
}

/* Applies `aug` to `image` as sample `index` of `epoch`. */
static void apply(const fer_augment *aug, uint32_t epoch, uint64_t index,
                  int channels, float *out) {
  CHECK_OK(fer_augment_apply(aug, epoch, index, image, channels, SIDE, SIDE,
                             1.0f, out));
}

static int equal_to_image(const float *out, int channels, float scale) {
  for (int i = 0; i < channels * PLANE; i++)
    if (out[i] != (float)image[i] * scale) return 0;
  return 1;
}

static void test_identities(void) {
  make_image(3);
  float out[3 * PLANE];
  /* Defaults: every probability 0. */
  fer_augment *aug = create(5);
  for (uint64_t i = 0; i < 20; i++) {
    CHECK_OK(fer_augment_apply(aug, 3, i, image, 3, SIDE, SIDE, 1.0f / 255,
                               out));
    CHECK(equal_to_image(out, 3, 1.0f / 255));
  }
  /* Always applied, but with neutral settings: shift 0, rotation 0, zoom 1,
   * brightness 0, contrast 0. */
  set(aug, FER_AUG_SHIFT_PROB, 1);
  set(aug, FER_AUG_SHIFT_MAX, 0);
  set(aug, FER_AUG_ROTATE_PROB, 1);
  set(aug, FER_AUG_ROTATE_DEGREES, 0);
  set(aug, FER_AUG_ZOOM_PROB, 1);
  set(aug, FER_AUG_ZOOM_MIN, 1);
  set(aug, FER_AUG_ZOOM_MAX, 1);
  set(aug, FER_AUG_BRIGHTNESS_PROB, 1);
  set(aug, FER_AUG_BRIGHTNESS, 0);
  set(aug, FER_AUG_CONTRAST_PROB, 1);
  set(aug, FER_AUG_CONTRAST, 0);
  for (uint64_t i = 0; i < 20; i++) {
    apply(aug, 1, i, 3, out);
    CHECK(equal_to_image(out, 3, 1.0f));
  }
  fer_augment_free(aug);
}

static void test_flip(void) {
  make_image(3);
  float out[3 * PLANE], back[3 * PLANE];
  uint8_t mirrored[3 * PLANE];
  fer_augment *aug = create(9);
  set(aug, FER_AUG_FLIP_PROB, 1);
  apply(aug, 0, 0, 3, out);
  for (int c = 0; c < 3; c++)
    for (int y = 0; y < SIDE; y++)
      for (int x = 0; x < SIDE; x++) {
        uint8_t v = image[c * PLANE + y * SIDE + (SIDE - 1 - x)];
        mirrored[c * PLANE + y * SIDE + x] = v;
        CHECK(out[c * PLANE + y * SIDE + x] == v);
      }
  /* Twice is the identity. */
  CHECK_OK(fer_augment_apply(aug, 0, 1, mirrored, 3, SIDE, SIDE, 1.0f, back));
  CHECK(equal_to_image(back, 3, 1.0f));
  /* Probability one half: about half flipped. */
  set(aug, FER_AUG_FLIP_PROB, 0.5);
  int flipped = 0;
  for (uint64_t i = 0; i < 2000; i++) {
    apply(aug, 2, i, 3, out);
    flipped += !equal_to_image(out, 3, 1.0f);
  }
  CHECK_NEAR(flipped / 2000.0, 0.5, 0.04);
  fer_augment_free(aug);
}

static fer_augment *everything(uint64_t seed) {
  fer_augment *aug = create(seed);
  set(aug, FER_AUG_FLIP_PROB, 0.5);
  set(aug, FER_AUG_SHIFT_PROB, 0.8);
  set(aug, FER_AUG_ROTATE_PROB, 0.8);
  set(aug, FER_AUG_ZOOM_PROB, 0.8);
  set(aug, FER_AUG_BRIGHTNESS_PROB, 0.8);
  set(aug, FER_AUG_CONTRAST_PROB, 0.8);
  set(aug, FER_AUG_ERASE_PROB, 0.5);
  set(aug, FER_AUG_FILL_MODE, 1);
  return aug;
}

static void test_determinism(void) {
  make_image(1);
  float a[PLANE], b[PLANE];
  fer_augment *aug = everything(1234);
  fer_augment *again = everything(1234); /* a "resumed" run */
  fer_augment *other = everything(4321);
  int epoch_differs = 0, seed_differs = 0;
  for (uint64_t i = 0; i < 50; i++) {
    apply(aug, 7, i, 1, a);
    apply(again, 7, i, 1, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    apply(aug, 8, i, 1, b);
    epoch_differs += memcmp(a, b, sizeof a) != 0;
    apply(other, 7, i, 1, b);
    seed_differs += memcmp(a, b, sizeof a) != 0;
  }
  CHECK(epoch_differs > 40);
  CHECK(seed_differs > 40);
  /* Batches: the same sample gets the same augmentation whatever its
   * position in the batch. */
  int32_t labels[6] = {0, 1, 2, 0, 1, 2};
  static uint8_t px[6 * PLANE];
  for (int i = 0; i < 6 * PLANE; i++) px[i] = (uint8_t)(i * 13 + i / 7);
  fer_dataset *ds = NULL;
  CHECK_OK(fer_dataset_from_u8(px, labels, 6, 1, SIDE, SIDE, NULL, 3, &ds));
  const uint32_t forward[] = {0, 1, 2, 3, 4, 5}, backward[] = {5, 4, 3, 2, 1, 0};
  static float x1[6 * PLANE], x2[6 * PLANE];
  CHECK_OK(fer_dataset_make_batch(ds, aug, 2, forward, 6, 1.0f / 255, x1,
                                  6 * PLANE, NULL));
  CHECK_OK(fer_dataset_make_batch(ds, again, 2, backward, 6, 1.0f / 255, x2,
                                  6 * PLANE, NULL));
  for (int i = 0; i < 6; i++) {
    CHECK(memcmp(x1 + i * PLANE, x2 + (5 - i) * PLANE, PLANE * sizeof(float)) ==
          0);
    float single[PLANE];
    CHECK_OK(fer_augment_apply(aug, 2, (uint64_t)i, px + i * PLANE, 1, SIDE,
                               SIDE, 1.0f / 255, single));
    CHECK(memcmp(single, x1 + i * PLANE, sizeof single) == 0);
  }
  fer_dataset_free(ds);
  fer_augment_free(aug);
  fer_augment_free(again);
  fer_augment_free(other);
}

/* The output must be the image translated by some whole (dx, dy) within the
 * limit, the fill elsewhere. */
static int matches_shift(const float *out, int dx, int dy, double fill) {
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++) {
      int sx = x - dx, sy = y - dy;
      double want = (sx < 0 || sy < 0 || sx >= SIDE || sy >= SIDE)
                        ? fill
                        : image[sy * SIDE + sx];
      if (out[y * SIDE + x] != (float)want) return 0;
    }
  return 1;
}

static void test_shift(void) {
  make_image(1);
  fer_augment *aug = create(77);
  set(aug, FER_AUG_SHIFT_PROB, 1);
  set(aug, FER_AUG_SHIFT_MAX, 0.2); /* 3 pixels of 15 */
  set(aug, FER_AUG_FILL_VALUE, 7);
  float out[PLANE];
  int hist[7] = {0};
  for (uint64_t i = 0; i < 300; i++) {
    apply(aug, 0, i, 1, out);
    int found = 0;
    for (int dy = -3; dy <= 3 && !found; dy++)
      for (int dx = -3; dx <= 3 && !found; dx++)
        if (matches_shift(out, dx, dy, 7)) {
          found = 1;
          hist[dx + 3]++;
        }
    CHECK_MSG(found, "sample %d is not a whole-pixel shift", (int)i);
  }
  for (int d = 0; d < 7; d++) CHECK(hist[d] > 10); /* every shift happens */
  /* With the flip as well: the mirror image of a shifted image. */
  set(aug, FER_AUG_FLIP_PROB, 1);
  for (uint64_t i = 0; i < 100; i++) {
    float mirrored[PLANE];
    apply(aug, 0, i, 1, out);
    for (int y = 0; y < SIDE; y++)
      for (int x = 0; x < SIDE; x++)
        mirrored[y * SIDE + x] = out[y * SIDE + SIDE - 1 - x];
    int found = 0;
    for (int dy = -3; dy <= 3 && !found; dy++)
      for (int dx = -3; dx <= 3 && !found; dx++)
        found = matches_shift(mirrored, dx, dy, 7);
    CHECK_MSG(found, "sample %d is not a mirrored shift", (int)i);
  }
  fer_augment_free(aug);
}

static void test_zoom(void) {
  make_image(1);
  fer_augment *aug = create(3);
  set(aug, FER_AUG_ZOOM_PROB, 1);
  set(aug, FER_AUG_ZOOM_MIN, 2);
  set(aug, FER_AUG_ZOOM_MAX, 2);
  float out[PLANE];
  apply(aug, 0, 0, 1, out);
  /* Magnifying 2x about the centre c: output (c + 2k) shows source (c + k)
   * exactly, and output (c + 2k + 1) the mean of its neighbours. */
  const int c = SIDE / 2;
  for (int ky = -3; ky <= 3; ky++)
    for (int kx = -3; kx <= 3; kx++) {
      CHECK(out[(c + 2 * ky) * SIDE + c + 2 * kx] ==
            image[(c + ky) * SIDE + c + kx]);
      if (kx < 3)
        CHECK_NEAR(out[(c + 2 * ky) * SIDE + c + 2 * kx + 1],
                   (image[(c + ky) * SIDE + c + kx] +
                    image[(c + ky) * SIDE + c + kx + 1]) / 2.0,
                   1e-4);
    }
  fer_augment_free(aug);
}

static void test_rotation(void) {
  /* A radially symmetric blob is (nearly) unchanged by rotation about the
   * centre; a bar is not. */
  float out[PLANE];
  const int c = SIDE / 2;
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++) {
      double r2 = (x - c) * (x - c) + (y - c) * (y - c);
      image[y * SIDE + x] = (uint8_t)floor(200 * exp(-r2 / 18.0) + 0.5);
    }
  fer_augment *aug = create(11);
  set(aug, FER_AUG_ROTATE_PROB, 1);
  set(aug, FER_AUG_ROTATE_DEGREES, 45);
  for (uint64_t i = 0; i < 20; i++) {
    apply(aug, 0, i, 1, out);
    CHECK(out[c * SIDE + c] == image[c * SIDE + c]);
    double worst = 0;
    for (int k = 0; k < PLANE; k++)
      worst = fmax(worst, fabs(out[k] - image[k]));
    CHECK_MSG(worst < 16, "blob changed by %g", worst);
  }
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE; x++)
      image[y * SIDE + x] = (uint8_t)(y == c ? 200 : 0);
  int changed = 0;
  for (uint64_t i = 0; i < 20; i++) {
    apply(aug, 0, i, 1, out);
    double diff = 0;
    for (int k = 0; k < PLANE; k++) diff += fabs(out[k] - image[k]);
    changed += diff > 100;
  }
  CHECK(changed >= 15);
  fer_augment_free(aug);
}

static void test_photometric(void) {
  make_image(1); /* values 40..209: no clamping for small changes */
  float out[PLANE];
  fer_augment *aug = create(21);
  set(aug, FER_AUG_BRIGHTNESS_PROB, 1);
  set(aug, FER_AUG_BRIGHTNESS, 0.1);
  for (uint64_t i = 0; i < 30; i++) {
    apply(aug, 0, i, 1, out);
    double delta = out[0] - image[0];
    CHECK(fabs(delta) <= 25.5 + 1e-3);
    for (int k = 1; k < PLANE; k++)
      CHECK_NEAR(out[k] - image[k], delta, 1e-3);
  }
  set(aug, FER_AUG_BRIGHTNESS_PROB, 0);
  set(aug, FER_AUG_CONTRAST_PROB, 1);
  set(aug, FER_AUG_CONTRAST, 0.2);
  double mean = 0;
  for (int k = 0; k < PLANE; k++) mean += image[k];
  mean /= PLANE;
  for (uint64_t i = 0; i < 30; i++) {
    apply(aug, 0, i, 1, out);
    double out_mean = 0;
    for (int k = 0; k < PLANE; k++) out_mean += out[k];
    CHECK_NEAR(out_mean / PLANE, mean, 1e-3);
    /* One factor f in [0.8, 1.2] relates every deviation from the mean. */
    double f = (out[1] - mean) / (image[1] - mean);
    CHECK(f >= 0.8 - 1e-4 && f <= 1.2 + 1e-4);
    for (int k = 0; k < PLANE; k++)
      CHECK_NEAR(out[k] - mean, (image[k] - mean) * f, 1e-2);
  }
  fer_augment_free(aug);
}

static void test_erase(void) {
  enum { S = 48 };
  static uint8_t big[S * S];
  for (int i = 0; i < S * S; i++) big[i] = (uint8_t)(100 + i % 100);
  fer_augment *aug = create(31);
  set(aug, FER_AUG_ERASE_PROB, 1);
  set(aug, FER_AUG_ERASE_AREA_MIN, 0.1);
  set(aug, FER_AUG_ERASE_AREA_MAX, 0.3);
  set(aug, FER_AUG_ERASE_ASPECT_MIN, 1);
  set(aug, FER_AUG_ERASE_ASPECT_MAX, 1);
  set(aug, FER_AUG_ERASE_VALUE, 0);
  static float out[S * S];
  double sum = 0;
  const int n = 2000;
  for (int i = 0; i < n; i++) {
    CHECK_OK(fer_augment_apply(aug, 0, (uint64_t)i, big, 1, S, S, 1.0f, out));
    int erased = 0, minx = S, maxx = -1, miny = S, maxy = -1;
    for (int y = 0; y < S; y++)
      for (int x = 0; x < S; x++)
        if (out[y * S + x] == 0) {
          erased++;
          minx = x < minx ? x : minx;
          maxx = x > maxx ? x : maxx;
          miny = y < miny ? y : miny;
          maxy = y > maxy ? y : maxy;
        } else if (out[y * S + x] != big[y * S + x]) {
          erased = -100000; /* anything else changed: wrong */
        }
    /* One solid square (aspect 1). */
    CHECK(erased == (maxx - minx + 1) * (maxy - miny + 1));
    CHECK(maxx - minx == maxy - miny);
    sum += erased / (double)(S * S);
  }
  /* The area fraction is uniform in [0.1, 0.3]: mean 0.2 (rounding the
   * side to whole pixels moves it by well under 0.01). */
  CHECK_NEAR(sum / n, 0.2, 0.01);
  /* With probability 0.3, about 30% of samples are touched. */
  set(aug, FER_AUG_ERASE_PROB, 0.3);
  int touched = 0;
  for (int i = 0; i < n; i++) {
    CHECK_OK(fer_augment_apply(aug, 1, (uint64_t)i, big, 1, S, S, 1.0f, out));
    int any = 0;
    for (int k = 0; k < S * S && !any; k++) any = out[k] == 0;
    touched += any;
  }
  CHECK_NEAR(touched / (double)n, 0.3, 0.04);
  fer_augment_free(aug);
}

static void test_errors(void) {
  fer_augment *aug = create(1);
  float out[PLANE];
  CHECK_STATUS(fer_augment_apply(aug, 0, 0, NULL, 1, SIDE, SIDE, 1.0f, out),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_augment_apply(aug, 0, 0, image, 1, 0, SIDE, 1.0f, out),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_augment_apply(NULL, 0, 0, image, 1, SIDE, SIDE, 1.0f, out),
               FER_ERR_MISUSE);
  CHECK_STATUS(fer_augment_create(1, NULL), FER_ERR_INVALID_ARGUMENT);
  fer_augment *none = (fer_augment *)1;
  fer__alloc_fail_after(1);
  CHECK_STATUS(fer_augment_create(1, &none), FER_ERR_OUT_OF_MEMORY);
  fer__alloc_fail_after(0);
  CHECK(none == NULL);
  fer_augment_free(aug);
}

int main(void) {
  RUN(test_parameters);
  RUN(test_identities);
  RUN(test_flip);
  RUN(test_determinism);
  RUN(test_shift);
  RUN(test_zoom);
  RUN(test_rotation);
  RUN(test_photometric);
  RUN(test_erase);
  RUN(test_errors);
  return harness_finish();
}
