/* Caller pixel formats: packed layouts against a naive reference, strides,
 * validation, and YUV 4:2:0 against OpenCV (tests/fixtures/image/yuv). */
#include "image_test_util.h"

#include "core/core_internal.h"

static const fer_pixel_format packed[] = {FER_PIXEL_GRAY8, FER_PIXEL_RGB24,
                                          FER_PIXEL_BGR24, FER_PIXEL_RGBA32,
                                          FER_PIXEL_BGRA32};
static const int packed_bytes[] = {1, 3, 3, 4, 4};

/* Where R, G, B sit inside a pixel of each packed format (gray: all 0). */
static const int order[][3] = {{0, 0, 0}, {0, 1, 2}, {2, 1, 0}, {0, 1, 2}, {2, 1, 0}};

static void test_packed_formats(void) {
  int w = 7, h = 5;
  for (size_t f = 0; f < FER__ARRAY_LEN(packed); f++) {
    int bpp = packed_bytes[f];
    size_t stride = (size_t)w * bpp + 3; /* padded rows */
    uint8_t *buf = malloc(stride * h);
    for (size_t i = 0; i < stride * h; i++) buf[i] = (uint8_t)(i * 31 + 7);
    fer_image *img = NULL;
    CHECK_OK(fer_image_from_pixels(buf, w, h, stride, packed[f], &img));
    if (!img) {
      free(buf);
      continue;
    }
    CHECK_EQ_INT(fer_image_channels(img), bpp == 1 ? 1 : 3);
    int bad = 0;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int c = 0; c < (bpp == 1 ? 1 : 3); c++)
          bad += pixel_at(img, x, y)[c] != buf[y * stride + x * bpp + order[f][c]];
    CHECK_MSG(bad == 0, "format %d: %d samples wrong", packed[f], bad);
    /* Back out in the same format: the colour bytes come back, alpha is 255. */
    uint8_t *back = calloc(stride * h, 1);
    CHECK_OK(fer_image_to_pixels(img, packed[f], back, stride, stride * h));
    bad = 0;
    for (int y = 0; y < h; y++)
      for (int x = 0; x < w; x++)
        for (int k = 0; k < bpp; k++) {
          uint8_t want = k == 3 ? 255 : buf[y * stride + x * bpp + k];
          bad += back[y * stride + x * bpp + k] != want;
        }
    CHECK_MSG(bad == 0, "format %d round trip: %d bytes wrong", packed[f], bad);
    /* Tightly packed with stride 0, and too small a buffer. */
    CHECK_OK(fer_image_to_pixels(img, packed[f], back, 0, (size_t)w * bpp * h));
    CHECK_STATUS(fer_image_to_pixels(img, packed[f], back, 0, (size_t)w * bpp * h - 1),
                 FER_ERR_BUFFER_TOO_SMALL);
    CHECK_MESSAGE_CONTAINS("needs");
    /* The last row need not be padded. */
    CHECK_OK(fer_image_to_pixels(img, packed[f], back, stride, stride * (h - 1) + (size_t)w * bpp));
    free(back);
    fer_image_free(img);
    free(buf);
  }
}

static void test_rgb_to_gray_pixels(void) {
  /* An RGB image asked for as GRAY8 uses the OpenCV luma. */
  fer_image *img = make_test_image(6, 3, 3);
  uint8_t gray[18];
  CHECK_OK(fer_image_to_pixels(img, FER_PIXEL_GRAY8, gray, 0, sizeof gray));
  int bad = 0;
  for (int y = 0; y < 3; y++)
    for (int x = 0; x < 6; x++) {
      const uint8_t *p = pixel_at(img, x, y);
      double luma = 0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2];
      bad += fabs(gray[y * 6 + x] - luma) > 0.51;
    }
  CHECK(bad == 0);
  fer_image_free(img);
}

