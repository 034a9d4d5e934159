/*
 * Codec dispatch: recognise a file by its content, decode it, then apply
 * the EXIF orientation and the gray conversion the caller asked for; and
 * the reverse, encoding to a buffer or a file.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "util/file.h"

/* Larger files are refused before reading: no supported image of at most
 * FER_IMAGE_MAX_PIXELS needs more, even as ASCII PNM. */
#define MAX_IMAGE_FILE_BYTES ((size_t)512 << 20)

/* Where the stored pixel (sx, sy) comes from for display pixel (x, y), per
 * EXIF orientation 2..8 (1 is the identity). W and H are the stored size. */
static void stored_position(int orientation, int x, int y, int w, int h,
                            int *sx, int *sy) {
  switch (orientation) {
    case 2: *sx = w - 1 - x; *sy = y; break;         /* mirrored */
    case 3: *sx = w - 1 - x; *sy = h - 1 - y; break; /* turned 180 */
    case 4: *sx = x; *sy = h - 1 - y; break;         /* flipped */
    case 5: *sx = y; *sy = x; break;                 /* transposed */
    case 6: *sx = y; *sy = h - 1 - x; break;         /* needs 90 clockwise */
    case 7: *sx = w - 1 - y; *sy = h - 1 - x; break; /* transversed */
    case 8: *sx = w - 1 - y; *sy = x; break;         /* needs 90 anticlockwise */
    default: *sx = x; *sy = y; break;
  }
}

fer_status fer__image_apply_orientation(fer_image **img) {
  fer_image *in = *img;
  int o = in->orientation;
  if (o < 2 || o > 8) return FER_OK;
  int swap = o >= 5;
  fer_image *out;
  fer_status st = fer__image_alloc(swap ? in->height : in->width,
                                   swap ? in->width : in->height, in->channels,
                                   0, "EXIF orientation", &out);
  if (st != FER_OK) return st;
  int c = in->channels;
  for (int y = 0; y < out->height; y++) {
    uint8_t *d = out->pixels + (size_t)y * out->stride;
    for (int x = 0; x < out->width; x++, d += c) {
      int sx, sy;
      stored_position(o, x, y, in->width, in->height, &sx, &sy);
      memcpy(d, in->pixels + (size_t)sy * in->stride + (size_t)sx * c, (size_t)c);
    }
  }
  out->orientation = o;
  fer_image_free(in);
  *img = out;
  return FER_OK;
}

fer_status fer_image_decode(const void *data, size_t size, unsigned flags,
                            fer_image **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_image_decode: out is NULL");
  *out = NULL;
  if (!data && size) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_image_decode: data is NULL");
  if (flags & ~(FER_DECODE_IGNORE_ORIENTATION | FER_DECODE_GRAY))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_image_decode: unknown flag bits 0x%x", flags);
  const uint8_t *p = data;
  fer_image *img = NULL;
  fer_status st;
  if (size == 0) return fer__fail(FER_ERR_TRUNCATED, "image data is empty");
  if (fer__pnm_sniff(p, size))
    st = fer__pnm_decode(p, size, &img);
  else if (fer__bmp_sniff(p, size))
    st = fer__bmp_decode(p, size, &img);
  else if (fer__png_sniff(p, size))
    st = fer__png_decode(p, size, &img);
  else if (fer__jpeg_sniff(p, size))
    st = fer__jpeg_decode(p, size, flags, &img);
  else {
    char hex[3 * 8 + 1] = "";
    size_t n = size < 8 ? size : 8, used = 0;
    for (size_t i = 0; i < n; i++)
      used += (size_t)snprintf(hex + used, sizeof hex - used, "%s%02X",
                               i ? " " : "", p[i]);
    return fer__fail(FER_ERR_UNSUPPORTED,
                     "unknown image format (first bytes %s; expected PNM, "
                     "BMP, PNG or JPEG)",
                     hex);
  }
  if (st != FER_OK) {
    fer_image_free(img);
    return st;
  }
  if (!(flags & FER_DECODE_IGNORE_ORIENTATION)) {
    st = fer__image_apply_orientation(&img);
    if (st != FER_OK) {
      fer_image_free(img);
      return st;
    }
  }
  if ((flags & FER_DECODE_GRAY) && img->channels != 1) {
    fer_image *gray;
    st = fer_image_to_gray(img, &gray);
    fer_image_free(img);
    if (st != FER_OK) return st;
    img = gray;
  }
  *out = img;
  return FER_OK;
}

