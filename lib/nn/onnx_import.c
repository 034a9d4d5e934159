/* ONNX import (docs/onnx.md): a ModelProto whose graph is a chain of the
 * operators libfer's layers express becomes a libfer model. Every length,
 * count and value is checked before use; anything else is refused with a
 * message that names the first node libfer cannot express. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "nn/nn_internal.h"
#include "nn/onnx.h"
#include "util/decimal.h"
#include "util/file.h"
#include "util/protobuf.h"

#define MAX_FILE_SIZE ((size_t)1 << 31)
#define MAX_NODES (8 * FER_MODEL_MAX_LAYERS)
#define MAX_TENSORS 65536
#define MAX_DIMS 8
#define MAX_IO 8
#define MAX_ATTRS 32

typedef struct span {
  const uint8_t *p;
  size_t n;
} span;

static int span_is(span s, const char *text) {
  size_t n = strlen(text);
  return s.n == n && (n == 0 || memcmp(s.p, text, n) == 0);
}
/* A NUL byte inside (names and values of metadata must have none). */
static int span_has_nul(span s) { return s.n && memchr(s.p, 0, s.n) != NULL; }
static int span_eq(span a, span b) {
  return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}
/* For messages: at most 64 bytes of a name, non-printing bytes as '?'. */
static const char *show(span s, char buf[72]) {
  size_t n = s.n < 64 ? s.n : 64;
  for (size_t i = 0; i < n; i++)
    buf[i] = s.p[i] >= 32 && s.p[i] < 127 ? (char)s.p[i] : '?';
  snprintf(buf + n, 8, "%s", s.n > 64 ? "..." : "");
  return buf;
}

/* A TensorProto, its data not copied. */
typedef struct tensor {
  span name;
  int64_t dims[MAX_DIMS];
  int ndims;
  int data_type;
  span raw;     /* raw_data, or the packed float_data / int64_data */
  int packed;   /* raw holds packed varints (int64_data) */
  long count;   /* product of dims */
} tensor;

typedef struct node {
  span input[MAX_IO], output[MAX_IO], name, op, domain;
  int n_input, n_output;
  span attr[MAX_ATTRS];
  int n_attr;
} node;

typedef struct importer {
  const char *what; /* file name or "ONNX model", for messages */
  int opset;
  tensor *tensors;
  int n_tensors, tensor_cap;
  span input_name;
  int64_t input_dims[4];
  int input_rank;
  span output_name;
  int n_outputs;
  span *nodes;
  int n_nodes;
  span meta_key[64], meta_value[64];
  int n_meta;
} importer;

static fer_status malformed(const importer *im, const char *where) {
  return fer__fail(FER_ERR_FORMAT, "%s: malformed protobuf in %s", im->what,
                   where);
}

/* Iterates one repeated int64 field that may be packed or not. Calls
 * add(ctx, v) for each value; -1 when malformed. */
static int read_ints(const fer__pb_field *f, int64_t *out, int max, int *count) {
  if (f->wire == FER__PB_VARINT) {
    if (*count >= max) return -1;
    out[(*count)++] = (int64_t)f->value;
    return 0;
  }
  if (f->wire != FER__PB_LEN) return -1;
  const uint8_t *p = f->data, *end = f->data + f->len;
  while (p < end) {
    uint64_t v;
    if (fer__pb_read_varint(&p, end, &v) || *count >= max) return -1;
    out[(*count)++] = (int64_t)v;
  }
  return 0;
}

static fer_status parse_tensor(const importer *im, span bytes, tensor *t) {
  memset(t, 0, sizeof *t);
  fer__pb_reader r;
  fer__pb_field f;
  fer__pb_reader_init(&r, bytes.p, bytes.n);
  int got, external = 0;
  while ((got = fer__pb_next(&r, &f)) == 1) {
    switch (f.number) {
      case ONNX_TENSOR_DIMS:
        if (read_ints(&f, t->dims, MAX_DIMS, &t->ndims)) return malformed(im, "a tensor's dims (or more than 8)");
        break;
      case ONNX_TENSOR_DATA_TYPE:
        if (f.wire != FER__PB_VARINT) return malformed(im, "a tensor's data type");
        t->data_type = (int)(f.value & 0xffff);
        break;
      case ONNX_TENSOR_NAME:
        if (f.wire != FER__PB_LEN) return malformed(im, "a tensor's name");
        t->name = (span){f.data, f.len};
        break;
      case ONNX_TENSOR_RAW_DATA:
      case ONNX_TENSOR_FLOAT_DATA:
      case ONNX_TENSOR_INT64_DATA:
        if (f.wire != FER__PB_LEN)
          return fer__fail(FER_ERR_UNSUPPORTED,
                           "%s: a tensor's values are stored unpacked", im->what);
        t->raw = (span){f.data, f.len};
        t->packed = f.number == ONNX_TENSOR_INT64_DATA;
        break;
      case ONNX_TENSOR_DATA_LOCATION:
        external = f.value != 0;
        break;
      default:
        break;
    }
  }
  if (got < 0) return malformed(im, "a tensor");
  char nb[72];
  if (external)
    return fer__fail(FER_ERR_UNSUPPORTED, "%s: tensor '%s' has external data",
                     im->what, show(t->name, nb));
  long count = 1;
  for (int i = 0; i < t->ndims; i++) {
    if (t->dims[i] < 0 || t->dims[i] > FER_MODEL_MAX_PARAMS)
      return fer__fail(FER_ERR_FORMAT, "%s: tensor '%s' has dimension %lld",
                       im->what, show(t->name, nb), (long long)t->dims[i]);
    count *= (long)t->dims[i];
    if (count > FER_MODEL_MAX_PARAMS)
      return fer__fail(FER_ERR_TOO_LARGE, "%s: tensor '%s' is beyond %ld values",
                       im->what, show(t->name, nb), (long)FER_MODEL_MAX_PARAMS);
  }
  t->count = count;
  return FER_OK;
}

static fer_status add_tensor(importer *im, span bytes) {
  if (im->n_tensors == im->tensor_cap) {
    if (im->tensor_cap >= MAX_TENSORS)
      return fer__fail(FER_ERR_TOO_LARGE, "%s: more than %d tensors", im->what,
                       MAX_TENSORS);
    int cap = im->tensor_cap ? im->tensor_cap * 2 : 64;
    tensor *grown = fer__realloc(im->tensors, (size_t)cap * sizeof *grown);
    if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", im->what);
    im->tensors = grown;
    im->tensor_cap = cap;
  }
  fer_status st = parse_tensor(im, bytes, &im->tensors[im->n_tensors]);
  if (!st) im->n_tensors++;
  return st;
}

static const tensor *find_tensor(const importer *im, span name) {
  for (int i = im->n_tensors - 1; i >= 0; i--)
    if (span_eq(im->tensors[i].name, name)) return &im->tensors[i];
  return NULL;
}

