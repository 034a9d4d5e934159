/* Turning a data set into training input: the order of an epoch and float
 * batches, optionally augmented. */
#include "core/core_internal.h"
#include "data/augment_internal.h"
#include "data/dataset_internal.h"

/* Separates the shuffle's random stream from the augmentation streams that
 * hash the same (seed, epoch) pair. */
#define ORDER_STREAM 0x4F52444552ull /* "ORDER" */

fer_status fer_epoch_order(size_t n, uint64_t seed, uint32_t epoch,
                           uint32_t *order) {
  if (n && !order)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_epoch_order: order is NULL");
  if (n > (size_t)UINT32_MAX)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_epoch_order: %zu items (at most %lu)", n,
                     (unsigned long)UINT32_MAX);
  fer__rng rng;
  fer__rng_seed(&rng, fer__mix64(fer__mix64(seed, ORDER_STREAM), epoch));
  for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
  for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
    size_t j = fer__rng_below(&rng, (uint32_t)i);
    uint32_t t = order[i - 1];
    order[i - 1] = order[j];
    order[j] = t;
  }
  return FER_OK;
}

fer_status fer_dataset_make_batch(const fer_dataset *ds, const fer_augment *aug,
                                  uint32_t epoch, const uint32_t *indices,
                                  size_t n, float scale, float *x_out,
                                  size_t x_capacity, int32_t *labels_out) {
  static const char who[] = "fer_dataset_make_batch";
  fer_status st = fer__dataset_check(ds, who);
  if (st == FER_OK && aug) st = fer__augment_check(aug, who);
  if (st != FER_OK) return st;
  if (n && (!indices || !x_out))
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: indices or x_out is NULL",
                     who);
  size_t needed = fer__mul_size(n, ds->sample_size);
  if (x_capacity < needed)
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL,
                     "%s: x_out holds %zu floats, the batch needs %zu", who,
                     x_capacity, needed);
  for (size_t i = 0; i < n; i++)
    if (indices[i] >= ds->count)
      return fer__fail(FER_ERR_INVALID_ARGUMENT,
                       "%s: indices[%zu] = %lu is outside 0..%zu", who, i,
                       (unsigned long)indices[i],
                       ds->count ? ds->count - 1 : 0);
  /* Samples are independent and their draws depend only on (seed, epoch,
   * index), so threads change nothing in the result. */
  long count = (long)n;
  int threads = fer__num_threads();
  (void)threads;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(threads) if (count >= 16)
#endif
  for (long i = 0; i < count; i++) {
    const uint8_t *src = ds->pixels + (size_t)indices[i] * ds->sample_size;
    float *dst = x_out + (size_t)i * ds->sample_size;
    if (aug)
      fer__augment_run(aug, epoch, indices[i], src, ds->channels, ds->height,
                       ds->width, scale, dst);
    else
      for (size_t k = 0; k < ds->sample_size; k++)
        dst[k] = (float)src[k] * scale;
    if (labels_out) labels_out[i] = ds->labels[indices[i]];
  }
  return FER_OK;
}
