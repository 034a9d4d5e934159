/*
 * The JPEG decoder's shared state, split across files by job:
 *
 *   jpeg.c          entry points, marker segments, frame and scan headers
 *   jpeg_huffman.c  Huffman table construction
 *   jpeg_scan.c     entropy-coded data: bit reader, sequential and
 *                   progressive block decoding, restart markers
 *   jpeg_idct.c     dequantisation and the 8x8 integer inverse DCT
 *   jpeg_color.c    chroma upsampling and YCbCr -> RGB conversion
 *   jpeg_exif.c     the EXIF orientation tag of an APP1 segment
 *
 * The aim is to give the same pixels as libjpeg-turbo with its defaults
 * (accurate integer IDCT, "fancy" upsampling), as Pillow and OpenCV decode.
 */
#ifndef FER_IMAGE_JPEG_INTERNAL_H
#define FER_IMAGE_JPEG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fer/core.h"
#include "fer/image.h"

#define FER__JPEG_MAX_COMPONENTS 4 /* what a frame may declare; 1 or 3 decode */
#define FER__JPEG_HUFF_LOOKAHEAD 9 /* codes up to this length decode in one lookup */

/* One Huffman table, ready for decoding. Codes of length <= LOOKAHEAD are
 * found by indexing `fast` with the next LOOKAHEAD bits; longer ones by
 * comparing against `max_code` per length (canonical codes grow with
 * length, so the first length whose max code is >= the bits wins). */
typedef struct fer__jpeg_huff {
  int defined;
  /* (length << 8) | symbol, or 0 when the code is longer than LOOKAHEAD. */
  uint16_t fast[1 << FER__JPEG_HUFF_LOOKAHEAD];
  int32_t max_code[18];   /* largest code of each length, -1 when none; [17] sentinel */
  int32_t value_offset[17]; /* symbol index = code + value_offset[length] */
  uint8_t symbols[256];
  /* AC tables: when the next LOOKAHEAD bits hold a whole code and its
   * value bits, value * 256 + run * 16 + bits used; 0 otherwise. */
  int32_t fast_ac[1 << FER__JPEG_HUFF_LOOKAHEAD];
} fer__jpeg_huff;

/* Builds `table` from a DHT segment's 16 code counts and their symbols.
 * Returns 0 on success, or -1 when the counts describe more codes than fit
 * in 16 bits, or (for a DC table, `is_dc`) a symbol is above 15. */
int fer__jpeg_huff_build(fer__jpeg_huff *table, const uint8_t counts[16],
                         const uint8_t *symbols, int is_dc);

/* Installs the Annex K tables in slots 0 and 1 (see jpeg_default_huffman.c). */
struct fer__jpeg_decoder;
void fer__jpeg_default_huffman(struct fer__jpeg_decoder *dec);

typedef struct fer__jpeg_component {
  int id;           /* as the SOF names it; scans refer to it */
  int h, v;         /* sampling factors, 1..4 */
  int quant_index;  /* DQT table slot, 0..3 */
  int width, height;        /* samples: ceil(image size * factor / max factor) */
  int blocks_w, blocks_h;   /* 8x8 blocks covering width x height */
  int padded_blocks_w, padded_blocks_h; /* blocks covering whole MCUs */
  uint16_t quant[64];       /* latched at the component's first scan, natural order */
  int quant_latched;
  uint8_t *plane;           /* padded_blocks_w*8 x padded_blocks_h*8 samples */
  size_t plane_stride;
  int16_t *coefs;           /* progressive/multi-scan: 64 per block, natural order */
  int dc_done;              /* progressive: first DC scan seen; sequential: scan seen */
} fer__jpeg_component;

typedef struct fer__jpeg_decoder {
  const uint8_t *data;
  size_t size;
  int width, height;
  int progressive;
  int component_count;
  fer__jpeg_component comp[FER__JPEG_MAX_COMPONENTS];
  int max_h, max_v;
  int mcus_x, mcus_y;       /* MCUs of an interleaved scan */
  int direct;               /* sequential single scan: IDCT straight into planes */
  int restart_interval;     /* MCUs between RSTn markers, 0 = none */
  int restart_resynced;    /* a restart number was wrong: follow libjpeg from here on */
  uint16_t quant[4][64];    /* DQT tables in natural order */
  int quant_defined[4];
  fer__jpeg_huff dc_tables[4];
  fer__jpeg_huff ac_tables[4];
  int saw_jfif;
  int saw_adobe;
  int adobe_transform;
  int orientation;
  int scan_count;
  int ycc;                  /* 3 components that are YCbCr (else R, G, B) */
  int luma_only;            /* gray output of YCbCr: chroma needs no IDCT */
  int eob_run;              /* progressive AC: blocks left in the current EOB run */
  uint8_t range_table[1024]; /* see fer__jpeg_range_table_init */
} fer__jpeg_decoder;

/* One scan's header, as SOS gives it. */
typedef struct fer__jpeg_scan {
  int count;                       /* components in this scan, 1..4 */
  int comp_index[FER__JPEG_MAX_COMPONENTS]; /* into decoder.comp */
  int dc_table[FER__JPEG_MAX_COMPONENTS];
  int ac_table[FER__JPEG_MAX_COMPONENTS];
  int ss, se, ah, al;              /* spectral selection, successive approximation */
} fer__jpeg_scan;

/* Zigzag position -> natural (row-major) position, entries 64..79 absorb a
 * run that overshoots the block so that corrupt data cannot write outside. */
extern const uint8_t fer__jpeg_zigzag[80];

/* Decodes the entropy-coded data of one scan starting at data[*pos]; on
 * return *pos is just past the data (at the next marker). */
fer_status fer__jpeg_decode_scan(fer__jpeg_decoder *dec,
                                 const fer__jpeg_scan *scan, size_t *pos);

/* Fills the 1024-entry table that maps IDCT output (& 1023) to samples. */
void fer__jpeg_range_table_init(uint8_t table[1024]);

/* Dequantises `coefs` (natural order) with `quant` and writes the 8x8
 * inverse DCT, level-shifted and clamped through `limit` (the range
 * table), to `out` (rows `stride` apart). */
void fer__jpeg_idct_islow(const int16_t *coefs, const uint16_t *quant,
                          const uint8_t *limit, uint8_t *out, size_t stride);
/* The same for a block whose only nonzero coefficient is the DC one:
 * fills the 8x8 block with one value. */
void fer__jpeg_idct_dc(int dc, uint16_t quant, const uint8_t *limit, uint8_t *out,
                       size_t stride);

/* Upsamples the component planes and converts them into `img` (already
 * allocated with the image's size; 1 channel for gray output, else 3).
 * `ycc` says the three components are YCbCr (else R, G, B). A 1-channel
 * `img` of a 3-component frame gets the luma plane. FER_ERR_OUT_OF_MEMORY
 * when the row buffers cannot be allocated. */
fer_status fer__jpeg_output(const fer__jpeg_decoder *dec, int ycc,
                            fer_image *img);

/* The EXIF orientation (1..8) in an APP1 payload that starts with
 * "Exif\0\0", or 0 when there is none or the payload is malformed. */
int fer__jpeg_exif_orientation(const uint8_t *payload, size_t size);

#endif
