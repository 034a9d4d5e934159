/* Architecture text: one layer per line ("conv 64 3x3 same"), `#` comments,
 * blank lines. The first layer line of a whole text is "input CxHxW". The
 * same spelling is written back by fer_model_to_text and stored in files. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/nn_internal.h"
#include "util/decimal.h"

fer_status fer__arch_error(const fer__arch_words *w, int index,
                           const char *fmt, ...) {
  char reason[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(reason, sizeof reason, fmt, ap);
  va_end(ap);
  int column = index >= 0 && index < w->count ? w->word[index].column : 1;
  return fer__fail(FER_ERR_FORMAT, "arch:%d:%d: %s", w->line, column, reason);
}

/* Digits only, 1..2^31-1. */
static int parse_positive(const char *s, size_t len, int *out) {
  if (len == 0 || len > 10) return 0;
  long v = 0;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9') return 0;
    v = v * 10 + (s[i] - '0');
  }
  if (v < 1 || v > 0x7fffffffL) return 0;
  *out = (int)v;
  return 1;
}

fer_status fer__arch_int(const fer__arch_words *w, int index, int *out) {
  const fer__arch_word *word = &w->word[index];
  if (!parse_positive(word->text, word->len, out))
    return fer__arch_error(w, index, "expected a positive integer, got '%.*s'",
                           (int)word->len, word->text);
  return FER_OK;
}

fer_status fer__arch_float(const fer__arch_words *w, int index, float *out) {
  const fer__arch_word *word = &w->word[index];
  char buf[64];
  if (word->len == 0 || word->len >= sizeof buf)
    return fer__arch_error(w, index, "expected a number, got '%.*s'",
                           (int)word->len, word->text);
  memcpy(buf, word->text, word->len);
  buf[word->len] = '\0';
  /* Not strtof: it follows the locale's decimal point. */
  const char *end;
  float v = 0.0f;
  if (fer__parse_float(buf, &end, &v) != FER__NUMBER_OK || *end != '\0')
    return fer__arch_error(w, index, "expected a number, got '%s'", buf);
  *out = v;
  return FER_OK;
}

/* "KHxKW", "K", with stride: "KHxKW/S" or "K/S". */
fer_status fer__arch_window(const fer__arch_words *w, int index, int *kh,
                            int *kw, int *stride) {
  const fer__arch_word *word = &w->word[index];
  const char *s = word->text, *end = s + word->len;
  const char *slash = memchr(s, '/', word->len);
  const char *size_end = slash ? slash : end;
  const char *x = memchr(s, 'x', (size_t)(size_end - s));
  int ok;
  if (x)
    ok = parse_positive(s, (size_t)(x - s), kh) &&
         parse_positive(x + 1, (size_t)(size_end - x - 1), kw);
  else
    ok = parse_positive(s, (size_t)(size_end - s), kh) && (*kw = *kh, 1);
  if (ok && slash) {
    if (!stride) ok = 0;
    else ok = parse_positive(slash + 1, (size_t)(end - slash - 1), stride);
  } else if (ok && stride) {
    *stride = *kh;
  }
  if (!ok)
    return fer__arch_error(w, index, "expected a size such as %s, got '%.*s'",
                           stride ? "2x2/2" : "3x3", (int)word->len, word->text);
  return FER_OK;
}

int fer__arch_is_option(const fer__arch_words *w, int index, const char *key,
                        fer__arch_word *value) {
  const fer__arch_word *word = &w->word[index];
  size_t klen = strlen(key);
  if (word->len <= klen || memcmp(word->text, key, klen) != 0 ||
      word->text[klen] != '=')
    return 0;
  value->text = word->text + klen + 1;
  value->len = word->len - klen - 1;
  value->column = word->column + (int)klen + 1;
  return 1;
}

void fer__arch_format_float(fer__buf *out, float v) {
  char buf[32];
  for (int digits = 6; digits <= 9; digits++) {
    char format[8];
    snprintf(format, sizeof format, "%%.%dg", digits);
    fer__format_double(buf, sizeof buf, format, (double)v);
    float back = 0.0f;
    if (fer__parse_float(buf, NULL, &back) == FER__NUMBER_OK && back == v) break;
  }
  fer__buf_printf(out, "%s", buf);
}