/* A ValueInfoProto's name and (for the input) its dimensions. */
static fer_status parse_value_info(importer *im, span bytes, span *name,
                                   int64_t *dims, int *rank) {
  fer__pb_reader r, rt, rtt, rs, rd;
  fer__pb_field f, g, h, k, d;
  int got;
  *rank = 0;
  fer__pb_reader_init(&r, bytes.p, bytes.n);
  while ((got = fer__pb_next(&r, &f)) == 1) {
    if (f.number == ONNX_VALUE_NAME && f.wire == FER__PB_LEN) *name = (span){f.data, f.len};
    if (f.number != ONNX_VALUE_TYPE || f.wire != FER__PB_LEN || !dims) continue;
    fer__pb_reader_init(&rt, f.data, f.len);
    while ((got = fer__pb_next(&rt, &g)) == 1) {
      if (g.number != ONNX_TYPE_TENSOR || g.wire != FER__PB_LEN) continue;
      fer__pb_reader_init(&rtt, g.data, g.len);
      while ((got = fer__pb_next(&rtt, &h)) == 1) {
        if (h.number == ONNX_TTYPE_ELEM_TYPE && h.value != ONNX_FLOAT)
          return fer__fail(FER_ERR_UNSUPPORTED,
                           "%s: the graph input is not float32 (type %llu)",
                           im->what, (unsigned long long)h.value);
        if (h.number != ONNX_TTYPE_SHAPE || h.wire != FER__PB_LEN) continue;
        fer__pb_reader_init(&rs, h.data, h.len);
        while ((got = fer__pb_next(&rs, &k)) == 1) {
          if (k.number != ONNX_SHAPE_DIM || k.wire != FER__PB_LEN) continue;
          if (*rank >= 4)
            return fer__fail(FER_ERR_UNSUPPORTED,
                             "%s: the graph input has more than 4 dimensions",
                             im->what);
          int64_t value = -1; /* symbolic */
          fer__pb_reader_init(&rd, k.data, k.len);
          while ((got = fer__pb_next(&rd, &d)) == 1)
            if (d.number == ONNX_DIM_VALUE && d.wire == FER__PB_VARINT)
              value = (int64_t)d.value;
          if (got < 0) return malformed(im, "a dimension");
          dims[(*rank)++] = value;
        }
        if (got < 0) return malformed(im, "a shape");
      }
      if (got < 0) return malformed(im, "a tensor type");
    }
    if (got < 0) return malformed(im, "a type");
  }
  if (got < 0) return malformed(im, "a value info");
  return FER_OK;
}

static fer_status parse_graph(importer *im, span bytes) {
  fer__pb_reader r;
  fer__pb_field f;
  int got;
  /* Count the nodes first, then keep their byte ranges. */
  int nodes = 0;
  fer__pb_reader_init(&r, bytes.p, bytes.n);
  while ((got = fer__pb_next(&r, &f)) == 1)
    if (f.number == ONNX_GRAPH_NODE) nodes++;
  if (got < 0) return malformed(im, "the graph");
  if (nodes > MAX_NODES)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: %d nodes, more than %d", im->what,
                     nodes, MAX_NODES);
  im->nodes = fer__calloc((size_t)nodes + 1, sizeof *im->nodes);
  if (!im->nodes) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", im->what);
  fer__pb_reader_init(&r, bytes.p, bytes.n);
  fer_status st;
  int have_input = 0;
  while ((got = fer__pb_next(&r, &f)) == 1) {
    if (f.wire != FER__PB_LEN) continue;
    span s = {f.data, f.len};
    if (f.number == ONNX_GRAPH_NODE) {
      im->nodes[im->n_nodes++] = s;
    } else if (f.number == ONNX_GRAPH_INITIALIZER) {
      if ((st = add_tensor(im, s))) return st;
    } else if (f.number == ONNX_GRAPH_OUTPUT) {
      span name = {NULL, 0};
      int rank;
      if ((st = parse_value_info(im, s, &name, NULL, &rank))) return st;
      if (im->n_outputs++ == 0) im->output_name = name;
    }
  }
  /* Inputs after the initializers are known: an input that is also an
   * initializer is a weight (IR version 3 files list them). */
  fer__pb_reader_init(&r, bytes.p, bytes.n);
  while ((got = fer__pb_next(&r, &f)) == 1) {
    if (f.number != ONNX_GRAPH_INPUT || f.wire != FER__PB_LEN) continue;
    span name = {NULL, 0};
    int64_t dims[4];
    int rank;
    if ((st = parse_value_info(im, (span){f.data, f.len}, &name, dims, &rank)))
      return st;
    if (find_tensor(im, name)) continue;
    if (have_input++)
      return fer__fail(FER_ERR_UNSUPPORTED, "%s: the graph has more than one input",
                       im->what);
    im->input_name = name;
    memcpy(im->input_dims, dims, sizeof dims);
    im->input_rank = rank;
  }
  if (!have_input)
    return fer__fail(FER_ERR_FORMAT, "%s: the graph has no input", im->what);
  if (im->n_outputs != 1)
    return fer__fail(FER_ERR_UNSUPPORTED, "%s: the graph has %d outputs, not 1",
                     im->what, im->n_outputs);
  return FER_OK;
}

static fer_status parse_model(importer *im, const uint8_t *data, size_t size) {
  fer__pb_reader r;
  fer__pb_field f;
  int got;
  span graph = {NULL, 0};
  int have_graph = 0;
  im->opset = -1;
  fer__pb_reader_init(&r, data, size);
  while ((got = fer__pb_next(&r, &f)) == 1) {
    if (f.number == ONNX_MODEL_GRAPH && f.wire == FER__PB_LEN) {
      graph = (span){f.data, f.len};
      have_graph = 1;
    } else if (f.number == ONNX_MODEL_OPSET_IMPORT && f.wire == FER__PB_LEN) {
      fer__pb_reader o;
      fer__pb_field g;
      span domain = {NULL, 0};
      int64_t version = -1;
      fer__pb_reader_init(&o, f.data, f.len);
      while ((got = fer__pb_next(&o, &g)) == 1) {
        if (g.number == ONNX_OPSET_DOMAIN && g.wire == FER__PB_LEN) domain = (span){g.data, g.len};
        if (g.number == ONNX_OPSET_VERSION && g.wire == FER__PB_VARINT) version = (int64_t)g.value;
      }
      if (got < 0) return malformed(im, "an opset import");
      if ((span_is(domain, "") || span_is(domain, "ai.onnx")) && version >= 0)
        im->opset = version > 1000 ? 1000 : (int)version;
    } else if (f.number == ONNX_MODEL_METADATA_PROPS && f.wire == FER__PB_LEN &&
               im->n_meta < 64) {
      fer__pb_reader e;
      fer__pb_field g;
      span k = {NULL, 0}, v = {NULL, 0};
      fer__pb_reader_init(&e, f.data, f.len);
      while ((got = fer__pb_next(&e, &g)) == 1) {
        if (g.number == ONNX_ENTRY_KEY && g.wire == FER__PB_LEN) k = (span){g.data, g.len};
        if (g.number == ONNX_ENTRY_VALUE && g.wire == FER__PB_LEN) v = (span){g.data, g.len};
      }
      if (got < 0) return malformed(im, "a metadata entry");
      im->meta_key[im->n_meta] = k;
      im->meta_value[im->n_meta++] = v;
    }
  }
  if (got < 0)
    return fer__fail(FER_ERR_FORMAT, "%s: not an ONNX model (malformed protobuf at byte %zu)",
                     im->what, fer__pb_offset(&r));
  if (!have_graph)
    return fer__fail(FER_ERR_FORMAT, "%s: not an ONNX model (no graph)", im->what);
  if (im->opset < 0)
    return fer__fail(FER_ERR_FORMAT, "%s: no opset for the ONNX domain", im->what);
  if (im->opset < 7)
    return fer__fail(FER_ERR_UNSUPPORTED, "%s: opset %d is older than 7", im->what,
                     im->opset);
  return parse_graph(im, graph);
}

