/* ONNX export (docs/onnx.md): a libfer chain model as an ONNX ModelProto,
 * opset 13, one node per layer (dropout is left out: inference only),
 * weights as float32 initializers in PyTorch's layout (which is also
 * ONNX's). The graph input is what fer_model_predict takes, after the
 * model's preprocessing; the preprocessing itself goes into
 * metadata_props. */
#include <stdio.h>
#include <string.h>

#include "nn/nn_internal.h"
#include "nn/onnx.h"
#include "util/file.h"
#include "util/protobuf.h"

typedef struct exporter {
  fer__buf *graph;
  char current[32]; /* name of the tensor the next node reads */
  int rank;         /* 4 (N, C, H, W) or 2 (N, features) */
  int nodes;
} exporter;

static void attr_int(fer__buf *attrs, const char *name, int64_t v) {
  fer__buf a;
  fer__buf_init(&a);
  fer__pb_string(&a, ONNX_ATTR_NAME, name);
  fer__pb_int(&a, ONNX_ATTR_I, v);
  fer__pb_int(&a, ONNX_ATTR_TYPE, ONNX_ATTR_TYPE_INT);
  fer__pb_message(attrs, ONNX_NODE_ATTRIBUTE, &a);
  fer__buf_release(&a);
}

static void attr_float(fer__buf *attrs, const char *name, float v) {
  fer__buf a;
  fer__buf_init(&a);
  fer__pb_string(&a, ONNX_ATTR_NAME, name);
  fer__pb_float(&a, ONNX_ATTR_F, v);
  fer__pb_int(&a, ONNX_ATTR_TYPE, ONNX_ATTR_TYPE_FLOAT);
  fer__pb_message(attrs, ONNX_NODE_ATTRIBUTE, &a);
  fer__buf_release(&a);
}

/* Repeated int64 attributes are written unpacked (one field per value), as
 * the reference protobuf library writes proto2 fields. */
static void attr_ints(fer__buf *attrs, const char *name, const int64_t *v,
                      int n) {
  fer__buf a;
  fer__buf_init(&a);
  fer__pb_string(&a, ONNX_ATTR_NAME, name);
  for (int i = 0; i < n; i++) fer__pb_int(&a, ONNX_ATTR_INTS, v[i]);
  fer__pb_int(&a, ONNX_ATTR_TYPE, ONNX_ATTR_TYPE_INTS);
  fer__pb_message(attrs, ONNX_NODE_ATTRIBUTE, &a);
  fer__buf_release(&a);
}

/* A float32 initializer with raw little-endian data. */
static void initializer(exporter *e, const char *name, const int64_t *dims,
                        int ndims, const float *v, size_t n) {
  fer__buf t;
  fer__buf_init(&t);
  for (int i = 0; i < ndims; i++) fer__pb_int(&t, ONNX_TENSOR_DIMS, dims[i]);
  fer__pb_int(&t, ONNX_TENSOR_DATA_TYPE, ONNX_FLOAT);
  fer__pb_string(&t, ONNX_TENSOR_NAME, name);
  fer__buf raw;
  fer__buf_init(&raw);
  if (fer__buf_reserve(&raw, n * 4))
    for (size_t i = 0; i < n; i++) fer__buf_f32le(&raw, v ? v[i] : 0.0f);
  if (raw.failed) t.failed = 1;
  fer__pb_bytes(&t, ONNX_TENSOR_RAW_DATA, raw.data, raw.size);
  fer__buf_release(&raw);
  fer__pb_message(e->graph, ONNX_GRAPH_INITIALIZER, &t);
  fer__buf_release(&t);
}

