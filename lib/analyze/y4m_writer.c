/*
 * The YUV4MPEG2 writer: converts each fer_image to I420 (or to a luma plane
 * for Cmono) and appends it as one FRAME, flushing so that pipes stream.
 */
#include <errno.h>
#include <string.h>

#include "analyze/y4m_internal.h"
#include "core/core_internal.h"
#include "image/image_internal.h"

struct fer_y4m_writer {
  uint32_t magic;
  FILE *file;
  int owns_file;
  int width;
  int height;
  int mono;
  int rate_num, rate_den;
  int aspect_num, aspect_den;
  int header_written;
  fer_status failed;  /* sticky write error, FER_OK while healthy */
  uint8_t *planes;    /* one converted frame: Y, then U, then V */
  size_t luma_bytes;
  size_t chroma_bytes; /* one chroma plane; 0 for mono */
};

static fer_status check_writer(const fer_y4m_writer *w, const char *who) {
  if (!w) return fer__fail(FER_ERR_MISUSE, "%s: writer is NULL", who);
  if (w->magic != FER__Y4M_WRITER_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_y4m_writer (freed?)",
                     who);
  return FER_OK;
}

static void writer_release(fer_y4m_writer *w) {
  w->magic = 0;
  fer__free(w->planes);
  fer__free(w);
}

static fer_status writer_start(FILE *file, int owns_file, int width, int height,
                               unsigned flags, const char *who,
                               fer_y4m_writer **out) {
  fer_status st = FER_OK;
  if (flags & ~FER_Y4M_WRITE_MONO)
    st = fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: unknown flags 0x%x", who, flags);
  else if (width <= 0 || height <= 0)
    st = fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: frame size %dx%d is not positive",
                   who, width, height);
  else
    st = fer__image_check_size(width, height, who);
  fer_y4m_writer *w = NULL;
  if (st == FER_OK) {
    w = fer__calloc(1, sizeof *w);
    if (!w) st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
  }
  if (st == FER_OK) {
    w->mono = (flags & FER_Y4M_WRITE_MONO) != 0;
    w->luma_bytes = (size_t)width * (size_t)height;
    w->chroma_bytes = w->mono ? 0
                              : (size_t)fer__y4m_chroma_side(width) *
                                    (size_t)fer__y4m_chroma_side(height);
    w->planes = fer__malloc(w->luma_bytes + 2 * w->chroma_bytes);
    if (!w->planes) {
      fer__free(w);
      st = fer__fail(FER_ERR_OUT_OF_MEMORY,
                     "%s: out of memory for a %dx%d frame", who, width, height);
    }
  }
  if (st != FER_OK) {
    if (owns_file) fclose(file);
    return st;
  }
  w->magic = FER__Y4M_WRITER_MAGIC;
  w->file = file;
  w->owns_file = owns_file;
  w->width = width;
  w->height = height;
  w->rate_num = 25;
  w->rate_den = 1;
  w->aspect_num = w->aspect_den = 1;
  *out = w;
  return FER_OK;
}

fer_status fer_y4m_writer_open(const char *path, int width, int height,
                               unsigned flags, fer_y4m_writer **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_y4m_writer_open: out is NULL");
  *out = NULL;
  if (!path)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_y4m_writer_open: path is NULL");
  if (strcmp(path, "-") == 0)
    return writer_start(stdout, 0, width, height, flags, "fer_y4m_writer_open", out);
  /* Arguments are checked before the file is created, so a bad call leaves
   * no empty file behind. */
  fer_status st = writer_start(NULL, 0, width, height, flags, path, out);
  if (st != FER_OK) return st;
  FILE *f = fopen(path, "wb");
  if (!f) {
    writer_release(*out);
    *out = NULL;
    return fer__fail(FER_ERR_IO, "%s: cannot open for writing: %s", path,
                     strerror(errno));
  }
  (*out)->file = f;
  (*out)->owns_file = 1;
  return FER_OK;
}

