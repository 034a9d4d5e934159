/* PNG decoder against files written by PIL and ImageMagick (reference
 * pixels decoded by PIL, tests/fixtures/png/make_fixtures.py), hostile input,
 * and the encoder read back by our decoder and by PIL. */
#include "harness.h"

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "png_test_util.h"
#include "util/buffer.h"
#include "util/crc32.h"

static const char *python;

static void fixture_path(char *buf, size_t cap, const char *name) {
  snprintf(buf, cap, "%s/png/%s", harness_fixtures(), name);
}

/* Pixels of `img` equal the raw file's rows. Returns 1 when identical. */
static int same_pixels(const fer_image *img, const uint8_t *raw, size_t raw_size,
                       int w, int h, int c) {
  if (fer_image_width(img) != w || fer_image_height(img) != h ||
      fer_image_channels(img) != c || raw_size != (size_t)w * h * c)
    return 0;
  for (int y = 0; y < h; y++)
    if (memcmp(fer_image_data(img) + (size_t)y * fer_image_stride(img),
               raw + (size_t)y * w * c, (size_t)w * c) != 0)
      return 0;
  return 1;
}

static void test_fixtures(void) {
  char path[4096];
  fixture_path(path, sizeof path, "manifest.txt");
  FILE *m = fopen(path, "r");
  CHECK_MSG(m != NULL, "cannot open %s", path);
  if (!m) return;
  char line[512];
  int count = 0;
  while (fgets(line, sizeof line, m)) {
    char name[256];
    int w, h, c, type, depth, interlace;
    if (line[0] == '#') continue;
    if (sscanf(line, "%255s %d %d %d %d %d %d", name, &w, &h, &c, &type, &depth,
               &interlace) != 7)
      continue;
    size_t png_size = 0, raw_size = 0;
    fixture_path(path, sizeof path, name);
    uint8_t *png = util_read_file(path, &png_size);
    strcpy(path + strlen(path) - 4, ".raw");
    uint8_t *raw = util_read_file(path, &raw_size);
    CHECK_MSG(png && raw, "%s: fixture missing", name);
    if (png && raw) {
      fer_image *img = NULL;
      CHECK(fer__png_sniff(png, png_size));
      fer_status st = fer__png_decode(png, png_size, &img);
      CHECK_MSG(st == FER_OK, "%s: %s (%s)", name, fer_status_string(st),
                fer_last_error());
      if (img)
        CHECK_MSG(same_pixels(img, raw, raw_size, w, h, c),
                  "%s: pixels differ from PIL's", name);
      fer_image_free(img);
      count++;
    }
    free(png);
    free(raw);
  }
  fclose(m);
  CHECK(count >= 25);
}

/* ---- Hand-made files ------------------------------------------------------ */

static void put_chunk(fer__buf *b, const char *type, const uint8_t *body,
                      size_t n) {
  fer__buf_u32be(b, (uint32_t)n);
  size_t at = b->size;
  fer__buf_append(b, type, 4);
  fer__buf_append(b, body, n);
  fer__buf_u32be(b, fer__crc32(0, b->data + at, n + 4));
}

static void put_ihdr(fer__buf *b, uint32_t w, uint32_t h, int depth, int type,
                     int interlace) {
  uint8_t ihdr[13] = {(uint8_t)(w >> 24), (uint8_t)(w >> 16), (uint8_t)(w >> 8),
                      (uint8_t)w, (uint8_t)(h >> 24), (uint8_t)(h >> 16),
                      (uint8_t)(h >> 8), (uint8_t)h, (uint8_t)depth,
                      (uint8_t)type, 0, 0, (uint8_t)interlace};
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  fer__buf_append(b, sig, 8);
  put_chunk(b, "IHDR", ihdr, 13);
}

/* An 8-bit gray PNG whose scanlines (filter bytes included) are `rows`. */
static void make_gray(fer__buf *b, uint32_t w, uint32_t h, const uint8_t *rows,
                      size_t n) {
  size_t zsize;
  uint8_t *z = util_zlib_stored(rows, n, &zsize);
  fer__buf_init(b);
  put_ihdr(b, w, h, 8, 0, 0);
  put_chunk(b, "IDAT", z, zsize);
  put_chunk(b, "IEND", NULL, 0);
  free(z);
}

static fer_status decode(const fer__buf *b) {
  fer_image *img = (fer_image *)1;
  fer_status st = fer__png_decode(b->data, b->size, &img);
  if (st != FER_OK) CHECK(img == NULL);
  fer_image_free(img);
  return st;
}

