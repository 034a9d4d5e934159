/* Inflate fuzzing: the first byte picks raw or zlib and the chunk sizes;
 * the one-shot and the streaming decoder must agree on success and output,
 * and neither may read or write out of bounds. */
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"
#include "util/inflate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_OUT (1u << 18)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  fer__inflate_wrapper w = (data[0] & 1) ? FER__INFLATE_ZLIB : FER__INFLATE_RAW;
  static const size_t in_steps[8] = {1, 2, 7, 64, 333, 4096, 65536, 1 << 20};
  static const size_t out_steps[4] = {5, 999, 32768, 1 << 18};
  size_t in_step = in_steps[(data[0] >> 1) & 7];
  size_t out_step = out_steps[(data[0] >> 4) & 3];
  data++;
  size--;
  /* Static: large per-run allocations dominate the run time under ASan. */
  static uint8_t one[MAX_OUT], two[MAX_OUT + (1 << 18)];
  size_t one_size = 0;
  fer_status one_st = fer__inflate(w, data, size, one, MAX_OUT, &one_size);

  fer__inflater *inf = NULL;
  if (fer__inflater_create(w, &inf) != FER_OK) return 0;
  size_t pos = 0, at = 0;
  int finished = 0;
  fer_status st = FER_OK;
  while (!finished && pos <= MAX_OUT) {
    size_t used, written, feed = size - at < in_step ? size - at : in_step;
    st = fer__inflater_step(inf, data + at, feed, &used, two + pos, out_step,
                            &written, &finished);
    if (st != FER_OK) break;
    at += used;
    pos += written;
    if (!finished && used == 0 && written == 0) break; /* needs more input */
  }
  fer__inflater_free(inf);
  /* Both succeed on the same streams (within the output limit) and then
   * produce the same bytes. */
  if (one_st == FER_OK && (!finished || pos != one_size ||
                           memcmp(one, two, one_size) != 0))
    __builtin_trap();
  if (finished && pos <= MAX_OUT && one_st != FER_OK) __builtin_trap();
  return 0;
}
