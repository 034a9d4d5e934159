/* fer_model_quantize: int8 weights per output channel and an input scale
 * per quantised layer from calibration images (quant.h); and the model's
 * keyed settings, which switch inference between fp32 and int8. */
#include <math.h>
#include <string.h>

#include "core/params.h"
#include "nn/gemm_int8.h"
#include "nn/quant.h"

#define ROW(key, name, kind, min, max, def)                     \
  FER__PARAM_AT(fer_model, settings, key, name, kind, min, max, def, \
                FER__PARAM_MIN_INCLUSIVE)
static const fer__param rows[] = {
  ROW(FER_MODEL_PRECISION, "precision", FER__PARAM_ENUM, FER_PRECISION_FP32,
      FER_PRECISION_INT8, FER_PRECISION_FP32),
  ROW(FER_MODEL_INT8_PORTABLE, "int8_portable", FER__PARAM_BOOL, 0, 1, 0),
};
#undef ROW
_Static_assert(FER__ARRAY_LEN(rows) == FER__MODEL_SETTINGS,
               "one table row per model setting");
static const fer__param_table params =
    FER__PARAM_TABLE("model", rows, FER_ERR_NOT_FOUND);

/* Images per calibration forward: bounds the workspace. */
#define CALIBRATION_BATCH 32

void fer__model_settings_defaults(fer_model *m) {
  fer__param_set_defaults(&params, m);
}

fer_status fer_model_set(fer_model *m, fer_model_param key, double value) {
  const char *who = "fer_model_set";
  fer_status st = fer__model_check(m, who);
  if (!st) st = fer__param_check(&params, who, (int)key, value, NULL);
  if (st) return st;
  if (key == FER_MODEL_PRECISION && value == FER_PRECISION_INT8 && !m->quant)
    return fer__fail(FER_ERR_MISUSE,
                     "%s: precision int8 needs fer_model_quantize first", who);
  return fer__param_set(&params, who, m, (int)key, value);
}

fer_status fer_model_get(const fer_model *m, fer_model_param key,
                         double *value) {
  fer_status st = fer__model_check(m, "fer_model_get");
  return st ? st : fer__param_get(&params, "fer_model_get", m, (int)key, value);
}

fer_status fer_model_param_info(fer_model_param key, const char **name,
                                double *default_value, double *min_value,
                                double *max_value) {
  return fer__param_info(&params, "fer_model_param_info", (int)key, name,
                         min_value, max_value, default_value);
}

int fer__model_runs_int8(const fer_model *m) {
  return m->quant && m->settings[FER_MODEL_PRECISION] == FER_PRECISION_INT8;
}

void fer__quant_free(fer__quant *q) {
  if (!q) return;
  for (int i = 0; i < q->count; i++) {
    fer__free(q->layers[i].weight);
    fer__free(q->layers[i].out_scale);
    fer__free(q->layers[i].bias);
    fer__free(q->layers[i].offset);
  }
  fer__free(q->layers);
  fer__free(q->by_layer);
  fer__free(q);
}

void fer__model_drop_quant(fer_model *m) {
  fer__quant_free(m->quant);
  m->quant = NULL;
  m->settings[FER_MODEL_PRECISION] = FER_PRECISION_FP32;
}

/* Layers whose inputs have fewer channels stay fp32: a gray or colour
 * image carries 8-bit detail that 7 bits would blur, and such a layer is a
 * small share of the work (9 or 27 products per output for 3x3). */
#define MIN_CHANNELS 4

static int quantizable(const fer__layer *l) {
  return (l->kind == FER_LAYER_CONV && l->groups == 1 &&
          l->in.c >= MIN_CHANNELS) ||
         l->kind == FER_LAYER_DENSE;
}

/* The layers a quantised layer at i takes over: a batch norm, a ReLU, each
 * when it is the only reader of the layer before (in a graph another
 * layer may read the convolution's own output, which then has to exist). */
static int covered_until(const fer_model *m, int i, int *bn, int *relu) {
  int j = i;
  *bn = *relu = 0;
  if (fer__sole_reader(m, j, j + 1, FER_LAYER_BATCH_NORM)) {
    *bn = 1;
    j++;
  }
  if (fer__sole_reader(m, j, j + 1, FER_LAYER_RELU)) {
    *relu = 1;
    j++;
  }
  return j;
}

/* Fills the shape fields of quantised layer ql at model layer `first`
 * (a quantizable layer) and what it covers. */
