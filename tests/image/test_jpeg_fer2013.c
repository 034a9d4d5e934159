/*
 * Acceptance test on real data: every JPEG of FER2013's folder layout
 * (../shared/data/fer2013/fer2013-folders.tar.gz, 28,709 Training + 3,589
 * PublicTest images) decoded by libfer must match the pixels of the same
 * image in the CSV that make_csv.py writes with Pillow (libjpeg-turbo):
 * at least 99.9% of pixels within +-1.
 *
 * make_csv.py sorts rows by usage (Training, then PublicTest), then by the
 * image id in the file name, then by label (one id appears in two class
 * folders), so the n-th file of that order is row n.
 * The CSV and the extracted folders go into the build folder and are
 * reused by later runs. Skips when the shared data is absent.
 */
#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <time.h>

#include "harness.h"
#include "jpeg_test_util.h"

typedef struct entry {
  int usage; /* 0 Training, 1 PublicTest: make_csv.py's sort key */
  long id;
  int label; /* CSV emotion index of the class folder: the tie-break */
  char path[512];
} entry;

static entry *entries;
static size_t entry_count, entry_capacity;

static int by_usage_then_id(const void *a, const void *b) {
  const entry *x = a, *y = b;
  if (x->usage != y->usage) return x->usage - y->usage;
  if (x->id != y->id) return (x->id > y->id) - (x->id < y->id);
  return x->label - y->label; /* one id can sit in two class folders */
}

/* Collects <dir>/<class>/<Usage>_<id>.jpg. */
static int label_of(const char *name) {
  static const char *order[] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};
  for (int i = 0; i < 7; i++)
    if (strcmp(name, order[i]) == 0) return i;
  return 7;
}

static void collect(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *cls;
  while ((cls = readdir(d)) != NULL) {
    if (cls->d_name[0] == '.') continue;
    char sub[1024];
    snprintf(sub, sizeof sub, "%s/%s", dir, cls->d_name);
    DIR *s = opendir(sub);
    if (!s) continue;
    struct dirent *f;
    while ((f = readdir(s)) != NULL) {
      long id;
      int usage = -1;
      if (sscanf(f->d_name, "Training_%ld.jpg", &id) == 1) usage = 0;
      else if (sscanf(f->d_name, "PublicTest_%ld.jpg", &id) == 1) usage = 1;
      if (usage < 0) continue;
      if (entry_count == entry_capacity) {
        entry_capacity = entry_capacity ? 2 * entry_capacity : 1024;
        entries = realloc(entries, entry_capacity * sizeof *entries);
      }
      entry *e = &entries[entry_count++];
      e->usage = usage;
      e->id = id;
      e->label = label_of(cls->d_name);
      if (snprintf(e->path, sizeof e->path, "%s/%s", sub, f->d_name) >= (int)sizeof e->path)
        entry_count--; /* a path this long is not FER2013's */
    }
    closedir(s);
  }
  closedir(d);
}

static int exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0;
}

