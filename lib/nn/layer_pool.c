/* What max and average pooling share: the window geometry (floor output
 * size as Keras and PyTorch, symmetric padding of at most half a window)
 * and its architecture-text spelling. */
#include "nn/nn_internal.h"

fer_status fer__pool_setup(fer__layer *l) {
  const char *name = l->kind == FER_LAYER_MAX_POOL ? "max" : "avg";
  if (l->kh < 1 || l->kw < 1 || l->stride < 1 || l->padding < 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: window %dx%d, stride %d must be >= 1, padding %d >= 0",
                     name, l->kh, l->kw, l->stride, l->padding);
  if (l->kh > FER_MODEL_MAX_DIM || l->kw > FER_MODEL_MAX_DIM ||
      l->stride > FER_MODEL_MAX_DIM)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: a size is beyond %d", name,
                     FER_MODEL_MAX_DIM);
  if (2 * l->padding > l->kh || 2 * l->padding > l->kw)
    return fer__fail(FER_ERR_SHAPE,
                     "%s: padding %d is more than half the window %dx%d", name,
                     l->padding, l->kh, l->kw);
  long ph = l->in.h + 2L * l->padding, pw = l->in.w + 2L * l->padding;
  if (ph < l->kh || pw < l->kw)
    return fer__fail(FER_ERR_SHAPE,
                     "%s: window %dx%d is larger than the padded input %ldx%ld",
                     name, l->kh, l->kw, ph, pw);
  l->pad_top = l->pad_left = l->padding;
  l->out = (fer__shape){l->in.c, (int)((ph - l->kh) / l->stride + 1),
                        (int)((pw - l->kw) / l->stride + 1)};
  return FER_OK;
}

/* max|avg KHxKW[/S] [pad=P] */
fer_status fer__pool_parse(fer__layer *l, const fer__arch_words *w) {
  fer_status st;
  if (w->count < 2)
    return fer__arch_error(w, 0, "pooling needs a window such as 2x2/2");
  if ((st = fer__arch_window(w, 1, &l->kh, &l->kw, &l->stride))) return st;
  l->padding = 0;
  l->dilation = l->groups = 1;
  for (int i = 2; i < w->count; i++) {
    fer__arch_word v;
    if (!fer__arch_is_option(w, i, "pad", &v))
      return fer__arch_error(w, i, "unknown pooling option '%.*s'",
                             (int)w->word[i].len, w->word[i].text);
    if (v.len == 1 && v.text[0] == '0') continue;
    fer__arch_words one = {.count = 1, .line = w->line};
    one.word[0] = v;
    if ((st = fer__arch_int(&one, 0, &l->padding))) return st;
  }
  return FER_OK;
}

void fer__pool_format(const fer__layer *l, fer__buf *out) {
  fer__buf_printf(out, " %dx%d/%d", l->kh, l->kw, l->stride);
  if (l->padding) fer__buf_printf(out, " pad=%d", l->padding);
}
