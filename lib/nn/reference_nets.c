/* The four reference networks of the benchmarks, as architecture text
 * (see ../shared/bench/reference-nets.md for their origins). */
#include <string.h>

#include "nn/nn_internal.h"

typedef struct reference_net {
  const char *name;
  const char *text;
} reference_net;

static const reference_net nets[] = {
  {"seed000",
   "# four-block CNN with batch norm\n"
   "input 1x48x48\n"
   "conv 64 3x3 same\nbn\nrelu\nmax 2x2/2\ndrop 0.25\n"
   "conv 128 5x5 same\nbn\nrelu\nmax 2x2/2\ndrop 0.25\n"
   "conv 512 3x3 same\nbn\nrelu\nmax 2x2/2\ndrop 0.25\n"
   "conv 512 3x3 same\nbn\nrelu\nmax 2x2/2\ndrop 0.25\n"
   "flatten\n"
   "dense 256\nbn\nrelu\ndrop 0.25\n"
   "dense 512\nbn\nrelu\ndrop 0.25\n"
   "dense 7\nsoftmax\n"},
  {"seed001",
   "# valid-padding CNN with a large dense head\n"
   "input 1x48x48\n"
   "conv 64 5x5 valid\nrelu\n"
   "max 5x5/2\n"
   "conv 64 3x3 valid\nrelu\n"
   "conv 64 3x3 valid\nrelu\n"
   "avg 3x3/2\n"
   "conv 128 3x3 valid\nrelu\n"
   "conv 128 3x3 valid\nrelu\n"
   "avg 3x3/2\n"
   "flatten\n"
   "dense 1024\nrelu\ndrop 0.2\n"
   "dense 1024\nrelu\ndrop 0.2\n"
   "dense 7\nsoftmax\n"},
  {"seed002",
   "# dilated convolutions\n"
   "input 1x48x48\n"
   "conv 32 3x3 same\nrelu\n"
   "conv 32 3x3 same\nrelu\n"
   "conv 64 3x3 same\nrelu\n"
   "conv 64 3x3 same\nrelu\n"
   "conv 96 3x3 same dil=2\nrelu\n"
   "conv 96 3x3 valid\nrelu\n"
   "conv 128 3x3 same dil=2\nrelu\n"
   "conv 128 3x3 valid\nrelu\n"
   "flatten\n"
   "dense 64\nsigmoid\n"
   "dense 7\nsoftmax\n"},
  {"vgglite",
   "# compact modern baseline\n"
   "input 1x48x48\n"
   "conv 32 3x3 same\nbn\nrelu\nconv 32 3x3 same\nbn\nrelu\nmax 2x2/2\n"
   "conv 64 3x3 same\nbn\nrelu\nconv 64 3x3 same\nbn\nrelu\nmax 2x2/2\n"
   "conv 128 3x3 same\nbn\nrelu\nconv 128 3x3 same\nbn\nrelu\nmax 2x2/2\n"
   "conv 256 3x3 same\nbn\nrelu\nconv 256 3x3 same\nbn\nrelu\nmax 2x2/2\n"
   "gap\ndrop 0.3\ndense 7\nsoftmax\n"},
};

const char *fer_model_reference_text(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < FER__ARRAY_LEN(nets); i++)
    if (strcmp(nets[i].name, name) == 0) return nets[i].text;
  return NULL;
}

const char *fer_model_reference_name(int index) {
  if (index < 0 || (size_t)index >= FER__ARRAY_LEN(nets)) return NULL;
  return nets[index].name;
}

fer_status fer_model_create_reference(const char *name, fer_model **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_model_create_reference: out is NULL");
  *out = NULL;
  const char *text = fer_model_reference_text(name);
  if (!text)
    return fer__fail(FER_ERR_NOT_FOUND,
                     "fer_model_create_reference: no reference network '%s' "
                     "(seed000, seed001, seed002, vgglite)",
                     name ? name : "(null)");
  return fer_model_from_text(text, out);
}
