/*
 * Windows and OS/2 bitmaps.
 *
 * Decodes BITMAPCOREHEADER (OS/2 1.x, 12 bytes), BITMAPINFOHEADER (40) and
 * its extensions (52, 56, OS/2 2.x 64, V4 108, V5 124): 1/4/8-bit palettes
 * (short palettes allowed; indices past the end are black), 16-bit (555 or
 * BI_BITFIELDS), 24-bit, 32-bit (BI_RGB or BI_BITFIELDS), RLE8 and RLE4,
 * bottom-up and top-down (negative height). Alpha is dropped.
 *
 * Channel rule: a palette image whose palette entries are all gray
 * (R = G = B) decodes to 1 channel, anything else to 3. The encoder writes
 * 1-channel images as 8-bit with a gray ramp palette, so gray survives a
 * round trip, and 3-channel images as 24-bit.
 *
 * Every size and offset is checked against the file size before it is used,
 * and the image size against libfer's limits before anything is allocated.
 */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "util/endian.h"

enum {
  FILE_HEADER_BYTES = 14,
  BI_RGB = 0,
  BI_RLE8 = 1,
  BI_RLE4 = 2,
  BI_BITFIELDS = 3,
  BI_ALPHABITFIELDS = 6
};

typedef struct bmp_info {
  long width, height; /* height > 0 even for top-down files */
  int top_down;
  int bpp;
  uint32_t compression;
  uint32_t masks[3]; /* red, green, blue for 16/32-bit */
  uint8_t palette[256][3]; /* R, G, B; unused entries stay black */
  int palette_count;
  size_t pixel_offset;
} bmp_info;

int fer__bmp_sniff(const uint8_t *data, size_t size) {
  return size >= 2 && data[0] == 'B' && data[1] == 'M';
}

static fer_status read_palette(const uint8_t *data, size_t size, size_t at,
                               int entry_bytes, uint32_t colours_used,
                               bmp_info *info) {
  if (info->bpp > 8) return FER_OK; /* a palette there is only a hint */
  long count = 1L << info->bpp;
  if (colours_used != 0 && colours_used < (uint32_t)count) count = (long)colours_used;
  /* Short files may hold fewer entries than announced, but only up to the
   * pixel data: entries past it would be pixels. */
  size_t end = info->pixel_offset < size ? info->pixel_offset : size;
  if (at > end || (end - at) / (size_t)entry_bytes < (size_t)count) {
    if (at > end || (end - at) < (size_t)entry_bytes)
      return fer__fail(FER_ERR_TRUNCATED,
                       "BMP: palette of %ld entries at byte %zu does not fit "
                       "before the pixels at byte %zu",
                       count, at, info->pixel_offset);
    count = (long)((end - at) / (size_t)entry_bytes);
  }
  for (long i = 0; i < count; i++) {
    const uint8_t *e = data + at + (size_t)i * (size_t)entry_bytes;
    info->palette[i][0] = e[2];
    info->palette[i][1] = e[1];
    info->palette[i][2] = e[0];
  }
  info->palette_count = (int)count;
  return FER_OK;
}

