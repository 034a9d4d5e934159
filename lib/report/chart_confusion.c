/* The confusion matrix as an SVG heat map. Colour follows the fraction of
 * each true class (row-normalised), so a rare class such as FER2013's
 * "disgust" is as readable as a common one; the cell text gives the raw
 * count and that fraction. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "report/metrics_internal.h"
#include "util/format.h"
#include "util/svg.h"

#define MAX_DRAWN_CLASSES 200
#define LABEL_CHARS 24 /* longer class names are cut, with an ellipsis */

/* White to dark blue through light and mid blues: a sequential scale that
 * stays readable for colour-blind readers. */
static const double ramp[][3] = {{255, 255, 255}, {198, 219, 239},
                                 {107, 174, 214}, {33, 113, 181},
                                 {8, 48, 107}};

static void colour_at(double t, char *out, size_t size) {
  if (!(t >= 0)) t = 0;
  if (t > 1) t = 1;
  double pos = t * (FER__ARRAY_LEN(ramp) - 1);
  size_t i = (size_t)pos;
  if (i >= FER__ARRAY_LEN(ramp) - 1) i = FER__ARRAY_LEN(ramp) - 2;
  double f = pos - (double)i;
  int rgb[3];
  for (int c = 0; c < 3; c++)
    rgb[c] = (int)floor(ramp[i][c] + (ramp[i + 1][c] - ramp[i][c]) * f + 0.5);
  snprintf(out, size, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
}

/* A class name for an axis label, cut to LABEL_CHARS bytes (at a UTF-8
 * character boundary). */
static void short_name(const char *name, char *out, size_t size) {
  size_t len = strlen(name);
  if (len <= LABEL_CHARS) {
    snprintf(out, size, "%s", name);
    return;
  }
  size_t cut = LABEL_CHARS - 1;
  while (cut > 0 && ((unsigned char)name[cut] & 0xC0) == 0x80) cut--;
  snprintf(out, size, "%.*s\xE2\x80\xA6", (int)cut, name);
}

fer_status fer_chart_confusion(const fer_metrics *m, const char *title,
                               char **out_svg) {
  static const char who[] = "fer_chart_confusion";
  if (!out_svg)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out_svg is NULL", who);
  *out_svg = NULL;
  fer_status st = fer__metrics_check(m, who);
  if (st != FER_OK) return st;
  int k = m->num_classes;
  if (k > MAX_DRAWN_CLASSES)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %d classes is too many to draw (at most %d)", who, k,
                     MAX_DRAWN_CLASSES);
  /* Layout: cell size shrinks for many classes; the label gutters fit the
   * longest name (about 7.5 px per character at 13 px). */
  double cell = k <= 8 ? 76 : k <= 16 ? 48 : 28;
  size_t longest = 0;
  for (int i = 0; i < k; i++)
    longest = FER__MAX(longest, FER__MIN(strlen(m->class_names[i]),
                                         (size_t)LABEL_CHARS));
  double gutter = 40 + 7.5 * (double)longest;
  double left = gutter + 30, top = 84;
  double grid = cell * k;
  /* Below the grid: the slanted column labels (sin 35 deg of their length)
   * and the axis title. */
  double below = 22 + 0.58 * 7.5 * (double)longest + 34;
  double width = left + grid + 150, height = top + grid + below;
  char colour[16], text[64], name[LABEL_CHARS * 4 + 8];
  fer__buf b;
  fer__buf_init(&b);
  fer__svg_begin(&b, width, height);
  fer__svg_text_style heading = {.size = 19, .anchor = FER__SVG_MIDDLE,
                                 .bold = 1};
  fer__svg_text(&b, width / 2, 32, title ? title : "Confusion matrix",
                &heading);
  double accuracy = fer_metrics_accuracy(m);
  if (isfinite(accuracy)) {
    fer__format(text, sizeof text, "%llu samples, accuracy %.1f%%",
                (unsigned long long)m->count, accuracy * 100);
    fer__svg_text_style sub = {.size = 13, .anchor = FER__SVG_MIDDLE,
                               .fill = "#555555"};
    fer__svg_text(&b, width / 2, 54, text, &sub);
  }
  int small = cell < 40;
  for (int i = 0; i < k; i++) {
    uint64_t row_total = 0;
    for (int j = 0; j < k; j++) row_total += m->confusion[(size_t)i * k + j];
    for (int j = 0; j < k; j++) {
      uint64_t n = m->confusion[(size_t)i * k + j];
      double frac = row_total ? (double)n / (double)row_total : 0;
      double x = left + j * cell, y = top + i * cell;
      colour_at(frac, colour, sizeof colour);
      fer__svg_rect(&b, x, y, cell, cell, colour, "#ffffff", 1);
      /* Light text on the dark half of the scale. */
      const char *ink = frac > 0.5 ? "#ffffff" : "#1a1a1a";
      fer__svg_text_style count = {.size = small ? 9 : 15,
                                   .anchor = FER__SVG_MIDDLE, .fill = ink,
                                   .bold = i == j};
      snprintf(text, sizeof text, "%llu", (unsigned long long)n);
      fer__svg_text(&b, x + cell / 2, y + cell / 2 + (small ? 3 : 0), text,
                    &count);
      if (!small) {
        fer__svg_text_style share = {.size = 11, .anchor = FER__SVG_MIDDLE,
                                     .fill = ink};
        fer__format(text, sizeof text, "%.1f%%", frac * 100);
        fer__svg_text(&b, x + cell / 2, y + cell / 2 + 17, text, &share);
      }
    }
    /* Row label and row total. */
    short_name(m->class_names[i], name, sizeof name);
    fer__svg_text_style label = {.size = 13, .anchor = FER__SVG_END,
                                 .fill = "#222222"};
    fer__svg_text(&b, left - 10, top + i * cell + cell / 2 + 4.5, name,
                  &label);
    snprintf(text, sizeof text, "n = %llu", (unsigned long long)row_total);
    fer__svg_text_style total = {.size = 11, .fill = "#666666"};
    fer__svg_text(&b, left + grid + 10, top + i * cell + cell / 2 + 4, text,
                  &total);
  }
  /* Column labels below the grid, slanted so long names do not collide. */
  for (int j = 0; j < k; j++) {
    short_name(m->class_names[j], name, sizeof name);
    fer__svg_text_style label = {.size = 13, .anchor = FER__SVG_END,
                                 .fill = "#222222", .rotate = -35};
    fer__svg_text(&b, left + j * cell + cell / 2 + 4, top + grid + 16, name,
                  &label);
  }
  fer__svg_rect(&b, left, top, grid, grid, NULL, "#555555", 1);
  fer__svg_text_style axis = {.size = 14, .anchor = FER__SVG_MIDDLE,
                              .bold = 1, .fill = "#333333"};
  fer__svg_text(&b, left + grid / 2, height - 14, "predicted class", &axis);
  axis.rotate = -90;
  fer__svg_text(&b, 22, top + grid / 2, "true class", &axis);
  /* Colour bar: what each shade means. */
  double bar_x = left + grid + 80, bar_h = FER__MIN(grid, 240.0);
  for (int s = 0; s < 50; s++) {
    colour_at(1.0 - (s + 0.5) / 50, colour, sizeof colour);
    fer__svg_rect(&b, bar_x, top + bar_h * s / 50, 14, bar_h / 50 + 0.5,
                  colour, NULL, 0);
  }
  fer__svg_rect(&b, bar_x, top, 14, bar_h, NULL, "#555555", 1);
  fer__svg_text_style bar_label = {.size = 10, .fill = "#444444"};
  for (int s = 0; s <= 4; s++) {
    snprintf(text, sizeof text, "%d%%", 100 - 25 * s);
    fer__svg_text(&b, bar_x + 18, top + bar_h * s / 4 + 3.5, text, &bar_label);
  }
  fer__svg_text_style bar_title = {.size = 10, .anchor = FER__SVG_MIDDLE,
                                   .fill = "#444444"};
  fer__svg_text(&b, bar_x + 7, top - 8, "of row", &bar_title);
  fer__svg_end(&b);
  fer__buf_byte(&b, '\0');
  st = fer__buf_status(&b, who);
  if (st != FER_OK) {
    fer__buf_release(&b);
    return st;
  }
  *out_svg = (char *)b.data;
  return FER_OK;
}
