/*
 * The CNN engine's insides, shared by the files of lib/nn/ and by the
 * training code built on it (lib/train/): the model and layer records, the
 * layer ops table, the workspace, the loss. Nothing here is exported, and
 * nothing here knows about optimisers or the fit loop (lib/train/).
 */
#ifndef FER_NN_INTERNAL_H
#define FER_NN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core_internal.h"
#include "fer/nn.h"
#include "nn/simd.h"
#include "util/buffer.h"

#define FER__MODEL_MAGIC 0x4D524546u     /* catches freed or foreign pointers */
#define FER__PREDICTOR_MAGIC 0x44525046u

/* The current model file format version (docs/model-format.md). */
/* Version 2 added the NORM section; version 3 graph architectures (named
 * layers, from=, multi-input layers). Files are written with the lowest
 * version that holds them, so older readers keep reading chain models. */
#define FER__MODEL_FORMAT_VERSION 4

typedef struct fer__shape {
  int c, h, w;
} fer__shape;

static inline long fer__shape_size(fer__shape s) {
  return (long)s.c * s.h * s.w;
}

/* Tensor slots of a layer, indexed by fer_tensor - 1. Slots 0 and 1
 * (weight, bias) are trainable; 2 and 3 (running statistics) are not. */
enum { FER__TENSORS = 4, FER__TRAINABLE_TENSORS = 2 };

/* Graph models: a layer reads up to FER__MAX_INPUTS tensors, each the
 * output of an earlier layer (or the model input, FER__SRC_INPUT); names
 * are how the architecture text refers to layers. */
enum { FER__MAX_INPUTS = 8, FER__NAME_MAX = 32, FER__SRC_INPUT = -1 };

typedef struct fer__layer {
  fer_layer_kind kind;
  /* Hyperparameters; which ones matter depends on the kind. */
  int units;          /* conv filters, dense units */
  int kh, kw;         /* kernel or window size (dense: 1x1) */
  int stride, dilation, groups, bias;
  int padding;        /* >= 0 explicit, or FER_PADDING_SAME */
  float alpha;        /* leaky slope, ELU alpha, dropout rate, BN momentum */
  float eps;          /* BN epsilon */
  /* Inputs: layer indices (FER__SRC_INPUT for the model input). A proto
   * with num_src 0 reads the previous layer. in == src_shape[0]. */
  int src[FER__MAX_INPUTS];
  int num_src;
  fer__shape src_shape[FER__MAX_INPUTS];
  char name[FER__NAME_MAX]; /* "" when unnamed */
  /* Resolved by the ops' setup from the input shape. */
  int pad_top, pad_left;
  fer__shape in, out;
  float *tensor[FER__TENSORS]; /* owned; NULL when the layer has none */
  size_t tensor_size[FER__TENSORS];
  /* Offset of tensor[0] (then tensor[1]) in the model's flat index space of
   * trainable floats: gradients and optimizer moments live there. */
  size_t param_offset;
} fer__layer;

/* What one forward or backward call over a batch sees. */
typedef struct fer__pass {
  int n;               /* images in the batch */
  int training;        /* batch statistics and dropout on */
  int threads;         /* threads the parallel loops may use */
  float *scratch;      /* threads x scratch_floats floats */
  size_t scratch_floats;
  fer__rng *rng;       /* dropout masks (training only) */
  /* Predictors (whose model must not change): this layer's kept_floats of
   * state derived from its weights alone (conv: Winograd filters), valid
   * once *kept_ready is set. NULL elsewhere: derive it per call. */
  float *kept;
  int *kept_ready;
} fer__pass;

struct fer__arch_words;

/* The output pass of a layer, per output channel f:
 *   y = act((acc + bias[f]) * scale[f] + shift[f])
 * with act ReLU when `relu` is set and each absent (NULL) part skipped.
 * fer__forward runs the layers after a convolution this way inside it
 * while the values are still in cache, instead of as passes of their own:
 * a batch norm (running statistics, at inference) and a ReLU; and a ReLU
 * after a batch norm (in training too: ReLU's backward reads only its
 * output, and neither conv's nor bn's backward reads its own output). */
