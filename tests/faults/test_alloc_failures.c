/*
 * Allocation-failure injection across the public API, as SQLite's malloc
 * tests do: for each representative call (load an image of every codec,
 * save and encode images, load and save a model and a cascade, the default
 * analyzer, analyze and annotate, a detector run, one training step, a
 * predictor, a tracker update, a data set), the Nth allocation fails for
 * N = 1, 2, ... until the call makes fewer than N allocations, so every
 * allocation it makes fails once. Each attempt must
 *  - return FER_OK (a failure the call could absorb) or
 *    FER_ERR_OUT_OF_MEMORY with a message, never another status;
 *  - set its out pointer to NULL on failure and leave no file behind;
 *  - leak nothing (the ASan+UBSan suite runs this program under LSan);
 *  - leave the objects it was given usable: the same call without failures
 *    then gives the same result as on an object that never saw a failure,
 *    and a failed training step leaves the weights and the optimizer as
 *    they were.
 * One thread (fer_set_num_threads(1)): the failure counter is per thread,
 * so it must see every allocation.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core_internal.h"
#include "harness.h"

/* ---- The driver -------------------------------------------------------- */

/* One attempt: `n` is the allocation to fail. The attempt arms the failure
 * with trial_arm() right before the calls under test and disarms it right
 * after with trial_disarm(), so its own checks allocate freely. */
typedef struct trial {
  long n;
  int pending; /* the failure never happened: the calls made < n allocations */
} trial;

static void trial_arm(trial *t) {
  fer_clear_error();
  fer__alloc_fail_after(t->n);
}

static void trial_disarm(trial *t) {
  t->pending = fer__alloc_failure_pending();
  fer__alloc_fail_after(0);
}

typedef fer_status (*attempt_fn)(void *ctx, trial *t);

static long total_attempts;

/* Runs `attempt` for N = 1, 2, ... until an attempt completes without
 * reaching its Nth allocation, and checks each status. */
static void every_allocation(const char *name, attempt_fn attempt, void *ctx) {
  enum { LIMIT = 100000 };
  long n = 1;
  for (; n < LIMIT; n++) {
    trial t = {n, 0};
    fer_status st = attempt(ctx, &t);
    total_attempts++;
    if (t.pending) {
      CHECK_MSG(st == FER_OK, "%s: %s without a failure: %s", name, fer_status_string(st),
                fer_last_error());
      break;
    }
    CHECK_MSG(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY, "%s: allocation %ld failed: %s (%s)",
              name, n, fer_status_string(st), fer_last_error());
    if (st == FER_ERR_OUT_OF_MEMORY)
      CHECK_MSG(fer_last_error()[0] != '\0', "%s: allocation %ld: no message", name, n);
  }
  CHECK_MSG(n < LIMIT, "%s: still allocating after %d attempts", name, LIMIT);
  fprintf(stderr, "  %-34s %5ld allocations\n", name, n - 1);
}

/* ---- Fixtures ---------------------------------------------------------- */

static char *fixture_path(const char *relative) {
  static char paths[8][4096];
  static int next;
  char *p = paths[next++ % 8];
  snprintf(p, sizeof paths[0], "%s/%s", harness_fixtures(), relative);
  return p;
}

static char *source_path(const char *relative) {
  static char path[4096];
  const char *root = getenv("FER_SOURCE_ROOT");
  snprintf(path, sizeof path, "%s/%s", root ? root : ".", relative);
  return path;
}

static char temp_dir[] = "/tmp/fer-alloc-XXXXXX";

/* Entries of temp_dir, so a failed save that left a temporary file shows. */
static int temp_dir_entries(void) {
  DIR *d = opendir(temp_dir);
  int count = 0;
  struct dirent *e;
  while (d && (e = readdir(d)) != NULL)
    if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) count++;
  if (d) closedir(d);
  return count;
}

static void remove_temp_files(void) {
  DIR *d = opendir(temp_dir);
  struct dirent *e;
  char path[4200];
  while (d && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    snprintf(path, sizeof path, "%s/%s", temp_dir, e->d_name);
    unlink(path);
  }
  if (d) closedir(d);
}

static fer_model *small_model(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text("input 1x16x16\nconv 4 3x3 same\nbn\nrelu\nmax 2x2/2\n"
                               "drop 0.25\ndense 7\nsoftmax\n",
                               &m));
  if (m) CHECK_OK(fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 7));
  return m;
}

/* The serialised model, to compare weights byte for byte. */
static void model_bytes(const fer_model *m, void **data, size_t *size) {
  *data = NULL;
  *size = 0;
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_DEFAULT, data, size));
}

static int same_model(const fer_model *a, const void *bytes, size_t size) {
  void *data;
  size_t n;
  model_bytes(a, &data, &n);
  int same = n == size && data && memcmp(data, bytes, n) == 0;
  fer_free(data);
  return same;
}

/* ---- Images ------------------------------------------------------------ */

