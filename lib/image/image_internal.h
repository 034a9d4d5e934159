/*
 * The fer_image layout and the codec entry points, shared by lib/image/ and
 * by modules that read pixels directly (detect/, nn/, analyze/).
 */
#ifndef FER_IMAGE_INTERNAL_H
#define FER_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fer/image.h"
#include "util/buffer.h"

#define FER__IMAGE_MAGIC 0x46494D47u /* "FIMG": catches freed or foreign pointers */

struct fer_image {
  uint32_t magic;
  int width;
  int height;
  int channels;      /* 1 = gray, 3 = R,G,B */
  size_t stride;     /* bytes between rows, >= width * channels */
  uint8_t *pixels;   /* owned */
  int orientation;   /* EXIF orientation read from the file, 1..8 */
};

/* FER_OK when `img` is a live image, else FER_ERR_MISUSE naming `who`. */
fer_status fer__image_check(const fer_image *img, const char *who);

/* Allocates an image after checking the size limits (FER_ERR_TOO_LARGE names
 * `what`, e.g. "PNG header"). Pixels are uninitialised unless `zero`. */
fer_status fer__image_alloc(int width, int height, int channels, int zero,
                            const char *what, fer_image **out);

/* FER_OK when width x height is within FER_IMAGE_MAX_SIDE/MAX_PIXELS. */
fer_status fer__image_check_size(long width, long height, const char *what);

/* Codecs: decode a whole in-memory file. They set messages without a file
 * name; fer_image_load() prefixes it. `flags` are FER_DECODE_* bits that the
 * codec may honour itself (orientation is applied by the caller). */
fer_status fer__pnm_decode(const uint8_t *data, size_t size, fer_image **out);
fer_status fer__bmp_decode(const uint8_t *data, size_t size, fer_image **out);
fer_status fer__png_decode(const uint8_t *data, size_t size, fer_image **out);
fer_status fer__jpeg_decode(const uint8_t *data, size_t size, unsigned flags,
                            fer_image **out);

int fer__pnm_sniff(const uint8_t *data, size_t size);
int fer__bmp_sniff(const uint8_t *data, size_t size);
int fer__png_sniff(const uint8_t *data, size_t size);
int fer__jpeg_sniff(const uint8_t *data, size_t size);

/* Replaces *img by a copy turned upright per its EXIF orientation (2..8;
 * width and height swap for 5..8); a no-op for 1. On failure *img is kept. */
fer_status fer__image_apply_orientation(fer_image **img);

/* Encoders append the file to `out`. */
fer_status fer__pnm_encode(const fer_image *img, fer__buf *out);
fer_status fer__bmp_encode(const fer_image *img, fer__buf *out);
fer_status fer__png_encode(const fer_image *img, fer__buf *out);

/* BT.601 luma with OpenCV's (4.x) fixed-point rounding, equal to
 * cv::cvtColor(RGB2GRAY) for all 2^24 colours:
 * (R*9798 + G*19235 + B*3735 + 16384) >> 15. */
static inline uint8_t fer__luma(uint8_t r, uint8_t g, uint8_t b) {
  return (uint8_t)((r * 9798u + g * 19235u + b * 3735u + 16384u) >> 15);
}

#endif
