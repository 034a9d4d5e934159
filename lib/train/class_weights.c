/* "Balanced" class weights, as scikit-learn's compute_class_weight and
 * Keras use them: w_c = n / (K n_c), so every class carries the same total
 * weight in the loss. */
#include "core/core_internal.h"
#include "fer/train.h"

fer_status fer_dataset_balanced_weights(const fer_dataset *ds, float *weights,
                                        int capacity) {
  int classes = fer_dataset_class_count(ds);
  if (!ds || classes < 1)
    return fer__fail(FER_ERR_MISUSE, "fer_dataset_balanced_weights: data set is "
                     "NULL or not live");
  if (!weights || capacity < classes)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL, "fer_dataset_balanced_weights: "
                     "room for %d weights, %d classes", capacity, classes);
  size_t n = fer_dataset_count(ds);
  if (n == 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_dataset_balanced_weights: the data set is empty");
  for (int c = 0; c < classes; c++) {
    size_t nc = fer_dataset_class_size(ds, c);
    weights[c] = nc ? (float)((double)n / ((double)classes * (double)nc)) : 0.0f;
  }
  return FER_OK;
}
