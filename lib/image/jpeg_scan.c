/*
 * Entropy-coded scan data: the bit reader, Huffman symbol decoding, the
 * four progressive block decoders (DC/AC, first/refinement) and the
 * sequential one, the MCU walk and restart markers.
 *
 * Rules for damaged data (documented in jpeg.c's header comment too):
 *  - a scan whose data ends (end of file, or a marker other than the
 *    expected RSTn) before its last MCU fails with FER_ERR_TRUNCATED;
 *  - without restart markers, a Huffman code that no table entry matches
 *    fails with FER_ERR_FORMAT;
 *  - with restart markers, a damaged interval (an invalid code, or an RSTn
 *    that comes early) does not fail: its remaining blocks become flat
 *    gray (sequential) or keep what earlier scans gave (progressive), and
 *    decoding resumes at the next RSTn, as libjpeg does;
 *  - at each restart boundary the reader skips stray bytes up to the next
 *    marker; an RSTn with an unexpected number is resolved as libjpeg-turbo
 *    resolves it (see restart_action), so a damaged file gives the same
 *    pixels as libjpeg's;
 *  - runs that overshoot a block are absorbed into its last coefficient,
 *    as libjpeg does, so such files still give the same pixels.
 */
#include <string.h>

#include "core/core_internal.h"
#include "image/jpeg_internal.h"

/* Zigzag order (T.81 figure A.6) as natural indices, plus 16 entries that
 * send an overshooting run to coefficient 63 instead of past the block. */
const uint8_t fer__jpeg_zigzag[80] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6,  7,  14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63, 63};

/* Bits are kept left-aligned in a 64-bit accumulator. When the data runs
 * out (end of input or a marker) zero bytes are fed instead and counted in
 * pad_bits: a decoder that consumes any of them has read past the data. */
typedef struct bit_reader {
  const uint8_t *data;
  size_t size;
  size_t pos;       /* next byte to load; at a marker's 0xFF once one is hit */
  uint64_t acc;
  int nbits;
  int pad_bits;
  int at_marker;
} bit_reader;

static void reader_start(bit_reader *br, const uint8_t *data, size_t size,
                         size_t pos) {
  br->data = data;
  br->size = size;
  br->pos = pos;
  br->acc = 0;
  br->nbits = 0;
  br->pad_bits = 0;
  br->at_marker = 0;
}

static void reader_fill(bit_reader *br) {
  /* Fast path: when the next bytes hold no 0xFF (no stuffing, no marker),
   * load as many as fit in one go. */
  if (!br->at_marker && br->size - br->pos >= 8) {
    const uint8_t *p = br->data + br->pos;
    uint64_t word = 0;
    for (int i = 0; i < 8; i++) word = word << 8 | p[i];
    /* A byte is 0xFF exactly when its complement is 0: the classic
     * "has a zero byte" test on ~word. */
    uint64_t inverted = ~word;
    if (!((inverted - 0x0101010101010101u) & ~inverted & 0x8080808080808080u)) {
      int take = (63 - br->nbits) >> 3; /* whole bytes that fit: callers have < 32 bits */
      br->acc |= (word >> (64 - 8 * take)) << (64 - br->nbits - 8 * take);
      br->nbits += 8 * take;
      br->pos += (size_t)take;
      return;
    }
  }
  while (br->nbits <= 56) {
    unsigned byte = 0;
    if (!br->at_marker && br->pos < br->size) {
      byte = br->data[br->pos];
      if (byte != 0xFF) {
        br->pos++;
      } else if (br->pos + 1 < br->size && br->data[br->pos + 1] == 0x00) {
        br->pos += 2; /* a stuffed 0xFF data byte */
      } else {
        br->at_marker = 1; /* a marker (or 0xFF at the very end) stops the data */
        byte = 0;
        br->pad_bits += 8;
      }
    } else {
      br->pad_bits += 8;
    }
    br->acc |= (uint64_t)byte << (56 - br->nbits);
    br->nbits += 8;
  }
}

static inline int reader_overrun(const bit_reader *br) {
  return br->nbits < br->pad_bits;
}

/* n in 1..16 */
static inline int reader_bits(bit_reader *br, int n) {
  if (br->nbits < n) reader_fill(br);
  int v = (int)(br->acc >> (64 - n));
  br->acc <<= n;
  br->nbits -= n;
  return v;
}

