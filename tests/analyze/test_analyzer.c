/*
 * The analyzer against its parts used one at a time: the detector run
 * with the same settings gives the boxes, and fer_model_predict_image() on
 * each crop, cut and shrunk here with the image functions, gives the
 * probabilities that the batched pipeline must reproduce. With a
 * quantised model switched to int8, the analyzer runs int8 too: the same
 * comparison holds, and the probabilities differ from fp32's.
 */
#include "analyzer_fixtures.h"

static void test_param_table(void) {
  for (int key = 1; key <= 8; key++) {
    const char *name = NULL;
    double lo, hi, def;
    CHECK_OK(fer_analyze_param_info((fer_analyze_param)key, &name, &lo, &hi, &def));
    CHECK(name != NULL && def >= lo && def <= hi);
  }
  CHECK_STATUS(fer_analyze_param_info((fer_analyze_param)9, NULL, NULL, NULL, NULL),
               FER_ERR_NOT_FOUND);
  CHECK_STATUS(fer_analyze_param_info((fer_analyze_param)0, NULL, NULL, NULL, NULL),
               FER_ERR_NOT_FOUND);
}

static void test_misuse(void) {
  fer_analyzer *an = (fer_analyzer *)1;
  CHECK_STATUS(fer_analyzer_create(NULL, NULL, &an), FER_ERR_MISUSE);
  CHECK(an == NULL);
  CHECK_STATUS(fer_analyzer_set(NULL, FER_ANALYZE_MARGIN, 0.1), FER_ERR_MISUSE);
  size_t n;
  CHECK_STATUS(fer_analyzer_run(NULL, NULL, NULL, NULL, 0, 0, &n), FER_ERR_MISUSE);
  CHECK_STATUS(fer_analyzer_annotate(NULL, NULL, NULL, 0), FER_ERR_MISUSE);
  CHECK(fer_analyzer_num_classes(NULL) == 0);
  fer_analyzer_free(NULL);

  /* A model whose input is not an image the analyzer can make. */
  fer_model *flat = NULL;
  CHECK_OK(fer_model_from_text("input 2x8x8\ndense 3\nsoftmax\n", &flat));
  fer_cascade *cascade = fixture_cascade();
  CHECK_STATUS(fer_analyzer_create(flat, cascade, &an), FER_ERR_SHAPE);
  CHECK_MESSAGE_CONTAINS("2x8x8");
  fer_model_free(flat);

  fer_model *m = fixture_model(1, 1);
  CHECK_OK(fer_analyzer_create(m, cascade, &an));
  CHECK_STATUS(fer_analyzer_set(an, FER_ANALYZE_SCALE_FACTOR, 1.0), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("scale_factor");
  CHECK_STATUS(fer_analyzer_set(an, FER_ANALYZE_MIN_NEIGHBORS, 2.5), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_analyzer_set(an, FER_ANALYZE_MARGIN, NAN), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_analyzer_set(an, (fer_analyze_param)99, 1), FER_ERR_NOT_FOUND);
  double v = 0;
  CHECK_OK(fer_analyzer_set(an, FER_ANALYZE_MARGIN, 0.3));
  CHECK_OK(fer_analyzer_get(an, FER_ANALYZE_MARGIN, &v));
  CHECK_NEAR(v, 0.3, 0);
  fer_face faces[2];
  float probs[14];
  CHECK_STATUS(fer_analyzer_run(an, NULL, faces, probs, 2, 7, &n), FER_ERR_MISUSE);
  fer_image *img = NULL;
  CHECK_OK(fer_image_create(64, 64, 1, &img));
  CHECK_STATUS(fer_analyzer_run(an, img, faces, probs, 2, 6, &n), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_analyzer_run(an, img, NULL, NULL, 2, 7, &n), FER_ERR_INVALID_ARGUMENT);
  /* A blank image has no faces: a normal, empty result. */
  CHECK_OK(fer_analyzer_run(an, img, faces, probs, 2, 7, &n));
  CHECK_EQ_INT(n, 0);
  fer_image_free(img);
  fer_analyzer_free(an);
  fer_model_free(m);
  fer_cascade_free(cascade);
}

/* The crop the analyzer must have used, computed here on its own. */
static fer_rect expected_crop(fer_rect box, double margin) {
  int dx = (int)floor(margin * box.width + 0.5), dy = (int)floor(margin * box.height + 0.5);
  fer_rect r = {box.x - dx, box.y - dy, box.width + 2 * dx, box.height + 2 * dy};
  return r;
}

/* Quantises m on a few smooth random images and switches it to int8. */
static void quantize_fixture(fer_model *m) {
  int c, h, w;
  fer_model_input_shape(m, &c, &h, &w);
  const int n = 8;
  float *x = malloc(sizeof(float) * (size_t)n * c * h * w);
  uint64_t s = 5;
  for (long i = 0; i < (long)n * c * h * w; i++) {
    s = s * 6364136223846793005u + 1442695040888963407u;
    long pos = i % ((long)h * w);
    x[i] = (float)((s >> 40) % 64) + 3.0f * (float)(pos % w + pos / w);
  }
  CHECK_OK(fer_model_preprocess(m, x, n));
  CHECK_OK(fer_model_quantize(m, x, (size_t)n));
  CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  free(x);
}

static void check_against_parts(int channels, double margin, int int8) {
  fer_cascade *cascade = fixture_cascade();
  fer_image *photo = fixture_astronaut();
  fer_model *m = fixture_model(channels, 42 + (uint64_t)channels);
  if (int8) quantize_fixture(m);
  fer_analyzer *an = NULL;
  CHECK_OK(fer_analyzer_create(m, cascade, &an));
  CHECK_OK(fer_analyzer_set(an, FER_ANALYZE_MARGIN, margin));
  CHECK_OK(fer_analyzer_set(an, FER_ANALYZE_MIN_NEIGHBORS, 2));

  /* The detector alone with the analyzer's settings. */
  fer_detector *det = NULL;
  CHECK_OK(fer_detector_create(cascade, &det));
  double sf, mn, ms, mx;
  fer_analyzer_get(an, FER_ANALYZE_SCALE_FACTOR, &sf);
  fer_analyzer_get(an, FER_ANALYZE_MIN_NEIGHBORS, &mn);
  fer_analyzer_get(an, FER_ANALYZE_MIN_SIZE, &ms);
  fer_analyzer_get(an, FER_ANALYZE_MAX_SIZE, &mx);
  fer_detector_set(det, FER_DETECT_SCALE_FACTOR, sf);
  fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, mn);
  fer_detector_set(det, FER_DETECT_MIN_SIZE, ms);
  fer_detector_set(det, FER_DETECT_MAX_SIZE, mx);
  fer_detection dets[64];
  size_t nd = 0;
  CHECK_OK(fer_detector_run(det, photo, dets, 64, &nd));

  fer_face faces[64];
  float probs[64 * 9];
  size_t n = 0;
  CHECK_OK(fer_analyzer_run(an, photo, faces, probs, 64, 9, &n));
  CHECK_EQ_INT(n, nd);
  CHECK_MSG(n >= 1, "the astronaut's face was not found");
  for (size_t i = 0; i < n && i < nd; i++) {
    CHECK(memcmp(&faces[i].box, &dets[i].box, sizeof(fer_rect)) == 0);
    CHECK_EQ_INT(faces[i].neighbors, dets[i].neighbors);
    CHECK_NEAR(faces[i].detector_score, dets[i].score, 0);
    fer_rect r = expected_crop(dets[i].box, margin);
    /* The crop as 8-bit pixels shrunk by fer_image_resize (as training
     * data is made); the model then gets an image of its own size, which
     * fer_model_predict_image only converts and normalises. */
    fer_image *converted = NULL, *crop = NULL, *small = NULL;
    CHECK_OK(channels == 1 ? fer_image_to_gray(photo, &converted)
                           : fer_image_to_rgb(photo, &converted));
    CHECK_OK(fer_image_crop(converted, &r, &crop));
    CHECK_OK(fer_image_resize(crop, 48, 48, FER_RESIZE_AREA, &small));
    float want[7];
    int top = -1;
    CHECK_OK(fer_model_predict_image(m, small, want, 7, &top));
    fer_image_free(converted);
    fer_image_free(small);
    double sum = 0;
    for (int c = 0; c < 7; c++) {
      CHECK_NEAR(probs[i * 9 + (size_t)c], want[c], 1e-5);
      sum += probs[i * 9 + (size_t)c];
    }
    CHECK_NEAR(sum, 1.0, 1e-5);
    CHECK_EQ_INT(faces[i].label, top);
    CHECK_NEAR(faces[i].confidence, want[top], 1e-5);
    fer_image_free(crop);
  }
  if (int8) {
    /* The same model at fp32: other probabilities, close to int8's. */
    fer_face faces32[64];
    float probs32[64 * 9];
    size_t n32 = 0;
    CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_FP32));
    CHECK_OK(fer_analyzer_run(an, photo, faces32, probs32, 64, 9, &n32));
    CHECK_EQ_INT(n32, n);
    int differ = 0;
    for (size_t i = 0; i < n * 9 && i < n32 * 9; i++) {
      if (i % 9 >= 7) continue;
      differ |= probs32[i] != probs[i];
      CHECK_NEAR(probs32[i], probs[i], 0.05);
    }
    CHECK_MSG(differ, "int8 and fp32 analyzer results are identical");
    CHECK_OK(fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8));
  }
  /* Too little room: the largest faces are kept and the total reported. */
  if (n >= 2) {
    size_t n1 = 0;
    CHECK_STATUS(fer_analyzer_run(an, photo, faces, NULL, 1, 0, &n1), FER_ERR_BUFFER_TOO_SMALL);
    CHECK_EQ_INT(n1, n);
    long largest = 0;
    for (size_t i = 0; i < nd; i++) {
      long area = (long)dets[i].box.width * dets[i].box.height;
      largest = area > largest ? area : largest;
    }
    CHECK_EQ_INT((long)faces[0].box.width * faces[0].box.height, largest);
  }
  fer_detector_free(det);
  fer_analyzer_free(an);
  fer_model_free(m);
  fer_image_free(photo);
  fer_cascade_free(cascade);
}

