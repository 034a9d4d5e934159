/* Inflate against streams written by Python's zlib (and hand-made ones that
 * zlib checks), tests/fixtures/deflate/make_fixtures.py: one-shot, streaming
 * byte by byte, corrupt and truncated input, the output limit. */
#include "harness.h"

#include "core/core_internal.h"
#include "png_test_util.h"
#include "util/adler32.h"
#include "util/inflate.h"

static void fixture_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/deflate/%s", harness_fixtures(), name);
}

/* The outputs that would be too big to commit, built from their definition
 * (the same as make_fixtures.py's pattern()). */
static uint8_t *make_pattern(const char *name, size_t *size) {
  if (strcmp(name, "repeat_a_100000") == 0) {
    uint8_t *p = malloc(100000);
    memset(p, 'a', 100000);
    *size = 100000;
    return p;
  }
  if (strcmp(name, "marker_32768") == 0) {
    uint8_t *p = calloc(32768 + 258, 1);
    for (int i = 0; i < 258; i++)
      p[i] = p[32768 + i] = (uint8_t)((i * 7 + 3) & 255);
    *size = 32768 + 258;
    return p;
  }
  return NULL;
}

static fer_status status_from_name(const char *s) {
  static const struct { const char *name; fer_status status; } map[] = {
      {"ok", FER_OK},
      {"FER_ERR_FORMAT", FER_ERR_FORMAT},
      {"FER_ERR_CHECKSUM", FER_ERR_CHECKSUM},
      {"FER_ERR_UNSUPPORTED", FER_ERR_UNSUPPORTED},
      {"FER_ERR_TRUNCATED", FER_ERR_TRUNCATED}};
  for (size_t i = 0; i < FER__ARRAY_LEN(map); i++)
    if (strcmp(s, map[i].name) == 0) return map[i].status;
  return FER_ERR_INTERNAL;
}

/* Streams `in` through an inflater, `in_step` input bytes and `out_step`
 * output bytes at a time. Returns the status; output in *out. */
static fer_status inflate_streaming(fer__inflate_wrapper w, const uint8_t *in,
                                    size_t n, size_t in_step, size_t out_step,
                                    uint8_t **out, size_t *out_size,
                                    size_t *in_consumed) {
  fer__inflater *inf = NULL;
  fer_status st = fer__inflater_create(w, &inf);
  *out = NULL;
  *out_size = 0;
  if (st != FER_OK) return st;
  size_t cap = 1024, pos = 0, at = 0;
  uint8_t *buf = malloc(cap);
  int finished = 0;
  while (!finished) {
    if (pos + out_step > cap) buf = realloc(buf, cap = 2 * (pos + out_step));
    size_t feed = FER__MIN(in_step, n - at), used, written;
    st = fer__inflater_step(inf, in + at, feed, &used, buf + pos, out_step,
                            &written, &finished);
    if (st != FER_OK) break;
    at += used;
    pos += written;
    if (!finished && used == 0 && written == 0 && at == n) {
      st = FER_ERR_TRUNCATED;
      break;
    }
  }
  fer__inflater_free(inf);
  *out = buf;
  *out_size = pos;
  if (in_consumed) *in_consumed = at;
  return st;
}

static void test_fixtures(void) {
  char path[4096];
  fixture_path(path, sizeof path, "manifest.txt");
  FILE *m = fopen(path, "r");
  CHECK_MSG(m != NULL, "cannot open %s", path);
  if (!m) return;
  char line[512];
  int ok_streams = 0, bad_streams = 0;
  while (fgets(line, sizeof line, m)) {
    char name[256], expected[256], status_name[64];
    if (line[0] == '#' ||
        sscanf(line, "%255s %255s %63s", name, expected, status_name) != 3)
      continue;
    fer_status want = status_from_name(status_name);
    fer__inflate_wrapper w = strstr(name, ".zlib") ? FER__INFLATE_ZLIB : FER__INFLATE_RAW;
    size_t size = 0, exp_size = 0;
    fixture_path(path, sizeof path, name);
    uint8_t *stream = util_read_file(path, &size);
    uint8_t *exp = NULL;
    if (want == FER_OK) {
      exp = make_pattern(expected, &exp_size);
      if (!exp) {
        fixture_path(path, sizeof path, expected);
        exp = util_read_file(path, &exp_size);
      }
    }
    CHECK_MSG(stream && (want != FER_OK || exp), "%s: fixture missing", name);
    if (!stream || (want == FER_OK && !exp)) {
      free(stream);
      free(exp);
      continue;
    }
    /* One-shot, with exactly the room the output needs. */
    size_t cap = want == FER_OK ? exp_size : 1 << 20;
    uint8_t *out = malloc(cap + 1);
    size_t got = 0;
    fer_status st = fer__inflate(w, stream, size, out, cap, &got);
    CHECK_MSG(st == want, "%s: %s, expected %s (%s)", name, fer_status_string(st),
              fer_status_string(want), fer_last_error());
    if (want == FER_OK) {
      CHECK_MSG(got == exp_size && memcmp(out, exp, exp_size) == 0,
                "%s: output differs", name);
      ok_streams++;
      /* One byte less room: refused, not overrun. */
      if (exp_size > 0) {
        CHECK_STATUS(fer__inflate(w, stream, size, out, exp_size - 1, &got),
                     FER_ERR_TOO_LARGE);
        CHECK_EQ_INT(got, 0);
      }
    } else {
      CHECK_MESSAGE_CONTAINS("byte");
      bad_streams++;
    }
    /* Streaming, one input byte at a time and a few output bytes at a time,
     * agrees with one-shot. */
    uint8_t *sout;
    size_t sgot;
    st = inflate_streaming(w, stream, size, 1, 7, &sout, &sgot, NULL);
    CHECK_MSG(st == want, "%s streaming: %s (%s)", name, fer_status_string(st),
              fer_last_error());
    if (want == FER_OK)
      CHECK_MSG(sgot == exp_size && memcmp(sout, exp, exp_size) == 0,
                "%s: streaming output differs", name);
    free(sout);
    st = inflate_streaming(w, stream, size, 4096, 1 << 16, &sout, &sgot, NULL);
    CHECK_MSG(st == want, "%s streaming: %s", name, fer_status_string(st));
    if (want == FER_OK) CHECK(sgot == exp_size && memcmp(sout, exp, exp_size) == 0);
    free(sout);
    free(out);
    free(stream);
    free(exp);
  }
  fclose(m);
  CHECK(ok_streams >= 20);
  CHECK(bad_streams >= 12);
}

