/* The image handle, conversion and geometry, EXIF orientation, and the
 * codec dispatch (decode by content, load, encode, save). */
#include <unistd.h>

#include "image_test_util.h"

#include "core/core_internal.h"
#include "image/image_internal.h"

static void test_handle(void) {
  fer_image *img = (fer_image *)1;
  CHECK_STATUS(fer_image_create(0, 3, 1, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK(img == NULL);
  CHECK_STATUS(fer_image_create(3, 3, 2, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_create(FER_IMAGE_MAX_SIDE + 1, 1, 1, &img), FER_ERR_TOO_LARGE);
  CHECK_EQ_INT(fer_image_max_side(), FER_IMAGE_MAX_SIDE);
  CHECK_EQ_INT(fer_image_max_pixels(), FER_IMAGE_MAX_PIXELS);
  CHECK_OK(fer_image_create(4, 3, 3, &img));
  CHECK_EQ_INT(fer_image_width(img), 4);
  CHECK_EQ_INT(fer_image_height(img), 3);
  CHECK_EQ_INT(fer_image_channels(img), 3);
  CHECK_EQ_INT(fer_image_stride(img), 12);
  CHECK_EQ_INT(fer_image_orientation(img), 1);
  int zero = 1;
  for (int i = 0; i < 36; i++) zero &= fer_image_data(img)[i] == 0;
  CHECK(zero);
  fer_image *copy = NULL;
  fer_image_data_mutable(img)[5] = 9;
  CHECK_OK(fer_image_clone(img, &copy));
  CHECK(images_equal(img, copy));
  fer_image_free(copy);
  fer_image_free(img);
  fer_image_free(NULL);
}

static void test_misuse(void) {
  /* fer_image_free() clears the magic number before releasing the memory,
   * so a freed handle looks like this zeroed one (reading real freed memory
   * would be undefined behaviour in the test itself). */
  struct fer_image dead;
  memset(&dead, 0, sizeof dead);
  fer_image *out = (fer_image *)1;
  CHECK_STATUS(fer_image_clone(&dead, &out), FER_ERR_MISUSE);
  CHECK(out == NULL);
  CHECK_MESSAGE_CONTAINS("freed");
  CHECK_STATUS(fer_image_clone(NULL, &out), FER_ERR_MISUSE);
  CHECK_STATUS(fer_image_to_gray(&dead, &out), FER_ERR_MISUSE);
  CHECK_STATUS(fer_image_to_rgb(NULL, &out), FER_ERR_MISUSE);
  CHECK_STATUS(fer_image_resize(&dead, 4, 4, FER_RESIZE_AREA, &out), FER_ERR_MISUSE);
  CHECK_STATUS(fer_image_flip_horizontal(&dead), FER_ERR_MISUSE);
  fer_rect r = {0, 0, 1, 1};
  CHECK_STATUS(fer_image_crop(NULL, &r, &out), FER_ERR_MISUSE);
  CHECK_STATUS(fer_image_draw_rect(&dead, &r, 0, 1), FER_ERR_MISUSE);
  CHECK_STATUS(fer_image_fill_rect(NULL, &r, 0), FER_ERR_MISUSE);
  CHECK_STATUS(fer_image_draw_text(&dead, 0, 0, "x", 1, 0), FER_ERR_MISUSE);
  void *data = (void *)1;
  size_t size = 1;
  CHECK_STATUS(fer_image_encode(&dead, FER_IMAGE_FORMAT_PNM, &data, &size), FER_ERR_MISUSE);
  CHECK(data == NULL && size == 0);
  CHECK_STATUS(fer_image_save(NULL, "x.pgm", FER_IMAGE_FORMAT_AUTO), FER_ERR_MISUSE);
  CHECK_EQ_INT(fer_image_width(&dead), 0);
  CHECK(fer_image_data(NULL) == NULL);
  fer_image_free(&dead); /* ignored: not a live image */
}

static void test_gray_against_opencv(void) {
  size_t n, m;
  uint8_t *rgb = fixture_read("gray/rgb_32x32.rgb", &n);
  uint8_t *want = fixture_read("gray/rgb_32x32.gray", &m);
  CHECK(rgb && want && n == 32 * 32 * 3 && m == 32 * 32);
  fer_image *img = NULL, *gray = NULL;
  CHECK_OK(fer_image_from_pixels(rgb, 32, 32, 0, FER_PIXEL_RGB24, &img));
  CHECK_OK(fer_image_to_gray(img, &gray));
  CHECK(gray && fer_image_channels(gray) == 1 && memcmp(fer_image_data(gray), want, m) == 0);
  /* Gray of gray is a copy; RGB of gray replicates. */
  fer_image *again = NULL, *rgb3 = NULL;
  CHECK_OK(fer_image_to_gray(gray, &again));
  CHECK(images_equal(gray, again));
  CHECK_OK(fer_image_to_rgb(gray, &rgb3));
  int ok = fer_image_channels(rgb3) == 3;
  for (int i = 0; ok && i < 32 * 32; i++)
    ok = fer_image_data(rgb3)[3 * i] == want[i] && fer_image_data(rgb3)[3 * i + 2] == want[i];
  CHECK(ok);
  fer_image_free(again);
  again = NULL;
  CHECK_OK(fer_image_to_rgb(rgb3, &again));
  CHECK(images_equal(rgb3, again));
  fer_image_free(again);
  fer_image_free(rgb3);
  fer_image_free(gray);
  fer_image_free(img);
  free(rgb);
  free(want);
}

static void test_crop_and_flip(void) {
  fer_image *img = make_test_image(10, 6, 3), *part = NULL;
  fer_rect r = {-3, 2, 6, 100}; /* clipped to x 0..2, y 2..5 */
  CHECK_OK(fer_image_crop(img, &r, &part));
  CHECK(part && fer_image_width(part) == 3 && fer_image_height(part) == 4);
  int ok = 1;
  for (int y = 0; part && y < 4; y++)
    for (int x = 0; x < 3; x++) ok &= memcmp(pixel_at(part, x, y), pixel_at(img, x, y + 2), 3) == 0;
  CHECK(ok);
  fer_image_free(part);
  fer_rect outside = {10, 0, 5, 5};
  part = (fer_image *)1;
  CHECK_STATUS(fer_image_crop(img, &outside, &part), FER_ERR_INVALID_ARGUMENT);
  CHECK(part == NULL);
  CHECK_MESSAGE_CONTAINS("does not overlap");
  fer_rect huge = {INT32_MAX - 1, INT32_MAX - 1, INT32_MAX, INT32_MAX};
  CHECK_STATUS(fer_image_crop(img, &huge, &part), FER_ERR_INVALID_ARGUMENT);
  fer_rect negative = {2, 2, -5, 3};
  CHECK_STATUS(fer_image_crop(img, &negative, &part), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_crop(img, NULL, &part), FER_ERR_INVALID_ARGUMENT);

  for (int c = 1; c <= 3; c += 2)
    for (int w = 1; w <= 4; w++) {
      fer_image *a = make_test_image(w, 3, c), *b = NULL;
      CHECK_OK(fer_image_clone(a, &b));
      CHECK_OK(fer_image_flip_horizontal(b));
      ok = 1;
      for (int y = 0; y < 3; y++)
        for (int x = 0; x < w; x++)
          ok &= memcmp(pixel_at(b, x, y), pixel_at(a, w - 1 - x, y), (size_t)c) == 0;
      CHECK_MSG(ok, "flip %dx3x%d", w, c);
      fer_image_free(a);
      fer_image_free(b);
    }
  fer_image_free(img);
}

static void test_orientation(void) {
  /* Pillow's ImageOps.exif_transpose of the same picture is the reference. */
  size_t n;
  uint8_t *file = fixture_read("orient/base.ppm", &n);
  for (int o = 1; o <= 8; o++) {
    fer_image *img = NULL;
    CHECK_OK(fer_image_decode(file, n, 0, &img));
    if (!img) continue;
    img->orientation = o; /* as a JPEG decoder would set it from EXIF */
    CHECK_OK(fer__image_apply_orientation(&img));
    CHECK_EQ_INT(fer_image_orientation(img), o);
    int w = o >= 5 ? 3 : 5, h = o >= 5 ? 5 : 3;
    CHECK(fer_image_width(img) == w && fer_image_height(img) == h);
    char name[64];
    snprintf(name, sizeof name, "orient/orient_%d.rgb", o);
    size_t m;
    uint8_t *want = o == 1 ? NULL : fixture_read(name, &m);
    if (want) {
      CHECK_MSG(m == 45 && memcmp(fer_image_data(img), want, 45) == 0, "orientation %d", o);
      free(want);
    }
    fer_image_free(img);
  }
  free(file);
}

static void test_dispatch(void) {
  fer_image *img = (fer_image *)1;
  const uint8_t junk[] = {0x00, 0x11, 0xAB, 0xCD, 0xEF, 0x01, 0x02, 0x03, 0x04};
  CHECK_STATUS(fer_image_decode(junk, sizeof junk, 0, &img), FER_ERR_UNSUPPORTED);
  CHECK(img == NULL);
  CHECK_MESSAGE_CONTAINS("00 11 AB CD EF 01 02 03");
  CHECK_STATUS(fer_image_decode("", 0, 0, &img), FER_ERR_TRUNCATED);
  CHECK_STATUS(fer_image_decode(NULL, 5, 0, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_decode(junk, sizeof junk, 0, NULL), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_decode(junk, sizeof junk, 0x80, &img), FER_ERR_INVALID_ARGUMENT);
  /* PNG and JPEG are recognised and handed to their decoders (whatever
   * those say, it is not "unknown format"). */
  const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0};
  const uint8_t jpg[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0};
  CHECK(fer_image_decode(png, sizeof png, 0, &img) != FER_OK);
  CHECK(strstr(fer_last_error(), "unknown image format") == NULL);
  CHECK(fer_image_decode(jpg, sizeof jpg, 0, &img) != FER_OK);
  CHECK(strstr(fer_last_error(), "unknown image format") == NULL);
  /* FER_DECODE_GRAY turns a colour file gray with the OpenCV luma. */
  size_t n;
  uint8_t *file = fixture_read("codec/pil_24.bmp", &n);
  fer_image *rgb = NULL, *gray = NULL, *want = NULL;
  CHECK_OK(fer_image_decode(file, n, 0, &rgb));
  CHECK_OK(fer_image_decode(file, n, FER_DECODE_GRAY | FER_DECODE_IGNORE_ORIENTATION, &gray));
  CHECK_OK(fer_image_to_gray(rgb, &want));
  CHECK(gray && fer_image_channels(gray) == 1 && images_equal(gray, want));
  fer_image_free(rgb);
  fer_image_free(gray);
  fer_image_free(want);
  free(file);
  /* Encoding formats. */
  fer_image *small = make_test_image(3, 2, 3);
  void *data = (void *)1;
  size_t size = 1;
  CHECK_STATUS(fer_image_encode(small, FER_IMAGE_FORMAT_JPEG, &data, &size), FER_ERR_UNSUPPORTED);
  CHECK(data == NULL && size == 0);
  CHECK_STATUS(fer_image_encode(small, FER_IMAGE_FORMAT_AUTO, &data, &size), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_encode(small, (fer_image_format)42, &data, &size), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_encode(small, FER_IMAGE_FORMAT_PNM, NULL, &size), FER_ERR_INVALID_ARGUMENT);
  fer_image_free(small);
}

static void test_load_and_save(void) {
  char dir[] = "/tmp/fer_test_image_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256];
  const char *exts[] = {"a.pgm", "b.PPM", "c.pnm", "d.bmp"};
  for (int c = 1; c <= 3; c += 2)
    for (size_t i = 0; i < FER__ARRAY_LEN(exts); i++) {
      fer_image *img = make_test_image(9, 4, c), *back = NULL;
      snprintf(path, sizeof path, "%s/%s", dir, exts[i]);
      CHECK_OK(fer_image_save(img, path, FER_IMAGE_FORMAT_AUTO));
      CHECK_OK(fer_image_load(path, 0, &back));
      CHECK_MSG(back && images_equal(img, back), "%s with %d channels", exts[i], c);
      fer_image_free(back);
      fer_image_free(img);
      unlink(path);
    }
  fer_image *img = make_test_image(9, 4, 1), *back = (fer_image *)1;
  snprintf(path, sizeof path, "%s/x.tiff", dir);
  CHECK_STATUS(fer_image_save(img, path, FER_IMAGE_FORMAT_AUTO), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("x.tiff");
  snprintf(path, sizeof path, "%s/x.jpg", dir);
  CHECK_STATUS(fer_image_save(img, path, FER_IMAGE_FORMAT_AUTO), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("x.jpg: ");
  /* A named format wins over the extension. */
  snprintf(path, sizeof path, "%s/really_bmp.pgm", dir);
  CHECK_OK(fer_image_save(img, path, FER_IMAGE_FORMAT_BMP));
  CHECK_OK(fer_image_load(path, 0, &back));
  CHECK(back && images_equal(img, back));
  fer_image_free(back);
  unlink(path);
  /* Decode errors name the file. */
  snprintf(path, sizeof path, "%s/broken.ppm", dir);
  FILE *f = fopen(path, "wb");
  fputs("P6 4 4 255\n\1\2\3", f);
  fclose(f);
  CHECK_STATUS(fer_image_load(path, 0, &back), FER_ERR_TRUNCATED);
  CHECK(back == NULL);
  CHECK_MSG(strncmp(fer_last_error(), path, strlen(path)) == 0, "%s", fer_last_error());
  unlink(path);
  snprintf(path, sizeof path, "%s/missing.ppm", dir);
  CHECK_STATUS(fer_image_load(path, 0, &back), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("missing.ppm");
  CHECK_STATUS(fer_image_load(NULL, 0, &back), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_save(img, NULL, FER_IMAGE_FORMAT_AUTO), FER_ERR_INVALID_ARGUMENT);
  fer_image_free(img);
  rmdir(dir);
}

static void test_allocation_failures(void) {
  fer_image *img = make_test_image(8, 6, 3);
  fer_rect r = {1, 1, 4, 4};
  for (int n = 1; n <= 2; n++) {
    fer_image *out = (fer_image *)1;
    fer__alloc_fail_after(n);
    CHECK_STATUS(fer_image_to_gray(img, &out), FER_ERR_OUT_OF_MEMORY);
    fer__alloc_fail_after(n);
    CHECK_STATUS(fer_image_crop(img, &r, &out), FER_ERR_OUT_OF_MEMORY);
    fer__alloc_fail_after(n);
    CHECK_STATUS(fer_image_clone(img, &out), FER_ERR_OUT_OF_MEMORY);
    fer__alloc_fail_after(n);
    CHECK_STATUS(fer_image_to_rgb(img, &out), FER_ERR_OUT_OF_MEMORY);
    fer__alloc_fail_after(0);
    CHECK(out == NULL);
  }
  /* Orientation keeps the original on failure. */
  img->orientation = 6;
  fer_image *keep = img;
  fer__alloc_fail_after(1);
  CHECK_STATUS(fer__image_apply_orientation(&img), FER_ERR_OUT_OF_MEMORY);
  fer__alloc_fail_after(0);
  CHECK(img == keep);
  fer_image_free(img);
}

/* With FER_IMAGE_EXPORT_DIR set, writes make_test_image() pictures with
 * every encoder, for check_pillow_reads.py to decode with Pillow. */
static void export_samples(void) {
  const char *dir = getenv("FER_IMAGE_EXPORT_DIR");
  if (!dir) return;
  const char *names[] = {"gray.pgm", "gray.bmp", "rgb.ppm", "rgb.bmp"};
  for (size_t i = 0; i < FER__ARRAY_LEN(names); i++) {
    fer_image *img = make_test_image(9, 4, names[i][0] == 'g' ? 1 : 3);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    CHECK_OK(fer_image_save(img, path, FER_IMAGE_FORMAT_AUTO));
    fer_image_free(img);
  }
}

int main(void) {
  export_samples();
  RUN(test_handle);
  RUN(test_misuse);
  RUN(test_gray_against_opencv);
  RUN(test_crop_and_flip);
  RUN(test_orientation);
  RUN(test_dispatch);
  RUN(test_load_and_save);
  RUN(test_allocation_failures);
  return harness_finish();
}