static fer_status read_headers(const uint8_t *data, size_t size, bmp_info *info) {
  memset(info, 0, sizeof *info);
  if (size < FILE_HEADER_BYTES + 4)
    return fer__fail(FER_ERR_TRUNCATED, "BMP: file of %zu bytes ends inside "
                     "the headers", size);
  info->pixel_offset = fer__get_u32le(data + 10);
  uint32_t header_bytes = fer__get_u32le(data + 14);
  if (header_bytes != 12 && header_bytes != 40 && header_bytes != 52 &&
      header_bytes != 56 && header_bytes != 64 && header_bytes != 108 &&
      header_bytes != 124)
    return fer__fail(FER_ERR_FORMAT, "BMP: unknown info header size %u",
                     (unsigned)header_bytes);
  if (size - FILE_HEADER_BYTES < header_bytes)
    return fer__fail(FER_ERR_TRUNCATED,
                     "BMP: file ends inside the %u-byte info header",
                     (unsigned)header_bytes);
  const uint8_t *h = data + FILE_HEADER_BYTES;
  uint32_t colours_used = 0;
  int entry_bytes = 4, planes;
  size_t after_header = FILE_HEADER_BYTES + header_bytes;
  if (header_bytes == 12) {
    info->width = fer__get_u16le(h + 4);
    info->height = fer__get_u16le(h + 6);
    planes = fer__get_u16le(h + 8);
    info->bpp = fer__get_u16le(h + 10);
    entry_bytes = 3;
  } else {
    info->width = (int32_t)fer__get_u32le(h + 4);
    int64_t height = (int32_t)fer__get_u32le(h + 8); /* -INT32_MIN fits */
    planes = fer__get_u16le(h + 12);
    info->bpp = fer__get_u16le(h + 14);
    info->compression = fer__get_u32le(h + 16);
    colours_used = fer__get_u32le(h + 32);
    info->top_down = height < 0;
    height = height < 0 ? -height : height;
    /* Past the limit is past the limit: keep the value within a long. */
    info->height = (long)FER__MIN(height, (int64_t)FER_IMAGE_MAX_SIDE + 1);
    if (header_bytes == 64 && info->compression >= 3)
      return fer__fail(FER_ERR_UNSUPPORTED,
                       "BMP: OS/2 compression %u (Huffman or RLE24)",
                       (unsigned)info->compression);
    if (info->compression == BI_BITFIELDS || info->compression == BI_ALPHABITFIELDS) {
      /* Masks live in the header from V2 on, else right after it. */
      size_t at = header_bytes >= 52 ? FILE_HEADER_BYTES + 40 : after_header;
      if (at + 12 > size)
        return fer__fail(FER_ERR_TRUNCATED, "BMP: file ends inside the colour masks");
      for (int i = 0; i < 3; i++) info->masks[i] = fer__get_u32le(data + at + 4 * i);
      if (header_bytes == 40)
        after_header += info->compression == BI_ALPHABITFIELDS ? 16 : 12;
    }
  }
  if (planes != 1)
    return fer__fail(FER_ERR_FORMAT, "BMP: %d colour planes (must be 1)", planes);
  if (info->width <= 0 || info->height <= 0)
    return fer__fail(FER_ERR_FORMAT, "BMP: image size %ldx%ld is empty or "
                     "negative", info->width, info->height);
  int bpp = info->bpp;
  uint32_t c = info->compression;
  int ok = (c == BI_RGB && (bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 ||
                            bpp == 24 || bpp == 32)) ||
           (c == BI_RLE8 && bpp == 8) || (c == BI_RLE4 && bpp == 4) ||
           ((c == BI_BITFIELDS || c == BI_ALPHABITFIELDS) && (bpp == 16 || bpp == 32));
  if (!ok)
    return fer__fail(c > BI_BITFIELDS && c != BI_ALPHABITFIELDS
                         ? FER_ERR_UNSUPPORTED : FER_ERR_FORMAT,
                     "BMP: compression %u with %d bits per pixel is %s",
                     (unsigned)c, bpp,
                     c == 4 ? "embedded JPEG (unsupported)"
                     : c == 5 ? "embedded PNG (unsupported)"
                              : "not a valid combination");
  if ((c == BI_RLE8 || c == BI_RLE4) && info->top_down)
    return fer__fail(FER_ERR_FORMAT, "BMP: RLE images cannot be top-down");
  if (bpp == 16 && c == BI_RGB) {
    info->masks[0] = 0x7C00;
    info->masks[1] = 0x03E0;
    info->masks[2] = 0x001F;
  } else if (bpp == 32 && c == BI_RGB) {
    info->masks[0] = 0xFF0000;
    info->masks[1] = 0x00FF00;
    info->masks[2] = 0x0000FF;
  }
  if (info->pixel_offset < after_header || info->pixel_offset > size)
    return fer__fail(info->pixel_offset > size ? FER_ERR_TRUNCATED : FER_ERR_FORMAT,
                     "BMP: pixel data offset %zu is outside %zu..%zu",
                     info->pixel_offset, after_header, size);
  fer_status st = fer__image_check_size(info->width, info->height, "BMP header");
  if (st != FER_OK) return st;
  return read_palette(data, size, after_header, entry_bytes, colours_used, info);
}

/* A channel mask as shift and width, to widen its field to 8 bits. */
typedef struct mask_field {
  int shift;
  int bits;
  uint32_t max;
} mask_field;

static mask_field mask_to_field(uint32_t mask) {
  mask_field f = {0, 0, 0};
  if (!mask) return f;
  while (!(mask & 1)) {
    mask >>= 1;
    f.shift++;
  }
  f.max = mask;
  while (mask & 1) {
    mask >>= 1;
    f.bits++;
  }
  if (mask) f.bits = 0; /* holes in the mask: scale instead of replicate */
  return f;
}

/* Narrow fields are widened by repeating their bits (5-bit 10110 becomes
 * 10110101), so 0 and the maximum map to 0 and 255, as other decoders do;
 * wide fields keep their top 8 bits. */
static uint8_t field_value(uint32_t pixel, mask_field f) {
  if (!f.max) return 0;
  uint32_t v = (pixel >> f.shift) & f.max;
  if (f.bits == 0) return (uint8_t)(((uint64_t)v * 255u + f.max / 2) / f.max);
  if (f.bits >= 8) return (uint8_t)(v >> (f.bits - 8));
  uint32_t wide = 0;
  int have = 0;
  while (have < 8) {
    wide = (wide << f.bits) | v;
    have += f.bits;
  }
  return (uint8_t)(wide >> (have - 8));
}

