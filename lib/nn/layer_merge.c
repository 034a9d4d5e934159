/* Layers that join branches of a graph model, each reading several earlier
 * outputs (l->src_shape[j]):
 *   add:    y = sum_j x_j (equal shapes);            dx_j += dy
 *   concat: y = [x_0; x_1; ...] along channels;      dx_j += dy's slice j
 *   mul:    y = a * b, b may be C x 1 x 1 (a gate, as squeeze-and-
 *           excitation); da += dy b, db += sum over positions of dy a. */
#include <string.h>

#include "nn/nn_internal.h"

static int same(fer__shape a, fer__shape b) {
  return a.c == b.c && a.h == b.h && a.w == b.w;
}

/* ---- add ---- */

static fer_status add_setup(fer__layer *l) {
  for (int j = 1; j < l->num_src; j++)
    if (!same(l->src_shape[j], l->src_shape[0]))
      return fer__fail(FER_ERR_SHAPE, "add: input %d is %dx%dx%d, input 0 %dx%dx%d", j,
                       l->src_shape[j].c, l->src_shape[j].h, l->src_shape[j].w,
                       l->in.c, l->in.h, l->in.w);
  l->out = l->in;
  return FER_OK;
}

static double add_flops(const fer__layer *l) {
  return (double)(l->num_src - 1) * (double)fer__shape_size(l->out);
}

static void add_forward(const fer__layer *l, const fer__pass *p,
                        const float *const *xs, float *y) {
  const long total = (long)p->n * fer__shape_size(l->out);
  memcpy(y, xs[0], (size_t)total * sizeof(float));
  for (int j = 1; j < l->num_src; j++)
    for (long i = 0; i < total; i++) y[i] += xs[j][i];
}

static void add_backward(const fer__layer *l, const fer__pass *p,
                         const float *const *xs, const float *y, const float *dy,
                         float *const *dxs) {
  (void)xs;
  (void)y;
  const long total = (long)p->n * fer__shape_size(l->out);
  for (int j = 0; j < l->num_src; j++)
    if (dxs[j])
      for (long i = 0; i < total; i++) dxs[j][i] += dy[i];
}

const fer__layer_ops fer__add_ops = {
  .kind = FER_LAYER_ADD,
  .keyword = "add",
  .setup = add_setup,
  .saved_floats = fer__no_saved,
  .scratch_floats = fer__no_scratch,
  .flops = add_flops,
  .min_inputs = 2,
  .max_inputs = FER__MAX_INPUTS,
  .forward_n = add_forward,
  .backward_n = add_backward,
  .parse = fer__parse_no_args,
  .format = fer__format_no_args,
};

/* ---- concat ---- */

static fer_status concat_setup(fer__layer *l) {
  long c = 0;
  for (int j = 0; j < l->num_src; j++) {
    if (l->src_shape[j].h != l->in.h || l->src_shape[j].w != l->in.w)
      return fer__fail(FER_ERR_SHAPE, "concat: input %d is %dx%d, input 0 %dx%d", j,
                       l->src_shape[j].h, l->src_shape[j].w, l->in.h, l->in.w);
    c += l->src_shape[j].c;
  }
  if (c * l->in.h * l->in.w > FER_MODEL_MAX_ACTIVATION)
    return fer__fail(FER_ERR_TOO_LARGE, "concat: %ld channels is beyond the limits", c);
  l->out = (fer__shape){(int)c, l->in.h, l->in.w};
  return FER_OK;
}

static void concat_forward(const fer__layer *l, const fer__pass *p,
                           const float *const *xs, float *y) {
  const long out = fer__shape_size(l->out);
  for (int n = 0; n < p->n; n++) {
    float *yn = y + (long)n * out;
    for (int j = 0; j < l->num_src; j++) {
      const long size = fer__shape_size(l->src_shape[j]);
      memcpy(yn, xs[j] + (long)n * size, (size_t)size * sizeof(float));
      yn += size;
    }
  }
}

static void concat_backward(const fer__layer *l, const fer__pass *p,
                            const float *const *xs, const float *y,
                            const float *dy, float *const *dxs) {
  (void)xs;
  (void)y;
  const long out = fer__shape_size(l->out);
  for (int n = 0; n < p->n; n++) {
    const float *dyn = dy + (long)n * out;
    for (int j = 0; j < l->num_src; j++) {
      const long size = fer__shape_size(l->src_shape[j]);
      if (dxs[j]) {
        float *d = dxs[j] + (long)n * size;
        for (long i = 0; i < size; i++) d[i] += dyn[i];
      }
      dyn += size;
    }
  }
}

