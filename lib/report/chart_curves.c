/* Training curves as SVG: loss and accuracy per epoch in two panels, the
 * training series solid and the validation series dashed, so the chart
 * reads in grey print too. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "fer/data.h"
#include "util/file.h"
#include "util/format.h"
#include "util/svg.h"

#define MAX_EPOCHS 100000

#define WIDTH 980.0
#define HEIGHT 440.0
#define PANEL_WIDTH (WIDTH / 2)
#define MARGIN_LEFT 72.0
#define MARGIN_RIGHT 24.0
#define MARGIN_TOP 96.0
#define MARGIN_BOTTOM 56.0

#define TRAIN_COLOUR "#1f77b4"
#define VALIDATION_COLOUR "#d62728"
#define GRID_COLOUR "#e6e6e6"
#define AXIS_COLOUR "#555555"

/* An axis range rounded out to "nice" ticks (1, 2, 2.5 or 5 times a power
 * of ten), about `wanted` of them. */
typedef struct axis {
  double lo, hi, step;
} axis;

static axis nice_axis(double lo, double hi, int wanted, int integer) {
  axis a;
  if (!(hi > lo)) { /* flat data: open a small window around it */
    double pad = fabs(lo) > 0 ? fabs(lo) * 0.1 : 1.0;
    lo -= pad;
    hi += pad;
  }
  double raw = (hi - lo) / wanted;
  double power = pow(10.0, floor(log10(raw)));
  static const double steps[] = {1, 2, 2.5, 5, 10};
  double step = power * 10;
  for (size_t i = 0; i < FER__ARRAY_LEN(steps); i++)
    if (power * steps[i] >= raw) {
      step = power * steps[i];
      break;
    }
  if (integer && step < 1) step = 1;
  if (integer && step != floor(step)) step = ceil(step);
  a.step = step;
  a.lo = floor(lo / step + 1e-9) * step;
  a.hi = ceil(hi / step - 1e-9) * step;
  /* Values at the edge of double precision (denormals, 1e300) give no
   * usable steps; a unit axis is better than NaN coordinates. */
  if (!(step > 0) || !isfinite(a.lo) || !isfinite(a.hi) || !(a.hi > a.lo) ||
      (a.hi - a.lo) / step > 100) {
    a.lo = 0;
    a.hi = 1;
    a.step = integer ? 1 : 0.2;
  }
  return a;
}

/* Formats a tick label with as many decimals as the step needs. */
static void tick_label(char *out, size_t size, double v, double step) {
  int decimals = 0;
  while (decimals < 6 && fabs(step * pow(10, decimals) -
                              floor(step * pow(10, decimals) + 0.5)) > 1e-6)
    decimals++;
  if (fabs(v) < step * 1e-9) v = 0; /* no "-0.00" */
  if (fabs(v) >= 1e6 || (v != 0 && fabs(v) < 1e-4))
    fer__format(out, size, "%.3g", v); /* exponent form for extreme ranges */
  else
    fer__format(out, size, "%.*f", decimals, v);
}

typedef struct panel {
  double left, top, width, height; /* the plot area */
  axis x, y;
} panel;

static double px(const panel *p, double x) {
  return p->left + (x - p->x.lo) / (p->x.hi - p->x.lo) * p->width;
}
static double py(const panel *p, double y) {
  return p->top + p->height - (y - p->y.lo) / (p->y.hi - p->y.lo) * p->height;
}