int main(void) {
  const char *shared = harness_shared_data();
  if (!shared) SKIP("../shared/data not found (FER_SHARED_DATA): FER2013 JPEG check skipped");
  char tarball[4096], script[4096];
  snprintf(tarball, sizeof tarball, "%s/fer2013/fer2013-folders.tar.gz", shared);
  snprintf(script, sizeof script, "%s/fer2013/make_csv.py", shared);
  if (!exists(tarball) || !exists(script))
    SKIP("%s or make_csv.py missing: FER2013 JPEG check skipped", tarball);

  const char *build = getenv("FER_BUILD_ROOT");
  char work[4096], csv[4200], extracted[4200], cmd[16384];
  snprintf(work, sizeof work, "%s/fer2013-jpeg-check", build ? build : ".");
  snprintf(csv, sizeof csv, "%s/fer2013.csv", work);
  snprintf(extracted, sizeof extracted, "%s/fer2013", work);
  if (mkdir(work, 0777) != 0 && errno != EEXIST) {
    fprintf(stderr, "cannot create %s\n", work);
    return 1;
  }
  if (!exists(csv)) {
    fprintf(stderr, "writing %s with make_csv.py (Pillow)...\n", csv);
    int len = snprintf(cmd, sizeof cmd,
                       "/usr/bin/python3 '%s' '%s' '%s.part' && mv '%s.part' '%s'", script,
                       tarball, csv, csv, csv);
    if (len >= (int)sizeof cmd || system(cmd) != 0) {
      fprintf(stderr, "make_csv.py failed (needs Debian's python3-pil)\n");
      return 1;
    }
  }
  if (!exists(extracted)) {
    int len = snprintf(cmd, sizeof cmd, "tar -xzf '%s' -C '%s'", tarball, work);
    if (len >= (int)sizeof cmd || system(cmd) != 0) {
      fprintf(stderr, "tar failed on %s\n", tarball);
      return 1;
    }
  }
  char dir[4300];
  snprintf(dir, sizeof dir, "%s/train", extracted);
  collect(dir);
  snprintf(dir, sizeof dir, "%s/test", extracted);
  collect(dir);
  qsort(entries, entry_count, sizeof *entries, by_usage_then_id);
  fprintf(stderr, "%zu JPEG files found\n", entry_count);
  CHECK_EQ_INT(entry_count, 28709 + 3589);

  FILE *f = fopen(csv, "r");
  CHECK_MSG(f != NULL, "cannot open %s", csv);
  if (!f) return harness_finish();
  static char line[1 << 16];
  CHECK(fgets(line, sizeof line, f) != NULL); /* header */

  long pixels = 0, exact = 0, within1 = 0, images_with_diff = 0, failures = 0;
  int max_diff = 0;
  double decode_seconds = 0;
  uint8_t expected[48 * 48];
  for (size_t i = 0; i < entry_count; i++) {
    if (!fgets(line, sizeof line, f)) {
      CHECK_MSG(0, "CSV ends at row %zu", i);
      break;
    }
    /* emotion,p0 p1 ... p2303,Usage */
    char *p = strchr(line, ',');
    int n = 0;
    while (p && n < 48 * 48) {
      char *end;
      expected[n++] = (uint8_t)strtol(p + 1, &end, 10);
      p = end;
    }
    CHECK_MSG(n == 48 * 48, "row %zu has %d pixels", i, n);
    size_t size;
    uint8_t *data = jt_read_file(entries[i].path, &size);
    fer_image *img = NULL;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fer_status st = data ? fer__jpeg_decode(data, size, 0, &img) : FER_ERR_IO;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    decode_seconds += (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    free(data);
    if (st != FER_OK || img->width != 48 || img->height != 48 || img->channels != 1) {
      if (failures++ < 10)
        fprintf(stderr, "%s: %s (%s)\n", entries[i].path, fer_status_string(st),
                fer_last_error());
      pixels += 48 * 48;
      images_with_diff++;
      fer_image_free(img);
      continue;
    }
    jt_diff d = jt_compare(img, expected);
    pixels += d.pixels;
    exact += d.exact;
    within1 += d.within1;
    if (d.max_diff > max_diff) max_diff = d.max_diff;
    if (d.exact != d.pixels && images_with_diff++ < 10)
      fprintf(stderr, "%s: %ld of %ld pixels differ, max diff %d\n", entries[i].path,
              d.pixels - d.exact, d.pixels, d.max_diff);
    fer_image_free(img);
  }
  fclose(f);

  double rate = pixels ? (double)within1 / pixels : 0;
  fprintf(stderr,
          "FER2013: %zu images, %ld pixels: %.4f%% exact, %.4f%% within +-1, "
          "max diff %d, %ld images with any difference, %ld decode failures; "
          "decode %.2f s (%.1f MPixel/s)\n",
          entry_count, pixels, 100.0 * exact / (pixels ? pixels : 1), 100.0 * rate, max_diff,
          images_with_diff, failures, decode_seconds,
          pixels / (decode_seconds > 0 ? decode_seconds : 1) / 1e6);
  CHECK_MSG(rate >= 0.999, "only %.4f%% of pixels within +-1", 100.0 * rate);
  CHECK_EQ_INT(failures, 0);
  free(entries);
  return harness_finish();
}
