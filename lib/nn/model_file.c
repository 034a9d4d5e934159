/* Model files (docs/model-format.md): an 16-byte header, then sections of
 * tag, length, payload and CRC-32, little-endian whatever the host. The
 * loader checks every byte it relies on before using it. */
#include <math.h>
#include <string.h>

#include "nn/nn_internal.h"
#include "nn/quant.h"
#include "util/crc32.h"
#include "util/endian.h"
#include "util/file.h"

static const uint8_t file_magic[8] = {'F', 'E', 'R', 'M', 'O', 'D', 'E', 'L'};
#define FLAG_FLOAT16 1u
#define MAX_FILE_SIZE ((size_t)1 << 31)
#define MAX_ARCH_TEXT ((size_t)1 << 20)

int fer_model_format_version(void) { return FER__MODEL_FORMAT_VERSION; }

/* ---- Writing ---- */

/* Appends tag, length, payload (from `payload`) and the CRC of all three.
 * A payload that lost an append to a failed allocation fails `out` too:
 * its bytes are incomplete, and written out they would make a file with a
 * valid CRC that does not load. */
static void put_section(fer__buf *out, const char tag[4], const fer__buf *payload) {
  if (payload->failed) out->failed = 1;
  size_t start = out->size;
  fer__buf_append(out, tag, 4);
  fer__buf_u32le(out, (uint32_t)payload->size);
  fer__buf_append(out, payload->data, payload->size);
  if (out->failed) return;
  fer__buf_u32le(out, fer__crc32(0, out->data + start, out->size - start));
}

static fer_status encode(const fer_model *m, unsigned flags, fer__buf *out) {
  fer__buf p;
  fer__buf_append(out, file_magic, 8);
  /* The lowest version that holds the model: 4 for a quantisation, 3
   * for a graph, 2 for a NORM section. */
  const int has_norm = m->norm_flags != 0 || m->norm_sharpness > 0.0f;
  const int has_quant = m->quant != NULL;
  fer__buf_u32le(out, has_quant ? 4u : !fer__model_is_chain(m) ? 3u : has_norm ? 2u : 1u);
  fer__buf_u32le(out, flags & FER_SAVE_FLOAT16 ? FLAG_FLOAT16 : 0u);

  fer__buf_init(&p);
  fer__model_text(m, &p);
  put_section(out, "ARCH", &p);
  fer__buf_release(&p);

  fer__buf_init(&p);
  for (int i = 0; i < m->num_layers; i++) {
    const fer__layer *l = &m->layers[i];
    for (int k = 0; k < FER__TENSORS; k++) {
      int half = (flags & FER_SAVE_FLOAT16) && k < FER__TRAINABLE_TENSORS;
      for (size_t j = 0; j < l->tensor_size[k]; j++) {
        if (half) fer__buf_u16le(&p, fer__f32_to_f16(l->tensor[k][j]));
        else fer__buf_f32le(&p, l->tensor[k][j]);
      }
    }
  }
  put_section(out, "TENS", &p);
  fer__buf_release(&p);

  fer__buf_init(&p);
  fer__buf_f32le(&p, m->pre_scale);
  fer__buf_f32le(&p, m->pre_mean);
  fer__buf_f32le(&p, m->pre_std);
  put_section(out, "PREP", &p);
  fer__buf_release(&p);

  if (has_norm) {
    fer__buf_init(&p);
    fer__buf_u32le(&p, m->norm_flags);
    fer__buf_f32le(&p, m->norm_sharpness);
    put_section(out, "NORM", &p);
    fer__buf_release(&p);
  }

  if (m->class_names) {
    fer__buf_init(&p);
    fer__buf_u32le(&p, (uint32_t)m->num_class_names);
    for (int i = 0; i < m->num_class_names; i++) {
      size_t n = strlen(m->class_names[i]);
      fer__buf_u16le(&p, (uint16_t)n);
      fer__buf_append(&p, m->class_names[i], n);
    }
    put_section(out, "CLAS", &p);
    fer__buf_release(&p);
  }

  if (has_quant) {
    fer__buf_init(&p);
    const int count = fer__quant_count(m);
    fer__buf_u32le(&p, (uint32_t)count);
    for (int j = 0; j < count; j++) {
      fer__qparams q;
      fer__quant_params_at(m, j, &q);
      fer__buf_u32le(&p, (uint32_t)q.first);
      fer__buf_u32le(&p, (uint32_t)q.last);
      fer__buf_f32le(&p, q.in_scale);
      fer__buf_u32le(&p, (uint32_t)q.zero_point);
    }
    put_section(out, "QUNT", &p);
    fer__buf_release(&p);
  }

  fer__buf_init(&p);
  fer__buf_u32le(&p, (uint32_t)m->num_metadata);
  for (int i = 0; i < m->num_metadata; i++) {
    size_t kn = strlen(m->metadata[i].key), vn = strlen(m->metadata[i].value);
    fer__buf_u16le(&p, (uint16_t)kn);
    fer__buf_append(&p, m->metadata[i].key, kn);
    fer__buf_u32le(&p, (uint32_t)vn);
    fer__buf_append(&p, m->metadata[i].value, vn);
  }
  put_section(out, "META", &p);
  fer__buf_release(&p);

  fer__buf_init(&p);
  put_section(out, "END ", &p);
  return fer__buf_status(out, "model file");
}

