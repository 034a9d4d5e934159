/* Model files: exact round trips, float16 storage, and refusal of
 * truncated, corrupt, newer and hostile files; allocation failures. */
#include <unistd.h>

#include "nn_test_util.h"
#include "nn/nn_internal.h"
#include "util/crc32.h"
#include "util/endian.h"

static const char *small_net =
    "input 1x12x12\nconv 4 3x3 same\nbn\nrelu\nmax 2x2/2\nconv 6 3x3 valid stride=2 nobias\n"
    "leaky 0.2\ndrop 0.3\nflatten\ndense 5\nbn momentum=0.3 eps=0.001\nelu\ndense 7\nsoftmax\n";

static fer_model *trained_model(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text(small_net, &m));
  if (!m) return NULL;
  /* a few training steps give non-trivial weights and BN statistics */
  fer_optimizer *opt = NULL;
  CHECK_OK(fer_optimizer_create(FER_OPTIMIZER_ADAM, &opt));
  float x[8 * 144];
  int32_t y[8];
  for (int step = 0; step < 3; step++) {
    tu_fill(x, 8 * 144, (uint64_t)step, 0, 1);
    for (int i = 0; i < 8; i++) y[i] = (i + step) % 7;
    CHECK_OK(fer_model_train_step(m, opt, x, y, 8, NULL, NULL));
  }
  fer_optimizer_free(opt);
  return m;
}

static void outputs(const fer_model *m, float *out) {
  float x[3 * 144];
  tu_fill(x, 3 * 144, 99, 0, 1);
  CHECK_OK(fer_model_predict(m, x, 3, out));
}

static void test_round_trip(void) {
  fer_model *m = trained_model();
  if (!m) return;
  const char *names[7] = {"a", "b", "c", "d", "e", "f", "g"};
  CHECK_OK(fer_model_set_class_names(m, names, 7));
  CHECK_OK(fer_model_set_preprocessing(m, 1.0f / 255, 0.5f, 0.25f));
  CHECK_OK(fer_model_set_metadata(m, "dataset", "FER2013 train"));
  CHECK_OK(fer_model_set_metadata(m, "accuracy", "0.61"));
  CHECK_OK(fer_model_set_metadata(m, "notes", "line one\nline two"));
  char path[256];
  snprintf(path, sizeof path, "model-roundtrip-%ld.ferm", (long)getpid());
  CHECK_OK(fer_model_save(m, path, FER_SAVE_DEFAULT));
  fer_model *l = NULL;
  CHECK_OK(fer_model_load(path, &l));
  remove(path);
  if (!l) {
    fer_model_free(m);
    return;
  }
  float a[21], b[21];
  outputs(m, a);
  outputs(l, b);
  CHECK(memcmp(a, b, sizeof a) == 0);
  /* every tensor, trainable or not, is bit-identical */
  for (int i = 0; i < m->num_layers; i++)
    for (int k = 0; k < FER__TENSORS; k++)
      CHECK(m->layers[i].tensor_size[k] == l->layers[i].tensor_size[k] &&
            (!m->layers[i].tensor_size[k] ||
             memcmp(m->layers[i].tensor[k], l->layers[i].tensor[k],
                    m->layers[i].tensor_size[k] * sizeof(float)) == 0));
  CHECK(strcmp(fer_model_class_name(l, 3), "d") == 0);
  float s, mean, sd;
  fer_model_get_preprocessing(l, &s, &mean, &sd);
  CHECK(s == 1.0f / 255 && mean == 0.5f && sd == 0.25f);
  CHECK_EQ_INT(fer_model_metadata_count(l), 3);
  CHECK(strcmp(fer_model_get_metadata(l, "notes"), "line one\nline two") == 0);
  const char *key, *value;
  CHECK_OK(fer_model_metadata_at(l, 1, &key, &value));
  CHECK(strcmp(key, "accuracy") == 0 && strcmp(value, "0.61") == 0);
  /* saving the loaded model gives the same bytes */
  void *d1, *d2;
  size_t n1, n2;
  CHECK_OK(fer_model_save_memory(m, 0, &d1, &n1));
  CHECK_OK(fer_model_save_memory(l, 0, &d2, &n2));
  CHECK(n1 == n2 && memcmp(d1, d2, n1) == 0);
  fer_free(d1);
  fer_free(d2);
  fer_model_free(l);
  fer_model_free(m);
}

