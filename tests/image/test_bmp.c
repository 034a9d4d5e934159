/* BMP: files from Pillow, ImageMagick and hand-built ones checked against
 * Pillow; round trips; truncation; hostile headers and RLE streams. */
#include "image_test_util.h"

#include "core/core_internal.h"
#include "util/endian.h"

static void test_reference_files(void) {
  /* Core, V3, V4, V5 headers; 1/4/8-bit palettes (gray, short); 16-bit
   * 555/565; 24; 32 (BI_RGB, bitfields); top-down; RLE8; RLE4. */
  CHECK_EQ_INT(check_manifest(".bmp"), 21);
}

static void test_round_trip(void) {
  for (int c = 1; c <= 3; c += 2)
    for (int w = 1; w <= 6; w++) { /* every row padding */
      fer_image *img = make_test_image(w, 5, c), *back = NULL;
      void *data = NULL;
      size_t size = 0;
      CHECK_OK(fer_image_encode(img, FER_IMAGE_FORMAT_BMP, &data, &size));
      size_t row = ((size_t)w * (c == 1 ? 8 : 24) + 31) / 32 * 4;
      CHECK_EQ_INT(size, 14 + 40 + (c == 1 ? 1024 : 0) + row * 5);
      CHECK_OK(fer_image_decode(data, size, 0, &back));
      CHECK_MSG(images_equal(img, back), "BMP round trip %dx5x%d", w, c);
      fer_free(data);
      fer_image_free(back);
      fer_image_free(img);
    }
}

static void test_truncation(void) {
  const char *names[] = {"codec/pil_24.bmp", "codec/pil_8gray.bmp", "codec/im_rle8.bmp",
                         "codec/hand_rle4.bmp", "codec/im_565_v5.bmp",
                         "codec/im_core4.bmp", "codec/hand_32_bitfields.bmp",
                         "codec/hand_24_topdown.bmp"};
  for (size_t i = 0; i < FER__ARRAY_LEN(names); i++) {
    size_t size;
    uint8_t *file = fixture_read(names[i], &size);
    /* Uncompressed files may end without the last row's padding. */
    /* RLE streams are complete once every row is written: the final
     * end-of-bitmap code may be missing. */
    size_t upto = size - 2;
    if (strstr(names[i], "rle") == NULL) {
      uint32_t bpp = fer__get_u16le(file + 28), w = fer__get_u32le(file + 18);
      if (fer__get_u32le(file + 14) == 12) {
        bpp = fer__get_u16le(file + 24);
        w = fer__get_u16le(file + 18);
      }
      upto = size - ((w * bpp + 31) / 32 * 4 - (w * bpp + 7) / 8);
    }
    CHECK_MSG(truncations_that_decode(file, size, upto) == 0, "%s", names[i]);
    free(file);
  }
}

/* A 40-byte-header file around caller-made pixel bytes. */
static size_t make_bmp(uint8_t *buf, int32_t w, int32_t h, int bpp,
                       uint32_t compression, uint32_t colours,
                       const uint8_t *palette, size_t palette_bytes,
                       const uint8_t *pixels, size_t pixel_bytes) {
  size_t offset = 54 + palette_bytes;
  memset(buf, 0, 54);
  buf[0] = 'B';
  buf[1] = 'M';
  fer__put_u32le(buf + 2, (uint32_t)(offset + pixel_bytes));
  fer__put_u32le(buf + 10, (uint32_t)offset);
  fer__put_u32le(buf + 14, 40);
  fer__put_u32le(buf + 18, (uint32_t)w);
  fer__put_u32le(buf + 22, (uint32_t)h);
  fer__put_u16le(buf + 26, 1);
  fer__put_u16le(buf + 28, (uint16_t)bpp);
  fer__put_u32le(buf + 30, compression);
  fer__put_u32le(buf + 46, colours);
  if (palette_bytes) memcpy(buf + 54, palette, palette_bytes);
  if (pixel_bytes) memcpy(buf + offset, pixels, pixel_bytes);
  return offset + pixel_bytes;
}

