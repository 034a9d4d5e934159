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

/* A new image of width x height pixels, all zero (black). channels is 1
 * (gray) or 3 (RGB). The caller owns *out and frees it with
 * fer_image_free(); *out is NULL on failure. Thread-safe.
 * Statuses: FER_ERR_INVALID_ARGUMENT (out NULL, size <= 0, channels not 1
 * or 3), FER_ERR_TOO_LARGE (beyond FER_IMAGE_MAX_SIDE/MAX_PIXELS),
 * FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_image_create(int width, int height, int channels,
                                    fer_image **out);

/* Copies caller pixels into a new image. `stride` is the distance in bytes
 * between rows (0 = tightly packed). GRAY8 gives a 1-channel image, every
 * other format a 3-channel RGB image (alpha is dropped). For I420 and NV12,
 * `pixels` is the Y plane with `stride` bytes per row, and the chroma
 * planes follow it directly (U then V for I420, UV for NV12), each
 * (height+1)/2 rows of (stride+1)/2 (I420) or stride (NV12) bytes: the
 * layout of a contiguous frame. Odd sizes are allowed (chroma covers
 * (width+1)/2 columns; for NV12 that needs stride >= width+1 when width is
 * odd). YUV is BT.601 limited range, converted in integer arithmetic
 * (within 1 of OpenCV's COLOR_YUV2RGB_I420/NV12). Use
 * fer_image_from_yuv420() for planes at separate addresses.
 * The caller keeps `pixels` (read only); it owns *out (NULL on failure).
 * Thread-safe.
 * Statuses: FER_ERR_INVALID_ARGUMENT (NULL pointer, size <= 0, unknown
 * format, stride smaller than a row or so large the frame overflows, e.g.
 * a negative value cast to size_t), FER_ERR_TOO_LARGE,
 * FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_image_from_pixels(const void *pixels, int width,
                                         int height, size_t stride,
                                         fer_pixel_format format,
                                         fer_image **out);

/* Planar YUV 4:2:0 (BT.601 limited range, as cameras and Y4M video give it)
 * from three planes; for NV12 pass the UV plane as `u` and NULL as `v`
 * (v_stride is ignored). A stride of 0 means tightly packed. Chroma planes
 * have (width+1)/2 samples per row ((width+1)/2 U,V pairs for NV12) and
 * (height+1)/2 rows. Ownership, threads and statuses as
 * fer_image_from_pixels(); the message names the plane at fault. */
FER_API fer_status fer_image_from_yuv420(const uint8_t *y, size_t y_stride,
                                         const uint8_t *u, size_t u_stride,
                                         const uint8_t *v, size_t v_stride,
                                         int width, int height,
                                         fer_pixel_format format,
                                         fer_image **out);

/* Writes the image into caller memory in `format` (any packed format, I420 or
 * NV12 with the contiguous layout described above; stride 0 = tightly
 * packed). Gray images expand to R = G = B; GRAY8 from RGB uses the BT.601
 * luma of fer_image_to_gray(); alpha is written as 255. RGB -> YUV uses
 * BT.601 limited range with U and V from the mean of each 2x2 block.
 * `capacity` is the size of `dst` in bytes (the last packed row needs no
 * padding). Only `dst` is written. Thread-safe.
 * Statuses: FER_ERR_MISUSE (img NULL or freed), FER_ERR_INVALID_ARGUMENT,
 * FER_ERR_BUFFER_TOO_SMALL (the message gives the size needed). */
FER_API fer_status fer_image_to_pixels(const fer_image *img,
                                       fer_pixel_format format, void *dst,
                                       size_t stride, size_t capacity);

/* A deep copy the caller owns (NULL on failure). Statuses: FER_ERR_MISUSE,
 * FER_ERR_INVALID_ARGUMENT (out NULL), FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_image_clone(const fer_image *img, fer_image **out);
/* Releases an image. NULL, and a pointer that is not a live image, are
 * ignored. */
FER_API void fer_image_free(fer_image *img);

/* Accessors. On a NULL or freed image they return 0 (NULL for the data,
 * 1 for the orientation) and record FER_ERR_MISUSE for fer_last_error(). */
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

/* Decodes a whole image file held in memory: PNM (P1..P6, maxval up to
 * 65535, scaled to 8 bits by rounding v*255/maxval), BMP (OS/2 and Windows
 * headers up to V5; 1/4/8-bit palettes, RLE4/RLE8, 16/24/32-bit, bitfields,
 * top-down), PNG or JPEG, recognised by content, never by name. Bitmaps
 * and gray maps, and BMPs whose palette is all gray, give 1 channel;
 * everything else 3. Unless FER_DECODE_IGNORE_ORIENTATION is given the
 * EXIF orientation is applied (2..8: mirror and/or rotate; 5..8 swap width
 * and height). FER_DECODE_GRAY converts to 1 channel. The caller keeps
 * `data` and owns *out (NULL on failure). Thread-safe.
 * Statuses: FER_ERR_UNSUPPORTED (unknown format: the message shows the
 * first bytes; or a feature libfer lacks), FER_ERR_FORMAT (malformed),
 * FER_ERR_TRUNCATED, FER_ERR_TOO_LARGE (before allocating),
 * FER_ERR_INVALID_ARGUMENT (NULL pointers, unknown flag bits),
 * FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_image_decode(const void *data, size_t size,
                                    unsigned flags, fer_image **out);
/* fer_image_decode() of the file at `path` (at most 512 MiB). Every
 * message starts with the path. Adds FER_ERR_IO (cannot open or read). */