/* An int64 initializer (a shape or pads operand). */
static void initializer_ints(exporter *e, const char *name, const int64_t *v,
                             int n) {
  fer__buf t;
  fer__buf_init(&t);
  fer__pb_int(&t, ONNX_TENSOR_DIMS, n);
  fer__pb_int(&t, ONNX_TENSOR_DATA_TYPE, ONNX_INT64);
  fer__pb_string(&t, ONNX_TENSOR_NAME, name);
  fer__buf raw;
  fer__buf_init(&raw);
  for (int i = 0; i < n; i++) fer__buf_u64le(&raw, (uint64_t)v[i]);
  if (raw.failed) t.failed = 1;
  fer__pb_bytes(&t, ONNX_TENSOR_RAW_DATA, raw.data, raw.size);
  fer__buf_release(&raw);
  fer__pb_message(e->graph, ONNX_GRAPH_INITIALIZER, &t);
  fer__buf_release(&t);
}

/* Appends a node reading e->current (and `extra` named inputs) and writing
 * `output`, which becomes e->current. */
static void node(exporter *e, const char *op, const char *const *extra,
                 int n_extra, const fer__buf *attrs, const char *output) {
  fer__buf n;
  fer__buf_init(&n);
  fer__pb_string(&n, ONNX_NODE_INPUT, e->current);
  for (int i = 0; i < n_extra; i++) fer__pb_string(&n, ONNX_NODE_INPUT, extra[i]);
  fer__pb_string(&n, ONNX_NODE_OUTPUT, output);
  char name[48];
  snprintf(name, sizeof name, "%s_%d", op, e->nodes++);
  fer__pb_string(&n, ONNX_NODE_NAME, name);
  fer__pb_string(&n, ONNX_NODE_OP_TYPE, op);
  if (attrs && attrs->size) fer__buf_append(&n, attrs->data, attrs->size);
  if (attrs && attrs->failed) n.failed = 1;
  fer__pb_message(e->graph, ONNX_GRAPH_NODE, &n);
  fer__buf_release(&n);
  snprintf(e->current, sizeof e->current, "%s", output);
}

/* A float tensor's ValueInfoProto with a symbolic batch dimension "N". */
static void value_info(fer__buf *graph, int field, const char *name,
                       const int64_t *dims, int ndims) {
  fer__buf shape, ttype, type, vi;
  fer__buf_init(&shape);
  fer__buf_init(&ttype);
  fer__buf_init(&type);
  fer__buf_init(&vi);
  for (int i = 0; i < ndims; i++) {
    fer__buf d;
    fer__buf_init(&d);
    if (i == 0) fer__pb_string(&d, ONNX_DIM_PARAM, "N");
    else fer__pb_int(&d, ONNX_DIM_VALUE, dims[i]);
    fer__pb_message(&shape, ONNX_SHAPE_DIM, &d);
    fer__buf_release(&d);
  }
  fer__pb_int(&ttype, ONNX_TTYPE_ELEM_TYPE, ONNX_FLOAT);
  fer__pb_message(&ttype, ONNX_TTYPE_SHAPE, &shape);
  fer__pb_message(&type, ONNX_TYPE_TENSOR, &ttype);
  fer__pb_string(&vi, ONNX_VALUE_NAME, name);
  fer__pb_message(&vi, ONNX_VALUE_TYPE, &type);
  fer__pb_message(graph, field, &vi);
  fer__buf_release(&shape);
  fer__buf_release(&ttype);
  fer__buf_release(&type);
  fer__buf_release(&vi);
}

