/*
 * The JPEG decoder on bad input: truncation at every byte, corrupt scan
 * data, bad segments, absurd sizes, missing tables, unsupported codings,
 * hostile EXIF blocks and failed allocations. Each case must return the
 * documented status with a message, set *out = NULL, and never crash or
 * leak (run this under ASan too).
 *
 * The truncation rule checked here (documented in lib/image/jpeg.c):
 * fewer than 3 bytes is not a JPEG (FER_ERR_FORMAT); a file cut before the
 * end of its last scan is FER_ERR_TRUNCATED, except that a progressive file
 * cut between scans (once each component has its DC scan) decodes to the
 * coarser image; a file cut only in its EOI marker decodes exactly.
 */
#include "harness.h"
#include "jpeg_test_util.h"

#include "core/core_internal.h"
#include "image/jpeg_internal.h"

static char fixture_dir[4096];

static uint8_t *load_fixture(const char *name, size_t *size) {
  char path[4600];
  snprintf(path, sizeof path, "%s/%s.jpg", fixture_dir, name);
  uint8_t *data = jt_read_file(path, size);
  CHECK_MSG(data != NULL, "cannot read %s", path);
  return data;
}

/* Offset of the first segment with `marker` (its 0xFF) found by walking
 * the segments up to the first scan; -1 when absent. */
static long find_segment(const uint8_t *d, size_t n, int marker) {
  size_t pos = 2;
  while (pos + 4 <= n && d[pos] == 0xFF) {
    if (d[pos + 1] == marker) return (long)pos;
    if (d[pos + 1] == 0xDA) return -1;
    pos += 2 + ((size_t)d[pos + 2] << 8 | d[pos + 3]);
  }
  return -1;
}

/* Positions of every marker in the file: the 0xFF of each FF xx with xx
 * neither 00 (stuffing) nor FF (fill). */
static int is_marker_at(const uint8_t *d, size_t n, size_t pos) {
  return pos + 1 < n && d[pos] == 0xFF && d[pos + 1] != 0x00 && d[pos + 1] != 0xFF;
}

/* A copy of `d` without the segment at `at`. */
static uint8_t *without_segment(const uint8_t *d, size_t n, long at, size_t *out_n) {
  size_t len = 2 + ((size_t)d[at + 2] << 8 | d[at + 3]);
  uint8_t *c = malloc(n);
  memcpy(c, d, (size_t)at);
  memcpy(c + at, d + at + len, n - at - len);
  *out_n = n - len;
  return c;
}

static size_t sos_offset(const uint8_t *d) {
  size_t pos = 2;
  while (d[pos + 1] != 0xDA) pos += 2 + ((size_t)d[pos + 2] << 8 | d[pos + 3]);
  return pos;
}

static fer_status decode(const uint8_t *d, size_t n, fer_image **img) {
  *img = (fer_image *)(uintptr_t)1; /* must be overwritten */
  fer_status st = fer__jpeg_decode(d, n, 0, img);
  if (st != FER_OK) {
    CHECK_MSG(*img == NULL, "out not NULL on %s", fer_status_string(st));
    CHECK_MSG(fer_last_error()[0] != '\0', "no message for %s", fer_status_string(st));
  }
  return st;
}

