/*
 * libfer images: an 8-bit image with 1 (gray) or 3 (RGB) channels, the
 * codecs that read and write it, and the operations the pipeline needs.
 *
 * Thread safety: a fer_image is a plain value. Any number of threads may read
 * the same image at once; writing (drawing) needs exclusive access.
 */
#ifndef FER_IMAGE_H
#define FER_IMAGE_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fer_image fer_image;

/* How caller memory holds pixels. Values are part of the ABI. */
typedef enum fer_pixel_format {
  FER_PIXEL_GRAY8 = 1,  /* 1 byte per pixel */
  FER_PIXEL_RGB24 = 2,  /* R, G, B */
  FER_PIXEL_BGR24 = 3,  /* B, G, R: how OpenCV holds colour images */
  FER_PIXEL_RGBA32 = 4, /* R, G, B, A (alpha is dropped) */
  FER_PIXEL_BGRA32 = 5, /* B, G, R, A (alpha is dropped) */
  FER_PIXEL_I420 = 6,   /* planar YUV 4:2:0: Y plane, then U, then V */
  FER_PIXEL_NV12 = 7    /* Y plane, then interleaved U,V plane at half size */
} fer_pixel_format;

/* File formats for encoding; AUTO picks by file name extension on save. */
typedef enum fer_image_format {
  FER_IMAGE_FORMAT_AUTO = 0,
  FER_IMAGE_FORMAT_PNM = 1,  /* PGM (gray) or PPM (colour), binary */
  FER_IMAGE_FORMAT_BMP = 2,
  FER_IMAGE_FORMAT_PNG = 3,
  FER_IMAGE_FORMAT_JPEG = 4  /* decode only */
} fer_image_format;

typedef enum fer_resize_method {
  FER_RESIZE_BILINEAR = 1, /* as OpenCV INTER_LINEAR (half-pixel centres) */
  FER_RESIZE_AREA = 2      /* area averaging, as OpenCV INTER_AREA */
} fer_resize_method;

/* Decode flags (bitwise or). */
#define FER_DECODE_DEFAULT 0u
/* Keep the stored pixel order instead of applying the EXIF orientation;
 * fer_image_orientation() still reports it. */
#define FER_DECODE_IGNORE_ORIENTATION 1u
/* Convert to 1-channel gray (BT.601) while decoding. */
#define FER_DECODE_GRAY 2u

/* Limits: decoders refuse larger images with FER_ERR_TOO_LARGE before
 * allocating anything. Getter functions exist so bindings need not copy the
 * numbers. */
#define FER_IMAGE_MAX_SIDE 32768
#define FER_IMAGE_MAX_PIXELS (1L << 26)
FER_API int fer_image_max_side(void);
FER_API long fer_image_max_pixels(void);

/* A new zero-filled image. channels is 1 or 3. */
FER_API fer_status fer_image_create(int width, int height, int channels,
                                    fer_image **out);

/* Copies caller pixels into a new image. `stride` is the distance in bytes
 * between rows (0 = tightly packed). GRAY8 gives a 1-channel image, every
 * other format a 3-channel RGB image. For I420 and NV12, `pixels` is the Y
 * plane with `stride` bytes per row, and the chroma planes follow it
 * directly (U then V for I420, UV for NV12), each with rows of
 * stride/2 (I420) or stride (NV12) bytes: the layout of a contiguous frame.
 * Use fer_image_from_yuv420() for planes at separate addresses. */
FER_API fer_status fer_image_from_pixels(const void *pixels, int width,
                                         int height, size_t stride,
                                         fer_pixel_format format,
                                         fer_image **out);

/* Planar YUV 4:2:0 (BT.601 limited range, as cameras and Y4M video give it)
 * from three planes; for NV12 pass the UV plane as `u` and NULL as `v`. */
