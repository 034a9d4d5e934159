/* Data sets from arrays: copying, accessors, float conversion, split,
 * subset, concatenation, epoch order and plain batches. References are
 * computed here directly from the arrays the test builds. */
#include "harness.h"

#include "core/core_internal.h"

#define C 1
#define H 4
#define W 5
#define SAMPLE (C * H * W)

/* Sample i's pixels encode i (first two bytes) so any copy can be traced
 * back to its source. */
static void fill_sample(uint8_t *dst, uint32_t i) {
  dst[0] = (uint8_t)(i & 0xFF);
  dst[1] = (uint8_t)(i >> 8);
  for (int k = 2; k < SAMPLE; k++) dst[k] = (uint8_t)(i * 31 + k * 7);
}

static uint32_t sample_id(const uint8_t *px) {
  return (uint32_t)px[0] | ((uint32_t)px[1] << 8);
}

static const char *const names3[] = {"cat", "dog", "bird"};

static fer_dataset *make(size_t n, uint8_t **pixels_out, int32_t **labels_out) {
  uint8_t *px = malloc(n * SAMPLE + 1);
  int32_t *labels = malloc(n * sizeof *labels + 1);
  for (size_t i = 0; i < n; i++) {
    fill_sample(px + i * SAMPLE, (uint32_t)i);
    labels[i] = (int32_t)((i * 7) % 10 < 6 ? 0 : (i % 3 == 0 ? 1 : 2));
  }
  fer_dataset *ds = NULL;
  CHECK_OK(fer_dataset_from_u8(px, labels, n, C, H, W, names3, 3, &ds));
  if (pixels_out)
    *pixels_out = px;
  else
    free(px);
  if (labels_out)
    *labels_out = labels;
  else
    free(labels);
  return ds;
}

