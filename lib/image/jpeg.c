/*
 * JPEG decoder: the marker walk, frame and scan headers, and the entry
 * points. See jpeg_internal.h for how the work is split across files.
 *
 * Decodes baseline, extended sequential (8-bit, Huffman) and progressive
 * frames with 1 (gray) or 3 (YCbCr, or RGB per Adobe APP14) components,
 * any integral sampling factors, restart intervals, tables anywhere before
 * their use. Refuses with FER_ERR_UNSUPPORTED: arithmetic coding, 12-bit
 * precision, lossless and hierarchical frames, 2- and 4-component images
 * (CMYK, YCCK).
 *
 * Output: a 1-channel image for gray files, R,G,B for colour ones, with
 * libjpeg-turbo's default arithmetic (see jpeg_idct.c, jpeg_color.c), so
 * pixels equal what Pillow and OpenCV decode. With FER_DECODE_GRAY a
 * YCbCr file gives its luma (Y) plane directly: that is what libjpeg-turbo
 * gives for gray output too, and it differs from BT.601 gray of the RGB
 * pixels (fer__luma) only by rounding (+-1) except where R, G or B clip at
 * 0 or 255 (saturated colours), where Y keeps the unclipped value. A file
 * whose components are R, G, B converts through RGB with fer__luma.
 *
 * Damaged files:
 *  - the file may end without EOI once every component has received its
 *    scan data (its only scan for sequential frames, at least its first DC
 *    scan for progressive ones) and no scan was cut: a progressive file cut
 *    between scans gives the coarser image decoded so far;
 *  - a scan cut in the middle, or a file that ends before that point, gives
 *    FER_ERR_TRUNCATED; so does a truncated marker segment;
 *  - stray bytes between segments are skipped, as libjpeg does;
 *  - see jpeg_scan.c for errors inside scan data.
 */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "image/jpeg_internal.h"
#include "util/endian.h"

enum {
  M_SOF0 = 0xC0, M_SOF1 = 0xC1, M_SOF2 = 0xC2, M_DHT = 0xC4, M_DAC = 0xCC,
  M_RST0 = 0xD0, M_RST7 = 0xD7, M_SOI = 0xD8, M_EOI = 0xD9, M_SOS = 0xDA,
  M_DQT = 0xDB, M_DNL = 0xDC, M_DRI = 0xDD, M_APP0 = 0xE0, M_APP1 = 0xE1,
  M_APP14 = 0xEE, M_TEM = 0x01
};

int fer__jpeg_sniff(const uint8_t *data, size_t size) {
  return size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF;
}

/* What an unsupported SOFn marker is, for the message. */
static const char *frame_kind(int marker) {
  switch (marker) {
  case 0xC3: return "lossless";
  case 0xC5: case 0xC6: case 0xC7: return "hierarchical (differential)";
  case 0xC8: return "reserved JPG extension";
  case 0xC9: return "arithmetic-coded sequential";
  case 0xCA: return "arithmetic-coded progressive";
  case 0xCB: return "arithmetic-coded lossless";
  default: return "arithmetic-coded hierarchical";
  }
}

static fer_status parse_dqt(fer__jpeg_decoder *dec, const uint8_t *p, size_t n) {
  while (n > 0) {
    int precision = p[0] >> 4, slot = p[0] & 15;
    size_t bytes = precision ? 128 : 64;
    if (precision > 1 || slot > 3)
      return fer__fail(FER_ERR_FORMAT,
                       "JPEG DQT: bad table header 0x%02X (precision %d, slot %d)",
                       p[0], precision, slot);
    if (n < 1 + bytes)
      return fer__fail(FER_ERR_FORMAT, "JPEG DQT: table %d runs past its segment", slot);
    for (int k = 0; k < 64; k++) {
      int q = precision ? fer__get_u16be(p + 1 + 2 * k) : p[1 + k];
      dec->quant[slot][fer__jpeg_zigzag[k]] = (uint16_t)q;
    }
    dec->quant_defined[slot] = 1;
    p += 1 + bytes;
    n -= 1 + bytes;
  }
  return FER_OK;
}

