/* Small helpers shared by the image tests: fixture files, pixel access,
 * image comparison. Header-only; each test program includes it once. */
#ifndef FER_IMAGE_TEST_UTIL_H
#define FER_IMAGE_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"

/* Reads tests/fixtures/image/<name> into a malloc'ed buffer; NULL when absent. */
static inline uint8_t *fixture_read(const char *name, size_t *size) {
  char path[4096];
  snprintf(path, sizeof path, "%s/image/%s", harness_fixtures(), name);
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open fixture %s\n", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *data = malloc(n > 0 ? (size_t)n : 1);
  *size = data ? fread(data, 1, (size_t)n, f) : 0;
  fclose(f);
  return data;
}

static inline void fixture_path(const char *name, char *path, size_t cap) {
  snprintf(path, cap, "%s/image/%s", harness_fixtures(), name);
}

static inline const uint8_t *pixel_at(const fer_image *img, int x, int y) {
  return fer_image_data(img) + (size_t)y * fer_image_stride(img) +
         (size_t)x * (size_t)fer_image_channels(img);
}

/* 1 when both images have the same size, channels and pixels. */
static inline int images_equal(const fer_image *a, const fer_image *b) {
  return harness_images_equal(a, b);
}

/* A deterministic test picture with every kind of content. */
static inline fer_image *make_test_image(int w, int h, int channels) {
  fer_image *img = NULL;
  if (fer_image_create(w, h, channels, &img) != FER_OK) return NULL;
  uint8_t *p = fer_image_data_mutable(img);
  size_t stride = fer_image_stride(img);
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      for (int c = 0; c < channels; c++)
        p[(size_t)y * stride + (size_t)x * channels + c] =
            (uint8_t)(x * 7 + y * 13 + c * 101 + ((x * y) % 17) * 3);
  return img;
}

#endif

/* Checks every file of tests/fixtures/image/codec/manifest.txt whose name ends
 * in one of `suffixes` (space separated) against the reference pixels that
 * Pillow or ImageMagick decoded. Returns the number of files checked. */
static inline int check_manifest(const char *suffixes) {
  size_t size;
  uint8_t *text = fixture_read("codec/manifest.txt", &size);
  CHECK(text != NULL);
  if (!text) return 0;
  char *copy = malloc(size + 1);
  memcpy(copy, text, size);
  copy[size] = '\0';
  free(text);
  int checked = 0;
  char *save = NULL;
  for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char file[256], ref[256];
    int w, h, c;
    if (line[0] == '#' || sscanf(line, "%255s %d %d %d %255s", file, &w, &h, &c, ref) != 5)
      continue;
    const char *dot = strrchr(file, '.');
    char want[16];
    snprintf(want, sizeof want, "%s", dot ? dot : "");
    if (!dot || !strstr(suffixes, want)) continue;
    char name[300];
    size_t fsize, rsize;
    snprintf(name, sizeof name, "codec/%s", file);
    uint8_t *data = fixture_read(name, &fsize);
    snprintf(name, sizeof name, "codec/%s", ref);
    uint8_t *expect = fixture_read(name, &rsize);
    CHECK(data && expect && rsize == (size_t)w * h * 3);
    fer_image *img = NULL;
    fer_status st = data ? fer_image_decode(data, fsize, 0, &img) : FER_ERR_IO;
    CHECK_MSG(st == FER_OK, "%s: %s (%s)", file, fer_status_string(st), fer_last_error());
    if (st == FER_OK && expect) {
      CHECK_MSG(fer_image_width(img) == w && fer_image_height(img) == h &&
                    fer_image_channels(img) == c,
                "%s: got %dx%dx%d, expected %dx%dx%d", file, fer_image_width(img),
                fer_image_height(img), fer_image_channels(img), w, h, c);
      int bad = 0;
      for (int y = 0; y < h && fer_image_channels(img) == c; y++)
        for (int x = 0; x < w; x++)
          for (int k = 0; k < 3; k++) {
            /* A 1-channel result must match all three reference channels. */
            uint8_t got = pixel_at(img, x, y)[c == 1 ? 0 : k];
            if (got != expect[((size_t)y * w + x) * 3 + k] && bad++ < 3)
              fprintf(stderr, "%s: pixel (%d,%d)[%d] = %d, reference says %d\n", file,
                      x, y, k, got, expect[((size_t)y * w + x) * 3 + k]);
          }
      CHECK_MSG(bad == 0, "%s: %d samples differ from the reference", file, bad);
      checked++;
    }
    fer_image_free(img);
    free(data);
    free(expect);
  }
  free(copy);
  return checked;
}

/* Every proper prefix of `data` must fail to decode, cleanly. `from` skips
 * prefixes shorter than it (0 = all). Returns the number of prefixes that
 * decoded anyway. */
static inline int truncations_that_decode(const uint8_t *data, size_t size, size_t upto) {
  int decoded = 0;
  for (size_t n = 0; n < upto && n < size; n++) {
    fer_image *img = (fer_image *)1;
    fer_status st = fer_image_decode(n ? (const void *)data : "", n, 0, &img);
    if (st == FER_OK) {
      decoded++;
      fer_image_free(img);
    } else {
      CHECK(img == NULL);
      CHECK_MSG(fer_last_error()[0] != '\0', "prefix %zu: no message", n);
    }
  }
  return decoded;
}
