/* A small SVG writer: shapes and text appended to a fer__buf, with text
 * escaped for XML. Coordinates are user units (pixels); colours are CSS
 * strings such as "#1f77b4". Charts are built from these in lib/report/. */
#ifndef FER_UTIL_SVG_H
#define FER_UTIL_SVG_H

#include <stddef.h>

#include "util/buffer.h"

/* Text alignment relative to the anchor point. */
typedef enum fer__svg_anchor {
  FER__SVG_START = 0,
  FER__SVG_MIDDLE = 1,
  FER__SVG_END = 2
} fer__svg_anchor;

/* Style of a text element; zero-initialised means 12 px, normal, black,
 * start-anchored, unrotated. */
typedef struct fer__svg_text_style {
  double size;
  fer__svg_anchor anchor;
  int bold;
  const char *fill;
  double rotate;   /* degrees, about the anchor point */
} fer__svg_text_style;

/* Opens the document (with a white background) and closes it. */
void fer__svg_begin(fer__buf *b, double width, double height);
void fer__svg_end(fer__buf *b);

/* `fill` or `stroke` NULL: none. */
void fer__svg_rect(fer__buf *b, double x, double y, double width,
                   double height, const char *fill, const char *stroke,
                   double stroke_width);
/* `dash` NULL: solid, else an SVG dash array such as "6 4". */
void fer__svg_line(fer__buf *b, double x1, double y1, double x2, double y2,
                   const char *stroke, double stroke_width, const char *dash);
/* A connected line through n points (nothing when n < 2). */
void fer__svg_polyline(fer__buf *b, const double *xs, const double *ys,
                       size_t n, const char *stroke, double stroke_width,
                       const char *dash);
void fer__svg_circle(fer__buf *b, double cx, double cy, double r,
                     const char *fill);
/* Everything drawn between begin and end is clipped to the rectangle;
 * `id` must be unique in the document. */
void fer__svg_clip_begin(fer__buf *b, const char *id, double x, double y,
                         double width, double height);
void fer__svg_clip_end(fer__buf *b);
/* `text` is escaped; printf-style formatting is the caller's. */
void fer__svg_text(fer__buf *b, double x, double y, const char *text,
                   const fer__svg_text_style *style);
/* Appends `text` with &, <, >, " and ' escaped, and bytes that XML 1.0
 * forbids (control characters) replaced by '?'. */
void fer__svg_escape(fer__buf *b, const char *text);

#endif
