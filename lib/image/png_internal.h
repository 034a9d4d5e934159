/* What the PNG decoder and encoder share. */
#ifndef FER_IMAGE_PNG_INTERNAL_H
#define FER_IMAGE_PNG_INTERNAL_H

#include <stdint.h>

/* The 8 bytes every PNG file starts with. */
static const uint8_t fer__png_signature[8] = {0x89, 'P', 'N', 'G',
                                              '\r', '\n', 0x1A, '\n'};

#endif