fer_status fer_model_save_memory(const fer_model *m, unsigned flags,
                                 void **out_data, size_t *out_size) {
  if (!out_data || !out_size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_save_memory: out is NULL");
  *out_data = NULL;
  *out_size = 0;
  fer_status st = fer__model_check(m, "fer_model_save_memory");
  if (st) return st;
  if (flags & ~FER_SAVE_FLOAT16)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_save: unknown flags 0x%x",
                     flags);
  fer__buf b;
  fer__buf_init(&b);
  if ((st = encode(m, flags, &b))) {
    fer__buf_release(&b);
    return st;
  }
  *out_data = b.data;
  *out_size = b.size;
  return FER_OK;
}

fer_status fer_model_save(const fer_model *m, const char *path, unsigned flags) {
  void *data;
  size_t size;
  fer_status st = fer_model_save_memory(m, flags, &data, &size);
  if (st) return st;
  st = fer__write_file_atomic(path, data, size);
  fer_free(data);
  return st;
}

/* ---- Reading ---- */

typedef struct reader {
  const uint8_t *data;
  size_t size;
  const char *name; /* for messages */
} reader;

static fer_status truncated(const reader *r, size_t at, size_t need) {
  return fer__fail(FER_ERR_TRUNCATED,
                   "%s: truncated at byte %zu (expected %zu more)", r->name,
                   r->size, at + need - r->size);
}

/* Cursor inside one section's payload. */
typedef struct cursor {
  const uint8_t *p;
  size_t left, offset; /* offset in the file, for messages */
} cursor;

static int take(cursor *c, size_t n, const uint8_t **out) {
  if (c->left < n) return 0;
  *out = c->p;
  c->p += n;
  c->left -= n;
  c->offset += n;
  return 1;
}

static fer_status bad(const reader *r, size_t at, const char *what) {
  return fer__fail(FER_ERR_FORMAT, "%s: byte %zu: %s", r->name, at, what);
}

static char *copy_text(const uint8_t *p, size_t n) {
  char *s = fer__malloc(n + 1);
  if (!s) return NULL;
  memcpy(s, p, n);
  s[n] = '\0';
  return s;
}

static int clean_text(const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i] < 0x20 || p[i] == 0x7f) return 0;
  return 1;
}

static fer_status read_arch(const reader *r, cursor *c, fer_model **out) {
  if (c->left > MAX_ARCH_TEXT) return bad(r, c->offset, "architecture text over 1 MiB");
  if (memchr(c->p, '\0', c->left)) return bad(r, c->offset, "NUL in architecture text");
  char *text = copy_text(c->p, c->left);
  if (!text) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
  fer_status st = fer_model_from_text(text, out);
  fer__free(text);
  if (st) return fer__fail_prefix(st, r->name);
  return FER_OK;
}