static void test_defaults(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_create_reference("vgglite", &m));
  CHECK(strcmp(fer_model_class_name(m, 0), "angry") == 0);
  CHECK(strcmp(fer_model_class_name(m, 6), "neutral") == 0);
  CHECK(fer_model_class_name(m, 7) == NULL);
  float s, mean, sd;
  fer_model_get_preprocessing(m, &s, &mean, &sd);
  CHECK(s == 1.0f / 255.0f && mean == 0.0f && sd == 1.0f);
  CHECK_STATUS(fer_model_set_preprocessing(m, 1, 0, 0), FER_ERR_INVALID_ARGUMENT);
  const char *bad[7] = {"a", "b", "", "d", "e", "f", "g"};
  CHECK_STATUS(fer_model_set_class_names(m, bad, 7), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_set_class_names(m, bad, 3), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_model_set_metadata(m, "", "x"), FER_ERR_INVALID_ARGUMENT);
  CHECK_OK(fer_model_set_metadata(m, "k", "v"));
  CHECK_OK(fer_model_set_metadata(m, "k", NULL));
  CHECK_EQ_INT(fer_model_metadata_count(m), 0);
  fer_model_free(m);
}

/* Independent reference: the half's value by its definition. */
static double half_value(uint16_t h) {
  int e = (h >> 10) & 31, f = h & 1023;
  double v = e == 0 ? ldexp(f, -24) : ldexp(1024 + f, e - 25);
  return h & 0x8000 ? -v : v;
}

static void test_float16(void) {
  int bad_decode = 0, bad_encode = 0, bad_round = 0;
  for (uint32_t h = 0; h < 0x10000; h++) {
    int e = (h >> 10) & 31;
    float f = fer__f16_to_f32((uint16_t)h);
    if (e == 31) {
      if ((h & 1023) ? !isnan(f) : !isinf(f)) bad_decode++;
      continue;
    }
    if ((double)f != half_value((uint16_t)h)) bad_decode++;
    if (fer__f32_to_f16(f) != h && !(f == 0.0f && (h & 0x7fff) == 0)) bad_encode++;
    /* the midpoint to the next half up rounds to the even one of the two */
    if ((h & 0x7fff) < 0x7bff) {
      uint16_t next = (uint16_t)(h + 1);
      double mid = (half_value((uint16_t)h) + half_value(next)) / 2;
      uint16_t even = (h & 1) ? next : (uint16_t)h;
      if (fer__f32_to_f16((float)mid) != even) bad_round++;
      /* just above the midpoint (away from zero): the far one */
      float above = nextafterf((float)mid, h & 0x8000 ? -INFINITY : INFINITY);
      if (fer__f32_to_f16(above) != next) bad_round++;
    }
  }
  CHECK_EQ_INT(bad_decode, 0);
  CHECK_EQ_INT(bad_encode, 0);
  CHECK_EQ_INT(bad_round, 0);
  CHECK_EQ_INT(fer__f32_to_f16(1e6f), 0x7c00);     /* overflow: infinity */
  CHECK_EQ_INT(fer__f32_to_f16(-1e6f), 0xfc00);
  CHECK_EQ_INT(fer__f32_to_f16(65519.0f), 0x7bff); /* below the rounding edge */
  CHECK_EQ_INT(fer__f32_to_f16(65520.0f), 0x7c00); /* ties to even: infinity */
  CHECK_EQ_INT(fer__f32_to_f16(1e-9f), 0);
  CHECK(isnan(fer__f16_to_f32(fer__f32_to_f16(NAN))));

  fer_model *m = trained_model();
  void *d32, *d16;
  size_t n32, n16;
  CHECK_OK(fer_model_save_memory(m, 0, &d32, &n32));
  CHECK_OK(fer_model_save_memory(m, FER_SAVE_FLOAT16, &d16, &n16));
  CHECK(n16 < n32);
  fer_model *l = NULL;
  CHECK_OK(fer_model_load_memory(d16, n16, &l));
  if (l)
    for (int i = 0; i < m->num_layers; i++)
      for (int k = 0; k < FER__TENSORS; k++)
        for (size_t j = 0; j < m->layers[i].tensor_size[k]; j++) {
          float want = k < 2 ? fer__f16_to_f32(fer__f32_to_f16(m->layers[i].tensor[k][j]))
                             : m->layers[i].tensor[k][j];
          if (l->layers[i].tensor[k][j] != want) {
            CHECK_MSG(0, "layer %d tensor %d entry %zu", i, k, j);
            i = m->num_layers;
            break;
          }
        }
  fer_free(d32);
  fer_free(d16);
  fer_model_free(l);
  fer_model_free(m);
}

