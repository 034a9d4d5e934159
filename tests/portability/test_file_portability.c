/* libfer's own files are the same bytes on every host: models, cascades
 * and training states are little-endian on disk (docs/model-format.md,
 * docs/cascade-format.md, docs/training-state-format.md), so a file written
 * on one architecture loads on any other and gives the same results.
 *
 *   test_file_portability              (meson test) checks the files in
 *       tests/fixtures/portability/, written on x86-64, and a set this
 *       host writes into a temporary folder
 *   test_file_portability write DIR    writes a set into DIR
 *   test_file_portability check DIR    checks a set DIR written elsewhere
 *
 * A set is: model.ferm and model16.ferm (float32 and float16 weights, set
 * from integers, so every host builds the same model), cascade_*.fercascade
 * (OpenCV XML cascades encoded in libfer's format), state.ferstate with
 * trained.ferm (two epochs of fer_trainer_fit, the state and the model it
 * ended with), and outputs.txt: what the writing host computed from them
 * (predictions, raw detections, the training history), as bit patterns.
 *
 * Checking a set, this host
 *  - writes model, float16 model and cascades itself and compares bytes;
 *  - loads the set's files and compares their outputs with those of its own
 *    copies, bit for bit (same host, same arithmetic), and with the writer's
 *    outputs.txt: detections exactly, predictions within 1e-5 (the x86 GEMM
 *    kernels with FMA add in another order than the generic C ones);
 *  - resumes training from the state (nothing left to train) and finds
 *    trained.ferm's weights and the writer's history, bit for bit;
 *  - resumes it for one more epoch and reads the header of the state it
 *    writes as little-endian by hand.
 * tools/cross-check.sh s390x also writes a set under qemu-s390x (big-endian)
 * and checks it natively, and the other way round.
 * The fixtures were made on x86-64 with: test_file_portability write
 * tests/fixtures/portability */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../train/test_trainer_util.h"
#include "core/core_internal.h"
#include "util/crc32.h"
#include "util/endian.h"
#include "util/file.h"

enum { EPOCHS = 2, MAX_OUT = 64, MAX_DETECTIONS = 512, IMG_W = 32, IMG_H = 24 };

/* Every layer kind with parameters or settings, and a NORM section. A
 * default 'bn' caught s390x writing 'bn momentum=0.1 eps=1e-05' in the
 * architecture text (float constants evaluated in double, meson.build). */
static const char model_text[] =
    "input 1x12x10\n"
    "conv 4 3x3 same stride=1\nbn momentum=0.2 eps=0.001\nrelu\n"
    "conv 4 3x3 same\nbn\n" /* the defaults, which the text leaves out */
    "conv 4 3x3 pad=1 groups=4 nobias\nleaky 0.05\nmax 2x2/2\n"
    "conv 6 1x1\nelu 0.7\navg 2x2/1 pad=1\ntanh\n"
    "flatten\ndrop 0.3\ndense 9\nsigmoid\ndense 5 nobias\nsoftmax\n";

/* The cascades: OpenCV XML files from the fuzz seeds (Haar stumps, a Haar
 * tree with a tilted feature, LBP), relative to the source root. */
static const char *const cascade_names[] = {"haar_stumps", "haar_tree_tilted", "lbp"};
enum { CASCADES = sizeof cascade_names / sizeof cascade_names[0] };

/* ---- Things every host builds the same way ------------------------------ */

/* Exactly representable values from integers (no libm, no rounding). */
static float exact_value(long i, int salt) {
  return (float)((i * 37 + salt * 11) % 97 - 48) / 64.0f;
}

static fer_model *portable_model(void) {
  fer_model *m = NULL;
  if (fer_model_from_text(model_text, &m)) return NULL;
  size_t n = 0, s = 0;
  fer_model_get_parameters(m, NULL, 0, &n);
  fer_model_get_statistics(m, NULL, 0, &s);
  float *p = malloc((n + s + 1) * sizeof *p);
  for (size_t i = 0; i < n; i++) p[i] = exact_value((long)i, 1) / 4.0f;
  CHECK_OK(fer_model_set_parameters(m, p, n));
  /* positive: valid as means and as variances, whatever the order */
  for (size_t i = 0; i < s; i++) p[i] = 0.5f + (float)(i % 5) / 8.0f;
  CHECK_OK(fer_model_set_statistics(m, p, s));
  free(p);
  const char *names[] = {"north", "east", "south", "west", "still"};
  CHECK_OK(fer_model_set_class_names(m, names, 5));
  CHECK_OK(fer_model_set_preprocessing(m, 0.00390625f, 0.5f, 0.25f));
  CHECK_OK(fer_model_set_image_normalization(m, FER_NORM_STANDARDIZE, 0.75f));
  CHECK_OK(fer_model_set_metadata(m, "written by", "test_file_portability"));
  return m;
}

