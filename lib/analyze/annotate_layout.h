/* Where fer_analyzer_annotate draws each face's label, and how large: the
 * geometry alone, so tests can check it without reading pixels. */
#ifndef FER_ANNOTATE_LAYOUT_H
#define FER_ANNOTATE_LAYOUT_H

#include <stddef.h>

#include "fer/analyze.h"

/* Room for a 255-byte class name, " 100%" and the NUL. */
#define FER__LABEL_TEXT_SIZE 272

/* One face's label. */
typedef struct fer__label {
  /* In: the whole label ("happy 87%"). Out: what is drawn, which is the
   * whole label, or its words before the last space ("happy") or its first
   * bytes when the image is too small for more; "" when there was no room
   * for even one character. */
  char text[FER__LABEL_TEXT_SIZE];
  /* Out: the filled background, inside the image and disjoint from every
   * other label's; all zero when nothing is drawn. */
  fer_rect rect;
  int scale;          /* out: font scale, 1..64 (0: nothing drawn) */
  int text_x, text_y; /* out: top-left corner of the text */
} fer__label;

/* Line width of the box and the preferred font scale for a face `box` in a
 * width x height image: a floor from the image size, so that labels stay
 * readable when a large photo is shown shrunk to fit a screen, growing
 * with the face so a close-up gets a label in proportion. */
void fer__annotate_sizes(int width, int height, const fer_rect *box, int *thickness,
                         int *scale);

/* Places labels[i] for faces[i].box in a width x height image. Each goes
 * above its box if it can, else below, else inside the box's top, moved
 * sideways as far as it must to keep clear of the labels placed before it
 * (faces are taken top to bottom, then left to right) and, where there is
 * a choice, of the other faces. A label keeps at least half of its width
 * (or of the box's, when narrower) over its box; when no such place is
 * free it is made smaller, down to scale 1, then put anywhere near the box
 * that is free, then shortened. Statuses: FER_ERR_OUT_OF_MEMORY. */
fer_status fer__annotate_layout(int width, int height, const fer_face *faces, size_t count,
                                fer__label *labels);

/* The labels fer_analyzer_annotate() would draw on a width x height image:
 * each face's text ("happy 87%", the class name from the analyzer's model)
 * laid out by fer__annotate_layout. Statuses: as that function. */
fer_status fer__annotate_plan(const fer_analyzer *an, int width, int height,
                              const fer_face *faces, size_t count, fer__label *labels);

#endif
