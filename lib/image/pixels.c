/*
 * Caller pixel formats: packed gray/RGB/BGR/RGBA/BGRA and YUV 4:2:0 (I420,
 * NV12) into and out of fer_image.
 *
 * YUV is BT.601 limited range ("studio swing": Y in 16..235, U/V in 16..240
 * around 128), what cameras and Y4M files carry. All arithmetic is integer
 * fixed point with 16 fractional bits:
 *   R = 1.164 (Y-16)               + 1.596 (V-128)
 *   G = 1.164 (Y-16) - 0.391 (U-128) - 0.813 (V-128)
 *   B = 1.164 (Y-16) + 2.018 (U-128)
 * and the inverse
 *   Y =  16 + 0.257 R + 0.504 G + 0.098 B
 *   U = 128 - 0.148 R - 0.291 G + 0.439 B
 *   V = 128 + 0.439 R - 0.368 G - 0.071 B
 * with Y below 16 taken as 16 (as OpenCV does), where U and V take the
 * mean of each 2x2 block (of the pixels that exist at
 * odd right or bottom edges).
 */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"

/* Coefficients in 16.16 fixed point, rounded from the exact BT.601 values
 * (255/219 = 1.16438, 1.402*255/224 = 1.59603, ...). */
enum {
  YUV_Y = 76309,   /* 255/219 */
  YUV_RV = 104597, /* 1.402 * 255/224 */
  YUV_GU = 25675,  /* 0.344136 * 255/224 */
  YUV_GV = 53279,  /* 0.714136 * 255/224 */
  YUV_BU = 132201, /* 1.772 * 255/224 */
  RGB_YR = 16829,  /* 0.299 * 219/255 */
  RGB_YG = 33039,  /* 0.587 * 219/255 */
  RGB_YB = 6416,   /* 0.114 * 219/255 */
  RGB_UR = 9714,   /* 0.168736 * 224/255 */
  RGB_UG = 19070,  /* 0.331264 * 224/255 */
  RGB_UB = 28784,  /* 0.5 * 224/255 */
  RGB_VR = 28784,  /* 0.5 * 224/255 */
  RGB_VG = 24103,  /* 0.418688 * 224/255 */
  RGB_VB = 4681    /* 0.081312 * 224/255 */
};

