/* The folder layout: class folders mapped by name (case-insensitive, in an
 * order unlike the alphabetical one), sorted traversal, unknown folders,
 * unreadable images and skipping. Decoding goes through the loader's
 * internal callback, here a small PGM reader of the test's own, so this
 * test does not depend on the image codecs; test_dataset_folder_image.c
 * covers the real decoding path. Fixtures: tests/fixtures/dataset/folders*,
 * written by make_fixtures.py. */
#include "harness.h"

#include "core/core_internal.h"
#include "data/dataset_internal.h"

static char path_buf[4096];

static const char *fixture(const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/dataset/%s", harness_fixtures(),
           name);
  return path_buf;
}

/* Records the order of calls; stores the call number in every byte, and
 * fails on a PGM shorter than its header says. */
typedef struct recorder {
  char paths[64][256];
  int calls;
} recorder;

static fer_status test_loader(void *ctx, const char *path, int channels,
                              int height, int width, uint8_t *dst) {
  recorder *r = ctx;
  FILE *f = fopen(path, "rb");
  if (!f) return fer__fail(FER_ERR_IO, "%s: cannot open", path);
  int w = 0, h = 0, maxval = 0;
  int fields = fscanf(f, "P5 %d %d %d", &w, &h, &maxval);
  fgetc(f);
  long start = ftell(f);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fclose(f);
  if (fields != 3 || size - start < (long)w * h)
    return fer__fail(FER_ERR_TRUNCATED, "%s: truncated PGM", path);
  if (r->calls < 64) {
    const char *tail = strstr(path, "dataset/");
    snprintf(r->paths[r->calls], sizeof r->paths[0], "%s", tail ? tail : path);
  }
  memset(dst, r->calls, (size_t)channels * height * width);
  r->calls++;
  return FER_OK;
}

static const char *const fer2013[] = {"angry", "disgust", "fear", "happy",
                                      "sad",   "surprise", "neutral"};

static void test_mapping_and_order(void) {
  recorder r = {.calls = 0};
  fer_dataset *ds = NULL;
  CHECK_OK(fer__dataset_load_folder_with(fixture("folders"), fer2013, 7, 1, 6,
                                         6, 0, test_loader, &r, &ds));
  /* Folders bytewise (upper case first), files sorted, notes.txt ignored. */
  static const struct {
    const char *path;
    int label;
  } want[] = {
      {"dataset/folders/Surprise/img_0.pgm", 5},
      {"dataset/folders/Surprise/img_1.pgm", 5},
      {"dataset/folders/Surprise/img_2.pgm", 5},
      {"dataset/folders/Surprise/img_3.pgm", 5},
      {"dataset/folders/angry/img_0.pgm", 0},
      {"dataset/folders/angry/img_1.pgm", 0},
      {"dataset/folders/angry/img_2.pgm", 0},
      {"dataset/folders/angry/img_3.pgm", 0},
      {"dataset/folders/happy/img_0.pgm", 3},
      {"dataset/folders/happy/img_1.pgm", 3},
      {"dataset/folders/happy/img_2.pgm", 3},
      {"dataset/folders/happy/img_3.pgm", 3},
      {"dataset/folders/neutral/img_1.pgm", 6},
      {"dataset/folders/neutral/img_2.pgm", 6},
      {"dataset/folders/neutral/img_3.pgm", 6},
  };
  CHECK_EQ_INT(r.calls, FER__ARRAY_LEN(want));
  CHECK_EQ_INT(fer_dataset_count(ds), FER__ARRAY_LEN(want));
  for (size_t i = 0; i < FER__ARRAY_LEN(want) && (int)i < r.calls; i++) {
    CHECK_MSG(strcmp(r.paths[i], want[i].path) == 0, "call %zu read %s", i,
              r.paths[i]);
    CHECK_EQ_INT(fer_dataset_label(ds, i), want[i].label);
    CHECK_EQ_INT(fer_dataset_pixels(ds, i)[35], i);
  }
  CHECK_EQ_INT(fer_dataset_class_count(ds), 7);
  CHECK(strcmp(fer_dataset_class_name(ds, 5), "surprise") == 0);
  CHECK_EQ_INT(fer_dataset_class_size(ds, 5), 4);
  CHECK_EQ_INT(fer_dataset_class_size(ds, 1), 0);
  fer_dataset_free(ds);
  /* Without a class list the folders are the classes, sorted. */
  r.calls = 0;
  CHECK_OK(fer__dataset_load_folder_with(fixture("folders"), NULL, 0, 1, 6, 6,
                                         0, test_loader, &r, &ds));
  CHECK_EQ_INT(fer_dataset_class_count(ds), 4);
  CHECK(strcmp(fer_dataset_class_name(ds, 0), "Surprise") == 0);
  CHECK(strcmp(fer_dataset_class_name(ds, 3), "neutral") == 0);
  CHECK_EQ_INT(fer_dataset_label(ds, 14), 3);
  fer_dataset_free(ds);
}

