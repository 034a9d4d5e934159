/*
 * libfer CNN engine: build, train, save, load and run convolutional networks.
 *
 * Tensors are float32 in NCHW order (image n, channel c, row y, column x).
 * A model is a straight chain of layers that starts with an input shape
 * (channels x height x width) and usually ends with `dense K` + `softmax`.
 *
 * Build a model layer by layer (fer_model_create + fer_model_add_*), from an
 * architecture text (fer_model_from_text, one layer per line, the same
 * spelling the `fer` command, the Python binding and saved files use), or by
 * the name of a reference network (fer_model_create_reference).
 *
 * Thread safety of a fer_model:
 *  - const functions (queries, summary, save, fer_model_predict*) never
 *    write into the model: any number of threads may call them on the same
 *    model at once;
 *  - everything that changes a model (add, set, init, train step, forward,
 *    evaluate, load of weights) needs exclusive access to it.
 * A fer_predictor owns scratch memory and belongs to one thread at a time;
 * several predictors may share one model.
 */
#ifndef FER_NN_H
#define FER_NN_H

#include "core.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct fer_model fer_model;
typedef struct fer_optimizer fer_optimizer;
typedef struct fer_schedule fer_schedule;
typedef struct fer_predictor fer_predictor;

/* Layer kinds. The values are stored in model files: explicit and
 * append-only, never renumbered or reused. */
typedef enum fer_layer_kind {
  FER_LAYER_CONV = 1,       /* conv F KHxKW [same|valid|pad=P] [stride=S] [dil=D] [groups=G] [nobias] */
  FER_LAYER_MAX_POOL = 2,   /* max KHxKW/S [pad=P] */
  FER_LAYER_AVG_POOL = 3,   /* avg KHxKW/S [pad=P] (zero padding counts) */
  FER_LAYER_GLOBAL_AVG_POOL = 4, /* gap */
  FER_LAYER_BATCH_NORM = 5, /* bn [momentum=M] [eps=E] */
  FER_LAYER_RELU = 6,       /* relu */
  FER_LAYER_LEAKY_RELU = 7, /* leaky SLOPE */
  FER_LAYER_ELU = 8,        /* elu [ALPHA] */
  FER_LAYER_SIGMOID = 9,    /* sigmoid */
  FER_LAYER_TANH = 10,      /* tanh */
  FER_LAYER_SOFTMAX = 11,   /* softmax (over channels) */
  FER_LAYER_DROPOUT = 12,   /* drop RATE */
  FER_LAYER_DENSE = 13,     /* dense N [nobias] */
  FER_LAYER_FLATTEN = 14,   /* flatten */
  /* Graph layers (several inputs; docs/model-format.md, "Graphs"): */
  FER_LAYER_ADD = 15,       /* add NAME... : element-wise sum */
  FER_LAYER_CONCAT = 16,    /* concat NAME... : along channels */
  FER_LAYER_MUL = 17        /* mul NAME : product, C x 1 x 1 broadcast (gates) */
} fer_layer_kind;

/* Convolution padding: a value >= 0 pads that many zeros on every side;
 * FER_PADDING_SAME pads so that the output is ceil(input / stride) (the
 * extra pixel, if any, goes to the bottom/right, as Keras and TensorFlow). */
#define FER_PADDING_VALID 0
#define FER_PADDING_SAME (-1)

/* Weight initialisers (for convolution and dense weights; biases start at
 * zero, batch norm at gamma 1, beta 0, mean 0, variance 1). */
typedef enum fer_init {
  FER_INIT_HE_UNIFORM = 1,     /* U(-b, b), b = sqrt(6 / fan_in) */
  FER_INIT_HE_NORMAL = 2,      /* N(0, 2 / fan_in) */
  FER_INIT_GLOROT_UNIFORM = 3, /* U(-b, b), b = sqrt(6 / (fan_in + fan_out)) */
  FER_INIT_GLOROT_NORMAL = 4   /* N(0, 2 / (fan_in + fan_out)) */
} fer_init;

/* Named tensors of a layer, in PyTorch's layouts: a convolution weight is
 * [F][C/groups][KH][KW], a dense weight [N][inputs] (inputs in the CHW
 * order of the layer before, as torch.flatten). Batch norm: WEIGHT = gamma,
 * BIAS = beta, RUNNING_MEAN, RUNNING_VAR. */
