/*
 * One model and one cascade shared by many threads at once, each thread
 * with its own analyzers, predictors and detectors (several of each, used
 * in turn), plus the calls documented as safe on a shared handle:
 * fer_model_predict_image, fer_model_save_memory, fer_cascade_encode and
 * fer_analyzer_create_default. Every result must equal the single-threaded
 * one. CI runs suite threads under ThreadSanitizer (a build without OpenMP),
 * which reports any write to the shared handles or any unsynchronised
 * state inside the library.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "harness.h"

enum { THREADS = 6, PER_THREAD = 3, ROUNDS = 2, MAX_FACES = 8, CLASSES = 7 };

static const fer_model *shared_model;
static const fer_cascade *shared_cascade;
static const fer_image *shared_image;

/* The single-threaded results. */
static fer_face expected_faces[MAX_FACES];
static float expected_probs[MAX_FACES * CLASSES];
static size_t expected_face_count;
static fer_detection expected_detections[32];
static size_t expected_detection_count;
static float expected_image_probs[CLASSES];
static void *expected_model_bytes, *expected_cascade_bytes;
static size_t expected_model_size, expected_cascade_size;
static fer_image *expected_annotated;

typedef struct worker {
  int index;
  int errors;     /* a call failed */
  int mismatches; /* a result differed from the single-threaded one */
  char first_error[256];
} worker;

static void note_error(worker *w, fer_status st) {
  if (w->errors++ == 0)
    snprintf(w->first_error, sizeof w->first_error, "%s: %s", fer_status_string(st),
             fer_last_error());
}

static void run_analyzer(worker *w, fer_analyzer *an) {
  fer_face faces[MAX_FACES];
  float probs[MAX_FACES * CLASSES];
  size_t count = 0;
  fer_status st = fer_analyzer_run(an, shared_image, faces, probs, MAX_FACES, CLASSES, &count);
  if (st != FER_OK) {
    note_error(w, st);
    return;
  }
  if (count != expected_face_count ||
      memcmp(faces, expected_faces, count * sizeof *faces) != 0 ||
      memcmp(probs, expected_probs, count * CLASSES * sizeof *probs) != 0)
    w->mismatches++;
  fer_image *canvas = NULL;
  st = fer_image_clone(shared_image, &canvas);
  if (st == FER_OK) st = fer_analyzer_annotate(an, canvas, faces, count);
  if (st != FER_OK) note_error(w, st);
  else if (!harness_images_equal(canvas, expected_annotated)) w->mismatches++;
  fer_image_free(canvas);
}

static void run_detector(worker *w, fer_detector *det) {
  fer_detection found[32];
  size_t count = 0;
  fer_status st = fer_detector_run(det, shared_image, found, 32, &count);
  if (st != FER_OK) note_error(w, st);
  else if (count != expected_detection_count ||
           memcmp(found, expected_detections, count * sizeof *found) != 0)
    w->mismatches++;
}

static void run_predictor(worker *w, fer_predictor *p) {
  float probs[CLASSES];
  int top = -1;
  fer_status st = fer_predictor_run_image(p, shared_image, probs, CLASSES, &top);
  if (st != FER_OK) note_error(w, st);
  else if (memcmp(probs, expected_image_probs, sizeof probs) != 0) w->mismatches++;
}

/* The const calls on the shared handles themselves. */
static void run_shared_calls(worker *w) {
  float probs[CLASSES];
  fer_status st = fer_model_predict_image(shared_model, shared_image, probs, CLASSES, NULL);
  if (st != FER_OK) note_error(w, st);
  else if (memcmp(probs, expected_image_probs, sizeof probs) != 0) w->mismatches++;
  void *data = NULL;
  size_t size = 0;
  st = fer_model_save_memory(shared_model, FER_SAVE_DEFAULT, &data, &size);
  if (st != FER_OK) note_error(w, st);
  else if (size != expected_model_size || memcmp(data, expected_model_bytes, size) != 0)
    w->mismatches++;
  fer_free(data);
  data = NULL;
  st = fer_cascade_encode(shared_cascade, &data, &size);
  if (st != FER_OK) note_error(w, st);
  else if (size != expected_cascade_size || memcmp(data, expected_cascade_bytes, size) != 0)
    w->mismatches++;
  fer_free(data);
}