/* Splits a line into words at blanks, stopping at '#'. */
static fer_status split_words(const char *line, size_t len, int line_number,
                              fer__arch_words *w) {
  memset(w, 0, sizeof *w);
  w->line = line_number;
  size_t i = 0;
  while (i < len && line[i] != '#') {
    if (line[i] == ' ' || line[i] == '\t' || line[i] == '\r') {
      i++;
      continue;
    }
    size_t start = i;
    while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
           line[i] != '#')
      i++;
    if (w->count == FER__ARCH_MAX_WORDS) {
      w->count = FER__ARCH_MAX_WORDS;
      return fer__fail(FER_ERR_FORMAT, "arch:%d:%zu: more than %d words",
                       line_number, start + 1, FER__ARCH_MAX_WORDS);
    }
    w->word[w->count].text = line + start;
    w->word[w->count].len = i - start;
    w->word[w->count].column = (int)(start + 1);
    w->count++;
  }
  for (size_t j = 0; j < len; j++) {
    unsigned char ch = (unsigned char)line[j];
    if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f)
      return fer__fail(FER_ERR_FORMAT, "arch:%d:%zu: control character 0x%02x",
                       line_number, j + 1, ch);
  }
  return FER_OK;
}

/* The layer (or "input") a name in word `index` refers to. */
static fer_status resolve_name(const fer_model *m, const fer__arch_words *w,
                               int index, const fer__arch_word *word, int *src) {
  int s = fer__model_find_name(m, word->text, word->len);
  if (s == -2)
    return fer__arch_error(w, index, "no earlier layer is named '%.*s'",
                           (int)word->len, word->text);
  *src = s;
  return FER_OK;
}

static void drop_word(fer__arch_words *w, int index) {
  memmove(&w->word[index], &w->word[index + 1],
          (size_t)(w->count - index - 1) * sizeof w->word[0]);
  w->count--;
}

fer_status fer__arch_parse_line(fer_model *m, const char *line, size_t len,
                                int line_number) {
  fer__arch_words w;
  fer_status st = split_words(line, len, line_number, &w);
  if (st || w.count == 0) return st;
  fer__layer proto;
  memset(&proto, 0, sizeof proto);
  /* "NAME = layer ..." names the layer's output. */
  if (w.count >= 2 && w.word[1].len == 1 && w.word[1].text[0] == '=') {
    if (w.count < 3) return fer__arch_error(&w, 1, "expected a layer after '='");
    const fer__arch_word *name = &w.word[0];
    int ok = name->len < FER__NAME_MAX && !(name->text[0] >= '0' && name->text[0] <= '9');
    for (size_t k = 0; k < name->len && ok; k++) {
      char c = name->text[k];
      ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
    }
    if (!ok || (name->len == 5 && memcmp(name->text, "input", 5) == 0))
      return fer__arch_error(&w, 0,
                             "'%.*s' is not a layer name (letters, digits and _, "
                             "at most %d, not starting with a digit, not 'input')",
                             (int)name->len, name->text, FER__NAME_MAX - 1);
    if (fer__model_find_name(m, name->text, name->len) != -2)
      return fer__arch_error(&w, 0, "the name '%.*s' is taken", (int)name->len,
                             name->text);
    memcpy(proto.name, name->text, name->len);
    drop_word(&w, 0);
    drop_word(&w, 0);
  }
  const fer__layer_ops *ops =
      fer__layer_ops_by_keyword(w.word[0].text, w.word[0].len);
  if (!ops)
    return fer__arch_error(&w, 0, "unknown layer '%.*s'", (int)w.word[0].len,
                           w.word[0].text);
  proto.kind = ops->kind;
  /* "from=NAME": the first input, instead of the previous layer. */
  int first = m->num_layers - 1, explicit_first = 0;
  for (int i = 1; i < w.count; i++) {
    fer__arch_word v;
    if (!fer__arch_is_option(&w, i, "from", &v)) continue;
    if (explicit_first) return fer__arch_error(&w, i, "from= given twice");
    if ((st = resolve_name(m, &w, i, &v, &first))) return st;
    explicit_first = 1;
    drop_word(&w, i--);
  }
  proto.src[0] = first;
  proto.num_src = explicit_first ? 1 : 0;
  if (ops->max_inputs > 1) {
    /* "add NAME...": the first input and the named ones. */
    proto.num_src = 1;
    for (int i = 1; i < w.count; i++) {
      if (proto.num_src == ops->max_inputs)
        return fer__arch_error(&w, i, "'%s' takes at most %d inputs", ops->keyword,
                               ops->max_inputs);
      if ((st = resolve_name(m, &w, i, &w.word[i], &proto.src[proto.num_src++])))
        return st;
    }
    if (proto.num_src < ops->min_inputs)
      return fer__arch_error(&w, 0, "'%s' needs the names of %d more inputs",
                             ops->keyword, ops->min_inputs - proto.num_src);
    w.count = 1;
  }
  if ((st = ops->parse(&proto, &w))) return st;
  if ((st = fer__model_append(m, &proto))) {
    char where[48];
    snprintf(where, sizeof where, "arch:%d:%d", line_number, w.word[0].column);
    return fer__fail_prefix(st, where);
  }
  return FER_OK;
}