typedef enum fer_tensor {
  FER_TENSOR_WEIGHT = 1,
  FER_TENSOR_BIAS = 2,
  FER_TENSOR_RUNNING_MEAN = 3,
  FER_TENSOR_RUNNING_VAR = 4
} fer_tensor;

/* Limits the builder and the loaders enforce (FER_ERR_TOO_LARGE). */
#define FER_MODEL_MAX_LAYERS 1024
#define FER_MODEL_MAX_DIM 65536           /* channels, height, width, units */
#define FER_MODEL_MAX_PARAMS (1L << 26)   /* floats in all tensors (256 MB) */
#define FER_MODEL_MAX_ACTIVATION (1L << 28) /* floats in one layer output */
FER_API int fer_model_max_layers(void);
FER_API long fer_model_max_params(void);

/* ------------------------------------------------------------------------
 * Building
 * ------------------------------------------------------------------------ */

/* An empty model that takes channels x height x width inputs. Its weight
 * initialiser is FER_INIT_HE_UNIFORM with seed 0 (see fer_model_init_weights);
 * class names are the 7 FER2013 names when the output has 7 classes;
 * preprocessing is x / 255. Free with fer_model_free().
 * FER_ERR_INVALID_ARGUMENT (a size < 1), FER_ERR_TOO_LARGE, OUT_OF_MEMORY. */
FER_API fer_status fer_model_create(int channels, int height, int width,
                                    fer_model **out);
FER_API void fer_model_free(fer_model *m);

/* Append a layer. Each checks its arguments against the current output
 * shape: FER_ERR_INVALID_ARGUMENT for a bad argument, FER_ERR_SHAPE when the
 * layer does not fit (a window larger than the input, channels not divisible
 * by groups, ...), FER_ERR_TOO_LARGE past the limits, FER_ERR_MISUSE for a
 * NULL model. New weights are drawn with the model's initialiser. */
FER_API fer_status fer_model_add_conv(fer_model *m, int filters, int kernel_h,
                                      int kernel_w, int stride, int padding,
                                      int dilation, int groups, int bias);
FER_API fer_status fer_model_add_max_pool(fer_model *m, int window_h,
                                          int window_w, int stride,
                                          int padding);
FER_API fer_status fer_model_add_avg_pool(fer_model *m, int window_h,
                                          int window_w, int stride,
                                          int padding);
FER_API fer_status fer_model_add_global_avg_pool(fer_model *m);
/* momentum: running = (1 - momentum) * running + momentum * batch (PyTorch's
 * convention; 0.1 is its default), epsilon added to the variance (1e-5). */
FER_API fer_status fer_model_add_batch_norm(fer_model *m, float momentum,
                                            float epsilon);
FER_API fer_status fer_model_add_relu(fer_model *m);
FER_API fer_status fer_model_add_leaky_relu(fer_model *m, float slope);
FER_API fer_status fer_model_add_elu(fer_model *m, float alpha);
FER_API fer_status fer_model_add_sigmoid(fer_model *m);
FER_API fer_status fer_model_add_tanh(fer_model *m);
FER_API fer_status fer_model_add_softmax(fer_model *m);
/* Inverted dropout: in training each value is zeroed with probability rate
 * and the rest scaled by 1 / (1 - rate); identity in evaluation. */
FER_API fer_status fer_model_add_dropout(fer_model *m, float rate);
FER_API fer_status fer_model_add_dense(fer_model *m, int units, int bias);
FER_API fer_status fer_model_add_flatten(fer_model *m);

/* Append one layer written as one line of architecture text ("conv 64 3x3
 * same"; for graphs also "b = relu", "conv 8 1x1 from=a", "add a"). The
 * graph layers add, concat and mul have no add_* function: write them as
 * text. FER_ERR_FORMAT with the column in the message on bad text. */
FER_API fer_status fer_model_add_text(fer_model *m, const char *line);