/* T.81 F.2.2.1 EXTEND: the n-bit value v stands for a negative number when
 * its top bit is clear. */
static inline int extend(int v, int n) {
  return v < (1 << (n - 1)) ? v - (1 << n) + 1 : v;
}

/* The next Huffman symbol, or -1 for a code the table does not have. */
static inline int reader_symbol(bit_reader *br, const fer__jpeg_huff *t) {
  if (br->nbits < 16) reader_fill(br);
  uint16_t entry = t->fast[br->acc >> (64 - FER__JPEG_HUFF_LOOKAHEAD)];
  if (entry) {
    int len = entry >> 8;
    br->acc <<= len;
    br->nbits -= len;
    return entry & 0xFF;
  }
  int32_t bits16 = (int32_t)(br->acc >> 48);
  for (int len = FER__JPEG_HUFF_LOOKAHEAD + 1; len <= 16; len++) {
    int32_t code = bits16 >> (16 - len);
    if (code <= t->max_code[len]) {
      int32_t index = code + t->value_offset[len];
      if (index < 0 || index > 255) return -1;
      br->acc <<= len;
      br->nbits -= len;
      return t->symbols[index];
    }
  }
  return -1;
}

/* Decoding of one block fails only on an unknown Huffman code. */
#define BAD_CODE (-1)

static int decode_dc_diff(bit_reader *br, const fer__jpeg_huff *dc, int *diff) {
  int s = reader_symbol(br, dc);
  if (s < 0) return BAD_CODE;
  *diff = s ? extend(reader_bits(br, s), s) : 0;
  return 0;
}

/* Keeps DC predictions in 16 bits, as the coefficients are, so hostile
 * data cannot overflow an int. */
static inline int add_dc(int pred, int diff) {
  return (int16_t)(uint16_t)(unsigned)(pred + diff);
}

/* Sequential (baseline or extended): a whole block. Returns the zigzag
 * index of the last coefficient written (0: only DC), or BAD_CODE. */
static int decode_block_sequential(bit_reader *br, const fer__jpeg_huff *dc,
                                   const fer__jpeg_huff *ac, int *pred,
                                   int16_t *block) {
  memset(block, 0, 64 * sizeof *block);
  int diff;
  if (decode_dc_diff(br, dc, &diff)) return BAD_CODE;
  *pred = add_dc(*pred, diff);
  block[0] = (int16_t)*pred;
  int last = 0;
  for (int k = 1; k < 64; k++) {
    if (br->nbits < 32) reader_fill(br);
    int32_t fast = ac->fast_ac[br->acc >> (64 - FER__JPEG_HUFF_LOOKAHEAD)];
    if (fast) {
      int used = fast & 15;
      br->acc <<= used;
      br->nbits -= used;
      k += (fast >> 4) & 15;
      block[fer__jpeg_zigzag[k]] = (int16_t)((fast - (fast & 255)) / 256);
      last = k;
      continue;
    }
    int rs = reader_symbol(br, ac);
    if (rs < 0) return BAD_CODE;
    int run = rs >> 4, size = rs & 15;
    if (size) {
      k += run;
      block[fer__jpeg_zigzag[k]] = (int16_t)extend(reader_bits(br, size), size);
      last = k;
    } else {
      if (run != 15) break; /* end of block */
      k += 15;               /* sixteen zeros */
    }
  }
  return last;
}

/* Progressive, first DC scan: the DC coefficient's high bits. */
static int decode_dc_first(bit_reader *br, const fer__jpeg_huff *dc, int al,
                           int *pred, int16_t *block) {
  int diff;
  if (decode_dc_diff(br, dc, &diff)) return BAD_CODE;
  *pred = add_dc(*pred, diff);
  block[0] = (int16_t)(*pred * (1 << al));
  return 0;
}

/* Progressive, DC refinement: one more bit of the DC coefficient. */
static void decode_dc_refine(bit_reader *br, int al, int16_t *block) {
  if (reader_bits(br, 1)) block[0] = (int16_t)(block[0] | (1 << al));
}

/* Progressive, first AC scan of band ss..se: values and end-of-band runs
 * that cover whole following blocks. */
