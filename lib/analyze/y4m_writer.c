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
  size_t frame_capacity; /* bytes of planes: always room for I420 */
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
    size_t chroma = (size_t)fer__y4m_chroma_side(width) *
                    (size_t)fer__y4m_chroma_side(height);
    w->chroma_bytes = w->mono ? 0 : chroma;
    w->frame_capacity = w->luma_bytes + 2 * chroma;
    w->planes = fer__malloc(w->frame_capacity);
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
  /* The image module's I420 layout at stride 0 is exactly a Y4M frame's:
   * chroma rows of ceil(width/2) bytes. A mono stream writes its Y plane
   * and leaves the chroma in the scratch buffer. */
  st = fer_image_to_pixels(img, FER_PIXEL_I420, w->planes, 0, w->frame_capacity);
  if (st != FER_OK) return st;
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