static void portable_input(float *x, int count) {
  for (int i = 0; i < count; i++) x[i] = exact_value(i, 3);
}

static fer_cascade *portable_cascade(int which) {
  const char *root = getenv("FER_SOURCE_ROOT");
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/fuzz/corpus/cascade_xml/%s.xml",
           root ? root : ".", cascade_names[which]);
  fer_cascade *c = NULL;
  CHECK_OK(fer_cascade_load(path, &c));
  return c;
}

/* A gray picture with bands and blocks of both contrasts, so that every
 * cascade above passes some windows. */
static fer_image *portable_image(void) {
  uint8_t pixels[IMG_W * IMG_H];
  uint32_t state = 12345;
  for (int y = 0; y < IMG_H; y++)
    for (int x = 0; x < IMG_W; x++) {
      state = state * 1664525u + 1013904223u;
      int base = ((x / 5 + y / 4) % 3) * 80 + ((x * y) % 7) * 6;
      pixels[y * IMG_W + x] = (uint8_t)(base + (state >> 28));
    }
  fer_image *img = NULL;
  CHECK_OK(fer_image_from_pixels(pixels, IMG_W, IMG_H, 0, FER_PIXEL_GRAY8, &img));
  return img;
}

/* ---- Outputs ------------------------------------------------------------ */

typedef struct outputs {
  int predictions;
  float predicted[MAX_OUT];
  size_t detections[CASCADES];
  fer_detection detected[CASCADES][MAX_DETECTIONS];
  int epochs;
  double history[EPOCHS][16];
  int columns;
} outputs;

static void predict(const fer_model *m, outputs *o) {
  int c, h, w;
  fer_model_input_shape(m, &c, &h, &w);
  float x[2 * 1 * 12 * 10];
  portable_input(x, 2 * c * h * w);
  o->predictions = 2 * fer_model_output_size(m);
  CHECK(o->predictions <= MAX_OUT);
  CHECK_OK(fer_model_predict(m, x, 2, o->predicted));
}

static void detect(const fer_cascade *c, int which, outputs *o) {
  fer_image *img = portable_image();
  fer_detector *det = NULL;
  CHECK_OK(fer_detector_create(c, &det));
  CHECK_OK(fer_detector_set(det, FER_DETECT_RAW, 1));
  CHECK_OK(fer_detector_set(det, FER_DETECT_SCALE_FACTOR, 1.25));
  CHECK_OK(fer_detector_run(det, img, o->detected[which], MAX_DETECTIONS,
                            &o->detections[which]));
  CHECK_MSG(o->detections[which] > 0, "cascade %s finds nothing to compare",
            cascade_names[which]);
  fer_detector_free(det);
  fer_image_free(img);
}

static uint32_t float_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static uint64_t double_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

static int write_outputs(const char *path, const outputs *o) {
  FILE *f = fopen(path, "w");
  if (!f) return 0;
  fprintf(f, "predictions %d\n", o->predictions);
  for (int i = 0; i < o->predictions; i++) fprintf(f, "%08x\n", float_bits(o->predicted[i]));
  for (int k = 0; k < CASCADES; k++) {
    fprintf(f, "detections %zu\n", o->detections[k]);
    for (size_t i = 0; i < o->detections[k] && i < MAX_DETECTIONS; i++) {
      const fer_detection *d = &o->detected[k][i];
      fprintf(f, "%d %d %d %d %d %016llx\n", d->box.x, d->box.y, d->box.width,
              d->box.height, d->neighbors, (unsigned long long)double_bits(d->score));
    }
  }
  fprintf(f, "history %d %d\n", o->epochs, o->columns);
  for (int e = 0; e < o->epochs; e++)
    for (int j = 0; j < o->columns; j++)
      fprintf(f, "%016llx\n", (unsigned long long)double_bits(o->history[e][j]));
  return fclose(f) == 0;
}