static void test_validation(void) {
  uint8_t buf[64] = {0};
  fer_image *img = (fer_image *)1;
  CHECK_STATUS(fer_image_from_pixels(NULL, 2, 2, 0, FER_PIXEL_RGB24, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK(img == NULL);
  CHECK_MESSAGE_CONTAINS("pixels is NULL");
  CHECK_STATUS(fer_image_from_pixels(buf, 2, 2, 0, FER_PIXEL_RGB24, NULL), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_from_pixels(buf, 0, 2, 0, FER_PIXEL_RGB24, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_from_pixels(buf, -3, 2, 0, FER_PIXEL_RGB24, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_from_pixels(buf, 40000, 2, 0, FER_PIXEL_RGB24, &img), FER_ERR_TOO_LARGE);
  CHECK_STATUS(fer_image_from_pixels(buf, 2, 2, 5, FER_PIXEL_RGB24, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("stride 5");
  /* A negative stride converted to size_t is absurd, not a crash. */
  CHECK_STATUS(fer_image_from_pixels(buf, 2, 2, (size_t)-6, FER_PIXEL_RGB24, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("overflows");
  CHECK_STATUS(fer_image_from_pixels(buf, 2, 2, 0, (fer_pixel_format)99, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("99");
  CHECK_STATUS(fer_image_from_pixels(buf, 3, 2, 3, FER_PIXEL_NV12, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("NV12");
  CHECK(img == NULL);
  CHECK_STATUS(fer_image_to_pixels(NULL, FER_PIXEL_RGB24, buf, 0, 64), FER_ERR_MISUSE);
  CHECK_OK(fer_image_create(2, 2, 3, &img));
  CHECK_STATUS(fer_image_to_pixels(img, FER_PIXEL_RGB24, NULL, 0, 64), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_to_pixels(img, FER_PIXEL_I420, buf, 0, 5), FER_ERR_BUFFER_TOO_SMALL);
  CHECK_STATUS(fer_image_to_pixels(img, FER_PIXEL_RGB24, buf, (size_t)-1, 64), FER_ERR_INVALID_ARGUMENT);
  fer_image_free(img);
  img = (fer_image *)1;
  CHECK_STATUS(fer_image_from_yuv420(buf, 4, NULL, 2, buf, 2, 4, 4, FER_PIXEL_I420, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK(img == NULL);
  CHECK_MESSAGE_CONTAINS("U plane");
  CHECK_STATUS(fer_image_from_yuv420(buf, 4, buf, 1, buf, 2, 4, 4, FER_PIXEL_I420, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_from_yuv420(buf, 3, buf, 2, buf, 2, 4, 4, FER_PIXEL_I420, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_from_yuv420(buf, 4, buf, 3, NULL, 0, 4, 4, FER_PIXEL_NV12, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_from_yuv420(buf, 4, buf, 2, buf, 2, 4, 4, FER_PIXEL_RGB24, &img), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_from_yuv420(buf, (size_t)-4, buf, 2, buf, 2, 4, 4, FER_PIXEL_I420, &img), FER_ERR_INVALID_ARGUMENT);
}

/* Max |a - b| over n bytes; prints the share of equal bytes. */
static int max_diff_report(const char *what, const uint8_t *a, const uint8_t *b, size_t n) {
  int m = 0;
  size_t same = 0;
  for (size_t i = 0; i < n; i++) {
    m = FER__MAX(m, abs(a[i] - b[i]));
    same += a[i] == b[i];
  }
  printf("%s: %.1f%% of %zu samples equal, max diff %d\n", what, 100.0 * same / n, n, m);
  return m;
}

static void test_yuv_against_opencv(void) {
  const int w = 16, h = 12;
  size_t n, m;
  uint8_t *i420 = fixture_read("yuv/frame_16x12.i420", &n);
  uint8_t *want = fixture_read("yuv/frame_16x12_i420.rgb", &m);
  CHECK(i420 && want && n == (size_t)w * h * 3 / 2 && m == (size_t)w * h * 3);
  fer_image *img = NULL, *img2 = NULL;
  CHECK_OK(fer_image_from_pixels(i420, w, h, 0, FER_PIXEL_I420, &img));
  if (img) CHECK(max_diff_report("I420 -> RGB vs OpenCV", fer_image_data(img), want, m) <= 1);
  /* Separate planes give the same. */
  CHECK_OK(fer_image_from_yuv420(i420, w, i420 + w * h, w / 2, i420 + w * h * 5 / 4, w / 2,
                                 w, h, FER_PIXEL_I420, &img2));
  CHECK(img && img2 && images_equal(img, img2));
  fer_image_free(img);
  fer_image_free(img2);
  free(i420);
  free(want);

  uint8_t *nv12 = fixture_read("yuv/frame_16x12.nv12", &n);
  want = fixture_read("yuv/frame_16x12_nv12.rgb", &m);
  CHECK_OK(fer_image_from_pixels(nv12, w, h, 0, FER_PIXEL_NV12, &img));
  if (img) CHECK(max_diff_report("NV12 -> RGB vs OpenCV", fer_image_data(img), want, m) <= 1);
  CHECK_OK(fer_image_from_yuv420(nv12, w, nv12 + w * h, w, NULL, 0, w, h, FER_PIXEL_NV12, &img2));
  CHECK(img && img2 && images_equal(img, img2));
  fer_image_free(img);
  fer_image_free(img2);
  free(nv12);
  free(want);

  /* RGB -> I420: Y from OpenCV, U/V from the BT.601 formula on 2x2 means. */
  uint8_t *rgb = fixture_read("yuv/rgb_16x12.rgb", &n);
  uint8_t *ref = fixture_read("yuv/rgb_16x12_ref.i420", &m);
  CHECK_OK(fer_image_from_pixels(rgb, w, h, 0, FER_PIXEL_RGB24, &img));
  uint8_t out[16 * 12 * 3 / 2];
  CHECK_OK(fer_image_to_pixels(img, FER_PIXEL_I420, out, 0, sizeof out));
  CHECK(max_diff_report("RGB -> Y vs OpenCV", out, ref, (size_t)w * h) <= 1);
  CHECK(max_diff_report("RGB -> UV vs formula", out + w * h, ref + w * h, (size_t)w * h / 2) <= 1);
  /* NV12 holds the same samples, interleaved. */
  uint8_t out12[sizeof out];
  CHECK_OK(fer_image_to_pixels(img, FER_PIXEL_NV12, out12, 0, sizeof out12));
  int same = memcmp(out12, out, (size_t)w * h) == 0;
  for (int i = 0; i < w * h / 4; i++)
    same &= out12[w * h + 2 * i] == out[w * h + i] &&
            out12[w * h + 2 * i + 1] == out[w * h + w * h / 4 + i];
  CHECK(same);
  fer_image_free(img);
  free(rgb);
  free(ref);
}

static void test_yuv_odd_sizes_and_strides(void) {
  /* 5x3 frame in a padded contiguous I420 layout: Y rows of 8, chroma rows
   * of 4 (= (8+1)/2), chroma 3x2. Reference: decode the same planes placed
   * at separate addresses with tight strides. */
  uint8_t frame[8 * 3 + 2 * 4 * 2];
  for (size_t i = 0; i < sizeof frame; i++) frame[i] = (uint8_t)(i * 37 + 11);
  uint8_t y[15], u[6], v[6];
  for (int r = 0; r < 3; r++) memcpy(y + r * 5, frame + r * 8, 5);
  for (int r = 0; r < 2; r++) {
    memcpy(u + r * 3, frame + 24 + r * 4, 3);
    memcpy(v + r * 3, frame + 32 + r * 4, 3);
  }
  fer_image *a = NULL, *b = NULL;
  CHECK_OK(fer_image_from_pixels(frame, 5, 3, 8, FER_PIXEL_I420, &a));
  CHECK_OK(fer_image_from_yuv420(y, 0, u, 0, v, 0, 5, 3, FER_PIXEL_I420, &b));
  CHECK(a && b && images_equal(a, b));
  /* Round trip RGB -> I420 -> RGB stays close on smooth content. */
  uint8_t back[8 * 3 + 2 * 4 * 2];
  CHECK_OK(fer_image_to_pixels(a, FER_PIXEL_I420, back, 8, sizeof back));
  fer_image_free(b);
  b = NULL;
  CHECK_OK(fer_image_from_pixels(back, 5, 3, 8, FER_PIXEL_I420, &b));
  CHECK(b != NULL);
  fer_image_free(a);
  fer_image_free(b);
  /* Gray 0..255 survives RGB -> YUV -> RGB within 1. */
  fer_image *gray = NULL, *again = NULL;
  CHECK_OK(fer_image_create(256, 2, 1, &gray));
  uint8_t *p = fer_image_data_mutable(gray);
  for (int i = 0; i < 512; i++) p[i] = (uint8_t)(i % 256);
  uint8_t *yuv = malloc(256 * 2 * 3 / 2);
  CHECK_OK(fer_image_to_pixels(gray, FER_PIXEL_NV12, yuv, 0, 256 * 2 * 3 / 2));
  CHECK_OK(fer_image_from_pixels(yuv, 256, 2, 0, FER_PIXEL_NV12, &again));
  int worst = 0;
  for (int x = 0; again && x < 256; x++)
    for (int c = 0; c < 3; c++) worst = FER__MAX(worst, abs(pixel_at(again, x, 0)[c] - x));
  CHECK_MSG(worst <= 1, "gray through NV12: max error %d", worst);
  free(yuv);
  fer_image_free(gray);
  fer_image_free(again);
}

static void test_allocation_failure(void) {
  uint8_t buf[48] = {0};
  fer_image *img = (fer_image *)1;
  for (int n = 1; n <= 2; n++) {
    fer__alloc_fail_after(n);
    CHECK_STATUS(fer_image_from_pixels(buf, 4, 4, 0, FER_PIXEL_BGR24, &img), FER_ERR_OUT_OF_MEMORY);
    fer__alloc_fail_after(0);
    CHECK(img == NULL);
  }
}

int main(void) {
  RUN(test_packed_formats);
  RUN(test_rgb_to_gray_pixels);
  RUN(test_validation);
  RUN(test_yuv_against_opencv);
  RUN(test_yuv_odd_sizes_and_strides);
  RUN(test_allocation_failure);
  return harness_finish();
}
