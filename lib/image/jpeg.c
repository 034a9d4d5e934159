/* JPEG decoder. Placeholder until the JPEG work lands: reports unsupported. */
#include "core/core_internal.h"
#include "image/image_internal.h"

int fer__jpeg_sniff(const uint8_t *data, size_t size) {
  return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

fer_status fer__jpeg_decode(const uint8_t *data, size_t size, unsigned flags,
                            fer_image **out) {
  (void)data;
  (void)size;
  (void)flags;
  *out = NULL;
  return fer__fail(FER_ERR_UNSUPPORTED, "JPEG decoding is not built yet");
}
