/* The layer registry: one row per kind, indexed by its file-format value. */
#include <string.h>

#include "nn/nn_internal.h"

static const fer__layer_ops *const registry[] = {
  [FER_LAYER_CONV] = &fer__conv_ops,
  [FER_LAYER_MAX_POOL] = &fer__max_pool_ops,
  [FER_LAYER_AVG_POOL] = &fer__avg_pool_ops,
  [FER_LAYER_GLOBAL_AVG_POOL] = &fer__global_avg_pool_ops,
  [FER_LAYER_BATCH_NORM] = &fer__batch_norm_ops,
  [FER_LAYER_RELU] = &fer__relu_ops,
  [FER_LAYER_LEAKY_RELU] = &fer__leaky_relu_ops,
  [FER_LAYER_ELU] = &fer__elu_ops,
  [FER_LAYER_SIGMOID] = &fer__sigmoid_ops,
  [FER_LAYER_TANH] = &fer__tanh_ops,
  [FER_LAYER_SOFTMAX] = &fer__softmax_ops,
  [FER_LAYER_DROPOUT] = &fer__dropout_ops,
  [FER_LAYER_DENSE] = &fer__dense_ops,
  [FER_LAYER_FLATTEN] = &fer__flatten_ops,
  [FER_LAYER_ADD] = &fer__add_ops,
  [FER_LAYER_CONCAT] = &fer__concat_ops,
  [FER_LAYER_MUL] = &fer__mul_ops,
};
/* A new kind needs a row here (and the last enum value to grow). */
_Static_assert(FER__ARRAY_LEN(registry) == FER_LAYER_MUL + 1,
               "every layer kind needs a registry row");

const fer__layer_ops *fer__layer_ops_of(int kind) {
  if (kind < 0 || (size_t)kind >= FER__ARRAY_LEN(registry)) return NULL;
  return registry[kind];
}

const fer__layer_ops *fer__layer_ops_by_keyword(const char *word, size_t len) {
  for (size_t i = 0; i < FER__ARRAY_LEN(registry); i++)
    if (registry[i] && strlen(registry[i]->keyword) == len &&
        memcmp(registry[i]->keyword, word, len) == 0)
      return registry[i];
  return NULL;
}