static fer_status parse_dht(fer__jpeg_decoder *dec, const uint8_t *p, size_t n) {
  while (n > 0) {
    int table_class = p[0] >> 4, slot = p[0] & 15;
    if (table_class > 1 || slot > 3)
      return fer__fail(FER_ERR_FORMAT,
                       "JPEG DHT: bad table header 0x%02X (class %d, slot %d)",
                       p[0], table_class, slot);
    if (n < 17)
      return fer__fail(FER_ERR_FORMAT, "JPEG DHT: table %d lacks its code counts", slot);
    int total = 0;
    for (int i = 0; i < 16; i++) total += p[1 + i];
    if (total > 256 || n < 17 + (size_t)total)
      return fer__fail(FER_ERR_FORMAT,
                       "JPEG DHT: table %d claims %d codes, more than its segment holds",
                       slot, total);
    fer__jpeg_huff *t = table_class ? &dec->ac_tables[slot] : &dec->dc_tables[slot];
    if (fer__jpeg_huff_build(t, p + 1, p + 17, table_class == 0) != 0)
      return fer__fail(FER_ERR_FORMAT,
                       "JPEG DHT: %s table %d has invalid code lengths or symbols",
                       table_class ? "AC" : "DC", slot);
    p += 17 + total;
    n -= 17 + (size_t)total;
  }
  return FER_OK;
}

static fer_status parse_sof(fer__jpeg_decoder *dec, int marker, const uint8_t *p,
                            size_t n) {
  if (dec->component_count)
    return fer__fail(FER_ERR_FORMAT, "JPEG: a second frame header (SOF)");
  if (n < 6) return fer__fail(FER_ERR_FORMAT, "JPEG SOF: segment too short (%zu bytes)", n);
  int precision = p[0];
  int height = fer__get_u16be(p + 1), width = fer__get_u16be(p + 3);
  int count = p[5];
  if (precision == 12)
    return fer__fail(FER_ERR_UNSUPPORTED, "JPEG SOF: 12-bit precision is not supported");
  if (precision != 8)
    return fer__fail(FER_ERR_FORMAT, "JPEG SOF: %d-bit precision is invalid", precision);
  if (height == 0)
    return fer__fail(FER_ERR_UNSUPPORTED,
                     "JPEG SOF: height 0 (set later by a DNL marker) is not supported");
  fer_status st = fer__image_check_size(width, height, "JPEG SOF");
  if (st != FER_OK) return st;
  if (count != 1 && count != 3) {
    if (count == 0) return fer__fail(FER_ERR_FORMAT, "JPEG SOF: no components");
    return fer__fail(FER_ERR_UNSUPPORTED,
                     "JPEG SOF: %d components%s (only gray and YCbCr/RGB are supported)",
                     count, count == 4 ? " (CMYK or YCCK)" : "");
  }
  if (n != 6 + 3 * (size_t)count)
    return fer__fail(FER_ERR_FORMAT,
                     "JPEG SOF: segment is %zu bytes, %d components need %d", n,
                     count, 6 + 3 * count);

  dec->width = width;
  dec->height = height;
  dec->progressive = marker == M_SOF2;
  dec->max_h = dec->max_v = 1;
  for (int i = 0; i < count; i++) {
    fer__jpeg_component *c = &dec->comp[i];
    const uint8_t *q = p + 6 + 3 * i;
    c->id = q[0];
    c->h = q[1] >> 4;
    c->v = q[1] & 15;
    c->quant_index = q[2];
    if (c->h < 1 || c->h > 4 || c->v < 1 || c->v > 4)
      return fer__fail(FER_ERR_FORMAT,
                       "JPEG SOF: component %d has sampling factors %dx%d (1..4 allowed)",
                       c->id, c->h, c->v);
    if (c->quant_index > 3)
      return fer__fail(FER_ERR_FORMAT,
                       "JPEG SOF: component %d uses quantization table %d (0..3 allowed)",
                       c->id, c->quant_index);
    for (int j = 0; j < i; j++)
      if (dec->comp[j].id == c->id)
        return fer__fail(FER_ERR_FORMAT, "JPEG SOF: component id %d appears twice", c->id);
    dec->max_h = FER__MAX(dec->max_h, c->h);
    dec->max_v = FER__MAX(dec->max_v, c->v);
  }
  dec->mcus_x = (width + 8 * dec->max_h - 1) / (8 * dec->max_h);
  dec->mcus_y = (height + 8 * dec->max_v - 1) / (8 * dec->max_v);
  for (int i = 0; i < count; i++) {
    fer__jpeg_component *c = &dec->comp[i];
    if (dec->max_h % c->h || dec->max_v % c->v)
      return fer__fail(FER_ERR_UNSUPPORTED,
                       "JPEG SOF: component %d is sampled %dx%d against %dx%d, "
                       "a non-integral ratio",
                       c->id, c->h, c->v, dec->max_h, dec->max_v);
    c->width = (int)(((long)width * c->h + dec->max_h - 1) / dec->max_h);
    c->height = (int)(((long)height * c->v + dec->max_v - 1) / dec->max_v);
    c->blocks_w = (c->width + 7) / 8;
    c->blocks_h = (c->height + 7) / 8;
    c->padded_blocks_w = dec->mcus_x * c->h;
    c->padded_blocks_h = dec->mcus_y * c->v;
    if (count == 1) { /* a lone component is never interleaved */
      c->padded_blocks_w = c->blocks_w;
      c->padded_blocks_h = c->blocks_h;
    }
    c->plane_stride = (size_t)c->padded_blocks_w * 8;
    c->plane = fer__malloc(fer__mul_size(c->plane_stride, (size_t)c->padded_blocks_h * 8));
    if (dec->progressive)
      c->coefs = fer__calloc(fer__mul_size((size_t)c->padded_blocks_w * c->padded_blocks_h,
                                           64),
                             sizeof(int16_t));
    if (!c->plane || (dec->progressive && !c->coefs))
      return fer__fail(FER_ERR_OUT_OF_MEMORY,
                       "JPEG: out of memory for a %dx%d image", width, height);
  }
  dec->component_count = count; /* set last: marks the frame as parsed */
  return FER_OK;
}

