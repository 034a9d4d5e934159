/* libFuzzer harness for the JPEG decoder (and its EXIF reader). Any input
 * must give FER_OK with an image or an error with *out == NULL, without
 * crashing, leaking or reading outside the buffer. */
#include <stdint.h>
#include <stddef.h>

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "image/jpeg_internal.h"

/* Frames this large decode correctly but slowly; they tell the fuzzer
 * nothing new, so inputs declaring one are skipped. */
static int declares_huge_frame(const uint8_t *data, size_t size) {
  for (size_t i = 0; i + 9 < size; i++)
    if (data[i] == 0xFF && data[i + 1] >= 0xC0 && data[i + 1] <= 0xC2) {
      int64_t h = data[i + 5] << 8 | data[i + 6], w = data[i + 7] << 8 | data[i + 8];
      if (w * h > ((int64_t)1 << 22)) return 1;
    }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (declares_huge_frame(data, size)) return 0;
  fer_image *img = (fer_image *)(uintptr_t)1;
  unsigned flags = size & 1 ? FER_DECODE_GRAY : FER_DECODE_DEFAULT;
  fer_status st = fer__jpeg_decode(data, size, flags, &img);
  if (st == FER_OK) {
    if (!img || img->width <= 0 || img->height <= 0) __builtin_trap();
    if (img->orientation < 1 || img->orientation > 8) __builtin_trap();
    fer_image_free(img);
  } else if (img != NULL) {
    __builtin_trap();
  }
  (void)fer__jpeg_exif_orientation(data, size);
  return 0;
}