fer_status fer_model_add_text(fer_model *m, const char *line) {
  fer_status st = fer__model_check(m, "fer_model_add_text");
  if (st) return st;
  if (!line) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_add_text: line is NULL");
  size_t len = strlen(line);
  if (memchr(line, '\n', len))
    return fer__fail(FER_ERR_FORMAT, "arch:1:%zu: one line only",
                     (size_t)((const char *)memchr(line, '\n', len) - line) + 1);
  int before = m->num_layers;
  st = fer__arch_parse_line(m, line, len, 1);
  if (!st && m->num_layers == before)
    return fer__fail(FER_ERR_FORMAT, "arch:1:1: the line holds no layer");
  return st;
}

/* "input CxHxW" */
static fer_status parse_input(const fer__arch_words *w, fer_model **out) {
  if (w->count != 2)
    return fer__arch_error(w, w->count > 2 ? 2 : 0,
                           "expected 'input CxHxW' (such as input 1x48x48)");
  const fer__arch_word *word = &w->word[1];
  int dims[3], n = 0;
  const char *s = word->text, *end = s + word->len;
  while (n < 3) {
    const char *x = memchr(s, 'x', (size_t)(end - s));
    const char *stop = x && n < 2 ? x : end;
    if (!parse_positive(s, (size_t)(stop - s), &dims[n])) break;
    n++;
    if (stop == end) break;
    s = stop + 1;
  }
  if (n != 3 || s > end)
    return fer__arch_error(w, 1, "expected CxHxW such as 1x48x48, got '%.*s'",
                           (int)word->len, word->text);
  fer_status st = fer_model_create(dims[0], dims[1], dims[2], out);
  if (st) {
    char where[48];
    snprintf(where, sizeof where, "arch:%d:%d", w->line, word->column);
    return fer__fail_prefix(st, where);
  }
  return FER_OK;
}

fer_status fer_model_from_text(const char *text, fer_model **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_from_text: out is NULL");
  *out = NULL;
  if (!text) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_from_text: text is NULL");
  fer_model *m = NULL;
  fer_status st = FER_OK;
  int line_number = 0;
  const char *p = text;
  while (*p && !st) {
    const char *nl = strchr(p, '\n');
    size_t len = nl ? (size_t)(nl - p) : strlen(p);
    line_number++;
    if (!m) {
      fer__arch_words w;
      st = split_words(p, len, line_number, &w);
      if (!st && w.count > 0) {
        if (w.word[0].len == 5 && memcmp(w.word[0].text, "input", 5) == 0)
          st = parse_input(&w, &m);
        else
          st = fer__arch_error(&w, 0, "expected 'input CxHxW' before the "
                               "first layer, got '%.*s'",
                               (int)w.word[0].len, w.word[0].text);
      }
    } else {
      st = fer__arch_parse_line(m, p, len, line_number);
    }
    p = nl ? nl + 1 : p + len;
  }
  if (!st && !m)
    st = fer__fail(FER_ERR_FORMAT, "arch:%d:1: no 'input CxHxW' line",
                   line_number > 0 ? line_number : 1);
  if (st) {
    fer_model_free(m);
    return st;
  }
  *out = m;
  return FER_OK;
}

fer_status fer__model_text(const fer_model *m, fer__buf *out) {
  fer__buf_printf(out, "input %dx%dx%d\n", m->input.c, m->input.h, m->input.w);
  for (int i = 0; i < m->num_layers; i++) {
    const fer__layer *l = &m->layers[i];
    const fer__layer_ops *ops = fer__layer_ops_of(l->kind);
    if (l->name[0]) fer__buf_printf(out, "%s = ", l->name);
    fer__buf_printf(out, "%s", ops->keyword);
    ops->format(l, out);
    for (int j = 0; j < l->num_src; j++) {
      int s = l->src[j];
      const char *name = s == FER__SRC_INPUT ? "input" : m->layers[s].name;
      if (j == 0 && s != i - 1) fer__buf_printf(out, " from=%s", name);
      else if (j > 0) fer__buf_printf(out, " %s", name);
    }
    fer__buf_byte(out, '\n');
  }
  return fer__buf_status(out, "architecture text");
}

fer_status fer_model_to_text(const fer_model *m, char **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_model_to_text: out is NULL");
  *out = NULL;
  fer_status st = fer__model_check(m, "fer_model_to_text");
  if (st) return st;
  fer__buf b;
  fer__buf_init(&b);
  st = fer__model_text(m, &b);
  if (!st) {
    fer__buf_byte(&b, '\0');
    st = fer__buf_status(&b, "architecture text");
  }
  if (st) {
    fer__buf_release(&b);
    return st;
  }
  *out = (char *)b.data;
  return FER_OK;
}
