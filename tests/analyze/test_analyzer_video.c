/*
 * The analyzer on video (FER_ANALYZE_DETECT_INTERVAL > 1) against the same
 * analyzer detecting on every whole frame, on a synthetic clip: a face
 * (from the astronaut photo) that moves across the frame by 4 pixels a
 * frame and drifts down, and a second one that appears part-way through.
 * Between full detections only the regions around known faces are
 * scanned, and there the detector sees exactly the windows of a full
 * scan, so the moving face must get the same box in every frame; the new
 * face must be found at the next full detection, not later.
 */
#include "analyzer_fixtures.h"

#define W 480
#define H 360
#define FRAMES 40
#define PATCH 160
#define SECOND_FROM 17 /* the frame where the second face appears */

/* The gray astronaut's face area, PATCH x PATCH (the face is about 93
 * pixels wide inside it). */
static uint8_t patch[PATCH][PATCH];

static int load_patch(void) {
  fer_image *img = fixture_astronaut(), *gray = NULL;
  if (fer_image_to_gray(img, &gray) != FER_OK) return 0;
  for (int y = 0; y < PATCH; y++)
    memcpy(patch[y], fer_image_data(gray) + (size_t)(30 + y) * fer_image_stride(gray) + 145, PATCH);
  fer_image_free(gray);
  fer_image_free(img);
  return 1;
}

/* Frame k: a soft gradient, the first face moving right and down, and from
 * SECOND_FROM on the second (the same face mirrored) at the right. */
static fer_image *make_frame(int k) {
  fer_image *img = NULL;
  if (fer_image_create(W, H, 1, &img) != FER_OK) return NULL;
  uint8_t *p = fer_image_data_mutable(img);
  size_t stride = fer_image_stride(img);
  for (int y = 0; y < H; y++)
    for (int x = 0; x < W; x++) p[(size_t)y * stride + (size_t)x] = (uint8_t)(90 + (x + y) / 12);
  int x0 = 4 * k, y0 = 20 + k;
  for (int y = 0; y < PATCH; y++) memcpy(p + (size_t)(y0 + y) * stride + (size_t)x0, patch[y], PATCH);
  if (k >= SECOND_FROM)
    for (int y = 0; y < PATCH; y++)
      for (int x = 0; x < PATCH; x++)
        p[(size_t)(190 + y) * stride + (size_t)(W - PATCH + x)] = patch[y][PATCH - 1 - x];
  return img;
}

static int same_faces(const fer_face *a, size_t na, const fer_face *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++) {
    int found = 0;
    for (size_t j = 0; j < nb && !found; j++)
      found = memcmp(&a[i].box, &b[j].box, sizeof a[i].box) == 0;
    if (!found) return 0;
  }
  return 1;
}

/* A face whose box lies mostly right of x = W - PATCH - 20: the second. */
static int has_second(const fer_face *f, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (f[i].box.x > W - PATCH - 20 && f[i].box.y > 150) return 1;
  return 0;
}

