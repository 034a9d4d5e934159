/*
 * gzip reader and writer. The reader is a small state machine over three
 * buffers: compressed input (read from the file in 64 KiB pieces, or the
 * caller's memory), decoded output (64 KiB), and the current line.
 */
#include "util/gzip.h"

#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "util/crc32.h"
#include "util/deflate.h"
#include "util/file.h"
#include "util/inflate.h"

#define INPUT_SIZE (1u << 16)
#define OUTPUT_SIZE (1u << 16)

/* Header flag bits (RFC 1952 2.3.1). */
#define FLAG_TEXT 0x01 /* a hint only */
#define FLAG_HCRC 0x02
#define FLAG_EXTRA 0x04
#define FLAG_NAME 0x08
#define FLAG_COMMENT 0x10
#define FLAG_RESERVED 0xE0

enum gz_state { GZ_PLAIN, GZ_HEADER, GZ_BODY, GZ_TRAILER, GZ_END, GZ_FAILED };

struct fer__gz_reader {
  char *name;
  FILE *file; /* NULL when reading memory */
  const uint8_t *in;
  size_t in_pos, in_len;
  uint64_t in_offset; /* offset of in[0] in the file */
  uint8_t *file_buffer;
  int at_eof; /* no more input beyond in[in_len] */
  int compressed;
  enum gz_state state;
  fer_status failure;
  fer__inflater *inflater;
  uint64_t member_start;
  uint32_t crc, size_mod; /* of the current member's data so far */
  uint8_t pushback[8];    /* bytes the inflater read past a member's end */
  size_t pushback_len, pushback_pos;
  uint8_t *out;
  size_t out_pos, out_len;
  char *line;
  size_t line_cap;
  uint64_t line_number;
};

/* ---- Input ---------------------------------------------------------------- */

static uint64_t input_offset(const fer__gz_reader *r) {
  return r->in_offset + r->in_pos - (r->pushback_len - r->pushback_pos);
}

/* More input into r->in when it is used up; 0 at the end of the data. */
static int fill_input(fer__gz_reader *r, fer_status *st) {
  *st = FER_OK;
  if (r->in_pos < r->in_len) return 1;
  if (r->at_eof || !r->file) return 0;
  r->in_offset += r->in_len;
  size_t n = fread(r->file_buffer, 1, INPUT_SIZE, r->file);
  r->in_pos = 0;
  r->in_len = n;
  if (n == 0) {
    r->at_eof = 1;
    if (ferror(r->file))
      *st = fer__fail(FER_ERR_IO, "%s: read error at byte %llu", r->name,
                      (unsigned long long)r->in_offset);
    return 0;
  }
  return 1;
}

/* One byte of input; 0 at the end of the data (or an I/O error in *st). */
static int next_byte(fer__gz_reader *r, uint8_t *b, fer_status *st) {
  *st = FER_OK;
  if (r->pushback_pos < r->pushback_len) {
    *b = r->pushback[r->pushback_pos++];
    return 1;
  }
  if (!fill_input(r, st)) return 0;
  *b = r->in[r->in_pos++];
  return 1;
}

static fer_status fail(fer__gz_reader *r, fer_status st) {
  r->state = GZ_FAILED;
  r->failure = st;
  return st;
}

/* Reads a header byte, folding it into the header CRC. */
static fer_status header_byte(fer__gz_reader *r, uint8_t *b, uint32_t *crc) {
  fer_status st;
  if (!next_byte(r, b, &st)) {
    if (st != FER_OK) return st;
    return fer__fail(FER_ERR_TRUNCATED, "%s: gzip header of the member at "
                     "byte %llu is cut short at byte %llu", r->name,
                     (unsigned long long)r->member_start,
                     (unsigned long long)input_offset(r));
  }
  *crc = fer__crc32(*crc, b, 1);
  return FER_OK;
}

