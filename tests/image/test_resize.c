/* Resizing against cv2.resize outputs (tests/fixtures/image/resize, written by
 * make_fixtures.py from the same procedural pictures built here). Prints,
 * per case, the fraction of samples equal to OpenCV's and within +-1. */
#include "image_test_util.h"

#include "core/core_internal.h"

/* The picture make_fixtures.py's procedural() builds, in the same integer
 * arithmetic: gradients, a hard-edged disc, deterministic texture. */
static fer_image *procedural(int w, int h, int channels) {
  fer_image *img = NULL;
  if (fer_image_create(w, h, channels, &img) != FER_OK) return NULL;
  uint8_t *p = fer_image_data_mutable(img);
  for (int64_t y = 0; y < h; y++)
    for (int64_t x = 0; x < w; x++)
      for (int64_t c = 0; c < channels; c++) {
        int64_t base = (x * (200 + 20 * c)) / w + (y * (55 - 10 * c)) / h;
        int64_t texture = ((x * 2654435761LL + y * 40503 + c * 977) >> 7) % 41;
        int64_t dx = x - w / 3, dy = y - h / 2;
        int disc = (dx * dx + dy * dy) * 16 < (int64_t)w * w + (int64_t)h * h;
        p[(y * w + x) * channels + c] =
            (uint8_t)(disc ? 255 - base % 256 : (base + texture) % 256);
      }
  return img;
}

static void test_against_opencv(void) {
  size_t size;
  uint8_t *text = fixture_read("resize/cases.txt", &size);
  CHECK(text != NULL);
  if (!text) return;
  char *copy = calloc(size + 1, 1);
  memcpy(copy, text, size);
  free(text);
  int cases = 0;
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char method[16], file[128];
    int sw, sh, dw, dh, c;
    if (line[0] == '#' ||
        sscanf(line, "%15s %d %d %d %d %d %127s", method, &sw, &sh, &dw, &dh, &c, file) != 7)
      continue;
    char name[200];
    snprintf(name, sizeof name, "resize/%s", file);
    size_t n;
    uint8_t *want = fixture_read(name, &n);
    fer_image *src = procedural(sw, sh, c), *dst = NULL;
    fer_resize_method m = strcmp(method, "area") == 0 ? FER_RESIZE_AREA : FER_RESIZE_BILINEAR;
    CHECK_OK(fer_image_resize(src, dw, dh, m, &dst));
    if (dst && want && n == (size_t)dw * dh * c) {
      size_t exact = 0, near = 0;
      int worst = 0;
      const uint8_t *got = fer_image_data(dst);
      for (size_t i = 0; i < n; i++) {
        int d = abs(got[i] - want[i]);
        exact += d == 0;
        near += d <= 1;
        worst = FER__MAX(worst, d);
      }
      printf("%-6s %3dx%-3d -> %3dx%-3d c%d: exact %6.2f%%, within 1 %6.2f%%, max diff %d\n",
             method, sw, sh, dw, dh, c, 100.0 * exact / n, 100.0 * near / n, worst);
      CHECK_MSG(near >= n * 99 / 100 && worst <= 2, "%s: %zu of %zu within 1, max %d", file,
                near, n, worst);
      cases++;
    } else {
      CHECK_MSG(0, "%s: missing fixture or output", file);
    }
    fer_image_free(src);
    fer_image_free(dst);
    free(want);
  }
  CHECK_EQ_INT(cases, 20);
  free(copy);
}