/* A model from architecture text: the first layer line is `input CxHxW`,
 * then one layer per line; `#` starts a comment, blank lines are ignored.
 * Graphs (named layers, from=, add/concat/mul): docs/model-format.md,
 * "Graphs". A graph model trains, saves (format version 3), predicts and
 * is shared between threads under the same rules as a chain.
 * Errors are FER_ERR_FORMAT (or the add_* status) with "arch:LINE:COLUMN:
 * reason" in the message. */
FER_API fer_status fer_model_from_text(const char *text, fer_model **out);

/* The architecture text of a model, one layer per line, in a new
 * NUL-terminated buffer freed with fer_free(). fer_model_from_text() of it
 * builds the same architecture (the round trip is exact). */
FER_API fer_status fer_model_to_text(const fer_model *m, char **out);

/* An ensemble of 2 to 8 classifiers as one new graph model: each member's
 * layers read the shared input, and the output is the softmax of the mean
 * of the members' logits (the normalised geometric mean of their
 * probabilities). Members must each end with a dense layer followed by
 * softmax and agree on the input shape, number of outputs, class names,
 * preprocessing and image normalisation (FER_ERR_SHAPE,
 * FER_ERR_INVALID_ARGUMENT; FER_ERR_UNSUPPORTED for another last layer).
 * The members are only read; the new model is theirs with layer names
 * prefixed "m0_", "m1_", ... and saves, predicts and trains as any graph
 * (metadata "ensemble_members" = the count). Costs the sum of the members'
 * FLOPs. */
FER_API fer_status fer_model_ensemble(const fer_model *const *members,
                                      int count, fer_model **out);

/* The reference networks by name: "seed000", "seed001", "seed002",
 * "vgglite" and the graphs "resnet-lite", "mobilenetv2-lite" (see
 * docs/model-format.md). FER_ERR_NOT_FOUND for another name. */
FER_API fer_status fer_model_create_reference(const char *name,
                                              fer_model **out);
/* Their architecture text (static), or NULL for an unknown name; the names
 * themselves by index 0.. (NULL past the last). */
FER_API const char *fer_model_reference_text(const char *name);
FER_API const char *fer_model_reference_name(int index);

/* Re-draw every convolution and dense weight with `init` from `seed`
 * (deterministic), and reset biases and batch-norm parameters and
 * statistics. Later add_* calls keep using this initialiser and generator. */
FER_API fer_status fer_model_init_weights(fer_model *m, fer_init init,
                                          uint64_t seed);

/* ------------------------------------------------------------------------
 * Queries (const: safe from any number of threads)
 * ------------------------------------------------------------------------ */

FER_API int fer_model_num_layers(const fer_model *m);
/* Kind of layer `index` (0-based, the input is not a layer), or 0. */
FER_API fer_layer_kind fer_model_layer_kind(const fer_model *m, int index);
/* Output shape of layer `index`; index -1 gives the input shape. Any of the
 * out pointers may be NULL. FER_ERR_INVALID_ARGUMENT for a bad index. */
FER_API fer_status fer_model_layer_shape(const fer_model *m, int index,
                                         int *channels, int *height,
                                         int *width);
FER_API fer_status fer_model_input_shape(const fer_model *m, int *channels,
                                         int *height, int *width);
/* Floats in one output of the model (the number of classes). */
FER_API int fer_model_output_size(const fer_model *m);
/* Parameter counts: trainable (weights, biases, gamma, beta) and not
 * (batch-norm running statistics). */
FER_API long fer_model_num_params(const fer_model *m, long *trainable,
                                  long *non_trainable);
/* Forward FLOPs for one image: 2 x the multiply-adds of the convolutions
 * and dense layers (the other layers are not counted, as is usual). */
FER_API double fer_model_flops(const fer_model *m);

/* Copy a layer's tensor out or in (layouts in fer_tensor). `count` is the
 * number of floats the caller's buffer holds / gives; get stores the size in
 * *needed (may be NULL) and returns FER_ERR_BUFFER_TOO_SMALL when count is
 * smaller; set needs count == the size exactly (FER_ERR_SHAPE otherwise).
 * FER_ERR_NOT_FOUND when the layer has no such tensor. */
FER_API fer_status fer_model_get_tensor(const fer_model *m, int layer,
                                        fer_tensor which, float *dst,
                                        size_t count, size_t *needed);