/* ---- Nodes ---- */

static fer_status parse_node(const importer *im, span bytes, node *n) {
  memset(n, 0, sizeof *n);
  fer__pb_reader r;
  fer__pb_field f;
  int got;
  fer__pb_reader_init(&r, bytes.p, bytes.n);
  while ((got = fer__pb_next(&r, &f)) == 1) {
    if (f.wire != FER__PB_LEN) continue;
    span s = {f.data, f.len};
    switch (f.number) {
      case ONNX_NODE_INPUT:
        if (n->n_input == MAX_IO) return malformed(im, "a node (too many inputs)");
        n->input[n->n_input++] = s;
        break;
      case ONNX_NODE_OUTPUT:
        if (n->n_output == MAX_IO) return malformed(im, "a node (too many outputs)");
        n->output[n->n_output++] = s;
        break;
      case ONNX_NODE_NAME: n->name = s; break;
      case ONNX_NODE_OP_TYPE: n->op = s; break;
      case ONNX_NODE_DOMAIN: n->domain = s; break;
      case ONNX_NODE_ATTRIBUTE:
        if (n->n_attr == MAX_ATTRS) return malformed(im, "a node (too many attributes)");
        n->attr[n->n_attr++] = s;
        break;
      default: break;
    }
  }
  if (got < 0) return malformed(im, "a node");
  if (n->n_output < 1) return malformed(im, "a node (no output)");
  return FER_OK;
}

typedef struct attr {
  int found;
  int64_t i;
  float f;
  int64_t ints[MAX_DIMS];
  int n_ints;
  span s, t;
} attr;

/* 0 when absent, 1 found, -1 malformed. */
static int get_attr(const node *n, const char *name, attr *a) {
  memset(a, 0, sizeof *a);
  for (int k = 0; k < n->n_attr; k++) {
    fer__pb_reader r;
    fer__pb_field f;
    int got;
    span this_name = {NULL, 0};
    fer__pb_reader_init(&r, n->attr[k].p, n->attr[k].n);
    while ((got = fer__pb_next(&r, &f)) == 1)
      if (f.number == ONNX_ATTR_NAME && f.wire == FER__PB_LEN) this_name = (span){f.data, f.len};
    if (got < 0) return -1;
    if (!span_is(this_name, name)) continue;
    fer__pb_reader_init(&r, n->attr[k].p, n->attr[k].n);
    while ((got = fer__pb_next(&r, &f)) == 1) {
      if (f.number == ONNX_ATTR_I && f.wire == FER__PB_VARINT) a->i = (int64_t)f.value;
      if (f.number == ONNX_ATTR_F && f.wire == FER__PB_FIXED32) {
        uint32_t bits = (uint32_t)f.value;
        memcpy(&a->f, &bits, 4);
      }
      if (f.number == ONNX_ATTR_S && f.wire == FER__PB_LEN) a->s = (span){f.data, f.len};
      if (f.number == ONNX_ATTR_T && f.wire == FER__PB_LEN) a->t = (span){f.data, f.len};
      if (f.number == ONNX_ATTR_INTS && read_ints(&f, a->ints, MAX_DIMS, &a->n_ints)) return -1;
    }
    a->found = 1;
    return 1;
  }
  return 0;
}

typedef struct value {
  span name;
  int src, rank, pad;
} value;

static const value *find_value(const value *vals, int n, span name) {
  for (int i = n - 1; i >= 0; i--)
    if (span_eq(vals[i].name, name)) return &vals[i];
  return NULL;
}

typedef struct walk {
  importer *im;
  fer_model *m;
  const node *n;
  int src;  /* the layer (or FER__SRC_INPUT) whose output the node reads */
  int rank; /* of that tensor: 4 (N, C, H, W) or 2 (N, features) */
  int pad;  /* a zero Pad before this node, merged into a Conv or AveragePool */
  int srcs[MAX_IO]; /* every input that is a tensor of the graph (not a constant) */
  int n_srcs;
  int alias;
} walk;

/* Shape of the tensor the node reads. */
static fer__shape in_shape(const walk *w) {
  return w->src == FER__SRC_INPUT ? w->m->input : w->m->layers[w->src].out;
}

static fer_status node_fail(const walk *w, fer_status st, const char *fmt, ...)
    FER__PRINTF(3, 4);
static fer_status node_fail(const walk *w, fer_status st, const char *fmt, ...) {
  char msg[256], nb[72], ob[72];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return fer__fail(st, "%s: node '%s' (%s): %s", w->im->what,
                   show(w->n->name, nb), show(w->n->op, ob), msg);
}

/* Attribute lookups that fail with the node named. */
static fer_status want_attr(const walk *w, const char *name, attr *a) {
  if (get_attr(w->n, name, a) < 0)
    return node_fail(w, FER_ERR_FORMAT, "malformed attribute '%s'", name);
  return FER_OK;
}

/* A float tensor input of the node with exactly `count` values. */
static fer_status float_input(const walk *w, int index, long count,
                              const tensor **out) {
  char nb[72];
  if (index >= w->n->n_input || w->n->input[index].n == 0)
    return node_fail(w, FER_ERR_FORMAT, "input %d is missing", index);
  const tensor *t = find_tensor(w->im, w->n->input[index]);
  if (!t)
    return node_fail(w, FER_ERR_UNSUPPORTED,
                     "input '%s' is not a constant (libfer models are chains)",
                     show(w->n->input[index], nb));
  if (t->data_type != ONNX_FLOAT || t->packed)
    return node_fail(w, FER_ERR_UNSUPPORTED, "tensor '%s' is not float32",
                     show(t->name, nb));
  if (t->count != count || t->raw.n != (size_t)count * 4)
    return node_fail(w, FER_ERR_SHAPE,
                     "tensor '%s' holds %ld values in %zu bytes, the layer needs %ld",
                     show(t->name, nb), t->count, t->raw.n, count);
  *out = t;
  return FER_OK;
}

/* Copies a float tensor (transposed from [cols][rows] when `transpose`)
 * into dst, refusing non-finite values. */
