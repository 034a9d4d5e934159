/*
 * What the Y4M reader and writer share: the magic numbers that catch freed
 * handles, the plane geometry of a frame, and the luma -> gray mapping of
 * the cheap gray path. Colour conversions are the image module's
 * (fer_image_from_yuv420, fer_image_to_pixels).
 */
#ifndef FER_ANALYZE_Y4M_INTERNAL_H
#define FER_ANALYZE_Y4M_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fer/video.h"

#define FER__Y4M_READER_MAGIC 0x5934D252u /* "Y4MR" */
#define FER__Y4M_WRITER_MAGIC 0x5934D257u /* "Y4MW" */

/* Y4M defines chroma planes of 4:2:0 streams as ceil(w/2) x ceil(h/2). */
static inline int fer__y4m_chroma_side(int luma_side) {
  return (luma_side + 1) / 2;
}

/* Luma of studio swing (black 16, white 235) stretched to 0..255: the
 * gray value fer_image_to_gray() would give for the decoded RGB pixel,
 * computed without touching chroma. */
static inline uint8_t fer__y4m_luma_to_gray(uint8_t y) {
  int v = ((int)y - 16) * 255 * 2 + 219; /* round((y - 16) * 255 / 219) */
  if (v < 0) return 0;
  v /= 2 * 219;
  return (uint8_t)(v > 255 ? 255 : v);
}

#endif