/* Properties any resize must have, beyond the fixtures. */
static void test_properties(void) {
  /* A constant image stays constant; same size is a copy. */
  fer_image *flat = NULL, *out = NULL;
  CHECK_OK(fer_image_create(37, 23, 3, &flat));
  memset(fer_image_data_mutable(flat), 201, 37 * 23 * 3);
  fer_resize_method methods[] = {FER_RESIZE_AREA, FER_RESIZE_BILINEAR};
  int sizes[][2] = {{48, 48}, {5, 3}, {100, 7}, {1, 1}, {37, 23}};
  for (int m = 0; m < 2; m++)
    for (int s = 0; s < 5; s++) {
      CHECK_OK(fer_image_resize(flat, sizes[s][0], sizes[s][1], methods[m], &out));
      int ok = out != NULL;
      for (int i = 0; ok && i < sizes[s][0] * sizes[s][1] * 3; i++) ok = fer_image_data(out)[i] == 201;
      CHECK_MSG(ok, "constant image, method %d, %dx%d", methods[m], sizes[s][0], sizes[s][1]);
      fer_image_free(out);
      out = NULL;
    }
  fer_image *pic = procedural(41, 29, 1);
  for (int m = 0; m < 2; m++) {
    CHECK_OK(fer_image_resize(pic, 41, 29, methods[m], &out));
    CHECK(out && images_equal(pic, out));
    fer_image_free(out);
    out = NULL;
  }
  /* Area by an integer factor is the rounded block mean (naive check). */
  CHECK_OK(fer_image_resize(pic, 41, 29, FER_RESIZE_AREA, &out));
  fer_image_free(out);
  fer_image *big = procedural(60, 45, 1);
  CHECK_OK(fer_image_resize(big, 20, 15, FER_RESIZE_AREA, &out));
  int bad = 0;
  for (int y = 0; out && y < 15; y++)
    for (int x = 0; x < 20; x++) {
      int sum = 0;
      for (int j = 0; j < 3; j++)
        for (int i = 0; i < 3; i++) sum += pixel_at(big, 3 * x + i, 3 * y + j)[0];
      bad += abs(pixel_at(out, x, y)[0] - (sum + 4) / 9) > 0;
    }
  CHECK(bad == 0);
  fer_image_free(out);
  fer_image_free(big);
  /* Arguments. */
  out = (fer_image *)1;
  CHECK_STATUS(fer_image_resize(pic, 0, 5, FER_RESIZE_AREA, &out), FER_ERR_INVALID_ARGUMENT);
  CHECK(out == NULL);
  CHECK_STATUS(fer_image_resize(pic, 5, 5, (fer_resize_method)9, &out), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_resize(pic, 40000, 5, FER_RESIZE_AREA, &out), FER_ERR_TOO_LARGE);
  CHECK_STATUS(fer_image_resize(pic, 5, 5, FER_RESIZE_AREA, NULL), FER_ERR_INVALID_ARGUMENT);
  for (int n = 1; n <= 3; n++) {
    fer__alloc_fail_after(n);
    fer_status a = fer_image_resize(pic, 13, 11, FER_RESIZE_AREA, &out);
    fer__alloc_fail_after(n);
    fer_status b = fer_image_resize(pic, 13, 11, FER_RESIZE_BILINEAR, &out);
    fer__alloc_fail_after(0);
    CHECK(a == FER_ERR_OUT_OF_MEMORY && b == FER_ERR_OUT_OF_MEMORY && out == NULL);
  }
  fer_image_free(pic);
  fer_image_free(flat);
}

static void test_speed(void) {
  /* The analyzer's path: a face crop shrunk to 48x48 with AREA. */
  int sizes[][3] = {{640, 480, 1}, {200, 200, 1}, {200, 200, 3}, {97, 61, 1}};
  for (size_t s = 0; s < FER__ARRAY_LEN(sizes); s++) {
    fer_image *src = procedural(sizes[s][0], sizes[s][1], sizes[s][2]), *out = NULL;
    int reps = 0;
    double start = fer__now_seconds(), elapsed;
    do {
      fer_image_resize(src, 48, 48, FER_RESIZE_AREA, &out);
      fer_image_free(out);
      out = NULL;
      reps++;
      elapsed = fer__now_seconds() - start;
    } while (elapsed < 0.2);
    printf("speed: AREA %dx%d c%d -> 48x48: %.1f us per call\n", sizes[s][0], sizes[s][1],
           sizes[s][2], 1e6 * elapsed / reps);
    fer_image_free(src);
  }
}

int main(void) {
  RUN(test_against_opencv);
  RUN(test_properties);
  RUN(test_speed);
  return harness_finish();
}