/* Parses a member header; the two magic bytes are already read. */
static fer_status read_header(fer__gz_reader *r) {
  static const uint8_t magic[2] = {0x1F, 0x8B};
  uint32_t crc = fer__crc32(0, magic, 2);
  uint8_t fixed[8], b;
  fer_status st;
  for (int i = 0; i < 8; i++)
    if ((st = header_byte(r, &fixed[i], &crc)) != FER_OK) return st;
  if (fixed[0] != 8)
    return fer__fail(FER_ERR_UNSUPPORTED, "%s: gzip member at byte %llu uses "
                     "compression method %u, not deflate (8)", r->name,
                     (unsigned long long)r->member_start, fixed[0]);
  unsigned flags = fixed[1];
  if (flags & FLAG_RESERVED)
    return fer__fail(FER_ERR_FORMAT, "%s: gzip member at byte %llu sets "
                     "reserved flags 0x%02x", r->name,
                     (unsigned long long)r->member_start, flags & FLAG_RESERVED);
  if (flags & FLAG_EXTRA) {
    uint8_t lo, hi;
    if ((st = header_byte(r, &lo, &crc)) != FER_OK) return st;
    if ((st = header_byte(r, &hi, &crc)) != FER_OK) return st;
    for (unsigned n = (unsigned)lo | (unsigned)hi << 8; n > 0; n--)
      if ((st = header_byte(r, &b, &crc)) != FER_OK) return st;
  }
  for (unsigned flag = FLAG_NAME; flag <= FLAG_COMMENT; flag <<= 1) {
    if (!(flags & flag)) continue;
    do { /* a NUL-terminated string of any length */
      if ((st = header_byte(r, &b, &crc)) != FER_OK) return st;
    } while (b != 0);
  }
  if (flags & FLAG_HCRC) {
    uint8_t lo, hi;
    uint32_t expected = crc & 0xFFFF, ignored = 0;
    if ((st = header_byte(r, &lo, &ignored)) != FER_OK) return st;
    if ((st = header_byte(r, &hi, &ignored)) != FER_OK) return st;
    if (((unsigned)lo | (unsigned)hi << 8) != expected)
      return fer__fail(FER_ERR_CHECKSUM, "%s: gzip header CRC of the member at "
                       "byte %llu does not match", r->name,
                       (unsigned long long)r->member_start);
  }
  fer__inflater_reset(r->inflater);
  r->crc = 0;
  r->size_mod = 0;
  return FER_OK;
}

/* Checks the member trailer, then finds what follows: another member, zero
 * padding, or the end. */
static fer_status read_trailer(fer__gz_reader *r) {
  uint8_t t[8];
  fer_status st;
  r->pushback_len = fer__inflater_leftover(r->inflater, r->pushback);
  r->pushback_pos = 0;
  for (int i = 0; i < 8; i++)
    if (!next_byte(r, &t[i], &st))
      return st != FER_OK ? st
                          : fer__fail(FER_ERR_TRUNCATED, "%s: gzip trailer of "
                                      "the member at byte %llu is cut short",
                                      r->name, (unsigned long long)r->member_start);
  uint32_t crc = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 |
                 (uint32_t)t[3] << 24;
  uint32_t isize = (uint32_t)t[4] | (uint32_t)t[5] << 8 | (uint32_t)t[6] << 16 |
                   (uint32_t)t[7] << 24;
  if (crc != r->crc)
    return fer__fail(FER_ERR_CHECKSUM, "%s: CRC-32 of the gzip member at byte "
                     "%llu does not match its data (stored %08x, computed %08x)",
                     r->name, (unsigned long long)r->member_start, crc, r->crc);
  if (isize != r->size_mod)
    return fer__fail(FER_ERR_CHECKSUM, "%s: gzip member at byte %llu stores "
                     "size %u but holds %u bytes (mod 2^32)", r->name,
                     (unsigned long long)r->member_start, isize, r->size_mod);
  uint8_t b0, b1;
  uint64_t next = input_offset(r);
  if (!next_byte(r, &b0, &st)) {
    if (st != FER_OK) return st;
    r->state = GZ_END;
    return FER_OK;
  }
  if (b0 == 0x1F && next_byte(r, &b1, &st) && b1 == 0x8B) {
    r->member_start = next;
    r->state = GZ_HEADER;
    return FER_OK;
  }
  if (st != FER_OK) return st;
  if (b0 == 0) { /* padding that some tape and block writers add */
    uint8_t b = 0;
    while (next_byte(r, &b, &st))
      if (b != 0) break;
    if (st != FER_OK) return st;
    if (b == 0) {
      r->state = GZ_END;
      return FER_OK;
    }
  }
  return fer__fail(FER_ERR_FORMAT, "%s: data after the gzip member at byte "
                   "%llu is neither another member nor zero padding (byte %llu)",
                   r->name, (unsigned long long)r->member_start,
                   (unsigned long long)next);
}

