/* The reference networks of the benchmarks, as architecture text
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
  /* Graph networks (skip connections): the ResNet-18 layout and MobileNetV2
   * sized for 48x48 (../shared/bench/reference-nets.md). Padding is
   * explicit (pad=1) so strided layers align as PyTorch's do. */
  {"resnet-lite",
   "# ResNet-18 layout (2-2-2-2 basic blocks) at widths 32-256 for 48x48\n"
   "input 1x48x48\nconv 32 3x3 pad=1 nobias\nbn\nb0 = relu\n"
   "conv 32 3x3 pad=1 nobias\nbn\nrelu\nconv 32 3x3 pad=1 nobias\nbn\n"
   "add b0\nb1 = relu\nconv 32 3x3 pad=1 nobias\nbn\nrelu\n"
   "conv 32 3x3 pad=1 nobias\nbn\nadd b1\nb2 = relu\n"
   "conv 64 1x1 stride=2 nobias\np3 = bn\n"
   "conv 64 3x3 pad=1 stride=2 nobias from=b2\nbn\nrelu\n"
   "conv 64 3x3 pad=1 nobias\nbn\nadd p3\nb3 = relu\n"
   "conv 64 3x3 pad=1 nobias\nbn\nrelu\nconv 64 3x3 pad=1 nobias\nbn\n"
   "add b3\nb4 = relu\nconv 128 1x1 stride=2 nobias\np5 = bn\n"
   "conv 128 3x3 pad=1 stride=2 nobias from=b4\nbn\nrelu\n"
   "conv 128 3x3 pad=1 nobias\nbn\nadd p5\nb5 = relu\n"
   "conv 128 3x3 pad=1 nobias\nbn\nrelu\nconv 128 3x3 pad=1 nobias\nbn\n"
   "add b5\nb6 = relu\nconv 256 1x1 stride=2 nobias\np7 = bn\n"
   "conv 256 3x3 pad=1 stride=2 nobias from=b6\nbn\nrelu\n"
   "conv 256 3x3 pad=1 nobias\nbn\nadd p7\nb7 = relu\n"
   "conv 256 3x3 pad=1 nobias\nbn\nrelu\nconv 256 3x3 pad=1 nobias\nbn\n"
   "add b7\nb8 = relu\ngap\nflatten\ndense 7\nsoftmax\n"},
  {"mobilenetv2-lite",
   "# MobileNetV2 (inverted residuals, ReLU for ReLU6) for 48x48\n"
   "input 1x48x48\nconv 32 3x3 pad=1 nobias\nbn\nb0 = relu\n"
   "conv 32 3x3 pad=1 stride=1 groups=32 nobias\nbn\nrelu\n"
   "conv 16 1x1 nobias\nb1 = bn\nconv 96 1x1 nobias\nbn\nrelu\n"
   "conv 96 3x3 pad=1 stride=2 groups=96 nobias\nbn\nrelu\n"
   "conv 24 1x1 nobias\nb2 = bn\nconv 144 1x1 nobias\nbn\nrelu\n"
   "conv 144 3x3 pad=1 stride=1 groups=144 nobias\nbn\nrelu\n"
   "conv 24 1x1 nobias\nbn\nb3 = add b2\nconv 144 1x1 nobias\nbn\nrelu\n"
   "conv 144 3x3 pad=1 stride=2 groups=144 nobias\nbn\nrelu\n"
   "conv 32 1x1 nobias\nb4 = bn\nconv 192 1x1 nobias\nbn\nrelu\n"
   "conv 192 3x3 pad=1 stride=1 groups=192 nobias\nbn\nrelu\n"
   "conv 32 1x1 nobias\nbn\nb5 = add b4\nconv 192 1x1 nobias\nbn\nrelu\n"
   "conv 192 3x3 pad=1 stride=1 groups=192 nobias\nbn\nrelu\n"
   "conv 32 1x1 nobias\nbn\nb6 = add b5\nconv 192 1x1 nobias\nbn\nrelu\n"
   "conv 192 3x3 pad=1 stride=2 groups=192 nobias\nbn\nrelu\n"
   "conv 64 1x1 nobias\nb7 = bn\nconv 384 1x1 nobias\nbn\nrelu\n"
   "conv 384 3x3 pad=1 stride=1 groups=384 nobias\nbn\nrelu\n"
   "conv 64 1x1 nobias\nbn\nb8 = add b7\nconv 384 1x1 nobias\nbn\nrelu\n"
   "conv 384 3x3 pad=1 stride=1 groups=384 nobias\nbn\nrelu\n"
   "conv 64 1x1 nobias\nbn\nb9 = add b8\nconv 384 1x1 nobias\nbn\nrelu\n"
   "conv 384 3x3 pad=1 stride=1 groups=384 nobias\nbn\nrelu\n"
   "conv 64 1x1 nobias\nbn\nb10 = add b9\nconv 384 1x1 nobias\nbn\n"
   "relu\nconv 384 3x3 pad=1 stride=1 groups=384 nobias\nbn\nrelu\n"
   "conv 96 1x1 nobias\nb11 = bn\nconv 576 1x1 nobias\nbn\nrelu\n"
   "conv 576 3x3 pad=1 stride=1 groups=576 nobias\nbn\nrelu\n"
   "conv 96 1x1 nobias\nbn\nb12 = add b11\nconv 576 1x1 nobias\nbn\n"
   "relu\nconv 576 3x3 pad=1 stride=1 groups=576 nobias\nbn\nrelu\n"
   "conv 96 1x1 nobias\nbn\nb13 = add b12\nconv 576 1x1 nobias\nbn\n"
   "relu\nconv 576 3x3 pad=1 stride=2 groups=576 nobias\nbn\nrelu\n"
   "conv 160 1x1 nobias\nb14 = bn\nconv 960 1x1 nobias\nbn\nrelu\n"
   "conv 960 3x3 pad=1 stride=1 groups=960 nobias\nbn\nrelu\n"
   "conv 160 1x1 nobias\nbn\nb15 = add b14\nconv 960 1x1 nobias\nbn\n"
   "relu\nconv 960 3x3 pad=1 stride=1 groups=960 nobias\nbn\nrelu\n"
   "conv 160 1x1 nobias\nbn\nb16 = add b15\nconv 960 1x1 nobias\nbn\n"
   "relu\nconv 960 3x3 pad=1 stride=1 groups=960 nobias\nbn\nrelu\n"
   "conv 320 1x1 nobias\nb17 = bn\nconv 1280 1x1 nobias\nbn\nrelu\ngap\n"
   "flatten\ndrop 0.2\ndense 7\nsoftmax\n"},
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
                     "(seed000, seed001, seed002, vgglite, resnet-lite, "
                     "mobilenetv2-lite)",
                     name ? name : "(null)");
  return fer_model_from_text(text, out);
}
