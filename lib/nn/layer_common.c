/* Ops entries that many layer kinds share. */
#include <string.h>

#include "nn/nn_internal.h"

size_t fer__no_saved(const fer__layer *l, int n) {
  (void)l;
  (void)n;
  return 0;
}

size_t fer__no_scratch(const fer__layer *l) {
  (void)l;
  return 0;
}

double fer__no_flops(const fer__layer *l) {
  (void)l;
  return 0.0;
}

fer_status fer__same_shape(fer__layer *l) {
  l->out = l->in;
  return FER_OK;
}

fer_status fer__parse_no_args(fer__layer *l, const fer__arch_words *w) {
  (void)l;
  if (w->count > 1)
    return fer__arch_error(w, 1, "'%.*s' takes no arguments",
                           (int)w->word[0].len, w->word[0].text);
  return FER_OK;
}

void fer__format_no_args(const fer__layer *l, fer__buf *out) {
  (void)l;
  (void)out;
}

fer_status fer__parse_alpha(fer__layer *l, const fer__arch_words *w,
                            int required, float fallback) {
  if (w->count > 2)
    return fer__arch_error(w, 2, "'%.*s' takes one number",
                           (int)w->word[0].len, w->word[0].text);
  if (w->count == 1) {
    if (required)
      return fer__arch_error(w, 0, "'%.*s' needs a number",
                             (int)w->word[0].len, w->word[0].text);
    l->alpha = fallback;
    return FER_OK;
  }
  return fer__arch_float(w, 1, &l->alpha);
}

void fer__format_alpha(const fer__layer *l, fer__buf *out) {
  fer__buf_byte(out, ' ');
  fer__arch_format_float(out, l->alpha);
}