/* Decodes more output into r->out; leaves out_len 0 only at the end. */
static fer_status refill_output(fer__gz_reader *r) {
  fer_status st;
  r->out_pos = r->out_len = 0;
  while (r->out_len == 0) {
    switch (r->state) {
      case GZ_FAILED:
        return fer__fail(r->failure, "%s: reading after an earlier error", r->name);
      case GZ_END:
        return FER_OK;
      case GZ_PLAIN: {
        if (!fill_input(r, &st)) {
          if (st != FER_OK) return fail(r, st);
          r->state = GZ_END;
          return FER_OK;
        }
        size_t n = FER__MIN(r->in_len - r->in_pos, (size_t)OUTPUT_SIZE);
        memcpy(r->out, r->in + r->in_pos, n);
        r->in_pos += n;
        r->out_len = n;
        break;
      }
      case GZ_HEADER:
        if ((st = read_header(r)) != FER_OK) return fail(r, st);
        r->state = GZ_BODY;
        break;
      case GZ_BODY: {
        /* At the end of the input the inflater may still hold output (or
         * the last bits of the stream): only no progress means truncation. */
        int more = fill_input(r, &st);
        if (st != FER_OK) return fail(r, st);
        size_t used, written;
        int finished;
        st = fer__inflater_step(r->inflater, r->in + r->in_pos,
                                r->in_len - r->in_pos, &used, r->out,
                                OUTPUT_SIZE, &written, &finished);
        r->in_pos += used;
        if (st != FER_OK) {
          char prefix[512];
          snprintf(prefix, sizeof prefix, "%s: gzip member at byte %llu",
                   r->name, (unsigned long long)r->member_start);
          return fail(r, fer__fail_prefix(st, prefix));
        }
        r->crc = fer__crc32(r->crc, r->out, written);
        r->size_mod += (uint32_t)written;
        r->out_len = written;
        if (finished) {
          r->state = GZ_TRAILER;
        } else if (!more && written == 0) {
          return fail(r, fer__fail(FER_ERR_TRUNCATED, "%s: file ends at byte "
                                   "%llu inside the compressed data of the "
                                   "gzip member at byte %llu", r->name,
                                   (unsigned long long)input_offset(r),
                                   (unsigned long long)r->member_start));
        }
        break;
      }
      case GZ_TRAILER:
        if ((st = read_trailer(r)) != FER_OK) return fail(r, st);
        break;
    }
  }
  return FER_OK;
}

/* ---- Public ----------------------------------------------------------------- */

static fer_status reader_create(const char *name, fer__gz_reader **out) {
  *out = NULL;
  fer__gz_reader *r = fer__calloc(1, sizeof *r);
  size_t name_len = strlen(name);
  if (r) r->name = fer__malloc(name_len + 1);
  if (r) r->out = fer__malloc(OUTPUT_SIZE);
  if (!r || !r->name || !r->out) {
    if (r) {
      fer__free(r->name);
      fer__free(r->out);
    }
    fer__free(r);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  }
  memcpy(r->name, name, name_len + 1);
  *out = r;
  return FER_OK;
}

/* Sniffs the magic and prepares the inflater for gzip data. */
static fer_status reader_start(fer__gz_reader *r) {
  fer_status st;
  if (!fill_input(r, &st) && st != FER_OK) return st;
  /* fread may return a single byte: make sure two are there to look at. */
  if (r->file && r->in_len - r->in_pos == 1 && !r->at_eof) {
    size_t n = fread(r->file_buffer + 1, 1, INPUT_SIZE - 1, r->file);
    r->in_len += n;
  }
  r->compressed = r->in_len - r->in_pos >= 2 && r->in[r->in_pos] == 0x1F &&
                  r->in[r->in_pos + 1] == 0x8B;
  r->state = GZ_PLAIN;
  if (!r->compressed) return FER_OK;
  r->in_pos += 2;
  r->state = GZ_HEADER;
  return fer__inflater_create(FER__INFLATE_RAW, &r->inflater);
}

fer_status fer__gz_reader_open(const char *path, fer__gz_reader **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "gz reader: out is NULL");
  *out = NULL;
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "gz reader: path is NULL");
  fer__gz_reader *r;
  fer_status st = reader_create(path, &r);
  if (st != FER_OK) return st;
  r->file_buffer = fer__malloc(INPUT_SIZE);
  if (!r->file_buffer) {
    fer__gz_reader_close(r);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  }
  r->in = r->file_buffer;
  st = fer__open_for_reading(path, &r->file, NULL);
  if (st != FER_OK) {
    fer__gz_reader_close(r);
    return st;
  }
  st = reader_start(r);
  if (st != FER_OK) {
    fer__gz_reader_close(r);
    return st;
  }
  *out = r;
  return FER_OK;
}