static uint8_t clamp_u8(int v) {
  return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void yuv_to_rgb(int y, int u, int v, uint8_t *rgb) {
  /* Footroom below 16 is black, as in OpenCV (and no darker). */
  int luma = FER__MAX(y - 16, 0) * YUV_Y + 32768; /* + one half, for rounding */
  u -= 128;
  v -= 128;
  rgb[0] = clamp_u8((luma + YUV_RV * v) >> 16);
  rgb[1] = clamp_u8((luma - YUV_GU * u - YUV_GV * v) >> 16);
  rgb[2] = clamp_u8((luma + YUV_BU * u) >> 16);
}

static uint8_t rgb_to_y(int r, int g, int b) {
  return clamp_u8((RGB_YR * r + RGB_YG * g + RGB_YB * b + (16 << 16) + 32768) >> 16);
}

/* r, g, b are sums of `n` pixels. */
static void rgb_to_uv(int r, int g, int b, int n, uint8_t *u, uint8_t *v) {
  int64_t den = (int64_t)n << 16;
  int64_t cu = -(int64_t)RGB_UR * r - (int64_t)RGB_UG * g + (int64_t)RGB_UB * b;
  int64_t cv = (int64_t)RGB_VR * r - (int64_t)RGB_VG * g - (int64_t)RGB_VB * b;
  /* Round to nearest, halves away from zero, before adding the offset. */
  cu = cu >= 0 ? (cu + den / 2) / den : -((-cu + den / 2) / den);
  cv = cv >= 0 ? (cv + den / 2) / den : -((-cv + den / 2) / den);
  *u = clamp_u8((int)cu + 128);
  *v = clamp_u8((int)cv + 128);
}

static const char *format_name(fer_pixel_format format) {
  switch (format) {
    case FER_PIXEL_GRAY8: return "GRAY8";
    case FER_PIXEL_RGB24: return "RGB24";
    case FER_PIXEL_BGR24: return "BGR24";
    case FER_PIXEL_RGBA32: return "RGBA32";
    case FER_PIXEL_BGRA32: return "BGRA32";
    case FER_PIXEL_I420: return "I420";
    case FER_PIXEL_NV12: return "NV12";
  }
  return NULL;
}

/* Bytes per pixel of a packed format, 0 for YUV, -1 for an unknown value. */
static int packed_bytes(fer_pixel_format format) {
  switch (format) {
    case FER_PIXEL_GRAY8: return 1;
    case FER_PIXEL_RGB24:
    case FER_PIXEL_BGR24: return 3;
    case FER_PIXEL_RGBA32:
    case FER_PIXEL_BGRA32: return 4;
    case FER_PIXEL_I420:
    case FER_PIXEL_NV12: return 0;
  }
  return -1;
}

static int chroma_size(int n) { return (n + 1) / 2; }

/* Size of a plane of `rows` rows of which the last holds `row_bytes`; 0 on
 * overflow. */
static size_t plane_bytes(size_t stride, size_t row_bytes, int rows) {
  size_t before_last = fer__mul_size(stride, (size_t)rows - 1);
  if (before_last == SIZE_MAX || before_last > SIZE_MAX - row_bytes) return 0;
  return before_last + row_bytes;
}

/* Validates the geometry of the contiguous layout and returns its total
 * size (Y plane then chroma) and chroma stride. */
static fer_status layout_check(const char *who, fer_pixel_format format,
                               int width, int height, size_t *stride,
                               size_t *chroma_stride, size_t *total) {
  const char *name = format_name(format);
  int bpp = packed_bytes(format);
  if (!name || bpp < 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: unknown pixel format %d",
                     who, (int)format);
  fer_status st = fer__image_check_size(width, height, who);
  if (st != FER_OK) return st == FER_ERR_FORMAT ? FER_ERR_INVALID_ARGUMENT : st;
  size_t row = bpp ? (size_t)width * (size_t)bpp : (size_t)width;
  if (*stride == 0) *stride = row;
  if (*stride < row)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: stride %zu is smaller than a %s row of %d pixels "
                     "(%zu bytes)",
                     who, *stride, name, width, row);
  size_t y_bytes = fer__mul_size(*stride, (size_t)height);
  if (y_bytes == SIZE_MAX || y_bytes > (SIZE_MAX >> 2))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: stride %zu x %d rows overflows (negative stride?)",
                     who, *stride, height);
  *chroma_stride = 0;
  *total = y_bytes;
  if (bpp) return FER_OK;
  size_t cw = (size_t)chroma_size(width), ch = (size_t)chroma_size(height);
  if (format == FER_PIXEL_I420) {
    *chroma_stride = (*stride + 1) / 2;
    *total = y_bytes + 2 * *chroma_stride * ch;
  } else {
    *chroma_stride = *stride;
    if (*stride < 2 * cw)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: NV12 stride %zu is smaller than the UV row of %zu "
                       "bytes for odd width %d",
                       who, *stride, 2 * cw, width);
    *total = y_bytes + *chroma_stride * ch;
  }
  return FER_OK;
}

static void packed_row_to_rgb(const uint8_t *src, uint8_t *dst, int width,
                              fer_pixel_format format) {
  int bpp = packed_bytes(format);
  int swap = format == FER_PIXEL_BGR24 || format == FER_PIXEL_BGRA32;
  for (int x = 0; x < width; x++, src += bpp, dst += 3) {
    dst[0] = src[swap ? 2 : 0];
    dst[1] = src[1];
    dst[2] = src[swap ? 0 : 2];
  }
}

