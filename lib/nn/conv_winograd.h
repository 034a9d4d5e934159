/* Winograd F(2x2, 3x3) for the 3x3, stride-1, zero-padding-1 convolutions
 * (lib/nn/conv_winograd.c): the forward pass and, with the filters turned,
 * the input gradient. Images are NCHW; output size = input size. */
#ifndef FER_NN_CONV_WINOGRAD_H
#define FER_NN_CONV_WINOGRAD_H

#include <stddef.h>

/* Images transformed and multiplied together (one set of 16 products). */
int fer__winograd_chunk_images(int h, int w);

/* Floats of transformed filters for `cin` inputs and `cout` outputs. */
size_t fer__winograd_weight_floats(int cin, int cout);

/* Scratch floats fer__winograd_run needs (transformed input and products
 * of one chunk); symmetric in cin and cout. */
size_t fer__winograd_scratch_floats(int cin, int cout, int h, int w);

/* Transformed filters of w (filters x channels x 3 x 3) into u. Forward
 * (adjoint 0): u[xi][f][c], for a run from `channels` to `filters`. Adjoint
 * (input gradient, adjoint 1): the filters turned by 180 degrees,
 * u[xi][c][f], for a run from `filters` back to `channels`. */
void fer__winograd_weights(const float *w, int filters, int channels,
                           int adjoint, float *u);

struct fer__epilogue;

/* y (n x cout x h x w) = the 3x3 "same" convolution of x (n x cin x h x w)
 * with the filters u transformed as above, then the output pass `e` (bias,
 * fused bn and relu; NULL for none) on each row as it is written.
 * `scratch` holds fer__winograd_scratch_floats(cin, cout, h, w) floats;
 * `gemm` is packing memory for fer__sgemm_ws (which decides its thread
 * count as usual). */
void fer__winograd_run(const float *u, int n, int cin, int cout, int h, int w,
                       const float *x, float *y, float *scratch, void *gemm,
                       size_t gemm_bytes, const struct fer__epilogue *e);

#endif
