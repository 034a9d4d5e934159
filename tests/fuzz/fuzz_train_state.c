/* libFuzzer harness for the training-state loader. The CRC-32 trailer would
 * stop almost every mutation at the checksum, so when the first byte is odd
 * the harness rewrites the trailer to match, letting the fuzzer reach the
 * section parser, the optimizer and schedule records and the embedded model
 * files; an even first byte checks the file exactly as given. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fer.h"
#include "util/crc32.h"
#include "util/endian.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  int fix_crc = data[0] & 1;
  size_t n = size - 1;
  uint8_t *copy = malloc(n ? n : 1);
  if (!copy) return 0;
  memcpy(copy, data + 1, n);
  if (fix_crc && n >= 4) fer__put_u32le(copy + n - 4, fer__crc32(0, copy, n - 4));
  fer_train_state_validate(copy, n);
  free(copy);
  return 0;
}