FER_API fer_status fer_model_set_tensor(fer_model *m, int layer,
                                        fer_tensor which, const float *src,
                                        size_t count);

/* A Keras-style table (layer, output shape, parameters; totals; forward
 * FLOPs) in a new NUL-terminated buffer freed with fer_free(). */
FER_API fer_status fer_model_summary(const fer_model *m, char **out);

/* ------------------------------------------------------------------------
 * Class names, preprocessing, metadata (stored in model files)
 * ------------------------------------------------------------------------ */

/* Replaces the class names; `count` must equal fer_model_output_size().
 * Names are copied; 1..255 bytes each, no control characters. */
FER_API fer_status fer_model_set_class_names(fer_model *m,
                                             const char *const *names,
                                             int count);
/* Name of class `index` (owned by the model or static), NULL when out of
 * range. A model without names set answers the FER2013 names when it has 7
 * outputs, and NULL otherwise. */
FER_API const char *fer_model_class_name(const fer_model *m, int index);

/* Input normalisation applied by the image predictors (and recorded for the
 * training loop): value = (pixel * scale - mean) / std. Default scale 1/255,
 * mean 0, std 1. std must not be 0. */
FER_API fer_status fer_model_set_preprocessing(fer_model *m, float scale,
                                               float mean, float std);
FER_API void fer_model_get_preprocessing(const fer_model *m, float *scale,
                                         float *mean, float *std);

/* Per-image normalisation, applied after the affine preprocessing above
 * wherever the library feeds images to the model (training batches,
 * validation, fer_model_predict_image, the analyzer, fer_model_preprocess).
 *
 * FER_NORM_STANDARDIZE: each image (all channels together) is shifted to
 *   mean 0 and scaled to standard deviation 1 (flat images only shifted),
 *   so exposure and contrast stop mattering.
 * sharpness_limit > 0: an image sharper than the limit is low-pass filtered
 *   with the smallest Gaussian (sigma on a ladder of 0.25 px steps up to 8)
 *   that brings its sharpness to the limit or below. Sharpness is the mean
 *   absolute difference of horizontally and vertically adjacent values
 *   divided by the image's standard deviation, so it ignores contrast.
 *   A model trained on soft images (a training set blurrier than the
 *   photographs it will be used on) then sees inputs as soft as the ones it
 *   learnt from. The training loop's own batches skip it (they define the
 *   softness; its validation batches get it like any input). 0 (the
 *   default) turns it off; the shipped model does not use it.
 * Stored in model files (format version 2). */
#define FER_NORM_STANDARDIZE 1u
FER_API fer_status fer_model_set_image_normalization(fer_model *m,
                                                     unsigned flags,
                                                     float sharpness_limit);
FER_API void fer_model_get_image_normalization(const fer_model *m,
                                               unsigned *flags,
                                               float *sharpness_limit);
/* Sharpness (as defined above) of one C x H x W image; 0 for a flat one. */
FER_API float fer_image_sharpness(const float *x, int channels, int height,
                                  int width);
/* Turns `n` images of raw pixel values (n x C x H x W floats in 0..255, in
 * the model's input shape) into what the model takes, in place: the affine
 * preprocessing, then the per-image normalisation. Thread safe. */
FER_API fer_status fer_model_preprocess(const fer_model *m, float *x, int n);

/* Free-form key/value text ("dataset", "accuracy", "date", ...). Setting an
 * existing key replaces its value; a NULL value removes the key. Keys 1..255
 * bytes, values up to 65535. */
FER_API fer_status fer_model_set_metadata(fer_model *m, const char *key,
                                          const char *value);
/* The value (owned by the model) or NULL. */
FER_API const char *fer_model_get_metadata(const fer_model *m,
                                           const char *key);
FER_API int fer_model_metadata_count(const fer_model *m);
/* Key and value of entry `index` (owned by the model); FER_ERR_INVALID_ARGUMENT
 * when out of range. */
FER_API fer_status fer_model_metadata_at(const fer_model *m, int index,
                                         const char **key, const char **value);

/* ------------------------------------------------------------------------
 * Model files
 * ------------------------------------------------------------------------ */

