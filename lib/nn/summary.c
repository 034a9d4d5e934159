/* fer_model_summary: a table in the manner of Keras' model.summary(). */
#include <stdio.h>
#include <string.h>

#include "nn/nn_internal.h"

/* 1234567 -> "1,234,567" */
static void with_commas(char *out, size_t cap, long v) {
  char digits[32];
  snprintf(digits, sizeof digits, "%ld", v < 0 ? -v : v);
  size_t n = strlen(digits), o = 0;
  if (v < 0 && o + 1 < cap) out[o++] = '-';
  for (size_t i = 0; i < n && o + 1 < cap; i++) {
    out[o++] = digits[i];
    if ((n - i - 1) % 3 == 0 && i + 1 < n && o + 1 < cap) out[o++] = ',';
  }
  out[o] = '\0';
}

static const char rule_thin[] =
    "________________________________________________________________________\n";
static const char rule_thick[] =
    "========================================================================\n";

fer_status fer_model_summary(const fer_model *m, char **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_summary: out is NULL");
  *out = NULL;
  fer_status st = fer__model_check(m, "fer_model_summary");
  if (st) return st;
  fer__buf b, line;
  fer__buf_init(&b);
  char num[32], shape[48];
  fer__buf_printf(&b, "Model: input %dx%dx%d, %d layers\n", m->input.c, m->input.h,
                  m->input.w, m->num_layers);
  const int graph = !fer__model_is_chain(m);
  fer__buf_printf(&b, "%s %-36s %-18s %14s%s\n%s", rule_thin, "Layer", "Output shape",
                  "Params", graph ? "  Inputs" : "", rule_thick);
  for (int i = 0; i < m->num_layers; i++) {
    const fer__layer *l = &m->layers[i];
    const fer__layer_ops *ops = fer__layer_ops_of(l->kind);
    fer__buf_init(&line);
    fer__buf_printf(&line, "%d %s%s%s", i, l->name, l->name[0] ? " = " : "", ops->keyword);
    ops->format(l, &line);
    fer__buf_byte(&line, '\0');
    long params = 0;
    for (int k = 0; k < FER__TENSORS; k++) params += (long)l->tensor_size[k];
    with_commas(num, sizeof num, params);
    snprintf(shape, sizeof shape, "%dx%dx%d", l->out.c, l->out.h, l->out.w);
    fer__buf_printf(&b, " %-36s %-18s %14s",
                    line.failed ? "?" : (const char *)line.data, shape, num);
    /* A graph's inputs: names, "input", or the number of an unnamed layer. */
    for (int j = 0; graph && j < l->num_src; j++) {
      int s = l->src[j];
      if (s == FER__SRC_INPUT) fer__buf_printf(&b, "%sinput", j ? ", " : "  ");
      else if (m->layers[s].name[0])
        fer__buf_printf(&b, "%s%s", j ? ", " : "  ", m->layers[s].name);
      else fer__buf_printf(&b, "%s%d", j ? ", " : "  ", s);
    }
    fer__buf_byte(&b, '\n');
    fer__buf_release(&line);
  }
  long trainable, frozen;
  long total = fer_model_num_params(m, &trainable, &frozen);
  fer__buf_printf(&b, "%s", rule_thick);
  with_commas(num, sizeof num, total);
  fer__buf_printf(&b, "Total params: %s (%.2f MB as float32)\n", num,
                  (double)total * 4.0 / 1e6);
  with_commas(num, sizeof num, trainable);
  fer__buf_printf(&b, "Trainable params: %s\n", num);
  with_commas(num, sizeof num, frozen);
  fer__buf_printf(&b, "Non-trainable params: %s\n", num);
  fer__buf_printf(&b, "Forward FLOPs per image: %.2f M (2 x multiply-adds)\n%s",
                  fer_model_flops(m) / 1e6, rule_thin);
  fer__buf_byte(&b, '\0');
  if ((st = fer__buf_status(&b, "model summary"))) {
    fer__buf_release(&b);
    return st;
  }
  *out = (char *)b.data;
  return FER_OK;
}