static int decode_ac_first(bit_reader *br, const fer__jpeg_huff *ac,
                           const fer__jpeg_scan *scan, int *eob_run,
                           int16_t *block) {
  if (*eob_run > 0) {
    (*eob_run)--;
    return 0;
  }
  for (int k = scan->ss; k <= scan->se; k++) {
    if (br->nbits < 32) reader_fill(br);
    int rs = reader_symbol(br, ac);
    if (rs < 0) return BAD_CODE;
    int run = rs >> 4, size = rs & 15;
    if (size) {
      k += run;
      block[fer__jpeg_zigzag[k]] =
          (int16_t)(extend(reader_bits(br, size), size) * (1 << scan->al));
    } else if (run == 15) {
      k += 15;
    } else {
      /* EOBn: this block and (2^n - 1 + n more bits) following ones end here. */
      *eob_run = (1 << run) - 1;
      if (run) *eob_run += reader_bits(br, run);
      break;
    }
  }
  return 0;
}

/* A correction bit for a coefficient that is already nonzero: it adds one
 * unit at this bit position, away from zero. */
static inline void refine_nonzero(bit_reader *br, int16_t *coef, int bit) {
  if (reader_bits(br, 1) && (*coef & bit) == 0)
    *coef = (int16_t)(*coef >= 0 ? *coef + bit : *coef - bit);
}

/* Progressive, AC refinement (T.81 G.1.2.3): new coefficients of magnitude
 * 1 at this bit position, placed after `run` still-zero coefficients, with
 * a correction bit for every nonzero coefficient passed on the way. */
static int decode_ac_refine(bit_reader *br, const fer__jpeg_huff *ac,
                            const fer__jpeg_scan *scan, int *eob_run,
                            int16_t *block) {
  int bit = 1 << scan->al;
  int k = scan->ss;
  if (*eob_run == 0) {
    for (; k <= scan->se; k++) {
      if (br->nbits < 32) reader_fill(br);
      int rs = reader_symbol(br, ac);
      if (rs < 0) return BAD_CODE;
      int run = rs >> 4, size = rs & 15, value = 0;
      if (size) {
        /* Size is 1 in valid data; libjpeg treats any other size as 1. */
        value = reader_bits(br, 1) ? bit : -bit;
      } else if (run != 15) {
        *eob_run = 1 << run;
        if (run) *eob_run += reader_bits(br, run);
        break;
      }
      /* Skip `run` zero coefficients, refining nonzero ones on the way;
       * stop on the zero coefficient that takes `value`. */
      for (; k <= scan->se; k++) {
        int16_t *coef = &block[fer__jpeg_zigzag[k]];
        if (*coef) {
          if (br->nbits < 32) reader_fill(br);
          refine_nonzero(br, coef, bit);
        } else if (--run < 0) {
          break;
        }
      }
      if (value) block[fer__jpeg_zigzag[k]] = (int16_t)value;
    }
  }
  if (*eob_run > 0) {
    /* Inside an end-of-band run: only correction bits remain. */
    for (; k <= scan->se; k++) {
      int16_t *coef = &block[fer__jpeg_zigzag[k]];
      if (*coef) {
        if (br->nbits < 32) reader_fill(br);
        refine_nonzero(br, coef, bit);
      }
    }
    (*eob_run)--;
  }
  return 0;
}

typedef struct scan_state {
  fer__jpeg_decoder *dec;
  const fer__jpeg_scan *scan;
  bit_reader br;
  int pred[FER__JPEG_MAX_COMPONENTS];
  int16_t block[64]; /* sequential: decoded here, then IDCT'd into the plane */
} scan_state;

/* One block of component `i` (an index into the scan) at block (bx, by).
 * With `blank` (a damaged restart interval) nothing is read: a sequential
 * block becomes flat gray, a progressive one keeps its coefficients. */