/* Save flags (bitwise or). */
#define FER_SAVE_DEFAULT 0u
/* Store weights as IEEE float16 (round to nearest even): half the size,
 * about 3 significant digits. Batch-norm statistics stay float32. */
#define FER_SAVE_FLOAT16 1u

/* Writes the model (architecture, weights, batch-norm statistics, class
 * names, preprocessing, metadata) to `path` atomically. Format in
 * docs/model-format.md. FER_ERR_IO with the path and reason. */
FER_API fer_status fer_model_save(const fer_model *m, const char *path,
                                  unsigned flags);
/* The same bytes in a new buffer freed with fer_free(). */
FER_API fer_status fer_model_save_memory(const fer_model *m, unsigned flags,
                                         void **out_data, size_t *out_size);
/* Loads a model file, validating everything: FER_ERR_FORMAT (not a model,
 * bad section), FER_ERR_TRUNCATED, FER_ERR_CHECKSUM, FER_ERR_VERSION (newer
 * format), FER_ERR_TOO_LARGE; messages name the file and the byte offset. */
FER_API fer_status fer_model_load(const char *path, fer_model **out);
FER_API fer_status fer_model_load_memory(const void *data, size_t size,
                                         fer_model **out);
/* The model file format version this library writes (and the newest it
 * reads). */
FER_API int fer_model_format_version(void);

/* ---- ONNX (docs/onnx.md) ----
 * Export writes the model as an ONNX file (opset fer_model_onnx_opset(),
 * IR version 7), encoded by libfer itself. The ONNX graph's input
 * "input" (N x C x H x W, float32) is the model's input after
 * fer_model_preprocess: the caller applies the preprocessing, which the
 * file records in metadata_props (libfer.preprocessing,
 * libfer.image_normalization) with the class names and metadata. Dropout
 * is left out (inference). FER_ERR_UNSUPPORTED names a layer with no ONNX
 * form; FER_ERR_IO as fer_model_save. The model is only read: safe on a
 * model other threads predict with. */
FER_API fer_status fer_model_save_onnx(const fer_model *m, const char *path);
/* The same bytes in a new buffer freed with fer_free(). */
FER_API fer_status fer_model_save_onnx_memory(const fer_model *m,
                                              void **out_data,
                                              size_t *out_size);
/* Imports an ONNX model whose graph libfer's layers can express (the
 * subset in docs/onnx.md: Conv, BatchNormalization, Relu, LeakyRelu, Elu,
 * Sigmoid, Tanh, MaxPool, AveragePool, GlobalAveragePool, Flatten,
 * Reshape to (N, -1), Gemm, Softmax, Dropout and Identity, in a chain).
 * FER_ERR_UNSUPPORTED names the first node libfer cannot express (its
 * operator and name); FER_ERR_FORMAT a malformed file, with the byte
 * offset or the node; FER_ERR_TOO_LARGE beyond the model limits. The
 * libfer.* metadata_props of an exported file are read back; otherwise
 * the preprocessing is the default (pixel / 255). *out is NULL on
 * failure. */
FER_API fer_status fer_model_load_onnx(const char *path, fer_model **out);
FER_API fer_status fer_model_load_onnx_memory(const void *data, size_t size,
                                              fer_model **out);
/* The ONNX opset version the exporter writes (13). */
FER_API int fer_model_onnx_opset(void);

/* ------------------------------------------------------------------------
 * Inference
 * ------------------------------------------------------------------------ */

/* Runs `n` images (n x C x H x W floats, already normalised) in evaluation
 * mode and writes n x fer_model_output_size() floats to `out`. Allocates its
 * scratch per call and never writes into the model: safe from many threads
 * at once on one model. For repeated calls use a fer_predictor. */
FER_API fer_status fer_model_predict(const fer_model *m, const float *x, int n,
                                     float *out);

/* Classifies one image of any size, gray or colour: converted to gray if
 * the model has 1 channel (to RGB if 3), resized to the model input with
 * area averaging, normalised with the model's preprocessing. Writes
 * `capacity` >= fer_model_output_size() class probabilities (may be NULL
 * with capacity 0) and the index of the most probable class to *top_class
 * (may be NULL). Thread safety as fer_model_predict. */
