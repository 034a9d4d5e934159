/* libFuzzer harness for the BMP decoder: decode any input; what decodes
 * must re-encode, and decoding that again must give the same pixels.
 * The round trip is skipped above 2^20 pixels: a few bytes of RLE can
 * stand for a 50-megapixel image, and re-encoding that under the
 * sanitizers takes longer than libFuzzer's timeout. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fer.h"
#include "image/image_internal.h"

static int same_pixels(const fer_image *a, const fer_image *b) {
  if (a->width != b->width || a->height != b->height || a->channels != b->channels)
    return 0;
  size_t row = (size_t)a->width * (size_t)a->channels;
  for (int y = 0; y < a->height; y++)
    if (memcmp(a->pixels + (size_t)y * a->stride, b->pixels + (size_t)y * b->stride, row))
      return 0;
  return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fer_image *img = NULL;
  if (fer__bmp_sniff(data, size) && fer__bmp_decode(data, size, &img) == FER_OK &&
      (long)img->width * img->height <= (1L << 20)) {
    void *encoded = NULL;
    size_t encoded_size = 0;
    fer_image *again = NULL;
    /* Out of memory is the only acceptable failure of a valid image. */
    fer_status st = fer_image_encode(img, FER_IMAGE_FORMAT_BMP, &encoded, &encoded_size);
    if (st != FER_OK && st != FER_ERR_OUT_OF_MEMORY) abort();
    if (st == FER_OK) {
      st = fer_image_decode(encoded, encoded_size, 0, &again);
      if (st == FER_OK && !same_pixels(img, again)) abort();
      if (st != FER_OK && st != FER_ERR_OUT_OF_MEMORY) abort();
    }
    fer_image_free(again);
    fer_free(encoded);
  }
  fer_image_free(img);
  return 0;
}