fer_status fer__gz_reader_open_memory(const uint8_t *data, size_t size,
                                      const char *name, fer__gz_reader **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "gz reader: out is NULL");
  *out = NULL;
  if (!data && size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "gz reader: data is NULL");
  fer__gz_reader *r;
  fer_status st = reader_create(name ? name : "(memory)", &r);
  if (st != FER_OK) return st;
  r->in = data;
  r->in_len = size;
  r->at_eof = 1;
  st = reader_start(r);
  if (st != FER_OK) {
    fer__gz_reader_close(r);
    return st;
  }
  *out = r;
  return FER_OK;
}

void fer__gz_reader_close(fer__gz_reader *r) {
  if (!r) return;
  if (r->file) fclose(r->file);
  fer__inflater_free(r->inflater);
  fer__free(r->file_buffer);
  fer__free(r->out);
  fer__free(r->line);
  fer__free(r->name);
  fer__free(r);
}

int fer__gz_reader_is_compressed(const fer__gz_reader *r) {
  return r ? r->compressed : 0;
}

fer_status fer__gz_reader_read(fer__gz_reader *r, void *buf, size_t n,
                               size_t *got) {
  *got = 0;
  uint8_t *dst = buf;
  while (*got < n) {
    if (r->out_pos == r->out_len) {
      fer_status st = refill_output(r);
      if (st != FER_OK) return st;
      if (r->out_len == 0) break;
    }
    size_t k = FER__MIN(n - *got, r->out_len - r->out_pos);
    memcpy(dst + *got, r->out + r->out_pos, k);
    r->out_pos += k;
    *got += k;
  }
  return FER_OK;
}

/* Room for `need` bytes in the line buffer. */
static fer_status line_reserve(fer__gz_reader *r, size_t need) {
  if (need <= r->line_cap) return FER_OK;
  size_t cap = r->line_cap ? r->line_cap : 256;
  while (cap < need) cap *= 2;
  char *grown = fer__realloc(r->line, cap);
  if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
  r->line = grown;
  r->line_cap = cap;
  return FER_OK;
}

static fer_status line_too_long(const fer__gz_reader *r, size_t max_len) {
  return fer__fail(FER_ERR_TOO_LARGE, "%s: line %llu is longer than %zu bytes",
                   r->name, (unsigned long long)r->line_number + 1, max_len);
}

fer_status fer__gz_reader_read_line(fer__gz_reader *r, size_t max_len,
                                    const char **line, size_t *len) {
  *line = NULL;
  *len = 0;
  /* One byte more than max_len may be a "\r" before the "\n". */
  size_t limit = max_len < SIZE_MAX - 2 ? max_len + 1 : SIZE_MAX - 2;
  size_t n = 0;
  int any = 0;
  fer_status st;
  for (;;) {
    if (r->out_pos == r->out_len) {
      if ((st = refill_output(r)) != FER_OK) return st;
      if (r->out_len == 0) break;
    }
    any = 1;
    const uint8_t *start = r->out + r->out_pos;
    size_t avail = r->out_len - r->out_pos;
    const uint8_t *nl = memchr(start, '\n', avail);
    size_t take = nl ? (size_t)(nl - start) : avail;
    if (take > limit - n) return line_too_long(r, max_len);
    if ((st = line_reserve(r, n + take + 1)) != FER_OK) return st;
    memcpy(r->line + n, start, take);
    n += take;
    r->out_pos += take + (nl ? 1 : 0);
    if (nl) break;
  }
  if (!any) return FER_OK;
  if (n > 0 && r->line[n - 1] == '\r') n--;
  if (n > max_len) return line_too_long(r, max_len);
  if ((st = line_reserve(r, n + 1)) != FER_OK) return st;
  r->line[n] = '\0';
  r->line_number++;
  *line = r->line;
  *len = n;
  return FER_OK;
}

fer_status fer__gzip_compress(const uint8_t *in, size_t size, int level,
                              fer__buf *out) {
  /* Magic, deflate, no flags, no time, no extra flags, OS "unknown". */
  static const uint8_t header[10] = {0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255};
  fer__buf_append(out, header, sizeof header);
  fer_status st = fer__deflate(in, size, level, out);
  if (st != FER_OK) return st;
  fer__buf_u32le(out, fer__crc32(0, in, size));
  fer__buf_u32le(out, (uint32_t)size);
  return fer__buf_status(out, "gzip");
}