static fer_status read_tensors(const reader *r, cursor *c, fer_model *m, int half) {
  size_t need = 0;
  for (int i = 0; i < m->num_layers; i++)
    for (int k = 0; k < FER__TENSORS; k++)
      need += m->layers[i].tensor_size[k] *
              (half && k < FER__TRAINABLE_TENSORS ? 2 : 4);
  if (c->left != need)
    return fer__fail(FER_ERR_FORMAT,
                     "%s: byte %zu: weights take %zu bytes, the architecture needs %zu",
                     r->name, c->offset, c->left, need);
  for (int i = 0; i < m->num_layers; i++) {
    fer__layer *l = &m->layers[i];
    for (int k = 0; k < FER__TENSORS; k++) {
      int h = half && k < FER__TRAINABLE_TENSORS;
      for (size_t j = 0; j < l->tensor_size[k]; j++) {
        float v = h ? fer__f16_to_f32(fer__get_u16le(c->p + 2 * j))
                    : fer__get_f32le(c->p + 4 * j);
        if (!isfinite(v))
          return fer__fail(FER_ERR_FORMAT,
                           "%s: byte %zu: weight %zu of layer %d is not finite",
                           r->name, c->offset + (h ? 2 : 4) * j, j, i);
        if (k == 3 && v < 0.0f)
          return fer__fail(FER_ERR_FORMAT,
                           "%s: byte %zu: negative running variance in layer %d",
                           r->name, c->offset + 4 * j, i);
        l->tensor[k][j] = v;
      }
      size_t bytes = l->tensor_size[k] * (h ? 2 : 4);
      c->p += bytes;
      c->left -= bytes;
      c->offset += bytes;
    }
  }
  return FER_OK;
}

static fer_status read_prep(const reader *r, cursor *c, fer_model *m) {
  if (c->left != 12) return bad(r, c->offset, "preprocessing is not 12 bytes");
  float s = fer__get_f32le(c->p), mean = fer__get_f32le(c->p + 4),
        std = fer__get_f32le(c->p + 8);
  if (fer_model_set_preprocessing(m, s, mean, std))
    return bad(r, c->offset, "preprocessing values are not finite or std is 0");
  return FER_OK;
}

static fer_status read_norm(const reader *r, cursor *c, fer_model *m) {
  if (c->left != 8) return bad(r, c->offset, "image normalisation is not 8 bytes");
  if (fer_model_set_image_normalization(m, fer__get_u32le(c->p),
                                        fer__get_f32le(c->p + 4)))
    return bad(r, c->offset, "image normalisation has unknown flags or a bad "
               "sharpness limit");
  return FER_OK;
}

static fer_status read_classes(const reader *r, cursor *c, fer_model *m) {
  const uint8_t *p;
  if (!take(c, 4, &p)) return bad(r, c->offset, "class count missing");
  uint32_t n = fer__get_u32le(p);
  if (n != (uint32_t)fer_model_output_size(m))
    return fer__fail(FER_ERR_FORMAT, "%s: byte %zu: %u class names for %d outputs",
                     r->name, c->offset - 4, (unsigned)n, fer_model_output_size(m));
  char **names = fer__calloc(n, sizeof *names);
  if (!names) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
  fer_status st = FER_OK;
  for (uint32_t i = 0; i < n && !st; i++) {
    const uint8_t *len, *text;
    if (!take(c, 2, &len) || !take(c, fer__get_u16le(len), &text)) {
      st = bad(r, c->offset, "class name runs past its section");
      break;
    }
    size_t k = fer__get_u16le(len);
    if (k == 0 || k > 255 || !clean_text(text, k)) {
      st = bad(r, c->offset - k, "class name is empty, too long or has control characters");
      break;
    }
    names[i] = copy_text(text, k);
    if (!names[i]) st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
  }
  if (!st && c->left) st = bad(r, c->offset, "bytes after the class names");
  if (!st) st = fer_model_set_class_names(m, (const char *const *)names, (int)n);
  for (uint32_t i = 0; i < n; i++) fer__free(names[i]);
  fer__free(names);
  return st;
}