fer_status fer_y4m_writer_from_file(FILE *file, int width, int height,
                                    unsigned flags, fer_y4m_writer **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_writer_from_file: out is NULL");
  *out = NULL;
  if (!file)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_writer_from_file: file is NULL");
  return writer_start(file, 0, width, height, flags, "fer_y4m_writer_from_file",
                      out);
}

static fer_status check_settable(const fer_y4m_writer *w, const char *who) {
  fer_status st = check_writer(w, who);
  if (st != FER_OK) return st;
  if (w->header_written)
    return fer__fail(FER_ERR_MISUSE,
                     "%s: the header is already written (set it before the "
                     "first frame)", who);
  return FER_OK;
}

fer_status fer_y4m_writer_set_frame_rate(fer_y4m_writer *w, int num, int den) {
  fer_status st = check_settable(w, "fer_y4m_writer_set_frame_rate");
  if (st != FER_OK) return st;
  if (num <= 0 || den <= 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_writer_set_frame_rate: %d:%d is not a positive rate",
                     num, den);
  w->rate_num = num;
  w->rate_den = den;
  return FER_OK;
}

fer_status fer_y4m_writer_set_aspect(fer_y4m_writer *w, int num, int den) {
  fer_status st = check_settable(w, "fer_y4m_writer_set_aspect");
  if (st != FER_OK) return st;
  int unknown = num == 0 && den == 0;
  if (!unknown && (num <= 0 || den <= 0))
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_y4m_writer_set_aspect: %d:%d is neither positive nor 0:0",
                     num, den);
  w->aspect_num = num;
  w->aspect_den = den;
  return FER_OK;
}

/* Records and returns a write failure; the stream is unusable after it. */
static fer_status write_failed(fer_y4m_writer *w, const char *what) {
  w->failed = FER_ERR_IO;
  return fer__fail(FER_ERR_IO, "y4m writer: writing the %s failed: %s", what,
                   strerror(errno));
}

static fer_status write_header(fer_y4m_writer *w) {
  w->header_written = 1;
  if (fprintf(w->file, "YUV4MPEG2 W%d H%d F%d:%d Ip A%d:%d C%s\n", w->width,
              w->height, w->rate_num, w->rate_den, w->aspect_num,
              w->aspect_den, w->mono ? "mono" : "420jpeg") < 0)
    return write_failed(w, "header");
  return FER_OK;
}

/* BT.601 limited range from RGB in 16.16 fixed point: the weights are the
 * standard's (65.481, 128.553, 24.966 for Y; -37.797, -74.203, 112 for U;
 * 112, -93.786, -18.214 for V) divided by 255. */
static uint8_t rgb_to_luma(const uint8_t *p) {
  return (uint8_t)((16829 * p[0] + 33039 * p[1] + 6416 * p[2] + (16 << 16) +
                    32768) >> 16);
}
static int32_t rgb_to_u_fixed(const uint8_t *p) {
  return -9714 * p[0] - 19071 * p[1] + 28784 * p[2];
}
static int32_t rgb_to_v_fixed(const uint8_t *p) {
  return 28784 * p[0] - 24103 * p[1] - 4681 * p[2];
}

/* Sum of fixed-point chroma over n pixels -> the rounded average plus 128.
 * The sum plus the offset is never negative (chroma stays within 16..240),
 * so integer division rounds as intended. */
static uint8_t average_chroma(int32_t sum, int n) {
  int32_t scale = n << 16;
  return (uint8_t)((sum + 128 * scale + scale / 2) / scale);
}

