/*
 * Quantised inference (int8 weights, 7-bit activations): what
 * fer_model_quantize (quantize.c) derives from a model and calibration
 * images, and the forward pass that runs on it (quant_forward.c).
 *
 * A quantised layer is a convolution (one group) or a dense layer, with
 * the batch norm and ReLU after it folded in. Its float input x becomes
 * bytes u = clamp(round(x / in_scale) + zero_point, 0, 127) (zero_point 0
 * for inputs that calibration saw non-negative, 64 for signed ones); its
 * weights, scaled by the folded batch norm, become int8 per output channel
 * with scale w_scale[f] = max |w[f]| / 127. Then
 *   y[f] = act((acc[f] - offset[f]) * out_scale[f] + bias[f]),
 *   acc = sum_k q[f][k] * u[k], offset[f] = zero_point * sum_k q[f][k],
 *   out_scale[f] = in_scale * w_scale[f].
 * Every other layer runs on floats as in fp32 inference (fer__forward
 * calls in here for the quantised ones).
 */
#ifndef FER_NN_QUANT_H
#define FER_NN_QUANT_H

#include <stdint.h>

#include "nn/nn_internal.h"

typedef struct fer__qlayer {
  int first, last;   /* model layers it covers: the conv/dense .. bn, relu */
  int relu;
  int zero_point;    /* 0 or 64 */
  float in_scale;
  int c4;            /* conv: input channels rounded up to 4 */
  int k, k4;         /* steps of the float weights; int8 steps over 4 */
  int f, f_pad;      /* output channels, rounded up to FER__I8_MR */
  /* f_pad x 4 * k4, zero-padded. A convolution's steps are in the order
   * (ky, kx, c) over c4 channels, so that four steps are four channels of
   * one pixel (quant_forward.c keeps the input channel-last); a dense
   * layer's are its own. */
  int8_t *weight;
  float *out_scale;  /* f */
  float *bias;       /* f */
  int32_t *offset;   /* f */
} fer__qlayer;

struct fer__quant {
  fer__qlayer *layers;
  int count;
  int *by_layer;        /* per model layer: index into layers, or -1 */
  size_t scratch_bytes; /* per image: bytes of input, packed columns, sums */
};

/* Frees q (NULL is fine). */
void fer__quant_free(fer__quant *q);

/* Forgets m's quantisation (its weights are about to change) and returns
 * the model to fp32. */
void fer__model_drop_quant(fer_model *m);

/* For fer__forward: runs quantised layer i (m->quant->by_layer[i] >= 0)
 * on n images x, writing the output of the last layer it covers, whose
 * index it returns. ws->quant_scratch must hold m->quant->scratch_bytes per
 * thread (min(ws->threads, n) of them): the images run in parallel. */
int fer__quant_forward_layer(const fer_model *m, fer__workspace *ws, int i,
                             const float *x, int n);

/* One image through quantised layer q of model layer l: float input x
 * (l->in), float output y (the output of layer q->last), `scratch` of
 * fer__qlayer_scratch(q, l) bytes. For tests, `portable` forces the
 * portable kernel. */
void fer__qlayer_run(const fer__qlayer *q, const fer__layer *l, const float *x,
                     float *y, void *scratch, int portable);
size_t fer__qlayer_scratch(const fer__qlayer *q, const fer__layer *l);

/* What calibration decides for one quantised layer, which is what a
 * model file keeps (docs/model-format.md, QUNT); the int8 weights follow
 * from the model's float weights. */
typedef struct fer__qparams {
  int first, last;
  float in_scale;
  int zero_point;
} fer__qparams;

/* How many quantised layers m has (0: not quantised), and the j-th. */
int fer__quant_count(const fer_model *m);
void fer__quant_params_at(const fer_model *m, int j, fer__qparams *out);

/* NULL if `count` layers p are a quantisation of m that the int8 path
 * can run (each a conv or dense layer the quantiser would take, covering
 * exactly what it would cover, in order, with a positive finite step and
 * a zero point in 0..127); else why not. */
const char *fer__quant_check(const fer_model *m, const fer__qparams *p, int count);

/* Quantises m with the given steps (checked as fer__quant_check does:
 * FER_ERR_INVALID_ARGUMENT), deriving the int8 weights; the model stays
 * fp32 until switched. */
fer_status fer__model_set_quant(fer_model *m, const fer__qparams *p, int count);

/* Whether the int8 path runs for an evaluation forward of m. */
int fer__model_runs_int8(const fer_model *m);

#endif