typedef struct image_case {
  const char *path;
  fer_image *reference;
} image_case;

static fer_status attempt_image_load(void *ctx, trial *t) {
  image_case *c = ctx;
  fer_image *img = (fer_image *)&img; /* must come back NULL on failure */
  trial_arm(t);
  fer_status st = fer_image_load(c->path, FER_DECODE_DEFAULT, &img);
  trial_disarm(t);
  if (st != FER_OK) CHECK(img == NULL);
  else CHECK_MSG(harness_images_equal(img, c->reference), "%s decodes differently", c->path);
  fer_image_free(st == FER_OK ? img : NULL);
  return st;
}

static void test_image_load(void) {
  static const char *const files[] = {
      "png/adam7_rgb8_37x23.png",
      "jpeg/gray_progressive_41x29.jpg",
      "jpeg/exif_orientation_6.jpg",
      "jpeg/restart_ahead1_35x37.jpg",
      "image/codec/hand_rle4.bmp",
      "image/codec/hand_p6_maxval1000.ppm",
  };
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    image_case c = {fixture_path(files[i]), NULL};
    CHECK_OK(fer_image_load(c.path, FER_DECODE_DEFAULT, &c.reference));
    if (!c.reference) continue;
    every_allocation(files[i], attempt_image_load, &c);
    fer_image_free(c.reference);
  }
}

typedef struct image_save_case {
  const fer_image *img;
  fer_image_format format;
} image_save_case;

static fer_status attempt_image_save(void *ctx, trial *t) {
  image_save_case *c = ctx;
  char path[4200];
  snprintf(path, sizeof path, "%s/out.%s", temp_dir,
           c->format == FER_IMAGE_FORMAT_PNG   ? "png"
           : c->format == FER_IMAGE_FORMAT_BMP ? "bmp"
                                                : "ppm");
  void *data = (void *)&data;
  size_t size = 1;
  trial_arm(t);
  fer_status st = fer_image_save(c->img, path, c->format);
  fer_status st_memory = fer_image_encode(c->img, c->format, &data, &size);
  trial_disarm(t);
  if (st_memory != FER_OK) CHECK(data == NULL && size == 0);
  if (st != FER_OK) {
    CHECK_MSG(temp_dir_entries() == 0, "a failed save left a file in %s", temp_dir);
  } else {
    fer_image *back = NULL;
    CHECK_OK(fer_image_load(path, FER_DECODE_DEFAULT, &back));
    CHECK(back && harness_images_equal(back, c->img));
    fer_image_free(back);
  }
  if (st_memory == FER_OK) fer_free(data);
  remove_temp_files();
  return st != FER_OK ? st : st_memory;
}

static void test_image_save(void) {
  fer_image *img = NULL;
  CHECK_OK(fer_image_load(fixture_path("png/adam7_rgb8_37x23.png"), FER_DECODE_DEFAULT, &img));
  if (!img) return;
  static const fer_image_format formats[] = {FER_IMAGE_FORMAT_PNG, FER_IMAGE_FORMAT_BMP,
                                             FER_IMAGE_FORMAT_PNM};
  static const char *const names[] = {"image save+encode PNG", "image save+encode BMP",
                                      "image save+encode PNM"};
  for (size_t i = 0; i < 3; i++) {
    image_save_case c = {img, formats[i]};
    every_allocation(names[i], attempt_image_save, &c);
  }
  fer_image_free(img);
}

/* ---- Models ------------------------------------------------------------ */

typedef struct model_load_case {
  const char *path;
  void *file; /* the file's bytes, for load_memory */
  size_t file_size;
  long reference_params;
} model_load_case;

static fer_status attempt_model_load(void *ctx, trial *t) {
  model_load_case *c = ctx;
  fer_model *from_file = (fer_model *)&from_file, *from_memory = (fer_model *)&from_memory;
  trial_arm(t);
  fer_status st = fer_model_load(c->path, &from_file);
  fer_status st_memory = fer_model_load_memory(c->file, c->file_size, &from_memory);
  trial_disarm(t);
  fer_model *loaded[2] = {from_file, from_memory};
  fer_status statuses[2] = {st, st_memory};
  for (int i = 0; i < 2; i++) {
    if (statuses[i] != FER_OK) CHECK_MSG(loaded[i] == NULL, "allocation %ld: *out not NULL", t->n);
    else CHECK_EQ_INT(fer_model_num_params(loaded[i], NULL, NULL), c->reference_params);
    if (statuses[i] == FER_OK) fer_model_free(loaded[i]);
  }
  return st != FER_OK ? st : st_memory;
}

static void test_model_load(void) {
  model_load_case c = {source_path("models/default.ferm"), NULL, 0, 0};
  fer_model *m = NULL;
  if (fer_model_load(c.path, &m) != FER_OK) SKIP("%s: %s", c.path, fer_last_error());
  c.reference_params = fer_model_num_params(m, NULL, NULL);
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_DEFAULT, &c.file, &c.file_size));
  fer_model_free(m);
  every_allocation("model load (file, memory)", attempt_model_load, &c);
  fer_free(c.file);
}