static void shape_layer(const fer_model *m, int first, fer__qlayer *ql) {
  const fer__layer *l = &m->layers[first];
  int bn;
  ql->first = first;
  ql->last = covered_until(m, first, &bn, &ql->relu);
  ql->k = (int)(l->tensor_size[0] / (size_t)l->units);
  ql->c4 = (l->in.c + 3) / 4 * 4;
  ql->k4 = l->kind == FER_LAYER_CONV ? l->kh * l->kw * ql->c4 / 4 : (ql->k + 3) / 4;
  ql->f = l->units;
  ql->f_pad = (l->units + FER__I8_MR - 1) / FER__I8_MR * FER__I8_MR;
}

/* A quantisation with room for every layer of m, none planned yet. */
static fer__quant *quant_alloc(const fer_model *m) {
  fer__quant *q = fer__calloc(1, sizeof *q);
  if (!q) return NULL;
  q->by_layer = fer__malloc((size_t)m->num_layers * sizeof *q->by_layer);
  q->layers = fer__calloc((size_t)m->num_layers, sizeof *q->layers);
  if (!q->by_layer || !q->layers) {
    fer__quant_free(q);
    return NULL;
  }
  for (int i = 0; i < m->num_layers; i++) q->by_layer[i] = -1;
  return q;
}

static void add_layer(const fer_model *m, fer__quant *q, int first) {
  shape_layer(m, first, &q->layers[q->count]);
  q->by_layer[first] = q->count++;
}

/* The plan: which layers are quantised and what each covers. */
static fer_status plan(const fer_model *m, fer__quant *q) {
  int convs = 0;
  for (int i = 0; i < m->num_layers; i++) {
    if (!quantizable(&m->layers[i])) continue;
    convs += m->layers[i].kind == FER_LAYER_CONV;
    add_layer(m, q, i);
    i = q->layers[q->count - 1].last;
  }
  if (!convs)
    return fer__fail(FER_ERR_UNSUPPORTED,
                     "fer_model_quantize: the model has no convolution "
                     "(one group) to quantise");
  return FER_OK;
}

/* Histogram bins of a non-negative input's values (0, max]. */
#define BINS 1024

/* One pass of fp32 forwards over the calibration images, looking at every
 * quantised layer's input: without `hist`, its largest |x| and smallest x;
 * with it, a histogram of its positive values over (0, amax]. amax is
 * the largest x (never below 0), amin the smallest (never above 0). */
static fer_status calibrate(const fer_model *m, fer__quant *q,
                            const float *images, size_t count, float *amax,
                            float *amin, uint32_t *hist) {
  const long in_size = fer__shape_size(m->input);
  fer__workspace *ws = NULL;
  fer_status st = FER_OK;
  if (!hist)
    for (int j = 0; j < q->count; j++) amax[j] = 0.0f, amin[j] = 0.0f;
  for (size_t done = 0; done < count && !st; done += CALIBRATION_BATCH) {
    const int n = (int)FER__MIN((size_t)CALIBRATION_BATCH, count - done);
    if ((st = fer__workspace_prepare(m, &ws, n, 0))) break;
    const float *x = images + done * (size_t)in_size;
    fer__forward(m, ws, x, n, 0, NULL);
    for (int j = 0; j < q->count; j++) {
      const fer__layer *l = &m->layers[q->layers[j].first];
      const float *a = fer__src_act(ws->act, x, l->src[0]);
      const long size = (long)n * fer__shape_size(l->in);
      if (hist) {
        if (amin[j] < 0.0f || amax[j] <= 0.0f) continue;
        uint32_t *h = hist + (size_t)j * BINS;
        for (long i = 0; i < size; i++)
          if (a[i] > 0.0f) h[FER__MIN((int)(a[i] / amax[j] * BINS), BINS - 1)]++;
        continue;
      }
      for (long i = 0; i < size; i++) {
        if (!isfinite(a[i])) {
          st = fer__fail(FER_ERR_INVALID_ARGUMENT,
                         "fer_model_quantize: layer %d's input is not finite "
                         "on the calibration images", q->layers[j].first);
          break;
        }
        if (a[i] > amax[j]) amax[j] = a[i];
        if (a[i] < amin[j]) amin[j] = a[i];
      }
    }
  }
  fer__workspace_free(ws);
  return st;
}

/* The clip point of a non-negative input with histogram `h` over
 * (0, amax]: the one with the least expected squared error, values above
 * it clipped, values below it rounded to steps of clip / 127 (error
 * variance step^2 / 12). Far-out rare values then cost a little error
 * instead of coarsening every step. */