static void convert_rgb(fer_y4m_writer *w, const fer_image *img) {
  uint8_t *luma = w->planes;
  for (int y = 0; y < w->height; y++) {
    const uint8_t *row = img->pixels + (size_t)y * img->stride;
    for (int x = 0; x < w->width; x++)
      luma[(size_t)y * (size_t)w->width + (size_t)x] = rgb_to_luma(row + 3 * x);
  }
  if (w->mono) return;
  int chroma_w = fer__y4m_chroma_side(w->width);
  int chroma_h = fer__y4m_chroma_side(w->height);
  uint8_t *u_plane = w->planes + w->luma_bytes;
  uint8_t *v_plane = u_plane + w->chroma_bytes;
  for (int cy = 0; cy < chroma_h; cy++) {
    for (int cx = 0; cx < chroma_w; cx++) {
      /* Edge blocks of odd sizes hold 2 or 1 pixels: average those. */
      int32_t u_sum = 0, v_sum = 0;
      int n = 0;
      for (int y = 2 * cy; y < FER__MIN(2 * cy + 2, w->height); y++) {
        for (int x = 2 * cx; x < FER__MIN(2 * cx + 2, w->width); x++) {
          const uint8_t *p = img->pixels + (size_t)y * img->stride + 3 * (size_t)x;
          u_sum += rgb_to_u_fixed(p);
          v_sum += rgb_to_v_fixed(p);
          n++;
        }
      }
      size_t at = (size_t)cy * (size_t)chroma_w + (size_t)cx;
      u_plane[at] = average_chroma(u_sum, n);
      v_plane[at] = average_chroma(v_sum, n);
    }
  }
}

static void convert_gray(fer_y4m_writer *w, const fer_image *img) {
  uint8_t table[256];
  for (int i = 0; i < 256; i++) table[i] = fer__y4m_gray_to_luma((uint8_t)i);
  for (int y = 0; y < w->height; y++) {
    const uint8_t *row = img->pixels + (size_t)y * img->stride;
    uint8_t *luma = w->planes + (size_t)y * (size_t)w->width;
    for (int x = 0; x < w->width; x++) luma[x] = table[row[x]];
  }
  /* Neutral chroma: gray stays gray. */
  memset(w->planes + w->luma_bytes, 128, 2 * w->chroma_bytes);
}

fer_status fer_y4m_writer_write(fer_y4m_writer *w, const fer_image *img) {
  fer_status st = check_writer(w, "fer_y4m_writer_write");
  if (st != FER_OK) return st;
  st = fer__image_check(img, "fer_y4m_writer_write");
  if (st != FER_OK) return st;
  if (w->failed != FER_OK)
    return fer__fail(w->failed, "y4m writer: stopped at an earlier write error");
  if (img->width != w->width || img->height != w->height)
    return fer__fail(FER_ERR_SHAPE,
                     "fer_y4m_writer_write: image is %dx%d but the stream is %dx%d",
                     img->width, img->height, w->width, w->height);
  if (!w->header_written && (st = write_header(w)) != FER_OK) return st;
  if (img->channels == 3)
    convert_rgb(w, img);
  else
    convert_gray(w, img);
  size_t bytes = w->luma_bytes + 2 * w->chroma_bytes;
  if (fputs("FRAME\n", w->file) == EOF) return write_failed(w, "FRAME line");
  if (fwrite(w->planes, 1, bytes, w->file) != bytes)
    return write_failed(w, "frame data");
  if (fflush(w->file) != 0) return write_failed(w, "frame (flush)");
  return FER_OK;
}

fer_status fer_y4m_writer_close(fer_y4m_writer *w) {
  if (!w) return FER_OK;
  fer_status st = check_writer(w, "fer_y4m_writer_close");
  if (st != FER_OK) return st;
  st = w->failed;
  if (st != FER_OK)
    fer__fail(st, "y4m writer: an earlier write failed");
  if (st == FER_OK && !w->header_written) st = write_header(w);
  if (st == FER_OK && fflush(w->file) != 0) st = write_failed(w, "end (flush)");
  if (w->owns_file && fclose(w->file) != 0 && st == FER_OK)
    st = fer__fail(FER_ERR_IO, "y4m writer: closing the file failed: %s",
                   strerror(errno));
  writer_release(w);
  return st;
}
