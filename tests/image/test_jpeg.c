/*
 * The JPEG decoder against Pillow (libjpeg-turbo): every fixture in
 * tests/fixtures/jpeg/manifest.txt is decoded and compared with the pixels
 * Pillow decoded from the same file (tests/fixtures/jpeg/generate.py).
 * Gray files must match exactly, colour ones within +-1 (the tolerance
 * column of the manifest), and the EXIF orientation must be Pillow's.
 */
#include "harness.h"
#include "jpeg_test_util.h"

#include "core/core_internal.h"

static char fixture_dir[4096];

static fer_image *decode_file(const char *name, unsigned flags, fer_status *st) {
  char path[4600];
  snprintf(path, sizeof path, "%s/%s.jpg", fixture_dir, name);
  size_t size;
  uint8_t *data = jt_read_file(path, &size);
  CHECK_MSG(data != NULL, "cannot read %s", path);
  fer_image *img = NULL;
  *st = data ? fer__jpeg_decode(data, size, flags, &img) : FER_ERR_IO;
  free(data);
  return img;
}

static int load_reference(const char *name, const char *suffix, jt_pnm *ref) {
  char path[4600];
  snprintf(path, sizeof path, "%s/%s%s", fixture_dir, name, suffix);
  return jt_read_pnm(path, ref);
}

static void check_fixture(const char *name, int orientation, const char *tolerance) {
  fer_status st;
  fer_image *img = decode_file(name, FER_DECODE_DEFAULT, &st);
  if (strcmp(tolerance, "unsupported") == 0) {
    CHECK_MSG(st == FER_ERR_UNSUPPORTED, "%s: %s (%s)", name, fer_status_string(st),
              fer_last_error());
    CHECK_MSG(img == NULL, "%s: image returned with an error", name);
    fprintf(stderr, "  %-34s refused: %s\n", name, fer_last_error());
    return;
  }
  CHECK_MSG(st == FER_OK, "%s: %s (%s)", name, fer_status_string(st), fer_last_error());
  if (!img) return;
  jt_pnm ref;
  int have = load_reference(name, ".pgm", &ref) || load_reference(name, ".ppm", &ref);
  CHECK_MSG(have, "%s: no reference pixels", name);
  if (have) {
    CHECK_EQ_INT(img->width, ref.width);
    CHECK_EQ_INT(img->height, ref.height);
    CHECK_EQ_INT(img->channels, ref.channels);
    if (img->width == ref.width && img->height == ref.height && img->channels == ref.channels) {
      jt_diff d = jt_compare(img, ref.pixels);
      int allowed = atoi(tolerance);
      fprintf(stderr, "  %-34s %3dx%-3d x%d  max diff %d, exact %.2f%%\n", name,
              img->width, img->height, img->channels, d.max_diff,
              100.0 * d.exact / d.pixels);
      CHECK_MSG(d.max_diff <= allowed, "%s: max diff %d > %d", name, d.max_diff, allowed);
    }
    free(ref.pixels);
  }
  CHECK_MSG(img->orientation == orientation, "%s: orientation %d, Pillow reads %d", name,
            img->orientation, orientation);
  fer_image_free(img);
}

static void test_fixtures_match_pillow(void) {
  char path[4600];
  snprintf(path, sizeof path, "%s/manifest.txt", fixture_dir);
  FILE *f = fopen(path, "r");
  CHECK_MSG(f != NULL, "cannot open %s", path);
  if (!f) return;
  char name[256], tolerance[32];
  int orientation, count = 0;
  while (fscanf(f, "%255s %d %31s", name, &orientation, tolerance) == 3) {
    check_fixture(name, orientation, tolerance);
    count++;
  }
  fclose(f);
  CHECK_MSG(count >= 30, "only %d fixtures in the manifest", count);
}

/* FER_DECODE_GRAY on a YCbCr file gives the luma plane: it must equal the Y
 * that libjpeg-turbo decodes (exactly), and it is compared with BT.601 gray
 * of Pillow's RGB pixels to measure the documented difference. */
