/*
 * The YUV4MPEG2 reader: a header line of tags, then per frame a FRAME line
 * and the raw planes. Read strictly in order with stdio, never seeking and
 * never past the current frame, so that it works on pipes.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "analyze/y4m_internal.h"
#include "core/core_internal.h"
#include "image/image_internal.h"

/* A header or FRAME line longer than this is not a Y4M stream; real ones
 * are under 100 bytes. */
#define Y4M_MAX_LINE 4096

/* The frame buffer grows with the data that actually arrives, at least
 * this much at a time, so a hostile header announcing a huge frame costs
 * memory only if the frame's bytes really follow. */
#define Y4M_MIN_GROWTH ((size_t)1 << 16)

struct fer_y4m_reader {
  uint32_t magic;
  FILE *file;
  int owns_file;
  int width;
  int height;
  fer_y4m_colorspace colorspace;
  fer_y4m_interlace interlace;
  int rate_num, rate_den;
  int aspect_num, aspect_den;
  size_t luma_bytes;   /* width * height */
  size_t chroma_bytes; /* one chroma plane; 0 for mono */
  size_t frame_bytes;
  uint8_t *frame;      /* the current frame's planes, Y then U then V */
  size_t frame_capacity;
  long frames_read;
  int have_frame;      /* frame holds a complete current frame */
  int at_end;          /* a clean end was seen */
  fer_status failed;   /* sticky error, FER_OK while healthy */
};

static fer_status check_reader(const fer_y4m_reader *r, const char *who) {
  if (!r) return fer__fail(FER_ERR_MISUSE, "%s: reader is NULL", who);
  if (r->magic != FER__Y4M_READER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_y4m_reader (freed?)",
                     who);
  return FER_OK;
}

/* Reads one '\n'-terminated line (without the '\n') into `line`. Returns
 * the number of bytes consumed including the '\n', 0 at EOF before any
 * byte, or -1 when the stream ended (or failed) inside the line, or -2 when
 * the line is longer than `capacity` - 1. */
static long read_line(FILE *f, char *line, size_t capacity) {
  size_t n = 0;
  for (;;) {
    int c = getc(f);
    if (c == EOF) return n == 0 && !ferror(f) ? 0 : -1;
    if (c == '\n') {
      line[n] = '\0';
      return (long)n + 1;
    }
    if (n + 1 >= capacity) return -2;
    /* A NUL would cut the line short for the string functions below. */
    line[n++] = c == '\0' ? '\x01' : (char)c;
  }
}

/* Parses an unsigned decimal that fills [s, end); -1 when it is empty or
 * holds a non-digit, -2 when it exceeds INT_MAX. */
static long parse_uint(const char *s, const char *end) {
  if (s == end) return -1;
  long v = 0;
  for (; s < end; s++) {
    if (*s < '0' || *s > '9') return -1;
    v = v * 10 + (*s - '0');
    if (v > INT_MAX) return -2;
  }
  return v;
}

/* "N:D" in [s, end). */
static int parse_ratio(const char *s, const char *end, int *num, int *den) {
  const char *colon = memchr(s, ':', (size_t)(end - s));
  if (!colon) return 0;
  long n = parse_uint(s, colon), d = parse_uint(colon + 1, end);
  if (n < 0 || d < 0) return 0;
  *num = (int)n;
  *den = (int)d;
  return 1;
}

static fer_status parse_colorspace(fer_y4m_reader *r, const char *s,
                                   const char *end) {
  static const struct {
    const char *name;
    fer_y4m_colorspace value;
  } known[] = {
      {"420jpeg", FER_Y4M_420JPEG}, {"420paldv", FER_Y4M_420PALDV},
      {"420mpeg2", FER_Y4M_420MPEG2}, {"420", FER_Y4M_420},
      {"mono", FER_Y4M_MONO},
  };
  size_t len = (size_t)(end - s);
  for (size_t i = 0; i < FER__ARRAY_LEN(known); i++) {
    if (strlen(known[i].name) == len && memcmp(known[i].name, s, len) == 0) {
      r->colorspace = known[i].value;
      return FER_OK;
    }
  }
  return fer__fail(FER_ERR_UNSUPPORTED,
                   "y4m header: colour space 'C%.*s' is not supported "
                   "(only 420jpeg, 420paldv, 420mpeg2, 420 and mono)",
                   (int)FER__MIN(len, 32), s);
}

