/* One cascade shared by several threads, each with its own detector, and
 * the detector's own OpenMP threads: results must not depend on either. */
#include <pthread.h>

#include "core/core_internal.h"
#include "harness.h"
#include "tiny_cascade.h"

#define W 96
#define H 72
#define THREADS 4

static uint8_t image[H * W];
static fer_cascade *shared_cascade;

typedef struct job {
  fer_detection found[4096];
  size_t count;
  fer_status status;
} job;

static void *worker(void *arg) {
  job *j = arg;
  fer_detector *det;
  j->status = fer_detector_create(shared_cascade, &det);
  if (j->status != FER_OK) return NULL;
  fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, 1);
  for (int round = 0; round < 2 && j->status == FER_OK; round++)
    j->status = fer_detector_run_gray(det, image, W, H, 0, j->found, 4096, &j->count);
  fer_detector_free(det);
  return NULL;
}

static void test_shared_cascade(void) {
  uint32_t s = 99;
  for (size_t i = 0; i < sizeof image; i++) {
    s = s * 1664525u + 1013904223u;
    image[i] = (uint8_t)((s >> 24) / 2 + ((i / W) % 9 < 4 ? 100 : 0));
  }
  CHECK_OK(fer_cascade_load_memory(tiny_cascade_xml, sizeof tiny_cascade_xml - 1, &shared_cascade));
  static job single, jobs[THREADS];
  fer_set_num_threads(1);
  worker(&single);
  CHECK_OK(single.status);
  CHECK(single.count > 0);
  /* The same with 2 OpenMP threads inside one detector. */
  fer_set_num_threads(2);
  static job omp;
  worker(&omp);
  CHECK(omp.count == single.count && memcmp(omp.found, single.found, single.count * sizeof *single.found) == 0);
  fer_set_num_threads(1);
  pthread_t tid[THREADS];
  for (int t = 0; t < THREADS; t++) pthread_create(&tid[t], NULL, worker, &jobs[t]);
  for (int t = 0; t < THREADS; t++) pthread_join(tid[t], NULL);
  for (int t = 0; t < THREADS; t++) {
    CHECK_OK(jobs[t].status);
    CHECK(jobs[t].count == single.count &&
          memcmp(jobs[t].found, single.found, single.count * sizeof *single.found) == 0);
  }
  fer_set_num_threads(0);
  fer_cascade_free(shared_cascade);
}

int main(void) {
  RUN(test_shared_cascade);
  return harness_finish();
}