static fer_status parse_sos(fer__jpeg_decoder *dec, const uint8_t *p, size_t n,
                            fer__jpeg_scan *scan) {
  if (!dec->component_count)
    return fer__fail(FER_ERR_FORMAT, "JPEG: scan (SOS) before the frame header (SOF)");
  if (n < 1) return fer__fail(FER_ERR_FORMAT, "JPEG SOS: empty segment");
  int count = p[0];
  if (count < 1 || count > dec->component_count)
    return fer__fail(FER_ERR_FORMAT, "JPEG SOS: %d components in a scan of a %d-component frame",
                     count, dec->component_count);
  if (n != 1 + 2 * (size_t)count + 3)
    return fer__fail(FER_ERR_FORMAT, "JPEG SOS: segment is %zu bytes, %d components need %d",
                     n, count, 4 + 2 * count);
  memset(scan, 0, sizeof *scan);
  scan->count = count;
  int blocks_per_mcu = 0;
  for (int i = 0; i < count; i++) {
    int id = p[1 + 2 * i], tables = p[2 + 2 * i];
    int found = -1;
    for (int j = 0; j < dec->component_count; j++)
      if (dec->comp[j].id == id) found = j;
    if (found < 0)
      return fer__fail(FER_ERR_FORMAT, "JPEG SOS: component id %d is not in the frame", id);
    for (int j = 0; j < i; j++)
      if (scan->comp_index[j] == found)
        return fer__fail(FER_ERR_FORMAT, "JPEG SOS: component id %d listed twice", id);
    scan->comp_index[i] = found;
    scan->dc_table[i] = tables >> 4;
    scan->ac_table[i] = tables & 15;
    if (scan->dc_table[i] > 3 || scan->ac_table[i] > 3)
      return fer__fail(FER_ERR_FORMAT, "JPEG SOS: component %d names Huffman table %d/%d (0..3 allowed)",
                       id, scan->dc_table[i], scan->ac_table[i]);
    blocks_per_mcu += dec->comp[found].h * dec->comp[found].v;
  }
  if (count > 1 && blocks_per_mcu > 10)
    return fer__fail(FER_ERR_FORMAT, "JPEG SOS: %d blocks per MCU (at most 10 allowed)",
                     blocks_per_mcu);
  const uint8_t *q = p + 1 + 2 * count;
  scan->ss = q[0];
  scan->se = q[1];
  scan->ah = q[2] >> 4;
  scan->al = q[2] & 15;
  if (dec->progressive) {
    int dc_scan = scan->ss == 0;
    if (scan->se > 63 || scan->ss > scan->se || (dc_scan && scan->se != 0) ||
        (!dc_scan && count != 1) || scan->ah > 13 || scan->al > 13)
      return fer__fail(FER_ERR_FORMAT,
                       "JPEG SOS: invalid progressive parameters Ss=%d Se=%d Ah=%d Al=%d "
                       "with %d components",
                       scan->ss, scan->se, scan->ah, scan->al, count);
  } else {
    /* Sequential scans carry the whole band; libjpeg ignores odd values. */
    scan->ss = 0;
    scan->se = 63;
    scan->ah = scan->al = 0;
  }

  /* Tables must exist by now; quantization tables are latched at the
   * component's first scan (a later DQT does not change it). */
  for (int i = 0; i < count; i++) {
    fer__jpeg_component *c = &dec->comp[scan->comp_index[i]];
    int need_dc = scan->ss == 0 && scan->ah == 0;
    int need_ac = scan->se > 0;
    if (need_dc && !dec->dc_tables[scan->dc_table[i]].defined)
      return fer__fail(FER_ERR_FORMAT, "JPEG SOS: component %d uses DC Huffman table %d, "
                       "which is not defined", c->id, scan->dc_table[i]);
    if (need_ac && !dec->ac_tables[scan->ac_table[i]].defined)
      return fer__fail(FER_ERR_FORMAT, "JPEG SOS: component %d uses AC Huffman table %d, "
                       "which is not defined", c->id, scan->ac_table[i]);
    if (!c->quant_latched) {
      if (!dec->quant_defined[c->quant_index])
        return fer__fail(FER_ERR_FORMAT, "JPEG SOS: component %d uses quantization table %d, "
                         "which is not defined", c->id, c->quant_index);
      memcpy(c->quant, dec->quant[c->quant_index], sizeof c->quant);
      c->quant_latched = 1;
    }
    if (scan->ss == 0) c->dc_done = 1;
  }
  return FER_OK;
}

