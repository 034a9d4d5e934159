/*
 * PNG decoder: every colour type and bit depth of the PNG specification
 * (ISO/IEC 15948), Adam7 interlacing, all five filters.
 *
 * Output is 8-bit: gray and gray+alpha images give a 1-channel image; RGB,
 * RGBA and palette images give 3-channel RGB. Alpha (the alpha channel and
 * tRNS) is dropped, not composited, as OpenCV's default imread does.
 * 16-bit samples keep their high byte (v >> 8), which is what PIL's
 * RGB;16B/LA;16B/RGBA;16B raw modes and libpng's png_set_strip_16 (used by
 * OpenCV) do. Gray 1/2/4-bit samples are scaled to 0..255 by replicating
 * their bits (v * 255 / (2^depth - 1)), as libpng and PIL do.
 *
 * The file is checked in two passes: first the chunk structure (CRCs,
 * order, sizes) without allocating anything, then the pixels.
 */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "image/png_internal.h"
#include "util/crc32.h"
#include "util/endian.h"
#include "util/inflate.h"

int fer__png_sniff(const uint8_t *data, size_t size) {
  return size >= 8 && memcmp(data, fer__png_signature, 8) == 0;
}

typedef struct png_info {
  uint32_t width, height;
  unsigned depth, color_type, interlaced;
  unsigned samples;        /* samples per pixel */
  unsigned bits_per_pixel; /* samples * depth */
  unsigned out_channels;   /* 1 or 3 */
  uint8_t palette[256 * 3];
  unsigned palette_count;
  /* IDAT payloads: the first chunk's position, their count and total. */
  size_t first_idat, idat_chunks, idat_total;
} png_info;