static void test_hand_made(void) {
  /* 3x2 gray, rows filtered with Sub then Up: values checked by hand. */
  uint8_t rows[] = {1, 10, 5, 5, 2, 1, 2, 3};
  fer__buf b;
  make_gray(&b, 3, 2, rows, sizeof rows);
  fer_image *img = NULL;
  CHECK_OK(fer__png_decode(b.data, b.size, &img));
  if (img) {
    const uint8_t want[6] = {10, 15, 20, 11, 17, 23};
    CHECK(memcmp(fer_image_data(img), want, 3) == 0);
    CHECK(memcmp(fer_image_data(img) + fer_image_stride(img), want + 3, 3) == 0);
  }
  fer_image_free(img);
  fer__buf_release(&b);

  /* A filter byte of 5 is invalid. */
  rows[4] = 5;
  make_gray(&b, 3, 2, rows, sizeof rows);
  CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("filter");
  fer__buf_release(&b);
  rows[4] = 2;

  /* Too little and too much image data. */
  make_gray(&b, 3, 2, rows, sizeof rows - 1);
  CHECK_STATUS(decode(&b), FER_ERR_TRUNCATED);
  fer__buf_release(&b);
  uint8_t more[9] = {1, 10, 5, 5, 2, 1, 2, 3, 0};
  make_gray(&b, 3, 2, more, sizeof more);
  CHECK_STATUS(decode(&b), FER_ERR_TOO_LARGE);
  CHECK_MESSAGE_CONTAINS("IDAT");
  fer__buf_release(&b);
}

static void test_bad_headers(void) {
  fer__buf b;
  /* 100000 x 100000: refused from the header, before any allocation (the
   * allocation counter would trip on one: fail every allocation). */
  fer__buf_init(&b);
  put_ihdr(&b, 100000, 100000, 8, 0, 0);
  put_chunk(&b, "IDAT", (const uint8_t *)"\x78\x01", 2);
  put_chunk(&b, "IEND", NULL, 0);
  fer__alloc_fail_after(1);
  CHECK_STATUS(decode(&b), FER_ERR_TOO_LARGE);
  fer__alloc_fail_after(0);
  CHECK_MESSAGE_CONTAINS("100000x100000");
  fer__buf_release(&b);
  /* Within the side limit but too many pixels. */
  fer__buf_init(&b);
  put_ihdr(&b, 30000, 30000, 8, 2, 0);
  put_chunk(&b, "IEND", NULL, 0);
  CHECK_STATUS(decode(&b), FER_ERR_TOO_LARGE);
  fer__buf_release(&b);
  /* Zero sizes. */
  for (int i = 0; i < 2; i++) {
    fer__buf_init(&b);
    put_ihdr(&b, i ? 5 : 0, i ? 0 : 5, 8, 0, 0);
    put_chunk(&b, "IEND", NULL, 0);
    CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
    CHECK_MESSAGE_CONTAINS("empty");
    fer__buf_release(&b);
  }
  /* Invalid depth for the colour type, invalid colour type, interlace 2. */
  int bad[][3] = {{4, 2, 0}, {16, 3, 0}, {8, 5, 0}, {8, 0, 2}, {3, 0, 0}};
  for (size_t i = 0; i < FER__ARRAY_LEN(bad); i++) {
    fer__buf_init(&b);
    put_ihdr(&b, 4, 4, bad[i][0], bad[i][1], bad[i][2]);
    put_chunk(&b, "IEND", NULL, 0);
    CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
    CHECK_MESSAGE_CONTAINS("IHDR");
    fer__buf_release(&b);
  }
}

