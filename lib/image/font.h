/* The built-in bitmap font shared by the text drawing code. */
#ifndef FER_IMAGE_FONT_H
#define FER_IMAGE_FONT_H

/* Glyph cells are FER__FONT_SIZE x FER__FONT_SIZE pixels. */
#define FER__FONT_SIZE 8

/* Row `row` (0 = top) of the glyph for `ch` as 8 bits, bit 7 = leftmost
 * pixel. Characters outside printable ASCII give the glyph of '?'. */
unsigned fer__font_row(int ch, int row);

#endif