static int palette_is_gray(const bmp_info *info) {
  for (int i = 0; i < info->palette_count; i++)
    if (info->palette[i][0] != info->palette[i][1] ||
        info->palette[i][1] != info->palette[i][2])
      return 0;
  return 1;
}

/* Row `y` of the output for stored row `stored` (stored rows run bottom-up
 * unless the file is top-down). */
static uint8_t *output_row(fer_image *img, const bmp_info *info, long stored) {
  long y = info->top_down ? stored : info->height - 1 - stored;
  return img->pixels + (size_t)y * img->stride;
}

static void put_index(fer_image *img, const bmp_info *info, uint8_t *row,
                      long x, unsigned index) {
  const uint8_t *rgb = info->palette[index];
  if (img->channels == 1)
    row[x] = rgb[0];
  else
    memcpy(row + 3 * x, rgb, 3);
}

static void decode_uncompressed(const uint8_t *src, size_t row_bytes,
                                const bmp_info *info, fer_image *img) {
  mask_field r = mask_to_field(info->masks[0]), g = mask_to_field(info->masks[1]),
             b = mask_to_field(info->masks[2]);
  for (long s = 0; s < info->height; s++, src += row_bytes) {
    uint8_t *row = output_row(img, info, s);
    for (long x = 0; x < info->width; x++) {
      switch (info->bpp) {
        case 1: put_index(img, info, row, x, (src[x >> 3] >> (7 - (x & 7))) & 1); break;
        case 4: put_index(img, info, row, x, (src[x >> 1] >> (x & 1 ? 0 : 4)) & 15); break;
        case 8: put_index(img, info, row, x, src[x]); break;
        case 24:
          row[3 * x] = src[3 * x + 2];
          row[3 * x + 1] = src[3 * x + 1];
          row[3 * x + 2] = src[3 * x];
          break;
        default: {
          uint32_t p = info->bpp == 16 ? fer__get_u16le(src + 2 * x)
                                       : fer__get_u32le(src + 4 * x);
          row[3 * x] = field_value(p, r);
          row[3 * x + 1] = field_value(p, g);
          row[3 * x + 2] = field_value(p, b);
        }
      }
    }
  }
}

/* RLE8 and RLE4: runs of one index (two alternating ones for RLE4),
 * literal runs padded to 16 bits, and escapes for end of line, end of
 * bitmap and a jump. Pixels the stream never sets keep index 0. */
static fer_status decode_rle(const uint8_t *p, size_t n, const bmp_info *info,
                             fer_image *img) {
  int four = info->bpp == 4;
  long x = 0, y = 0;
  size_t i = 0;
  /* One row of index 0, copied to the others: RLE files may leave pixels
   * unset, and a tiny file may stand for a large image. */
  for (long xx = 0; xx < info->width; xx++) put_index(img, info, img->pixels, xx, 0);
  for (long yy = 1; yy < info->height; yy++)
    memcpy(img->pixels + (size_t)yy * img->stride, img->pixels, img->stride);
  for (;;) {
    if (n - i < 2)
      return fer__fail(FER_ERR_TRUNCATED, "BMP: RLE data ends at byte %zu "
                       "without an end-of-bitmap code", info->pixel_offset + i);
    unsigned count = p[i], value = p[i + 1];
    i += 2;
    if (count > 0) {
      for (unsigned k = 0; k < count; k++, x++) {
        unsigned index = four ? (k & 1 ? value & 15 : value >> 4) : value;
        if (x < info->width && y < info->height)
          put_index(img, info, output_row(img, info, y), x, index);
      }
      continue;
    }
    if (value == 0) { /* end of line */
      x = 0;
      y++;
    } else if (value == 1) { /* end of bitmap */
      return FER_OK;
    } else if (value == 2) { /* jump right and up */
      if (n - i < 2)
        return fer__fail(FER_ERR_TRUNCATED, "BMP: RLE jump cut off at byte %zu",
                         info->pixel_offset + i);
      x += p[i];
      y += p[i + 1];
      i += 2;
    } else { /* literal run of `value` indices */
      size_t bytes = four ? (value + 1) / 2 : value;
      size_t padded = bytes + (bytes & 1);
      if (n - i < padded)
        return fer__fail(FER_ERR_TRUNCATED,
                         "BMP: RLE literal run of %u pixels cut off at byte %zu",
                         value, info->pixel_offset + i);
      for (unsigned k = 0; k < value; k++, x++) {
        unsigned index = four ? (p[i + k / 2] >> (k & 1 ? 0 : 4)) & 15 : p[i + k];
        if (x < info->width && y < info->height)
          put_index(img, info, output_row(img, info, y), x, index);
      }
      i += padded;
    }
    /* Writing stops at the top; stop reading too, so a hostile stream of
     * end-of-line codes cannot spin for long. */
    if (y >= info->height) return FER_OK;
  }
}