static void test_gray_model_no_margin(void) { check_against_parts(1, 0.0, 0); }
static void test_gray_model_margin(void) { check_against_parts(1, 0.25, 0); }
static void test_rgb_model_margin(void) { check_against_parts(3, 0.1, 0); }
static void test_gray_model_int8(void) { check_against_parts(1, 0.25, 1); }
static void test_rgb_model_int8(void) { check_against_parts(3, 0.0, 1); }

/* Images with and without faces in one call: the empty one is a normal
 * result and the others match single runs. */
static void test_batch(void) {
  fer_cascade *cascade = fixture_cascade();
  fer_image *photo = fixture_astronaut();
  fer_model *m = fixture_model(1, 7);
  fer_analyzer *an = NULL;
  CHECK_OK(fer_analyzer_create(m, cascade, &an));
  fer_image *blank = NULL;
  CHECK_OK(fer_image_create(320, 240, 3, &blank));
  fer_face single[16];
  float single_probs[16 * 7];
  size_t n = 0;
  CHECK_OK(fer_analyzer_run(an, photo, single, single_probs, 16, 7, &n));
  CHECK(n >= 1);

  const fer_image *images[3] = {photo, blank, photo};
  fer_face faces[48];
  float probs[48 * 7];
  size_t counts[3] = {9, 9, 9}, total = 0;
  CHECK_OK(fer_analyzer_run_batch(an, images, 3, faces, probs, 48, 7, counts, &total));
  CHECK_EQ_INT(counts[0], n);
  CHECK_EQ_INT(counts[1], 0);
  CHECK_EQ_INT(counts[2], n);
  CHECK_EQ_INT(total, 2 * n);
  for (size_t i = 0; i < n; i++) {
    CHECK(memcmp(&faces[i].box, &single[i].box, sizeof(fer_rect)) == 0);
    CHECK(memcmp(&faces[n + i].box, &single[i].box, sizeof(fer_rect)) == 0);
    for (int c = 0; c < 7; c++)
      CHECK_NEAR(probs[(n + i) * 7 + (size_t)c], single_probs[i * 7 + (size_t)c], 1e-6);
  }
  /* Room for the first image only. */
  CHECK_STATUS(fer_analyzer_run_batch(an, images, 3, faces, probs, n, 7, counts, &total),
               FER_ERR_BUFFER_TOO_SMALL);
  CHECK_EQ_INT(total, 2 * n);
  CHECK_EQ_INT(counts[2], n);
  const fer_image *with_null[2] = {blank, NULL};
  CHECK_STATUS(fer_analyzer_run_batch(an, with_null, 2, faces, probs, 48, 7, counts, &total),
               FER_ERR_MISUSE);
  CHECK_MESSAGE_CONTAINS("image 1");
  fer_image_free(blank);
  fer_analyzer_free(an);
  fer_model_free(m);
  fer_image_free(photo);
  fer_cascade_free(cascade);
}