static void window_attrs(fer__buf *a, const fer__layer *l, int with_dilation,
                         int no_pads) {
  int64_t kernel[2] = {l->kh, l->kw}, strides[2] = {l->stride, l->stride};
  attr_ints(a, "kernel_shape", kernel, 2);
  attr_ints(a, "strides", strides, 2);
  if (with_dilation) {
    int64_t dil[2] = {l->dilation, l->dilation};
    attr_ints(a, "dilations", dil, 2);
  }
  /* ONNX pads: top, left, bottom, right. Explicit padding is symmetric;
   * "same" puts any odd pixel at the bottom/right (what setup resolved). */
  int64_t pads[4] = {l->pad_top, l->pad_left, l->pad_top, l->pad_left};
  if (no_pads) pads[0] = pads[1] = pads[2] = pads[3] = 0;
  if (l->kind == FER_LAYER_CONV && l->padding == FER_PADDING_SAME) {
    long span_h = (long)(l->kh - 1) * l->dilation + 1;
    long span_w = (long)(l->kw - 1) * l->dilation + 1;
    long th = (long)(l->out.h - 1) * l->stride + span_h - l->in.h;
    long tw = (long)(l->out.w - 1) * l->stride + span_w - l->in.w;
    pads[2] = FER__MAX(th, 0) - l->pad_top;
    pads[3] = FER__MAX(tw, 0) - l->pad_left;
  }
  attr_ints(a, "pads", pads, 4);
}

