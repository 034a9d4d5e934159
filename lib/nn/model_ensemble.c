/*
 * Ensembles as one model: fer_model_ensemble builds a graph in which every
 * member's layers read the shared input, and the members' logits (the
 * output of each member's last dense layer) are averaged before a single
 * softmax:
 *
 *   y = softmax((z_1 + ... + z_k) / k)
 *
 * which is the normalised geometric mean of the members' probabilities.
 * The mean is folded into the weights (each member's last dense layer is
 * scaled by 1/k) so that the graph needs only an `add`. Saved, loaded,
 * predicted and exported like any graph model; nothing else in the engine
 * knows about ensembles.
 *
 * Each member's architecture text is copied with its layer names prefixed
 * ("m0_", "m1_", ...) so that members with names of their own (residual
 * nets) do not collide.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"

#define WHO "fer_model_ensemble"

/* Layer keywords whose bare words (not key=value) are layer names. */
static int takes_names(const char *keyword, size_t len) {
  return (len == 3 && !strncmp(keyword, "add", 3)) ||
         (len == 6 && !strncmp(keyword, "concat", 6)) ||
         (len == 3 && !strncmp(keyword, "mul", 3));
}

/* Appends word [w, w + n) to out, prefixed when it names a layer. */
static void put_name(fer__buf *out, int member, const char *w, size_t n) {
  if (n == 5 && !strncmp(w, "input", 5))
    fer__buf_append(out, w, n);
  else
    fer__buf_printf(out, "m%d_%.*s", member, (int)n, w);
}

/* One layer line of member `member`, its names prefixed. `first` (the
 * member's first layer) reads the model input explicitly; `logits_name`,
 * when not NULL, names the line's output (the member's last dense). */
static void put_line(fer__buf *out, int member, const char *line, size_t len,
                     int first, const char *logits_name) {
  const char *end = line + len, *p = line;
  const char *words[3];
  size_t lens[3];
  int count = 0;
  /* The first three words tell whether the line is "NAME = keyword ...". */
  for (const char *q = p; q < end && count < 3;) {
    while (q < end && *q == ' ') q++;
    if (q >= end) break;
    const char *s = q;
    while (q < end && *q != ' ') q++;
    words[count] = s;
    lens[count++] = (size_t)(q - s);
  }
  int named = count >= 2 && lens[1] == 1 && words[1][0] == '=';
  if (logits_name) {
    fer__buf_printf(out, "%s = ", logits_name);
    if (named) p = words[1] + 1; /* its own name is replaced */
  } else if (named) {
    put_name(out, member, words[0], lens[0]);
    fer__buf_append(out, " =", 2);
    p = words[1] + 1;
  }
  const char *keyword = named ? words[2] : words[0];
  size_t keyword_len = named ? lens[2] : lens[0];
  int has_from = 0, at_keyword = 1;
  while (p < end) {
    while (p < end && *p == ' ') p++;
    if (p >= end) break;
    const char *s = p;
    while (p < end && *p != ' ') p++;
    size_t n = (size_t)(p - s);
    if (s != line && out->size && out->data[out->size - 1] != ' ')
      fer__buf_append(out, " ", 1);
    const char *eq = memchr(s, '=', n);
    if (n > 5 && !strncmp(s, "from=", 5)) {
      has_from = 1;
      fer__buf_append(out, "from=", 5);
      put_name(out, member, s + 5, n - 5);
    } else if (!at_keyword && !eq && takes_names(keyword, keyword_len)) {
      put_name(out, member, s, n);
    } else {
      fer__buf_append(out, s, n);
    }
    at_keyword = 0;
  }
  if (first && !has_from) fer__buf_append(out, " from=input", 11);
  fer__buf_append(out, "\n", 1);
}

/* The member's text without its `input` line and final softmax, names
 * prefixed, the last dense named `logits_name`. */
static fer_status put_member(fer__buf *out, const fer_model *m, int member,
                             const char *logits_name) {
  fer__buf text;
  fer__buf_init(&text);
  fer_status st = fer__model_text(m, &text);
  if (!st) st = fer__buf_status(&text, WHO);
  if (st) {
    fer__buf_release(&text);
    return st;
  }
  const char *p = (const char *)text.data, *end = p + text.size;
  int layer = -1; /* -1: the input line */
  const int last_dense = m->num_layers - 2;
  while (p < end && layer <= last_dense) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (len && p[0] != '#') {
      if (layer >= 0)
        put_line(out, member, p, len, layer == 0, layer == last_dense ? logits_name : NULL);
      layer++;
    }
    p = nl ? nl + 1 : end;
  }
  fer__buf_release(&text);
  return FER_OK;
}

/* Every member ends "dense N" then "softmax" reading it, and agrees with
 * the first on what an input and an output mean. */