static void draw_frame(fer__buf *b, const panel *p, const char *title,
                       const char *y_label) {
  char label[32];
  fer__svg_text_style tick = {.size = 11, .anchor = FER__SVG_END,
                              .fill = "#444444"};
  int y_ticks = (int)floor((p->y.hi - p->y.lo) / p->y.step + 0.5);
  for (int i = 0; i <= y_ticks; i++) {
    double v = p->y.lo + i * p->y.step;
    double y = py(p, v);
    fer__svg_line(b, p->left, y, p->left + p->width, y, GRID_COLOUR, 1, NULL);
    tick_label(label, sizeof label, v, p->y.step);
    fer__svg_text(b, p->left - 8, y + 4, label, &tick);
  }
  tick.anchor = FER__SVG_MIDDLE;
  /* Epoch ticks: the first epoch, then multiples of the step not crowding
   * it. */
  int x_ticks = (int)floor(p->x.hi / p->x.step + 1e-9);
  for (int i = 0; i <= x_ticks; i++) {
    double v = i == 0 ? 1 : i * p->x.step;
    if (v < p->x.lo || (i > 0 && v - 1 < p->x.step * 0.5)) continue;
    double x = px(p, v);
    fer__svg_line(b, x, p->top, x, p->top + p->height, GRID_COLOUR, 1, NULL);
    fer__svg_line(b, x, p->top + p->height, x, p->top + p->height + 5,
                  AXIS_COLOUR, 1, NULL);
    tick_label(label, sizeof label, v, p->x.step);
    fer__svg_text(b, x, p->top + p->height + 19, label, &tick);
  }
  fer__svg_rect(b, p->left, p->top, p->width, p->height, NULL, AXIS_COLOUR, 1);
  fer__svg_text_style heading = {.size = 15, .anchor = FER__SVG_MIDDLE,
                                 .bold = 1};
  fer__svg_text(b, p->left + p->width / 2, p->top - 12, title, &heading);
  fer__svg_text_style axis_label = {.size = 12, .anchor = FER__SVG_MIDDLE,
                                    .fill = "#333333"};
  fer__svg_text(b, p->left + p->width / 2, p->top + p->height + 42, "epoch",
                &axis_label);
  axis_label.rotate = -90;
  fer__svg_text(b, p->left - 52, p->top + p->height / 2, y_label, &axis_label);
}

/* One series: a line through consecutive finite points (a NaN breaks it)
 * and a dot on each point when there are few enough to see. */
static void draw_series(fer__buf *b, const panel *p, const float *values,
                        int epochs, const char *colour, const char *dash,
                        double *xs, double *ys) {
  if (!values) return;
  size_t run = 0;
  for (int e = 0; e <= epochs; e++) {
    int ok = e < epochs && isfinite(values[e]);
    if (ok) {
      xs[run] = px(p, e + 1);
      ys[run] = py(p, values[e]);
      run++;
    }
    if (!ok || e == epochs - 1) {
      fer__svg_polyline(b, xs, ys, run, colour, 2.2, dash);
      if (epochs <= 60)
        for (size_t i = 0; i < run; i++)
          fer__svg_circle(b, xs[i], ys[i], 3.2, colour);
      run = 0;
    }
  }
}

/* Range of the finite values of up to two series. */
static int value_range(const float *a, const float *c, int n, double *lo,
                       double *hi) {
  int any = 0;
  const float *series[2] = {a, c};
  for (int s = 0; s < 2; s++)
    for (int i = 0; series[s] && i < n; i++)
      if (isfinite(series[s][i])) {
        if (!any || series[s][i] < *lo) *lo = series[s][i];
        if (!any || series[s][i] > *hi) *hi = series[s][i];
        any = 1;
      }
  return any;
}