typedef struct model_save_case {
  const fer_model *model;
  const void *reference;
  size_t reference_size;
} model_save_case;

static fer_status attempt_model_save(void *ctx, trial *t) {
  model_save_case *c = ctx;
  char path[4200];
  snprintf(path, sizeof path, "%s/model.ferm", temp_dir);
  void *data = (void *)&data;
  size_t size = 1;
  trial_arm(t);
  fer_status st = fer_model_save(c->model, path, FER_SAVE_DEFAULT);
  fer_status st_memory = fer_model_save_memory(c->model, FER_SAVE_DEFAULT, &data, &size);
  trial_disarm(t);
  if (st != FER_OK) CHECK_MSG(temp_dir_entries() == 0, "a failed save left a file in %s", temp_dir);
  if (st_memory != FER_OK) CHECK(data == NULL && size == 0);
  else {
    CHECK(size == c->reference_size && memcmp(data, c->reference, size) == 0);
    fer_free(data);
  }
  if (st == FER_OK) {
    fer_model *back = NULL;
    CHECK_OK(fer_model_load(path, &back));
    CHECK(back && same_model(back, c->reference, c->reference_size));
    fer_model_free(back);
  }
  remove_temp_files();
  return st != FER_OK ? st : st_memory;
}

static void test_model_save(void) {
  fer_model *m = small_model();
  if (!m) return;
  model_save_case c = {m, NULL, 0};
  void *reference;
  model_bytes(m, &reference, &c.reference_size);
  c.reference = reference;
  every_allocation("model save (file, memory)", attempt_model_save, &c);
  fer_free(reference);
  fer_model_free(m);
}

/* ---- Training ---------------------------------------------------------- */

enum { BATCH = 4, SIDE = 16 };

typedef struct train_case {
  float x[BATCH * SIDE * SIDE];
  int32_t labels[BATCH];
  float reference_loss;
  void *reference_after; /* the model after one undisturbed step */
  size_t reference_size;
} train_case;

/* A fresh model and optimizer each attempt: the first step allocates the
 * workspace and the optimizer's moments, later ones nothing. */
static fer_status attempt_train_step(void *ctx, trial *t) {
  train_case *c = ctx;
  fer_model *m = small_model();
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAMW, &opt));
  if (!m || !opt) {
    fer_model_free(m);
    fer_optimizer_free(opt);
    return FER_ERR_INTERNAL;
  }
  void *before;
  size_t before_size;
  model_bytes(m, &before, &before_size);
  float loss = -1, accuracy = -1;
  trial_arm(t);
  fer_status st = fer_model_train_step(m, opt, c->x, c->labels, BATCH, &loss, &accuracy);
  trial_disarm(t);
  if (st != FER_OK) {
    CHECK_MSG(same_model(m, before, before_size), "allocation %ld: a failed step changed the model",
              t->n);
    CHECK_EQ_INT(fer_optimizer_steps(opt), 0);
    /* The same model and optimizer then train as if nothing happened. */
    CHECK_OK(fer_model_train_step(m, opt, c->x, c->labels, BATCH, &loss, &accuracy));
  }
  CHECK_MSG(loss == c->reference_loss, "allocation %ld: loss %.9g, expected %.9g", t->n,
            (double)loss, (double)c->reference_loss);
  CHECK_MSG(same_model(m, c->reference_after, c->reference_size),
            "allocation %ld: the weights after the step differ", t->n);
  fer_free(before);
  fer_model_free(m);
  fer_optimizer_free(opt);
  return st;
}

static void test_train_step(void) {
  train_case c;
  uint32_t s = 12345;
  for (size_t i = 0; i < sizeof c.x / sizeof c.x[0]; i++) {
    s = s * 1664525u + 1013904223u;
    c.x[i] = (float)(s >> 8) / (float)(1u << 24) - 0.5f;
  }
  for (int i = 0; i < BATCH; i++) c.labels[i] = (i * 3) % 7;
  fer_model *m = small_model();
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAMW, &opt));
  if (!m || !opt) return;
  CHECK_OK(fer_model_train_step(m, opt, c.x, c.labels, BATCH, &c.reference_loss, NULL));
  model_bytes(m, &c.reference_after, &c.reference_size);
  fer_model_free(m);
  fer_optimizer_free(opt);
  every_allocation("model train step (AdamW)", attempt_train_step, &c);
  fer_free(c.reference_after);
}

/* Two epochs of fer_trainer_fit with a state file, a checkpoint and a
 * history. A fit that fails part way is then run again as a new process
 * would: a fresh trainer and the model as first built, resuming from
 * whatever state file the failed fit left. It must end with the weights of
 * a fit that never failed. (The model given to the failed fit holds the
 * weights it reached, as after any interrupted fit.) */
enum { FIT_SAMPLES = 12 };