static void test_from_u8(void) {
  uint8_t *px;
  int32_t *labels;
  fer_dataset *ds = make(50, &px, &labels);
  CHECK_EQ_INT(fer_dataset_count(ds), 50);
  CHECK_EQ_INT(fer_dataset_channels(ds), C);
  CHECK_EQ_INT(fer_dataset_height(ds), H);
  CHECK_EQ_INT(fer_dataset_width(ds), W);
  CHECK_EQ_INT(fer_dataset_class_count(ds), 3);
  CHECK(strcmp(fer_dataset_class_name(ds, 2), "bird") == 0);
  size_t per_class[3] = {0, 0, 0};
  for (size_t i = 0; i < 50; i++) per_class[labels[i]]++;
  for (int k = 0; k < 3; k++)
    CHECK_EQ_INT(fer_dataset_class_size(ds, k), per_class[k]);
  CHECK_EQ_INT(fer_dataset_class_size(ds, 3), 0);
  /* Copied: changing the caller's arrays changes nothing. */
  uint8_t before = px[7 * SAMPLE + 3];
  px[7 * SAMPLE + 3] ^= 0xFF;
  labels[7] = (labels[7] + 1) % 3;
  CHECK_EQ_INT(fer_dataset_pixels(ds, 7)[3], before);
  CHECK(fer_dataset_label(ds, 7) != labels[7]);
  /* Out of range. */
  CHECK_EQ_INT(fer_dataset_label(ds, 50), -1);
  CHECK(fer_dataset_pixels(ds, 50) == NULL);
  /* Floats with a scale. */
  float sample[SAMPLE];
  CHECK_OK(fer_dataset_get_sample(ds, 9, 1.0f / 255, sample, SAMPLE));
  uint8_t ref[SAMPLE];
  fill_sample(ref, 9);
  for (int k = 0; k < SAMPLE; k++)
    CHECK_NEAR(sample[k], ref[k] / 255.0, 1e-7);
  CHECK_STATUS(fer_dataset_get_sample(ds, 9, 1.0f, sample, SAMPLE - 1),
               FER_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(fer_dataset_get_sample(ds, 50, 1.0f, sample, SAMPLE),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("50");
  fer_dataset_free(ds);
  /* Bad arguments; no output on failure. */
  ds = (fer_dataset *)1;
  labels[3] = 3;
  CHECK_STATUS(fer_dataset_from_u8(px, labels, 50, C, H, W, names3, 3, &ds),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("sample 3");
  CHECK(ds == NULL);
  labels[3] = 0;
  CHECK_STATUS(fer_dataset_from_u8(px, labels, 50, 2, H, W, names3, 3, &ds),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_dataset_from_u8(px, labels, 50, C, 0, W, names3, 3, &ds),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_dataset_from_u8(px, labels, 50, C, H, W, names3, 0, &ds),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_dataset_from_u8(NULL, labels, 50, C, H, W, names3, 3, &ds),
               FER_ERR_INVALID_ARGUMENT);
  /* Default names; an empty data set. */
  CHECK_OK(fer_dataset_from_u8(NULL, NULL, 0, C, H, W, NULL, 2, &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 0);
  CHECK(strcmp(fer_dataset_class_name(ds, 1), "1") == 0);
  fer_dataset_free(ds);
  /* Misuse. */
  CHECK_EQ_INT(fer_dataset_count(NULL), 0);
  CHECK_STATUS(fer_dataset_get_sample(NULL, 0, 1.0f, sample, SAMPLE),
               FER_ERR_MISUSE);
  fer_dataset_free(NULL);
  free(px);
  free(labels);
}

static void test_from_f32(void) {
  float values[2 * SAMPLE];
  int32_t labels[2] = {1, 0};
  for (int i = 0; i < 2 * SAMPLE; i++) values[i] = (float)((i * 37) % 256) / 255.0f;
  fer_dataset *ds = NULL;
  CHECK_OK(fer_dataset_from_f32(values, labels, 2, C, H, W, 1.0f / 255, NULL,
                                2, &ds));
  for (int i = 0; i < 2 * SAMPLE; i++)
    CHECK_EQ_INT(fer_dataset_pixels(ds, (size_t)(i / SAMPLE))[i % SAMPLE],
                 (i * 37) % 256);
  fer_dataset_free(ds);
  values[SAMPLE + 4] = 1.01f; /* 257.55 after scaling */
  CHECK_STATUS(fer_dataset_from_f32(values, labels, 2, C, H, W, 1.0f / 255,
                                    NULL, 2, &ds),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("sample 1 (element 4)");
  CHECK(ds == NULL);
  values[SAMPLE + 4] = NAN;
  CHECK_STATUS(fer_dataset_from_f32(values, labels, 2, C, H, W, 1.0f / 255,
                                    NULL, 2, &ds),
               FER_ERR_INVALID_ARGUMENT);
  values[SAMPLE + 4] = 0;
  CHECK_STATUS(fer_dataset_from_f32(values, labels, 2, C, H, W, 0.0f, NULL, 2,
                                    &ds),
               FER_ERR_INVALID_ARGUMENT);
}

static void test_split(void) {
  const size_t n = 200;
  int32_t *labels;
  fer_dataset *ds = make(n, NULL, &labels);
  for (int stratified = 0; stratified <= 1; stratified++) {
    fer_dataset *train = NULL, *val = NULL;
    CHECK_OK(fer_dataset_split(ds, 0.25, 99, stratified, &train, &val));
    size_t nt = fer_dataset_count(train), nv = fer_dataset_count(val);
    CHECK_EQ_INT(nt + nv, n);
    if (!stratified) CHECK_EQ_INT(nv, 50);
    /* Disjoint, together everything, labels kept, relative order kept. */
    uint8_t seen[200] = {0};
    uint32_t last = 0;
    for (size_t i = 0; i < nt; i++) {
      uint32_t id = sample_id(fer_dataset_pixels(train, i));
      CHECK(id < n && !seen[id]);
      CHECK(i == 0 || id > last);
      last = id;
      seen[id] = 1;
      CHECK_EQ_INT(fer_dataset_label(train, i), labels[id]);
    }
    for (size_t i = 0; i < nv; i++) {
      uint32_t id = sample_id(fer_dataset_pixels(val, i));
      CHECK(id < n && !seen[id]);
      seen[id] = 1;
      CHECK_EQ_INT(fer_dataset_label(val, i), labels[id]);
    }
    if (stratified)
      for (int k = 0; k < 3; k++) {
        size_t total = fer_dataset_class_size(ds, k);
        CHECK_EQ_INT(fer_dataset_class_size(val, k),
                     (size_t)floor(0.25 * total + 0.5));
      }
    /* Same seed, same split; another seed, another split. */
    fer_dataset *train2 = NULL, *val2 = NULL, *train3 = NULL, *val3 = NULL;
    CHECK_OK(fer_dataset_split(ds, 0.25, 99, stratified, &train2, &val2));
    CHECK_OK(fer_dataset_split(ds, 0.25, 100, stratified, &train3, &val3));
    CHECK_EQ_INT(fer_dataset_count(val2), nv);
    int same = 1, same3 = fer_dataset_count(val3) == nv;
    for (size_t i = 0; i < nv; i++) {
      same &= sample_id(fer_dataset_pixels(val, i)) ==
              sample_id(fer_dataset_pixels(val2, i));
      if (same3)
        same3 &= sample_id(fer_dataset_pixels(val, i)) ==
                 sample_id(fer_dataset_pixels(val3, i));
    }
    CHECK(same);
    CHECK(!same3);
    fer_dataset_free(train);
    fer_dataset_free(val);
    fer_dataset_free(train2);
    fer_dataset_free(val2);
    fer_dataset_free(train3);
    fer_dataset_free(val3);
  }
  /* Edge fractions and errors. */
  fer_dataset *train = NULL, *val = NULL;
  CHECK_OK(fer_dataset_split(ds, 0.0, 1, 0, &train, &val));
  CHECK_EQ_INT(fer_dataset_count(train), n);
  CHECK_EQ_INT(fer_dataset_count(val), 0);
  fer_dataset_free(train);
  fer_dataset_free(val);
  CHECK_STATUS(fer_dataset_split(ds, 1.5, 1, 0, &train, &val),
               FER_ERR_INVALID_ARGUMENT);
  CHECK(train == NULL && val == NULL);
  CHECK_STATUS(fer_dataset_split(ds, NAN, 1, 0, &train, &val),
               FER_ERR_INVALID_ARGUMENT);
  /* Allocation failures leave nothing behind. */
  for (long k = 1; k < 12; k++) {
    fer__alloc_fail_after(k);
    fer_status st = fer_dataset_split(ds, 0.3, 5, 1, &train, &val);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    CHECK((st == FER_OK) == (train != NULL && val != NULL));
    fer_dataset_free(train);
    fer_dataset_free(val);
  }
  fer_dataset_free(ds);
  free(labels);
}

static void test_subset_concat(void) {
  int32_t *labels;
  fer_dataset *ds = make(30, NULL, &labels);
  const uint32_t idx[] = {29, 0, 5, 5, 12};
  fer_dataset *sub = NULL;
  CHECK_OK(fer_dataset_subset(ds, idx, 5, &sub));
  CHECK_EQ_INT(fer_dataset_count(sub), 5);
  for (int i = 0; i < 5; i++) {
    CHECK_EQ_INT(sample_id(fer_dataset_pixels(sub, (size_t)i)), idx[i]);
    CHECK_EQ_INT(fer_dataset_label(sub, (size_t)i), labels[idx[i]]);
  }
  const uint32_t bad[] = {1, 30};
  fer_dataset *none = (fer_dataset *)1;
  CHECK_STATUS(fer_dataset_subset(ds, bad, 2, &none), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("indices[1] = 30");
  CHECK(none == NULL);
  /* Concatenation maps the second set's classes by name. */
  static const char *const other_names[] = {"BIRD", "cat"};
  uint8_t px[2 * SAMPLE];
  fill_sample(px, 1000);
  fill_sample(px + SAMPLE, 1001);
  int32_t other_labels[2] = {0, 1}; /* bird, cat */
  fer_dataset *other = NULL, *joined = NULL;
  CHECK_OK(fer_dataset_from_u8(px, other_labels, 2, C, H, W, other_names, 2,
                               &other));
  CHECK_OK(fer_dataset_concat(sub, other, &joined));
  CHECK_EQ_INT(fer_dataset_count(joined), 7);
  CHECK_EQ_INT(fer_dataset_label(joined, 5), 2); /* bird */
  CHECK_EQ_INT(fer_dataset_label(joined, 6), 0); /* cat */
  CHECK_EQ_INT(sample_id(fer_dataset_pixels(joined, 6)), 1001);
  CHECK_EQ_INT(sample_id(fer_dataset_pixels(joined, 0)), 29);
  fer_dataset_free(joined);
  static const char *const unknown_names[] = {"cat", "fish"};
  fer_dataset *fish = NULL;
  CHECK_OK(fer_dataset_from_u8(px, other_labels, 2, C, H, W, unknown_names, 2,
                               &fish));
  CHECK_STATUS(fer_dataset_concat(sub, fish, &joined), FER_ERR_NOT_FOUND);
  CHECK_MESSAGE_CONTAINS("fish");
  fer_dataset *wide = NULL;
  CHECK_OK(fer_dataset_from_u8(px, other_labels, 1, C, H * 2, W / 2 + 1, NULL,
                               2, &wide));
  CHECK_STATUS(fer_dataset_concat(sub, wide, &joined), FER_ERR_SHAPE);
  CHECK(joined == NULL);
  fer_dataset_free(wide);
  fer_dataset_free(fish);
  fer_dataset_free(other);
  fer_dataset_free(sub);
  fer_dataset_free(ds);
  free(labels);
}

static void test_epoch_order(void) {
  enum { N = 1000 };
  static uint32_t a[N], b[N], c[N];
  CHECK_OK(fer_epoch_order(N, 7, 3, a));
  CHECK_OK(fer_epoch_order(N, 7, 3, b));
  CHECK_OK(fer_epoch_order(N, 7, 4, c));
  uint8_t seen[N] = {0};
  int perm = 1, same = 1, differ = 0, moved = 0;
  for (int i = 0; i < N; i++) {
    perm &= a[i] < N && !seen[a[i]];
    if (a[i] < N) seen[a[i]] = 1;
    same &= a[i] == b[i];
    differ += a[i] != c[i];
    moved += a[i] != (uint32_t)i;
  }
  CHECK(perm);
  CHECK(same);
  CHECK(differ > N / 2);
  CHECK(moved > N / 2);
  CHECK_OK(fer_epoch_order(0, 7, 3, NULL));
  CHECK_STATUS(fer_epoch_order(5, 7, 3, NULL), FER_ERR_INVALID_ARGUMENT);
}

static void test_batch(void) {
  int32_t *labels;
  fer_dataset *ds = make(20, NULL, &labels);
  const uint32_t idx[] = {3, 19, 0, 3};
  float x[4 * SAMPLE];
  int32_t y[4];
  CHECK_OK(fer_dataset_make_batch(ds, NULL, 0, idx, 4, 0.5f, x, 4 * SAMPLE, y));
  for (int i = 0; i < 4; i++) {
    uint8_t ref[SAMPLE];
    fill_sample(ref, idx[i]);
    CHECK_EQ_INT(y[i], labels[idx[i]]);
    for (int k = 0; k < SAMPLE; k++)
      CHECK(x[i * SAMPLE + k] == (float)ref[k] * 0.5f);
  }
  CHECK_STATUS(fer_dataset_make_batch(ds, NULL, 0, idx, 4, 1.0f, x,
                                      4 * SAMPLE - 1, y),
               FER_ERR_BUFFER_TOO_SMALL);
  const uint32_t bad[] = {0, 20};
  CHECK_STATUS(fer_dataset_make_batch(ds, NULL, 0, bad, 2, 1.0f, x,
                                      4 * SAMPLE, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("indices[1] = 20");
  CHECK_STATUS(fer_dataset_make_batch(NULL, NULL, 0, idx, 4, 1.0f, x,
                                      4 * SAMPLE, y),
               FER_ERR_MISUSE);
  fer_dataset_free(ds);
  free(labels);
}

int main(void) {
  RUN(test_from_u8);
  RUN(test_from_f32);
  RUN(test_split);
  RUN(test_subset_concat);
  RUN(test_epoch_order);
  RUN(test_batch);
  return harness_finish();
}