static int decode_one_block(scan_state *s, int i, int bx, int by, int blank) {
  fer__jpeg_decoder *dec = s->dec;
  const fer__jpeg_scan *scan = s->scan;
  fer__jpeg_component *c = &dec->comp[scan->comp_index[i]];
  if (blank) {
    if (!dec->progressive)
      fer__jpeg_idct_dc(0, 0, dec->range_table,
                        c->plane + (size_t)by * 8 * c->plane_stride + (size_t)bx * 8,
                        c->plane_stride);
    return 0;
  }
  const fer__jpeg_huff *dc = &dec->dc_tables[scan->dc_table[i]];
  const fer__jpeg_huff *ac = &dec->ac_tables[scan->ac_table[i]];
  if (!dec->progressive) {
    int last = decode_block_sequential(&s->br, dc, ac, &s->pred[i], s->block);
    if (last < 0) return BAD_CODE;
    uint8_t *out = c->plane + (size_t)by * 8 * c->plane_stride + (size_t)bx * 8;
    if (dec->luma_only && c != &dec->comp[0])
      return 0; /* decoded to stay in step with the data, never shown */
    if (last == 0) /* flat blocks are common and need no transform */
      fer__jpeg_idct_dc(s->block[0], c->quant[0], dec->range_table, out, c->plane_stride);
    else
      fer__jpeg_idct_islow(s->block, c->quant, dec->range_table, out, c->plane_stride);
    return 0;
  }
  int16_t *block = c->coefs + ((size_t)by * (size_t)c->padded_blocks_w + (size_t)bx) * 64;
  if (scan->ss == 0) {
    if (scan->ah == 0) return decode_dc_first(&s->br, dc, scan->al, &s->pred[i], block);
    decode_dc_refine(&s->br, scan->al, block);
    return 0;
  }
  if (scan->ah == 0) return decode_ac_first(&s->br, ac, scan, &dec->eob_run, block);
  return decode_ac_refine(&s->br, ac, scan, &dec->eob_run, block);
}

static int decode_mcu(scan_state *s, long mcu, int mcus_per_row, int blank) {
  const fer__jpeg_scan *scan = s->scan;
  int mx = (int)(mcu % mcus_per_row), my = (int)(mcu / mcus_per_row);
  if (scan->count == 1) /* non-interleaved: an MCU is one block */
    return decode_one_block(s, 0, mx, my, blank);
  for (int i = 0; i < scan->count; i++) {
    const fer__jpeg_component *c = &s->dec->comp[scan->comp_index[i]];
    for (int v = 0; v < c->v; v++)
      for (int h = 0; h < c->h; h++)
        if (decode_one_block(s, i, mx * c->h + h, my * c->v + v, blank)) return BAD_CODE;
  }
  return 0;
}

/* Inside a restart interval the data stopped at a marker: when it is an
 * RSTn, only this interval is damaged. */
static int stopped_at_restart(const bit_reader *br) {
  return br->at_marker && br->pos + 1 < br->size && br->data[br->pos + 1] >= 0xD0 &&
         br->data[br->pos + 1] <= 0xD7;
}

/* What to do with the marker RST`found` where RST`due` was expected. The
 * numbers cycle 0..7 so that a lost or repeated interval can be noticed.
 * libjpeg warns and resynchronises (jdmarker.c, jpeg_resync_to_restart);
 * libfer has no warnings, and refusing the file would refuse images that
 * libjpeg, and so Pillow and OpenCV, show. So libfer decides exactly as
 * libjpeg-turbo does and damaged files give the same pixels:
 *  - RST(due+1), RST(due+2): intervals were lost; this one is empty and
 *    the marker waits for a later boundary;
 *  - RST(due-1), RST(due-2): a marker already passed; its data is skipped;
 *  - RST(due) or one further away: taken as the one due. */
enum { RESTART_TAKE, RESTART_EMPTY, RESTART_SKIP };
static int restart_action(int found, int due) {
  int ahead = (found - due) & 7;
  if (ahead == 1 || ahead == 2) return RESTART_EMPTY;
  if (ahead == 6 || ahead == 7) return RESTART_SKIP;
  return RESTART_TAKE;
}

/* At a restart boundary with RST`due` expected: find the next marker
 * (skipping stray bytes, and 0xFF pairs below 0xC0, which are no markers)
 * and act on it as restart_action says. Returns RESTART_TAKE, or
 * RESTART_EMPTY when the coming interval has no data, or -1 (*marker: the
 * marker found, -1 at the end) when the data ends or a marker other than
 * RSTn comes first. dec->restart_resynced records that a number was wrong;
 * from then on the file follows libjpeg-turbo to its end: later scans may
 * read their bits out of step (a refinement scan reads as many bits as
 * earlier scans made coefficients), and data that ends early, or a marker
 * other than RSTn where a restart is due, only leaves the rest of the
 * interval, or every interval left, empty. */