static fer_status copy_floats(const walk *w, const tensor *t, float *dst,
                              long count, int transpose, long rows, int variance) {
  char nb[72];
  for (long i = 0; i < count; i++) {
    long src = i;
    if (transpose) src = (i % (count / rows)) * rows + i / (count / rows);
    uint32_t bits = (uint32_t)t->raw.p[4 * src] | (uint32_t)t->raw.p[4 * src + 1] << 8 |
                    (uint32_t)t->raw.p[4 * src + 2] << 16 | (uint32_t)t->raw.p[4 * src + 3] << 24;
    float v;
    memcpy(&v, &bits, 4);
    if (!isfinite(v) || (variance && v < 0.0f))
      return node_fail(w, FER_ERR_FORMAT, "tensor '%s' value %ld is %s",
                       show(t->name, nb), src, isfinite(v) ? "negative" : "not finite");
    dst[i] = v;
  }
  return FER_OK;
}

/* Appends a layer, naming the node when its setup refuses. */
static fer_status append(const walk *w, const fer__layer *proto) {
  fer__layer l = *proto;
  if (!l.num_src) {
    l.num_src = 1;
    l.src[0] = w->src;
  }
  fer_status st = fer__model_append(w->m, &l);
  if (st) {
    char why[200];
    snprintf(why, sizeof why, "%s", fer_last_error());
    return node_fail(w, st, "%s", why);
  }
  return FER_OK;
}

static fer__layer *last_layer(const walk *w) {
  return &w->m->layers[w->m->num_layers - 1];
}

/* Strides, dilations equal on both axes (libfer has one of each). */
static fer_status one_value(const walk *w, const char *name, int64_t fallback,
                            int *out) {
  attr a;
  fer_status st = want_attr(w, name, &a);
  if (st) return st;
  if (!a.found) {
    *out = (int)fallback;
    return FER_OK;
  }
  if (a.n_ints != 2 || a.ints[0] != a.ints[1] || a.ints[0] < 1 ||
      a.ints[0] > FER_MODEL_MAX_DIM)
    return node_fail(w, FER_ERR_UNSUPPORTED,
                     "%s must be two equal values from 1 to %d", name,
                     FER_MODEL_MAX_DIM);
  *out = (int)a.ints[0];
  return FER_OK;
}

/* pads / auto_pad into libfer padding: symmetric P, or "same" when the
 * pads are what libfer's "same" resolves to. */
static fer_status padding_of(const walk *w, int kh, int kw, int stride,
                             int dilation, int allow_same, int *padding) {
  attr a, ap;
  fer_status st;
  if ((st = want_attr(w, "auto_pad", &ap)) || (st = want_attr(w, "pads", &a))) return st;
  if (ap.found && !span_is(ap.s, "NOTSET")) {
    if (span_is(ap.s, "VALID")) {
      *padding = 0;
      return FER_OK;
    }
    if (span_is(ap.s, "SAME_UPPER") && allow_same) {
      *padding = FER_PADDING_SAME;
      return FER_OK;
    }
    return node_fail(w, FER_ERR_UNSUPPORTED, "auto_pad other than NOTSET, VALID%s",
                     allow_same ? ", SAME_UPPER" : "");
  }
  if (!a.found) {
    *padding = 0;
    return FER_OK;
  }
  if (a.n_ints != 4)
    return node_fail(w, FER_ERR_FORMAT, "pads must have 4 values");
  for (int i = 0; i < 4; i++)
    if (a.ints[i] < 0 || a.ints[i] > FER_MODEL_MAX_DIM)
      return node_fail(w, FER_ERR_UNSUPPORTED, "pads value %lld", (long long)a.ints[i]);
  if (a.ints[0] == a.ints[1] && a.ints[1] == a.ints[2] && a.ints[2] == a.ints[3]) {
    *padding = (int)a.ints[0];
    return FER_OK;
  }
  if (allow_same) {
    fer__shape in = in_shape(w);
    int dims[2] = {in.h, in.w}, k[2] = {kh, kw};
    int same = 1;
    for (int d = 0; d < 2; d++) {
      long out = (dims[d] + stride - 1) / stride;
      long span_k = (long)(k[d] - 1) * dilation + 1;
      long total = FER__MAX((out - 1) * stride + span_k - dims[d], 0);
      if (a.ints[d] != total / 2 || a.ints[d + 2] != total - total / 2) same = 0;
    }
    if (same) {
      *padding = FER_PADDING_SAME;
      return FER_OK;
    }
  }
  return node_fail(w, FER_ERR_UNSUPPORTED,
                   "asymmetric pads %lld,%lld,%lld,%lld", (long long)a.ints[0],
                   (long long)a.ints[1], (long long)a.ints[2], (long long)a.ints[3]);
}

static fer_status import_conv(walk *w) {
  fer_status st;
  char nb[72];
  if (w->n->n_input < 2) return node_fail(w, FER_ERR_FORMAT, "no weight input");
  const tensor *wt = find_tensor(w->im, w->n->input[1]);
  if (!wt || wt->ndims != 4)
    return node_fail(w, FER_ERR_UNSUPPORTED, "weight '%s' is not a constant 4-D tensor",
                     show(w->n->input[1], nb));
  attr group, kernel;
  if ((st = want_attr(w, "group", &group)) || (st = want_attr(w, "kernel_shape", &kernel)))
    return st;
  int groups = group.found ? (int)FER__MAX(FER__MIN(group.i, FER_MODEL_MAX_DIM + 1), 0) : 1;
  if (kernel.found && (kernel.n_ints != 2 || kernel.ints[0] != wt->dims[2] ||
                       kernel.ints[1] != wt->dims[3]))
    return node_fail(w, FER_ERR_SHAPE, "kernel_shape does not match the weight");
  fer__layer l = {.kind = FER_LAYER_CONV, .groups = groups};
  if (wt->dims[0] > FER_MODEL_MAX_DIM || wt->dims[2] > FER_MODEL_MAX_DIM ||
      wt->dims[3] > FER_MODEL_MAX_DIM || wt->dims[0] < 1)
    return node_fail(w, FER_ERR_TOO_LARGE, "weight dimensions beyond %d", FER_MODEL_MAX_DIM);
  l.units = (int)wt->dims[0];
  l.kh = (int)wt->dims[2];
  l.kw = (int)wt->dims[3];
  if ((st = one_value(w, "strides", 1, &l.stride)) ||
      (st = one_value(w, "dilations", 1, &l.dilation)) ||
      (st = padding_of(w, l.kh, l.kw, l.stride, l.dilation, 1, &l.padding)))
    return st;
  if (w->pad) {
    if (l.padding != 0)
      return node_fail(w, FER_ERR_UNSUPPORTED, "padded twice (Pad and pads)");
    l.padding = w->pad;
    w->pad = 0;
  }
  fer__shape in = in_shape(w);
  if (groups < 1 || wt->dims[1] * groups != in.c)
    return node_fail(w, FER_ERR_SHAPE,
                     "weight has %lld input channels per group x %d groups, the "
                     "input has %d channels", (long long)wt->dims[1], groups, in.c);
  l.bias = w->n->n_input > 2 && w->n->input[2].n > 0;
  if ((st = append(w, &l))) return st;
  fer__layer *ml = last_layer(w);
  const tensor *t;
  if ((st = float_input(w, 1, (long)ml->tensor_size[0], &t)) ||
      (st = copy_floats(w, t, ml->tensor[0], (long)ml->tensor_size[0], 0, 1, 0)))
    return st;
  if (l.bias && ((st = float_input(w, 2, (long)ml->tensor_size[1], &t)) ||
                 (st = copy_floats(w, t, ml->tensor[1], (long)ml->tensor_size[1], 0, 1, 0))))
    return st;
  return FER_OK;
}