static fer_status check_members(const fer_model *const *members, int count) {
  const fer_model *a = members[0];
  for (int k = 0; k < count; k++) {
    const fer_model *m = members[k];
    fer_status st = fer__model_check(m, WHO);
    if (st) return st;
    int n = m->num_layers;
    const fer__layer *last = n >= 2 ? &m->layers[n - 1] : NULL;
    if (!last || last->kind != FER_LAYER_SOFTMAX || last->num_src != 1 ||
        last->src[0] != n - 2 || m->layers[n - 2].kind != FER_LAYER_DENSE)
      return fer__fail(FER_ERR_UNSUPPORTED, WHO ": member %d does not end with a "
                       "dense layer followed by softmax (the logits are averaged)", k);
    if (k == 0) continue;
    if (m->input.c != a->input.c || m->input.h != a->input.h || m->input.w != a->input.w)
      return fer__fail(FER_ERR_SHAPE, WHO ": member %d takes %dx%dx%d inputs, member 0 "
                       "%dx%dx%d", k, m->input.c, m->input.h, m->input.w,
                       a->input.c, a->input.h, a->input.w);
    if (fer_model_output_size(m) != fer_model_output_size(a))
      return fer__fail(FER_ERR_SHAPE, WHO ": member %d has %d outputs, member 0 %d", k,
                       fer_model_output_size(m), fer_model_output_size(a));
    if (m->pre_scale != a->pre_scale || m->pre_mean != a->pre_mean ||
        m->pre_std != a->pre_std || m->norm_flags != a->norm_flags ||
        m->norm_sharpness != a->norm_sharpness)
      return fer__fail(FER_ERR_INVALID_ARGUMENT, WHO ": member %d normalises its input "
                       "differently from member 0 (preprocessing or image normalisation)", k);
    for (int c = 0; c < fer_model_output_size(a); c++) {
      /* NULL: a model without names (and not 7 outputs). */
      const char *mine = fer_model_class_name(m, c), *first = fer_model_class_name(a, c);
      if (mine != first && (!mine || !first || strcmp(mine, first)))
        return fer__fail(FER_ERR_INVALID_ARGUMENT, WHO ": member %d calls class %d '%s', "
                         "member 0 '%s'", k, c, mine ? mine : "(unnamed)",
                         first ? first : "(unnamed)");
    }
  }
  return FER_OK;
}

static fer_status build_text(const fer_model *const *members, int count, char **out) {
  fer__buf text;
  fer__buf_init(&text);
  const fer_model *a = members[0];
  fer__buf_printf(&text, "input %dx%dx%d\n", a->input.c, a->input.h, a->input.w);
  char name[FER__NAME_MAX];
  fer_status st = FER_OK;
  for (int k = 0; k < count && !st; k++) {
    snprintf(name, sizeof name, "m%d_logits", k);
    st = put_member(&text, members[k], k, name);
  }
  fer__buf_append(&text, "add", 3);
  for (int k = 0; k + 1 < count; k++) fer__buf_printf(&text, " m%d_logits", k);
  fer__buf_append(&text, "\nsoftmax\n", 9);
  fer__buf_byte(&text, 0);
  if (!st) st = fer__buf_status(&text, WHO);
  if (st) {
    fer__buf_release(&text);
    return st;
  }
  *out = (char *)text.data;
  return FER_OK;
}

/* Member k's layers (all but its softmax) are the ensemble's layers from
 * `first` on, in the same order: copy their tensors, scaling the last
 * dense layer by 1/count. */
static void copy_tensors(fer_model *e, int first, const fer_model *m, int count) {
  const int last_dense = m->num_layers - 2;
  for (int i = 0; i <= last_dense; i++) {
    const fer__layer *from = &m->layers[i];
    fer__layer *to = &e->layers[first + i];
    for (int t = 0; t < FER__TENSORS; t++) {
      if (!from->tensor[t]) continue;
      memcpy(to->tensor[t], from->tensor[t], from->tensor_size[t] * sizeof(float));
      if (i == last_dense)
        for (size_t j = 0; j < to->tensor_size[t]; j++) to->tensor[t][j] /= (float)count;
    }
  }
}

static fer_status copy_extras(fer_model *e, const fer_model *a, int count) {
  fer_status st = fer_model_set_preprocessing(e, a->pre_scale, a->pre_mean, a->pre_std);
  if (!st) st = fer_model_set_image_normalization(e, a->norm_flags, a->norm_sharpness);
  int classes = fer_model_output_size(a);
  const char **names = fer__malloc((size_t)classes * sizeof *names);
  if (!names) return fer__fail(FER_ERR_OUT_OF_MEMORY, WHO ": out of memory");
  int named = 1;
  for (int c = 0; c < classes; c++) named &= (names[c] = fer_model_class_name(a, c)) != NULL;
  if (!st && named) st = fer_model_set_class_names(e, names, classes);
  fer__free(names);
  char members[32];
  snprintf(members, sizeof members, "%d", count);
  if (!st) st = fer_model_set_metadata(e, "ensemble_members", members);
  return st;
}

fer_status fer_model_ensemble(const fer_model *const *members, int count,
                              fer_model **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, WHO ": out is NULL");
  *out = NULL;
  if (!members || count < 2 || count > FER__MAX_INPUTS)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, WHO ": %d members (from 2 to %d)",
                     members ? count : 0, (int)FER__MAX_INPUTS);
  for (int k = 0; k < count; k++)
    if (!members[k]) return fer__fail(FER_ERR_INVALID_ARGUMENT, WHO ": member %d is NULL", k);
  fer_status st = check_members(members, count);
  char *text = NULL;
  if (!st) st = build_text(members, count, &text);
  fer_model *e = NULL;
  if (!st) st = fer_model_from_text(text, &e);
  fer__free(text);
  if (st) return st;
  int first = 0;
  for (int k = 0; k < count; k++) {
    copy_tensors(e, first, members[k], count);
    first += members[k]->num_layers - 1;
  }
  if ((st = copy_extras(e, members[0], count))) {
    fer_model_free(e);
    return st;
  }
  *out = e;
  return FER_OK;
}