static int read_outputs(const char *path, outputs *o) {
  memset(o, 0, sizeof *o);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int ok = fscanf(f, " predictions %d", &o->predictions) == 1 &&
           o->predictions >= 0 && o->predictions <= MAX_OUT;
  for (int i = 0; ok && i < o->predictions; i++) {
    unsigned u;
    ok = fscanf(f, " %x", &u) == 1;
    uint32_t bits = u;
    memcpy(&o->predicted[i], &bits, 4);
  }
  for (int k = 0; ok && k < CASCADES; k++) {
    ok = fscanf(f, " detections %zu", &o->detections[k]) == 1 &&
         o->detections[k] <= MAX_DETECTIONS;
    for (size_t i = 0; ok && i < o->detections[k]; i++) {
      fer_detection *d = &o->detected[k][i];
      unsigned long long bits;
      ok = fscanf(f, " %d %d %d %d %d %llx", &d->box.x, &d->box.y, &d->box.width,
                  &d->box.height, &d->neighbors, &bits) == 6;
      uint64_t b = bits;
      memcpy(&d->score, &b, 8);
    }
  }
  ok = ok && fscanf(f, " history %d %d", &o->epochs, &o->columns) == 2 &&
       o->epochs >= 0 && o->epochs <= EPOCHS && o->columns >= 0 && o->columns <= 16;
  for (int e = 0; ok && e < o->epochs; e++)
    for (int j = 0; ok && j < o->columns; j++) {
      unsigned long long bits;
      ok = fscanf(f, " %llx", &bits) == 1;
      uint64_t b = bits;
      memcpy(&o->history[e][j], &b, 8);
    }
  fclose(f);
  return ok;
}

/* ---- Training ----------------------------------------------------------- */

static fer_dataset *portable_dataset(void) {
  static const size_t per_class[3] = {12, 10, 14};
  return toy_dataset(per_class, 3, 5);
}

/* Trains toy_model() to `epochs` epochs with a state file at `state`
 * (resuming from it when it exists); the history goes to `o`. */
static fer_model *train(const char *state, int epochs, outputs *o) {
  fer_dataset *ds = portable_dataset();
  fer_model *m = toy_model();
  fer_trainer *tr = toy_trainer(epochs, 42);
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAM, &opt));
  CHECK_OK(fer_trainer_set_optimizer(tr, opt));
  CHECK_OK(fer_trainer_set_path(tr, FER_TRAIN_PATH_STATE, state));
  CHECK_OK(fer_trainer_fit(tr, m, ds, NULL));
  if (o) {
    o->epochs = fer_trainer_history_count(tr);
    o->columns = fer_train_metric_count();
    CHECK(o->epochs <= EPOCHS && o->columns <= 16);
    for (int e = 0; e < o->epochs && e < EPOCHS; e++)
      CHECK_OK(fer_trainer_history_get(tr, e, o->history[e], 16));
  }
  fer_trainer_free(tr);
  fer_optimizer_free(opt);
  fer_dataset_free(ds);
  return m;
}

/* ---- write and check ---------------------------------------------------- */

static void join(char *out, size_t size, const char *dir, const char *name) {
  snprintf(out, size, "%s/%s", dir, name);
}

static void save_bytes(const char *dir, const char *name, const void *data,
                       size_t size) {
  char path[4096];
  join(path, sizeof path, dir, name);
  CHECK_OK(fer__write_file_atomic(path, data, size));
}

/* This host's own model and cascade files, in memory. */
typedef struct own_files {
  void *model, *model16, *cascade[CASCADES];
  size_t model_size, model16_size, cascade_size[CASCADES];
} own_files;

static void make_own(own_files *own, outputs *o) {
  memset(own, 0, sizeof *own);
  fer_model *m = portable_model();
  if (m) {
    CHECK_OK(fer_model_save_memory(m, FER_SAVE_DEFAULT, &own->model, &own->model_size));
    CHECK_OK(fer_model_save_memory(m, FER_SAVE_FLOAT16, &own->model16, &own->model16_size));
    predict(m, o);
  }
  fer_model_free(m);
  for (int k = 0; k < CASCADES; k++) {
    fer_cascade *c = portable_cascade(k);
    if (!c) continue;
    CHECK_OK(fer_cascade_encode(c, &own->cascade[k], &own->cascade_size[k]));
    detect(c, k, o);
    fer_cascade_free(c);
  }
}

static void free_own(own_files *own) {
  fer_free(own->model);
  fer_free(own->model16);
  for (int k = 0; k < CASCADES; k++) fer_free(own->cascade[k]);
}

static void write_set(const char *dir) {
  own_files own;
  static outputs o;
  memset(&o, 0, sizeof o);
  make_own(&own, &o);
  save_bytes(dir, "model.ferm", own.model, own.model_size);
  save_bytes(dir, "model16.ferm", own.model16, own.model16_size);
  for (int k = 0; k < CASCADES; k++) {
    char name[64];
    snprintf(name, sizeof name, "cascade_%s.fercascade", cascade_names[k]);
    save_bytes(dir, name, own.cascade[k], own.cascade_size[k]);
  }
  free_own(&own);
  char state[4096], trained[4096], out[4096];
  join(state, sizeof state, dir, "state.ferstate");
  join(trained, sizeof trained, dir, "trained.ferm");
  join(out, sizeof out, dir, "outputs.txt");
  unlink(state);
  fer_model *m = train(state, EPOCHS, &o);
  CHECK_OK(fer_model_save(m, trained, FER_SAVE_DEFAULT));
  fer_model_free(m);
  CHECK_MSG(write_outputs(out, &o), "cannot write %s", out);
}

