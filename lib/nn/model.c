/* The model record: creation, appending layers, weight initialisation,
 * queries and tensor access. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "nn/quant.h"

const char *const fer__fer2013_class_names[7] = {
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

int fer_model_max_layers(void) { return FER_MODEL_MAX_LAYERS; }
long fer_model_max_params(void) { return FER_MODEL_MAX_PARAMS; }

fer_status fer__model_check(const fer_model *m, const char *who) {
  if (!m || m->magic != FER__MODEL_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: model is NULL or not a live model",
                     who);
  return FER_OK;
}

fer_status fer_model_create(int channels, int height, int width,
                            fer_model **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_create: out is NULL");
  *out = NULL;
  if (channels < 1 || height < 1 || width < 1)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_create: input %dx%dx%d has a size below 1",
                     channels, height, width);
  if (channels > FER_MODEL_MAX_DIM || height > FER_MODEL_MAX_DIM ||
      width > FER_MODEL_MAX_DIM ||
      (long)channels * height * width > FER_MODEL_MAX_ACTIVATION)
    return fer__fail(FER_ERR_TOO_LARGE,
                     "fer_model_create: input %dx%dx%d is beyond the limits",
                     channels, height, width);
  fer_model *m = fer__calloc(1, sizeof *m);
  if (!m) return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_model_create: out of memory");
  m->magic = FER__MODEL_MAGIC;
  fer__model_settings_defaults(m);
  m->input = (fer__shape){channels, height, width};
  m->init = FER_INIT_HE_UNIFORM;
  fer__rng_seed(&m->init_rng, 0);
  fer__rng_seed(&m->dropout_rng, 0);
  m->pre_scale = 1.0f / 255.0f;
  m->pre_mean = 0.0f;
  m->pre_std = 1.0f;
  *out = m;
  return FER_OK;
}

static void free_strings(char **s, int n) {
  for (int i = 0; i < n; i++) fer__free(s[i]);
  fer__free(s);
}

void fer_model_free(fer_model *m) {
  if (!m || m->magic != FER__MODEL_MAGIC) return;
  for (int i = 0; i < m->num_layers; i++)
    for (int k = 0; k < FER__TENSORS; k++) fer__free(m->layers[i].tensor[k]);
  fer__free(m->layers);
  free_strings(m->class_names, m->num_class_names);
  for (int i = 0; i < m->num_metadata; i++) {
    fer__free(m->metadata[i].key);
    fer__free(m->metadata[i].value);
  }
  fer__free(m->metadata);
  fer__free(m->class_weights);
  fer__workspace_free(m->ws);
  fer__quant_free(m->quant);
  m->magic = 0;
  fer__free(m);
}

fer__shape fer__model_output_shape(const fer_model *m) {
  return m->num_layers ? m->layers[m->num_layers - 1].out : m->input;
}

int fer__model_is_chain(const fer_model *m) {
  for (int i = 0; i < m->num_layers; i++) {
    const fer__layer *l = &m->layers[i];
    if (l->num_src != 1 || l->src[0] != i - 1 || l->name[0]) return 0;
  }
  return 1;
}

int fer__model_find_name(const fer_model *m, const char *name, size_t len) {
  if (len == 5 && memcmp(name, "input", 5) == 0) return FER__SRC_INPUT;
  for (int i = 0; i < m->num_layers; i++)
    if (strlen(m->layers[i].name) == len && memcmp(m->layers[i].name, name, len) == 0)
      return i;
  return -2;
}

static fer__shape shape_of(const fer_model *m, int src) {
  return src == FER__SRC_INPUT ? m->input : m->layers[src].out;
}

/* Names and sources of a new layer: valid indices, a fresh valid name, and
 * a name on every layer it reads other than the one before it (so the
 * architecture text can refer to it). */
