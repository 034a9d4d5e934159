/* Batches made from several threads at once over one shared data set and
 * augmenter (both read-only) equal the batches made one after the other:
 * no hidden shared state. Suite `threads` (TSan runs it). */
#include "harness.h"

#include <pthread.h>

enum { N = 64, SIDE = 24, SAMPLE = SIDE * SIDE, THREADS = 4 };

static fer_dataset *ds;
static fer_augment *aug;
static float serial[THREADS][N * SAMPLE];
static float parallel[THREADS][N * SAMPLE];
static uint32_t order[THREADS][N];

static void *worker(void *arg) {
  int t = (int)(size_t)arg;
  fer_dataset_make_batch(ds, aug, (uint32_t)t, order[t], N, 1.0f / 255,
                         parallel[t], N * SAMPLE, NULL);
  return NULL;
}

int main(void) {
  static uint8_t px[N * SAMPLE];
  int32_t labels[N];
  for (int i = 0; i < N * SAMPLE; i++) px[i] = (uint8_t)(i * 7 + i / 31);
  for (int i = 0; i < N; i++) labels[i] = i % 3;
  CHECK_OK(fer_dataset_from_u8(px, labels, N, 1, SIDE, SIDE, NULL, 3, &ds));
  CHECK_OK(fer_augment_create(99, &aug));
  CHECK_OK(fer_augment_set(aug, FER_AUG_FLIP_PROB, 0.5));
  CHECK_OK(fer_augment_set(aug, FER_AUG_ROTATE_PROB, 1));
  CHECK_OK(fer_augment_set(aug, FER_AUG_ZOOM_PROB, 1));
  CHECK_OK(fer_augment_set(aug, FER_AUG_ERASE_PROB, 0.5));
  for (int t = 0; t < THREADS; t++) {
    CHECK_OK(fer_epoch_order(N, 5, (uint32_t)t, order[t]));
    CHECK_OK(fer_dataset_make_batch(ds, aug, (uint32_t)t, order[t], N,
                                    1.0f / 255, serial[t], N * SAMPLE, NULL));
  }
  pthread_t threads[THREADS];
  for (int t = 0; t < THREADS; t++)
    pthread_create(&threads[t], NULL, worker, (void *)(size_t)t);
  for (int t = 0; t < THREADS; t++) pthread_join(threads[t], NULL);
  for (int t = 0; t < THREADS; t++)
    CHECK(memcmp(serial[t], parallel[t], sizeof serial[t]) == 0);
  fer_augment_free(aug);
  fer_dataset_free(ds);
  return harness_finish();
}
