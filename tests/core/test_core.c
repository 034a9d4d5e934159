/* Status names, error messages, versions, RNG, CRC-32 and buffers. */
#include <sys/stat.h>

#include "harness.h"

#include "core/core_internal.h"
#include "util/buffer.h"
#include "util/crc32.h"
#include "util/file.h"

static void test_status_strings(void) {
  CHECK(strcmp(fer_status_string(FER_OK), "FER_OK") == 0);
  CHECK(strcmp(fer_status_string(FER_ERR_INTERNAL), "FER_ERR_INTERNAL") == 0);
  CHECK(strcmp(fer_status_string((fer_status)999), "FER_ERR_UNKNOWN") == 0);
  CHECK(strcmp(fer_status_string((fer_status)-1), "FER_ERR_UNKNOWN") == 0);
}

static void test_error_message(void) {
  fer_clear_error();
  CHECK(fer_last_error()[0] == '\0');
  CHECK_EQ_INT(fer__fail(FER_ERR_TRUNCATED, "x.bin: truncated at byte %d", 12),
               FER_ERR_TRUNCATED);
  CHECK(strcmp(fer_last_error(), "x.bin: truncated at byte 12") == 0);
  fer__fail_prefix(FER_ERR_TRUNCATED, "dir/x.bin");
  CHECK(strcmp(fer_last_error(), "dir/x.bin: x.bin: truncated at byte 12") == 0);
  CHECK_STATUS(fer_set_num_threads(-1), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("-1");
}

static void test_version(void) {
  char expect[32];
  snprintf(expect, sizeof expect, "%d.%d.%d", FER_VERSION_MAJOR,
           FER_VERSION_MINOR, FER_VERSION_PATCH);
  CHECK(strcmp(fer_version(), expect) == 0);
  CHECK_EQ_INT(fer_version_number(), FER_VERSION_NUMBER);
}

static void test_crc32(void) {
  /* The CRC-32 check value from the catalogue of parametrised CRCs. */
  CHECK_EQ_INT(fer__crc32(0, "123456789", 9), 0xCBF43926u);
  /* Incremental use gives the same as one call. */
  uint32_t c = fer__crc32(0, "1234", 4);
  CHECK_EQ_INT(fer__crc32(c, "56789", 5), 0xCBF43926u);
  CHECK_EQ_INT(fer__crc32(0, "", 0), 0);
}

static void test_rng(void) {
  fer__rng a, b;
  fer__rng_seed(&a, 42);
  fer__rng_seed(&b, 42);
  for (int i = 0; i < 100; i++) CHECK(fer__rng_next(&a) == fer__rng_next(&b));
  /* Uniform draws: mean near 0.5, all inside [0, 1). */
  double sum = 0;
  int inside = 1;
  for (int i = 0; i < 100000; i++) {
    float u = fer__rng_uniform(&a);
    inside &= u >= 0.0f && u < 1.0f;
    sum += u;
  }
  CHECK(inside);
  CHECK_NEAR(sum / 100000, 0.5, 0.01);
  int counts[7] = {0};
  for (int i = 0; i < 70000; i++) counts[fer__rng_below(&a, 7)]++;
  for (int i = 0; i < 7; i++) CHECK_NEAR(counts[i], 10000, 500);
  double m = 0, v = 0;
  for (int i = 0; i < 100000; i++) {
    double x = fer__rng_normal(&a);
    m += x;
    v += x * x;
  }
  CHECK_NEAR(m / 100000, 0.0, 0.02);
  CHECK_NEAR(v / 100000, 1.0, 0.03);
}

static void test_buffer(void) {
  fer__buf b;
  fer__buf_init(&b);
  for (int i = 0; i < 1000; i++) fer__buf_u32le(&b, (uint32_t)i);
  fer__buf_printf(&b, "%s-%d", "abc", 7);
  CHECK_EQ_INT(b.size, 4000 + 5);
  CHECK(b.data[4] == 1 && b.data[5] == 0);
  CHECK(memcmp(b.data + 4000, "abc-7", 5) == 0);
  CHECK_OK(fer__buf_status(&b, "test"));
  fer__buf_release(&b);
  /* An injected allocation failure is reported, not crashed on. */
  fer__buf_init(&b);
  fer__alloc_fail_after(1);
  fer__buf_byte(&b, 1);
  CHECK_STATUS(fer__buf_status(&b, "test buffer"), FER_ERR_OUT_OF_MEMORY);
  CHECK_MESSAGE_CONTAINS("test buffer");
  fer__buf_release(&b);
}

static void test_files(void) {
  const char *path = "test_core_file.bin";
  CHECK_OK(fer__write_file_atomic(path, "hello", 5));
  uint8_t *data;
  size_t size;
  CHECK_OK(fer__read_file(path, 1 << 20, &data, &size));
  CHECK_EQ_INT(size, 5);
  CHECK(data && memcmp(data, "hello", 5) == 0);
  fer__free(data);
  CHECK_STATUS(fer__read_file(path, 4, &data, &size), FER_ERR_TOO_LARGE);
  CHECK_STATUS(fer__read_file("no/such/file", 4, &data, &size), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("no/such/file");
  CHECK_STATUS(fer__write_file_atomic("no/such/dir/x", "a", 1), FER_ERR_IO);
  remove(path);
}

/* What is not a regular file: a FIFO without a writer reads as empty at
 * once (opening it the usual way would wait forever), folders and devices
 * are refused saying what they are, and a path far past PATH_MAX keeps its
 * reason in the message (the path is shortened in the middle). */
static void test_odd_files(void) {
  uint8_t *data = NULL;
  size_t size = 0;
  const char *fifo = "test_core_fifo";
  remove(fifo);
  CHECK(mkfifo(fifo, 0600) == 0);
  CHECK_STATUS(fer__read_file(fifo, 1 << 20, &data, &size), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("test_core_fifo: a FIFO without a writer");
  fer_image *img = (fer_image *)&img;
  CHECK_STATUS(fer_image_load(fifo, FER_DECODE_DEFAULT, &img), FER_ERR_IO);
  CHECK(img == NULL);
  remove(fifo);
  CHECK_STATUS(fer__read_file(".", 1 << 20, &data, &size), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS(".: is a folder, not a file");
  CHECK_STATUS(fer__read_file("/dev/zero", 1 << 20, &data, &size), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("/dev/zero: is a character device, not a file");
  CHECK(data == NULL && size == 0);

  enum { LONG = 5000 };
  char *long_path = malloc(LONG + 1);
  if (!long_path) return;
  for (int i = 0; i < LONG; i++) long_path[i] = i % 100 == 99 ? '/' : (char)('a' + i % 26);
  memcpy(long_path + LONG - 8, "/end.png", 8);
  long_path[LONG] = '\0';
  CHECK_STATUS(fer_image_load(long_path, FER_DECODE_DEFAULT, &img), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("File name too long");
  CHECK_MESSAGE_CONTAINS("abcdefghij");
  CHECK_MESSAGE_CONTAINS("...");
  CHECK_MESSAGE_CONTAINS("/end.png: cannot open");
  CHECK(strlen(fer_last_error()) < 500);
  /* A cut never splits a UTF-8 character: 2-byte characters throughout. */
  for (int i = 0; i + 1 < LONG; i += 2) memcpy(long_path + i, "\xc3\xa9", 2);
  long_path[LONG - 2] = '\0';
  char shown[FER__MESSAGE_PATH_MAX];
  const char *s = fer__message_path(long_path, shown);
  CHECK(s == shown && strlen(s) < FER__MESSAGE_PATH_MAX);
  const char *dots = strstr(s, "...");
  CHECK(dots && (dots - s) % 2 == 0 && strlen(dots + 3) % 2 == 0);
  CHECK(strcmp(fer__message_path("short", shown), "short") == 0);
  free(long_path);
}

int main(void) {
  RUN(test_status_strings);
  RUN(test_error_message);
  RUN(test_version);
  RUN(test_crc32);
  RUN(test_rng);
  RUN(test_buffer);
  RUN(test_files);
  RUN(test_odd_files);
  return harness_finish();
}