fer_status fer__bmp_decode(const uint8_t *data, size_t size, fer_image **out) {
  *out = NULL;
  if (!fer__bmp_sniff(data, size))
    return fer__fail(FER_ERR_FORMAT, "BMP: missing BM signature");
  bmp_info *info = fer__malloc(sizeof *info);
  if (!info) return fer__fail(FER_ERR_OUT_OF_MEMORY, "BMP: out of memory");
  fer_status st = read_headers(data, size, info);
  int rle = info->compression == BI_RLE8 || info->compression == BI_RLE4;
  size_t row_bytes = ((size_t)info->width * (size_t)info->bpp + 31) / 32 * 4;
  if (st == FER_OK && !rle) {
    size_t available = size - info->pixel_offset;
    /* The last row may lack its padding in files from sloppy writers. */
    size_t last_row = ((size_t)info->width * (size_t)info->bpp + 7) / 8;
    /* At most 2^26 pixels of 32 bits: no overflow. */
    size_t needed = row_bytes * (size_t)(info->height - 1) + last_row;
    if (available < needed)
      st = fer__fail(FER_ERR_TRUNCATED,
                     "BMP: %ldx%ld at %d bits needs %zu bytes of pixels, the "
                     "file has %zu",
                     info->width, info->height, info->bpp, needed, available);
  }
  if (st == FER_OK) {
    int channels = info->bpp <= 8 && palette_is_gray(info) ? 1 : 3;
    st = fer__image_alloc((int)info->width, (int)info->height, channels, 0,
                          "BMP header", out);
  }
  if (st == FER_OK) {
    if (rle)
      st = decode_rle(data + info->pixel_offset, size - info->pixel_offset, info, *out);
    else
      decode_uncompressed(data + info->pixel_offset, row_bytes, info, *out);
  }
  if (st != FER_OK) {
    fer_image_free(*out);
    *out = NULL;
  }
  fer__free(info);
  return st;
}

fer_status fer__bmp_encode(const fer_image *img, fer__buf *out) {
  int gray = img->channels == 1;
  int bpp = gray ? 8 : 24;
  size_t row_bytes = ((size_t)img->width * (size_t)bpp + 31) / 32 * 4;
  size_t palette_bytes = gray ? 256 * 4 : 0;
  size_t offset = FILE_HEADER_BYTES + 40 + palette_bytes;
  size_t total = offset + row_bytes * (size_t)img->height;
  if (total > UINT32_MAX)
    return fer__fail(FER_ERR_TOO_LARGE, "BMP encoder: %dx%d needs %zu bytes, "
                     "more than a BMP can hold", img->width, img->height, total);
  if (!fer__buf_reserve(out, total)) return fer__buf_status(out, "BMP encoder");
  fer__buf_append(out, "BM", 2);
  fer__buf_u32le(out, (uint32_t)total);
  fer__buf_u32le(out, 0);
  fer__buf_u32le(out, (uint32_t)offset);
  fer__buf_u32le(out, 40);
  fer__buf_u32le(out, (uint32_t)img->width);
  fer__buf_u32le(out, (uint32_t)img->height); /* positive: bottom-up */
  fer__buf_u16le(out, 1);
  fer__buf_u16le(out, (uint16_t)bpp);
  fer__buf_u32le(out, BI_RGB);
  fer__buf_u32le(out, (uint32_t)(row_bytes * (size_t)img->height));
  fer__buf_u32le(out, 2835); /* 72 dpi, in pixels per metre */
  fer__buf_u32le(out, 2835);
  fer__buf_u32le(out, gray ? 256 : 0);
  fer__buf_u32le(out, 0);
  for (int i = 0; gray && i < 256; i++) {
    uint8_t entry[4] = {(uint8_t)i, (uint8_t)i, (uint8_t)i, 0};
    fer__buf_append(out, entry, 4);
  }
  /* Rows bottom-up, written straight into the reserved space. */
  size_t used = (size_t)img->width * (size_t)img->channels;
  for (int y = img->height - 1; y >= 0 && !out->failed; y--) {
    const uint8_t *src = img->pixels + (size_t)y * img->stride;
    uint8_t *dst = out->data + out->size;
    if (gray) {
      memcpy(dst, src, used);
    } else {
      for (int x = 0; x < img->width; x++, src += 3, dst += 3) {
        dst[0] = src[2];
        dst[1] = src[1];
        dst[2] = src[0];
      }
    }
    memset(out->data + out->size + used, 0, row_bytes - used);
    out->size += row_bytes;
  }
  return fer__buf_status(out, "BMP encoder");
}