typedef struct fit_case {
  fer_dataset *data;
  void *reference; /* the model after an undisturbed fit */
  size_t reference_size;
} fit_case;

static fer_trainer *fit_trainer(void) {
  fer_trainer *tr = NULL;
  if (fer_trainer_create(&tr) != FER_OK) return NULL;
  char path[4200];
  static const fer_train_path keys[] = {FER_TRAIN_PATH_STATE, FER_TRAIN_PATH_CHECKPOINT,
                                        FER_TRAIN_PATH_HISTORY};
  static const char *const names[] = {"fit.state", "fit-best.ferm", "fit-history.csv"};
  for (int i = 0; i < 3; i++) {
    snprintf(path, sizeof path, "%s/%s", temp_dir, names[i]);
    CHECK_OK(fer_trainer_set_path(tr, keys[i], path));
  }
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_EPOCHS, 2));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_BATCH_SIZE, 4));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_VALIDATION_FRACTION, 0.25));
  CHECK_OK(fer_trainer_set(tr, FER_TRAIN_SEED, 3));
  return tr;
}

static fer_status attempt_fit(void *ctx, trial *t) {
  fit_case *c = ctx;
  fer_model *m = small_model();
  fer_trainer *tr = fit_trainer();
  if (!m || !tr) {
    fer_model_free(m);
    fer_trainer_free(tr);
    return FER_ERR_INTERNAL;
  }
  trial_arm(t);
  fer_status st = fer_trainer_fit(tr, m, c->data, NULL);
  trial_disarm(t);
  fer_trainer_free(tr);
  if (st != FER_OK) {
    fer_model_free(m);
    m = small_model();
    fer_trainer *again = fit_trainer();
    if (again && m) CHECK_OK(fer_trainer_fit(again, m, c->data, NULL));
    fer_trainer_free(again);
  }
  CHECK_MSG(same_model(m, c->reference, c->reference_size),
            "allocation %ld: the fit (resumed after %s) ends with other weights", t->n,
            fer_status_string(st));
  /* The state, the checkpoint and the history; no temporary file. */
  CHECK_MSG(temp_dir_entries() == 3, "allocation %ld: %d files after the fit", t->n,
            temp_dir_entries());
  remove_temp_files();
  fer_model_free(m);
  return st;
}

static void test_fit(void) {
  fit_case c = {0};
  uint8_t pixels[FIT_SAMPLES * SIDE * SIDE];
  int32_t labels[FIT_SAMPLES];
  uint32_t s = 777;
  for (size_t i = 0; i < sizeof pixels; i++) {
    s = s * 1664525u + 1013904223u;
    pixels[i] = (uint8_t)(s >> 24);
  }
  for (int i = 0; i < FIT_SAMPLES; i++) labels[i] = i % 7;
  CHECK_OK(fer_dataset_from_u8(pixels, labels, FIT_SAMPLES, 1, SIDE, SIDE, NULL, 7, &c.data));
  fer_model *m = small_model();
  fer_trainer *tr = fit_trainer();
  if (!c.data || !m || !tr) return;
  CHECK_OK(fer_trainer_fit(tr, m, c.data, NULL));
  model_bytes(m, &c.reference, &c.reference_size);
  fer_trainer_free(tr);
  fer_model_free(m);
  remove_temp_files();
  every_allocation("trainer fit (2 epochs, files)", attempt_fit, &c);
  fer_free(c.reference);
  fer_dataset_free(c.data);
}

/* ---- Predictor --------------------------------------------------------- */

typedef struct predict_case {
  const fer_model *model;
  const fer_image *img;
  float reference[7];
} predict_case;

static fer_status attempt_predictor(void *ctx, trial *t) {
  predict_case *c = ctx;
  fer_predictor *p = (fer_predictor *)&p;
  float probs[7] = {0};
  int top = -1;
  trial_arm(t);
  fer_status st = fer_predictor_create(c->model, &p);
  if (st == FER_OK) st = fer_predictor_run_image(p, c->img, probs, 7, &top);
  trial_disarm(t);
  if (p == (fer_predictor *)&p) {
    CHECK_MSG(0, "fer_predictor_create left *out unset");
    p = NULL;
  }
  if (p && st != FER_OK) {
    /* The predictor that saw the failure works afterwards. */
    CHECK_OK(fer_predictor_run_image(p, c->img, probs, 7, &top));
  }
  if (p) CHECK(memcmp(probs, c->reference, sizeof probs) == 0);
  fer_predictor_free(p);
  return st;
}

static void test_predictor(void) {
  predict_case c = {small_model(), NULL, {0}};
  fer_image *img = NULL;
  CHECK_OK(fer_image_load(fixture_path("png/adam7_rgb8_37x23.png"), FER_DECODE_DEFAULT, &img));
  c.img = img;
  if (!c.model || !img) return;
  CHECK_OK(fer_model_predict_image(c.model, img, c.reference, 7, NULL));
  every_allocation("predictor create+run", attempt_predictor, &c);
  fer_image_free(img);
  fer_model_free((fer_model *)c.model);
}