static fer_status read_metadata(const reader *r, cursor *c, fer_model *m) {
  const uint8_t *p;
  if (!take(c, 4, &p)) return bad(r, c->offset, "metadata count missing");
  uint32_t n = fer__get_u32le(p);
  if (n > 4096) return bad(r, c->offset - 4, "more than 4096 metadata entries");
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *kl, *key, *vl, *value;
    if (!take(c, 2, &kl) || !take(c, fer__get_u16le(kl), &key) ||
        !take(c, 4, &vl) || !take(c, fer__get_u32le(vl), &value))
      return bad(r, c->offset, "metadata entry runs past its section");
    size_t kn = fer__get_u16le(kl), vn = fer__get_u32le(vl);
    if (kn == 0 || kn > 255 || !clean_text(key, kn) || vn > 65535 ||
        memchr(value, '\0', vn))
      return bad(r, c->offset, "metadata key or value is malformed");
    char *k = copy_text(key, kn), *v = copy_text(value, vn);
    fer_status st = k && v ? fer_model_set_metadata(m, k, v)
                           : fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
    fer__free(k);
    fer__free(v);
    if (st) return st;
  }
  if (c->left) return bad(r, c->offset, "bytes after the metadata");
  return FER_OK;
}

/* The QUNT section: u32 count, then per quantised layer u32 first and
 * last model layer, f32 input step, u32 zero point. Read once the weights
 * are in, since the int8 weights derive from them. */
#define QUNT_ENTRY 16

static fer_status read_quant(const reader *r, cursor *c, fer_model *m) {
  const uint8_t *p;
  if (!take(c, 4, &p)) return bad(r, c->offset, "quantised layer count missing");
  const uint32_t n = fer__get_u32le(p);
  if (n < 1 || n > (uint32_t)m->num_layers)
    return fer__fail(FER_ERR_FORMAT, "%s: byte %zu: %u quantised layers in a "
                     "model of %d layers", r->name, c->offset - 4, (unsigned)n,
                     m->num_layers);
  if (c->left != (size_t)n * QUNT_ENTRY)
    return fer__fail(FER_ERR_FORMAT, "%s: byte %zu: %zu bytes for %u quantised "
                     "layers of %d bytes", r->name, c->offset, c->left,
                     (unsigned)n, QUNT_ENTRY);
  fer__qparams *q = fer__malloc((size_t)n * sizeof *q);
  if (!q) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
  const size_t start = c->offset;
  for (uint32_t j = 0; j < n; j++) {
    take(c, QUNT_ENTRY, &p);
    /* Indices past INT_MAX become -1, which the check refuses. */
    const uint32_t first = fer__get_u32le(p), last = fer__get_u32le(p + 4),
                   zero = fer__get_u32le(p + 12);
    q[j].first = first > (uint32_t)m->num_layers ? -1 : (int)first;
    q[j].last = last > (uint32_t)m->num_layers ? -1 : (int)last;
    q[j].in_scale = fer__get_f32le(p + 8);
    q[j].zero_point = zero > 255 ? -1 : (int)zero;
  }
  fer_status st = FER_OK;
  for (uint32_t j = 0; j < n && !st; j++) {
    const char *why = fer__quant_check(m, q, (int)j + 1);
    if (why)
      st = fer__fail(FER_ERR_FORMAT, "%s: byte %zu: quantised layer %u: %s",
                     r->name, start + (size_t)j * QUNT_ENTRY, (unsigned)j, why);
  }
  if (!st) st = fer__model_set_quant(m, q, (int)n);
  fer__free(q);
  return st;
}