static int is_chunk_letter(uint8_t c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static fer_status parse_ihdr(png_info *info, const uint8_t *p, uint32_t len) {
  if (len != 13)
    return fer__fail(FER_ERR_FORMAT, "PNG IHDR: %u bytes long, not 13", len);
  info->width = fer__get_u32be(p);
  info->height = fer__get_u32be(p + 4);
  info->depth = p[8];
  info->color_type = p[9];
  if (info->width > 0x7FFFFFFFu || info->height > 0x7FFFFFFFu)
    return fer__fail(FER_ERR_FORMAT, "PNG IHDR: size %ux%u is beyond 2^31-1",
                     info->width, info->height);
  fer_status st = fer__image_check_size(info->width, info->height, "PNG IHDR");
  if (st != FER_OK) return st;
  unsigned d = info->depth;
  int depth_ok;
  switch (info->color_type) {
    case 0:
      info->samples = 1;
      depth_ok = d == 1 || d == 2 || d == 4 || d == 8 || d == 16;
      break;
    case 2:
      info->samples = 3;
      depth_ok = d == 8 || d == 16;
      break;
    case 3:
      info->samples = 1;
      depth_ok = d == 1 || d == 2 || d == 4 || d == 8;
      break;
    case 4:
      info->samples = 2;
      depth_ok = d == 8 || d == 16;
      break;
    case 6:
      info->samples = 4;
      depth_ok = d == 8 || d == 16;
      break;
    default:
      return fer__fail(FER_ERR_FORMAT, "PNG IHDR: invalid colour type %u",
                       info->color_type);
  }
  if (!depth_ok)
    return fer__fail(FER_ERR_FORMAT,
                     "PNG IHDR: bit depth %u is invalid for colour type %u", d,
                     info->color_type);
  if (p[10] != 0)
    return fer__fail(FER_ERR_FORMAT, "PNG IHDR: unknown compression method %u", p[10]);
  if (p[11] != 0)
    return fer__fail(FER_ERR_FORMAT, "PNG IHDR: unknown filter method %u", p[11]);
  if (p[12] > 1)
    return fer__fail(FER_ERR_FORMAT, "PNG IHDR: unknown interlace method %u", p[12]);
  info->interlaced = p[12];
  info->bits_per_pixel = info->samples * d;
  info->out_channels = (info->color_type == 0 || info->color_type == 4) ? 1 : 3;
  return FER_OK;
}

/* First pass: walks the chunks, checking CRCs and the ordering rules, and
 * finds IHDR, PLTE and the IDAT run. Allocates nothing. */
static fer_status read_chunks(const uint8_t *data, size_t size, png_info *info) {
  if (!fer__png_sniff(data, size))
    return fer__fail(FER_ERR_FORMAT, "PNG: missing signature");
  size_t pos = 8;
  int seen_ihdr = 0, seen_plte = 0;
  enum { NO_IDAT_YET, IN_IDAT, AFTER_IDAT } idat = NO_IDAT_YET;
  for (;;) {
    if (size - pos < 12)
      return fer__fail(FER_ERR_TRUNCATED,
                       "PNG: file ends at byte %zu inside a chunk header "
                       "(no IEND)", size);
    uint32_t len = fer__get_u32be(data + pos);
    const uint8_t *type = data + pos + 4, *body = data + pos + 8;
    char name[5] = {0};
    for (int i = 0; i < 4; i++)
      name[i] = is_chunk_letter(type[i]) ? (char)type[i] : '?';
    if (len > 0x7FFFFFFFu)
      return fer__fail(FER_ERR_FORMAT, "PNG chunk %s at byte %zu: length %u "
                       "is beyond 2^31-1", name, pos, len);
    if (!is_chunk_letter(type[0]) || !is_chunk_letter(type[1]) ||
        !is_chunk_letter(type[2]) || !is_chunk_letter(type[3]))
      return fer__fail(FER_ERR_FORMAT, "PNG: chunk at byte %zu has an invalid "
                       "type", pos);
    if (size - pos - 12 < len)
      return fer__fail(FER_ERR_TRUNCATED, "PNG chunk %s at byte %zu: %u bytes "
                       "long but the file ends after %zu", name, pos, len,
                       size - pos - 12);
    uint32_t stored_crc = fer__get_u32be(body + len);
    if (fer__crc32(0, type, (size_t)len + 4) != stored_crc)
      return fer__fail(FER_ERR_CHECKSUM, "PNG chunk %s at byte %zu: CRC "
                       "mismatch", name, pos);
    int critical = !(type[0] & 0x20);
    if (!seen_ihdr && memcmp(type, "IHDR", 4) != 0)
      return fer__fail(FER_ERR_FORMAT, "PNG: first chunk is %s, not IHDR", name);
    if (idat == IN_IDAT && memcmp(type, "IDAT", 4) != 0) idat = AFTER_IDAT;

    if (memcmp(type, "IHDR", 4) == 0) {
      if (seen_ihdr)
        return fer__fail(FER_ERR_FORMAT, "PNG: second IHDR at byte %zu", pos);
      seen_ihdr = 1;
      fer_status st = parse_ihdr(info, body, len);
      if (st != FER_OK) return st;
    } else if (memcmp(type, "PLTE", 4) == 0) {
      if (seen_plte)
        return fer__fail(FER_ERR_FORMAT, "PNG: second PLTE at byte %zu", pos);
      if (idat != NO_IDAT_YET)
        return fer__fail(FER_ERR_FORMAT, "PNG: PLTE after IDAT at byte %zu", pos);
      if (info->color_type == 0 || info->color_type == 4)
        return fer__fail(FER_ERR_FORMAT, "PNG: PLTE in a gray image at byte %zu", pos);
      if (len % 3 != 0 || len == 0 || len > 256 * 3)
        return fer__fail(FER_ERR_FORMAT, "PNG PLTE: length %u is not 3 to 768 "
                         "in steps of 3", len);
      seen_plte = 1;
      memcpy(info->palette, body, len);
      info->palette_count = len / 3;
    } else if (memcmp(type, "IDAT", 4) == 0) {
      if (idat == AFTER_IDAT)
        return fer__fail(FER_ERR_FORMAT, "PNG: IDAT chunks are not consecutive "
                         "(another at byte %zu)", pos);
      if (info->color_type == 3 && !seen_plte)
        return fer__fail(FER_ERR_FORMAT, "PNG: palette image has no PLTE before IDAT");
      if (idat == NO_IDAT_YET) info->first_idat = pos;
      idat = IN_IDAT;
      info->idat_chunks++;
      info->idat_total += len;
    } else if (memcmp(type, "IEND", 4) == 0) {
      if (idat == NO_IDAT_YET)
        return fer__fail(FER_ERR_FORMAT, "PNG: IEND before any IDAT");
      return FER_OK; /* anything after IEND is ignored */
    } else if (critical) {
      return fer__fail(FER_ERR_UNSUPPORTED, "PNG: unknown critical chunk %s at "
                       "byte %zu", name, pos);
    }
    /* Ancillary chunks (tRNS, gAMA, text, ...) carry nothing libfer uses. */
    pos += 12 + (size_t)len;
  }
}

/* ---- Pixel data --------------------------------------------------------- */

typedef struct pass_geometry {
  uint32_t x0, y0, dx, dy; /* where the pass's pixels land */
  uint32_t width, height;  /* pixels in the pass */
  size_t row_bytes;        /* without the filter byte */
} pass_geometry;

static pass_geometry make_pass(const png_info *info, uint32_t x0, uint32_t y0,
                               uint32_t dx, uint32_t dy) {
  pass_geometry g = {x0, y0, dx, dy, 0, 0, 0};
  if (info->width > x0) g.width = (info->width - x0 + dx - 1) / dx;
  if (info->height > y0) g.height = (info->height - y0 + dy - 1) / dy;
  if (g.width == 0) g.height = 0;
  g.row_bytes = ((size_t)g.width * info->bits_per_pixel + 7) / 8;
  return g;
}

/* The passes in file order: one for a plain image, seven for Adam7. */
static unsigned image_passes(const png_info *info, pass_geometry passes[7]) {
  if (!info->interlaced) {
    passes[0] = make_pass(info, 0, 0, 1, 1);
    return 1;
  }
  static const uint8_t adam7[7][4] = {{0, 0, 8, 8}, {4, 0, 8, 8}, {0, 4, 4, 8},
                                      {2, 0, 4, 4}, {0, 2, 2, 4}, {1, 0, 2, 2},
                                      {0, 1, 1, 2}};
  for (unsigned i = 0; i < 7; i++)
    passes[i] = make_pass(info, adam7[i][0], adam7[i][1], adam7[i][2], adam7[i][3]);
  return 7;
}

static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c) {
  int p = a + b - c;
  int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p,
      pc = p > c ? p - c : c - p;
  if (pa <= pb && pa <= pc) return a;
  return pb <= pc ? b : c;
}