typedef struct fer__epilogue {
  const float *bias, *scale, *shift;
  int relu;
} fer__epilogue;

/* Applies `e` for output channel f to `count` values of y, in one pass. */
static inline void fer__epilogue_apply(const fer__epilogue *e, int f, float *y,
                                       long count) {
  fer__affine_act(y, y, count, e->bias ? e->bias[f] : 0.0f,
                  e->scale ? e->scale[f] : 1.0f, e->scale ? e->shift[f] : 0.0f,
                  e->relu);
}

static inline int fer__epilogue_empty(const fer__epilogue *e) {
  return !e->bias && !e->scale && !e->relu;
}

/* One layer kind: its shape rule, forward and backward side by side, and
 * its architecture-text spelling. */
typedef struct fer__layer_ops {
  fer_layer_kind kind;
  const char *keyword; /* architecture-text keyword */
  /* Validates the hyperparameters against l->in; sets l->out, the resolved
   * fields and tensor_size[]. Messages start with the keyword. */
  fer_status (*setup)(fer__layer *l);
  /* Floats (4-byte slots) kept from forward to backward for n images. */
  size_t (*saved_floats)(const fer__layer *l, int n);
  /* Scratch floats per thread (im2col, per-thread gradient partials). */
  size_t (*scratch_floats)(const fer__layer *l);
  /* Optional: floats of `kept` state (fer__pass) for batches of n. */
  size_t (*kept_floats)(const fer__layer *l, int n);
  /* Multiply-adds times two (or element operations) for one image. */
  double (*flops)(const fer__layer *l);
  void (*forward)(const fer__layer *l, const fer__pass *p, const float *x,
                  float *y, float *saved);
  /* Optional: forward with `e` in the output pass, for the layers after
   * this one that fer__forward folds in (its bias is ignored: the layer
   * adds its own). Conv takes scale, shift (evaluation only) and relu; bn
   * takes relu. */
  void (*forward_fused)(const fer__layer *l, const fer__pass *p,
                        const float *x, float *y, float *saved,
                        const fer__epilogue *e);
  /* dx may be NULL (first layer: nobody needs it). grads[k] receives the
   * gradient of tensor[k] (overwritten), for trainable k that exist. */
  void (*backward)(const fer__layer *l, const fer__pass *p, const float *x,
                   const float *y, const float *dy, float *dx,
                   const float *saved, float *const *grads);
  /* Layers with several inputs (add, concat, mul) have these instead of
   * forward/backward (which are NULL): xs[j] is input j (l->src_shape[j]);
   * backward_n ADDS input j's gradient into dxs[j]. */
  int min_inputs, max_inputs; /* 0: exactly one input */
  void (*forward_n)(const fer__layer *l, const fer__pass *p,
                    const float *const *xs, float *y);
  void (*backward_n)(const fer__layer *l, const fer__pass *p,
                     const float *const *xs, const float *y, const float *dy,
                     float *const *dxs);
  /* Optional: after a training forward, fold batch statistics into the
   * layer's running statistics (batch norm). */
  void (*update_running)(fer__layer *l, const float *saved, int n);
  /* Parses the words after the keyword (see fer__arch_words) into l. */
  fer_status (*parse)(fer__layer *l, const struct fer__arch_words *words);
  /* Appends " args" (after the keyword) in the canonical spelling. */
  void (*format)(const fer__layer *l, fer__buf *out);
} fer__layer_ops;

/* The registry: ops by kind (NULL for an unknown kind) and by keyword. */
const fer__layer_ops *fer__layer_ops_of(int kind);
const fer__layer_ops *fer__layer_ops_by_keyword(const char *word, size_t len);

/* Ops tables, one per layer_<kind>.c file. */
extern const fer__layer_ops fer__conv_ops, fer__max_pool_ops,
    fer__avg_pool_ops, fer__global_avg_pool_ops, fer__batch_norm_ops,
    fer__relu_ops, fer__leaky_relu_ops, fer__elu_ops, fer__sigmoid_ops,
    fer__tanh_ops, fer__softmax_ops, fer__dropout_ops, fer__dense_ops,
    fer__flatten_ops, fer__add_ops, fer__concat_ops, fer__mul_ops;

