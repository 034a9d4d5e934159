/* libFuzzer harness for the FER2013 CSV parser (from memory). The first
 * byte picks the Usage selection and the skip flag, so both the failing and
 * the skipping paths are explored; whatever loads is read back whole. */
#include <stddef.h>
#include <stdint.h>

#include "fer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  fer_usage usage = (fer_usage)(data[0] & 3);
  unsigned flags = (data[0] & 4) ? FER_DATASET_SKIP_BAD : 0;
  fer_dataset *ds = NULL;
  if (fer_dataset_parse_fer2013_csv(data + 1, size - 1, usage, flags, &ds) ==
      FER_OK) {
    size_t n = fer_dataset_count(ds);
    unsigned sum = 0;
    for (size_t i = 0; i < n; i++) {
      const uint8_t *px = fer_dataset_pixels(ds, i);
      sum += px[0] + px[2303] + (unsigned)fer_dataset_label(ds, i);
    }
    (void)sum;
  }
  fer_dataset_free(ds);
  return 0;
}