static void test_chunk_rules(void) {
  uint8_t rows[] = {0, 1, 2, 3};
  size_t zsize;
  uint8_t *z = util_zlib_stored(rows, sizeof rows, &zsize);
  const uint8_t plte[6] = {1, 2, 3, 4, 5, 6};
  fer__buf b;

  /* An unknown ancillary chunk is skipped; an unknown critical one is not. */
  fer__buf_init(&b);
  put_ihdr(&b, 3, 1, 8, 0, 0);
  put_chunk(&b, "abCd", rows, 4);
  put_chunk(&b, "IDAT", z, zsize);
  put_chunk(&b, "IEND", NULL, 0);
  CHECK_OK(decode(&b));
  fer__buf_release(&b);
  fer__buf_init(&b);
  put_ihdr(&b, 3, 1, 8, 0, 0);
  put_chunk(&b, "ABCD", rows, 4);
  put_chunk(&b, "IDAT", z, zsize);
  put_chunk(&b, "IEND", NULL, 0);
  CHECK_STATUS(decode(&b), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("ABCD");
  fer__buf_release(&b);

  /* IDAT split by another chunk. */
  fer__buf_init(&b);
  put_ihdr(&b, 3, 1, 8, 0, 0);
  put_chunk(&b, "IDAT", z, 3);
  put_chunk(&b, "tEXt", (const uint8_t *)"a\0b", 3);
  put_chunk(&b, "IDAT", z + 3, zsize - 3);
  put_chunk(&b, "IEND", NULL, 0);
  CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("consecutive");
  fer__buf_release(&b);

  /* Palette image: PLTE missing, PLTE after IDAT, index beyond PLTE. */
  fer__buf_init(&b);
  put_ihdr(&b, 3, 1, 8, 3, 0);
  put_chunk(&b, "IDAT", z, zsize);
  put_chunk(&b, "IEND", NULL, 0);
  CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("PLTE");
  fer__buf_release(&b);
  fer__buf_init(&b);
  put_ihdr(&b, 3, 1, 8, 2, 0);
  put_chunk(&b, "IDAT", z, zsize);
  put_chunk(&b, "PLTE", plte, 6);
  put_chunk(&b, "IEND", NULL, 0);
  CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("PLTE after IDAT");
  fer__buf_release(&b);
  fer__buf_init(&b);
  put_ihdr(&b, 3, 1, 8, 3, 0);
  put_chunk(&b, "PLTE", plte, 6);
  put_chunk(&b, "IDAT", z, zsize); /* index 2 with 2 entries */
  put_chunk(&b, "IEND", NULL, 0);
  CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("palette index 2");
  fer__buf_release(&b);

  /* A first chunk that is not IHDR; a second IHDR; IEND before IDAT. */
  fer__buf_init(&b);
  fer__buf_append(&b, "\x89PNG\r\n\x1a\n", 8);
  put_chunk(&b, "IDAT", z, zsize);
  CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("IHDR");
  fer__buf_release(&b);
  fer__buf_init(&b);
  put_ihdr(&b, 3, 1, 8, 0, 0);
  put_ihdr(&b, 3, 1, 8, 0, 0);
  CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
  fer__buf_release(&b);
  fer__buf_init(&b);
  put_ihdr(&b, 3, 1, 8, 0, 0);
  put_chunk(&b, "IEND", NULL, 0);
  CHECK_STATUS(decode(&b), FER_ERR_FORMAT);
  fer__buf_release(&b);
  free(z);
}

static void test_corruption(void) {
  char path[4096];
  size_t size;
  fixture_path(path, sizeof path, "adam7_rgb8_3x2.png");
  uint8_t *png = util_read_file(path, &size);
  CHECK(png != NULL);
  if (!png) return;
  /* Every truncation fails cleanly (ASan watches the reads). */
  int all_failed = 1;
  for (size_t n = 0; n < size; n++) {
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, png, n);
    fer_image *img = NULL;
    fer_status st = fer__png_decode(copy, n, &img);
    if (st == FER_OK || img) all_failed = 0;
    fer_image_free(img);
    free(copy);
  }
  CHECK(all_failed);
  /* A flipped bit anywhere after the signature is caught, mostly by the
   * CRC; the result is an error status, never a crash. */
  int checksum_errors = 0;
  for (size_t i = 8; i < size; i++) {
    png[i] ^= 0x10;
    fer_image *img = NULL;
    fer_status st = fer__png_decode(png, size, &img);
    if (st == FER_ERR_CHECKSUM) checksum_errors++;
    CHECK(st != FER_OK || i >= size - 12); /* bits after IEND's are unread */
    fer_image_free(img);
    png[i] ^= 0x10;
  }
  CHECK(checksum_errors > 0);
  /* The IHDR CRC itself. */
  png[29] ^= 1;
  fer_image *img = NULL;
  CHECK_STATUS(fer__png_decode(png, size, &img), FER_ERR_CHECKSUM);
  CHECK_MESSAGE_CONTAINS("IHDR");
  free(png);
}

static void test_allocation_failures(void) {
  char path[4096];
  size_t size;
  fixture_path(path, sizeof path, "multi_idat_rgb8_48x32.png");
  uint8_t *png = util_read_file(path, &size);
  if (!png) return;
  for (long n = 1; n < 20; n++) {
    fer_image *img = NULL;
    fer__alloc_fail_after(n);
    fer_status st = fer__png_decode(png, size, &img);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    CHECK((st == FER_OK) == (img != NULL));
    fer_image_free(img);
  }
  free(png);
}

/* ---- Encoder ---------------------------------------------------------------- */

static fer_image *make_image(int w, int h, int c, int kind) {
  fer_image *img = NULL;
  fer_image_create(w, h, c, &img);
  uint8_t *p = fer_image_data_mutable(img);
  uint32_t s = (uint32_t)(w * 31 + h * 7 + c + kind);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w * c; x++) {
      s = s * 1103515245u + 12345u;
      uint8_t v = kind == 0 ? (uint8_t)(s >> 16)
                            : (uint8_t)(x * 3 + y * 2 + ((s >> 16) & 3));
      p[(size_t)y * fer_image_stride(img) + x] = v;
    }
  return img;
}

