/* SVG elements written straight into a buffer. Numbers use two decimals:
 * enough for screen coordinates, and they keep files small. */
#include "util/svg.h"

#include <string.h>

#include "util/utf8.h"

void fer__svg_begin(fer__buf *b, double width, double height) {
  fer__buf_printf(b,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
                  "height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
                  "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
                  width, height, width, height);
  fer__svg_rect(b, 0, 0, width, height, "#ffffff", NULL, 0);
}

void fer__svg_end(fer__buf *b) { fer__buf_printf(b, "</svg>\n"); }

static void paint(fer__buf *b, const char *fill, const char *stroke,
                  double stroke_width, const char *dash) {
  fer__buf_printf(b, " fill=\"%s\"", fill ? fill : "none");
  if (stroke)
    fer__buf_printf(b, " stroke=\"%s\" stroke-width=\"%.2f\"", stroke,
                    stroke_width);
  if (dash) fer__buf_printf(b, " stroke-dasharray=\"%s\"", dash);
}

void fer__svg_rect(fer__buf *b, double x, double y, double width,
                   double height, const char *fill, const char *stroke,
                   double stroke_width) {
  fer__buf_printf(b,
                  "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"",
                  x, y, width, height);
  paint(b, fill, stroke, stroke_width, NULL);
  fer__buf_printf(b, "/>\n");
}

void fer__svg_line(fer__buf *b, double x1, double y1, double x2, double y2,
                   const char *stroke, double stroke_width, const char *dash) {
  fer__buf_printf(b, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"",
                  x1, y1, x2, y2);
  paint(b, NULL, stroke, stroke_width, dash);
  fer__buf_printf(b, "/>\n");
}

void fer__svg_polyline(fer__buf *b, const double *xs, const double *ys,
                       size_t n, const char *stroke, double stroke_width,
                       const char *dash) {
  if (n < 2) return;
  fer__buf_printf(b, "<polyline points=\"");
  for (size_t i = 0; i < n; i++)
    fer__buf_printf(b, "%s%.2f,%.2f", i ? " " : "", xs[i], ys[i]);
  fer__buf_printf(b, "\"");
  paint(b, NULL, stroke, stroke_width, dash);
  fer__buf_printf(b, " stroke-linejoin=\"round\"/>\n");
}

void fer__svg_clip_begin(fer__buf *b, const char *id, double x, double y,
                         double width, double height) {
  fer__buf_printf(b,
                  "<clipPath id=\"%s\"><rect x=\"%.2f\" y=\"%.2f\" "
                  "width=\"%.2f\" height=\"%.2f\"/></clipPath>\n"
                  "<g clip-path=\"url(#%s)\">\n",
                  id, x, y, width, height, id);
}

void fer__svg_clip_end(fer__buf *b) { fer__buf_printf(b, "</g>\n"); }

void fer__svg_circle(fer__buf *b, double cx, double cy, double r,
                     const char *fill) {
  fer__buf_printf(b, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.2f\"", cx, cy, r);
  paint(b, fill, NULL, 0, NULL);
  fer__buf_printf(b, "/>\n");
}

void fer__svg_escape(fer__buf *b, const char *text) {
  const unsigned char *p = (const unsigned char *)text;
  while (*p) {
    int n = fer__utf8_length(p);
    if (n > 1) {
      fer__buf_append(b, p, (size_t)n);
      p += n;
      continue;
    }
    switch (*p) {
      case '&': fer__buf_printf(b, "&amp;"); break;
      case '<': fer__buf_printf(b, "&lt;"); break;
      case '>': fer__buf_printf(b, "&gt;"); break;
      case '"': fer__buf_printf(b, "&quot;"); break;
      case '\'': fer__buf_printf(b, "&apos;"); break;
      default:
        /* XML 1.0 allows no control characters but tab and line breaks. */
        fer__buf_byte(b, (n == 0 || (*p < 0x20 && *p != '\t' && *p != '\n' &&
                                     *p != '\r'))
                             ? '?'
                             : *p);
    }
    p++;
  }
}

void fer__svg_text(fer__buf *b, double x, double y, const char *text,
                   const fer__svg_text_style *style) {
  static const char *const anchors[] = {"start", "middle", "end"};
  fer__svg_text_style plain = {0};
  if (!style) style = &plain;
  double size = style->size > 0 ? style->size : 12;
  unsigned anchor = (unsigned)style->anchor <= FER__SVG_END ? style->anchor : 0;
  fer__buf_printf(b,
                  "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" "
                  "text-anchor=\"%s\" fill=\"%s\"",
                  x, y, size, anchors[anchor],
                  style->fill ? style->fill : "#222222");
  if (style->bold) fer__buf_printf(b, " font-weight=\"bold\"");
  if (style->rotate != 0)
    fer__buf_printf(b, " transform=\"rotate(%.1f %.2f %.2f)\"", style->rotate,
                    x, y);
  fer__buf_printf(b, ">");
  fer__svg_escape(b, text);
  fer__buf_printf(b, "</text>\n");
}