static fer_status check_graph(fer_model *m, fer__layer *l, const char *keyword) {
  const fer__layer_ops *ops = fer__layer_ops_of(l->kind);
  int lo = ops->min_inputs ? ops->min_inputs : 1;
  int hi = ops->max_inputs ? ops->max_inputs : 1;
  if (l->num_src == 0) {
    l->num_src = 1;
    l->src[0] = m->num_layers - 1;
  }
  if (l->num_src < lo || l->num_src > hi)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: %d inputs (takes %d to %d)",
                     keyword, l->num_src, lo, hi);
  for (int j = 0; j < l->num_src; j++)
    if (l->src[j] < FER__SRC_INPUT || l->src[j] >= m->num_layers)
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: input %d is not an earlier layer",
                       keyword, l->src[j]);
  size_t n = strnlen(l->name, FER__NAME_MAX);
  if (n == FER__NAME_MAX)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: name longer than %d bytes", keyword,
                     FER__NAME_MAX - 1);
  if (n) {
    int ok = (l->name[0] >= 'a' && l->name[0] <= 'z') ||
             (l->name[0] >= 'A' && l->name[0] <= 'Z') || l->name[0] == '_';
    for (size_t k = 1; k < n && ok; k++) {
      char c = l->name[k];
      ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
    }
    if (!ok)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: name '%s' is not letters, digits and _ (not starting "
                       "with a digit)", keyword, l->name);
    if (fer__model_find_name(m, l->name, n) != -2)
      return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: the name '%s' is taken", keyword,
                       l->name);
  }
  for (int j = 0; j < l->num_src; j++) l->src_shape[j] = shape_of(m, l->src[j]);
  l->in = l->src_shape[0];
  return FER_OK;
}

/* Once the layer is in: a layer it reads by index (C or ONNX import) other
 * than the one before it gets a name, so the text can refer to it. */
static void name_sources(fer_model *m, const fer__layer *l) {
  for (int j = 0; j < l->num_src; j++) {
    int s = l->src[j];
    if (s < 0 || m->layers[s].name[0] || (j == 0 && s == m->num_layers - 2)) continue;
    char name[FER__NAME_MAX];
    for (int k = 0;; k++) {
      snprintf(name, sizeof name, k ? "t%d_%d" : "t%d", s, k);
      if (fer__model_find_name(m, name, strlen(name)) == -2) break;
    }
    snprintf(m->layers[s].name, sizeof m->layers[s].name, "%s", name);
  }
}

/* fan_in and fan_out as PyTorch computes them for a weight of shape
 * [units][fan_in / (kh kw)][kh][kw]. */
void fer__layer_init(fer__layer *l, fer_init init, fer__rng *rng) {
  if (l->tensor[0] && (l->kind == FER_LAYER_CONV || l->kind == FER_LAYER_DENSE)) {
    double fan_in = (double)l->tensor_size[0] / l->units;
    double fan_out = (double)l->units * l->kh * l->kw;
    double scale;
    int uniform = init == FER_INIT_HE_UNIFORM || init == FER_INIT_GLOROT_UNIFORM;
    if (init == FER_INIT_HE_UNIFORM || init == FER_INIT_HE_NORMAL)
      scale = uniform ? sqrt(6.0 / fan_in) : sqrt(2.0 / fan_in);
    else
      scale = uniform ? sqrt(6.0 / (fan_in + fan_out))
                      : sqrt(2.0 / (fan_in + fan_out));
    for (size_t i = 0; i < l->tensor_size[0]; i++)
      l->tensor[0][i] = uniform
          ? (float)(scale * (2.0 * fer__rng_uniform(rng) - 1.0))
          : (float)(scale * fer__rng_normal(rng));
    if (l->tensor[1]) memset(l->tensor[1], 0, l->tensor_size[1] * sizeof(float));
    return;
  }
  if (l->kind == FER_LAYER_BATCH_NORM) {
    for (size_t i = 0; i < l->tensor_size[0]; i++) {
      l->tensor[0][i] = 1.0f;
      l->tensor[1][i] = 0.0f;
      l->tensor[2][i] = 0.0f;
      l->tensor[3][i] = 1.0f;
    }
  }
}

static size_t trainable_floats_of(const fer__layer *l) {
  size_t n = 0;
  for (int k = 0; k < FER__TRAINABLE_TENSORS; k++) n += l->tensor_size[k];
  return n;
}

