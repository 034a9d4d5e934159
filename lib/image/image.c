/* The fer_image handle: creation, accessors, lifetime. */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"

int fer_image_max_side(void) { return FER_IMAGE_MAX_SIDE; }
long fer_image_max_pixels(void) { return FER_IMAGE_MAX_PIXELS; }

fer_status fer__image_check(const fer_image *img, const char *who) {
  if (!img) return fer__fail(FER_ERR_MISUSE, "%s: image is NULL", who);
  if (img->magic != FER__IMAGE_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_image (freed?)", who);
  return FER_OK;
}

fer_status fer__image_check_size(long width, long height, const char *what) {
  if (width <= 0 || height <= 0)
    return fer__fail(FER_ERR_FORMAT, "%s: image size %ldx%ld is empty", what,
                     width, height);
  if (width > FER_IMAGE_MAX_SIDE || height > FER_IMAGE_MAX_SIDE ||
      (double)width * (double)height > (double)FER_IMAGE_MAX_PIXELS)
    return fer__fail(FER_ERR_TOO_LARGE,
                     "%s: image size %ldx%ld exceeds the limit (%d per side, "
                     "%ld pixels)",
                     what, width, height, FER_IMAGE_MAX_SIDE,
                     (long)FER_IMAGE_MAX_PIXELS);
  return FER_OK;
}

fer_status fer__image_alloc(int width, int height, int channels, int zero,
                            const char *what, fer_image **out) {
  *out = NULL;
  fer_status st = fer__image_check_size(width, height, what);
  if (st != FER_OK) return st;
  if (channels != 1 && channels != 3)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %d channels (only 1 or 3 are supported)", what,
                     channels);
  fer_image *img = fer__calloc(1, sizeof *img);
  if (!img) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", what);
  img->width = width;
  img->height = height;
  img->channels = channels;
  img->stride = (size_t)width * (size_t)channels;
  size_t bytes = img->stride * (size_t)height;
  img->pixels = zero ? fer__calloc(bytes, 1) : fer__malloc(bytes);
  if (!img->pixels) {
    fer__free(img);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory for %dx%d image",
                     what, width, height);
  }
  img->orientation = 1;
  img->magic = FER__IMAGE_MAGIC;
  *out = img;
  return FER_OK;
}

fer_status fer_image_create(int width, int height, int channels,
                            fer_image **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_image_create: out is NULL");
  fer_status st = fer__image_alloc(width, height, channels, 1, "fer_image_create", out);
  if (st == FER_ERR_FORMAT) st = FER_ERR_INVALID_ARGUMENT;
  return st;
}

fer_status fer_image_clone(const fer_image *img, fer_image **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_image_clone: out is NULL");
  *out = NULL;
  fer_status st = fer__image_check(img, "fer_image_clone");
  if (st != FER_OK) return st;
  st = fer__image_alloc(img->width, img->height, img->channels, 0,
                        "fer_image_clone", out);
  if (st != FER_OK) return st;
  for (int y = 0; y < img->height; y++)
    memcpy((*out)->pixels + (size_t)y * (*out)->stride,
           img->pixels + (size_t)y * img->stride, (*out)->stride);
  (*out)->orientation = img->orientation;
  return FER_OK;
}

void fer_image_free(fer_image *img) {
  if (!img || img->magic != FER__IMAGE_MAGIC) return;
  img->magic = 0;
  fer__free(img->pixels);
  fer__free(img);
}

int fer_image_width(const fer_image *img) {
  return fer__image_check(img, "fer_image_width") == FER_OK ? img->width : 0;
}
int fer_image_height(const fer_image *img) {
  return fer__image_check(img, "fer_image_height") == FER_OK ? img->height : 0;
}
int fer_image_channels(const fer_image *img) {
  return fer__image_check(img, "fer_image_channels") == FER_OK ? img->channels : 0;
}
size_t fer_image_stride(const fer_image *img) {
  return fer__image_check(img, "fer_image_stride") == FER_OK ? img->stride : 0;
}
const uint8_t *fer_image_data(const fer_image *img) {
  return fer__image_check(img, "fer_image_data") == FER_OK ? img->pixels : NULL;
}
uint8_t *fer_image_data_mutable(fer_image *img) {
  return fer__image_check(img, "fer_image_data_mutable") == FER_OK ? img->pixels
                                                                  : NULL;
}
int fer_image_orientation(const fer_image *img) {
  return fer__image_check(img, "fer_image_orientation") == FER_OK
             ? img->orientation
             : 1;
}