static void test_hostile_headers(void) {
  uint8_t buf[4096], px[64] = {0};
  fer_image *img = (fer_image *)1;
  size_t n = make_bmp(buf, 100000, 100000, 24, 0, 0, NULL, 0, px, 8);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_TOO_LARGE);
  CHECK(img == NULL);
  CHECK_MESSAGE_CONTAINS("BMP");
  n = make_bmp(buf, 8000, 8000, 24, 0, 0, NULL, 0, px, 8);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_TRUNCATED);
  CHECK_MESSAGE_CONTAINS("needs");
  n = make_bmp(buf, -4, 4, 24, 0, 0, NULL, 0, px, 64);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_FORMAT);
  n = make_bmp(buf, 4, INT32_MIN, 24, 0, 0, NULL, 0, px, 64);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_TOO_LARGE);
  n = make_bmp(buf, 2, 2, 24, 4, 0, NULL, 0, px, 16);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("JPEG");
  n = make_bmp(buf, 2, 2, 24, 1, 0, NULL, 0, px, 16);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_FORMAT);
  n = make_bmp(buf, 2, 2, 7, 0, 0, NULL, 0, px, 16);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_FORMAT);
  n = make_bmp(buf, 2, 2, 24, 0, 0, NULL, 0, px, 16);
  fer__put_u32le(buf + 10, 5000); /* pixels past the end of the file */
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_TRUNCATED);
  fer__put_u32le(buf + 10, 20); /* pixels inside the header */
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_FORMAT);
  n = make_bmp(buf, 2, 2, 24, 0, 0, NULL, 0, px, 16);
  fer__put_u32le(buf + 14, 77); /* unknown header size */
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_FORMAT);
  n = make_bmp(buf, 2, 2, 24, 0, 0, NULL, 0, px, 16);
  fer__put_u16le(buf + 26, 3); /* planes */
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_FORMAT);
  /* A palette announced with 4 billion colours but holding two: the two
   * that fit before the pixels are used. */
  uint8_t pal[8] = {0, 0, 255, 0, 255, 0, 0, 0}; /* red, blue */
  uint8_t idx[8] = {0, 1, 0, 0, 1, 0, 0, 0};
  n = make_bmp(buf, 2, 2, 8, 0, 0xFFFFFFFFu, pal, 8, idx, 8);
  CHECK_OK(fer_image_decode(buf, n, 0, &img));
  if (img) {
    /* Bottom-up: stored row 0 (red, blue) is the bottom row. */
    const uint8_t *p = pixel_at(img, 0, 1);
    CHECK(fer_image_channels(img) == 3 && p[0] == 255 && p[2] == 0);
    CHECK(pixel_at(img, 1, 1)[2] == 255);
  }
  fer_image_free(img);
  /* An index past a short palette is black. */
  idx[0] = 200;
  n = make_bmp(buf, 2, 2, 8, 0, 2, pal, 8, idx, 8);
  CHECK_OK(fer_image_decode(buf, n, 0, &img));
  if (img) CHECK(pixel_at(img, 0, 1)[0] == 0 && pixel_at(img, 0, 1)[2] == 0);
  fer_image_free(img);
}

static void test_hostile_rle(void) {
  uint8_t buf[4096], pal[8] = {0, 0, 255, 0, 255, 0, 0, 0};
  fer_image *img = NULL;
  /* Missing end-of-bitmap code. */
  uint8_t cut[] = {2, 1, 0, 0};
  size_t n = make_bmp(buf, 2, 2, 8, 1, 2, pal, 8, cut, sizeof cut);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_TRUNCATED);
  CHECK_MESSAGE_CONTAINS("end-of-bitmap");
  /* A literal run longer than the data. */
  uint8_t literal[] = {0, 9, 1, 1};
  n = make_bmp(buf, 2, 2, 8, 1, 2, pal, 8, literal, sizeof literal);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_TRUNCATED);
  /* Runs, jumps and end-of-lines past the edges are clipped, not written. */
  uint8_t wild[] = {255, 1, 0, 2, 200, 200, 0, 0, 0, 0, 0, 0, 0, 1};
  n = make_bmp(buf, 2, 2, 8, 1, 2, pal, 8, wild, sizeof wild);
  CHECK_OK(fer_image_decode(buf, n, 0, &img));
  if (img) CHECK(pixel_at(img, 0, 1)[2] == 255 && pixel_at(img, 1, 1)[2] == 255);
  fer_image_free(img);
  /* RLE must be bottom-up. */
  uint8_t ok[] = {2, 1, 0, 0, 2, 0, 0, 1};
  n = make_bmp(buf, 2, -2, 8, 1, 2, pal, 8, ok, sizeof ok);
  CHECK_STATUS(fer_image_decode(buf, n, 0, &img), FER_ERR_FORMAT);
  /* RLE4: a run alternates the two nibbles; a literal run of 3 nibbles
   * takes 2 bytes plus padding to 16 bits (none needed here). */
  uint8_t pal4[12] = {0, 0, 0, 0, 0, 0, 255, 0, 255, 255, 255, 0};
  uint8_t rle4[] = {3, 0x12, 0, 0, 0, 3, 0x21, 0x00, 0, 1};
  n = make_bmp(buf, 3, 2, 4, 2, 3, pal4, 12, rle4, sizeof rle4);
  CHECK_OK(fer_image_decode(buf, n, 0, &img));
  if (img) {
    /* bottom row: 1 2 1 = red white red; top row: 2 1 0 */
    CHECK(pixel_at(img, 0, 1)[0] == 255 && pixel_at(img, 0, 1)[1] == 0);
    CHECK(pixel_at(img, 1, 1)[1] == 255);
    CHECK(pixel_at(img, 2, 1)[0] == 255 && pixel_at(img, 2, 1)[1] == 0);
    CHECK(pixel_at(img, 0, 0)[1] == 255 && pixel_at(img, 1, 0)[1] == 0 &&
          pixel_at(img, 2, 0)[0] == 0);
  }
  fer_image_free(img);
}

static void test_allocation_failures(void) {
  size_t size;
  uint8_t *file = fixture_read("codec/im_rle8.bmp", &size);
  int failures = 0, n;
  for (n = 1; n < 20; n++) {
    fer_image *img = NULL;
    fer__alloc_fail_after(n);
    fer_status st = fer_image_decode(file, size, 0, &img);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    fer_image_free(img);
    if (st == FER_OK) break;
    failures++;
  }
  CHECK(failures >= 2 && n < 20);
  free(file);
}

int main(void) {
  RUN(test_reference_files);
  RUN(test_round_trip);
  RUN(test_truncation);
  RUN(test_hostile_headers);
  RUN(test_hostile_rle);
  RUN(test_allocation_failures);
  return harness_finish();
}