static int parse_app(fer__jpeg_decoder *dec, int marker, const uint8_t *p, size_t n) {
  static const uint8_t jfif[5] = {'J', 'F', 'I', 'F', 0};
  static const uint8_t adobe[5] = {'A', 'd', 'o', 'b', 'e'};
  if (marker == M_APP0 && n >= 5 && memcmp(p, jfif, 5) == 0) dec->saw_jfif = 1;
  if (marker == M_APP14 && n >= 12 && memcmp(p, adobe, 5) == 0) {
    dec->saw_adobe = 1;
    dec->adobe_transform = p[11];
  }
  if (marker == M_APP1 && !dec->orientation) dec->orientation = fer__jpeg_exif_orientation(p, n);
  return 0;
}

/* libjpeg's rule for what three components hold. */
static int components_are_ycc(const fer__jpeg_decoder *dec) {
  if (dec->saw_jfif) return 1;
  if (dec->saw_adobe) return dec->adobe_transform != 0;
  if (dec->comp[0].id == 'R' && dec->comp[1].id == 'G' && dec->comp[2].id == 'B') return 0;
  return 1;
}

static void release(fer__jpeg_decoder *dec) {
  for (int i = 0; i < FER__JPEG_MAX_COMPONENTS; i++) {
    fer__free(dec->comp[i].plane);
    fer__free(dec->comp[i].coefs);
  }
  fer__free(dec);
}

/* Index of the next marker at or after `pos`, skipping stray bytes and fill
 * 0xFFs; `size` when there is none. */
static size_t next_marker(const uint8_t *data, size_t size, size_t pos) {
  while (pos + 1 < size && !(data[pos] == 0xFF && data[pos + 1] != 0xFF && data[pos + 1] != 0))
    pos++;
  return pos + 1 < size ? pos : size;
}

static fer_status finish(fer__jpeg_decoder *dec, unsigned flags, fer_image **out) {
  if (dec->progressive) {
    for (int i = 0; i < (dec->luma_only ? 1 : dec->component_count); i++) {
      fer__jpeg_component *c = &dec->comp[i];
      for (int by = 0; by < c->blocks_h; by++)
        for (int bx = 0; bx < c->blocks_w; bx++)
          fer__jpeg_idct_islow(c->coefs + ((size_t)by * c->padded_blocks_w + bx) * 64,
                               c->quant, dec->range_table,
                               c->plane + (size_t)by * 8 * c->plane_stride + (size_t)bx * 8,
                               c->plane_stride);
    }
  }
  int ycc = dec->ycc;
  int gray = dec->component_count == 1 || (flags & FER_DECODE_GRAY);
  /* Gray output of a colour image is its luma plane; for RGB components
   * there is none, so those convert through RGB. */
  int channels = dec->component_count == 1 || (gray && ycc) ? 1 : 3;
  fer_image *img = NULL;
  fer_status st = fer__image_alloc(dec->width, dec->height, channels, 0, "JPEG", &img);
  if (st == FER_OK) st = fer__jpeg_output(dec, ycc, img);
  if (st == FER_OK && gray && channels == 3) {
    fer_image *luma = NULL;
    st = fer__image_alloc(dec->width, dec->height, 1, 0, "JPEG", &luma);
    for (int y = 0; st == FER_OK && y < img->height; y++) {
      const uint8_t *s = img->pixels + (size_t)y * img->stride;
      uint8_t *d = luma->pixels + (size_t)y * luma->stride;
      for (int x = 0; x < img->width; x++) d[x] = fer__luma(s[3 * x], s[3 * x + 1], s[3 * x + 2]);
    }
    fer_image_free(img);
    img = luma;
  }
  if (st != FER_OK) {
    fer_image_free(img);
    return st;
  }
  img->orientation = dec->orientation ? dec->orientation : 1;
  *out = img;
  return FER_OK;
}

