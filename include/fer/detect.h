/*
 * libfer Viola-Jones face detector.
 * (Filled in by the detector work.)
 */
#ifndef FER_DETECT_H
#define FER_DETECT_H

#include "core.h"
#include "image.h"

#ifdef __cplusplus
extern "C" {
#endif

#ifdef __cplusplus
}
#endif

#endif /* FER_DETECT_H */
