/*
 * Drawing analysis results: a box per face and a "happy 87%" label on a
 * filled background, in a colour per expression, sized from the image and
 * the face so it reads at any resolution, and placed (annotate_layout.c)
 * so that no two labels overlap and none leaves the image.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "analyze/annotate_layout.h"
#include "analyzer_internal.h"
#include "core/core_internal.h"

/* Colours people expect for the FER2013 expressions; other class names
 * cycle through a palette of distinct hues. */
static const struct {
  const char *name;
  uint32_t rgb;
} expression_colors[] = {
    {"angry", 0xE53935},   {"disgust", 0x43A047}, {"fear", 0x8E24AA},
    {"happy", 0xFDD835},   {"sad", 0x1E88E5},     {"surprise", 0xFB8C00},
    {"neutral", 0xB0BEC5},
};

static const uint32_t palette[] = {0x00ACC1, 0xD81B60, 0x7CB342, 0x5E35B1,
                                   0xF4511E, 0x3949AB, 0xC0CA33, 0x6D4C41};

uint32_t fer_expression_color(const char *name, int index) {
  for (size_t i = 0; name && i < sizeof expression_colors / sizeof expression_colors[0]; i++)
    if (strcmp(name, expression_colors[i].name) == 0) return expression_colors[i].rgb;
  size_t n = sizeof palette / sizeof palette[0];
  /* |index| in unsigned arithmetic: -INT_MIN does not fit an int. */
  unsigned magnitude = index < 0 ? 0u - (unsigned)index : (unsigned)index;
  return palette[magnitude % n];
}

/* Black text on light colours, white on dark ones (BT.601 luma). */
static uint32_t text_color_on(uint32_t rgb) {
  unsigned r = rgb >> 16 & 255, g = rgb >> 8 & 255, b = rgb & 255;
  return 299 * r + 587 * g + 114 * b > 140000 ? 0x000000 : 0xFFFFFF;
}

static uint32_t face_color(const fer_analyzer *an, const fer_face *f) {
  return fer_expression_color(fer_model_class_name(an->model, f->label), f->label);
}

fer_status fer__annotate_plan(const fer_analyzer *an, int width, int height,
                              const fer_face *faces, size_t count, fer__label *labels) {
  for (size_t i = 0; i < count; i++) {
    const char *name = fer_model_class_name(an->model, faces[i].label);
    double confidence = (double)faces[i].confidence;
    int percent = isfinite(confidence) ? (int)lround(100.0 * fmin(fmax(confidence, 0.0), 1.0)) : 0;
    if (name) snprintf(labels[i].text, sizeof labels[i].text, "%s %d%%", name, percent);
    else snprintf(labels[i].text, sizeof labels[i].text, "class %d %d%%", (int)faces[i].label, percent);
  }
  return fer__annotate_layout(width, height, faces, count, labels);
}

fer_status fer_analyzer_annotate(const fer_analyzer *an, fer_image *img,
                                 const fer_face *faces, size_t count) {
  static const char who[] = "fer_analyzer_annotate";
  fer_status st = fer__analyzer_check(an, who);
  if (st != FER_OK) return st;
  if (fer_image_width(img) < 1) return fer__fail(FER_ERR_MISUSE, "%s: NULL or freed image", who);
  if (!faces && count > 0) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: faces is NULL", who);
  if (count == 0) return FER_OK;
  int width = fer_image_width(img), height = fer_image_height(img);
  fer__label *labels = fer__calloc(count, sizeof *labels);
  if (!labels) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory for %zu labels", who, count);
  st = fer__annotate_plan(an, width, height, faces, count, labels);
  /* Boxes first, then every label, so no box line crosses a label. */
  for (size_t i = 0; st == FER_OK && i < count; i++) {
    int thickness, scale;
    fer__annotate_sizes(width, height, &faces[i].box, &thickness, &scale);
    st = fer_image_draw_rect(img, &faces[i].box, face_color(an, &faces[i]), thickness);
  }
  for (size_t i = 0; st == FER_OK && i < count; i++) {
    const fer__label *label = &labels[i];
    if (label->scale == 0) continue; /* the image has no room for it */
    uint32_t color = face_color(an, &faces[i]);
    st = fer_image_fill_rect(img, &label->rect, color);
    if (st == FER_OK)
      st = fer_image_draw_text(img, label->text_x, label->text_y, label->text, label->scale,
                               text_color_on(color));
  }
  fer__free(labels);
  return st;
}
