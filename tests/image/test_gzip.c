/* The gzip reader on plain files and on gzip files written by Python's gzip
 * module (and by hand for every header field), multi-member files, padding,
 * corrupted CRCs; read_line; our gzip writer read back by us and by Python.
 * Fixtures: tests/fixtures/deflate/make_fixtures.py. */
#include "harness.h"

#include "core/core_internal.h"
#include "png_test_util.h"
#include "util/gzip.h"

static const char *python;
static uint8_t *lines;
static size_t lines_size;

static void fixture_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/deflate/%s", harness_fixtures(), name);
}

/* All bytes of a reader, read `step` at a time. */
static fer_status read_all(fer__gz_reader *r, size_t step, uint8_t **out,
                           size_t *size) {
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = malloc(cap);
  fer_status st;
  for (;;) {
    if (n + step > cap) buf = realloc(buf, cap = 2 * (n + step));
    size_t got;
    st = fer__gz_reader_read(r, buf + n, step, &got);
    if (st != FER_OK) break;
    n += got;
    if (got < step) {
      size_t again = 1;
      st = fer__gz_reader_read(r, buf + n, step, &again); /* stays at the end */
      if (st == FER_OK && again != 0) st = FER_ERR_INTERNAL;
      break;
    }
  }
  *out = buf;
  *size = n;
  return st;
}

static void test_good_files(void) {
  const char *names[] = {"lines.txt", "lines.txt.gz", "multi.gz", "fields.gz",
                         "padded.gz"};
  const size_t steps[] = {1, 7, 4096, 1 << 20};
  for (size_t i = 0; i < FER__ARRAY_LEN(names); i++)
    for (size_t s = 0; s < FER__ARRAY_LEN(steps); s++) {
      char path[4096];
      fixture_path(path, sizeof path, names[i]);
      fer__gz_reader *r = NULL;
      CHECK_OK(fer__gz_reader_open(path, &r));
      if (!r) continue;
      CHECK_EQ_INT(fer__gz_reader_is_compressed(r), i > 0);
      uint8_t *data;
      size_t size;
      fer_status st = read_all(r, steps[s], &data, &size);
      CHECK_MSG(st == FER_OK, "%s: %s", names[i], fer_last_error());
      CHECK_MSG(size == lines_size && memcmp(data, lines, size) == 0,
                "%s read %zu at a time: %zu bytes, not the %zu of lines.txt",
                names[i], steps[s], size, lines_size);
      free(data);
      fer__gz_reader_close(r);
    }
}

static void test_bad_files(void) {
  const struct {
    const char *name;
    fer_status status;
    const char *message;
  } cases[] = {{"bad_crc.gz", FER_ERR_CHECKSUM, "CRC-32"},
               {"bad_isize.gz", FER_ERR_CHECKSUM, "size"},
               {"bad_header_crc.gz", FER_ERR_CHECKSUM, "header CRC"},
               {"trailing_garbage.gz", FER_ERR_FORMAT, "neither"},
               {"truncated.gz", FER_ERR_TRUNCATED, "ends"}};
  for (size_t i = 0; i < FER__ARRAY_LEN(cases); i++) {
    char path[4096];
    fixture_path(path, sizeof path, cases[i].name);
    fer__gz_reader *r = NULL;
    CHECK_OK(fer__gz_reader_open(path, &r));
    if (!r) continue;
    uint8_t *data;
    size_t size;
    CHECK_STATUS(read_all(r, 1000, &data, &size), cases[i].status);
    CHECK_MESSAGE_CONTAINS(cases[i].message);
    CHECK_MESSAGE_CONTAINS(cases[i].name); /* the path */
    free(data);
    /* Once failed, it stays failed. */
    uint8_t b;
    size_t got;
    CHECK(fer__gz_reader_read(r, &b, 1, &got) != FER_OK);
    fer__gz_reader_close(r);
  }
  fer__gz_reader *r = (fer__gz_reader *)1;
  CHECK_STATUS(fer__gz_reader_open("no/such/file.gz", &r), FER_ERR_IO);
  CHECK(r == NULL);
  CHECK_MESSAGE_CONTAINS("no/such/file.gz");
}

/* Every truncation of a gzip file fails cleanly, in memory (exact-size
 * copies, so ASan catches over-reads). Every prefix is a valid plain file
 * only when it does not start with the magic. */
static void test_truncations(void) {
  char path[4096];
  size_t size;
  fixture_path(path, sizeof path, "fields.gz");
  uint8_t *gz = util_read_file(path, &size);
  CHECK(gz != NULL);
  if (!gz) return;
  int all_failed = 1;
  for (size_t n = 2; n < size; n++) {
    uint8_t *copy = malloc(n);
    memcpy(copy, gz, n);
    fer__gz_reader *r = NULL;
    CHECK_OK(fer__gz_reader_open_memory(copy, n, "fields.gz", &r));
    uint8_t *data;
    size_t got;
    if (read_all(r, 4096, &data, &got) == FER_OK) all_failed = 0;
    free(data);
    fer__gz_reader_close(r);
    free(copy);
  }
  CHECK(all_failed);
  free(gz);
}