static float best_clip(const uint32_t *h, float amax) {
  double best_err = HUGE_VAL;
  float best = amax;
  for (int b = BINS / 8; b <= BINS; b++) {
    const double clip = (double)amax * b / BINS, step = clip / 127.0;
    double err = 0.0;
    for (int i = 0; i < BINS; i++) {
      const double v = (double)amax * (i + 0.5) / BINS;
      err += h[i] * (v > clip ? (v - clip) * (v - clip) : step * step / 12.0);
    }
    if (err < best_err) best_err = err, best = (float)clip;
  }
  return best;
}

/* The input step and zero point of quantised layer ql from its
 * calibration range [amin, amax] and histogram h. */
static void input_step(fer__qlayer *ql, float amax, float amin, const uint32_t *h) {
  if (amin < 0.0f) {
    /* A signed input (a model's standardised input): its range [amin,
     * max x] over 0..127, zero at the zero point. */
    ql->in_scale = (amax - amin) / 127.0f;
    ql->zero_point = (int)lrintf(-amin / ql->in_scale);
    if (ql->zero_point > 127) ql->zero_point = 127;
  } else {
    ql->zero_point = 0;
    ql->in_scale = amax > 0.0f ? best_clip(h, amax) / 127.0f : 1.0f;
  }
}

/* Where float weight step k = (c, ky, kx) of a convolution goes among the
 * int8 steps (ky, kx, c over c4); a dense layer's stays. */
static int int8_step(const fer__layer *l, const fer__qlayer *ql, int k) {
  if (l->kind != FER_LAYER_CONV) return k;
  const int taps = l->kh * l->kw, c = k / taps, tap = k % taps;
  return tap * ql->c4 + c;
}

/* Weights of layer `ql` (batch norm folded in) to int8 per channel. */
static fer_status quantize_weights(const fer_model *m, fer__qlayer *ql) {
  const fer__layer *l = &m->layers[ql->first];
  const int F = ql->f, K = ql->k, row = 4 * ql->k4;
  ql->weight = fer__calloc((size_t)ql->f_pad * (size_t)row, 1);
  ql->out_scale = fer__malloc((size_t)F * sizeof(float));
  ql->bias = fer__malloc((size_t)F * sizeof(float));
  ql->offset = fer__malloc((size_t)F * sizeof(int32_t));
  float *affine = fer__malloc(2 * (size_t)F * sizeof(float));
  if (!ql->weight || !ql->out_scale || !ql->bias || !ql->offset || !affine) {
    fer__free(affine);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_model_quantize: out of memory");
  }
  const int bn = ql->last > ql->first &&
                 m->layers[ql->first + 1].kind == FER_LAYER_BATCH_NORM;
  for (int f = 0; f < F; f++) affine[f] = 1.0f, affine[F + f] = 0.0f;
  if (bn) fer__bn_inference_affine(&m->layers[ql->first + 1], affine, affine + F);
  for (int f = 0; f < F; f++) {
    const float *w = l->tensor[0] + (size_t)f * K;
    const float g = affine[f];
    float wmax = 0.0f;
    for (int k = 0; k < K; k++) wmax = fmaxf(wmax, fabsf(w[k] * g));
    const float w_scale = wmax > 0.0f ? wmax / 127.0f : 1.0f;
    int32_t sum = 0;
    for (int k = 0; k < K; k++) {
      const long v = lrintf(w[k] * g / w_scale);
      const int8_t qv = (int8_t)(v > 127 ? 127 : v < -127 ? -127 : v);
      ql->weight[(size_t)f * row + int8_step(l, ql, k)] = qv;
      sum += qv;
    }
    ql->offset[f] = ql->zero_point * sum;
    ql->out_scale[f] = ql->in_scale * w_scale;
    ql->bias[f] = (l->tensor[1] ? l->tensor[1][f] : 0.0f) * g + affine[F + f];
  }
  fer__free(affine);
  return FER_OK;
}

/* The int8 weights and scratch size of every layer of q, whose input
 * steps are set. */
static fer_status derive_weights(const fer_model *m, fer__quant *q) {
  for (int j = 0; j < q->count; j++) {
    fer_status st = quantize_weights(m, &q->layers[j]);
    if (st) return st;
    size_t bytes = fer__qlayer_scratch(&q->layers[j], &m->layers[q->layers[j].first]);
    if (bytes > q->scratch_bytes) q->scratch_bytes = bytes;
  }
  return FER_OK;
}