fer_status fer_image_load(const char *path, unsigned flags, fer_image **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_image_load: out is NULL");
  *out = NULL;
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_image_load: path is NULL");
  uint8_t *data;
  size_t size;
  /* fer__read_file's messages already name the path. */
  fer_status st = fer__read_file(path, MAX_IMAGE_FILE_BYTES, &data, &size);
  if (st != FER_OK) return st;
  st = fer_image_decode(data, size, flags, out);
  fer__free(data);
  return st == FER_OK ? st : fer__fail_prefix(st, path);
}

fer_status fer_image_encode(const fer_image *img, fer_image_format format,
                            void **out_data, size_t *out_size) {
  const char *who = "fer_image_encode";
  if (!out_data || !out_size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: %s is NULL", who,
                     !out_data ? "out_data" : "out_size");
  *out_data = NULL;
  *out_size = 0;
  fer_status st = fer__image_check(img, who);
  if (st != FER_OK) return st;
  fer__buf buf;
  fer__buf_init(&buf);
  switch (format) {
    case FER_IMAGE_FORMAT_PNM: st = fer__pnm_encode(img, &buf); break;
    case FER_IMAGE_FORMAT_BMP: st = fer__bmp_encode(img, &buf); break;
    case FER_IMAGE_FORMAT_PNG: st = fer__png_encode(img, &buf); break;
    case FER_IMAGE_FORMAT_JPEG:
      return fer__fail(FER_ERR_UNSUPPORTED, "%s: JPEG encoding is not supported "
                       "(libfer decodes JPEG only)", who);
    case FER_IMAGE_FORMAT_AUTO:
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: AUTO needs a file name; name a format", who);
    default:
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: unknown format %d", who,
                       (int)format);
  }
  if (st == FER_OK) st = fer__buf_status(&buf, who);
  if (st != FER_OK) {
    fer__buf_release(&buf);
    return st;
  }
  *out_data = buf.data;
  *out_size = buf.size;
  return FER_OK;
}

/* Case-insensitive test of the file name's extension. */
static int has_extension(const char *path, const char *ext) {
  size_t n = strlen(path), e = strlen(ext);
  if (n < e) return 0;
  for (size_t i = 0; i < e; i++)
    if (tolower((unsigned char)path[n - e + i]) != ext[i]) return 0;
  return 1;
}

static fer_status format_from_name(const char *path, fer_image_format *format) {
  static const struct {
    const char *ext;
    fer_image_format format;
  } table[] = {
    {".pgm", FER_IMAGE_FORMAT_PNM}, {".ppm", FER_IMAGE_FORMAT_PNM},
    {".pnm", FER_IMAGE_FORMAT_PNM}, {".bmp", FER_IMAGE_FORMAT_BMP},
    {".png", FER_IMAGE_FORMAT_PNG}, {".jpg", FER_IMAGE_FORMAT_JPEG},
    {".jpeg", FER_IMAGE_FORMAT_JPEG},
  };
  for (size_t i = 0; i < FER__ARRAY_LEN(table); i++)
    if (has_extension(path, table[i].ext)) {
      *format = table[i].format;
      return FER_OK;
    }
  return fer__fail(FER_ERR_INVALID_ARGUMENT,
                   "%s: cannot tell the format from the extension (use .pgm, "
                   ".ppm, .pnm, .bmp or .png, or name the format)",
                   path);
}

fer_status fer_image_save(const fer_image *img, const char *path,
                          fer_image_format format) {
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_image_save: path is NULL");
  fer_status st = fer__image_check(img, "fer_image_save");
  if (st != FER_OK) return st;
  if (format == FER_IMAGE_FORMAT_AUTO) {
    st = format_from_name(path, &format);
    if (st != FER_OK) return st;
  }
  void *data;
  size_t size;
  st = fer_image_encode(img, format, &data, &size);
  if (st != FER_OK) return fer__fail_prefix(st, path);
  st = fer__write_file_atomic(path, data, size);
  fer_free(data);
  return st;
}