static void test_truncation(void) {
  char path[4096];
  size_t size, raw_size;
  fixture_path(path, sizeof path, "text.6.zlib");
  uint8_t *z = util_read_file(path, &size);
  fixture_path(path, sizeof path, "text.raw");
  uint8_t *raw = util_read_file(path, &raw_size);
  CHECK(z && raw);
  if (!z || !raw) return;
  uint8_t *out = malloc(raw_size);
  int all_truncated = 1;
  for (size_t n = 0; n < size; n++) {
    uint8_t *copy = malloc(n ? n : 1); /* exact size: ASan sees over-reads */
    memcpy(copy, z, n);
    size_t got;
    if (fer__inflate(FER__INFLATE_ZLIB, copy, n, out, raw_size, &got) !=
        FER_ERR_TRUNCATED)
      all_truncated = 0;
    free(copy);
  }
  CHECK(all_truncated);
  /* A single flipped bit is caught (by Adler-32 at the latest), unless it
   * is one of the padding bits after the last block, which mean nothing:
   * then the output must be exactly right. */
  size_t caught = 0, harmless = 0;
  for (size_t i = 0; i < size; i++) {
    z[i] ^= (uint8_t)(1u << (i % 8));
    size_t got;
    if (fer__inflate(FER__INFLATE_ZLIB, z, size, out, raw_size, &got) != FER_OK)
      caught++;
    else if (got == raw_size && memcmp(out, raw, raw_size) == 0)
      harmless++;
    z[i] ^= (uint8_t)(1u << (i % 8));
  }
  CHECK_EQ_INT(caught + harmless, size);
  CHECK(harmless <= 1);
  free(out);
  free(z);
  free(raw);
}

/* The streaming inflater stops exactly at the end of a stream, leaving what
 * follows (a gzip trailer) to its caller, whatever the input chunking. */
static void test_stream_end(void) {
  char path[4096];
  size_t size, raw_size;
  fixture_path(path, sizeof path, "marker_32768.deflate");
  uint8_t *d = util_read_file(path, &size);
  CHECK(d != NULL);
  if (!d) return;
  uint8_t *with_tail = malloc(size + 4);
  memcpy(with_tail, d, size);
  memcpy(with_tail + size, "TAIL", 4);
  const size_t steps[] = {1, 2, 3, 5, 8, 100, 1 << 20};
  for (size_t i = 0; i < FER__ARRAY_LEN(steps); i++) {
    uint8_t *out;
    size_t consumed;
    fer_status st = inflate_streaming(FER__INFLATE_RAW, with_tail, size + 4,
                                      steps[i], 1000, &out, &raw_size, &consumed);
    CHECK_OK(st);
    CHECK_EQ_INT(raw_size, 32768 + 258);
    CHECK_MSG(consumed == size, "step %zu: consumed %zu of %zu", steps[i],
              consumed, size);
    free(out);
  }
  free(with_tail);
  free(d);
}

static void test_adler32(void) {
  uint8_t data[20000];
  util_make_data(data, sizeof data, 0, 5);
  memset(data + 5000, 0xFF, 6000); /* large sums: the deferred modulo */
  CHECK_EQ_INT(fer__adler32(1, data, sizeof data),
               util_naive_adler32(data, sizeof data));
  uint32_t a = fer__adler32(1, data, 7777);
  CHECK_EQ_INT(fer__adler32(a, data + 7777, sizeof data - 7777),
               util_naive_adler32(data, sizeof data));
  CHECK_EQ_INT(fer__adler32(1, "Wikipedia", 9), 0x11E60398u);
}

static void test_allocation_failure(void) {
  fer__inflater *inf = (fer__inflater *)1;
  fer__alloc_fail_after(1);
  CHECK_STATUS(fer__inflater_create(FER__INFLATE_ZLIB, &inf), FER_ERR_OUT_OF_MEMORY);
  CHECK(inf == NULL);
  fer__alloc_fail_after(2);
  CHECK_STATUS(fer__inflater_create(FER__INFLATE_ZLIB, &inf), FER_ERR_OUT_OF_MEMORY);
  fer__alloc_fail_after(1);
  uint8_t out[4];
  size_t got;
  CHECK_STATUS(fer__inflate(FER__INFLATE_RAW, (const uint8_t *)"\x03\x00", 2, out,
                            4, &got),
               FER_ERR_OUT_OF_MEMORY);
  fer__alloc_fail_after(0);
  CHECK_OK(fer__inflate(FER__INFLATE_RAW, (const uint8_t *)"\x03\x00", 2, out, 4, &got));
  CHECK_EQ_INT(got, 0);
}

int main(void) {
  RUN(test_fixtures);
  RUN(test_truncation);
  RUN(test_stream_end);
  RUN(test_adler32);
  RUN(test_allocation_failure);
  return harness_finish();
}