static int same_bytes(const char *dir, const char *name, const void *own,
                      size_t own_size) {
  char path[4096];
  join(path, sizeof path, dir, name);
  uint8_t *data = NULL;
  size_t size = 0;
  CHECK_OK(fer__read_file(path, 1 << 24, &data, &size));
  int same = data && size == own_size && memcmp(data, own, size) == 0;
  CHECK_MSG(same, "%s: %zu bytes differ from the %zu this host writes", path,
            size, own_size);
  fer__free(data);
  return same;
}

static fer_model *load_model(const char *dir, const char *name) {
  char path[4096];
  join(path, sizeof path, dir, name);
  fer_model *m = NULL;
  CHECK_OK(fer_model_load(path, &m));
  return m;
}

/* A loaded model saves to the bytes this host writes for its own copy. */
static void check_resave(const fer_model *m, unsigned flags, const void *own,
                         size_t own_size) {
  void *again = NULL;
  size_t again_size = 0;
  CHECK_OK(fer_model_save_memory(m, flags, &again, &again_size));
  CHECK(again && again_size == own_size && memcmp(again, own, own_size) == 0);
  fer_free(again);
}

static void check_predictions(const char *what, const outputs *got,
                              const outputs *own, const outputs *writer) {
  CHECK_EQ_INT(got->predictions, own->predictions);
  CHECK(memcmp(got->predicted, own->predicted,
               (size_t)own->predictions * sizeof(float)) == 0);
  CHECK_EQ_INT(writer->predictions, own->predictions);
  double worst = 0.0;
  for (int i = 0; i < own->predictions && i < writer->predictions; i++) {
    double d = fabs((double)got->predicted[i] - writer->predicted[i]);
    if (!(d <= worst)) worst = d;
  }
  CHECK_MSG(worst <= 1e-5, "%s: predictions differ from the writer's by %g", what, worst);
  fprintf(stderr, "  %s: predictions as this host's own model; %g from the writer's\n",
          what, worst);
}

static int same_detections(const fer_detection *a, size_t na,
                           const fer_detection *b, size_t nb) {
  if (na != nb) return 0;
  for (size_t i = 0; i < na; i++)
    if (a[i].box.x != b[i].box.x || a[i].box.y != b[i].box.y ||
        a[i].box.width != b[i].box.width || a[i].box.height != b[i].box.height ||
        a[i].neighbors != b[i].neighbors ||
        double_bits(a[i].score) != double_bits(b[i].score))
      return 0;
  return 1;
}

/* The header of a state file, read by hand as little-endian (docs/
 * training-state-format.md): magic, version 1, flags 0, PROG first with
 * the epochs, the seed and the sample count; the CRC at the end. */
static void check_state_header(const char *path, uint32_t epochs, uint64_t seed,
                               uint64_t samples) {
  uint8_t *d = NULL;
  size_t n = 0;
  CHECK_OK(fer__read_file(path, 1 << 24, &d, &n));
  if (!d || n < 60) {
    CHECK_MSG(0, "%s: %zu bytes", path, n);
    fer__free(d);
    return;
  }
  CHECK(memcmp(d, "FERTRAIN", 8) == 0);
  CHECK_EQ_INT(fer__get_u32le(d + 8), 1);
  CHECK_EQ_INT(fer__get_u32le(d + 12), 0);
  CHECK(memcmp(d + 16, "PROG", 4) == 0);
  CHECK_EQ_INT(fer__get_u32le(d + 20), 136);
  CHECK_EQ_INT(fer__get_u32le(d + 24), epochs);
  CHECK(fer__get_u64le(d + 32) == seed);
  CHECK(fer__get_u64le(d + 40) == samples);
  CHECK(fer__get_u32le(d + n - 4) == fer__crc32(0, d, n - 4));
  fer__free(d);
}