static void test_moving_faces_kept(void) {
  if (!load_patch()) return;
  fer_model *model = fixture_model(1, 1);
  fer_cascade *cascade = fixture_cascade();
  fer_analyzer *full = NULL, *video = NULL;
  CHECK_OK(fer_analyzer_create(model, cascade, &full));
  CHECK_OK(fer_analyzer_create(model, cascade, &video));
  const int interval = 8;
  CHECK_OK(fer_analyzer_set(video, FER_ANALYZE_DETECT_INTERVAL, interval));
  fer_face a[16], b[16];
  float pa[16 * 7], pb[16 * 7];
  int same = 0, frames_with_faces = 0, second_full = -1, second_video = -1;
  for (int k = 0; k < FRAMES; k++) {
    fer_image *frame = make_frame(k);
    size_t na = 0, nb = 0;
    CHECK_OK(fer_analyzer_run(full, frame, a, pa, 16, 7, &na));
    CHECK_OK(fer_analyzer_run(video, frame, b, pb, 16, 7, &nb));
    frames_with_faces += na > 0;
    if (same_faces(a, na, b, nb)) {
      same++;
      /* Same boxes: the same crops, so the same probabilities. */
      for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++)
          if (!memcmp(&a[i].box, &b[j].box, sizeof a[i].box))
            CHECK(!memcmp(&pa[i * 7], &pb[j * 7], 7 * sizeof(float)));
    } else if (!(k >= SECOND_FROM && k < SECOND_FROM + interval && has_second(a, na) &&
                 !has_second(b, nb))) {
      CHECK_MSG(0, "frame %d: %zu faces on video, %zu with full detection", k, nb, na);
    }
    if (second_full < 0 && has_second(a, na)) second_full = k;
    if (second_video < 0 && has_second(b, nb)) second_video = k;
    fer_image_free(frame);
  }
  CHECK_MSG(frames_with_faces == FRAMES, "the face was found in %d of %d frames: the clip tests little",
            frames_with_faces, FRAMES);
  CHECK_MSG(second_full == SECOND_FROM, "full detection found the new face at frame %d", second_full);
  /* Full detections at 0, 8, 16, 24: the face of frame 17 waits for 24. */
  CHECK_MSG(second_video == 24, "video found the new face at frame %d", second_video);
  CHECK_MSG(same == FRAMES - (24 - SECOND_FROM), "%d frames alike of %d", same, FRAMES);

  /* After a reset the next run detects fully: the second face at once. */
  CHECK_OK(fer_analyzer_reset(video));
  fer_image *f0 = make_frame(0), *f30 = make_frame(30);
  size_t nb = 0;
  CHECK_OK(fer_analyzer_run(video, f0, b, NULL, 16, 0, &nb));
  CHECK(!has_second(b, nb));
  CHECK_OK(fer_analyzer_run(video, f30, b, NULL, 16, 0, &nb));
  CHECK_MSG(!has_second(b, nb), "between full detections a new face is not looked for");
  CHECK_OK(fer_analyzer_reset(video));
  CHECK_OK(fer_analyzer_run(video, f30, b, NULL, 16, 0, &nb));
  CHECK(has_second(b, nb));
  /* A frame of another size starts another video too. */
  fer_image *small = NULL;
  CHECK_OK(fer_image_crop(f30, &(fer_rect){0, 0, W - 10, H}, &small));
  CHECK_OK(fer_analyzer_run(video, f0, b, NULL, 16, 0, &nb));
  CHECK_OK(fer_analyzer_run(video, small, b, NULL, 16, 0, &nb));
  CHECK_MSG(has_second(b, nb), "a new frame size must start with a full detection");

  /* A batch is frames in order: the same as one run after another. */
  fer_image *frames[12];
  for (int k = 0; k < 12; k++) frames[k] = make_frame(k + 10);
  fer_face batch[64];
  size_t counts[12], total = 0, at = 0;
  CHECK_OK(fer_analyzer_reset(video));
  CHECK_OK(fer_analyzer_run_batch(video, (const fer_image *const *)frames, 12, batch, NULL, 64, 0,
                                  counts, &total));
  CHECK_OK(fer_analyzer_reset(video));
  for (int k = 0; k < 12; k++) {
    CHECK_OK(fer_analyzer_run(video, frames[k], b, NULL, 16, 0, &nb));
    CHECK(nb == counts[k] && same_faces(b, nb, batch + at, counts[k]));
    at += counts[k];
    fer_image_free(frames[k]);
  }
  fer_image_free(small);
  fer_image_free(f0);
  fer_image_free(f30);
  fer_analyzer_free(full);
  fer_analyzer_free(video);
  fer_model_free(model);
  fer_cascade_free(cascade);
}

static void test_bad_settings(void) {
  fer_model *model = fixture_model(1, 1);
  fer_cascade *cascade = fixture_cascade();
  fer_analyzer *an = NULL;
  CHECK_OK(fer_analyzer_create(model, cascade, &an));
  double v = 0;
  CHECK_OK(fer_analyzer_get(an, FER_ANALYZE_DETECT_INTERVAL, &v));
  CHECK(v == 1); /* photos: every run independent */
  const struct {
    fer_analyze_param key;
    double value;
    const char *name;
  } bad[] = {
      {FER_ANALYZE_DETECT_INTERVAL, 0, "detect_interval"},
      {FER_ANALYZE_DETECT_INTERVAL, 2.5, "detect_interval"},
      {FER_ANALYZE_DETECT_INTERVAL, 10001, "detect_interval"},
      {FER_ANALYZE_REGION_MARGIN, -0.1, "region_margin"},
      {FER_ANALYZE_REGION_MARGIN, 4.5, "region_margin"},
      {FER_ANALYZE_REGION_MARGIN, NAN, "region_margin"},
      {FER_ANALYZE_REGION_SCALE, 0.9, "region_scale"},
      {FER_ANALYZE_REGION_SCALE, INFINITY, "region_scale"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK_STATUS(fer_analyzer_set(an, bad[i].key, bad[i].value), FER_ERR_INVALID_ARGUMENT);
    CHECK_MESSAGE_CONTAINS(bad[i].name);
  }
  CHECK_OK(fer_analyzer_get(an, FER_ANALYZE_DETECT_INTERVAL, &v));
  CHECK(v == 1); /* refused values change nothing */
  CHECK_OK(fer_analyzer_set(an, FER_ANALYZE_DETECT_INTERVAL, 5));
  CHECK_OK(fer_analyzer_set(an, FER_ANALYZE_REGION_MARGIN, 0));
  CHECK_OK(fer_analyzer_set(an, FER_ANALYZE_REGION_SCALE, 1));
  CHECK_STATUS(fer_analyzer_reset(NULL), FER_ERR_MISUSE);
  fer_analyzer_free(an);
  fer_model_free(model);
  fer_cascade_free(cascade);
}

int main(void) {
  RUN(test_bad_settings);
  RUN(test_moving_faces_kept);
  return harness_finish();
}