static void draw_panel(fer__buf *b, double left, const float *train,
                       const float *validation, int epochs, const char *title,
                       const char *y_label, int is_accuracy, double *xs,
                       double *ys) {
  panel p = {left + MARGIN_LEFT, MARGIN_TOP,
             PANEL_WIDTH - MARGIN_LEFT - MARGIN_RIGHT,
             HEIGHT - MARGIN_TOP - MARGIN_BOTTOM, {0, 0, 0}, {0, 0, 0}};
  p.x = nice_axis(1, epochs, 8, 1);
  if (epochs > 1) { /* the data fills the width */
    p.x.lo = 1;
    p.x.hi = epochs;
  } else { /* one epoch: a point in the middle */
    p.x.lo = 0;
    p.x.hi = 2;
  }
  double lo = 0, hi = 1;
  if (!value_range(train, validation, epochs, &lo, &hi)) lo = 0, hi = 1;
  /* A little headroom so the extreme points sit inside the frame. */
  double pad = (hi - lo) * 0.04;
  if (isfinite(pad)) lo -= pad, hi += pad;
  if (is_accuracy) { /* keep the axis inside [0, 1] */
    p.y = nice_axis(lo, hi, 6, 0);
    if (p.y.lo < 0) p.y.lo = 0;
    if (p.y.hi > 1 && hi <= 1) p.y.hi = 1;
  } else {
    p.y = nice_axis(lo < 0 ? lo : 0, hi, 6, 0);
  }
  draw_frame(b, &p, title, y_label);
  /* Points outside the axis range (accuracy above 1, a diverged loss) are
   * clipped rather than drawn over the labels. The margin keeps the dots
   * on the frame whole. */
  fer__svg_clip_begin(b, is_accuracy ? "accuracy-area" : "loss-area",
                      p.left - 4, p.top - 4, p.width + 8, p.height + 8);
  draw_series(b, &p, train, epochs, TRAIN_COLOUR, NULL, xs, ys);
  draw_series(b, &p, validation, epochs, VALIDATION_COLOUR, "7 4", xs, ys);
  fer__svg_clip_end(b);
}

static void draw_legend(fer__buf *b, int train, int validation) {
  fer__svg_text_style label = {.size = 13, .fill = "#333333"};
  double x = WIDTH / 2 - (train && validation ? 130 : 55);
  if (train) {
    fer__svg_line(b, x, 56, x + 30, 56, TRAIN_COLOUR, 2.5, NULL);
    fer__svg_circle(b, x + 15, 56, 3.2, TRAIN_COLOUR);
    fer__svg_text(b, x + 38, 60.5, "training", &label);
    x += 140;
  }
  if (validation) {
    fer__svg_line(b, x, 56, x + 30, 56, VALIDATION_COLOUR, 2.5, "7 4");
    fer__svg_circle(b, x + 15, 56, 3.2, VALIDATION_COLOUR);
    fer__svg_text(b, x + 38, 60.5, "validation", &label);
  }
}

fer_status fer_chart_training_curves(const float *train_loss,
                                     const float *val_loss,
                                     const float *train_accuracy,
                                     const float *val_accuracy, int epochs,
                                     const char *title, char **out_svg) {
  static const char who[] = "fer_chart_training_curves";
  if (!out_svg)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out_svg is NULL", who);
  *out_svg = NULL;
  if (epochs < 1 || epochs > MAX_EPOCHS)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: %d epochs (1..%d are supported)", who, epochs,
                     MAX_EPOCHS);
  if (!train_loss && !val_loss && !train_accuracy && !val_accuracy)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: no series to draw", who);
  double *xs = fer__malloc((size_t)epochs * sizeof *xs);
  double *ys = fer__malloc((size_t)epochs * sizeof *ys);
  if (!xs || !ys) {
    fer__free(xs);
    fer__free(ys);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", who);
  }
  fer__buf b;
  fer__buf_init(&b);
  fer__svg_begin(&b, WIDTH, HEIGHT);
  fer__svg_text_style heading = {.size = 19, .anchor = FER__SVG_MIDDLE,
                                 .bold = 1};
  fer__svg_text(&b, WIDTH / 2, 30, title ? title : "Training curves",
                &heading);
  draw_legend(&b, train_loss || train_accuracy, val_loss || val_accuracy);
  draw_panel(&b, 0, train_loss, val_loss, epochs, "Loss", "cross-entropy", 0,
             xs, ys);
  draw_panel(&b, PANEL_WIDTH, train_accuracy, val_accuracy, epochs,
             "Accuracy", "accuracy", 1, xs, ys);
  fer__svg_end(&b);
  fer__buf_byte(&b, '\0');
  fer__free(xs);
  fer__free(ys);
  fer_status st = fer__buf_status(&b, who);
  if (st != FER_OK) {
    fer__buf_release(&b);
    return st;
  }
  *out_svg = (char *)b.data;
  return FER_OK;
}

fer_status fer_chart_save(const char *svg, const char *path) {
  if (!svg)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_chart_save: svg is NULL");
  return fer__write_file_atomic(path, svg, strlen(svg));
}