static void check_set(const char *dir) {
  fprintf(stderr, "checking the files in %s\n", dir);
  own_files own;
  static outputs mine, writer, got;
  memset(&mine, 0, sizeof mine);
  make_own(&own, &mine);
  char path[4096];
  join(path, sizeof path, dir, "outputs.txt");
  CHECK_MSG(read_outputs(path, &writer), "%s: unreadable", path);

  /* Models: the same bytes; loaded, the same predictions. */
  same_bytes(dir, "model.ferm", own.model, own.model_size);
  same_bytes(dir, "model16.ferm", own.model16, own.model16_size);
  fer_model *m = load_model(dir, "model.ferm");
  if (m) {
    predict(m, &got);
    check_predictions("model.ferm", &got, &mine, &writer);
  }
  check_resave(m, FER_SAVE_DEFAULT, own.model, own.model_size);
  fer_model_free(m);
  m = load_model(dir, "model16.ferm");
  check_resave(m, FER_SAVE_FLOAT16, own.model16, own.model16_size);
  fer_model_free(m);

  /* Cascades: the same bytes; loaded, the same raw detections. */
  for (int k = 0; k < CASCADES; k++) {
    char name[64];
    snprintf(name, sizeof name, "cascade_%s.fercascade", cascade_names[k]);
    same_bytes(dir, name, own.cascade[k], own.cascade_size[k]);
    join(path, sizeof path, dir, name);
    fer_cascade *c = NULL;
    CHECK_OK(fer_cascade_load(path, &c));
    if (!c) continue;
    detect(c, k, &got);
    CHECK_MSG(same_detections(got.detected[k], got.detections[k], mine.detected[k],
                              mine.detections[k]),
              "%s: detections differ from this host's own cascade", name);
    CHECK_MSG(same_detections(got.detected[k], got.detections[k], writer.detected[k],
                              writer.detections[k]),
              "%s: %zu detections, the writer found %zu (or other ones)", name,
              got.detections[k], writer.detections[k]);
    fprintf(stderr, "  %s: %zu raw detections, as the writer's\n", name, got.detections[k]);
    fer_cascade_free(c);
  }
  free_own(&own);

  /* State: a resume with nothing left to train ends with trained.ferm's
   * weights and the writer's history. The state is copied first: fit may
   * write to it. */
  join(path, sizeof path, dir, "state.ferstate");
  uint8_t *state = NULL;
  size_t state_size = 0;
  CHECK_OK(fer__read_file(path, 1 << 24, &state, &state_size));
  CHECK_OK(fer_train_state_validate(state, state_size));
  char copy[] = "/tmp/fer_portability_XXXXXX";
  int fd = mkstemp(copy);
  CHECK(fd >= 0);
  if (fd >= 0) close(fd);
  CHECK_OK(fer__write_file_atomic(copy, state, state_size));
  fer__free(state);
  memset(&got, 0, sizeof got);
  m = train(copy, EPOCHS, &got);
  fer_model *trained = load_model(dir, "trained.ferm");
  CHECK_MSG(m && trained && same_weights(m, trained),
            "the state's model differs from trained.ferm");
  CHECK_EQ_INT(got.epochs, writer.epochs);
  CHECK_EQ_INT(got.columns, writer.columns);
  CHECK(memcmp(got.history, writer.history, sizeof got.history) == 0);
  fer_model_free(trained);
  fer_model_free(m);
  /* One more epoch here: the state this host writes reads as little-endian. */
  m = train(copy, EPOCHS + 1, NULL);
  fer_dataset *ds = portable_dataset();
  check_state_header(copy, EPOCHS + 1, 42, (uint64_t)fer_dataset_count(ds));
  fer_dataset_free(ds);
  fer_model_free(m);
  unlink(copy);
  fprintf(stderr, "  state.ferstate: resumed to trained.ferm and the writer's history\n");
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "write") == 0) {
    write_set(argv[2]);
    return harness_finish();
  }
  if (argc == 3 && strcmp(argv[1], "check") == 0) {
    check_set(argv[2]);
    return harness_finish();
  }
  if (argc != 1) {
    fprintf(stderr, "usage: %s [write DIR | check DIR]\n", argv[0]);
    return 2;
  }
  char fixtures[4096];
  snprintf(fixtures, sizeof fixtures, "%s/portability", harness_fixtures());
  check_set(fixtures);
  char dir[] = "/tmp/fer_portability_set_XXXXXX";
  if (!mkdtemp(dir)) SKIP("no temporary folder");
  write_set(dir);
  check_set(dir);
  const char *names[] = {"model.ferm", "model16.ferm", "cascade_haar_stumps.fercascade",
                         "cascade_haar_tree_tilted.fercascade", "cascade_lbp.fercascade",
                         "state.ferstate", "trained.ferm", "outputs.txt"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[4096];
    join(path, sizeof path, dir, names[i]);
    unlink(path);
  }
  rmdir(dir);
  return harness_finish();
}