/* A batch norm's evaluation-mode affine map y = x * scale[c] + shift[c]
 * (running statistics), computed as its forward pass computes it. */
void fer__bn_inference_affine(const fer__layer *l, float *scale, float *shift);

/* Pooling windows (layer_pool.c): shared shape rule, text spelling
 * "KHxKW/S [pad=P]", and the window bounds of one output position. */
fer_status fer__pool_setup(fer__layer *l);
/* The input rows [*ya, *yb) and columns [*xa, *xb) under output (oy, ox)
 * of a pooling layer, clipped to the image (padding is never read). */
static inline void fer__pool_window(const fer__layer *l, int oy, int ox,
                                    int *ya, int *yb, int *xa, int *xb) {
  int y0 = oy * l->stride - l->pad_top, x0 = ox * l->stride - l->pad_left;
  *ya = FER__MAX(y0, 0);
  *yb = FER__MIN(y0 + l->kh, l->in.h);
  *xa = FER__MAX(x0, 0);
  *xb = FER__MIN(x0 + l->kw, l->in.w);
}
fer_status fer__pool_parse(fer__layer *l, const struct fer__arch_words *w);
void fer__pool_format(const fer__layer *l, fer__buf *out);

/* ------------------------------------------------------------------------
 * Architecture text words: the parsed pieces of one line, each with its
 * column so messages can point at it.
 * ------------------------------------------------------------------------ */
enum { FER__ARCH_MAX_WORDS = 16 };
typedef struct fer__arch_word {
  const char *text; /* not NUL-terminated */
  size_t len;
  int column;       /* 1-based */
} fer__arch_word;
typedef struct fer__arch_words {
  fer__arch_word word[FER__ARCH_MAX_WORDS];
  int count;        /* word[0] is the keyword */
  int line;         /* 1-based, for messages */
} fer__arch_words;

/* Helpers for the ops' parse functions. Each fails with FER_ERR_FORMAT and
 * "arch:LINE:COL: ..." naming the word. */
fer_status fer__arch_error(const fer__arch_words *w, int index,
                           const char *fmt, ...) FER__PRINTF(3, 4);
/* Positive integer. */
fer_status fer__arch_int(const fer__arch_words *w, int index, int *out);
/* A finite number. */
fer_status fer__arch_float(const fer__arch_words *w, int index, float *out);
/* "KxK" or "K" (square) into kh, kw; with want_stride "KxK/S" too (stride
 * defaults to the window height when absent). */
fer_status fer__arch_window(const fer__arch_words *w, int index, int *kh,
                            int *kw, int *stride);
/* 1 when word `index` is "key=..." and sets *value to the text after '='. */
int fer__arch_is_option(const fer__arch_words *w, int index, const char *key,
                        fer__arch_word *value);
/* Writes a float so that parsing it back gives the same float. */
void fer__arch_format_float(fer__buf *out, float v);

/* ------------------------------------------------------------------------
 * The model
 * ------------------------------------------------------------------------ */
typedef struct fer__metadata_entry {
  char *key;
  char *value;
} fer__metadata_entry;

typedef struct fer__workspace fer__workspace;
typedef struct fer__quant fer__quant; /* nn/quant.h */

/* Keys 1.. of fer_model_set; slot 0 unused. */
enum { FER__MODEL_SETTINGS = FER_MODEL_INT8_PORTABLE + 1 };

struct fer_model {
  uint32_t magic;
  fer__shape input;
  fer__layer *layers;
  int num_layers, layer_capacity;
  size_t trainable_floats; /* size of the flat trainable index space */
  /* Initialiser for new weights and its generator. */
  fer_init init;
  fer__rng init_rng;
  /* Class names (NULL = "class<i>"), preprocessing, metadata. */
  char **class_names;
  int num_class_names;
  float pre_scale, pre_mean, pre_std;
  unsigned norm_flags;  /* FER_NORM_* */
  float norm_sharpness; /* 0 = no sharpness limit */
  fer__metadata_entry *metadata;
  int num_metadata;
  /* Training state. */
  int training;
  uint64_t seed;
  fer__rng dropout_rng;
  float label_smoothing;
  float *class_weights; /* NULL or output_size floats */
  fer__workspace *ws;   /* forward/evaluate/train workspace, lazily made */
  /* fer_model_set values (quantize.c) and the int8 quantisation (NULL:
   * none). */
  double settings[FER__MODEL_SETTINGS];
  fer__quant *quant;
};