static void test_gray_flag_gives_luma(void) {
  static const char *names[] = {
      "rgb444_33x17", "rgb422_33x17", "rgb420_33x17", "rgb420_17x255",
      "rgb440_33x17", "rgb411_45x19", "rgb420_progressive_61x45",
      "rgb420_restart_35x37", "rgb420_64x48_q100_optimized", "rgb420_1x1"};
  long total = 0, within1 = 0;
  int worst = 0;
  for (size_t i = 0; i < FER__ARRAY_LEN(names); i++) {
    fer_status st;
    fer_image *img = decode_file(names[i], FER_DECODE_GRAY, &st);
    CHECK_MSG(st == FER_OK, "%s: %s", names[i], fer_last_error());
    if (!img) continue;
    CHECK_EQ_INT(img->channels, 1);
    jt_pnm y, rgb;
    if (load_reference(names[i], ".y.pgm", &y)) {
      jt_diff d = jt_compare(img, y.pixels);
      CHECK_MSG(d.max_diff == 0, "%s: luma differs from libjpeg's Y by %d", names[i],
                d.max_diff);
      free(y.pixels);
    } else {
      CHECK_MSG(0, "%s: no .y.pgm reference", names[i]);
    }
    if (load_reference(names[i], ".ppm", &rgb)) {
      for (int p = 0; p < img->width * img->height; p++) {
        const uint8_t *s = rgb.pixels + 3 * p;
        int d = abs((int)img->pixels[p] - fer__luma(s[0], s[1], s[2]));
        total++;
        within1 += d <= 1;
        if (d > worst) worst = d;
      }
      free(rgb.pixels);
    }
    fer_image_free(img);
  }
  fprintf(stderr, "  gray flag vs BT.601 of RGB: %.3f%% within +-1, max diff %d\n",
          100.0 * within1 / (total ? total : 1), worst);
  /* Y and BT.601 of the converted RGB differ only where RGB clips and by
   * rounding; on these fixtures that is a small fraction. */
  CHECK_MSG(within1 >= total * 0.97, "only %ld of %ld within +-1", within1, total);
}

/* Gray output of a file whose components are R, G, B goes through RGB. */
static void test_gray_flag_on_rgb_components(void) {
  fer_status st;
  fer_image *img = decode_file("adobe_rgb_16x16", FER_DECODE_GRAY, &st);
  CHECK_OK(st);
  jt_pnm rgb;
  if (img && load_reference("adobe_rgb_16x16", ".ppm", &rgb)) {
    CHECK_EQ_INT(img->channels, 1);
    int worst = 0;
    for (int p = 0; p < img->width * img->height; p++) {
      const uint8_t *s = rgb.pixels + 3 * p;
      int d = abs((int)img->pixels[p] - fer__luma(s[0], s[1], s[2]));
      if (d > worst) worst = d;
    }
    CHECK_EQ_INT(worst, 0);
    free(rgb.pixels);
  }
  fer_image_free(img);
}

/* Through the public API: fer_image_decode() turns EXIF-oriented files
 * upright as Pillow's ImageOps.exif_transpose does, unless asked not to. */
static void test_public_decode_orientation(void) {
  static const char *names[] = {"exif_orientation_2", "exif_orientation_3", "exif_orientation_4",
                                "exif_orientation_5", "exif_orientation_6", "exif_orientation_7",
                                "exif_orientation_8", "exif_bigendian_3", "exif_bigendian_6"};
  for (size_t i = 0; i < FER__ARRAY_LEN(names); i++) {
    char path[4600];
    snprintf(path, sizeof path, "%s/%s.jpg", fixture_dir, names[i]);
    size_t size;
    uint8_t *data = jt_read_file(path, &size);
    if (!data) {
      CHECK_MSG(0, "cannot read %s", path);
      continue;
    }
    fer_image *img = NULL, *stored = NULL;
    jt_pnm upright, raw;
    CHECK_OK(fer_image_decode(data, size, FER_DECODE_DEFAULT, &img));
    CHECK_OK(fer_image_decode(data, size, FER_DECODE_IGNORE_ORIENTATION, &stored));
    int have = load_reference(names[i], ".upright.ppm", &upright) ||
               load_reference(names[i], ".upright.pgm", &upright);
    CHECK_MSG(have, "%s: no upright reference", names[i]);
    if (img && have && img->width == upright.width && img->height == upright.height) {
      jt_diff d = jt_compare(img, upright.pixels);
      CHECK_MSG(d.max_diff <= 1, "%s: upright pixels differ by %d", names[i], d.max_diff);
    } else {
      CHECK_MSG(0, "%s: upright size differs from Pillow's", names[i]);
    }
    if (have) free(upright.pixels);
    if (stored && (load_reference(names[i], ".ppm", &raw) || load_reference(names[i], ".pgm", &raw))) {
      CHECK_EQ_INT(stored->width, raw.width);
      CHECK_EQ_INT(fer_image_orientation(stored), names[i][strlen(names[i]) - 1] - '0');
      free(raw.pixels);
    }
    fer_image_free(img);
    fer_image_free(stored);
    free(data);
  }
}

int main(void) {
  snprintf(fixture_dir, sizeof fixture_dir, "%s/jpeg", harness_fixtures());
  RUN(test_fixtures_match_pillow);
  RUN(test_gray_flag_gives_luma);
  RUN(test_gray_flag_on_rgb_components);
  RUN(test_public_decode_orientation);
  return harness_finish();
}