static fer_status import_pool(walk *w, fer_layer_kind kind) {
  fer_status st;
  attr kernel, ceil, cip, dil;
  if ((st = want_attr(w, "kernel_shape", &kernel)) || (st = want_attr(w, "ceil_mode", &ceil)) ||
      (st = want_attr(w, "count_include_pad", &cip)) || (st = want_attr(w, "dilations", &dil)))
    return st;
  if (!kernel.found || kernel.n_ints != 2 || kernel.ints[0] < 1 || kernel.ints[1] < 1 ||
      kernel.ints[0] > FER_MODEL_MAX_DIM || kernel.ints[1] > FER_MODEL_MAX_DIM)
    return node_fail(w, FER_ERR_UNSUPPORTED, "kernel_shape must be 2 values from 1 to %d",
                     FER_MODEL_MAX_DIM);
  if (ceil.found && ceil.i != 0)
    return node_fail(w, FER_ERR_UNSUPPORTED, "ceil_mode 1 (libfer pools round down)");
  if (dil.found && (dil.n_ints != 2 || dil.ints[0] != 1 || dil.ints[1] != 1))
    return node_fail(w, FER_ERR_UNSUPPORTED, "dilated pooling");
  fer__layer l = {.kind = kind, .kh = (int)kernel.ints[0], .kw = (int)kernel.ints[1],
                  .dilation = 1, .groups = 1};
  if ((st = one_value(w, "strides", 1, &l.stride)) ||
      (st = padding_of(w, l.kh, l.kw, l.stride, 1, 0, &l.padding)))
    return st;
  if (w->pad) {
    /* Explicit zeros count in the average, as libfer's padding does. */
    if (l.padding != 0 || kind != FER_LAYER_AVG_POOL)
      return node_fail(w, FER_ERR_UNSUPPORTED, "zero Pad before %s",
                       l.padding ? "padded pooling" : "max pooling");
    l.padding = w->pad;
    w->pad = 0;
  } else if (kind == FER_LAYER_AVG_POOL && l.padding > 0 && !(cip.found && cip.i == 1))
    return node_fail(w, FER_ERR_UNSUPPORTED,
                     "padding without count_include_pad=1 (libfer counts the zeros)");
  return append(w, &l);
}

static fer_status import_batch_norm(walk *w) {
  fer_status st;
  attr eps, momentum;
  if ((st = want_attr(w, "epsilon", &eps)) || (st = want_attr(w, "momentum", &momentum)))
    return st;
  /* ONNX's momentum weighs the old running value (PyTorch's 1 - m). */
  float m = momentum.found ? 1.0f - momentum.f : 0.1f;
  if (!(m > 0.0f && m <= 1.0f)) m = 0.1f;
  fer__layer l = {.kind = FER_LAYER_BATCH_NORM, .alpha = m,
                  .eps = eps.found ? eps.f : 1e-5f};
  if (w->n->n_input < 5) return node_fail(w, FER_ERR_FORMAT, "needs 5 inputs");
  if ((st = append(w, &l))) return st;
  fer__layer *ml = last_layer(w);
  for (int k = 0; k < 4; k++) {
    const tensor *t;
    if ((st = float_input(w, 1 + k, (long)ml->tensor_size[k], &t)) ||
        (st = copy_floats(w, t, ml->tensor[k], (long)ml->tensor_size[k], 0, 1, k == 3)))
      return st;
  }
  return FER_OK;
}

static fer_status import_gemm(walk *w) {
  fer_status st;
  char nb[72];
  attr alpha, beta, ta, tb;
  if ((st = want_attr(w, "alpha", &alpha)) || (st = want_attr(w, "beta", &beta)) ||
      (st = want_attr(w, "transA", &ta)) || (st = want_attr(w, "transB", &tb)))
    return st;
  if ((alpha.found && alpha.f != 1.0f) || (beta.found && beta.f != 1.0f) ||
      (ta.found && ta.i != 0))
    return node_fail(w, FER_ERR_UNSUPPORTED, "alpha, beta other than 1 or transA");
  int trans_b = tb.found && tb.i != 0;
  if (w->n->n_input < 2) return node_fail(w, FER_ERR_FORMAT, "no weight input");
  const tensor *wt = find_tensor(w->im, w->n->input[1]);
  if (!wt || wt->ndims != 2)
    return node_fail(w, FER_ERR_UNSUPPORTED, "weight '%s' is not a constant 2-D tensor",
                     show(w->n->input[1], nb));
  long inputs = fer__shape_size(in_shape(w));
  int64_t units = trans_b ? wt->dims[0] : wt->dims[1];
  int64_t k = trans_b ? wt->dims[1] : wt->dims[0];
  if (k != inputs || units < 1 || units > FER_MODEL_MAX_DIM)
    return node_fail(w, FER_ERR_SHAPE, "weight is %lldx%lld for %ld inputs%s",
                     (long long)wt->dims[0], (long long)wt->dims[1], inputs,
                     trans_b ? " (transB)" : "");
  fer__layer l = {.kind = FER_LAYER_DENSE, .units = (int)units, .kh = 1, .kw = 1,
                  .bias = w->n->n_input > 2 && w->n->input[2].n > 0};
  if ((st = append(w, &l))) return st;
  fer__layer *ml = last_layer(w);
  const tensor *t;
  if ((st = float_input(w, 1, (long)ml->tensor_size[0], &t)) ||
      (st = copy_floats(w, t, ml->tensor[0], (long)ml->tensor_size[0], !trans_b,
                        (long)units, 0)))
    return st;
  if (l.bias && ((st = float_input(w, 2, (long)ml->tensor_size[1], &t)) ||
                 (st = copy_floats(w, t, ml->tensor[1], (long)ml->tensor_size[1], 0, 1, 0))))
    return st;
  w->rank = 2;
  return FER_OK;
}