FER_API fer_status fer_model_predict_image(const fer_model *m,
                                           const fer_image *img, float *probs,
                                           int capacity, int *top_class);

/* ---- int8 inference (docs/int8.md) ----
 * fer_model_quantize derives int8 weights (one scale per output channel,
 * batch norm folded in) and 7-bit activations (one scale per quantised
 * layer's input, from the calibration images) for the convolutions (one
 * group, at least 4 input channels) and dense layers of a model, chain or
 * graph (an ensemble, a residual net). It does not
 * switch the model over: set FER_MODEL_PRECISION to FER_PRECISION_INT8 for
 * that. Predictions, evaluation and predictors then run int8; training
 * always runs fp32, and any call that changes the weights (training steps,
 * fer_model_set_tensor, fer_model_set_parameters, fer_model_init_weights,
 * adding a layer) discards the quantisation and returns the model to fp32.
 * Model files keep fp32 weights and, for a quantised model, each
 * quantised layer's input step (docs/model-format.md, QUNT): loaded, such
 * a model is quantised again, without calibration images.
 * Kernels: AVX2 where the CPU has it, else portable C; both give the same
 * int32 sums bit for bit. FER_MODEL_INT8_PORTABLE, or the environment
 * variable FER_INT8_KERNEL=generic, forces the portable kernel. */
typedef enum fer_precision {
  FER_PRECISION_FP32 = 1,
  FER_PRECISION_INT8 = 2
} fer_precision;

typedef enum fer_model_param {
  FER_MODEL_PRECISION = 1,     /* fer_precision, default FER_PRECISION_FP32 */
  FER_MODEL_INT8_PORTABLE = 2  /* 1: int8 runs the portable kernel, default 0 */
} fer_model_param;

/* Quantises m from `count` calibration images (model input shape, already
 * preprocessed as fer_model_preprocess leaves them; a few hundred is
 * plenty), replacing an earlier quantisation. The model is written: no
 * other thread may use it meanwhile. Statuses: FER_ERR_INVALID_ARGUMENT
 * (NULL calibration, count 0, a non-finite value in an image or a layer's
 * input); FER_ERR_UNSUPPORTED (no convolution to quantise); FER_ERR_TOO_LARGE; FER_ERR_OUT_OF_MEMORY; FER_ERR_MISUSE (m
 * not live). On failure the model is unchanged. */
FER_API fer_status fer_model_quantize(fer_model *m, const float *calibration,
                                      size_t count);
/* Keyed model settings. fer_model_set: FER_ERR_NOT_FOUND for an unknown
 * key, FER_ERR_INVALID_ARGUMENT for a value out of bounds, FER_ERR_MISUSE
 * for FER_PRECISION_INT8 on a model not quantised. Not while other threads
 * predict with the model. */
FER_API fer_status fer_model_set(fer_model *m, fer_model_param key,
                                 double value);
FER_API fer_status fer_model_get(const fer_model *m, fer_model_param key,
                                 double *value);
/* Name ("precision"), default and inclusive bounds of a key; any out
 * pointer may be NULL. FER_ERR_NOT_FOUND for an unknown key. */
FER_API fer_status fer_model_param_info(fer_model_param key, const char **name,
                                        double *default_value,
                                        double *min_value, double *max_value);

/* A predictor owns the scratch memory for predictions with one model, so
 * that repeated calls allocate nothing after the first call with a given
 * batch size. The model must outlive it and must not be changed while it
 * exists. One thread at a time per predictor. */
FER_API fer_status fer_predictor_create(const fer_model *m,
                                        fer_predictor **out);
FER_API void fer_predictor_free(fer_predictor *p);
FER_API fer_status fer_predictor_run(fer_predictor *p, const float *x, int n,
                                     float *out);
FER_API fer_status fer_predictor_run_image(fer_predictor *p,
                                           const fer_image *img, float *probs,
                                           int capacity, int *top_class);

/* ------------------------------------------------------------------------
 * Training
 * ------------------------------------------------------------------------ */

/* Mode used by fer_model_forward() and fer_model_evaluate(): training (1:
 * batch statistics in batch norm, dropout active) or evaluation (0, the
 * default). fer_model_train_step() always trains; predictors always
 * evaluate. */