static void *run_worker(void *arg) {
  worker *w = arg;
  fer_analyzer *analyzers[PER_THREAD] = {0};
  fer_detector *detectors[PER_THREAD] = {0};
  fer_predictor *predictors[PER_THREAD] = {0};
  fer_status st = FER_OK;
  for (int i = 0; i < PER_THREAD && st == FER_OK; i++) {
    st = fer_analyzer_create(shared_model, shared_cascade, &analyzers[i]);
    if (st == FER_OK) st = fer_detector_create(shared_cascade, &detectors[i]);
    if (st == FER_OK) st = fer_predictor_create(shared_model, &predictors[i]);
  }
  if (st != FER_OK) note_error(w, st);
  /* Each thread starts with another kind of call, so different calls on
   * the shared handles overlap. */
  for (int round = 0; round < ROUNDS && st == FER_OK; round++) {
    for (int i = 0; i < PER_THREAD; i++) {
      switch ((w->index + round + i) % 4) {
      case 0: run_analyzer(w, analyzers[i]); break;
      case 1: run_detector(w, detectors[i]); break;
      case 2: run_predictor(w, predictors[i]); break;
      default: run_shared_calls(w); break;
      }
    }
  }
  /* A default analyzer of its own: built-in model and cascade, made while
   * other threads make theirs. */
  fer_analyzer *own = NULL;
  st = fer_analyzer_create_default(&own);
  if (st != FER_OK) note_error(w, st);
  fer_analyzer_free(own);
  for (int i = 0; i < PER_THREAD; i++) {
    fer_analyzer_free(analyzers[i]);
    fer_detector_free(detectors[i]);
    fer_predictor_free(predictors[i]);
  }
  return NULL;
}

static void test_shared_model_and_cascade(void) {
  if (!fer_analyzer_has_default_model() || !fer_analyzer_has_default_cascade())
    SKIP("this libfer has no built-in model or cascade");
  fer_model *model = NULL;
  fer_cascade *cascade = NULL;
  fer_image *img = NULL;
  char path[4096];
  snprintf(path, sizeof path, "%s/analyze/face_96.png", harness_fixtures());
  CHECK_OK(fer_default_model_load(&model));
  CHECK_OK(fer_default_cascade_load(&cascade));
  CHECK_OK(fer_image_load(path, FER_DECODE_DEFAULT, &img));
  if (!model || !cascade || !img) return;
  shared_model = model;
  shared_cascade = cascade;
  shared_image = img;

  fer_analyzer *an = NULL;
  CHECK_OK(fer_analyzer_create(model, cascade, &an));
  CHECK_OK(fer_analyzer_run(an, img, expected_faces, expected_probs, MAX_FACES, CLASSES,
                            &expected_face_count));
  CHECK(expected_face_count >= 1);
  CHECK_OK(fer_image_clone(img, &expected_annotated));
  CHECK_OK(fer_analyzer_annotate(an, expected_annotated, expected_faces, expected_face_count));
  fer_analyzer_free(an);
  fer_detector *det = NULL;
  CHECK_OK(fer_detector_create(cascade, &det));
  CHECK_OK(fer_detector_run(det, img, expected_detections, 32, &expected_detection_count));
  fer_detector_free(det);
  CHECK_OK(fer_model_predict_image(model, img, expected_image_probs, CLASSES, NULL));
  CHECK_OK(fer_model_save_memory(model, FER_SAVE_DEFAULT, &expected_model_bytes,
                                 &expected_model_size));
  CHECK_OK(fer_cascade_encode(cascade, &expected_cascade_bytes, &expected_cascade_size));

  pthread_t threads[THREADS];
  worker workers[THREADS];
  for (int t = 0; t < THREADS; t++) {
    workers[t] = (worker){.index = t};
    CHECK(pthread_create(&threads[t], NULL, run_worker, &workers[t]) == 0);
  }
  for (int t = 0; t < THREADS; t++) {
    pthread_join(threads[t], NULL);
    CHECK_MSG(workers[t].errors == 0, "thread %d: %d errors, first %s", t, workers[t].errors,
              workers[t].first_error);
    CHECK_EQ_INT(workers[t].mismatches, 0);
  }
  fer_free(expected_model_bytes);
  fer_free(expected_cascade_bytes);
  fer_image_free(expected_annotated);
  fer_image_free(img);
  fer_cascade_free(cascade);
  fer_model_free(model);
}

int main(void) {
  /* One library thread per call: the test's own threads make the
   * concurrency (and TSan's build has no OpenMP). */
  fer_set_num_threads(1);
  RUN(test_shared_model_and_cascade);
  return harness_finish();
}
