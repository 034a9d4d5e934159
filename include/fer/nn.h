/*
 * libfer CNN engine: build, train, save, load and run convolutional networks.
 * (Filled in by the CNN engine work.)
 */
#ifndef FER_NN_H
#define FER_NN_H

#include "core.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* FER_NN_H */