/* One layer as ONNX nodes; `output` names its result. */
static fer_status export_layer(exporter *e, const fer__layer *l, int index,
                               const char *output) {
  char w[32], b[32], mean[32], var[32];
  snprintf(w, sizeof w, "l%d.weight", index);
  snprintf(b, sizeof b, "l%d.bias", index);
  snprintf(mean, sizeof mean, "l%d.running_mean", index);
  snprintf(var, sizeof var, "l%d.running_var", index);
  fer__buf a;
  fer__buf_init(&a);
  const char *op = NULL;
  const char *inputs[4];
  int n_inputs = 0;
  switch (l->kind) {
    case FER_LAYER_CONV: {
      int64_t dims[4] = {l->units, l->in.c / l->groups, l->kh, l->kw};
      initializer(e, w, dims, 4, l->tensor[0], l->tensor_size[0]);
      inputs[n_inputs++] = w;
      if (l->bias) {
        initializer(e, b, dims, 1, l->tensor[1], l->tensor_size[1]);
        inputs[n_inputs++] = b;
      }
      window_attrs(&a, l, 1, 0);
      attr_int(&a, "group", l->groups);
      op = "Conv";
      break;
    }
    case FER_LAYER_MAX_POOL:
    case FER_LAYER_AVG_POOL:
      if (l->kind == FER_LAYER_AVG_POOL && l->padding > 0) {
        /* Zeros that count in the average: an explicit Pad, then an
         * unpadded AveragePool, as PyTorch exports it (OpenCV 4.6 ignores
         * count_include_pad). */
        char pads_name[32], padded[32];
        snprintf(pads_name, sizeof pads_name, "l%d.pads", index);
        snprintf(padded, sizeof padded, "l%d.padded", index);
        int64_t p = l->padding, pads[8] = {0, 0, p, p, 0, 0, p, p};
        initializer_ints(e, pads_name, pads, 8);
        const char *pad_inputs[1] = {pads_name};
        node(e, "Pad", pad_inputs, 1, NULL, padded);
        window_attrs(&a, l, 0, 1);
      } else {
        window_attrs(&a, l, 0, 0);
      }
      op = l->kind == FER_LAYER_MAX_POOL ? "MaxPool" : "AveragePool";
      break;
    case FER_LAYER_GLOBAL_AVG_POOL:
      op = "GlobalAveragePool";
      break;
    case FER_LAYER_BATCH_NORM: {
      int64_t dims[1] = {l->in.c};
      /* After a dense layer the ONNX tensor is (N, features): its channels
       * are the features, as BatchNorm1d. */
      if (e->rank == 2) dims[0] = (int64_t)fer__shape_size(l->in);
      initializer(e, w, dims, 1, l->tensor[0], l->tensor_size[0]);
      initializer(e, b, dims, 1, l->tensor[1], l->tensor_size[1]);
      initializer(e, mean, dims, 1, l->tensor[2], l->tensor_size[2]);
      initializer(e, var, dims, 1, l->tensor[3], l->tensor_size[3]);
      inputs[0] = w, inputs[1] = b, inputs[2] = mean, inputs[3] = var;
      n_inputs = 4;
      attr_float(&a, "epsilon", l->eps);
      op = "BatchNormalization";
      break;
    }
    case FER_LAYER_RELU: op = "Relu"; break;
    case FER_LAYER_SIGMOID: op = "Sigmoid"; break;
    case FER_LAYER_TANH: op = "Tanh"; break;
    case FER_LAYER_LEAKY_RELU:
      attr_float(&a, "alpha", l->alpha);
      op = "LeakyRelu";
      break;
    case FER_LAYER_ELU:
      attr_float(&a, "alpha", l->alpha);
      op = "Elu";
      break;
    case FER_LAYER_SOFTMAX:
      attr_int(&a, "axis", 1);
      op = "Softmax";
      break;
    case FER_LAYER_FLATTEN:
      attr_int(&a, "axis", 1);
      op = "Flatten";
      e->rank = 2;
      break;
    case FER_LAYER_DENSE: {
      if (e->rank != 2) {
        /* libfer's dense flattens its input implicitly; ONNX's Gemm needs
         * (N, features). */
        char flat[32];
        snprintf(flat, sizeof flat, "l%d.flat", index);
        fer__buf fa;
        fer__buf_init(&fa);
        attr_int(&fa, "axis", 1);
        node(e, "Flatten", NULL, 0, &fa, flat);
        fer__buf_release(&fa);
        e->rank = 2;
      }
      int64_t dims[2] = {l->units, (int64_t)fer__shape_size(l->in)};
      initializer(e, w, dims, 2, l->tensor[0], l->tensor_size[0]);
      /* A zero bias for "nobias": OpenCV 4.6 wants Gemm's C. */
      initializer(e, b, dims, 1, l->bias ? l->tensor[1] : NULL, (size_t)l->units);
      inputs[0] = w, inputs[1] = b;
      n_inputs = 2;
      attr_int(&a, "transB", 1);
      op = "Gemm";
      break;
    }
    case FER_LAYER_DROPOUT:
      break; /* inference: identity, no node */
    default:
      fer__buf_release(&a);
      return fer__fail(FER_ERR_UNSUPPORTED,
                       "ONNX export: layer %d (%s) has no ONNX form", index,
                       fer__layer_ops_of(l->kind)->keyword);
  }
  if (op) {
    if (e->rank == 2 && l->kind != FER_LAYER_DENSE && l->kind != FER_LAYER_FLATTEN &&
        (l->kind == FER_LAYER_CONV || l->kind == FER_LAYER_MAX_POOL ||
         l->kind == FER_LAYER_AVG_POOL || l->kind == FER_LAYER_GLOBAL_AVG_POOL)) {
      fer__buf_release(&a);
      return fer__fail(FER_ERR_UNSUPPORTED,
                       "ONNX export: layer %d (%s) after a flatten or dense "
                       "layer is not exported", index,
                       fer__layer_ops_of(l->kind)->keyword);
    }
    node(e, op, inputs, n_inputs, &a, output);
  }
  fer__buf_release(&a);
  return FER_OK;
}

static void meta_prop(fer__buf *model, const char *key, const char *value,
                      size_t value_len) {
  fer__buf entry;
  fer__buf_init(&entry);
  fer__pb_string(&entry, ONNX_ENTRY_KEY, key);
  fer__pb_bytes(&entry, ONNX_ENTRY_VALUE, value, value_len);
  fer__pb_message(model, ONNX_MODEL_METADATA_PROPS, &entry);
  fer__buf_release(&entry);
}

typedef char tensor_name[32];