/* Stores the defaults of the model's keyed settings (quantize.c). */
void fer__model_settings_defaults(fer_model *m);

/* The per-image normalisation of fer_model_preprocess on `n` images that
 * already had the affine preprocessing (lib/nn/input_norm.c). Training
 * batches (`training` != 0) skip the sharpness limit. */
fer_status fer__model_normalize(const fer_model *m, float *x, int n,
                                int training);
/* fer_model_preprocess without the argument checks: raw pixel values to
 * model input (affine preprocessing, then the per-image normalisation). */
fer_status fer__model_input(const fer_model *m, float *x, int n);

/* FER_OK for a live model, else FER_ERR_MISUSE naming `who`. */
fer_status fer__model_check(const fer_model *m, const char *who);
/* Output shape of the last layer (the input shape when there are none). */
fer__shape fer__model_output_shape(const fer_model *m);
/* 1 when every layer reads just the layer before it and none is named (a
 * plain chain: the version-1/2 architecture text). */
int fer__model_is_chain(const fer_model *m);

/* Whether layer j (after i) is a one-input layer of `kind` that reads layer
 * i, and nothing else reads i: then i's output is only an intermediate of
 * the pair, and need not be written (workspace.c: fusion; quantize.c: what
 * a quantised layer covers). */
int fer__sole_reader(const fer_model *m, int i, int j, fer_layer_kind kind);
/* Index of the layer named `name` (len bytes), FER__SRC_INPUT for "input",
 * or -2 when there is none. */
int fer__model_find_name(const fer_model *m, const char *name, size_t len);
/* The output of source `src` of a forward pass: x for the model input. */
static inline const float *fer__src_act(float *const *act, const float *x, int src) {
  return src == FER__SRC_INPUT ? x : act[src];
}
/* Runs setup on `proto` (its hyperparameters filled in) against the current
 * output shape, allocates and initialises its tensors and appends it. On
 * failure the model is unchanged. */
fer_status fer__model_append(fer_model *m, const fer__layer *proto);
/* Initialise one layer's tensors with the model's initialiser. */
void fer__layer_init(fer__layer *l, fer_init init, fer__rng *rng);

/* Parses one line of architecture text (a layer, a comment or nothing) and
 * appends the layer to m; `line_number` goes into messages. */
fer_status fer__arch_parse_line(fer_model *m, const char *line, size_t len,
                                int line_number);
/* Appends the whole architecture text (input line first) to `out`. */
fer_status fer__model_text(const fer_model *m, fer__buf *out);

/* ------------------------------------------------------------------------
 * Workspace: activations, saved state, scratch, gradients for a batch size.
 * Allocated once per batch size and reused.
 * ------------------------------------------------------------------------ */
struct fer__workspace {
  int n;             /* batch size it was made for */
  int threads;
  int with_grads;    /* backward buffers exist */
  float **act;       /* act[i]: output of layer i, n x size */
  float **saved;     /* per layer, may be NULL */
  float *scratch;
  size_t scratch_floats; /* per thread */
  float *delta_a, *delta_b; /* ping-pong gradient buffers, n x max act */
  float *grads;      /* trainable_floats */
  float **dact;      /* graph models with grads: dL/d(output of layer i) */
  unsigned char *dact_live; /* per layer: dact[i] holds a gradient */
  int grads_ready;   /* grads holds a gradient not yet applied (lib/train) */
  float *input;      /* n x input size, for image predictions */
  float *affine;     /* 2 x the widest batch norm: a fused bn's scale, shift */
  float **kept;      /* per layer (NULL: none), see fer__pass; NULL: not kept */
  int *kept_ready;
  void *quant_scratch;  /* the int8 path's bytes (nn/quant.h) */
  size_t quant_scratch_bytes;
};