/* read_line against splitting lines.txt by hand. */
static void test_read_line(void) {
  const char *names[] = {"lines.txt", "multi.gz"};
  for (size_t i = 0; i < 2; i++) {
    char path[4096];
    fixture_path(path, sizeof path, names[i]);
    fer__gz_reader *r = NULL;
    CHECK_OK(fer__gz_reader_open(path, &r));
    if (!r) continue;
    size_t at = 0, count = 0;
    int all_match = 1;
    for (;;) {
      const char *line;
      size_t len;
      fer_status st = fer__gz_reader_read_line(r, 3000, &line, &len);
      CHECK_OK(st);
      if (st != FER_OK || !line) break;
      const uint8_t *nl = memchr(lines + at, '\n', lines_size - at);
      size_t end = nl ? (size_t)(nl - lines) : lines_size;
      size_t want = end - at;
      if (want > 0 && lines[at + want - 1] == '\r') want--;
      if (len != want || memcmp(line, lines + at, want) != 0 || line[len] != 0)
        all_match = 0;
      at = nl ? end + 1 : end;
      count++;
    }
    CHECK_MSG(all_match, "%s: lines differ", names[i]);
    CHECK_EQ_INT(at, lines_size);
    CHECK(count > 30);
    fer__gz_reader_close(r);
  }
  /* The 3000-byte line is too long for a 2999-byte limit. */
  char path[4096];
  fixture_path(path, sizeof path, "lines.txt.gz");
  fer__gz_reader *r = NULL;
  CHECK_OK(fer__gz_reader_open(path, &r));
  const char *line = NULL;
  size_t len;
  fer_status st;
  while ((st = fer__gz_reader_read_line(r, 2999, &line, &len)) == FER_OK && line) {
  }
  CHECK_STATUS(st, FER_ERR_TOO_LARGE);
  CHECK_MESSAGE_CONTAINS("line");
  fer__gz_reader_close(r);
  /* Empty data and empty lines. */
  CHECK_OK(fer__gz_reader_open_memory((const uint8_t *)"", 0, "empty", &r));
  CHECK_OK(fer__gz_reader_read_line(r, 10, &line, &len));
  CHECK(line == NULL);
  fer__gz_reader_close(r);
  CHECK_OK(fer__gz_reader_open_memory((const uint8_t *)"\n\r\nab", 5, "m", &r));
  CHECK_OK(fer__gz_reader_read_line(r, 10, &line, &len));
  CHECK(line && len == 0 && line[0] == 0);
  CHECK_OK(fer__gz_reader_read_line(r, 10, &line, &len));
  CHECK(line && len == 0);
  CHECK_OK(fer__gz_reader_read_line(r, 10, &line, &len));
  CHECK(line && len == 2 && strcmp(line, "ab") == 0);
  CHECK_OK(fer__gz_reader_read_line(r, 10, &line, &len));
  CHECK(line == NULL);
  fer__gz_reader_close(r);
}

static void test_writer(void) {
  fer__buf gz;
  fer__buf_init(&gz);
  CHECK_OK(fer__gzip_compress(lines, lines_size, 6, &gz));
  fer__gz_reader *r = NULL;
  CHECK_OK(fer__gz_reader_open_memory(gz.data, gz.size, "ours.gz", &r));
  uint8_t *data;
  size_t size;
  CHECK_OK(read_all(r, 1 << 20, &data, &size));
  CHECK(size == lines_size && memcmp(data, lines, size) == 0);
  free(data);
  fer__gz_reader_close(r);
  if (python) {
    CHECK(util_write_file("test_gzip_ours.gz", gz.data, gz.size));
    char path[4096], cmd[8192];
    fixture_path(path, sizeof path, "lines.txt");
    snprintf(cmd, sizeof cmd,
             "%s -c \"import gzip, sys; sys.exit(gzip.open('test_gzip_ours.gz')"
             ".read() != open(sys.argv[1], 'rb').read())\" %s",
             python, path);
    CHECK_MSG(system(cmd) == 0, "Python's gzip misreads our output");
    remove("test_gzip_ours.gz");
  }
  fer__buf_release(&gz);
}

int main(int argc, char **argv) {
  python = util_python(argc, argv);
  char path[4096];
  fixture_path(path, sizeof path, "lines.txt");
  lines = util_read_file(path, &lines_size);
  if (!lines) SKIP("%s missing", path);
  RUN(test_good_files);
  RUN(test_bad_files);
  RUN(test_truncations);
  RUN(test_read_line);
  RUN(test_writer);
  free(lines);
  return harness_finish();
}
