/*
 * train_quick_model: a small stand-in expression model for models/, made
 * in minutes on two cores, for builds where the real default model has
 * not landed. FER2013 CSV (make it with ../shared/data/fer2013/make_csv.py),
 * a four-layer CNN, Adam, random left-right flips; prints PublicTest
 * accuracy per epoch and saves float16 weights.
 *
 *   train_quick_model FER2013.csv.gz OUT.ferm [EPOCHS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fer.h>

#define BATCH 64
#define SIDE 48

static const char architecture[] =
    "input 1x48x48\n"
    "conv 8 3x3 same\nbn\nrelu\nmax 2x2/2\n"
    "conv 16 3x3 same\nbn\nrelu\nmax 2x2/2\n"
    "conv 32 3x3 same\nbn\nrelu\nmax 2x2/2\n"
    "conv 64 3x3 same\nbn\nrelu\ngap\n"
    "dense 7\nsoftmax\n";

static int fail(const char *what) {
  fprintf(stderr, "train_quick_model: %s: %s\n", what, fer_last_error());
  return 1;
}

static void flip(float *img) {
  for (int y = 0; y < SIDE; y++)
    for (int x = 0; x < SIDE / 2; x++) {
      float t = img[y * SIDE + x];
      img[y * SIDE + x] = img[y * SIDE + SIDE - 1 - x];
      img[y * SIDE + SIDE - 1 - x] = t;
    }
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: train_quick_model FER2013.csv[.gz] OUT.ferm [EPOCHS]\n");
    return 2;
  }
  int epochs = argc > 3 ? atoi(argv[3]) : 4;
  fer_dataset *train = NULL, *test = NULL;
  if (fer_dataset_load_fer2013_csv(argv[1], FER_USAGE_TRAINING, 0, &train) != FER_OK ||
      fer_dataset_load_fer2013_csv(argv[1], FER_USAGE_PUBLIC_TEST, 0, &test) != FER_OK)
    return fail(argv[1]);
  fer_model *m = NULL;
  fer_optimizer *opt = NULL;
  if (fer_model_from_text(architecture, &m) != FER_OK) return fail("model");
  if (fer_optimizer_create(FER_OPTIMIZER_ADAM, &opt) != FER_OK) return fail("optimizer");
  size_t n = fer_dataset_count(train), nt = fer_dataset_count(test), plane = SIDE * SIDE;
  float *x = malloc(BATCH * plane * sizeof *x);
  int32_t labels[BATCH];
  uint32_t *order = malloc(n * sizeof *order);
  unsigned flips = 12345;
  double accuracy = 0;
  for (int e = 0; e < epochs; e++) {
    fer_epoch_order(n, 7, (uint32_t)e, order);
    fer_model_set_training(m, 1);
    for (size_t b = 0; b + BATCH <= n; b += BATCH) {
      for (int i = 0; i < BATCH; i++) {
        fer_dataset_get_sample(train, order[b + (size_t)i], 1.0f / 255, x + (size_t)i * plane, plane);
        labels[i] = fer_dataset_label(train, order[b + (size_t)i]);
        flips = flips * 1103515245u + 12345u;
        if (flips >> 31) flip(x + (size_t)i * plane);
      }
      if (fer_model_train_step(m, opt, x, labels, BATCH, NULL, NULL) != FER_OK) return fail("step");
    }
    fer_model_set_training(m, 0);
    double correct = 0;
    for (size_t b = 0; b < nt; b += BATCH) {
      int k = (int)(nt - b < BATCH ? nt - b : BATCH);
      float acc = 0;
      for (int i = 0; i < k; i++) {
        fer_dataset_get_sample(test, b + (size_t)i, 1.0f / 255, x + (size_t)i * plane, plane);
        labels[i] = fer_dataset_label(test, b + (size_t)i);
      }
      fer_model_evaluate(m, x, labels, k, NULL, &acc);
      correct += acc * k;
    }
    accuracy = correct / (double)nt;
    printf("epoch %d: PublicTest accuracy %.4f\n", e + 1, accuracy);
    fflush(stdout);
  }
  char text[64];
  snprintf(text, sizeof text, "%.4f", accuracy);
  fer_model_set_metadata(m, "dataset", "FER2013 Training");
  fer_model_set_metadata(m, "publictest_accuracy", text);
  fer_model_set_metadata(m, "trainer", "tools/train_quick_model.c (stand-in model)");
  fer_status st = fer_model_save(m, argv[2], FER_SAVE_FLOAT16);
  free(x);
  free(order);
  fer_optimizer_free(opt);
  fer_model_free(m);
  fer_dataset_free(train);
  fer_dataset_free(test);
  return st == FER_OK ? 0 : fail(argv[2]);
}