static void truncate_everywhere(const char *name, int progressive) {
  size_t n;
  uint8_t *full = load_fixture(name, &n);
  if (!full) return;
  fer_image *ref = NULL;
  CHECK_OK(decode(full, n, &ref));
  if (!ref) {
    free(full);
    return;
  }
  size_t eoi = n - 2;
  CHECK(full[eoi] == 0xFF && full[eoi + 1] == 0xD9);
  long ok = 0, truncated = 0, partial = 0;
  for (size_t cut = 0; cut < n; cut++) {
    /* A fresh copy of exactly `cut` bytes, so ASan sees any overread. */
    uint8_t *d = malloc(cut ? cut : 1);
    memcpy(d, full, cut);
    fer_image *img = NULL;
    fer_status st = decode(d, cut, &img);
    if (cut < 3) {
      CHECK_MSG(st == FER_ERR_FORMAT, "%s cut at %zu: %s", name, cut, fer_status_string(st));
    } else if (cut >= eoi) {
      CHECK_MSG(st == FER_OK, "%s cut at %zu (in EOI): %s", name, cut, fer_last_error());
      if (img) {
        jt_diff dd = jt_compare(img, ref->pixels);
        CHECK_MSG(dd.max_diff == 0, "%s cut at %zu: pixels differ", name, cut);
      }
      ok++;
    } else if (st == FER_OK) {
      /* Only a progressive file cut at a scan boundary gives an image. */
      int at_boundary = is_marker_at(full, n, cut) || (cut > 0 && is_marker_at(full, n, cut - 1));
      CHECK_MSG(progressive && at_boundary, "%s cut at %zu of %zu decoded", name, cut, n);
      partial++;
    } else {
      CHECK_MSG(st == FER_ERR_TRUNCATED, "%s cut at %zu: %s (%s)", name, cut,
                fer_status_string(st), fer_last_error());
      truncated++;
    }
    fer_image_free(img);
    free(d);
  }
  fprintf(stderr, "  %s: %zu cuts: %ld truncated, %ld partial images, %ld complete\n", name,
          n, truncated, partial, ok);
  if (progressive) CHECK(partial > 0);
  fer_image_free(ref);
  free(full);
}

static void test_truncation_at_every_byte(void) {
  truncate_everywhere("gray_33x17", 0);
  truncate_everywhere("rgb420_restart_35x37", 0);
  truncate_everywhere("rgb411_45x19", 0);
  truncate_everywhere("gray_progressive_41x29", 1);
  truncate_everywhere("rgb444_progressive_23x31", 1);
}

