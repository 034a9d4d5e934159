/*
 * libfer: facial expression recognition in C.
 *
 * The one header to include. It pulls in every part of the public API:
 *
 *   fer/core.h    status codes, error messages, versions, threads, memory
 *   fer/image.h   images: pixel formats, codecs, conversion, drawing
 *   fer/nn.h      the CNN engine: build, train, save, load, predict
 *   fer/detect.h  the Viola-Jones face detector
 *   fer/video.h   Y4M video in and out, the face tracker
 *   fer/data.h    training data: data sets, augmentation, metrics, charts
 *   fer/train.h   the fit loop: callbacks, resumable training state
 *   fer/analyze.h the whole pipeline: detect, crop, classify, annotate
 *
 * API conventions (they hold for every function in every part):
 *
 *  - Handles are opaque (`fer_model`, `fer_image`, ...). `fer_x_create()` or
 *    `fer_x_load()` makes one and stores it through an out pointer, which is
 *    set to NULL on failure; `fer_x_free()` releases it and accepts NULL.
 *  - Every call that can fail returns `fer_status`: FER_OK (0) or an error.
 *    The detail (which file, which byte, which argument, why) is kept per
 *    thread and read with `fer_last_error()`.
 *  - The library never prints, aborts, exits or asserts on bad input, and it
 *    never frees or closes anything the caller passed in.
 *  - Results go into caller buffers with a capacity; when the buffer is too
 *    small the call returns FER_ERR_BUFFER_TOO_SMALL and the count needed.
 *  - Options are set through keyed setters, never through public structs; the
 *    only public structs are frozen plain records such as `fer_rect`.
 *  - Thread safety is stated on each handle type. In short: loaded models and
 *    cascades are immutable and may be shared by any number of threads;
 *    objects with scratch memory (detectors, trainers) belong to one thread
 *    at a time.
 *  - Only symbols starting with `fer_` are exported, and they carry a
 *    version node (LIBFER_0) so that a later release can add `_v2` variants
 *    without breaking programs built against this one.
 */
#ifndef FER_H
#define FER_H

#include "fer/core.h"
#include "fer/image.h"
#include "fer/nn.h"
#include "fer/detect.h"
#include "fer/cascade_train.h"
#include "fer/video.h"
#include "fer/data.h"
#include "fer/train.h"
#include "fer/analyze.h"

#endif /* FER_H */