static long total_params(const fer_model *m) {
  long n = 0;
  for (int i = 0; i < m->num_layers; i++)
    for (int k = 0; k < FER__TENSORS; k++) n += (long)m->layers[i].tensor_size[k];
  return n;
}

fer_status fer__model_append(fer_model *m, const fer__layer *proto) {
  const fer__layer_ops *ops = fer__layer_ops_of(proto->kind);
  if (!ops)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "layer kind %d is unknown",
                     (int)proto->kind);
  if (m->num_layers >= FER_MODEL_MAX_LAYERS)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: the model already has %d layers",
                     ops->keyword, FER_MODEL_MAX_LAYERS);
  fer__layer l = *proto;
  memset(l.tensor, 0, sizeof l.tensor);
  memset(l.tensor_size, 0, sizeof l.tensor_size);
  fer_status st = check_graph(m, &l, ops->keyword);
  if (st) return st;
  st = ops->setup(&l);
  if (st) return st;
  if (l.out.c < 1 || l.out.h < 1 || l.out.w < 1)
    return fer__fail(FER_ERR_SHAPE, "%s: output %dx%dx%d is empty",
                     ops->keyword, l.out.c, l.out.h, l.out.w);
  /* Channels may exceed FER_MODEL_MAX_DIM after a flatten. */
  if (l.out.h > FER_MODEL_MAX_DIM ||
      l.out.w > FER_MODEL_MAX_DIM ||
      fer__shape_size(l.out) > FER_MODEL_MAX_ACTIVATION)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: output %dx%dx%d is beyond the limits",
                     ops->keyword, l.out.c, l.out.h, l.out.w);
  long params = total_params(m);
  for (int k = 0; k < FER__TENSORS; k++) {
    if (l.tensor_size[k] > (size_t)FER_MODEL_MAX_PARAMS ||
        params + (long)l.tensor_size[k] > FER_MODEL_MAX_PARAMS)
      return fer__fail(FER_ERR_TOO_LARGE,
                       "%s: more than %ld parameters in the model", ops->keyword,
                       FER_MODEL_MAX_PARAMS);
    params += (long)l.tensor_size[k];
  }
  if (m->num_layers == m->layer_capacity) {
    int cap = m->layer_capacity ? m->layer_capacity * 2 : 16;
    fer__layer *grown = fer__realloc(m->layers, (size_t)cap * sizeof *grown);
    if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", ops->keyword);
    m->layers = grown;
    m->layer_capacity = cap;
  }
  for (int k = 0; k < FER__TENSORS; k++) {
    if (!l.tensor_size[k]) continue;
    l.tensor[k] = fer__calloc(l.tensor_size[k], sizeof(float));
    if (!l.tensor[k]) {
      for (int j = 0; j < k; j++) fer__free(l.tensor[j]);
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory for weights",
                       ops->keyword);
    }
  }
  fer__layer_init(&l, m->init, &m->init_rng);
  l.param_offset = m->trainable_floats;
  m->trainable_floats += trainable_floats_of(&l);
  m->layers[m->num_layers++] = l;
  name_sources(m, &m->layers[m->num_layers - 1]);
  /* The shapes changed: any workspace and quantisation are stale. */
  fer__workspace_free(m->ws);
  m->ws = NULL;
  fer__model_drop_quant(m);
  return FER_OK;
}

fer_status fer_model_init_weights(fer_model *m, fer_init init, uint64_t seed) {
  fer_status st = fer__model_check(m, "fer_model_init_weights");
  if (st) return st;
  if (init < FER_INIT_HE_UNIFORM || init > FER_INIT_GLOROT_NORMAL)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_init_weights: initialiser %d is unknown", (int)init);
  m->init = init;
  fer__rng_seed(&m->init_rng, seed);
  for (int i = 0; i < m->num_layers; i++)
    fer__layer_init(&m->layers[i], init, &m->init_rng);
  fer__model_drop_quant(m);
  return FER_OK;
}

/* ---- Building through functions: fill a prototype, append it. ---- */

static fer_status append_checked(fer_model *m, const char *who,
                                 const fer__layer *proto) {
  fer_status st = fer__model_check(m, who);
  if (st) return st;
  return fer__model_append(m, proto);
}