FER_API fer_status fer_model_set_training(fer_model *m, int training);
FER_API int fer_model_is_training(const fer_model *m);

/* Seed of the model's dropout generator (default 0). Together with the
 * thread count it makes training deterministic. */
FER_API fer_status fer_model_set_seed(fer_model *m, uint64_t seed);

/* Loss options for training and evaluation: softmax cross-entropy on the
 * model output (computed from the logits before a final softmax layer, for
 * stability). label_smoothing in [0, 1): targets (1 - s) one-hot + s / K. */
FER_API fer_status fer_model_set_label_smoothing(fer_model *m, float s);
/* Per-class weights (count = classes, each >= 0), or NULL to clear: the
 * batch loss is sum_i w[y_i] loss_i / sum_i w[y_i], as PyTorch. */
FER_API fer_status fer_model_set_class_weights(fer_model *m,
                                               const float *weights, int count);

/* Forward pass of n images in the current mode into `out` (n x output
 * floats). Uses the model's own workspace: exclusive access. */
FER_API fer_status fer_model_forward(fer_model *m, const float *x, int n,
                                     float *out);

/* Mean loss and accuracy (fraction of argmax == label) of a batch in the
 * current mode; no update. Labels in [0, classes). Either out pointer may be
 * NULL. */
FER_API fer_status fer_model_evaluate(fer_model *m, const float *x,
                                      const int32_t *labels, int n,
                                      float *loss, float *accuracy);

/* One training step: forward in training mode, loss, backward, optimizer
 * update. Returns the batch's mean loss and accuracy (before the update).
 * Workspace is allocated once per batch size and reused. Deterministic for a
 * given seed, data and thread count. FER_ERR_INVALID_ARGUMENT for a label
 * out of range or n < 1; FER_ERR_MISUSE when `opt` was used with another
 * model shape. */
FER_API fer_status fer_model_train_step(fer_model *m, fer_optimizer *opt,
                                        const float *x, const int32_t *labels,
                                        int n, float *loss, float *accuracy);

/* One training step against soft targets: as fer_model_train_step, with
 * softmax cross-entropy against a per-image target distribution instead of
 * an integer label. `targets` holds n x K floats (K = output size), row i
 * the distribution of image i: each entry finite and >= 0, each row
 * summing to 1 within 1e-3 (used as given, not renormalised);
 * target_count must be n x K. The model's label smoothing and class
 * weights do not apply (fold them into the targets and weights). The batch
 * loss is sum_i v_i L_i / sum_i v_i with L_i = -sum_k t_ik log p_ik and v
 * the `sample_weights` (n floats, each finite and >= 0; NULL: all 1), so
 * the gradient with respect to the logits is v_i (p_i - t_i) / sum v.
 * With one-hot (or smoothed one-hot) targets and v_i = w[y_i] this is
 * fer_model_train_step's loss. *accuracy counts argmax of the output ==
 * argmax of the target row (the first maximum of each). Statuses: as
 * fer_model_train_step, and FER_ERR_INVALID_ARGUMENT (NULL targets, a
 * negative or non-finite entry or weight, a row not summing to 1; the
 * message names the image), FER_ERR_SHAPE (target_count is not n x K, or
 * the output is not a class vector). Nothing is changed on failure. */
FER_API fer_status fer_model_train_step_soft(fer_model *m, fer_optimizer *opt,
                                             const float *x,
                                             const float *targets,
                                             size_t target_count,
                                             const float *sample_weights,
                                             int n, float *loss,
                                             float *accuracy);

/* Optimisers. */
typedef enum fer_optimizer_kind {
  FER_OPTIMIZER_SGD = 1,   /* with optional (Nesterov) momentum */
  FER_OPTIMIZER_ADAM = 2,  /* weight decay added to the gradient (L2) */
  FER_OPTIMIZER_ADAMW = 3  /* decoupled weight decay */
} fer_optimizer_kind;