static fer_status load_buffer(const uint8_t *data, size_t size, const char *name,
                              fer_model **out) {
  reader r = {data, size, name};
  if (size < 16) {
    if (size >= 8 && memcmp(data, file_magic, 8) != 0)
      return fer__fail(FER_ERR_FORMAT, "%s: not a libfer model file", name);
    return truncated(&r, 0, 16);
  }
  if (memcmp(data, file_magic, 8) != 0)
    return fer__fail(FER_ERR_FORMAT, "%s: not a libfer model file (bad magic)", name);
  uint32_t version = fer__get_u32le(data + 8), flags = fer__get_u32le(data + 12);
  if (version > FER__MODEL_FORMAT_VERSION)
    return fer__fail(FER_ERR_VERSION,
                     "%s: format version %u is newer than this libfer reads (%d)",
                     name, (unsigned)version, FER__MODEL_FORMAT_VERSION);
  if (version == 0) return bad(&r, 8, "format version 0");
  if (flags & ~FLAG_FLOAT16) return bad(&r, 12, "unknown flags");
  fer_model *m = NULL;
  fer_status st = FER_OK;
  int seen_tens = 0, seen_prep = 0, seen_norm = 0, seen_clas = 0, seen_meta = 0, ended = 0;
  cursor quant = {NULL, 0, 0};
  size_t at = 16;
  while (!st && !ended) {
    if (size - at < 8) {
      st = truncated(&r, at, 8);
      break;
    }
    const uint8_t *tag = data + at;
    uint32_t len = fer__get_u32le(data + at + 4);
    if ((uint64_t)len + 12 > size - at) {
      st = truncated(&r, at, (size_t)len + 12);
      break;
    }
    uint32_t crc = fer__get_u32le(data + at + 8 + len);
    if (fer__crc32(0, data + at, (size_t)len + 8) != crc) {
      st = fer__fail(FER_ERR_CHECKSUM, "%s: byte %zu: section '%.4s' fails its CRC-32",
                     name, at, (const char *)tag);
      break;
    }
    cursor c = {data + at + 8, len, at + 8};
    if (!memcmp(tag, "ARCH", 4)) {
      st = m ? bad(&r, at, "second ARCH section") : read_arch(&r, &c, &m);
      if (!st && version < 3 && !fer__model_is_chain(m))
        st = bad(&r, at + 8, "a graph architecture needs format version 3");
    } else if (!m) {
      st = bad(&r, at, "the first section is not ARCH");
    } else if (!memcmp(tag, "TENS", 4)) {
      st = seen_tens++ ? bad(&r, at, "second TENS section")
                       : read_tensors(&r, &c, m, (flags & FLAG_FLOAT16) != 0);
    } else if (!memcmp(tag, "PREP", 4)) {
      st = seen_prep++ ? bad(&r, at, "second PREP section") : read_prep(&r, &c, m);
    } else if (!memcmp(tag, "NORM", 4) && version >= 2) {
      st = seen_norm++ ? bad(&r, at, "second NORM section") : read_norm(&r, &c, m);
    } else if (!memcmp(tag, "QUNT", 4) && version >= 4) {
      if (quant.p) st = bad(&r, at, "second QUNT section");
      quant = c;
    } else if (!memcmp(tag, "CLAS", 4)) {
      st = seen_clas++ ? bad(&r, at, "second CLAS section") : read_classes(&r, &c, m);
    } else if (!memcmp(tag, "META", 4)) {
      st = seen_meta++ ? bad(&r, at, "second META section") : read_metadata(&r, &c, m);
    } else if (!memcmp(tag, "END ", 4)) {
      if (len) st = bad(&r, at, "END section is not empty");
      ended = 1;
    } else {
      st = fer__fail(FER_ERR_FORMAT, "%s: byte %zu: unknown section '%.4s'", name,
                     at, (const char *)tag);
    }
    at += (size_t)len + 12;
  }
  if (!st && !seen_tens) st = bad(&r, at, "no TENS (weights) section");
  if (!st && at != size) st = bad(&r, at, "bytes after the END section");
  if (!st && quant.p) st = read_quant(&r, &quant, m);
  if (st) {
    fer_model_free(m);
    return st;
  }
  *out = m;
  return FER_OK;
}

fer_status fer_model_load_memory(const void *data, size_t size, fer_model **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_load_memory: out is NULL");
  *out = NULL;
  if (!data && size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_load_memory: data is NULL");
  return load_buffer(data, size, "model", out);
}

fer_status fer_model_load(const char *path, fer_model **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_load: out is NULL");
  *out = NULL;
  uint8_t *data;
  size_t size;
  fer_status st = fer__read_file(path, MAX_FILE_SIZE, &data, &size);
  if (st) return st;
  st = load_buffer(data, size, path, out);
  fer__free(data);
  return st;
}
