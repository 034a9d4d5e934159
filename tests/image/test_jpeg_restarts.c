/* Restart markers whose numbers are wrong (made by
 * tests/fixtures/jpeg/make_renumbered_restarts.py from committed fixtures):
 * libfer must give exactly the pixels Pillow (libjpeg-turbo) decodes from
 * the same damaged bytes, which the script stored beside each file. Those
 * with a marker one or two ahead or behind differ from the undamaged image
 * (checked here too, so the damage is real); those whose markers are
 * further off decode as if nothing were wrong. */
#include "harness.h"
#include "jpeg_test_util.h"

static char fixture_dir[4096];

static fer_image *decode_fixture(const char *name) {
  char path[4600];
  snprintf(path, sizeof path, "%s/%s.jpg", fixture_dir, name);
  size_t size = 0;
  uint8_t *data = jt_read_file(path, &size);
  CHECK_MSG(data != NULL, "cannot read %s", path);
  fer_image *img = NULL;
  if (data) CHECK_OK(fer_image_decode(data, size, 0, &img));
  free(data);
  return img;
}

static int read_reference(const char *name, jt_pnm *ref) {
  char path[4600];
  snprintf(path, sizeof path, "%s/%s.ppm", fixture_dir, name);
  if (jt_read_pnm(path, ref)) return 1;
  snprintf(path, sizeof path, "%s/%s.pgm", fixture_dir, name);
  int ok = jt_read_pnm(path, ref);
  CHECK_MSG(ok, "no reference pixels for %s", name);
  return ok;
}

/* Decodes `name`, compares with Pillow's pixels, and compares the
 * undamaged `original` with them: equal or not, as `same_as_original`. */
static void check(const char *name, const char *original, int same_as_original) {
  fer_image *img = decode_fixture(name);
  fer_image *undamaged = decode_fixture(original);
  jt_pnm ref = {0};
  if (img && undamaged && read_reference(name, &ref)) {
    CHECK_EQ_INT(img->width, ref.width);
    CHECK_EQ_INT(img->height, ref.height);
    CHECK_EQ_INT(img->channels, ref.channels);
    if (img->width == ref.width && img->height == ref.height && img->channels == ref.channels) {
      jt_diff d = jt_compare(img, ref.pixels);
      CHECK_MSG(d.max_diff == 0, "%s: %ld of %ld samples differ from Pillow's, by up to %d",
                name, d.pixels - d.exact, d.pixels, d.max_diff);
      jt_diff o = jt_compare(undamaged, ref.pixels);
      CHECK_MSG((o.max_diff == 0) == same_as_original, "%s: %s the undamaged image", name,
                same_as_original ? "should equal" : "should differ from");
    }
  }
  free(ref.pixels);
  fer_image_free(img);
  fer_image_free(undamaged);
}

static void test_marker_ahead(void) {
  check("restart_ahead1_35x37", "rgb420_restart_35x37", 0);
  check("restart_ahead2_35x37", "rgb420_restart_35x37", 0);
}

static void test_marker_behind(void) {
  check("restart_behind1_35x37", "rgb420_restart_35x37", 0);
}

static void test_marker_far_off_is_taken(void) {
  check("restart_far_35x37", "rgb420_restart_35x37", 1);
  check("restart_rotated_35x37", "rgb420_restart_35x37", 1);
}

static void test_scan_ends_on_a_waiting_marker(void) {
  check("restart_gray_last_ahead1_35x37", "gray_restart_35x37", 0);
}

/* After a wrong number, data that ends early or a marker other than RSTn
 * where a restart is due is no error (the rest is empty), as in libjpeg. */
static void test_data_ends_after_a_wrong_number(void) {
  check("restart_gray_last_behind1_35x37", "gray_restart_35x37", 0);
  check("restart_progressive_runs_out_37x21", "rgb420_progressive_restart_37x21", 0);
}

static void test_progressive(void) {
  check("restart_progressive_ahead1_37x21", "rgb420_progressive_restart_37x21", 0);
}

int main(void) {
  snprintf(fixture_dir, sizeof fixture_dir, "%s/jpeg", harness_fixtures());
  RUN(test_marker_ahead);
  RUN(test_marker_behind);
  RUN(test_marker_far_off_is_taken);
  RUN(test_scan_ends_on_a_waiting_marker);
  RUN(test_data_ends_after_a_wrong_number);
  RUN(test_progressive);
  return harness_finish();
}