/* ---- Cascades and the detector ----------------------------------------- */

typedef struct cascade_case {
  const char *path;
  int stages;
} cascade_case;

static fer_status attempt_cascade_load(void *ctx, trial *t) {
  cascade_case *c = ctx;
  fer_cascade *cascade = (fer_cascade *)&cascade;
  trial_arm(t);
  fer_status st = fer_cascade_load(c->path, &cascade);
  trial_disarm(t);
  if (st != FER_OK) CHECK(cascade == NULL);
  else CHECK_EQ_INT(fer_cascade_stage_count(cascade), c->stages);
  if (st == FER_OK) fer_cascade_free(cascade);
  return st;
}

static void cascade_every_allocation(const char *name, const char *path) {
  fer_cascade *cascade = NULL;
  if (fer_cascade_load(path, &cascade) != FER_OK) {
    fprintf(stderr, "  %s: skipped (%s)\n", name, fer_last_error());
    return;
  }
  cascade_case c = {path, fer_cascade_stage_count(cascade)};
  fer_cascade_free(cascade);
  every_allocation(name, attempt_cascade_load, &c);
}

static void test_cascade_load(void) {
  cascade_every_allocation("cascade load (binary)", source_path("models/frontalface.fercascade"));
  /* Small OpenCV XML cascades (Haar and LBP), so every N stays quick. */
  cascade_every_allocation("cascade load (Haar XML)",
                           "/usr/share/opencv4/haarcascades/haarcascade_licence_plate_rus_16stages.xml");
  cascade_every_allocation("cascade load (LBP XML)",
                           "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml");
}

typedef struct cascade_save_case {
  const fer_cascade *cascade;
  const void *encoded; /* fer_cascade_encode, undisturbed */
  size_t encoded_size;
} cascade_save_case;

static fer_status attempt_cascade_save(void *ctx, trial *t) {
  cascade_save_case *c = ctx;
  char binary_path[4200], xml_path[4200];
  snprintf(binary_path, sizeof binary_path, "%s/cascade.fercascade", temp_dir);
  snprintf(xml_path, sizeof xml_path, "%s/cascade.xml", temp_dir);
  void *data = (void *)&data;
  char *xml = (char *)&xml;
  size_t size = 1, xml_size = 1;
  trial_arm(t);
  fer_status statuses[4] = {
      fer_cascade_save(c->cascade, binary_path),
      fer_cascade_encode(c->cascade, &data, &size),
      fer_cascade_save_xml(c->cascade, xml_path),
      fer_cascade_encode_xml(c->cascade, &xml, &xml_size),
  };
  trial_disarm(t);
  fer_status st = FER_OK;
  for (int i = 0; i < 4; i++)
    if (statuses[i] != FER_OK && st == FER_OK) st = statuses[i];
  if (statuses[1] == FER_OK) {
    CHECK(size == c->encoded_size && memcmp(data, c->encoded, size) == 0);
    fer_free(data);
  } else {
    CHECK(data == NULL && size == 0);
  }
  if (statuses[3] == FER_OK) fer_free(xml);
  else CHECK(xml == NULL && xml_size == 0);
  /* What was saved loads back to the same cascade; what failed left no
   * file. */
  const char *paths[2] = {binary_path, xml_path};
  for (int i = 0; i < 2; i++) {
    struct stat info;
    if (statuses[2 * i] != FER_OK) {
      CHECK_MSG(stat(paths[i], &info) != 0, "allocation %ld: a failed save left %s", t->n,
                paths[i]);
      continue;
    }
    fer_cascade *back = NULL;
    void *again = NULL;
    size_t again_size = 0;
    CHECK_OK(fer_cascade_load(paths[i], &back));
    if (back) CHECK_OK(fer_cascade_encode(back, &again, &again_size));
    CHECK_MSG(again && again_size == c->encoded_size &&
                  memcmp(again, c->encoded, again_size) == 0,
              "allocation %ld: %s loads back differently", t->n, paths[i]);
    fer_free(again);
    fer_cascade_free(back);
  }
  CHECK_MSG(temp_dir_entries() == (statuses[0] == FER_OK) + (statuses[2] == FER_OK),
            "allocation %ld: a failed save left a temporary file", t->n);
  remove_temp_files();
  return st;
}

static void test_cascade_save(void) {
  fer_cascade *cascade = NULL;
  const char *path = "/usr/share/opencv4/haarcascades/haarcascade_licence_plate_rus_16stages.xml";
  if (fer_cascade_load(path, &cascade) != FER_OK) {
    fprintf(stderr, "  cascade save: skipped (%s)\n", fer_last_error());
    return;
  }
  cascade_save_case c = {cascade, NULL, 0};
  void *encoded = NULL;
  CHECK_OK(fer_cascade_encode(cascade, &encoded, &c.encoded_size));
  c.encoded = encoded;
  every_allocation("cascade save+encode (bin, XML)", attempt_cascade_save, &c);
  fer_free(encoded);
  fer_cascade_free(cascade);
}