const fer__layer_ops fer__concat_ops = {
  .kind = FER_LAYER_CONCAT,
  .keyword = "concat",
  .setup = concat_setup,
  .saved_floats = fer__no_saved,
  .scratch_floats = fer__no_scratch,
  .flops = fer__no_flops,
  .min_inputs = 2,
  .max_inputs = FER__MAX_INPUTS,
  .forward_n = concat_forward,
  .backward_n = concat_backward,
  .parse = fer__parse_no_args,
  .format = fer__format_no_args,
};

/* ---- mul ---- */

/* Which input is the full map (the other is equal or C x 1 x 1). */
static int mul_full(const fer__layer *l) {
  return fer__shape_size(l->src_shape[1]) > fer__shape_size(l->src_shape[0]) ? 1 : 0;
}

static fer_status mul_setup(fer__layer *l) {
  int f = mul_full(l);
  fer__shape a = l->src_shape[f], b = l->src_shape[1 - f];
  if (!same(a, b) && !(b.c == a.c && b.h == 1 && b.w == 1))
    return fer__fail(FER_ERR_SHAPE,
                     "mul: inputs %dx%dx%d and %dx%dx%d: need equal shapes or "
                     "C x 1 x 1 with C x H x W", l->src_shape[0].c, l->src_shape[0].h,
                     l->src_shape[0].w, l->src_shape[1].c, l->src_shape[1].h,
                     l->src_shape[1].w);
  l->out = a;
  return FER_OK;
}

static double mul_flops(const fer__layer *l) {
  return (double)fer__shape_size(l->out);
}

static void mul_forward(const fer__layer *l, const fer__pass *p,
                        const float *const *xs, float *y) {
  const int f = mul_full(l);
  const float *a = xs[f], *b = xs[1 - f];
  const long size = fer__shape_size(l->out), C = l->out.c, plane = size / C;
  const int broadcast = fer__shape_size(l->src_shape[1 - f]) != size;
  for (int n = 0; n < p->n; n++)
    for (long c = 0; c < C; c++) {
      const long base = (long)n * size + c * plane;
      if (broadcast) {
        const float g = b[(long)n * C + c];
        for (long i = 0; i < plane; i++) y[base + i] = a[base + i] * g;
      } else {
        for (long i = 0; i < plane; i++) y[base + i] = a[base + i] * b[base + i];
      }
    }
}

static void mul_backward(const fer__layer *l, const fer__pass *p,
                         const float *const *xs, const float *y, const float *dy,
                         float *const *dxs) {
  (void)y;
  const int f = mul_full(l);
  const float *a = xs[f], *b = xs[1 - f];
  float *da = dxs[f], *db = dxs[1 - f];
  const long size = fer__shape_size(l->out), C = l->out.c, plane = size / C;
  const int broadcast = fer__shape_size(l->src_shape[1 - f]) != size;
  for (int n = 0; n < p->n; n++)
    for (long c = 0; c < C; c++) {
      const long base = (long)n * size + c * plane;
      if (broadcast) {
        const float g = b[(long)n * C + c];
        float sum = 0.0f;
        for (long i = 0; i < plane; i++) {
          if (da) da[base + i] += dy[base + i] * g;
          sum += dy[base + i] * a[base + i];
        }
        if (db) db[(long)n * C + c] += sum;
      } else {
        for (long i = 0; i < plane; i++) {
          if (da) da[base + i] += dy[base + i] * b[base + i];
          if (db) db[base + i] += dy[base + i] * a[base + i];
        }
      }
    }
}

const fer__layer_ops fer__mul_ops = {
  .kind = FER_LAYER_MUL,
  .keyword = "mul",
  .setup = mul_setup,
  .saved_floats = fer__no_saved,
  .scratch_floats = fer__no_scratch,
  .flops = mul_flops,
  .min_inputs = 2,
  .max_inputs = 2,
  .forward_n = mul_forward,
  .backward_n = mul_backward,
  .parse = fer__parse_no_args,
  .format = fer__format_no_args,
};