static int images_equal(const fer_image *a, const fer_image *b) {
  if (fer_image_width(a) != fer_image_width(b) ||
      fer_image_height(a) != fer_image_height(b) ||
      fer_image_channels(a) != fer_image_channels(b))
    return 0;
  size_t row = (size_t)fer_image_width(a) * fer_image_channels(a);
  for (int y = 0; y < fer_image_height(a); y++)
    if (memcmp(fer_image_data(a) + y * fer_image_stride(a),
               fer_image_data(b) + y * fer_image_stride(b), row) != 0)
      return 0;
  return 1;
}

static void test_encoder(void) {
  const int sizes[][2] = {{1, 1}, {37, 23}, {64, 48}, {5, 300}};
  enum { CASES = 4 * 2 * 2 };
  fer_image *images[CASES];
  int n = 0;
  FILE *list = python ? fopen("test_png_list.txt", "w") : NULL;
  for (size_t i = 0; i < FER__ARRAY_LEN(sizes); i++)
    for (int c = 1; c <= 3; c += 2)
      for (int kind = 0; kind < 2; kind++, n++) {
        fer_image *img = images[n] = make_image(sizes[i][0], sizes[i][1], c, kind);
        fer__buf out;
        fer__buf_init(&out);
        CHECK_OK(fer__png_encode(img, &out));
        fer_image *back = NULL;
        CHECK_OK(fer__png_decode(out.data, out.size, &back));
        CHECK_MSG(back && images_equal(img, back), "%dx%dx%d kind %d",
                  sizes[i][0], sizes[i][1], c, kind);
        fer_image_free(back);
        if (list) {
          char name[64];
          snprintf(name, sizeof name, "test_png_enc_%d.png", n);
          CHECK(util_write_file(name, out.data, out.size));
          fprintf(list, "%s test_png_enc_%d.raw\n", name, n);
        }
        fer__buf_release(&out);
      }
  if (list) {
    /* One Python run decodes every file with PIL. */
    fclose(list);
    char cmd[8192];
    snprintf(cmd, sizeof cmd,
             "%s -c \"from PIL import Image\nfor line in open('test_png_list.txt'):\n"
             "    png, raw = line.split()\n    im = Image.open(png)\n    im.load()\n"
             "    open(raw, 'wb').write(im.tobytes())\"",
             python);
    CHECK_MSG(system(cmd) == 0, "PIL could not read our PNG files");
    for (int k = 0; k < n; k++) {
      char name[64];
      size_t raw_size;
      snprintf(name, sizeof name, "test_png_enc_%d.raw", k);
      uint8_t *raw = util_read_file(name, &raw_size);
      const fer_image *img = images[k];
      CHECK_MSG(raw && same_pixels(img, raw, raw_size, fer_image_width(img),
                                   fer_image_height(img), fer_image_channels(img)),
                "PIL reads other pixels from test_png_enc_%d.png", k);
      free(raw);
      remove(name);
      snprintf(name, sizeof name, "test_png_enc_%d.png", k);
      remove(name);
    }
    remove("test_png_list.txt");
  } else {
    fprintf(stderr, "note: python3 with PIL not found, encoder output not "
            "checked with PIL\n");
  }
  for (int k = 0; k < n; k++) fer_image_free(images[k]);
}

/* Through the public API: fer_image_decode recognises PNG, and
 * fer_image_encode(FER_IMAGE_FORMAT_PNG) writes what it reads back. */
static void test_public_api(void) {
  char path[4096];
  size_t size;
  fixture_path(path, sizeof path, "adam7_rgb8_37x23.png");
  uint8_t *png = util_read_file(path, &size);
  CHECK(png != NULL);
  if (!png) return;
  fer_image *img = NULL, *back = NULL;
  CHECK_OK(fer_image_decode(png, size, FER_DECODE_DEFAULT, &img));
  void *data = NULL;
  size_t data_size = 0;
  if (img) CHECK_OK(fer_image_encode(img, FER_IMAGE_FORMAT_PNG, &data, &data_size));
  if (data) CHECK_OK(fer_image_decode(data, data_size, FER_DECODE_DEFAULT, &back));
  CHECK(img && back && images_equal(img, back));
  fer_free(data);
  fer_image_free(back);
  fer_image_free(img);
  free(png);
}

int main(int argc, char **argv) {
  python = util_python(argc, argv);
  if (python) {
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "%s -c 'import PIL' 2>/dev/null", python);
    if (system(cmd) != 0) python = NULL;
  }
  RUN(test_fixtures);
  RUN(test_hand_made);
  RUN(test_bad_headers);
  RUN(test_chunk_rules);
  RUN(test_corruption);
  RUN(test_allocation_failures);
  RUN(test_encoder);
  RUN(test_public_api);
  return harness_finish();
}