typedef struct detect_case {
  const fer_cascade *cascade;
  const fer_image *img;
  fer_detection reference[16];
  size_t reference_count;
} detect_case;

static fer_status attempt_detect(void *ctx, trial *t) {
  detect_case *c = ctx;
  fer_detector *det = (fer_detector *)&det;
  fer_detection found[16];
  size_t count = 0;
  trial_arm(t);
  fer_status st = fer_detector_create(c->cascade, &det);
  if (st == FER_OK) st = fer_detector_run(det, c->img, found, 16, &count);
  trial_disarm(t);
  if (det == (fer_detector *)&det) {
    CHECK_MSG(0, "fer_detector_create left *out unset");
    det = NULL;
  }
  if (det && st != FER_OK) CHECK_OK(fer_detector_run(det, c->img, found, 16, &count));
  if (det) {
    CHECK_EQ_INT(count, c->reference_count);
    CHECK(count > 16 || memcmp(found, c->reference, count * sizeof *found) == 0);
  }
  fer_detector_free(det);
  return st;
}

/* ---- The analyzer ------------------------------------------------------ */

typedef struct analyze_case {
  const fer_model *model;
  const fer_cascade *cascade;
  const fer_image *img;
  fer_face reference[8];
  float reference_probs[8 * 7];
  size_t reference_count;
  fer_image *reference_annotated;
} analyze_case;

/* Create, run and annotate; a failure at any point, then the same analyzer
 * run again without failures gives the reference faces. */
static fer_status attempt_analyze(void *ctx, trial *t) {
  analyze_case *c = ctx;
  fer_analyzer *an = (fer_analyzer *)&an;
  fer_face faces[8];
  float probs[8 * 7];
  size_t count = 0;
  fer_image *canvas = NULL;
  CHECK_OK(fer_image_clone(c->img, &canvas));
  trial_arm(t);
  fer_status st = fer_analyzer_create(c->model, c->cascade, &an);
  if (st == FER_OK) st = fer_analyzer_run(an, c->img, faces, probs, 8, 7, &count);
  if (st == FER_OK) st = fer_analyzer_annotate(an, canvas, faces, count);
  trial_disarm(t);
  if (an == (fer_analyzer *)&an) {
    CHECK_MSG(0, "fer_analyzer_create left *out unset");
    an = NULL;
  }
  if (an && st != FER_OK) {
    CHECK_OK(fer_analyzer_run(an, c->img, faces, probs, 8, 7, &count));
    fer_image_free(canvas);
    canvas = NULL;
    CHECK_OK(fer_image_clone(c->img, &canvas));
    CHECK_OK(fer_analyzer_annotate(an, canvas, faces, count));
  }
  if (an) {
    CHECK_EQ_INT(count, c->reference_count);
    CHECK(count > 8 || (memcmp(faces, c->reference, count * sizeof *faces) == 0 &&
                        memcmp(probs, c->reference_probs, count * 7 * sizeof *probs) == 0));
    CHECK_MSG(canvas && harness_images_equal(canvas, c->reference_annotated),
              "allocation %ld: the annotated image differs", t->n);
  }
  fer_image_free(canvas);
  fer_analyzer_free(an);
  return st;
}

static fer_status attempt_analyzer_default(void *ctx, trial *t) {
  (void)ctx;
  fer_analyzer *an = (fer_analyzer *)&an;
  trial_arm(t);
  fer_status st = fer_analyzer_create_default(&an);
  trial_disarm(t);
  if (st != FER_OK) CHECK(an == NULL);
  else CHECK_EQ_INT(fer_analyzer_num_classes(an), 7);
  if (st == FER_OK) fer_analyzer_free(an);
  return st;
}

static void test_analyzer_and_detector(void) {
  if (!fer_analyzer_has_default_model() || !fer_analyzer_has_default_cascade()) {
    fprintf(stderr, "  analyzer: skipped (no built-in model or cascade)\n");
    return;
  }
  every_allocation("analyzer create default", attempt_analyzer_default, NULL);

  analyze_case c = {0};
  fer_model *model = NULL;
  fer_cascade *cascade = NULL;
  fer_image *img = NULL;
  CHECK_OK(fer_default_model_load(&model));
  CHECK_OK(fer_default_cascade_load(&cascade));
  CHECK_OK(fer_image_load(fixture_path("analyze/face_96.png"), FER_DECODE_DEFAULT, &img));
  if (!model || !cascade || !img) return;
  c.model = model;
  c.cascade = cascade;
  c.img = img;
  fer_analyzer *an = NULL;
  CHECK_OK(fer_analyzer_create(model, cascade, &an));
  CHECK_OK(fer_analyzer_run(an, img, c.reference, c.reference_probs, 8, 7, &c.reference_count));
  CHECK_MSG(c.reference_count >= 1, "the fixture shows no face");
  CHECK_OK(fer_image_clone(img, &c.reference_annotated));
  CHECK_OK(fer_analyzer_annotate(an, c.reference_annotated, c.reference, c.reference_count));
  fer_analyzer_free(an);
  every_allocation("analyzer create+run+annotate", attempt_analyze, &c);

  detect_case d = {.cascade = cascade, .img = img};
  fer_detector *det = NULL;
  CHECK_OK(fer_detector_create(cascade, &det));
  CHECK_OK(fer_detector_run(det, img, d.reference, 16, &d.reference_count));
  fer_detector_free(det);
  every_allocation("detector create+run", attempt_detect, &d);

  fer_image_free(c.reference_annotated);
  fer_image_free(img);
  fer_cascade_free(cascade);
  fer_model_free(model);
}