static int take_restart(scan_state *s, int due, int *marker) {
  int *resynced = &s->dec->restart_resynced;
  const uint8_t *d = s->br.data;
  size_t n = s->br.size, p = s->br.pos;
  int action;
  for (;;) {
    while (p + 1 < n && !(d[p] == 0xFF && d[p + 1] != 0x00 && d[p + 1] != 0xFF)) p++;
    *marker = p + 1 < n ? d[p + 1] : -1;
    if (*marker >= 0 && *marker < 0xC0) {
      p += 2;
      continue;
    }
    if (*marker >= 0xD0 && *marker <= 0xD7) {
      action = restart_action(*marker - 0xD0, due);
      if (*marker - 0xD0 != due) *resynced = 1;
    } else if (*resynced) {
      action = RESTART_EMPTY;
    } else {
      s->br.pos = p;
      return -1;
    }
    if (action != RESTART_SKIP) break;
    p += 2;
  }
  /* An empty interval reads the zeros fed at the waiting marker. */
  reader_start(&s->br, d, n, action == RESTART_EMPTY ? p : p + 2);
  memset(s->pred, 0, sizeof s->pred);
  s->dec->eob_run = 0;
  return action;
}

fer_status fer__jpeg_decode_scan(fer__jpeg_decoder *dec,
                                 const fer__jpeg_scan *scan, size_t *pos) {
  scan_state *s = fer__calloc(1, sizeof *s);
  if (!s) return fer__fail(FER_ERR_OUT_OF_MEMORY, "JPEG: out of memory for a scan");
  s->dec = dec;
  s->scan = scan;
  reader_start(&s->br, dec->data, dec->size, *pos);
  dec->eob_run = 0;

  int mcus_x = dec->mcus_x, mcus_y = dec->mcus_y;
  if (scan->count == 1) {
    const fer__jpeg_component *c = &dec->comp[scan->comp_index[0]];
    mcus_x = c->blocks_w;
    mcus_y = c->blocks_h;
  }
  long total = (long)mcus_x * mcus_y;
  fer_status st = FER_OK;
  int left_in_interval = dec->restart_interval;
  int damaged = 0; /* the current restart interval is beyond repair */
  int starved = 0; /* its data ended early (libjpeg's insufficient_data) */
  int due = 0;     /* the number of the next restart marker */
  for (long mcu = 0; mcu < total; mcu++) {
    if (dec->restart_interval && left_in_interval == 0) {
      int marker, action = take_restart(s, due, &marker);
      if (action < 0) {
        st = fer__fail(FER_ERR_TRUNCATED,
                       "JPEG scan %d: data ends after MCU %ld of %ld (%s where "
                       "a restart marker was due)",
                       dec->scan_count, mcu, total,
                       marker < 0 ? "end of file" : "another marker");
        break;
      }
      left_in_interval = dec->restart_interval;
      /* An empty interval reads zeros from the waiting marker, as libjpeg
       * does: its first MCU decodes from them, then it starves. When the
       * last interval already starved, libjpeg decodes nothing at all. */
      if (action == RESTART_TAKE) starved = 0;
      damaged = starved;
      due = (due + 1) & 7;
    }
    if (damaged) {
      decode_mcu(s, mcu, mcus_x, 1);
    } else if (decode_mcu(s, mcu, mcus_x, 0)) {
      if (!dec->restart_interval) {
        st = fer__fail(FER_ERR_FORMAT,
                       "JPEG scan %d: corrupt data, invalid Huffman code in MCU "
                       "%ld of %ld",
                       dec->scan_count, mcu, total);
        break;
      }
      damaged = 1;
      decode_mcu(s, mcu, mcus_x, 1);
    } else if (reader_overrun(&s->br) && dec->restart_interval &&
               (stopped_at_restart(&s->br) || dec->restart_resynced)) {
      /* The interval's data ended early: this MCU keeps what the zeros fed
       * after the marker gave, the rest of the interval is blank (libjpeg
       * does the same, so the pixels agree). */
      damaged = starved = 1;
    } else if (reader_overrun(&s->br)) {
      st = fer__fail(FER_ERR_TRUNCATED,
                     "JPEG scan %d: data ends after MCU %ld of %ld (%s)",
                     dec->scan_count, mcu, total,
                     s->br.pos >= dec->size ? "end of file" : "a marker came early");
      break;
    }
    left_in_interval--;
  }
  /* The data of a well-formed scan ends at a marker, where the reader
   * stopped; otherwise the caller skips stray bytes. */
  *pos = s->br.pos;
  fer__free(s);
  return st;
}
