/* Deflate: round trips through our inflater on varied data and levels, and
 * Python's zlib decompressing our output (skipped without python3). */
#include "harness.h"

#include "core/core_internal.h"
#include "png_test_util.h"
#include "util/buffer.h"
#include "util/deflate.h"
#include "util/inflate.h"

static const char *python;

static int round_trip(const uint8_t *data, size_t n, int level, size_t *packed) {
  fer__buf z;
  fer__buf_init(&z);
  fer_status st = fer__zlib_compress(data, n, level, &z);
  uint8_t *out = malloc(n + 1);
  size_t got = 0;
  int ok = st == FER_OK &&
           fer__inflate(FER__INFLATE_ZLIB, z.data, z.size, out, n, &got) == FER_OK &&
           got == n && memcmp(out, data, n) == 0;
  if (packed) *packed = z.size;
  free(out);
  fer__buf_release(&z);
  return ok;
}

static void test_round_trips(void) {
  const size_t sizes[] = {0, 1, 2, 3, 4, 100, 4097, 70000, 200000};
  const char *kinds[] = {"random", "text", "runs", "mixed"};
  for (size_t s = 0; s < FER__ARRAY_LEN(sizes); s++)
    for (int kind = 0; kind < 4; kind++) {
      uint8_t *data = malloc(sizes[s] + 1);
      util_make_data(data, sizes[s], kind, (uint32_t)(s * 4 + kind));
      for (int level = 0; level <= 9; level++) {
        size_t packed;
        CHECK_MSG(round_trip(data, sizes[s], level, &packed),
                  "%s, %zu bytes, level %d", kinds[kind], sizes[s], level);
        /* Incompressible data falls back to stored blocks (a block holds at
         * most 16384 symbols, so at worst one 5-byte header per 16 KiB). */
        if (kind == 0)
          CHECK_MSG(packed <= sizes[s] + 5 * (sizes[s] / 16384 + 1) + 6,
                    "random, %zu bytes, level %d: %zu", sizes[s], level, packed);
        if (kind == 1 && sizes[s] >= 4097 && level > 0)
          CHECK_MSG(packed * 3 < sizes[s], "text at level %d: %zu -> %zu", level,
                    sizes[s], packed);
      }
      free(data);
    }
}

/* Byte frequencies in Fibonacci proportions make Huffman codes deeper than
 * the 15 bits DEFLATE allows; the length limit must still give a valid,
 * decodable code. */
static void test_length_limit(void) {
  size_t n = 0, fib[28] = {1, 1};
  for (int i = 2; i < 28; i++) fib[i] = fib[i - 1] + fib[i - 2];
  for (int i = 0; i < 28; i++) n += fib[i];
  uint8_t *data = malloc(n);
  size_t at = 0;
  for (int i = 0; i < 28; i++)
    for (size_t k = 0; k < fib[i]; k++) data[at++] = (uint8_t)(i * 9);
  /* Shuffle so that LZ77 leaves most bytes as literals. */
  uint32_t s = 1;
  for (size_t i = n - 1; i > 0; i--) {
    s = s * 1103515245u + 12345u;
    size_t j = ((size_t)s << 8 ^ (s >> 8)) % (i + 1);
    uint8_t t = data[i];
    data[i] = data[j];
    data[j] = t;
  }
  for (int level = 1; level <= 9; level += 4)
    CHECK_MSG(round_trip(data, n, level, NULL), "level %d", level);
  free(data);
}

static void test_bad_arguments(void) {
  fer__buf z;
  fer__buf_init(&z);
  CHECK_STATUS(fer__deflate((const uint8_t *)"x", 1, 10, &z), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("level 10");
  CHECK_STATUS(fer__deflate((const uint8_t *)"x", 1, -1, &z), FER_ERR_INVALID_ARGUMENT);
  fer__buf_release(&z);
  uint8_t data[5000];
  util_make_data(data, sizeof data, 3, 9);
  for (long k = 1; k <= 6; k++) {
    fer__buf_init(&z);
    fer__alloc_fail_after(k);
    fer_status st = fer__zlib_compress(data, sizeof data, 6, &z);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    fer__buf_release(&z);
  }
}

/* Python's zlib decompresses our streams to the original bytes. */
static void test_python_zlib(void) {
  if (!python) {
    fprintf(stderr, "note: python3 not found, skipping the zlib cross-check\n");
    return;
  }
  FILE *list = fopen("test_deflate_list.txt", "w");
  CHECK(list != NULL);
  if (!list) return;
  int files = 0;
  for (int kind = 0; kind < 4; kind++)
    for (int level = 0; level <= 9; level += 3) {
      size_t n = 30000 + 1000 * (size_t)kind;
      uint8_t *data = malloc(n);
      util_make_data(data, n, kind, (uint32_t)(100 + kind));
      fer__buf z;
      fer__buf_init(&z);
      CHECK_OK(fer__zlib_compress(data, n, level, &z));
      char raw_name[64], z_name[64];
      snprintf(raw_name, sizeof raw_name, "test_deflate_%d_%d.raw", kind, level);
      snprintf(z_name, sizeof z_name, "test_deflate_%d_%d.zlib", kind, level);
      CHECK(util_write_file(raw_name, data, n));
      CHECK(util_write_file(z_name, z.data, z.size));
      fprintf(list, "%s %s\n", z_name, raw_name);
      files++;
      fer__buf_release(&z);
      free(data);
    }
  fclose(list);
  char cmd[8192];
  snprintf(cmd, sizeof cmd,
           "%s -c \"import zlib\nbad = 0\nfor line in open('test_deflate_list.txt'):\n"
           "    z, raw = line.split()\n"
           "    if zlib.decompress(open(z, 'rb').read()) != open(raw, 'rb').read():\n"
           "        print('zlib disagrees on', z); bad += 1\nraise SystemExit(bad)\"",
           python);
  CHECK_MSG(system(cmd) == 0, "Python's zlib rejects or misreads our output");
  for (int kind = 0; kind < 4; kind++)
    for (int level = 0; level <= 9; level += 3) {
      char name[64];
      snprintf(name, sizeof name, "test_deflate_%d_%d.raw", kind, level);
      remove(name);
      snprintf(name, sizeof name, "test_deflate_%d_%d.zlib", kind, level);
      remove(name);
    }
  remove("test_deflate_list.txt");
  CHECK_EQ_INT(files, 16);
}

int main(int argc, char **argv) {
  python = util_python(argc, argv);
  RUN(test_round_trips);
  RUN(test_length_limit);
  RUN(test_bad_arguments);
  RUN(test_python_zlib);
  return harness_finish();
}