/* U/V planes with per-sample step: 1 for I420, 2 for interleaved NV12. */
static void yuv_planes_to_image(const uint8_t *y, size_t y_stride,
                                const uint8_t *u, size_t u_stride,
                                const uint8_t *v, size_t v_stride,
                                int uv_step, fer_image *img) {
  for (int row = 0; row < img->height; row++) {
    const uint8_t *yr = y + (size_t)row * y_stride;
    const uint8_t *ur = u + (size_t)(row / 2) * u_stride;
    const uint8_t *vr = v + (size_t)(row / 2) * v_stride;
    uint8_t *dst = img->pixels + (size_t)row * img->stride;
    for (int x = 0; x < img->width; x++, dst += 3) {
      int c = (x / 2) * uv_step;
      yuv_to_rgb(yr[x], ur[c], vr[c], dst);
    }
  }
}

fer_status fer_image_from_pixels(const void *pixels, int width, int height,
                                 size_t stride, fer_pixel_format format,
                                 fer_image **out) {
  const char *who = "fer_image_from_pixels";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  if (!pixels) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: pixels is NULL", who);
  size_t chroma_stride, total;
  fer_status st = layout_check(who, format, width, height, &stride,
                               &chroma_stride, &total);
  if (st != FER_OK) return st;
  const uint8_t *src = pixels;
  if (format == FER_PIXEL_I420 || format == FER_PIXEL_NV12) {
    const uint8_t *u = src + stride * (size_t)height;
    const uint8_t *v = format == FER_PIXEL_I420
                           ? u + chroma_stride * (size_t)chroma_size(height)
                           : u + 1;
    st = fer__image_alloc(width, height, 3, 0, who, out);
    if (st != FER_OK) return st;
    yuv_planes_to_image(src, stride, u, chroma_stride, v, chroma_stride,
                        format == FER_PIXEL_NV12 ? 2 : 1, *out);
    return FER_OK;
  }
  st = fer__image_alloc(width, height, format == FER_PIXEL_GRAY8 ? 1 : 3, 0,
                        who, out);
  if (st != FER_OK) return st;
  fer_image *img = *out;
  for (int row = 0; row < height; row++) {
    const uint8_t *s = src + (size_t)row * stride;
    uint8_t *d = img->pixels + (size_t)row * img->stride;
    if (format == FER_PIXEL_GRAY8 || format == FER_PIXEL_RGB24)
      memcpy(d, s, img->stride);
    else
      packed_row_to_rgb(s, d, width, format);
  }
  return FER_OK;
}

fer_status fer_image_from_yuv420(const uint8_t *y, size_t y_stride,
                                 const uint8_t *u, size_t u_stride,
                                 const uint8_t *v, size_t v_stride, int width,
                                 int height, fer_pixel_format format,
                                 fer_image **out) {
  const char *who = "fer_image_from_yuv420";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  if (format != FER_PIXEL_I420 && format != FER_PIXEL_NV12)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: format %d is not I420 or NV12", who, (int)format);
  int nv12 = format == FER_PIXEL_NV12;
  if (!y || !u || (!nv12 && !v))
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: %s plane is NULL", who,
                     !y ? "Y" : !u ? (nv12 ? "UV" : "U") : "V");
  fer_status st = fer__image_check_size(width, height, who);
  if (st != FER_OK) return st == FER_ERR_FORMAT ? FER_ERR_INVALID_ARGUMENT : st;
  size_t cw = (size_t)chroma_size(width) * (nv12 ? 2 : 1);
  if (y_stride == 0) y_stride = (size_t)width;
  if (u_stride == 0) u_stride = cw;
  if (v_stride == 0) v_stride = cw;
  if (y_stride < (size_t)width)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: Y stride %zu is smaller than the width %d", who,
                     y_stride, width);
  if (u_stride < cw || (!nv12 && v_stride < cw))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %s stride %zu is smaller than the chroma row of %zu "
                     "bytes",
                     who, u_stride < cw ? (nv12 ? "UV" : "U") : "V",
                     u_stride < cw ? u_stride : v_stride, cw);
  int ch = chroma_size(height);
  if (!plane_bytes(y_stride, (size_t)width, height) ||
      !plane_bytes(u_stride, cw, ch) || (!nv12 && !plane_bytes(v_stride, cw, ch)))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: a stride overflows the address space (negative "
                     "stride?)",
                     who);
  st = fer__image_alloc(width, height, 3, 0, who, out);
  if (st != FER_OK) return st;
  if (nv12)
    yuv_planes_to_image(y, y_stride, u, u_stride, u + 1, u_stride, 2, *out);
  else
    yuv_planes_to_image(y, y_stride, u, u_stride, v, v_stride, 1, *out);
  return FER_OK;
}