/* ---- Tracker ----------------------------------------------------------- */

/* Three frames through a fresh tracker: the first update grows its buffers. A
 * failed update leaves the tracker unchanged, so repeating it gives the same
 * ids as an undisturbed run. */
static fer_status attempt_tracker(void *ctx, trial *t) {
  (void)ctx;
  static const fer_rect frames[3][3] = {
      {{10, 10, 40, 40}, {100, 20, 30, 30}, {0, 0, 0, 0}},
      {{12, 11, 40, 40}, {101, 22, 30, 30}, {200, 200, 20, 20}},
      {{14, 12, 40, 40}, {300, 300, 25, 25}, {202, 201, 20, 20}},
  };
  static const int counts[3] = {2, 3, 3};
  static const int32_t expected_ids[3][3] = {{1, 2, 0}, {1, 2, 3}, {1, 4, 3}};
  float probs[3 * 7];
  for (int i = 0; i < 3 * 7; i++) probs[i] = (float)((i * 5) % 7) / 7.0f;
  fer_tracker *tracker = (fer_tracker *)&tracker;
  fer_status first = FER_OK;
  trial_arm(t);
  fer_status st = fer_tracker_create(7, &tracker);
  trial_disarm(t);
  if (st != FER_OK) {
    CHECK(tracker == NULL);
    return st;
  }
  for (int f = 0; f < 3; f++) {
    int32_t ids[3] = {0};
    float smoothed[3 * 7];
    int top[3];
    fer_rect boxes[3];
    if (first == FER_OK) trial_arm(t);
    st = fer_tracker_update(tracker, frames[f], probs, counts[f], ids, smoothed, top, boxes);
    if (first == FER_OK) trial_disarm(t);
    if (st != FER_OK) {
      first = st;
      st = fer_tracker_update(tracker, frames[f], probs, counts[f], ids, smoothed, top, boxes);
      CHECK_OK(st);
    }
    CHECK(memcmp(ids, expected_ids[f], (size_t)counts[f] * sizeof ids[0]) == 0);
  }
  fer_tracker_free(tracker);
  return first;
}

/* ---- Y4M video ---------------------------------------------------------- */

/* Two frames written through a Y4M writer on a memory stream, then read
 * back with a reader: the bytes and the frames as without failures. */
typedef struct y4m_case {
  const fer_image *frame;
  const char *stream; /* the undisturbed stream */
  size_t stream_size;
  fer_image *decoded; /* a frame read back from it */
} y4m_case;

/* Reads up to two frames of `stream` into frames[]; the reader's status. */
static fer_status read_y4m(const char *stream, size_t size, fer_image **frames, int *count) {
  FILE *in = fmemopen((void *)(uintptr_t)stream, size, "rb");
  if (!in) return FER_ERR_INTERNAL;
  fer_y4m_reader *reader = (fer_y4m_reader *)&reader;
  *count = 0;
  fer_status st = fer_y4m_reader_from_file(in, &reader);
  if (st != FER_OK) CHECK_MSG(reader == NULL, "a failed reader left *out set");
  for (int got = 1; st == FER_OK && *count < 2 && got;) {
    st = fer_y4m_reader_next(reader, &got);
    if (st == FER_OK && got) st = fer_y4m_reader_image(reader, 0, &frames[(*count)++]);
  }
  if (reader != (fer_y4m_reader *)&reader) fer_y4m_reader_free(reader);
  fclose(in);
  return st;
}