/* Reshape to (N, features): a constant int64 shape [0|-1|1, -1|features]. */
static fer_status import_reshape(walk *w) {
  if (w->n->n_input < 2) return node_fail(w, FER_ERR_FORMAT, "no shape input");
  const tensor *t = find_tensor(w->im, w->n->input[1]);
  if (!t || t->data_type != ONNX_INT64 || t->count != 2)
    return node_fail(w, FER_ERR_UNSUPPORTED,
                     "shape is not a constant int64 pair (only reshapes to "
                     "(N, features) are supported)");
  int64_t v[2];
  if (t->packed) {
    int n = 0;
    fer__pb_field f = {.wire = FER__PB_LEN, .data = t->raw.p, .len = t->raw.n};
    if (read_ints(&f, v, 2, &n) || n != 2)
      return node_fail(w, FER_ERR_FORMAT, "malformed shape tensor");
  } else {
    if (t->raw.n != 16) return node_fail(w, FER_ERR_FORMAT, "malformed shape tensor");
    for (int i = 0; i < 2; i++) {
      uint64_t u = 0;
      for (int b = 7; b >= 0; b--) u = u << 8 | t->raw.p[8 * i + b];
      v[i] = (int64_t)u;
    }
  }
  long features = fer__shape_size(in_shape(w));
  int batch_ok = v[0] == 0 || v[0] == 1 || (v[0] == -1 && v[1] != -1);
  if (!batch_ok || (v[1] != -1 && v[1] != features))
    return node_fail(w, FER_ERR_UNSUPPORTED,
                     "reshape to (%lld, %lld) of %ld features per image "
                     "(only (N, features) is supported)",
                     (long long)v[0], (long long)v[1], features);
  fer__layer l = {.kind = FER_LAYER_FLATTEN};
  w->rank = 2;
  return append(w, &l);
}

/* A constant zero Pad of the two spatial axes, the same on every side,
 * which the next Conv or AveragePool takes as its padding. */
static fer_status import_pad(walk *w) {
  fer_status st;
  attr mode, value, pads_attr;
  if ((st = want_attr(w, "mode", &mode)) || (st = want_attr(w, "value", &value)) ||
      (st = want_attr(w, "pads", &pads_attr)))
    return st;
  if (mode.found && !span_is(mode.s, "constant"))
    return node_fail(w, FER_ERR_UNSUPPORTED, "mode other than constant");
  if (value.found && value.f != 0.0f)
    return node_fail(w, FER_ERR_UNSUPPORTED, "padding value other than 0");
  int64_t pads[8];
  int n = 0;
  if (pads_attr.found) { /* before opset 11 */
    n = pads_attr.n_ints;
    memcpy(pads, pads_attr.ints, sizeof pads);
  } else {
    const tensor *t = w->n->n_input > 1 ? find_tensor(w->im, w->n->input[1]) : NULL;
    if (!t || t->data_type != ONNX_INT64 || t->count != 8)
      return node_fail(w, FER_ERR_UNSUPPORTED, "pads is not a constant int64 tensor of 8");
    if (t->packed) {
      fer__pb_field f = {.wire = FER__PB_LEN, .data = t->raw.p, .len = t->raw.n};
      if (read_ints(&f, pads, 8, &n)) return node_fail(w, FER_ERR_FORMAT, "malformed pads");
    } else {
      if (t->raw.n != 64) return node_fail(w, FER_ERR_FORMAT, "malformed pads");
      for (n = 0; n < 8; n++) {
        uint64_t u = 0;
        for (int b = 7; b >= 0; b--) u = u << 8 | t->raw.p[8 * n + b];
        pads[n] = (int64_t)u;
      }
    }
    if (w->n->n_input > 2 && w->n->input[2].n) {
      const tensor *v = find_tensor(w->im, w->n->input[2]);
      int zero = v && v->data_type == ONNX_FLOAT && v->count == 1 && v->raw.n == 4 &&
                 (v->raw.p[0] | v->raw.p[1] | v->raw.p[2] | (v->raw.p[3] & 0x7f)) == 0;
      if (!zero) return node_fail(w, FER_ERR_UNSUPPORTED, "padding value other than 0");
    }
  }
  if (n != 8 || pads[0] || pads[1] || pads[4] || pads[5] || pads[2] != pads[3] ||
      pads[2] != pads[6] || pads[2] != pads[7] || pads[2] < 0 || pads[2] > FER_MODEL_MAX_DIM)
    return node_fail(w, FER_ERR_UNSUPPORTED,
                     "only the same zero padding on every side of H and W");
  w->pad = (int)pads[2];
  return FER_OK;
}

static fer_status import_node(walk *w) {
  const node *n = w->n;
  fer_status st;
  attr a;
  if (w->pad && !span_is(n->op, "Conv") && !span_is(n->op, "AveragePool") &&
      !span_is(n->op, "Constant"))
    return node_fail(w, FER_ERR_UNSUPPORTED,
                     "a zero Pad before it (only before Conv and AveragePool)");
  if (span_is(n->op, "Pad")) return import_pad(w);
  if (span_is(n->op, "Constant")) {
    if ((st = want_attr(w, "value", &a))) return st;
    if (!a.found || !a.t.p)
      return node_fail(w, FER_ERR_UNSUPPORTED, "only a tensor 'value' is supported");
    if ((st = add_tensor(w->im, a.t))) return st;
    w->im->tensors[w->im->n_tensors - 1].name = n->output[0];
    return FER_OK;
  }
  fer__layer l = {0};
  if (span_is(n->op, "Conv")) return import_conv(w);
  if (span_is(n->op, "MaxPool")) return import_pool(w, FER_LAYER_MAX_POOL);
  if (span_is(n->op, "AveragePool")) return import_pool(w, FER_LAYER_AVG_POOL);
  if (span_is(n->op, "BatchNormalization")) return import_batch_norm(w);
  if (span_is(n->op, "Gemm")) return import_gemm(w);
  if (span_is(n->op, "Reshape")) return import_reshape(w);
  if (span_is(n->op, "Dropout") || span_is(n->op, "Identity")) return FER_OK;
  if (span_is(n->op, "Add") || span_is(n->op, "Sum") || span_is(n->op, "Concat") ||
      span_is(n->op, "Mul")) {
    int is_mul = span_is(n->op, "Mul"), is_concat = span_is(n->op, "Concat");
    if (w->n_srcs != n->n_input)
      return node_fail(w, FER_ERR_UNSUPPORTED,
                       "a constant operand (libfer joins layer outputs only)");
    if (w->n_srcs < 2 || w->n_srcs > (is_mul ? 2 : FER__MAX_INPUTS))
      return node_fail(w, FER_ERR_UNSUPPORTED, "%d inputs", w->n_srcs);
    if (is_concat) {
      if ((st = want_attr(w, "axis", &a))) return st;
      if (!a.found || !(a.i == 1 || a.i == 1 - w->rank) || w->rank != 4)
        return node_fail(w, FER_ERR_UNSUPPORTED, "concatenation other than channels of maps");
    }
    l.kind = is_mul ? FER_LAYER_MUL : is_concat ? FER_LAYER_CONCAT : FER_LAYER_ADD;
    l.num_src = w->n_srcs;
    memcpy(l.src, w->srcs, (size_t)w->n_srcs * sizeof l.src[0]);
    return append(w, &l);
  }
  if (span_is(n->op, "GlobalAveragePool")) {
    l.kind = FER_LAYER_GLOBAL_AVG_POOL;
    w->rank = 4;
  } else if (span_is(n->op, "Relu")) {
    l.kind = FER_LAYER_RELU;
  } else if (span_is(n->op, "Sigmoid")) {
    l.kind = FER_LAYER_SIGMOID;
  } else if (span_is(n->op, "Tanh")) {
    l.kind = FER_LAYER_TANH;
  } else if (span_is(n->op, "LeakyRelu") || span_is(n->op, "Elu")) {
    int leaky = span_is(n->op, "LeakyRelu");
    if ((st = want_attr(w, "alpha", &a))) return st;
    l.kind = leaky ? FER_LAYER_LEAKY_RELU : FER_LAYER_ELU;
    l.alpha = a.found ? a.f : leaky ? 0.01f : 1.0f;
  } else if (span_is(n->op, "Flatten")) {
    if ((st = want_attr(w, "axis", &a))) return st;
    if (a.found && a.i != 1)
      return node_fail(w, FER_ERR_UNSUPPORTED, "axis %lld (only 1)", (long long)a.i);
    l.kind = FER_LAYER_FLATTEN;
    w->rank = 2;
  } else if (span_is(n->op, "Softmax")) {
    if ((st = want_attr(w, "axis", &a))) return st;
    int64_t axis = a.found ? a.i : w->im->opset >= 13 ? -1 : 1;
    if (axis < 0) axis += w->rank;
    fer__shape s = in_shape(w);
    /* Before opset 13 Softmax flattens from `axis` on: the same as over
     * channels only when there is one position. */
    if (axis != 1 || (w->im->opset < 13 && w->rank == 4 && (long)s.h * s.w != 1))
      return node_fail(w, FER_ERR_UNSUPPORTED,
                       "softmax over axis %lld (libfer's is over channels)",
                       (long long)axis);
    l.kind = FER_LAYER_SOFTMAX;
  } else {
    return node_fail(w, FER_ERR_UNSUPPORTED,
                     "operator not supported (docs/onnx.md lists the subset)");
  }
  return append(w, &l);
}