static void test_unknown_and_broken(void) {
  recorder r = {.calls = 0};
  fer_dataset *ds = (fer_dataset *)1;
  CHECK_STATUS(fer__dataset_load_folder_with(fixture("folders_unknown"),
                                             fer2013, 7, 1, 6, 6, 0,
                                             test_loader, &r, &ds),
               FER_ERR_NOT_FOUND);
  CHECK(ds == NULL);
  CHECK_MESSAGE_CONTAINS("folders_unknown/contempt");
  CHECK_MESSAGE_CONTAINS("'contempt' is not one of the classes (angry, ");
  CHECK_OK(fer__dataset_load_folder_with(
      fixture("folders_unknown"), fer2013, 7, 1, 6, 6,
      FER_DATASET_SKIP_UNKNOWN_CLASSES, test_loader, &r, &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 1);
  CHECK_EQ_INT(fer_dataset_label(ds, 0), 3);
  CHECK_EQ_INT(fer_dataset_skipped_folders(ds), 1);
  fer_dataset_free(ds);
  /* An unreadable image: its path in the message, or skipped and counted. */
  CHECK_STATUS(fer__dataset_load_folder_with(fixture("folders_broken"),
                                             fer2013, 7, 1, 6, 6, 0,
                                             test_loader, &r, &ds),
               FER_ERR_TRUNCATED);
  CHECK_MESSAGE_CONTAINS("folders_broken/sad/truncated.pgm");
  CHECK_OK(fer__dataset_load_folder_with(fixture("folders_broken"), fer2013, 7,
                                         1, 6, 6, FER_DATASET_SKIP_BAD,
                                         test_loader, &r, &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 1);
  CHECK_EQ_INT(fer_dataset_skipped(ds), 1);
  CHECK_EQ_INT(fer_dataset_label(ds, 0), 4);
  fer_dataset_free(ds);
  /* A missing folder; bad arguments. */
  CHECK_STATUS(fer__dataset_load_folder_with(fixture("no_such_folder"), fer2013,
                                             7, 1, 6, 6, 0, test_loader, &r,
                                             &ds),
               FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("no_such_folder");
  CHECK_STATUS(fer__dataset_load_folder_with(fixture("folders"), fer2013, 7, 2,
                                             6, 6, 0, test_loader, &r, &ds),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer__dataset_load_folder_with(fixture("folders"), fer2013, 7, 1,
                                             6, 6, 0x80, test_loader, &r, &ds),
               FER_ERR_INVALID_ARGUMENT);
  /* Allocation failures: a clean status and no leaks. */
  for (long k = 1; k < 40; k++) {
    fer__alloc_fail_after(k);
    fer_status st = fer__dataset_load_folder_with(
        fixture("folders"), fer2013, 7, 1, 6, 6, 0, test_loader, &r, &ds);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    CHECK((st == FER_OK) == (ds != NULL));
    fer_dataset_free(ds);
  }
}

int main(void) {
  RUN(test_mapping_and_order);
  RUN(test_unknown_and_broken);
  return harness_finish();
}