fer_status fer_model_add_conv(fer_model *m, int filters, int kernel_h,
                              int kernel_w, int stride, int padding,
                              int dilation, int groups, int bias) {
  fer__layer l = {.kind = FER_LAYER_CONV, .units = filters, .kh = kernel_h,
                  .kw = kernel_w, .stride = stride, .padding = padding,
                  .dilation = dilation, .groups = groups, .bias = bias != 0};
  return append_checked(m, "fer_model_add_conv", &l);
}

static fer_status add_pool(fer_model *m, fer_layer_kind kind, const char *who,
                           int wh, int ww, int stride, int padding) {
  fer__layer l = {.kind = kind, .kh = wh, .kw = ww, .stride = stride,
                  .padding = padding, .dilation = 1, .groups = 1};
  return append_checked(m, who, &l);
}

fer_status fer_model_add_max_pool(fer_model *m, int wh, int ww, int stride,
                                  int padding) {
  return add_pool(m, FER_LAYER_MAX_POOL, "fer_model_add_max_pool", wh, ww,
                  stride, padding);
}

fer_status fer_model_add_avg_pool(fer_model *m, int wh, int ww, int stride,
                                  int padding) {
  return add_pool(m, FER_LAYER_AVG_POOL, "fer_model_add_avg_pool", wh, ww,
                  stride, padding);
}

static fer_status add_simple(fer_model *m, fer_layer_kind kind, float alpha,
                             const char *who) {
  fer__layer l = {.kind = kind, .alpha = alpha};
  return append_checked(m, who, &l);
}

fer_status fer_model_add_global_avg_pool(fer_model *m) {
  return add_simple(m, FER_LAYER_GLOBAL_AVG_POOL, 0, "fer_model_add_global_avg_pool");
}

fer_status fer_model_add_batch_norm(fer_model *m, float momentum, float epsilon) {
  fer__layer l = {.kind = FER_LAYER_BATCH_NORM, .alpha = momentum, .eps = epsilon};
  return append_checked(m, "fer_model_add_batch_norm", &l);
}

fer_status fer_model_add_relu(fer_model *m) {
  return add_simple(m, FER_LAYER_RELU, 0, "fer_model_add_relu");
}
fer_status fer_model_add_leaky_relu(fer_model *m, float slope) {
  return add_simple(m, FER_LAYER_LEAKY_RELU, slope, "fer_model_add_leaky_relu");
}
fer_status fer_model_add_elu(fer_model *m, float alpha) {
  return add_simple(m, FER_LAYER_ELU, alpha, "fer_model_add_elu");
}
fer_status fer_model_add_sigmoid(fer_model *m) {
  return add_simple(m, FER_LAYER_SIGMOID, 0, "fer_model_add_sigmoid");
}
fer_status fer_model_add_tanh(fer_model *m) {
  return add_simple(m, FER_LAYER_TANH, 0, "fer_model_add_tanh");
}
fer_status fer_model_add_softmax(fer_model *m) {
  return add_simple(m, FER_LAYER_SOFTMAX, 0, "fer_model_add_softmax");
}
fer_status fer_model_add_dropout(fer_model *m, float rate) {
  return add_simple(m, FER_LAYER_DROPOUT, rate, "fer_model_add_dropout");
}
fer_status fer_model_add_flatten(fer_model *m) {
  return add_simple(m, FER_LAYER_FLATTEN, 0, "fer_model_add_flatten");
}
fer_status fer_model_add_dense(fer_model *m, int units, int bias) {
  fer__layer l = {.kind = FER_LAYER_DENSE, .units = units, .kh = 1, .kw = 1,
                  .bias = bias != 0};
  return append_checked(m, "fer_model_add_dense", &l);
}

/* ---- Queries ---- */

int fer_model_num_layers(const fer_model *m) {
  return fer__model_check(m, "fer_model_num_layers") ? 0 : m->num_layers;
}

fer_layer_kind fer_model_layer_kind(const fer_model *m, int index) {
  if (fer__model_check(m, "fer_model_layer_kind") || index < 0 ||
      index >= m->num_layers)
    return (fer_layer_kind)0;
  return m->layers[index].kind;
}