/* Undoes one row's filter in place; `prev` is the previous unfiltered row
 * of the same pass (zeros for the first), `bpp` the bytes per complete
 * pixel rounded up to 1 (the filters' "left" distance). */
static int unfilter_row(unsigned filter, uint8_t *row, const uint8_t *prev,
                        size_t n, size_t bpp) {
  size_t i;
  switch (filter) {
    case 0:
      return 1;
    case 1:
      for (i = bpp; i < n; i++) row[i] = (uint8_t)(row[i] + row[i - bpp]);
      return 1;
    case 2:
      for (i = 0; i < n; i++) row[i] = (uint8_t)(row[i] + prev[i]);
      return 1;
    case 3:
      for (i = 0; i < bpp && i < n; i++) row[i] = (uint8_t)(row[i] + (prev[i] >> 1));
      for (; i < n; i++)
        row[i] = (uint8_t)(row[i] + ((row[i - bpp] + prev[i]) >> 1));
      return 1;
    case 4:
      for (i = 0; i < bpp && i < n; i++) row[i] = (uint8_t)(row[i] + prev[i]);
      for (; i < n; i++)
        row[i] = (uint8_t)(row[i] + paeth(row[i - bpp], prev[i], prev[i - bpp]));
      return 1;
    default:
      return 0;
  }
}

/* Sample `i` of a row of samples `depth` bits wide, packed big-end first;
 * 16-bit samples give their high byte. */
static inline unsigned get_sample(const uint8_t *row, size_t i, unsigned depth) {
  switch (depth) {
    case 8: return row[i];
    case 16: return row[2 * i];
    default: {
      size_t bit = i * depth;
      return (row[bit >> 3] >> (8 - depth - (bit & 7))) & ((1u << depth) - 1);
    }
  }
}

/* Converts one unfiltered row of `g->width` pixels into 8-bit output pixels
 * at `dst`, `step` bytes apart. Returns 0 on a palette index out of range. */
static int convert_row(const png_info *info, const uint8_t *row, uint32_t n,
                       uint8_t *dst, size_t step, unsigned *bad_index) {
  unsigned d = info->depth, s = info->samples;
  switch (info->color_type) {
    case 0:
    case 4: {
      unsigned scale = d < 8 ? 255u / ((1u << d) - 1) : 1;
      for (uint32_t x = 0; x < n; x++, dst += step)
        *dst = (uint8_t)(get_sample(row, (size_t)x * s, d) * scale);
      return 1;
    }
    case 3:
      for (uint32_t x = 0; x < n; x++, dst += step) {
        unsigned idx = get_sample(row, x, d);
        if (idx >= info->palette_count) {
          *bad_index = idx;
          return 0;
        }
        memcpy(dst, info->palette + 3 * idx, 3);
      }
      return 1;
    default: /* 2 (RGB) and 6 (RGBA) */
      for (uint32_t x = 0; x < n; x++, dst += step) {
        size_t first = (size_t)x * s;
        dst[0] = (uint8_t)get_sample(row, first, d);
        dst[1] = (uint8_t)get_sample(row, first + 1, d);
        dst[2] = (uint8_t)get_sample(row, first + 2, d);
      }
      return 1;
  }
}