static fer_status encode(const fer_model *m, fer__buf *out) {
  fer__buf graph;
  fer__buf_init(&graph);
  exporter e = {.graph = &graph, .rank = 4};
  const int L = m->num_layers;
  /* Each layer's output tensor and its rank (a dropout's are its input's). */
  tensor_name *names = fer__calloc((size_t)L + 1, sizeof *names);
  int *ranks = fer__calloc((size_t)L + 1, sizeof *ranks);
  fer_status st = FER_OK;
  if (!names || !ranks) st = fer__fail(FER_ERR_OUT_OF_MEMORY, "ONNX export: out of memory");
  for (int i = 0; i < L && !st; i++) {
    const fer__layer *l = &m->layers[i];
    const int s0 = l->src[0];
    snprintf(e.current, sizeof e.current, "%s", s0 == FER__SRC_INPUT ? "input" : names[s0]);
    e.rank = s0 == FER__SRC_INPUT ? 4 : ranks[s0];
    if (l->kind == FER_LAYER_DROPOUT) {
      memcpy(names[i], e.current, sizeof names[i]);
      ranks[i] = e.rank;
      continue;
    }
    if (i == L - 1) snprintf(names[i], sizeof names[i], "output");
    else snprintf(names[i], sizeof names[i], "l%d.%s", i, fer__layer_ops_of(l->kind)->keyword);
    if (l->num_src > 1) {
      const char *extra[FER__MAX_INPUTS];
      for (int j = 1; j < l->num_src; j++) {
        int s = l->src[j];
        extra[j - 1] = s == FER__SRC_INPUT ? "input" : names[s];
        if ((s == FER__SRC_INPUT ? 4 : ranks[s]) != e.rank)
          st = fer__fail(FER_ERR_UNSUPPORTED,
                         "ONNX export: layer %d (%s) joins a map and a flat tensor", i,
                         fer__layer_ops_of(l->kind)->keyword);
      }
      if (st) break;
      fer__buf a;
      fer__buf_init(&a);
      const char *op = l->kind == FER_LAYER_MUL ? "Mul"
                       : l->kind == FER_LAYER_CONCAT ? "Concat"
                       : l->num_src == 2 ? "Add" : "Sum";
      if (l->kind == FER_LAYER_CONCAT) attr_int(&a, "axis", 1);
      if (l->kind == FER_LAYER_MUL &&
          fer__shape_size(l->src_shape[0]) < fer__shape_size(l->src_shape[1])) {
        /* The full map first: OpenCV 4.6 cannot broadcast the first operand
         * of Mul (the product is the same). */
        char first[sizeof e.current];
        memcpy(first, e.current, sizeof first);
        snprintf(e.current, sizeof e.current, "%s", extra[0]);
        extra[0] = first;
        node(&e, op, extra, l->num_src - 1, &a, names[i]);
        fer__buf_release(&a);
        ranks[i] = e.rank;
        continue;
      }
      node(&e, op, extra, l->num_src - 1, &a, names[i]);
      fer__buf_release(&a);
    } else {
      st = export_layer(&e, l, i, names[i]);
    }
    ranks[i] = e.rank;
  }
  if (st) {
    fer__free(names);
    fer__free(ranks);
    fer__buf_release(&graph);
    return st;
  }
  if (L == 0 || m->layers[L - 1].kind == FER_LAYER_DROPOUT) {
    snprintf(e.current, sizeof e.current, "%s", L ? names[L - 1] : "input");
    e.rank = L ? ranks[L - 1] : 4;
    node(&e, "Identity", NULL, 0, NULL, "output");
  }
  fer__free(names);
  fer__free(ranks);
  fer__pb_string(&graph, ONNX_GRAPH_NAME, "libfer");
  int64_t in_dims[4] = {1, m->input.c, m->input.h, m->input.w};
  value_info(&graph, ONNX_GRAPH_INPUT, "input", in_dims, 4);
  fer__shape o = fer__model_output_shape(m);
  int64_t out_dims[4] = {1, o.c, o.h, o.w};
  if (e.rank == 2) out_dims[1] = (int64_t)fer__shape_size(o);
  value_info(&graph, ONNX_GRAPH_OUTPUT, "output", out_dims, e.rank);

  fer__pb_int(out, ONNX_MODEL_IR_VERSION, FER__ONNX_IR_VERSION);
  fer__buf opset;
  fer__buf_init(&opset);
  fer__pb_string(&opset, ONNX_OPSET_DOMAIN, "");
  fer__pb_int(&opset, ONNX_OPSET_VERSION, FER__ONNX_OPSET);
  fer__pb_message(out, ONNX_MODEL_OPSET_IMPORT, &opset);
  fer__buf_release(&opset);
  fer__pb_string(out, ONNX_MODEL_PRODUCER_NAME, "libfer");
  fer__pb_string(out, ONNX_MODEL_PRODUCER_VERSION, fer_version());
  fer__pb_string(out, ONNX_MODEL_DOC_STRING,
                 "Input: images after the model's preprocessing "
                 "(metadata libfer.preprocessing: x = (pixel * scale - mean) / "
                 "std; libfer.image_normalization: flags 1 = each image "
                 "standardised to mean 0, std 1, then the sharpness limit).");
  fer__pb_message(out, ONNX_MODEL_GRAPH, &graph);
  fer__buf_release(&graph);

  fer__buf v;
  fer__buf_init(&v);
  fer__arch_format_float(&v, m->pre_scale);
  fer__buf_byte(&v, ' ');
  fer__arch_format_float(&v, m->pre_mean);
  fer__buf_byte(&v, ' ');
  fer__arch_format_float(&v, m->pre_std);
  meta_prop(out, FER__ONNX_KEY_PREPROCESSING, (const char *)v.data, v.size);
  v.size = 0;
  fer__buf_printf(&v, "%u ", m->norm_flags);
  fer__arch_format_float(&v, m->norm_sharpness);
  meta_prop(out, FER__ONNX_KEY_NORMALIZATION, (const char *)v.data, v.size);
  if (m->class_names) {
    v.size = 0;
    for (int i = 0; i < m->num_class_names; i++)
      fer__buf_printf(&v, "%s%s", i ? "\n" : "", m->class_names[i]);
    meta_prop(out, FER__ONNX_KEY_CLASSES, (const char *)v.data, v.size);
  }
  v.size = 0;
  fer__model_text(m, &v);
  meta_prop(out, FER__ONNX_KEY_ARCH, (const char *)v.data, v.size);
  for (int i = 0; i < m->num_metadata; i++) {
    v.size = 0;
    fer__buf_printf(&v, "%s%s", FER__ONNX_KEY_META_PREFIX, m->metadata[i].key);
    fer__buf_byte(&v, 0);
    if (!v.failed)
      meta_prop(out, (const char *)v.data, m->metadata[i].value,
                strlen(m->metadata[i].value));
  }
  if (v.failed) out->failed = 1;
  fer__buf_release(&v);
  return fer__buf_status(out, "ONNX export");
}

int fer_model_onnx_opset(void) { return FER__ONNX_OPSET; }

fer_status fer_model_save_onnx_memory(const fer_model *m, void **out_data,
                                      size_t *out_size) {
  if (!out_data || !out_size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_save_onnx_memory: out is NULL");
  *out_data = NULL;
  *out_size = 0;
  fer_status st = fer__model_check(m, "fer_model_save_onnx_memory");
  if (st) return st;
  fer__buf b;
  fer__buf_init(&b);
  if ((st = encode(m, &b))) {
    fer__buf_release(&b);
    return st;
  }
  *out_data = b.data;
  *out_size = b.size;
  return FER_OK;
}

fer_status fer_model_save_onnx(const fer_model *m, const char *path) {
  if (!path)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_save_onnx: path is NULL");
  void *data;
  size_t size;
  fer_status st = fer_model_save_onnx_memory(m, &data, &size);
  if (st) return st;
  st = fer__write_file_atomic(path, data, size);
  fer_free(data);
  return st;
}
