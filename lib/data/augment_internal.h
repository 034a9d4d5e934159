/* Augmentation entry points for the batch maker (dataset_batch.c). */
#ifndef FER_NN_AUGMENT_INTERNAL_H
#define FER_NN_AUGMENT_INTERNAL_H

#include <stdint.h>

#include "fer/data.h"

/* FER_OK when `aug` is live, else FER_ERR_MISUSE naming `who`. */
fer_status fer__augment_check(const fer_augment *aug, const char *who);

/* fer_augment_apply() without argument checks; cannot fail, allocates
 * nothing. */
void fer__augment_run(const fer_augment *aug, uint32_t epoch, uint64_t index,
                      const uint8_t *src, int channels, int height, int width,
                      float scale, float *dst);

#endif