static void install(fer_model *m, fer__quant *q) {
  fer__quant_free(m->quant);
  m->quant = q;
}

int fer__quant_count(const fer_model *m) { return m->quant ? m->quant->count : 0; }

void fer__quant_params_at(const fer_model *m, int j, fer__qparams *out) {
  const fer__qlayer *ql = &m->quant->layers[j];
  *out = (fer__qparams){ql->first, ql->last, ql->in_scale, ql->zero_point};
}

const char *fer__quant_check(const fer_model *m, const fer__qparams *p, int count) {
  if (count < 1 || count > m->num_layers) return "the layer count is 0 or above the model's";
  for (int j = 0; j < count; j++) {
    int bn, relu;
    if (p[j].first < 0 || p[j].first >= m->num_layers)
      return "a layer index is outside the model";
    if (j && p[j].first <= p[j - 1].last)
      return "the layers are not in order or overlap";
    if (!quantizable(&m->layers[p[j].first]))
      return "a layer is not a convolution (one group, 4 or more input "
             "channels) or dense layer";
    if (p[j].last != covered_until(m, p[j].first, &bn, &relu))
      return "a layer's last index is not the batch norm or ReLU after it";
    if (!isfinite(p[j].in_scale) || !(p[j].in_scale > 0.0f) ||
        p[j].in_scale > 1e30f)
      return "an input scale is not a positive finite number";
    if (p[j].zero_point < 0 || p[j].zero_point > 127)
      return "a zero point is outside 0..127";
  }
  return NULL;
}

fer_status fer__model_set_quant(fer_model *m, const fer__qparams *p, int count) {
  const char *why = fer__quant_check(m, p, count);
  if (why) return fer__fail(FER_ERR_INVALID_ARGUMENT, "quantisation: %s", why);
  fer__quant *q = quant_alloc(m);
  if (!q) return fer__fail(FER_ERR_OUT_OF_MEMORY, "quantisation: out of memory");
  for (int j = 0; j < count; j++) {
    add_layer(m, q, p[j].first);
    q->layers[j].in_scale = p[j].in_scale;
    q->layers[j].zero_point = p[j].zero_point;
  }
  fer_status st = derive_weights(m, q);
  if (st) {
    fer__quant_free(q);
    return st;
  }
  install(m, q);
  m->settings[FER_MODEL_PRECISION] = FER_PRECISION_FP32;
  return FER_OK;
}

fer_status fer_model_quantize(fer_model *m, const float *calibration,
                              size_t count) {
  const char *who = "fer_model_quantize";
  fer_status st = fer__model_check(m, who);
  if (st) return st;
  if (!calibration || count == 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: need calibration images (got %s, count %zu)", who,
                     calibration ? "data" : "NULL", count);
  const size_t in_size = (size_t)fer__shape_size(m->input);
  /* count * in_size floats must be addressable (32-bit size_t included). */
  if (count > SIZE_MAX / sizeof(float) / (in_size ? in_size : 1))
    return fer__fail(FER_ERR_TOO_LARGE, "%s: %zu images is too many", who, count);
  for (size_t i = 0; i < count * in_size; i++)
    if (!isfinite(calibration[i]))
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: calibration image %zu holds a non-finite value",
                       who, i / in_size);
  fer__quant *q = quant_alloc(m);
  float *range = NULL;
  uint32_t *hist = NULL;
  if (!q) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
  /* Calibration runs in fp32: the old quantisation steps aside meanwhile,
   * and comes back if this one fails. */
  fer__quant *old = m->quant;
  m->quant = NULL;
  if ((st = plan(m, q))) goto fail;
  range = fer__malloc(2 * (size_t)q->count * sizeof(float));
  hist = fer__calloc((size_t)q->count * BINS, sizeof *hist);
  if (!range || !hist) {
    st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
    goto fail;
  }
  if ((st = calibrate(m, q, calibration, count, range, range + q->count, NULL)) ||
      (st = calibrate(m, q, calibration, count, range, range + q->count, hist)))
    goto fail;
  for (int j = 0; j < q->count; j++)
    input_step(&q->layers[j], range[j], range[q->count + j], hist + (size_t)j * BINS);
  if ((st = derive_weights(m, q))) goto fail;
  fer__free(range);
  fer__free(hist);
  m->quant = old;
  install(m, q);
  return FER_OK;
fail:
  fer__free(range);
  fer__free(hist);
  fer__quant_free(q);
  m->quant = old;
  return st;
}
