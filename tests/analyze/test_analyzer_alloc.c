/*
 * Allocation failures on every path of the analyzer: create, run (detector,
 * crops, batch buffers) and batch. The Nth allocation fails for N = 1, 2,
 * ... until a run completes; each attempt must return FER_OK or
 * FER_ERR_OUT_OF_MEMORY and leave nothing behind (ASan checks the leaks).
 * One thread, so the per-thread failure counter sees every allocation.
 */
#include "analyzer_fixtures.h"
#include "core/core_internal.h"

static void test_every_allocation(void) {
  fer_cascade *cascade = fixture_cascade();
  fer_image *photo = fixture_astronaut();
  fer_model *m = fixture_model(1, 5);
  int completed = 0;
  for (long n = 1; n < 5000 && !completed; n++) {
    fer__alloc_fail_after(n);
    fer_analyzer *an = NULL;
    fer_status st = fer_analyzer_create(m, cascade, &an);
    fer_face faces[8];
    float probs[8 * 7];
    size_t count = 0, counts[2], total = 0;
    const fer_image *images[2] = {photo, photo};
    if (st == FER_OK) st = fer_analyzer_run(an, photo, faces, probs, 8, 7, &count);
    if (st == FER_OK)
      st = fer_analyzer_run_batch(an, images, 2, faces, probs, 8, 7, counts, &total);
    fer__alloc_fail_after(0);
    CHECK_MSG(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY, "allocation %ld: %s", n,
              fer_status_string(st));
    CHECK(st == FER_OK || an == NULL || fer_analyzer_num_classes(an) == 7);
    if (st == FER_OK) {
      completed = 1;
      CHECK(count >= 1 && total == 2 * count);
    }
    fer_analyzer_free(an);
  }
  CHECK_MSG(completed, "no run completed");
  fer_model_free(m);
  fer_image_free(photo);
  fer_cascade_free(cascade);
}

int main(void) {
  fer_set_num_threads(1);
  RUN(test_every_allocation);
  return harness_finish();
}