/* The model that `arch` (an exported model's architecture text) describes,
 * with the weights of the imported chain `b`, when the two match layer for
 * layer: `arch` may add dropout layers, leave out the flatten before a
 * dense layer and spell padding or momentum its own way; a dense layer
 * without bias matches an all-zero ONNX bias. NULL otherwise. */
/* Whether two layers of the same kind compute the same function. */
static int same_computation(const fer__layer *a, const fer__layer *b) {
  switch (a->kind) {
    case FER_LAYER_CONV:
    case FER_LAYER_MAX_POOL:
    case FER_LAYER_AVG_POOL:
      return a->units == b->units && a->kh == b->kh && a->kw == b->kw &&
             a->stride == b->stride && a->dilation == b->dilation &&
             a->groups == b->groups && a->pad_top == b->pad_top &&
             a->pad_left == b->pad_left;
    case FER_LAYER_DENSE: return a->units == b->units;
    case FER_LAYER_BATCH_NORM: return a->eps == b->eps;
    case FER_LAYER_LEAKY_RELU:
    case FER_LAYER_ELU: return a->alpha == b->alpha;
    default: return 1;
  }
}

static fer_model *restore_arch(const fer_model *b, const char *arch) {
  fer_model *a = NULL;
  if (fer_model_from_text(arch, &a) != FER_OK) return NULL;
  /* to_b[i]: the layer of b that computes a's layer i's output (for a
   * dropout, its input's); FER__SRC_INPUT for the model input. */
  int *to_b = fer__malloc(((size_t)a->num_layers + 1) * sizeof *to_b);
  int ok = to_b && a->input.c == b->input.c && a->input.h == b->input.h &&
           a->input.w == b->input.w, j = 0;
#define MAPPED(s) ((s) == FER__SRC_INPUT ? FER__SRC_INPUT : to_b[s])
  for (int i = 0; i < a->num_layers && ok; i++) {
    fer__layer *la = &a->layers[i];
    if (la->kind == FER_LAYER_DROPOUT) {
      to_b[i] = MAPPED(la->src[0]);
      continue;
    }
    int first = MAPPED(la->src[0]);
    if (la->kind == FER_LAYER_DENSE && j < b->num_layers &&
        b->layers[j].kind == FER_LAYER_FLATTEN && b->layers[j].src[0] == first) {
      first = j; /* the export's Flatten before a Gemm */
      j++;
    }
    if (j >= b->num_layers) {
      ok = 0;
      break;
    }
    const fer__layer *lb = &b->layers[j];
    ok = la->kind == lb->kind && la->out.c == lb->out.c && la->out.h == lb->out.h &&
         la->out.w == lb->out.w && same_computation(la, lb) &&
         la->num_src == lb->num_src && lb->src[0] == first;
    for (int k = 1; k < la->num_src && ok; k++) ok = lb->src[k] == MAPPED(la->src[k]);
    if (!ok && la->kind == FER_LAYER_MUL && lb->kind == FER_LAYER_MUL)
      /* The export puts mul's full map first. */
      ok = lb->src[0] == MAPPED(la->src[1]) && lb->src[1] == MAPPED(la->src[0]) &&
           la->out.c == lb->out.c && la->out.h == lb->out.h && la->out.w == lb->out.w;
    for (int k = 0; k < FER__TENSORS && ok; k++) {
      if (la->tensor_size[k] == lb->tensor_size[k]) {
        if (la->tensor_size[k])
          memcpy(la->tensor[k], lb->tensor[k], la->tensor_size[k] * sizeof(float));
      } else if (k == 1 && la->tensor_size[k] == 0) {
        for (size_t e = 0; e < lb->tensor_size[k] && ok; e++) ok = lb->tensor[k][e] == 0.0f;
      } else {
        ok = 0;
      }
    }
    to_b[i] = j++;
  }
  /* The outputs must be the same tensor. */
  if (ok && a->num_layers) ok = MAPPED(a->num_layers - 1) == b->num_layers - 1;
#undef MAPPED
  fer__free(to_b);
  if (!ok || j != b->num_layers) {
    fer_model_free(a);
    return NULL;
  }
  return a;
}