/* The zlib stream split over the IDAT run, made contiguous. */
static fer_status gather_idat(const uint8_t *data, const png_info *info,
                              const uint8_t **zdata, uint8_t **owned) {
  *owned = NULL;
  const uint8_t *chunk = data + info->first_idat;
  if (info->idat_chunks == 1) {
    *zdata = chunk + 8;
    return FER_OK;
  }
  uint8_t *joined = fer__malloc(info->idat_total);
  if (!joined) return fer__fail(FER_ERR_OUT_OF_MEMORY, "PNG: out of memory for IDAT");
  size_t at = 0;
  for (size_t i = 0; i < info->idat_chunks; i++) {
    uint32_t len = fer__get_u32be(chunk);
    memcpy(joined + at, chunk + 8, len);
    at += len;
    chunk += 12 + (size_t)len;
  }
  *zdata = joined;
  *owned = joined;
  return FER_OK;
}

static fer_status decode_pixels(const png_info *info, uint8_t *raw,
                                fer_image *img) {
  pass_geometry passes[7];
  unsigned num_passes = image_passes(info, passes);
  size_t bpp = (info->bits_per_pixel + 7) / 8;
  size_t widest = 0;
  for (unsigned p = 0; p < num_passes; p++)
    widest = FER__MAX(widest, passes[p].row_bytes);
  uint8_t *zeros = fer__calloc(widest + 1, 1);
  if (!zeros) return fer__fail(FER_ERR_OUT_OF_MEMORY, "PNG: out of memory");
  fer_status st = FER_OK;
  size_t step_x = info->out_channels;
  for (unsigned p = 0; p < num_passes && st == FER_OK; p++) {
    const pass_geometry *g = &passes[p];
    const uint8_t *prev = zeros;
    for (uint32_t y = 0; y < g->height; y++) {
      uint8_t *row = raw + 1;
      unsigned filter = raw[0];
      if (!unfilter_row(filter, row, prev, g->row_bytes, bpp)) {
        st = fer__fail(FER_ERR_FORMAT, "PNG: row %u of pass %u has invalid "
                       "filter type %u", y, p + 1, filter);
        break;
      }
      uint8_t *dst = img->pixels + (size_t)(g->y0 + y * g->dy) * img->stride +
                     (size_t)g->x0 * step_x;
      unsigned bad_index = 0;
      if (!convert_row(info, row, g->width, dst, step_x * g->dx, &bad_index)) {
        st = fer__fail(FER_ERR_FORMAT, "PNG: palette index %u on row %u is "
                       "beyond the %u PLTE entries", bad_index, y,
                       info->palette_count);
        break;
      }
      prev = row;
      raw += 1 + g->row_bytes;
    }
  }
  fer__free(zeros);
  return st;
}

fer_status fer__png_decode(const uint8_t *data, size_t size, fer_image **out) {
  *out = NULL;
  png_info info;
  memset(&info, 0, sizeof info);
  fer_status st = read_chunks(data, size, &info);
  if (st != FER_OK) return st;

  pass_geometry passes[7];
  unsigned num_passes = image_passes(&info, passes);
  size_t raw_size = 0;
  for (unsigned p = 0; p < num_passes; p++)
    raw_size += (size_t)passes[p].height * (1 + passes[p].row_bytes);

  const uint8_t *zdata = NULL;
  uint8_t *joined = NULL, *raw = NULL;
  fer_image *img = NULL;
  st = gather_idat(data, &info, &zdata, &joined);
  if (st != FER_OK) return st;
  raw = fer__malloc(raw_size);
  if (!raw) {
    st = fer__fail(FER_ERR_OUT_OF_MEMORY, "PNG: out of memory for %zu bytes "
                   "of image data", raw_size);
    goto done;
  }
  /* The image needs exactly raw_size bytes: a longer stream is refused
   * before it can inflate any further. */
  size_t got = 0;
  st = fer__inflate(FER__INFLATE_ZLIB, zdata, info.idat_total, raw, raw_size, &got);
  if (st != FER_OK) {
    fer__fail_prefix(st, st == FER_ERR_TOO_LARGE ? "PNG IDAT (more data than "
                     "the image needs)" : "PNG IDAT");
    goto done;
  }
  if (got != raw_size) {
    st = fer__fail(FER_ERR_TRUNCATED, "PNG IDAT: %zu bytes of image data, the "
                   "%ux%u image needs %zu", got, info.width, info.height, raw_size);
    goto done;
  }
  st = fer__image_alloc((int)info.width, (int)info.height, (int)info.out_channels,
                        0, "PNG", &img);
  if (st != FER_OK) goto done;
  st = decode_pixels(&info, raw, img);
  if (st != FER_OK) {
    fer_image_free(img);
    img = NULL;
  }
done:
  fer__free(joined);
  fer__free(raw);
  *out = img;
  return st;
}