/* Box colour on the box edge, the label background above the box, and
 * lines that grow with the image. */
static void test_annotate(void) {
  fer_cascade *cascade = fixture_cascade();
  fer_model *m = fixture_model(1, 3);
  fer_analyzer *an = NULL;
  CHECK_OK(fer_analyzer_create(m, cascade, &an));
  int sides[2] = {200, 2000};
  int thickness[2] = {0, 0};
  for (int s = 0; s < 2; s++) {
    int side = sides[s];
    fer_image *img = NULL;
    CHECK_OK(fer_image_create(side, side, 3, &img));
    fer_face face = {{side / 4, side / 2, side / 4, side / 4}, 5, 3, 10.0, 0.87f, 0};
    CHECK_OK(fer_analyzer_annotate(an, img, &face, 1));
    uint32_t want = fer_expression_color("happy", 3);
    const uint8_t *px = fer_image_data(img);
    size_t stride = fer_image_stride(img);
    /* Walk from the box's left edge inwards along its middle row. */
    int y = face.box.y + face.box.height / 2, t = 0;
    for (int x = face.box.x; x < face.box.x + face.box.width; x++, t++) {
      const uint8_t *p = px + (size_t)y * stride + (size_t)x * 3;
      if (((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) != want) break;
    }
    thickness[s] = t;
    /* The label background sits just above the box, in the same colour. */
    const uint8_t *above = px + (size_t)(face.box.y - 2) * stride + (size_t)face.box.x * 3 + 3;
    CHECK((uint32_t)above[0] << 16 == (want & 0xFF0000));
    fer_image_free(img);
  }
  CHECK_MSG(thickness[0] >= 1 && thickness[1] >= 4 * thickness[0],
            "thickness %d at 200 px, %d at 2000 px", thickness[0], thickness[1]);
  CHECK(fer_expression_color("sad", 4) != fer_expression_color("happy", 3));
  CHECK(fer_expression_color("unknown", 0) != fer_expression_color("unknown", 1));
  fer_analyzer_free(an);
  fer_model_free(m);
  fer_cascade_free(cascade);
}

static void test_default(void) {
  fer_analyzer *an = (fer_analyzer *)1;
  fer_status st = fer_analyzer_create_default(&an);
  if (!fer_analyzer_has_default_model()) {
    CHECK_STATUS(st, FER_ERR_NOT_FOUND);
    CHECK_MESSAGE_CONTAINS("no default model");
    CHECK(an == NULL);
    fprintf(stderr, "note: this libfer has no built-in model\n");
    return;
  }
  if (st == FER_ERR_NOT_FOUND && !fer_analyzer_has_default_cascade()) {
    CHECK_MESSAGE_CONTAINS("FER_CASCADE");
    return;
  }
  CHECK_OK(st);
  CHECK(fer_analyzer_num_classes(an) >= 2);
  fer_analyzer_free(an);
}

int main(void) {
  fer_set_num_threads(2);
  RUN(test_param_table);
  RUN(test_misuse);
  RUN(test_gray_model_no_margin);
  RUN(test_gray_model_margin);
  RUN(test_rgb_model_margin);
  RUN(test_gray_model_int8);
  RUN(test_rgb_model_int8);
  RUN(test_batch);
  RUN(test_annotate);
  RUN(test_default);
  return harness_finish();
}