static fer_status parse_tag(fer_y4m_reader *r, const char *s, const char *end) {
  const char *value = s + 1;
  int len = (int)FER__MIN(end - s, 40);
  long n;
  switch (*s) {
    case 'W':
    case 'H':
      n = parse_uint(value, end);
      if (n == -2)
        return fer__fail(FER_ERR_TOO_LARGE,
                         "y4m header: size tag '%.*s' exceeds the limit (%d per "
                         "side)", len, s, FER_IMAGE_MAX_SIDE);
      if (n < 0)
        return fer__fail(FER_ERR_FORMAT,
                         "y4m header: tag '%.*s' is not a size (digits only, "
                         "at most %d)", len, s, INT_MAX);
      if (*s == 'W')
        r->width = (int)n;
      else
        r->height = (int)n;
      return FER_OK;
    case 'F':
      if (!parse_ratio(value, end, &r->rate_num, &r->rate_den) ||
          (r->rate_den == 0 && r->rate_num != 0))
        return fer__fail(FER_ERR_FORMAT,
                         "y4m header: frame rate tag '%.*s' is not N:D with D > 0",
                         len, s);
      return FER_OK;
    case 'A':
      if (!parse_ratio(value, end, &r->aspect_num, &r->aspect_den) ||
          (r->aspect_den == 0 && r->aspect_num != 0))
        return fer__fail(FER_ERR_FORMAT,
                         "y4m header: aspect tag '%.*s' is not N:D with D > 0",
                         len, s);
      return FER_OK;
    case 'I':
      if (end - value == 1) {
        switch (*value) {
          case 'p': r->interlace = FER_Y4M_INTERLACE_PROGRESSIVE; return FER_OK;
          case 't': r->interlace = FER_Y4M_INTERLACE_TOP_FIRST; return FER_OK;
          case 'b': r->interlace = FER_Y4M_INTERLACE_BOTTOM_FIRST; return FER_OK;
          case 'm': r->interlace = FER_Y4M_INTERLACE_MIXED; return FER_OK;
          case '?': r->interlace = FER_Y4M_INTERLACE_UNKNOWN; return FER_OK;
          default: break;
        }
      }
      return fer__fail(FER_ERR_FORMAT,
                       "y4m header: interlace tag '%.*s' is not one of Ip It "
                       "Ib Im I?", len, s);
    case 'C':
      return parse_colorspace(r, value, end);
    default:
      /* X tags carry application data; tags from later versions of the
       * format are skipped the same way, as the format asks readers to. */
      return FER_OK;
  }
}

static fer_status parse_header(fer_y4m_reader *r) {
  char line[Y4M_MAX_LINE];
  long got = read_line(r->file, line, sizeof line);
  if (got == 0 || got == -1) {
    if (ferror(r->file))
      return fer__fail(FER_ERR_IO, "y4m header: read failed: %s",
                       strerror(errno));
    return fer__fail(FER_ERR_TRUNCATED,
                     got == 0 ? "y4m header: the stream is empty"
                              : "y4m header: the stream ends inside the header line");
  }
  if (got == -2)
    return fer__fail(FER_ERR_FORMAT,
                     "y4m header: no end of line in the first %d bytes",
                     Y4M_MAX_LINE);
  static const char magic[] = "YUV4MPEG2";
  if (strncmp(line, magic, sizeof magic - 1) != 0 ||
      (line[sizeof magic - 1] != ' ' && line[sizeof magic - 1] != '\0'))
    return fer__fail(FER_ERR_FORMAT,
                     "y4m header: does not start with 'YUV4MPEG2 ' (not a "
                     "Y4M stream)");
  r->colorspace = FER_Y4M_420JPEG;
  r->interlace = FER_Y4M_INTERLACE_UNKNOWN;
  r->width = r->height = -1;
  for (const char *s = line + sizeof magic - 1; *s;) {
    if (*s == ' ') {
      s++;
      continue;
    }
    const char *end = strchr(s, ' ');
    if (!end) end = s + strlen(s);
    fer_status st = parse_tag(r, s, end);
    if (st != FER_OK) return st;
    s = end;
  }
  if (r->width < 0 || r->height < 0)
    return fer__fail(FER_ERR_FORMAT, "y4m header: the %s tag is missing",
                     r->width < 0 ? "W (width)" : "H (height)");
  fer_status st = fer__image_check_size(r->width, r->height, "y4m header");
  if (st != FER_OK) return st;
  r->luma_bytes = (size_t)r->width * (size_t)r->height;
  r->chroma_bytes = r->colorspace == FER_Y4M_MONO
                        ? 0
                        : (size_t)fer__y4m_chroma_side(r->width) *
                              (size_t)fer__y4m_chroma_side(r->height);
  r->frame_bytes = r->luma_bytes + 2 * r->chroma_bytes;
  return FER_OK;
}

