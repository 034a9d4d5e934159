/* The whole FER2013 CSV (suite `shared-data`, run through fer2013_prepare.sh):
 * class counts of Training and PublicTest against the table in
 * ../shared/data/README.md, and the loading time. */
#include "harness.h"

#include "core/core_internal.h"

/* From ../shared/data/README.md, in the CSV's label order. */
static const size_t training_counts[7] = {3995, 436, 4097, 7215,
                                          4830, 3171, 4965};
static const size_t public_counts[7] = {467, 56, 496, 895, 653, 415, 607};

static void check_counts(const char *path, fer_usage usage,
                         const size_t *want, const char *what) {
  fer_dataset *ds = NULL;
  double start = fer__now_seconds();
  CHECK_OK(fer_dataset_load_fer2013_csv(path, usage, 0, &ds));
  double seconds = fer__now_seconds() - start;
  size_t total = 0;
  for (int k = 0; k < 7; k++) {
    CHECK_EQ_INT(fer_dataset_class_size(ds, k), want[k]);
    total += want[k];
  }
  CHECK_EQ_INT(fer_dataset_count(ds), total);
  CHECK_EQ_INT(fer_dataset_skipped(ds), 0);
  fprintf(stderr, "%s: %s, %zu images in %.2f s\n", path, what,
          fer_dataset_count(ds), seconds);
  fer_dataset_free(ds);
}

int main(void) {
  const char *root = getenv("FER_BUILD_ROOT");
  if (!root || !harness_shared_data())
    SKIP("FER2013 not available (../shared/data or FER_BUILD_ROOT missing)");
  char path[4096];
  snprintf(path, sizeof path, "%s/fer2013/fer2013.csv", root);
  check_counts(path, FER_USAGE_TRAINING, training_counts, "Training");
  check_counts(path, FER_USAGE_PUBLIC_TEST, public_counts, "PublicTest");
  /* Everything at once: the figure to quote for loading speed. */
  fer_dataset *ds = NULL;
  double start = fer__now_seconds();
  CHECK_OK(fer_dataset_load_fer2013_csv(path, FER_USAGE_ALL, 0, &ds));
  fprintf(stderr, "%s: all rows, %zu images in %.2f s\n", path,
          fer_dataset_count(ds), fer__now_seconds() - start);
  CHECK_EQ_INT(fer_dataset_count(ds), 28709 + 3589);
  fer_dataset_free(ds);
  /* The gzip copy gives the same. */
  snprintf(path, sizeof path, "%s/fer2013/fer2013.csv.gz", root);
  start = fer__now_seconds();
  CHECK_OK(fer_dataset_load_fer2013_csv(path, FER_USAGE_ALL, 0, &ds));
  fprintf(stderr, "%s: all rows, %zu images in %.2f s\n", path,
          fer_dataset_count(ds), fer__now_seconds() - start);
  CHECK_EQ_INT(fer_dataset_count(ds), 28709 + 3589);
  fer_dataset_free(ds);
  return harness_finish();
}