FER_API fer_status fer_image_from_yuv420(const uint8_t *y, size_t y_stride,
                                         const uint8_t *u, size_t u_stride,
                                         const uint8_t *v, size_t v_stride,
                                         int width, int height,
                                         fer_pixel_format format,
                                         fer_image **out);

/* Writes the image into caller memory in `format` (any packed format, I420 or
 * NV12 with the contiguous layout described above). `capacity` is the size
 * of `dst` in bytes; FER_ERR_BUFFER_TOO_SMALL when it does not fit. */
FER_API fer_status fer_image_to_pixels(const fer_image *img,
                                       fer_pixel_format format, void *dst,
                                       size_t stride, size_t capacity);

FER_API fer_status fer_image_clone(const fer_image *img, fer_image **out);
FER_API void fer_image_free(fer_image *img);

FER_API int fer_image_width(const fer_image *img);
FER_API int fer_image_height(const fer_image *img);
FER_API int fer_image_channels(const fer_image *img);
/* Bytes between rows of fer_image_data(). */
FER_API size_t fer_image_stride(const fer_image *img);
/* Rows top to bottom, pixels gray or R,G,B. Owned by the image. */
FER_API const uint8_t *fer_image_data(const fer_image *img);
FER_API uint8_t *fer_image_data_mutable(fer_image *img);
/* The EXIF orientation (1..8) found in the file, 1 when none. */
FER_API int fer_image_orientation(const fer_image *img);

/* Decode PNM (P2/P3/P5/P6), BMP, PNG or JPEG, recognised by content. */
FER_API fer_status fer_image_decode(const void *data, size_t size,
                                    unsigned flags, fer_image **out);
FER_API fer_status fer_image_load(const char *path, unsigned flags,
                                  fer_image **out);

/* Encode to a new buffer that the caller frees with fer_free(). */
FER_API fer_status fer_image_encode(const fer_image *img,
                                    fer_image_format format, void **out_data,
                                    size_t *out_size);
/* Writes atomically (temporary file, then rename). AUTO: by extension
 * (.pgm .ppm .pnm .bmp .png). */
FER_API fer_status fer_image_save(const fer_image *img, const char *path,
                                  fer_image_format format);

/* Gray conversion with BT.601 weights, rounded as OpenCV's cvtColor. A
 * 1-channel image is copied. */
FER_API fer_status fer_image_to_gray(const fer_image *img, fer_image **out);
/* A 3-channel copy (gray replicated). */
FER_API fer_status fer_image_to_rgb(const fer_image *img, fer_image **out);
/* The part of `img` inside `rect`, clipped to the image; FER_ERR_INVALID_ARGUMENT
 * when nothing is left. */
FER_API fer_status fer_image_crop(const fer_image *img, const fer_rect *rect,
                                  fer_image **out);
FER_API fer_status fer_image_resize(const fer_image *img, int width,
                                    int height, fer_resize_method method,
                                    fer_image **out);
/* Mirror left-right in place. */
FER_API fer_status fer_image_flip_horizontal(fer_image *img);

/* Colours are 0xRRGGBB; on gray images their BT.601 luma is used. */
FER_API fer_status fer_image_draw_rect(fer_image *img, const fer_rect *rect,
                                       uint32_t rgb, int thickness);
FER_API fer_status fer_image_fill_rect(fer_image *img, const fer_rect *rect,
                                       uint32_t rgb);
/* Draws ASCII text with the built-in 8x8 bitmap font, each font pixel a
 * scale x scale block, top-left corner at (x, y); clipped to the image.
 * Characters outside printable ASCII draw as '?'. */
FER_API fer_status fer_image_draw_text(fer_image *img, int x, int y,
                                       const char *text, int scale,
                                       uint32_t rgb);
/* Pixel size of `text` at `scale`, so callers can place a label box. */
FER_API void fer_image_text_size(const char *text, int scale, int *width,
                                 int *height);

#ifdef __cplusplus
}
#endif

#endif /* FER_IMAGE_H */