static fer_status build(importer *im, fer_model **out) {
  char nb[72], cb[72];
  if (im->input_rank != 4)
    return fer__fail(FER_ERR_UNSUPPORTED,
                     "%s: the graph input '%s' has %d dimensions, not N x C x H x W",
                     im->what, show(im->input_name, nb), im->input_rank);
  for (int d = 1; d < 4; d++)
    if (im->input_dims[d] < 1 || im->input_dims[d] > FER_MODEL_MAX_DIM)
      return fer__fail(FER_ERR_UNSUPPORTED,
                       "%s: the graph input's dimension %d is %s", im->what, d,
                       im->input_dims[d] < 0 ? "symbolic" : "out of range");
  fer_model *m;
  fer_status st = fer_model_create((int)im->input_dims[1], (int)im->input_dims[2],
                                   (int)im->input_dims[3], &m);
  if (st) return st;
  /* Every tensor a node made: the layer it is the output of, its rank and
   * a pending zero padding (Pad). Identity, Dropout and Pad alias. */
  value *vals = fer__calloc((size_t)im->n_nodes + 1, sizeof *vals);
  if (!vals) {
    fer_model_free(m);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", im->what);
  }
  int n_vals = 0;
  vals[n_vals++] = (value){im->input_name, FER__SRC_INPUT, 4, 0};
  walk w = {.im = im, .m = m, .rank = 4};
  for (int i = 0; i < im->n_nodes && !st; i++) {
    node n;
    if ((st = parse_node(im, im->nodes[i], &n))) break;
    w.n = &n;
    if (n.domain.n && !span_is(n.domain, "ai.onnx")) {
      st = node_fail(&w, FER_ERR_UNSUPPORTED, "operator domain '%s'", show(n.domain, nb));
      break;
    }
    if (span_is(n.op, "Constant")) {
      st = import_node(&w);
      continue;
    }
    const value *v = n.n_input ? find_value(vals, n_vals, n.input[0]) : NULL;
    if (!v) {
      st = node_fail(&w, FER_ERR_UNSUPPORTED,
                     "its first input '%s' is not the output of an earlier node "
                     "or the graph input", n.n_input ? show(n.input[0], nb) : "");
      break;
    }
    w.src = v->src;
    w.rank = v->rank;
    w.pad = v->pad;
    /* The other data inputs of a layer with several (Add, Concat, Mul). */
    w.n_srcs = 0;
    for (int k = 0; k < n.n_input; k++) {
      const value *o = find_value(vals, n_vals, n.input[k]);
      if (!o) continue;
      if (k > 0 && (o->pad || o->rank != w.rank)) {
        st = node_fail(&w, FER_ERR_UNSUPPORTED, "inputs of different ranks or a Pad");
        break;
      }
      w.srcs[w.n_srcs++] = o->src;
    }
    if (st) break;
    if (m->num_layers >= FER_MODEL_MAX_LAYERS) {
      st = node_fail(&w, FER_ERR_TOO_LARGE, "more than %d layers", FER_MODEL_MAX_LAYERS);
      break;
    }
    int before = m->num_layers;
    w.alias = 0;
    if ((st = import_node(&w))) break;
    value out = {n.output[0], m->num_layers - 1, w.rank, 0};
    if (m->num_layers == before) out.src = w.src; /* Identity, Dropout, Pad */
    if (span_is(n.op, "Pad")) out.pad = w.pad;
    (void)cb;
    vals[n_vals++] = out;
  }
  const value *result = st ? NULL : find_value(vals, n_vals, im->output_name);
  if (!st && (!result || result->pad || result->src != m->num_layers - 1))
    st = fer__fail(FER_ERR_UNSUPPORTED,
                   "%s: the graph output '%s' is not the output of the last layer",
                   im->what, show(im->output_name, nb));
  fer__free(vals);
  /* What an exported libfer model says about itself. */
  for (int i = 0; i < im->n_meta && !st; i++) {
    span k = im->meta_key[i], v = im->meta_value[i];
    if (!span_is(k, FER__ONNX_KEY_ARCH) || v.n > ((size_t)1 << 20) || span_has_nul(v))
      continue;
    char *arch = fer__malloc(v.n + 1);
    if (!arch) {
      st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", im->what);
      break;
    }
    if (v.n) memcpy(arch, v.p, v.n);
    arch[v.n] = '\0';
    fer_model *restored = restore_arch(m, arch);
    fer__free(arch);
    if (restored) {
      fer_model_free(m);
      m = restored;
    }
  }
  for (int i = 0; i < im->n_meta && !st; i++) {
    char value[4096], key[300];
    span k = im->meta_key[i], v = im->meta_value[i];
    if (v.n >= sizeof value || k.n >= sizeof key || span_has_nul(v) || span_has_nul(k))
      continue;
    if (v.n) memcpy(value, v.p, v.n);
    value[v.n] = '\0';
    if (k.n) memcpy(key, k.p, k.n);
    key[k.n] = '\0';
    if (strcmp(key, FER__ONNX_KEY_PREPROCESSING) == 0) {
      float p[3];
      const char *s = value;
      int ok = 1;
      for (int j = 0; j < 3 && ok; j++) {
        while (*s == ' ') s++;
        ok = fer__parse_float(s, &s, &p[j]) == FER__NUMBER_OK;
      }
      st = ok && *s == '\0' ? fer_model_set_preprocessing(m, p[0], p[1], p[2])
                            : fer__fail(FER_ERR_FORMAT, "%s: bad %s '%s'", im->what,
                                        key, value);
    } else if (strcmp(key, FER__ONNX_KEY_NORMALIZATION) == 0) {
      double flags = -1;
      float sharp = -1;
      const char *s = value;
      int ok = fer__parse_double(s, &s, &flags) == FER__NUMBER_OK && *s == ' ' &&
               fer__parse_float(s + 1, &s, &sharp) == FER__NUMBER_OK && *s == '\0' &&
               flags >= 0 && flags <= 0xffff && flags == (unsigned)flags;
      st = ok ? fer_model_set_image_normalization(m, (unsigned)flags, sharp)
              : fer__fail(FER_ERR_FORMAT, "%s: bad %s '%s'", im->what, key, value);
    } else if (strcmp(key, FER__ONNX_KEY_CLASSES) == 0) {
      const char *names[256];
      int count = 0;
      char *s = value;
      while (count < 256) {
        names[count++] = s;
        char *nl = strchr(s, '\n');
        if (!nl) break;
        *nl = '\0';
        s = nl + 1;
      }
      st = fer_model_set_class_names(m, names, count);
    } else if (strncmp(key, FER__ONNX_KEY_META_PREFIX, strlen(FER__ONNX_KEY_META_PREFIX)) == 0) {
      st = fer_model_set_metadata(m, key + strlen(FER__ONNX_KEY_META_PREFIX), value);
    }
    if (st) {
      char why[300];
      snprintf(why, sizeof why, "%s", fer_last_error());
      st = fer__fail(st, "%s: metadata '%s': %s", im->what, key, why);
    }
  }
  if (st) {
    fer_model_free(m);
    return st;
  }
  *out = m;
  return FER_OK;
}

static fer_status load(const void *data, size_t size, const char *what,
                       fer_model **out) {
  importer im = {.what = what};
  if (size > MAX_FILE_SIZE)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: larger than 2 GiB", what);
  fer_status st = parse_model(&im, data, size);
  if (!st) st = build(&im, out);
  fer__free(im.tensors);
  fer__free(im.nodes);
  return st;
}

fer_status fer_model_load_onnx_memory(const void *data, size_t size,
                                      fer_model **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_load_onnx_memory: out is NULL");
  *out = NULL;
  if (!data && size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_load_onnx_memory: data is NULL");
  return load(data ? data : "", size, "ONNX model", out);
}

fer_status fer_model_load_onnx(const char *path, fer_model **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_load_onnx: out is NULL");
  *out = NULL;
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_load_onnx: path is NULL");
  uint8_t *data;
  size_t size;
  fer_status st = fer__read_file(path, MAX_FILE_SIZE, &data, &size);
  if (st) return st;
  st = load(data, size, path, out);
  fer__free(data);
  return st;
}
