/* PNG decoder fuzzing: any input must decode or fail cleanly; whatever
 * decodes must survive an encode and decode to the same pixels. */
#include <stdint.h>
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "util/buffer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fer_image *img = NULL;
  if (fer__png_decode(data, size, &img) != FER_OK) return 0;
  fer__buf out;
  fer__buf_init(&out);
  if (fer__png_encode(img, &out) == FER_OK) {
    fer_image *back = NULL;
    if (fer__png_decode(out.data, out.size, &back) != FER_OK) __builtin_trap();
    size_t row = (size_t)img->width * (size_t)img->channels;
    if (back->width != img->width || back->height != img->height ||
        back->channels != img->channels)
      __builtin_trap();
    for (int y = 0; y < img->height; y++)
      if (memcmp(back->pixels + (size_t)y * back->stride,
                 img->pixels + (size_t)y * img->stride, row) != 0)
        __builtin_trap();
    fer_image_free(back);
  }
  fer__buf_release(&out);
  fer_image_free(img);
  return 0;
}
