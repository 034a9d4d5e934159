/* FER2013 in both layouts (suite `shared-data`, run through fer2013_prepare.sh):
 * the folder layout loaded with fer_dataset_load_folder() must give the
 * README's class counts and, image by image, the same label as the CSV row
 * of the same image id (make_csv.py sorts rows by Usage, id, then label). Pixels
 * are compared too: the CSV holds libjpeg-turbo's decode of each JPEG. */
#include "harness.h"

#include <dirent.h>

#include "core/core_internal.h"

static const char *const fer2013[] = {"angry", "disgust", "fear", "happy",
                                      "sad",   "surprise", "neutral"};
static const size_t training_counts[7] = {3995, 436, 4097, 7215,
                                          4830, 3171, 4965};
static const size_t public_counts[7] = {467, 56, 496, 895, 653, 415, 607};

static int compare_strings(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}
static int compare_ids(const void *a, const void *b) {
  long x = *(const long *)a, y = *(const long *)b;
  return (x > y) - (x < y);
}

/* Sorted entries of a folder (hidden ones left out); caller frees. */
static size_t list(const char *dir, char ***out) {
  DIR *d = opendir(dir);
  size_t n = 0, cap = 64;
  char **names = malloc(cap * sizeof *names);
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) names = realloc(names, (cap *= 2) * sizeof *names);
    names[n++] = strdup(e->d_name);
  }
  if (d) closedir(d);
  qsort(names, n, sizeof *names, compare_strings);
  *out = names;
  return n;
}

/* The image ids of the folder layout in the loader's order (class folders,
 * then files, sorted by name), read independently of libfer. */
static size_t folder_ids(const char *dir, const char *prefix, long *ids) {
  char **classes;
  size_t nc = list(dir, &classes), n = 0;
  for (size_t c = 0; c < nc; c++) {
    char sub[4096 + 512];
    snprintf(sub, sizeof sub, "%s/%s", dir, classes[c]);
    char **files;
    size_t nf = list(sub, &files);
    for (size_t i = 0; i < nf; i++) {
      long id = -1;
      char tail[16];
      if (strncmp(files[i], prefix, strlen(prefix)) == 0 &&
          sscanf(files[i] + strlen(prefix), "_%ld.%15s", &id, tail) == 2)
        ids[n++] = id;
      free(files[i]);
    }
    free(files);
    free(classes[c]);
  }
  free(classes);
  return n;
}

static void compare(const char *root, const char *folder, const char *prefix,
                    fer_usage usage, const size_t *counts) {
  char dir[4096], csv_path[4096];
  snprintf(dir, sizeof dir, "%s/fer2013/fer2013/%s", root, folder);
  snprintf(csv_path, sizeof csv_path, "%s/fer2013/fer2013.csv", root);
  fer_dataset *fd = NULL, *cd = NULL;
  double start = fer__now_seconds();
  CHECK_OK(fer_dataset_load_folder(dir, fer2013, 7, 1, 48, 48, 0, &fd));
  fprintf(stderr, "%s: folder layout loaded in %.2f s\n", folder,
          fer__now_seconds() - start);
  CHECK_OK(fer_dataset_load_fer2013_csv(csv_path, usage, 0, &cd));
  if (!fd || !cd) goto done;
  for (int k = 0; k < 7; k++)
    CHECK_EQ_INT(fer_dataset_class_size(fd, k), counts[k]);
  size_t n = fer_dataset_count(fd);
  CHECK_EQ_INT(fer_dataset_count(cd), n);
  long *ids = malloc((n + 1) * sizeof *ids), *sorted = malloc((n + 1) * sizeof *ids);
  CHECK_EQ_INT(folder_ids(dir, prefix, ids), n);
  memcpy(sorted, ids, n * sizeof *ids);
  qsort(sorted, n, sizeof *sorted, compare_ids);
  size_t label_mismatches = 0, exact_images = 0;
  double abs_sum = 0;
  int worst = 0;
  for (size_t i = 0; i < n && n == fer_dataset_count(cd); i++) {
    long *hit = bsearch(&ids[i], sorted, n, sizeof *sorted, compare_ids);
    size_t row = (size_t)(hit - sorted);
    /* A few ids occur in two class folders (two images, two CSV rows, which
     * make_csv.py orders by label): take the row of this id with this
     * label. */
    while (row > 0 && sorted[row - 1] == ids[i]) row--;
    while (row + 1 < n && sorted[row + 1] == ids[i] &&
           fer_dataset_label(cd, row) != fer_dataset_label(fd, i))
      row++;
    label_mismatches += fer_dataset_label(fd, i) != fer_dataset_label(cd, row);
    const uint8_t *a = fer_dataset_pixels(fd, i), *b = fer_dataset_pixels(cd, row);
    int same = 1;
    for (int k = 0; k < 48 * 48; k++) {
      int d = abs(a[k] - b[k]);
      abs_sum += d;
      worst = d > worst ? d : worst;
      same &= d == 0;
    }
    exact_images += same;
  }
  CHECK_EQ_INT(label_mismatches, 0);
  double mean = abs_sum / ((double)n * 48 * 48);
  fprintf(stderr,
          "%s: %zu images, %zu label mismatches; pixels vs the CSV "
          "(libjpeg-turbo): %zu identical images, mean |diff| %.4f, max %d\n",
          folder, n, label_mismatches, exact_images, mean, worst);
  CHECK(mean < 1.0);
  free(ids);
  free(sorted);
done:
  fer_dataset_free(fd);
  fer_dataset_free(cd);
}

int main(void) {
  const char *root = getenv("FER_BUILD_ROOT");
  if (!root || !harness_shared_data())
    SKIP("FER2013 not available (../shared/data or FER_BUILD_ROOT missing)");
  compare(root, "train", "Training", FER_USAGE_TRAINING, training_counts);
  compare(root, "test", "PublicTest", FER_USAGE_PUBLIC_TEST, public_counts);
  return harness_finish();
}