static void test_hostile(void) {
  fer_model *m = trained_model();
  void *data;
  size_t size;
  CHECK_OK(fer_model_save_memory(m, 0, &data, &size));
  fer_model_free(m);
  uint8_t *bytes = data, *copy = malloc(size);
  fer_model *l = (fer_model *)1;
  /* every truncation is refused */
  int accepted = 0;
  for (size_t n = 0; n < size; n++) {
    fer_status st = fer_model_load_memory(bytes, n, &l);
    if (st == FER_OK || l != NULL) accepted++;
    fer_model_free(l);
  }
  CHECK_EQ_INT(accepted, 0);
  CHECK_STATUS(fer_model_load_memory(bytes, size - 3, &l), FER_ERR_TRUNCATED);
  CHECK_MESSAGE_CONTAINS("model: truncated at byte");
  CHECK_MESSAGE_CONTAINS("more)");
  /* a flipped bit anywhere after the header fails a checksum */
  int unnoticed = 0;
  for (size_t at = 16; at < size; at += 7) {
    memcpy(copy, bytes, size);
    copy[at] ^= 0x10;
    fer_status st = fer_model_load_memory(copy, size, &l);
    if (st == FER_OK) unnoticed++;
    fer_model_free(l);
  }
  CHECK_EQ_INT(unnoticed, 0);
  memcpy(copy, bytes, size);
  copy[40] ^= 1;
  CHECK_STATUS(fer_model_load_memory(copy, size, &l), FER_ERR_CHECKSUM);
  CHECK_MESSAGE_CONTAINS("CRC-32");
  /* newer version, bad magic, unknown flags, trailing bytes */
  memcpy(copy, bytes, size);
  fer__put_u32le(copy + 8, FER__MODEL_FORMAT_VERSION + 1);
  CHECK_STATUS(fer_model_load_memory(copy, size, &l), FER_ERR_VERSION);
  CHECK_MESSAGE_CONTAINS("newer");
  memcpy(copy, bytes, size);
  copy[0] = 'X';
  CHECK_STATUS(fer_model_load_memory(copy, size, &l), FER_ERR_FORMAT);
  memcpy(copy, bytes, size);
  fer__put_u32le(copy + 12, 0x80);
  CHECK_STATUS(fer_model_load_memory(copy, size, &l), FER_ERR_FORMAT);
  uint8_t *longer = malloc(size + 1);
  memcpy(longer, bytes, size);
  longer[size] = 0;
  CHECK_STATUS(fer_model_load_memory(longer, size + 1, &l), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("after the END");
  free(longer);
  /* a section whose length claims gigabytes: truncated, nothing allocated */
  memcpy(copy, bytes, size);
  fer__put_u32le(copy + 20, 0xfffffff0u);
  CHECK_STATUS(fer_model_load_memory(copy, size, &l), FER_ERR_TRUNCATED);
  /* a valid checksum over a hostile architecture: a clean format error */
  {
    const char *arch = "input 1x8x8\nconv 99999999 3x3\n";
    fer__buf b;
    fer__buf_init(&b);
    fer__buf_append(&b, "FERMODEL", 8);
    fer__buf_u32le(&b, 1);
    fer__buf_u32le(&b, 0);
    size_t start = b.size;
    fer__buf_append(&b, "ARCH", 4);
    fer__buf_u32le(&b, (uint32_t)strlen(arch));
    fer__buf_append(&b, arch, strlen(arch));
    fer__buf_u32le(&b, fer__crc32(0, b.data + start, b.size - start));
    CHECK_STATUS(fer_model_load_memory(b.data, b.size, &l), FER_ERR_TOO_LARGE);
    CHECK_MESSAGE_CONTAINS("model: arch:2:1");
    fer__buf_release(&b);
  }
  CHECK_STATUS(fer_model_load("/nonexistent/x.ferm", &l), FER_ERR_IO);
  CHECK_MESSAGE_CONTAINS("/nonexistent/x.ferm");
  CHECK(l == NULL);
  free(copy);
  fer_free(data);
}

static void test_allocation_failures(void) {
  fer_model *m = trained_model();
  void *data;
  size_t size;
  CHECK_OK(fer_model_save_memory(m, 0, &data, &size));
  int failures = 0, successes = 0;
  for (long n = 1; n < 400; n++) {
    fer_model *l = NULL;
    fer__alloc_fail_after(n);
    fer_status st = fer_model_load_memory(data, size, &l);
    fer__alloc_fail_after(0);
    if (st == FER_OK) {
      successes++;
      fer_model_free(l);
      break;
    }
    CHECK_MSG(st == FER_ERR_OUT_OF_MEMORY && l == NULL, "allocation %ld: %s", n,
              fer_status_string(st));
    failures++;
  }
  CHECK(failures > 10 && successes == 1);
  /* saving and predicting fail cleanly too */
  for (long n = 1; n < 60; n++) {
    void *d = NULL;
    size_t s;
    float out[21];
    fer__alloc_fail_after(n);
    fer_status a = fer_model_save_memory(m, 0, &d, &s);
    fer__alloc_fail_after(n);
    float x[3 * 144] = {0};
    fer_status b = fer_model_predict(m, x, 3, out);
    fer__alloc_fail_after(0);
    CHECK(a == FER_OK || a == FER_ERR_OUT_OF_MEMORY);
    CHECK(b == FER_OK || b == FER_ERR_OUT_OF_MEMORY);
    fer_free(d);
  }
  fer_free(data);
  fer_model_free(m);
}

int main(void) {
  RUN(test_round_trip);
  RUN(test_defaults);
  RUN(test_float16);
  RUN(test_hostile);
  RUN(test_allocation_failures);
  return harness_finish();
}