/* A file that ends without EOI still decodes when every component has its
 * data; otherwise it is truncated. */
static fer_status end_of_data(fer__jpeg_decoder *dec, int saw_eoi, unsigned flags,
                              fer_image **out) {
  const char *why = NULL;
  if (!dec->component_count) why = "before the frame header (SOF)";
  for (int i = 0; !why && i < dec->component_count; i++)
    if (!dec->comp[i].dc_done) why = "before every component had scan data";
  if (why)
    return fer__fail(saw_eoi ? FER_ERR_FORMAT : FER_ERR_TRUNCATED,
                     "JPEG: %s %s", saw_eoi ? "image ends (EOI)" : "file ends", why);
  return finish(dec, flags, out);
}

fer_status fer__jpeg_decode(const uint8_t *data, size_t size, unsigned flags,
                            fer_image **out) {
  *out = NULL;
  if (!fer__jpeg_sniff(data, size))
    return fer__fail(FER_ERR_FORMAT, "JPEG: no start-of-image marker (FF D8 FF)");
  fer__jpeg_decoder *dec = fer__calloc(1, sizeof *dec);
  if (!dec) return fer__fail(FER_ERR_OUT_OF_MEMORY, "JPEG: out of memory");
  dec->data = data;
  dec->size = size;
  fer__jpeg_range_table_init(dec->range_table);
  fer__jpeg_default_huffman(dec);

  fer_status st = FER_OK;
  size_t pos = 2;
  int saw_eoi = 0;
  for (;;) {
    pos = next_marker(data, size, pos);
    if (pos >= size) break;
    int marker = data[pos + 1];
    pos += 2;
    if (marker == M_EOI) {
      saw_eoi = 1;
      break;
    }
    if (marker == M_SOI || marker == M_TEM || (marker >= M_RST0 && marker <= M_RST7))
      continue; /* no payload; a stray RSTn or SOI carries nothing */
    if (size - pos < 2) {
      st = fer__fail(FER_ERR_TRUNCATED, "JPEG: file ends inside marker FF%02X", marker);
      break;
    }
    size_t length = fer__get_u16be(data + pos);
    if (length < 2) {
      st = fer__fail(FER_ERR_FORMAT, "JPEG: marker FF%02X has length %zu (at least 2)",
                     marker, length);
      break;
    }
    if (length > size - pos) {
      st = fer__fail(FER_ERR_TRUNCATED,
                     "JPEG: marker FF%02X segment of %zu bytes runs past the end of the file",
                     marker, length);
      break;
    }
    const uint8_t *payload = data + pos + 2;
    size_t n = length - 2;
    pos += length;

    if (marker == M_SOF0 || marker == M_SOF1 || marker == M_SOF2) {
      st = parse_sof(dec, marker, payload, n);
    } else if (marker >= 0xC3 && marker <= 0xCF && marker != M_DHT && marker != M_DAC) {
      st = fer__fail(FER_ERR_UNSUPPORTED, "JPEG: %s frames (marker FF%02X) are not supported",
                     frame_kind(marker), marker);
    } else if (marker == M_DHT) {
      st = parse_dht(dec, payload, n);
    } else if (marker == M_DQT) {
      st = parse_dqt(dec, payload, n);
    } else if (marker == M_DRI) {
      if (n < 2)
        st = fer__fail(FER_ERR_FORMAT, "JPEG DRI: segment too short (%zu bytes)", n);
      else
        dec->restart_interval = fer__get_u16be(payload);
    } else if (marker == M_SOS) {
      fer__jpeg_scan scan;
      st = parse_sos(dec, payload, n, &scan);
      if (st == FER_OK && dec->scan_count == 0) {
        /* What the components hold is settled by the markers before the
         * first scan; gray output of YCbCr then needs no chroma pixels. */
        dec->ycc = dec->component_count == 3 && components_are_ycc(dec);
        dec->luma_only = dec->ycc && (flags & FER_DECODE_GRAY);
      }
      if (st == FER_OK) {
        dec->scan_count++;
        st = fer__jpeg_decode_scan(dec, &scan, &pos);
      }
    } else if (marker == M_DNL) {
      /* Height was checked nonzero at SOF, so a DNL only repeats it. */
    } else if (marker >= M_APP0 && marker <= 0xEF) {
      parse_app(dec, marker, payload, n);
    }
    if (st != FER_OK) break;
  }
  if (st == FER_OK) st = end_of_data(dec, saw_eoi, flags, out);
  release(dec);
  return st;
}