static fer_status reader_start(FILE *file, int owns_file, fer_y4m_reader **out) {
  fer_y4m_reader *r = fer__calloc(1, sizeof *r);
  if (!r) {
    if (owns_file) fclose(file);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "y4m reader: out of memory");
  }
  r->magic = FER__Y4M_READER_MAGIC;
  r->file = file;
  r->owns_file = owns_file;
  fer_status st = parse_header(r);
  if (st != FER_OK) {
    fer_y4m_reader_free(r);
    return st;
  }
  *out = r;
  return FER_OK;
}

fer_status fer_y4m_reader_open(const char *path, fer_y4m_reader **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_y4m_reader_open: out is NULL");
  *out = NULL;
  if (!path)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_y4m_reader_open: path is NULL");
  if (strcmp(path, "-") == 0) return reader_start(stdin, 0, out);
  FILE *f = fopen(path, "rb");
  if (!f) return fer__fail(FER_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
  fer_status st = reader_start(f, 1, out);
  return st == FER_OK ? st : fer__fail_prefix(st, path);
}

fer_status fer_y4m_reader_from_file(FILE *file, fer_y4m_reader **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_reader_from_file: out is NULL");
  *out = NULL;
  if (!file)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_reader_from_file: file is NULL");
  return reader_start(file, 0, out);
}

void fer_y4m_reader_free(fer_y4m_reader *r) {
  if (!r || r->magic != FER__Y4M_READER_MAGIC) return;
  r->magic = 0;
  if (r->owns_file) fclose(r->file);
  fer__free(r->frame);
  fer__free(r);
}

int fer_y4m_reader_width(const fer_y4m_reader *r) {
  return check_reader(r, "fer_y4m_reader_width") == FER_OK ? r->width : 0;
}
int fer_y4m_reader_height(const fer_y4m_reader *r) {
  return check_reader(r, "fer_y4m_reader_height") == FER_OK ? r->height : 0;
}
fer_y4m_colorspace fer_y4m_reader_colorspace(const fer_y4m_reader *r) {
  return check_reader(r, "fer_y4m_reader_colorspace") == FER_OK
             ? r->colorspace
             : (fer_y4m_colorspace)0;
}
fer_y4m_interlace fer_y4m_reader_interlace(const fer_y4m_reader *r) {
  return check_reader(r, "fer_y4m_reader_interlace") == FER_OK
             ? r->interlace
             : FER_Y4M_INTERLACE_UNKNOWN;
}
long fer_y4m_reader_frame_count(const fer_y4m_reader *r) {
  return check_reader(r, "fer_y4m_reader_frame_count") == FER_OK
             ? r->frames_read
             : 0;
}

fer_status fer_y4m_reader_frame_rate(const fer_y4m_reader *r, int *num,
                                     int *den) {
  fer_status st = check_reader(r, "fer_y4m_reader_frame_rate");
  if (st != FER_OK) return st;
  if (num) *num = r->rate_num;
  if (den) *den = r->rate_den;
  return FER_OK;
}

fer_status fer_y4m_reader_aspect(const fer_y4m_reader *r, int *num, int *den) {
  fer_status st = check_reader(r, "fer_y4m_reader_aspect");
  if (st != FER_OK) return st;
  if (num) *num = r->aspect_num;
  if (den) *den = r->aspect_den;
  return FER_OK;
}

/* Reads the frame data, growing the buffer only as bytes arrive. */
static fer_status read_frame_data(fer_y4m_reader *r) {
  size_t have = 0;
  while (have < r->frame_bytes) {
    if (have == r->frame_capacity) {
      size_t grow = FER__MAX(Y4M_MIN_GROWTH, r->frame_capacity);
      size_t capacity = FER__MIN(r->frame_bytes, r->frame_capacity + grow);
      uint8_t *bigger = fer__realloc(r->frame, capacity);
      if (!bigger)
        return fer__fail(FER_ERR_OUT_OF_MEMORY,
                         "y4m frame %ld: out of memory for %zu bytes",
                         r->frames_read, capacity);
      r->frame = bigger;
      r->frame_capacity = capacity;
    }
    size_t got = fread(r->frame + have, 1, r->frame_capacity - have, r->file);
    have += got;
    if (got == 0) {
      if (ferror(r->file))
        return fer__fail(FER_ERR_IO, "y4m frame %ld: read failed: %s",
                         r->frames_read, strerror(errno));
      return fer__fail(FER_ERR_TRUNCATED,
                       "y4m frame %ld: the stream ends after %zu of its %zu "
                       "bytes",
                       r->frames_read, have, r->frame_bytes);
    }
  }
  return FER_OK;
}

static fer_status read_frame(fer_y4m_reader *r, int *got_frame) {
  char line[Y4M_MAX_LINE];
  long got = read_line(r->file, line, sizeof line);
  if (got == 0) {
    r->at_end = 1;
    return FER_OK;
  }
  if (got == -1) {
    if (ferror(r->file))
      return fer__fail(FER_ERR_IO, "y4m frame %ld: read failed: %s",
                       r->frames_read, strerror(errno));
    return fer__fail(FER_ERR_TRUNCATED,
                     "y4m frame %ld: the stream ends inside the FRAME line",
                     r->frames_read);
  }
  if (got == -2)
    return fer__fail(FER_ERR_FORMAT,
                     "y4m frame %ld: no end of the FRAME line in %d bytes",
                     r->frames_read, Y4M_MAX_LINE);
  if (strncmp(line, "FRAME", 5) != 0 ||
      (line[5] != ' ' && line[5] != '\0'))
    return fer__fail(FER_ERR_FORMAT,
                     "y4m frame %ld: expected a 'FRAME' line, found '%.16s'",
                     r->frames_read, line);
  fer_status st = read_frame_data(r);
  if (st != FER_OK) return st;
  r->have_frame = 1;
  r->frames_read++;
  *got_frame = 1;
  return FER_OK;
}

fer_status fer_y4m_reader_next(fer_y4m_reader *r, int *got_frame) {
  fer_status st = check_reader(r, "fer_y4m_reader_next");
  if (st != FER_OK) return st;
  if (!got_frame)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_reader_next: got_frame is NULL");
  *got_frame = 0;
  if (r->failed != FER_OK)
    return fer__fail(r->failed,
                     "y4m frame %ld: the reader stopped at an earlier error",
                     r->frames_read);
  r->have_frame = 0;
  if (r->at_end) return FER_OK;
  st = read_frame(r, got_frame);
  if (st != FER_OK) r->failed = st;
  return st;
}

fer_status fer_y4m_reader_planes(const fer_y4m_reader *r,
                                 const uint8_t *planes[3], size_t strides[3]) {
  fer_status st = check_reader(r, "fer_y4m_reader_planes");
  if (st != FER_OK) return st;
  if (!planes || !strides)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_reader_planes: planes or strides is NULL");
  if (!r->have_frame)
    return fer__fail(FER_ERR_MISUSE,
                     "fer_y4m_reader_planes: no current frame (call "
                     "fer_y4m_reader_next first)");
  planes[0] = r->frame;
  strides[0] = (size_t)r->width;
  if (r->chroma_bytes == 0) {
    planes[1] = planes[2] = NULL;
    strides[1] = strides[2] = 0;
  } else {
    planes[1] = r->frame + r->luma_bytes;
    planes[2] = planes[1] + r->chroma_bytes;
    strides[1] = strides[2] = (size_t)fer__y4m_chroma_side(r->width);
  }
  return FER_OK;
}

fer_status fer_y4m_reader_image(const fer_y4m_reader *r, unsigned flags,
                                fer_image **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_y4m_reader_image: out is NULL");
  *out = NULL;
  fer_status st = check_reader(r, "fer_y4m_reader_image");
  if (st != FER_OK) return st;
  if (flags & ~FER_Y4M_READ_GRAY)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_reader_image: unknown flags 0x%x", flags);
  if (!r->have_frame)
    return fer__fail(FER_ERR_MISUSE,
                     "fer_y4m_reader_image: no current frame (call "
                     "fer_y4m_reader_next first)");
  int gray_out = (flags & FER_Y4M_READ_GRAY) != 0;
  if (!gray_out && r->colorspace != FER_Y4M_MONO) {
    /* Colour is the image module's BT.601 conversion, the one every YUV
     * source in libfer goes through. */
    size_t chroma_stride = (size_t)fer__y4m_chroma_side(r->width);
    const uint8_t *u = r->frame + r->luma_bytes, *v = u + r->chroma_bytes;
    st = fer_image_from_yuv420(r->frame, (size_t)r->width, u, chroma_stride, v,
                               chroma_stride, r->width, r->height,
                               FER_PIXEL_I420, out);
    return st == FER_OK ? st : fer__fail_prefix(st, "y4m frame");
  }
  fer_image *img;
  st = fer__image_alloc(r->width, r->height, gray_out ? 1 : 3, 0, "y4m frame",
                        &img);
  if (st != FER_OK) return st;
  /* One table lookup per pixel: the cheap path the detector uses. A mono
   * stream asked for colour gets the gray value in all three channels. */
  uint8_t table[256];
  for (int i = 0; i < 256; i++) table[i] = fer__y4m_luma_to_gray((uint8_t)i);
  for (size_t i = 0; i < r->luma_bytes; i++) {
    uint8_t g = table[r->frame[i]];
    if (gray_out)
      img->pixels[i] = g;
    else
      img->pixels[3 * i] = img->pixels[3 * i + 1] = img->pixels[3 * i + 2] = g;
  }
  *out = img;
  return FER_OK;
}
