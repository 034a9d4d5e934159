/* A tiny synthetic classification task for the fit-loop tests: 8x8 gray
 * images of three classes (a bright band at the top, the middle or the
 * bottom, plus seeded noise), and a small model with dropout so that the
 * dropout generator is exercised. */
#ifndef TEST_TRAINER_UTIL_H
#define TEST_TRAINER_UTIL_H

#include <stdint.h>
#include <stdlib.h>

#include "harness.h"

static fer_dataset *toy_dataset(const size_t *per_class, int classes,
                                uint32_t seed) {
  size_t total = 0;
  for (int c = 0; c < classes; c++) total += per_class[c];
  uint8_t *pixels = malloc(total * 64);
  int32_t *labels = malloc(total * sizeof *labels);
  uint32_t state = seed * 2654435761u + 1;
  size_t i = 0;
  for (int c = 0; c < classes; c++)
    for (size_t k = 0; k < per_class[c]; k++, i++) {
      labels[i] = c;
      for (int p = 0; p < 64; p++) {
        state = state * 1664525u + 1013904223u;
        int band = (p / 8) * classes / 8 == c;
        pixels[i * 64 + p] = (uint8_t)((band ? 150 : 40) + (state >> 26));
      }
    }
  fer_dataset *ds = NULL;
  fer_status st = fer_dataset_from_u8(pixels, labels, total, 1, 8, 8, NULL,
                                      classes, &ds);
  free(pixels);
  free(labels);
  return st ? NULL : ds;
}

static fer_model *toy_model(void) {
  fer_model *m = NULL;
  if (fer_model_from_text("input 1x8x8\nconv 4 3x3 same\nbn\nrelu\nmax 2x2/2\n"
                          "flatten\ndrop 0.25\ndense 3\nsoftmax\n", &m))
    return NULL;
  fer_model_init_weights(m, FER_INIT_HE_UNIFORM, 7);
  return m;
}

/* The model file bytes (float32): equal bytes = bit-identical weights. */
static int same_weights(const fer_model *a, const fer_model *b) {
  void *da = NULL, *db = NULL;
  size_t na = 0, nb = 0;
  fer_model_save_memory(a, FER_SAVE_DEFAULT, &da, &na);
  fer_model_save_memory(b, FER_SAVE_DEFAULT, &db, &nb);
  int same = da && db && na == nb && memcmp(da, db, na) == 0;
  fer_free(da);
  fer_free(db);
  return same;
}

/* A trainer set up the way every test here trains. */
static fer_trainer *toy_trainer(int epochs, uint64_t seed) {
  fer_trainer *tr = NULL;
  if (fer_trainer_create(&tr)) return NULL;
  fer_trainer_set(tr, FER_TRAIN_EPOCHS, epochs);
  fer_trainer_set(tr, FER_TRAIN_BATCH_SIZE, 16);
  fer_trainer_set(tr, FER_TRAIN_SEED, (double)seed);
  fer_trainer_set(tr, FER_TRAIN_THREADS, 1);
  return tr;
}

#endif
