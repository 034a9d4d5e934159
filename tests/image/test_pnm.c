/* PNM: files from Pillow and ImageMagick, round trips, truncation, hostile
 * headers, allocation failures. */
#include "image_test_util.h"

#include "core/core_internal.h"

static void test_reference_files(void) {
  /* P1..P6, 16-bit and maxval-1000 files, comments in headers. */
  CHECK_EQ_INT(check_manifest(".pbm .pgm .ppm .pnm"), 8);
}

static void test_round_trip(void) {
  for (int c = 1; c <= 3; c += 2) {
    fer_image *img = make_test_image(17, 9, c), *back = NULL;
    void *data = NULL;
    size_t size = 0;
    CHECK_OK(fer_image_encode(img, FER_IMAGE_FORMAT_PNM, &data, &size));
    const char *header = c == 1 ? "P5\n17 9\n255\n" : "P6\n17 9\n255\n";
    CHECK(size == strlen(header) + 17 * 9 * (size_t)c);
    CHECK(data && memcmp(data, header, strlen(header)) == 0);
    CHECK_OK(fer_image_decode(data, size, 0, &back));
    CHECK(images_equal(img, back));
    fer_free(data);
    fer_image_free(back);
    fer_image_free(img);
  }
}

static void test_encoder_matches_pillow(void) {
  /* Pillow writes binary PNM exactly as libfer does: re-encoding its files
   * must give the same bytes. */
  const char *names[] = {"codec/pil_p6.ppm", "codec/pil_p5.pgm"};
  for (size_t i = 0; i < 2; i++) {
    size_t size;
    uint8_t *file = fixture_read(names[i], &size);
    fer_image *img = NULL;
    void *data = NULL;
    size_t out_size = 0;
    CHECK_OK(fer_image_decode(file, size, 0, &img));
    CHECK_OK(fer_image_encode(img, FER_IMAGE_FORMAT_PNM, &data, &out_size));
    CHECK_MSG(out_size == size && memcmp(data, file, size) == 0,
              "%s re-encoded differs", names[i]);
    fer_free(data);
    fer_image_free(img);
    free(file);
  }
}

static void test_truncation(void) {
  const char *binary[] = {"codec/pil_p6.ppm", "codec/pil_p5.pgm", "codec/pil_p4.pbm",
                          "codec/im_p5_16bit.pgm", "codec/hand_p6_maxval1000.ppm"};
  for (size_t i = 0; i < FER__ARRAY_LEN(binary); i++) {
    size_t size;
    uint8_t *file = fixture_read(binary[i], &size);
    CHECK_MSG(truncations_that_decode(file, size, size) == 0, "%s", binary[i]);
    free(file);
  }
  /* ASCII files: a cut inside the last number still reads as a (smaller)
   * number, so only cuts before the last token must fail. */
  const char *ascii[] = {"codec/im_p3.ppm", "codec/im_p2.pgm", "codec/im_p1.pbm"};
  for (size_t i = 0; i < FER__ARRAY_LEN(ascii); i++) {
    size_t size;
    uint8_t *file = fixture_read(ascii[i], &size);
    size_t last = size;
    while (last > 0 && (file[last - 1] < '0' || file[last - 1] > '9')) last--;
    while (last > 0 && file[last - 1] >= '0' && file[last - 1] <= '9') last--;
    CHECK_MSG(truncations_that_decode(file, size, last) == 0, "%s", ascii[i]);
    free(file);
  }
}

static fer_status decode_text(const char *text, fer_image **img) {
  return fer_image_decode(text, strlen(text), 0, img);
}

static void test_hostile_headers(void) {
  fer_image *img = NULL;
  CHECK_STATUS(decode_text("P5 100000 100000 255\n", &img), FER_ERR_TOO_LARGE);
  CHECK(img == NULL);
  CHECK_MESSAGE_CONTAINS("PNM");
  CHECK_STATUS(decode_text("P6 99999999999999999999999 1 255\n", &img), FER_ERR_TOO_LARGE);
  CHECK_STATUS(decode_text("P5 30000 30000 255\n", &img), FER_ERR_TOO_LARGE);
  CHECK_STATUS(decode_text("P5 0 5 255\n", &img), FER_ERR_FORMAT);
  CHECK_STATUS(decode_text("P5 2 2 0\n\1\1\1\1", &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("maxval");
  CHECK_STATUS(decode_text("P5 2 2 70000\n", &img), FER_ERR_FORMAT);
  CHECK_STATUS(decode_text("P5 2 -2 255\n", &img), FER_ERR_FORMAT);
  CHECK_STATUS(decode_text("P5 2 2 255X\1\1\1\1", &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("whitespace");
  CHECK_STATUS(decode_text("P5 2 2 255\n\1\1\1", &img), FER_ERR_TRUNCATED);
  CHECK_MESSAGE_CONTAINS("needs 4 bytes");
  CHECK_STATUS(decode_text("P5 2 1 7\n\7\10", &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("above maxval");
  CHECK_STATUS(decode_text("P2 2 1 7\n7 8\n", &img), FER_ERR_FORMAT);
  CHECK_STATUS(decode_text("P2 2 1 7\n7 x\n", &img), FER_ERR_FORMAT);
  CHECK_STATUS(decode_text("P1 3 1\n012\n", &img), FER_ERR_FORMAT);
  CHECK_STATUS(decode_text("P3 1 1 255 1 2", &img), FER_ERR_TRUNCATED);
  CHECK_STATUS(decode_text("P3 100 100 255 1 2 3", &img), FER_ERR_TRUNCATED);
  CHECK(img == NULL);
  /* The 8-bit scaling rule on a tiny file: round(v * 255 / 3). */
  CHECK_OK(decode_text("P2\n4 1\n3\n0 1 2 3", &img));
  if (img) {
    const uint8_t *p = fer_image_data(img);
    CHECK(p[0] == 0 && p[1] == 85 && p[2] == 170 && p[3] == 255);
  }
  fer_image_free(img);
  /* Bitmap digits without separators, 1 = black. */
  CHECK_OK(decode_text("P1 4 1 0110", &img));
  if (img) {
    const uint8_t *p = fer_image_data(img);
    CHECK(p[0] == 255 && p[1] == 0 && p[2] == 0 && p[3] == 255);
  }
  fer_image_free(img);
}

static void test_allocation_failures(void) {
  size_t size;
  uint8_t *file = fixture_read("codec/im_p3.ppm", &size);
  int failures = 0, n;
  for (n = 1; n < 20; n++) {
    fer_image *img = NULL;
    fer__alloc_fail_after(n);
    fer_status st = fer_image_decode(file, size, FER_DECODE_GRAY, &img);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    fer_image_free(img);
    if (st == FER_OK) break;
    failures++;
  }
  CHECK(failures >= 2 && n < 20); /* decode + gray conversion both failed */
  fer_image *img = make_test_image(5, 4, 3);
  for (n = 1; n < 10; n++) {
    void *data = NULL;
    size_t out_size;
    fer__alloc_fail_after(n);
    fer_status st = fer_image_encode(img, FER_IMAGE_FORMAT_PNM, &data, &out_size);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || (st == FER_ERR_OUT_OF_MEMORY && data == NULL));
    fer_free(data);
    if (st == FER_OK) break;
  }
  fer_image_free(img);
  free(file);
}

int main(void) {
  RUN(test_reference_files);
  RUN(test_round_trip);
  RUN(test_encoder_matches_pillow);
  RUN(test_truncation);
  RUN(test_hostile_headers);
  RUN(test_allocation_failures);
  return harness_finish();
}
