/* What the model-loading harnesses (fuzz_model, fuzz_onnx) do with a model
 * that loaded: one prediction on zeros, but only when it stays cheap (a
 * few MFLOP, no layer output over a million floats), so that a fuzzer's
 * huge-but-valid models cost time only in the loader under test; once
 * more in int8 when the model is quantised. */
#ifndef FER_FUZZ_MODEL_RUN_H
#define FER_FUZZ_MODEL_RUN_H

#include <stdlib.h>

#include "fer.h"

static void fuzz_predict_if_small(fer_model *m) {
  int c, h, w;
  fer_model_input_shape(m, &c, &h, &w);
  if (fer_model_flops(m) >= 2e7 || (long)c * h * w > 65536 ||
      fer_model_num_params(m, NULL, NULL) >= 1000000)
    return;
  long biggest = (long)c * h * w;
  for (int i = 0; i < fer_model_num_layers(m); i++) {
    int lc, lh, lw;
    fer_model_layer_shape(m, i, &lc, &lh, &lw);
    if ((long)lc * lh * lw > biggest) biggest = (long)lc * lh * lw;
  }
  if (biggest > (1L << 20)) return;
  float *x = calloc((size_t)c * h * w, sizeof(float));
  float *y = calloc((size_t)fer_model_output_size(m), sizeof(float));
  if (x && y) fer_model_predict(m, x, 1, y);
  /* A file with a quantisation (QUNT) runs the int8 path too. */
  if (x && y && fer_model_set(m, FER_MODEL_PRECISION, FER_PRECISION_INT8) == FER_OK)
    fer_model_predict(m, x, 1, y);
  free(x);
  free(y);
}

#endif