static void test_not_jpeg(void) {
  static const uint8_t png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  fer_image *img;
  CHECK_STATUS(decode(png, sizeof png, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("start-of-image");
  static const uint8_t only_soi[] = {0xFF, 0xD8, 0xFF, 0xD9};
  CHECK_STATUS(decode(only_soi, sizeof only_soi, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("SOF");
}

/* A run of 1 bits is never a valid Huffman code (the all-ones code is
 * reserved), so stuffed 0xFF bytes at the start of the scan must fail. */
static void test_corrupt_huffman_data(void) {
  size_t n;
  uint8_t *d = load_fixture("gray_33x17", &n);
  if (!d) return;
  size_t pos = sos_offset(d);
  size_t data_start = pos + 2 + ((size_t)d[pos + 2] << 8 | d[pos + 3]);
  for (int i = 0; i < 8; i += 2) {
    d[data_start + i] = 0xFF;
    d[data_start + i + 1] = 0x00;
  }
  fer_image *img;
  CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("Huffman");
  free(d);
}

/* Random damage anywhere: any status, but never a crash, and an image
 * only with OK. */
static void test_random_damage(void) {
  static const char *names[] = {"rgb420_33x17", "gray_progressive_41x29",
                                "rgb420_progressive_restart_37x21", "exif_orientation_6"};
  fer__rng rng;
  fer__rng_seed(&rng, 1234);
  long counts[16] = {0};
  for (size_t f = 0; f < FER__ARRAY_LEN(names); f++) {
    size_t n;
    uint8_t *full = load_fixture(names[f], &n);
    if (!full) continue;
    uint8_t *d = malloc(n);
    for (int trial = 0; trial < 300; trial++) {
      memcpy(d, full, n);
      int edits = 1 + (int)fer__rng_below(&rng, 4);
      for (int e = 0; e < edits; e++)
        d[fer__rng_below(&rng, (uint32_t)n)] = (uint8_t)fer__rng_next(&rng);
      fer_image *img = NULL;
      fer_status st = decode(d, n, &img);
      counts[st < 16 ? st : 15]++;
      fer_image_free(img);
    }
    free(d);
    free(full);
  }
  fprintf(stderr, "  random damage: %ld ok, %ld format, %ld truncated, %ld unsupported, "
          "%ld too large\n", counts[FER_OK], counts[FER_ERR_FORMAT],
          counts[FER_ERR_TRUNCATED], counts[FER_ERR_UNSUPPORTED], counts[FER_ERR_TOO_LARGE]);
  CHECK_EQ_INT(counts[FER_ERR_INTERNAL], 0);
  CHECK_EQ_INT(counts[FER_ERR_OUT_OF_MEMORY], 0);
}

static void test_bad_marker_lengths(void) {
  size_t n;
  uint8_t *d = load_fixture("gray_33x17", &n);
  if (!d) return;
  long dqt = find_segment(d, n, 0xDB);
  CHECK(dqt > 0);
  if (dqt > 0) {
    fer_image *img;
    uint8_t hi = d[dqt + 2], lo = d[dqt + 3];
    d[dqt + 2] = 0;
    d[dqt + 3] = 1;
    CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
    CHECK_MESSAGE_CONTAINS("length");
    d[dqt + 2] = 0xFF;
    d[dqt + 3] = 0xF0;
    CHECK_STATUS(decode(d, n, &img), FER_ERR_TRUNCATED);
    CHECK_MESSAGE_CONTAINS("FFDB");
    /* A length that cuts the table short. */
    d[dqt + 2] = 0;
    d[dqt + 3] = 20;
    CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
    CHECK_MESSAGE_CONTAINS("DQT");
    d[dqt + 2] = hi;
    d[dqt + 3] = lo;
  }
  long sof = find_segment(d, n, 0xC0);
  if (sof > 0) {
    fer_image *img;
    d[sof + 3]++; /* one byte longer than 1 component needs */
    CHECK(decode(d, n, &img) != FER_OK);
    d[sof + 3]--;
  }
  free(d);
}

static void test_absurd_dimensions(void) {
  size_t n;
  uint8_t *d = load_fixture("rgb420_33x17", &n);
  if (!d) return;
  long sof = find_segment(d, n, 0xC0);
  CHECK(sof > 0);
  if (sof > 0) {
    uint8_t *p = d + sof + 5; /* height, width follow the precision byte */
    fer_image *img;
    p[0] = p[1] = p[2] = p[3] = 0xFF;
    /* The limit check comes before any plane is allocated: with the
     * second allocation (the first after the decoder state) failing, the
     * answer is still TOO_LARGE. */
    fer__alloc_fail_after(2);
    CHECK_STATUS(decode(d, n, &img), FER_ERR_TOO_LARGE);
    fer__alloc_fail_after(0);
    CHECK_MESSAGE_CONTAINS("65535x65535");
    p[0] = p[1] = 0;
    p[2] = 0;
    p[3] = 33;
    CHECK_STATUS(decode(d, n, &img), FER_ERR_UNSUPPORTED); /* height 0: DNL */
    CHECK_MESSAGE_CONTAINS("DNL");
    p[1] = 17;
    p[3] = 0;
    CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
    CHECK_MESSAGE_CONTAINS("empty");
  }
  free(d);
}

/* Decodes `d` (which must succeed) and returns the image. */
static fer_image *decode_ok(const uint8_t *d, size_t n) {
  fer_image *img = NULL;
  fer_status st = fer__jpeg_decode(d, n, 0, &img);
  CHECK_MSG(st == FER_OK, "decode failed: %s", fer_last_error());
  return st == FER_OK ? img : NULL;
}

/* Without its DHT segments, a file coded with the Annex K tables (as
 * Pillow writes them, and as Motion-JPEG frames assume) decodes exactly as
 * the original: slots 0 and 1 hold those tables by default. */
static void check_decodes_without_dht(const char *name) {
  size_t n, m;
  uint8_t *d = load_fixture(name, &n);
  if (!d) return;
  uint8_t *c = d;
  size_t cn = n;
  long at;
  while ((at = find_segment(c, cn, 0xC4)) >= 0) {
    uint8_t *next = without_segment(c, cn, at, &m);
    if (c != d) free(c);
    c = next;
    cn = m;
  }
  CHECK_MSG(c != d, "%s has no DHT segment", name);
  fer_image *with_dht = decode_ok(d, n), *without_dht = decode_ok(c, cn);
  if (with_dht && without_dht) {
    CHECK_EQ_INT(fer_image_channels(without_dht), fer_image_channels(with_dht));
    CHECK_MSG(memcmp(fer_image_data(with_dht), fer_image_data(without_dht),
                     fer_image_stride(with_dht) * (size_t)fer_image_height(with_dht)) == 0,
              "%s decodes differently without its DHT", name);
  }
  fer_image_free(with_dht);
  fer_image_free(without_dht);
  if (c != d) free(c);
  free(d);
}

static void test_missing_tables(void) {
  check_decodes_without_dht("gray_33x17");
  check_decodes_without_dht("rgb420_33x17");
  check_decodes_without_dht("rgb422_33x17");
  size_t n, m;
  uint8_t *d = load_fixture("gray_33x17", &n);
  if (!d) return;
  fer_image *img;
  uint8_t *c = d;
  size_t cn = n;
  long at;
  while ((at = find_segment(c, cn, 0xC4)) >= 0) {
    uint8_t *next = without_segment(c, cn, at, &m);
    if (c != d) free(c);
    c = next;
    cn = m;
  }
  CHECK(c != d);
  /* A scan naming a table slot that nothing defined (2) is refused. */
  size_t sos = sos_offset(c);
  c[sos + 6] = 0x22; /* component 1: DC table 2, AC table 2 */
  CHECK_STATUS(decode(c, cn, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("Huffman table 2");
  free(c);
  c = without_segment(d, n, find_segment(d, n, 0xDB), &m);
  CHECK_STATUS(decode(c, m, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("quantization table");
  free(c);
  c = without_segment(d, n, find_segment(d, n, 0xC0), &m);
  CHECK_STATUS(decode(c, m, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("SOS");
  free(c);
  free(d);
}

static void test_component_mismatch(void) {
  size_t n;
  uint8_t *d = load_fixture("rgb444_33x17", &n);
  if (!d) return;
  size_t sos = sos_offset(d);
  fer_image *img;
  uint8_t id = d[sos + 5];
  d[sos + 5] = 77; /* first scan component: not in the frame */
  CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("77");
  d[sos + 5] = d[sos + 7]; /* the same component twice */
  CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("twice");
  d[sos + 5] = id;
  long sof = find_segment(d, n, 0xC0);
  uint8_t saved = d[sof + 13];
  d[sof + 13] = d[sof + 10]; /* duplicate component ids in the frame */
  CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("twice");
  d[sof + 13] = saved;
  saved = d[sof + 11];
  d[sof + 11] = 0x51; /* sampling factor 5 */
  CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
  CHECK_MESSAGE_CONTAINS("sampling");
  d[sof + 11] = 0x32; /* 3x2 luma with... */
  d[sof + 14] = 0x21; /* ...2x1 chroma: a fractional ratio */
  CHECK_STATUS(decode(d, n, &img), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("non-integral");
  free(d);
}

/* A frame header with `count` components, built by hand. */
static void test_component_counts(void) {
  for (int count = 0; count <= 6; count++) {
    uint8_t d[64] = {0xFF, 0xD8, 0xFF, 0xC0};
    size_t len = 8 + 3 * (size_t)count;
    d[4] = 0;
    d[5] = (uint8_t)len;
    d[6] = 8;
    d[8] = 8;  /* height 8 */
    d[10] = 8; /* width 8 */
    d[11] = (uint8_t)count;
    for (int i = 0; i < count; i++) {
      d[12 + 3 * i] = (uint8_t)(i + 1);
      d[13 + 3 * i] = 0x11;
    }
    fer_image *img;
    fer_status st = decode(d, 4 + len, &img);
    if (count == 1 || count == 3) {
      CHECK_STATUS(st, FER_ERR_TRUNCATED); /* a valid header, then nothing */
    } else {
      CHECK_STATUS(st, count == 0 ? FER_ERR_FORMAT : FER_ERR_UNSUPPORTED);
      CHECK_MESSAGE_CONTAINS("component");
    }
  }
}

static void test_unsupported_codings(void) {
  size_t n;
  uint8_t *d = load_fixture("gray_33x17", &n);
  if (!d) return;
  long sof = find_segment(d, n, 0xC0);
  fer_image *img;
  static const struct {
    uint8_t marker;
    const char *word;
  } kinds[] = {{0xC9, "arithmetic"}, {0xCA, "arithmetic"}, {0xC3, "lossless"},
               {0xC5, "hierarchical"}};
  for (size_t i = 0; i < FER__ARRAY_LEN(kinds); i++) {
    d[sof + 1] = kinds[i].marker;
    CHECK_STATUS(decode(d, n, &img), FER_ERR_UNSUPPORTED);
    CHECK_MESSAGE_CONTAINS(kinds[i].word);
  }
  d[sof + 1] = 0xC0;
  d[sof + 4] = 12;
  CHECK_STATUS(decode(d, n, &img), FER_ERR_UNSUPPORTED);
  CHECK_MESSAGE_CONTAINS("12-bit");
  d[sof + 4] = 7;
  CHECK_STATUS(decode(d, n, &img), FER_ERR_FORMAT);
  free(d);
}

/* Stray bytes before a restart marker, and an RSTn with the wrong number,
 * are skipped over: the image still decodes exactly. */
static void test_restart_resync(void) {
  size_t n;
  uint8_t *full = load_fixture("rgb420_restart_35x37", &n);
  if (!full) return;
  fer_image *ref = NULL, *img = NULL;
  CHECK_OK(decode(full, n, &ref));
  size_t rst = sos_offset(full) + 2;
  while (rst + 1 < n && !(full[rst] == 0xFF && full[rst + 1] >= 0xD0 && full[rst + 1] <= 0xD7))
    rst++;
  CHECK(rst + 1 < n);
  uint8_t *d = malloc(n + 3);
  memcpy(d, full, rst);
  d[rst] = 0x12; /* three stray bytes */
  d[rst + 1] = 0x34;
  d[rst + 2] = 0x56;
  memcpy(d + rst + 3, full + rst, n - rst);
  d[rst + 4] = 0xD5; /* and a wrong restart number */
  CHECK_OK(decode(d, n + 3, &img));
  if (img && ref) CHECK_EQ_INT(jt_compare(img, ref->pixels).max_diff, 0);
  fer_image_free(img);
  /* A non-RST marker where a restart is due: the scan's data is missing. */
  memcpy(d, full, n);
  d[rst + 1] = 0xD9;
  CHECK_STATUS(decode(d, n, &img), FER_ERR_TRUNCATED);
  CHECK_MESSAGE_CONTAINS("restart");
  free(d);
  fer_image_free(ref);
  free(full);
}

/* With restart markers, an invalid code only costs its interval: the rest
 * of the image still matches Pillow exactly. The file restarts after every
 * MCU (16x16 pixels); the fancy chroma filter spreads the damage 2 pixels
 * further. */
static void test_damaged_interval_is_contained(void) {
  size_t n;
  uint8_t *d = load_fixture("rgb420_restart_35x37", &n);
  if (!d) return;
  fer_image *ref = NULL, *img = NULL;
  CHECK_OK(decode(d, n, &ref));
  size_t data_start = sos_offset(d) + 2 + ((size_t)d[sos_offset(d) + 2] << 8 | d[sos_offset(d) + 3]);
  for (int i = 2; i < 8; i += 2) {
    d[data_start + i] = 0xFF; /* a run of 1 bits: never a valid code */
    d[data_start + i + 1] = 0x00;
  }
  CHECK_OK(decode(d, n, &img));
  if (img && ref) {
    int outside_max = 0, inside_max = 0;
    for (int y = 0; y < img->height; y++)
      for (int x = 0; x < img->width * 3; x++) {
        int diff = abs((int)img->pixels[(size_t)y * img->stride + x] -
                       (int)ref->pixels[(size_t)y * ref->stride + x]);
        if (x / 3 >= 18 || y >= 18)
          outside_max = diff > outside_max ? diff : outside_max;
        else
          inside_max = diff > inside_max ? diff : inside_max;
      }
    CHECK_EQ_INT(outside_max, 0);
    CHECK(inside_max > 0); /* the damaged MCU did change */
  }
  fer_image_free(img);
  fer_image_free(ref);
  free(d);
}

static void test_allocation_failures(void) {
  static const char *names[] = {"rgb420_progressive_61x45", "rgb420_33x17", "gray_33x17"};
  for (size_t f = 0; f < FER__ARRAY_LEN(names); f++) {
    size_t n;
    uint8_t *d = load_fixture(names[f], &n);
    if (!d) continue;
    int succeeded = 0;
    for (long k = 1; k < 40 && !succeeded; k++) {
      fer_image *img = NULL;
      fer__alloc_fail_after(k);
      fer_status st = decode(d, n, &img);
      fer__alloc_fail_after(0);
      CHECK_MSG(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY, "%s, allocation %ld fails: %s",
                names[f], k, fer_status_string(st));
      succeeded = st == FER_OK;
      fer_image_free(img);
    }
    CHECK_MSG(succeeded, "%s never decoded within 40 allocations", names[f]);
    free(d);
  }
}

/* EXIF blocks built by hand: both byte orders, and offsets and counts
 * pointing outside the block. */
static size_t exif(uint8_t *b, int big, uint32_t ifd, uint16_t entries, uint16_t tag,
                   uint16_t type, uint32_t count, uint16_t value) {
  memcpy(b, "Exif\0\0", 6);
  uint8_t *t = b + 6;
#define PUT16(p, v) (big ? ((p)[0] = (uint8_t)((v) >> 8), (p)[1] = (uint8_t)(v)) \
                         : ((p)[0] = (uint8_t)(v), (p)[1] = (uint8_t)((v) >> 8)))
#define PUT32(p, v) (big ? (PUT16(p, (v) >> 16), PUT16((p) + 2, (v) & 0xFFFF)) \
                         : (PUT16(p, (v) & 0xFFFF), PUT16((p) + 2, (v) >> 16)))
  t[0] = t[1] = big ? 'M' : 'I';
  PUT16(t + 2, 42);
  PUT32(t + 4, ifd);
  PUT16(t + 8, entries);
  PUT16(t + 10, tag);
  PUT16(t + 12, type);
  PUT32(t + 14, count);
  PUT16(t + 18, value);
  t[20] = t[21] = 0;
  PUT32(t + 22, 0); /* no next IFD */
#undef PUT16
#undef PUT32
  return 6 + 26;
}

static void test_exif_parser(void) {
  uint8_t b[64];
  memset(b, 0, sizeof b);
  for (int big = 0; big <= 1; big++) {
    for (uint16_t o = 1; o <= 8; o++)
      CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 8, 1, 0x0112, 3, 1, o)), o);
    size_t n = exif(b, big, 8, 1, 0x0112, 3, 1, 6);
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, n - 4), 6); /* next-IFD link cut: fine */
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, n - 5), 0); /* entry cut */
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 8, 1, 0x0112, 3, 1, 9)), 0);
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 8, 1, 0x0112, 3, 1, 0)), 0);
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 8, 1, 0x0112, 4, 1, 6)), 0);
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 8, 1, 0x0110, 3, 1, 6)), 0);
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 8, 0xFFFF, 0x0112, 3, 1, 6)), 6);
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 0xFFFFFFF0u, 1, 0x0112, 3, 1, 6)), 0);
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 31, 1, 0x0112, 3, 1, 6)), 0);
    CHECK_EQ_INT(fer__jpeg_exif_orientation(b, exif(b, big, 4, 1, 0x0112, 3, 1, 6)), 0);
  }
  exif(b, 0, 8, 1, 0x0112, 3, 1, 6);
  b[6] = 'X';
  CHECK_EQ_INT(fer__jpeg_exif_orientation(b, 32), 0);
  CHECK_EQ_INT(fer__jpeg_exif_orientation((const uint8_t *)"Exif\0\0II", 8), 0);
  CHECK_EQ_INT(fer__jpeg_exif_orientation((const uint8_t *)"JFIF", 4), 0);
}

int main(void) {
  snprintf(fixture_dir, sizeof fixture_dir, "%s/jpeg", harness_fixtures());
  RUN(test_truncation_at_every_byte);
  RUN(test_not_jpeg);
  RUN(test_corrupt_huffman_data);
  RUN(test_random_damage);
  RUN(test_bad_marker_lengths);
  RUN(test_absurd_dimensions);
  RUN(test_missing_tables);
  RUN(test_component_mismatch);
  RUN(test_component_counts);
  RUN(test_unsupported_codings);
  RUN(test_restart_resync);
  RUN(test_damaged_interval_is_contained);
  RUN(test_allocation_failures);
  RUN(test_exif_parser);
  return harness_finish();
}