/* The RGB of pixel (x, y), expanding gray. */
static const uint8_t *pixel_rgb(const fer_image *img, int x, int y,
                                uint8_t tmp[3]) {
  const uint8_t *p = img->pixels + (size_t)y * img->stride + (size_t)x * img->channels;
  if (img->channels == 3) return p;
  tmp[0] = tmp[1] = tmp[2] = p[0];
  return tmp;
}

static void image_to_yuv(const fer_image *img, uint8_t *y_plane, size_t stride,
                         uint8_t *u, uint8_t *v, size_t chroma_stride,
                         int uv_step) {
  uint8_t tmp[3];
  for (int row = 0; row < img->height; row++)
    for (int x = 0; x < img->width; x++) {
      const uint8_t *p = pixel_rgb(img, x, row, tmp);
      y_plane[(size_t)row * stride + (size_t)x] = rgb_to_y(p[0], p[1], p[2]);
    }
  for (int cy = 0; cy < chroma_size(img->height); cy++)
    for (int cx = 0; cx < chroma_size(img->width); cx++) {
      int r = 0, g = 0, b = 0, n = 0;
      for (int dy = 0; dy < 2 && 2 * cy + dy < img->height; dy++)
        for (int dx = 0; dx < 2 && 2 * cx + dx < img->width; dx++) {
          const uint8_t *p = pixel_rgb(img, 2 * cx + dx, 2 * cy + dy, tmp);
          r += p[0];
          g += p[1];
          b += p[2];
          n++;
        }
      size_t at = (size_t)cy * chroma_stride + (size_t)cx * (size_t)uv_step;
      rgb_to_uv(r, g, b, n, &u[at], &v[at]);
    }
}

fer_status fer_image_to_pixels(const fer_image *img, fer_pixel_format format,
                               void *dst, size_t stride, size_t capacity) {
  const char *who = "fer_image_to_pixels";
  fer_status st = fer__image_check(img, who);
  if (st != FER_OK) return st;
  if (!dst) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: dst is NULL", who);
  size_t chroma_stride, total;
  st = layout_check(who, format, img->width, img->height, &stride,
                    &chroma_stride, &total);
  if (st != FER_OK) return st;
  int bpp = packed_bytes(format);
  size_t needed = bpp ? plane_bytes(stride, (size_t)img->width * (size_t)bpp,
                                    img->height)
                      : total;
  if (capacity < needed)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL,
                     "%s: %s %dx%d with stride %zu needs %zu bytes, capacity "
                     "is %zu",
                     who, format_name(format), img->width, img->height, stride,
                     needed, capacity);
  uint8_t *out = dst;
  if (!bpp) {
    uint8_t *u = out + stride * (size_t)img->height;
    if (format == FER_PIXEL_I420)
      image_to_yuv(img, out, stride, u,
                   u + chroma_stride * (size_t)chroma_size(img->height),
                   chroma_stride, 1);
    else
      image_to_yuv(img, out, stride, u, u + 1, chroma_stride, 2);
    return FER_OK;
  }
  int swap = format == FER_PIXEL_BGR24 || format == FER_PIXEL_BGRA32;
  uint8_t tmp[3];
  for (int row = 0; row < img->height; row++) {
    uint8_t *d = out + (size_t)row * stride;
    for (int x = 0; x < img->width; x++, d += bpp) {
      const uint8_t *p = pixel_rgb(img, x, row, tmp);
      if (bpp == 1) {
        d[0] = fer__luma(p[0], p[1], p[2]);
        continue;
      }
      d[0] = p[swap ? 2 : 0];
      d[1] = p[1];
      d[2] = p[swap ? 0 : 2];
      if (bpp == 4) d[3] = 255;
    }
  }
  return FER_OK;
}
