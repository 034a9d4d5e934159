/* libFuzzer harness: OpenCV cascade XML (and the XML reader under it). A
 * loaded cascade is also encoded and run over a small image, so that
 * whatever the loader accepts is safe to evaluate. */
#include <stddef.h>
#include <stdint.h>

#include "fer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fer_cascade *c = NULL;
  if (fer_cascade_load_memory(data, size, &c) != FER_OK) return 0;
  void *bin = NULL;
  size_t bin_size = 0;
  if (fer_cascade_encode(c, &bin, &bin_size) == FER_OK) fer_free(bin);
  fer_detector *det = NULL;
  if (fer_detector_create(c, &det) == FER_OK) {
    static uint8_t px[48 * 40];
    for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7 + (i / 48) * 13);
    fer_detection found[16];
    size_t n;
    fer_detector_set(det, FER_DETECT_SCALE_FACTOR, 1.5);
    fer_detector_run_gray(det, px, 48, 40, 0, found, 16, &n);
    fer_detector_free(det);
  }
  fer_cascade_free(c);
  return 0;
}