/* Makes sure *ws fits (n, threads, with_grads); reallocates if not. */
fer_status fer__workspace_prepare(const fer_model *m, fer__workspace **ws,
                                  int n, int with_grads);
void fer__workspace_free(fer__workspace *ws);
/* For a predictor's workspace: memory in which layers keep state derived
 * from the weights (which must not change while it lives) across calls. */
fer_status fer__workspace_keep(const fer_model *m, fer__workspace *ws);
/* Runs every layer; returns the output (inside ws). `rng` only for
 * training. The model is written only when training (running stats). */
const float *fer__forward(const fer_model *m, fer__workspace *ws,
                          const float *x, int n, int training, fer__rng *rng);
/* Index of the first layer of the loss's logits: the final softmax, when
 * there is one, is fused into the loss. */
int fer__logits_layers(const fer_model *m);
/* The logits the loss reads after fer__forward on input x (x itself for a
 * model with no layer before the fused softmax). */
const float *fer__logits_of(const fer_model *m, const float *x);
/* Checks a batch for fer_model_forward/evaluate/train_step (`who` names the
 * caller in the message); labels are required when need_labels is set. */
fer_status fer__check_batch(fer_model *m, const char *who, const float *x,
                            const int32_t *labels, int n, int need_labels);
/* Softmax cross-entropy with label smoothing and class weights: the mean
 * loss over the batch; writes dL/dz when dz is not NULL and the count of
 * correct argmax predictions to *correct. */
double fer__cross_entropy(const float *z, int n, int K, const int32_t *labels,
                          float smoothing, const float *class_weights,
                          float *dz, int *correct);
/* The same against soft targets t (n x K, rows summing to 1; neither the
 * model's smoothing nor its class weights apply): the batch loss is
 * sum_i v_i CE(t_i, softmax(z_i)) / sum_i v_i with v the sample weights
 * (NULL: all 1). A hit is argmax z == argmax t. */
double fer__cross_entropy_soft(const float *z, int n, int K, const float *targets,
                               const float *sample_weights, float *dz,
                               int *correct);
/* Checks soft targets (and sample weights when not NULL) of a batch of n
 * images and K classes; `who` names the caller in the message. */
fer_status fer__check_soft_targets(const char *who, const float *targets,
                                   size_t target_count, const float *sample_weights,
                                   int n, int K);

/* ------------------------------------------------------------------------
 * Float16 (IEEE binary16), round to nearest even.
 * ------------------------------------------------------------------------ */
uint16_t fer__f32_to_f16(float f);
float fer__f16_to_f32(uint16_t h);

/* The 7 FER2013 class names in CSV order. */
extern const char *const fer__fer2013_class_names[7];

/* OpenMP directives that vanish (without an unknown-pragma warning) when
 * OpenMP is off: FER__OMP(omp parallel for ...). */
#ifdef _OPENMP
#define FER__OMP(directive) _Pragma(#directive)
#else
#define FER__OMP(directive)
#endif

/* Shared trivial ops entries (layer_common.c) for layers without saved
 * state, scratch, FLOPs, arguments or a shape change. */
size_t fer__no_saved(const fer__layer *l, int n);
size_t fer__no_scratch(const fer__layer *l);
double fer__no_flops(const fer__layer *l);
fer_status fer__same_shape(fer__layer *l);
fer_status fer__parse_no_args(fer__layer *l, const struct fer__arch_words *w);
void fer__format_no_args(const fer__layer *l, fer__buf *out);
/* A single optional/required number argument ("leaky 0.1"), in l->alpha. */
fer_status fer__parse_alpha(fer__layer *l, const struct fer__arch_words *w,
                            int required, float fallback);
void fer__format_alpha(const fer__layer *l, fer__buf *out);

/* Whether a loop of about `work` multiply-adds is worth a parallel
 * region: below this, waking threads costs more than it saves (and far more
 * on a loaded machine). */
static inline int fer__worth_parallel(int threads, double work) {
  return threads > 1 && work >= 1e6;
}

/* The calling thread's index inside a parallel loop (0 outside). */
#ifdef _OPENMP
#include <omp.h>
#define FER__THREAD_INDEX() omp_get_thread_num()
#else
#define FER__THREAD_INDEX() 0
#endif

#endif