fer_status fer_model_layer_shape(const fer_model *m, int index, int *channels,
                                 int *height, int *width) {
  fer_status st = fer__model_check(m, "fer_model_layer_shape");
  if (st) return st;
  if (index < -1 || index >= m->num_layers)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_layer_shape: layer %d is not in 0..%d", index,
                     m->num_layers - 1);
  fer__shape s = index < 0 ? m->input : m->layers[index].out;
  if (channels) *channels = s.c;
  if (height) *height = s.h;
  if (width) *width = s.w;
  return FER_OK;
}

fer_status fer_model_input_shape(const fer_model *m, int *channels, int *height,
                                 int *width) {
  return fer_model_layer_shape(m, -1, channels, height, width);
}

int fer_model_output_size(const fer_model *m) {
  if (fer__model_check(m, "fer_model_output_size")) return 0;
  return (int)fer__shape_size(fer__model_output_shape(m));
}

long fer_model_num_params(const fer_model *m, long *trainable,
                          long *non_trainable) {
  long t = 0, nt = 0;
  if (!fer__model_check(m, "fer_model_num_params")) {
    for (int i = 0; i < m->num_layers; i++)
      for (int k = 0; k < FER__TENSORS; k++) {
        long s = (long)m->layers[i].tensor_size[k];
        if (k < FER__TRAINABLE_TENSORS) t += s; else nt += s;
      }
  }
  if (trainable) *trainable = t;
  if (non_trainable) *non_trainable = nt;
  return t + nt;
}

double fer_model_flops(const fer_model *m) {
  if (fer__model_check(m, "fer_model_flops")) return 0.0;
  double f = 0.0;
  for (int i = 0; i < m->num_layers; i++)
    f += fer__layer_ops_of(m->layers[i].kind)->flops(&m->layers[i]);
  return f;
}

static fer_status tensor_slot(const fer_model *m, const char *who, int layer,
                              fer_tensor which, const fer__layer **out) {
  fer_status st = fer__model_check(m, who);
  if (st) return st;
  if (layer < 0 || layer >= m->num_layers)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: layer %d is not in 0..%d",
                     who, layer, m->num_layers - 1);
  if (which < FER_TENSOR_WEIGHT || which > FER_TENSOR_RUNNING_VAR ||
      !m->layers[layer].tensor[which - 1])
    return fer__fail(FER_ERR_NOT_FOUND, "%s: layer %d (%s) has no tensor %d",
                     who, layer,
                     fer__layer_ops_of(m->layers[layer].kind)->keyword, (int)which);
  *out = &m->layers[layer];
  return FER_OK;
}

fer_status fer_model_get_tensor(const fer_model *m, int layer, fer_tensor which,
                                float *dst, size_t count, size_t *needed) {
  const fer__layer *l = NULL; /* set when st is FER_OK; gcc -O3 cannot tell */
  fer_status st = tensor_slot(m, "fer_model_get_tensor", layer, which, &l);
  if (st) return st;
  size_t n = l->tensor_size[which - 1];
  if (needed) *needed = n;
  if (count < n || (!dst && n))
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL,
                     "fer_model_get_tensor: layer %d needs %zu floats, got %zu",
                     layer, n, dst ? count : 0);
  memcpy(dst, l->tensor[which - 1], n * sizeof(float));
  return FER_OK;
}

fer_status fer_model_set_tensor(fer_model *m, int layer, fer_tensor which,
                                const float *src, size_t count) {
  const fer__layer *l = NULL;
  fer_status st = tensor_slot(m, "fer_model_set_tensor", layer, which, &l);
  if (st) return st;
  size_t n = l->tensor_size[which - 1];
  if (count != n || !src)
    return fer__fail(FER_ERR_SHAPE,
                     "fer_model_set_tensor: layer %d tensor %d holds %zu floats, got %zu",
                     layer, (int)which, n, count);
  memcpy(m->layers[layer].tensor[which - 1], src, n * sizeof(float));
  fer__model_drop_quant(m);
  return FER_OK;
}