static fer_status attempt_y4m(void *ctx, trial *t) {
  y4m_case *c = ctx;
  char *written = NULL;
  size_t written_size = 0;
  FILE *out = open_memstream(&written, &written_size);
  if (!out) return FER_ERR_INTERNAL;
  fer_y4m_writer *writer = (fer_y4m_writer *)&writer;
  fer_image *frames[2] = {NULL, NULL};
  int count = 0;
  trial_arm(t);
  fer_status st = fer_y4m_writer_from_file(out, fer_image_width(c->frame),
                                           fer_image_height(c->frame), 0, &writer);
  if (st != FER_OK) {
    CHECK_MSG(writer == NULL, "a failed writer left *out set");
  } else {
    for (int i = 0; i < 2 && st == FER_OK; i++) st = fer_y4m_writer_write(writer, c->frame);
    fer_status closed = fer_y4m_writer_close(writer); /* frees it, even after an error */
    if (st == FER_OK) st = closed;
  }
  fer_status st_read = read_y4m(c->stream, c->stream_size, frames, &count);
  trial_disarm(t);
  fclose(out);
  if (st == FER_OK)
    CHECK(written_size == c->stream_size && memcmp(written, c->stream, written_size) == 0);
  free(written);
  if (st_read == FER_OK) {
    CHECK_EQ_INT(count, 2);
    for (int i = 0; i < count; i++) CHECK(harness_images_equal(frames[i], c->decoded));
  }
  for (int i = 0; i < count; i++) fer_image_free(frames[i]);
  return st != FER_OK ? st : st_read;
}

static void test_y4m(void) {
  fer_image *frame = NULL;
  CHECK_OK(fer_image_load(fixture_path("png/adam7_rgb8_37x23.png"), FER_DECODE_DEFAULT, &frame));
  if (!frame) return;
  char *stream = NULL;
  size_t stream_size = 0;
  FILE *out = open_memstream(&stream, &stream_size);
  fer_y4m_writer *writer = NULL;
  CHECK_OK(fer_y4m_writer_from_file(out, 37, 23, 0, &writer));
  CHECK_OK(fer_y4m_writer_write(writer, frame));
  CHECK_OK(fer_y4m_writer_write(writer, frame));
  CHECK_OK(fer_y4m_writer_close(writer));
  fclose(out);
  y4m_case c = {frame, stream, stream_size, NULL};
  fer_image *frames[2] = {NULL, NULL};
  int count = 0;
  CHECK_OK(read_y4m(stream, stream_size, frames, &count));
  CHECK_EQ_INT(count, 2);
  c.decoded = frames[0];
  if (c.decoded) every_allocation("Y4M write+read (2 frames)", attempt_y4m, &c);
  for (int i = 0; i < count; i++) fer_image_free(frames[i]);
  free(stream);
  fer_image_free(frame);
}

/* ---- Data sets --------------------------------------------------------- */

static fer_status attempt_dataset(void *ctx, trial *t) {
  size_t *reference_count = ctx;
  fer_dataset *ds = (fer_dataset *)&ds;
  trial_arm(t);
  fer_status st =
      fer_dataset_load_folder(fixture_path("dataset/folders"), NULL, 0, 1, 12, 12, 0, &ds);
  trial_disarm(t);
  if (st != FER_OK) CHECK(ds == NULL);
  else CHECK_EQ_INT(fer_dataset_count(ds), *reference_count);
  if (st == FER_OK) fer_dataset_free(ds);
  return st;
}

static fer_status attempt_fer2013(void *ctx, trial *t) {
  size_t *reference_count = ctx;
  fer_dataset *ds = (fer_dataset *)&ds;
  trial_arm(t);
  fer_status st = fer_dataset_load_fer2013_csv(fixture_path("dataset/fer2013_small.csv.gz"),
                                               FER_USAGE_ALL, 0, &ds);
  trial_disarm(t);
  if (st != FER_OK) CHECK(ds == NULL);
  else CHECK_EQ_INT(fer_dataset_count(ds), *reference_count);
  if (st == FER_OK) fer_dataset_free(ds);
  return st;
}

static void test_tracker_and_dataset(void) {
  every_allocation("tracker create+update", attempt_tracker, NULL);
  fer_dataset *ds = NULL;
  CHECK_OK(fer_dataset_load_folder(fixture_path("dataset/folders"), NULL, 0, 1, 12, 12, 0, &ds));
  if (!ds) return;
  size_t count = fer_dataset_count(ds);
  fer_dataset_free(ds);
  every_allocation("data set load folder", attempt_dataset, &count);
  CHECK_OK(fer_dataset_load_fer2013_csv(fixture_path("dataset/fer2013_small.csv.gz"),
                                        FER_USAGE_ALL, 0, &ds));
  if (!ds) return;
  count = fer_dataset_count(ds);
  fer_dataset_free(ds);
  every_allocation("data set load FER2013 csv.gz", attempt_fer2013, &count);
}

int main(void) {
  fer_set_num_threads(1);
  if (!mkdtemp(temp_dir)) SKIP("cannot make a temporary folder");
  RUN(test_image_load);
  RUN(test_image_save);
  RUN(test_model_load);
  RUN(test_model_save);
  RUN(test_train_step);
  RUN(test_fit);
  RUN(test_predictor);
  RUN(test_cascade_load);
  RUN(test_cascade_save);
  RUN(test_analyzer_and_detector);
  RUN(test_tracker_and_dataset);
  RUN(test_y4m);
  remove_temp_files();
  rmdir(temp_dir);
  fprintf(stderr, "%ld attempts, each with one allocation failing\n", total_attempts);
  return harness_finish();
}
