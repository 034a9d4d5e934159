/* PNG codec. Placeholder until the PNG work lands: reports unsupported. */
#include "core/core_internal.h"
#include "image/image_internal.h"

#include <string.h>

int fer__png_sniff(const uint8_t *data, size_t size) {
  static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  return size >= 8 && memcmp(data, sig, 8) == 0;
}

fer_status fer__png_decode(const uint8_t *data, size_t size, fer_image **out) {
  (void)data;
  (void)size;
  *out = NULL;
  return fer__fail(FER_ERR_UNSUPPORTED, "PNG decoding is not built yet");
}

fer_status fer__png_encode(const fer_image *img, fer__buf *out) {
  (void)img;
  (void)out;
  return fer__fail(FER_ERR_UNSUPPORTED, "PNG encoding is not built yet");
}