/* Keys of fer_optimizer_set/get. Values are part of the ABI. */
typedef enum fer_optimizer_param {
  FER_OPT_LEARNING_RATE = 1, /* default 1e-3, (0, 10] */
  FER_OPT_MOMENTUM = 2,      /* SGD, default 0, [0, 1) */
  FER_OPT_NESTEROV = 3,      /* SGD, 0 or 1, default 0 */
  FER_OPT_BETA1 = 4,         /* Adam(W), default 0.9, [0, 1) */
  FER_OPT_BETA2 = 5,         /* Adam(W), default 0.999, [0, 1) */
  FER_OPT_EPSILON = 6,       /* Adam(W), default 1e-8, (0, 1] */
  FER_OPT_WEIGHT_DECAY = 7,  /* default 0 (AdamW 0.01), [0, 1] */
  FER_OPT_CLIP_NORM = 8      /* clip the global gradient norm; 0 = off */
} fer_optimizer_param;

/* An optimizer binds to the first model it steps (its moment buffers match
 * that model's parameters). One thread at a time. */
FER_API fer_status fer_optimizer_create(fer_optimizer_kind kind,
                                        fer_optimizer **out);
FER_API void fer_optimizer_free(fer_optimizer *opt);
/* FER_ERR_INVALID_ARGUMENT for an unknown key or a value outside bounds. */
FER_API fer_status fer_optimizer_set(fer_optimizer *opt,
                                     fer_optimizer_param key, double value);
FER_API fer_status fer_optimizer_get(const fer_optimizer *opt,
                                     fer_optimizer_param key, double *value);
/* Name ("learning_rate"), default and inclusive bounds of a key; any out
 * pointer may be NULL. FER_ERR_INVALID_ARGUMENT for an unknown key. */
FER_API fer_status fer_optimizer_param_info(fer_optimizer_param key,
                                            const char **name,
                                            double *default_value,
                                            double *min_value,
                                            double *max_value);
/* Steps taken so far. */
FER_API long fer_optimizer_steps(const fer_optimizer *opt);

/* Learning-rate schedules, driven once per epoch by the training loop. */
typedef enum fer_schedule_kind {
  FER_SCHEDULE_STEP = 1,    /* lr = base * gamma ^ floor(epoch / step_size) */
  FER_SCHEDULE_COSINE = 2,  /* lr = min + (base - min)(1 + cos(pi e / T)) / 2 */
  FER_SCHEDULE_PLATEAU = 3  /* lr *= factor after `patience` epochs without
                               improvement of the metric */
} fer_schedule_kind;

typedef enum fer_schedule_param {
  FER_SCHED_STEP_SIZE = 1, /* step: epochs per decay, default 10 */
  FER_SCHED_GAMMA = 2,     /* step: decay factor, default 0.1 */
  FER_SCHED_T_MAX = 3,     /* cosine: epochs of the half period, default 50 */
  FER_SCHED_MIN_LR = 4,    /* cosine and plateau: floor, default 0 */
  FER_SCHED_FACTOR = 5,    /* plateau: factor, default 0.1 */
  FER_SCHED_PATIENCE = 6,  /* plateau: epochs to wait, default 10 */
  FER_SCHED_MODE_MAX = 7,  /* plateau: 1 if a larger metric is better
                              (accuracy), 0 if smaller (loss, default) */
  FER_SCHED_THRESHOLD = 8, /* plateau: relative improvement needed, 1e-4 */
  FER_SCHED_COOLDOWN = 9   /* plateau: epochs to wait after a cut, 0 */
} fer_schedule_param;

FER_API fer_status fer_schedule_create(fer_schedule_kind kind,
                                       fer_schedule **out);
FER_API void fer_schedule_free(fer_schedule *s);
FER_API fer_status fer_schedule_set(fer_schedule *s, fer_schedule_param key,
                                    double value);
FER_API fer_status fer_schedule_get(const fer_schedule *s,
                                    fer_schedule_param key, double *value);
FER_API fer_status fer_schedule_param_info(fer_schedule_param key,
                                           const char **name,
                                           double *default_value,
                                           double *min_value,
                                           double *max_value);
/* Call at the end of each epoch with the epoch's metric (ignored by step and
 * cosine): updates the optimizer's learning rate for the next epoch. The
 * first call records the optimizer's learning rate as the base rate. */
FER_API fer_status fer_schedule_step(fer_schedule *s, fer_optimizer *opt,
                                     double metric);

#ifdef __cplusplus
}
#endif

#endif /* FER_NN_H */
