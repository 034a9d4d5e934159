/* fer_dataset_load_folder(): the folder layout with each file decoded by
 * fer_image_load() and brought to the data set's shape (gray or RGB, area
 * resize), then stored as planes. The listing and class mapping live in
 * dataset_folder.c. */
#include "core/core_internal.h"
#include "fer/image.h"
#include "data/dataset_internal.h"

static fer_status image_to_planes(void *ctx, const char *path, int channels,
                                  int height, int width, uint8_t *dst) {
  (void)ctx;
  fer_image *img = NULL, *step = NULL;
  fer_status st = fer_image_load(
      path, channels == 1 ? FER_DECODE_GRAY : FER_DECODE_DEFAULT, &img);
  if (st != FER_OK) return st;
  if (fer_image_channels(img) != channels) {
    st = channels == 1 ? fer_image_to_gray(img, &step)
                       : fer_image_to_rgb(img, &step);
    fer_image_free(img);
    img = step;
    if (st != FER_OK) return fer__fail_prefix(st, path);
  }
  if (fer_image_width(img) != width || fer_image_height(img) != height) {
    st = fer_image_resize(img, width, height, FER_RESIZE_AREA, &step);
    fer_image_free(img);
    img = step;
    if (st != FER_OK) return fer__fail_prefix(st, path);
  }
  /* Interleaved rows to planes. */
  const uint8_t *pixels = fer_image_data(img);
  size_t stride = fer_image_stride(img), plane = (size_t)height * width;
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      for (int c = 0; c < channels; c++)
        dst[c * plane + (size_t)y * width + x] =
            pixels[(size_t)y * stride + (size_t)x * channels + c];
  fer_image_free(img);
  return FER_OK;
}

fer_status fer_dataset_load_folder(const char *dir,
                                   const char *const *class_names,
                                   int num_classes, int channels, int height,
                                   int width, unsigned flags,
                                   fer_dataset **out) {
  return fer__dataset_load_folder_with(dir, class_names, num_classes, channels,
                                       height, width, flags, image_to_planes,
                                       NULL, out);
}