FER_API fer_status fer_image_load(const char *path, unsigned flags,
                                  fer_image **out);

/* Encodes to a new buffer that the caller frees with fer_free(): PNM
 * writes binary P5 (gray) or P6 (RGB); BMP writes 8-bit with a gray
 * palette (gray) or 24-bit bottom-up (RGB); PNG as the PNG codec does.
 * *out_data is NULL and *out_size 0 on failure. Thread-safe.
 * Statuses: FER_ERR_MISUSE, FER_ERR_INVALID_ARGUMENT (NULL outputs, AUTO
 * or an unknown format), FER_ERR_UNSUPPORTED (JPEG), FER_ERR_TOO_LARGE,
 * FER_ERR_OUT_OF_MEMORY. */
FER_API fer_status fer_image_encode(const fer_image *img,
                                    fer_image_format format, void **out_data,
                                    size_t *out_size);
/* Encodes as fer_image_encode() and writes atomically (temporary file,
 * then rename): a crash leaves the old file or the new one. AUTO picks by
 * extension, ignoring case (.pgm .ppm .pnm .bmp .png; .jpg/.jpeg give
 * FER_ERR_UNSUPPORTED; anything else FER_ERR_INVALID_ARGUMENT). Messages
 * name the path. Adds FER_ERR_IO. */
FER_API fer_status fer_image_save(const fer_image *img, const char *path,
                                  fer_image_format format);

/* Conversions and geometry. Each makes a new image the caller owns (*out
 * NULL on failure), leaves `img` untouched and is thread-safe. Statuses:
 * FER_ERR_MISUSE (img NULL or freed), FER_ERR_INVALID_ARGUMENT,
 * FER_ERR_TOO_LARGE, FER_ERR_OUT_OF_MEMORY. */

/* Gray conversion with BT.601 weights, rounded exactly as OpenCV's
 * cvtColor(RGB2GRAY): (R*9798 + G*19235 + B*3735 + 16384) >> 15. A
 * 1-channel image is copied. */
FER_API fer_status fer_image_to_gray(const fer_image *img, fer_image **out);
/* A 3-channel copy (gray replicated). */
FER_API fer_status fer_image_to_rgb(const fer_image *img, fer_image **out);
/* The part of `img` inside `rect`, clipped to the image; FER_ERR_INVALID_ARGUMENT
 * when nothing is left. */
FER_API fer_status fer_image_crop(const fer_image *img, const fer_rect *rect,
                                  fer_image **out);
/* A new width x height image. BILINEAR and AREA reproduce OpenCV's
 * cv::resize INTER_LINEAR and INTER_AREA on 8-bit images (fixed-point
 * bilinear with half-pixel centres; area averaging when shrinking, with an
 * integer-factor block mean; when enlarging, AREA is OpenCV's bilinear
 * variant): within 1 of OpenCV everywhere, mostly identical. */
FER_API fer_status fer_image_resize(const fer_image *img, int width,
                                    int height, fer_resize_method method,
                                    fer_image **out);
/* Mirrors left-right in place. Needs exclusive access to `img`.
 * Statuses: FER_ERR_MISUSE. */
FER_API fer_status fer_image_flip_horizontal(fer_image *img);

/* Drawing, in place: needs exclusive access to `img`. Colours are
 * 0xRRGGBB; on gray images their BT.601 luma is used. Shapes are clipped
 * to the image, so any position and size is valid (nothing is drawn for an
 * empty rectangle). Statuses: FER_ERR_MISUSE (img NULL or freed),
 * FER_ERR_INVALID_ARGUMENT (rect or text NULL, thickness < 1, scale
 * outside 1..64). */

/* The outline of `rect`: bands `thickness` pixels wide along its inside
 * edges (a thickness of half the size or more fills it). */
FER_API fer_status fer_image_draw_rect(fer_image *img, const fer_rect *rect,
                                       uint32_t rgb, int thickness);
/* Every pixel of `rect`. */
FER_API fer_status fer_image_fill_rect(fer_image *img, const fer_rect *rect,
                                       uint32_t rgb);
/* Draws ASCII text with the built-in 8x8 bitmap font, each font pixel a
 * scale x scale block (scale 1..64), top-left corner at (x, y), one line
 * advancing 8*scale pixels per character; only ink pixels are written.
 * Characters outside printable ASCII (newlines included) draw as '?'. */
FER_API fer_status fer_image_draw_text(fer_image *img, int x, int y,
                                       const char *text, int scale,
                                       uint32_t rgb);
/* Pixel size of `text` at `scale` (clamped to 1..64), so callers can place
 * a label box: width 8*scale per character, height 8*scale (also for an
 * empty or NULL text, whose width is 0). Either output may be NULL. */
FER_API void fer_image_text_size(const char *text, int scale, int *width,
                                 int *height);

#ifdef __cplusplus
}
#endif

#endif /* FER_IMAGE_H */
