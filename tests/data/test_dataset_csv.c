/* FER2013 CSV loading against fixtures written by
 * tests/fixtures/dataset/make_fixtures.py (numpy, not libfer): values, labels,
 * Usage selection, column order, malformed rows with line numbers, skipping,
 * and failure paths (checked for leaks under ASan). */
#include "harness.h"

#include "core/core_internal.h"

#define PIXELS 2304

static char path_buf[4096];

static const char *fixture(const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/dataset/%s", harness_fixtures(),
           name);
  return path_buf;
}

static uint8_t *read_all(const char *name, size_t *size) {
  FILE *f = fopen(fixture(name), "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = malloc((size_t)n + 1);
  if (data && fread(data, 1, (size_t)n, f) != (size_t)n) {
    free(data);
    data = NULL;
  }
  fclose(f);
  if (data) data[n] = 0;
  *size = (size_t)n;
  return data;
}

/* The expected rows: label, usage (1..3), pixels. */
typedef struct row {
  int label, usage;
  const uint8_t *pixels;
} row;

static size_t expected_rows(const uint8_t *data, size_t size, row *rows) {
  size_t n = size / (2 + PIXELS);
  for (size_t i = 0; i < n; i++) {
    const uint8_t *r = data + i * (2 + PIXELS);
    rows[i].label = r[0];
    rows[i].usage = r[1];
    rows[i].pixels = r + 2;
  }
  return n;
}

/* Checks `ds` holds exactly the expected rows of the given usage. */
static void check_matches(const fer_dataset *ds, const row *rows, size_t n,
                          fer_usage usage) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (usage != FER_USAGE_ALL && rows[i].usage != (int)usage) continue;
    CHECK_EQ_INT(fer_dataset_label(ds, k), rows[i].label);
    const uint8_t *px = fer_dataset_pixels(ds, k);
    CHECK_MSG(px && memcmp(px, rows[i].pixels, PIXELS) == 0,
              "pixels of row %zu (usage %d) differ", i, (int)usage);
    k++;
  }
  CHECK_EQ_INT(fer_dataset_count(ds), k);
}

static void test_good_file(void) {
  size_t size;
  uint8_t *expect = read_all("fer2013_small.expected", &size);
  CHECK(expect != NULL);
  if (!expect) return;
  row rows[16];
  size_t n = expected_rows(expect, size, rows);
  CHECK_EQ_INT(n, 5);
  const char *files[] = {"fer2013_small.csv", "fer2013_reordered.csv",
                         "fer2013_small.csv.gz"};
  for (int f = 0; f < 3; f++) {
    for (int u = FER_USAGE_ALL; u <= FER_USAGE_PRIVATE_TEST; u++) {
      fer_dataset *ds = NULL;
      CHECK_OK(fer_dataset_load_fer2013_csv(fixture(files[f]), (fer_usage)u,
                                            0, &ds));
      check_matches(ds, rows, n, (fer_usage)u);
      CHECK_EQ_INT(fer_dataset_skipped(ds), 0);
      fer_dataset_free(ds);
    }
  }
  fer_dataset *ds = NULL;
  CHECK_OK(fer_dataset_load_fer2013_csv(fixture("fer2013_small.csv"),
                                        FER_USAGE_ALL, 0, &ds));
  CHECK_EQ_INT(fer_dataset_channels(ds), 1);
  CHECK_EQ_INT(fer_dataset_height(ds), 48);
  CHECK_EQ_INT(fer_dataset_width(ds), 48);
  CHECK_EQ_INT(fer_dataset_class_count(ds), 7);
  static const char *const names[] = {"angry", "disgust", "fear", "happy",
                                      "sad",   "surprise", "neutral"};
  for (int k = 0; k < 7; k++) {
    CHECK(strcmp(fer_dataset_class_name(ds, k), names[k]) == 0);
    CHECK(strcmp(fer_fer2013_class_name(k), names[k]) == 0);
    size_t want = 0;
    for (size_t i = 0; i < n; i++) want += rows[i].label == k;
    CHECK_EQ_INT(fer_dataset_class_size(ds, k), want);
  }
  CHECK(fer_dataset_class_name(ds, 7) == NULL);
  CHECK(fer_fer2013_class_name(-1) == NULL);
  CHECK_EQ_INT(fer_fer2013_class_count(), 7);
  /* The same text from memory. */
  size_t csv_size;
  uint8_t *csv = read_all("fer2013_small.csv", &csv_size);
  fer_dataset *mem = NULL;
  CHECK_OK(fer_dataset_parse_fer2013_csv(csv, csv_size, FER_USAGE_ALL, 0, &mem));
  check_matches(mem, rows, n, FER_USAGE_ALL);
  fer_dataset_free(mem);
  free(csv);
  fer_dataset_free(ds);
  free(expect);
}

/* Splits the bad fixture into lines (the test's own splitting). */
static size_t split_lines(char *text, char **lines, size_t max) {
  size_t n = 0;
  char *p = text;
  while (*p && n < max) {
    lines[n++] = p;
    char *nl = strchr(p, '\n');
    if (!nl) break;
    *nl = 0;
    p = nl + 1;
  }
  return n;
}

static void test_bad_rows(void) {
  fer_dataset *ds = (fer_dataset *)1;
  /* The whole file stops at the first bad row, line 3. */
  CHECK_STATUS(fer_dataset_load_fer2013_csv(fixture("fer2013_bad.csv"),
                                            FER_USAGE_ALL, 0, &ds),
               FER_ERR_FORMAT);
  CHECK(ds == NULL);
  CHECK_MESSAGE_CONTAINS("fer2013_bad.csv:3: ");
  CHECK_MESSAGE_CONTAINS("2303 pixel values, expected 2304");
  /* Each bad row on its own after the header: line 2 of that text. */
  static const struct {
    int line;
    const char *needle;
  } bad[] = {{3, "2303 pixel values"},
             {4, "pixel value 101 is 256, outside 0..255"},
             {5, "unknown emotion index 7"},
             {6, "bad Usage 'Validation'"},
             {7, "2 fields, expected 3"},
             {8, "unexpected character 'x' in pixel value 6"}};
  size_t size;
  char *text = (char *)read_all("fer2013_bad.csv", &size);
  char *lines[16];
  size_t n = split_lines(text, lines, 16);
  CHECK_EQ_INT(n, 9);
  for (size_t i = 0; i < FER__ARRAY_LEN(bad) && n == 9; i++) {
    const char *body = lines[bad[i].line - 1];
    size_t len = strlen(lines[0]) + 1 + strlen(body) + 1;
    char *one = malloc(len + 1);
    snprintf(one, len + 1, "%s\n%s\n", lines[0], body);
    CHECK_STATUS(fer_dataset_parse_fer2013_csv(one, len, FER_USAGE_ALL, 0, &ds),
                 FER_ERR_FORMAT);
    CHECK_MESSAGE_CONTAINS("<memory>:2: ");
    CHECK_MESSAGE_CONTAINS(bad[i].needle);
    free(one);
  }
  free(text);
  /* Skipping: the two good rows remain, six are counted. */
  CHECK_OK(fer_dataset_load_fer2013_csv(fixture("fer2013_bad.csv"),
                                        FER_USAGE_ALL, FER_DATASET_SKIP_BAD,
                                        &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 2);
  CHECK_EQ_INT(fer_dataset_skipped(ds), 6);
  uint8_t *expect = read_all("fer2013_bad.expected", &size);
  CHECK_EQ_INT(size, 2 * (1 + PIXELS));
  for (size_t i = 0; expect && i < 2; i++) {
    CHECK_EQ_INT(fer_dataset_label(ds, i), expect[i * (1 + PIXELS)]);
    CHECK(memcmp(fer_dataset_pixels(ds, i), expect + i * (1 + PIXELS) + 1,
                 PIXELS) == 0);
  }
  free(expect);
  fer_dataset_free(ds);
  /* Usage selection still applies when skipping. */
  CHECK_OK(fer_dataset_load_fer2013_csv(fixture("fer2013_bad.csv"),
                                        FER_USAGE_PUBLIC_TEST,
                                        FER_DATASET_SKIP_BAD, &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 1);
  CHECK_EQ_INT(fer_dataset_label(ds, 0), 4);
  fer_dataset_free(ds);
}

/* A row of `count` copies of `value` with the given emotion and usage. */
static char *make_csv(const char *header, int rows, int count,
                      const char *value, const char *usage) {
  size_t cap = strlen(header) + 2 +
               (size_t)rows * ((size_t)count * (strlen(value) + 1) + 64);
  char *s = malloc(cap), *p = s;
  p += sprintf(p, "%s\n", header);
  for (int r = 0; r < rows; r++) {
    p += sprintf(p, "%d,", r % 7);
    for (int i = 0; i < count; i++) p += sprintf(p, i ? " %s" : "%s", value);
    p += sprintf(p, usage ? ",%s\n" : "\n", usage);
  }
  return s;
}

static void test_edge_cases(void) {
  fer_dataset *ds = NULL;
  /* Empty text: no header. */
  CHECK_STATUS(fer_dataset_parse_fer2013_csv("", 0, FER_USAGE_ALL, 0, &ds),
               FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("no header");
  /* Header only: an empty data set. */
  const char *header = "emotion,pixels,Usage\n";
  CHECK_OK(fer_dataset_parse_fer2013_csv(header, strlen(header),
                                         FER_USAGE_ALL, 0, &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 0);
  fer_dataset_free(ds);
  /* A header without pixels. */
  const char *no_pixels = "emotion,image,Usage\n";
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(no_pixels, strlen(no_pixels),
                                             FER_USAGE_ALL, 0, &ds),
               FER_ERR_NOT_FOUND);
  CHECK_MESSAGE_CONTAINS("pixels");
  /* No Usage column: fine for ALL, an error for a selection. */
  char *two = make_csv("emotion,pixels", 3, PIXELS, "17", NULL);
  CHECK_OK(fer_dataset_parse_fer2013_csv(two, strlen(two), FER_USAGE_ALL, 0,
                                         &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 3);
  CHECK_EQ_INT(fer_dataset_pixels(ds, 2)[PIXELS - 1], 17);
  CHECK_EQ_INT(fer_dataset_label(ds, 2), 2);
  fer_dataset_free(ds);
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(two, strlen(two),
                                             FER_USAGE_TRAINING, 0, &ds),
               FER_ERR_NOT_FOUND);
  CHECK_MESSAGE_CONTAINS("Usage");
  free(two);
  /* Blank lines and a last line without a newline are fine. */
  char *tail = make_csv("emotion,pixels,Usage", 2, PIXELS, "255", "Training");
  size_t len = strlen(tail);
  tail[len - 1] = 0; /* drop the final newline */
  CHECK_OK(fer_dataset_parse_fer2013_csv(tail, len - 1, FER_USAGE_TRAINING, 0,
                                         &ds));
  CHECK_EQ_INT(fer_dataset_count(ds), 2);
  fer_dataset_free(ds);
  free(tail);
  /* Too many values, a value with four digits, a negative value. */
  char *many = make_csv("emotion,pixels,Usage", 1, PIXELS + 1, "1", "Training");
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(many, strlen(many), FER_USAGE_ALL,
                                             0, &ds),
               FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("2305 pixel values");
  free(many);
  char *wide = make_csv("emotion,pixels,Usage", 1, PIXELS, "0255", "Training");
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(wide, strlen(wide), FER_USAGE_ALL,
                                             0, &ds),
               FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("outside 0..255");
  free(wide);
  char *negative = make_csv("emotion,pixels,Usage", 1, PIXELS, "-1", "Training");
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(negative, strlen(negative),
                                             FER_USAGE_ALL, 0, &ds),
               FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("'-'");
  free(negative);
  /* A line over the 1 MiB limit. */
  size_t huge = (1u << 20) + 100;
  char *big = malloc(huge + 32);
  strcpy(big, "emotion,pixels,Usage\n0,");
  memset(big + strlen(big), '1', huge);
  big[huge] = 0;
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(big, strlen(big), FER_USAGE_ALL,
                                             0, &ds),
               FER_ERR_TOO_LARGE);
  CHECK_MESSAGE_CONTAINS("<memory>:2");
  free(big);
  /* Files: a missing one, a gzip one cut in half. */
  CHECK_STATUS(fer_dataset_load_fer2013_csv("no/such/file.csv", FER_USAGE_ALL,
                                            0, &ds),
               FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("no/such/file.csv");
  fer_status st = fer_dataset_load_fer2013_csv(
      fixture("fer2013_truncated.csv.gz"), FER_USAGE_ALL, 0, &ds);
  CHECK(st == FER_ERR_TRUNCATED || st == FER_ERR_FORMAT);
  CHECK(ds == NULL);
  CHECK_MESSAGE_CONTAINS("fer2013_truncated.csv.gz");
  /* Skipping bad rows never hides a broken file. */
  st = fer_dataset_load_fer2013_csv(fixture("fer2013_truncated.csv.gz"),
                                    FER_USAGE_ALL, FER_DATASET_SKIP_BAD, &ds);
  CHECK(st == FER_ERR_TRUNCATED || st == FER_ERR_FORMAT);
  /* Arguments. */
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(header, strlen(header),
                                             (fer_usage)9, 0, &ds),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(header, strlen(header),
                                             FER_USAGE_ALL, 0x100, &ds),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(header, strlen(header),
                                             FER_USAGE_ALL, 0, NULL),
               FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_dataset_parse_fer2013_csv(NULL, 5, FER_USAGE_ALL, 0, &ds),
               FER_ERR_INVALID_ARGUMENT);
}

/* Every allocation failing in turn: a clean status, never a crash or leak. */
static void test_allocation_failures(void) {
  char *csv = make_csv("emotion,pixels,Usage", 100, PIXELS, "9", "PublicTest");
  int failures_seen = 0;
  for (long n = 1; n < 40; n++) {
    fer_dataset *ds = NULL;
    fer__alloc_fail_after(n);
    fer_status st = fer_dataset_parse_fer2013_csv(csv, strlen(csv),
                                                  FER_USAGE_ALL, 0, &ds);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    CHECK((st == FER_OK) == (ds != NULL));
    if (st == FER_ERR_OUT_OF_MEMORY) {
      failures_seen++;
      CHECK_MESSAGE_CONTAINS("out of memory");
    } else {
      CHECK_EQ_INT(fer_dataset_count(ds), 100);
    }
    fer_dataset_free(ds);
  }
  CHECK(failures_seen > 3);
  free(csv);
}

int main(void) {
  RUN(test_good_file);
  RUN(test_bad_rows);
  RUN(test_edge_cases);
  RUN(test_allocation_failures);
  return harness_finish();
}
