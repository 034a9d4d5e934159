/*
 * Drawing analysis results: a box per face and a "happy 87%" label on a
 * filled background, in a colour per expression, sized from the image and
 * the face so it reads at any resolution.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

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
  return palette[(size_t)(index < 0 ? -index : index) % n];
}

/* Black text on light colours, white on dark ones (BT.601 luma). */
static uint32_t text_color_on(uint32_t rgb) {
  unsigned r = rgb >> 16 & 255, g = rgb >> 8 & 255, b = rgb & 255;
  return 299 * r + 587 * g + 114 * b > 140000 ? 0x000000 : 0xFFFFFF;
}

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Line width and font scale for one face: a floor from the image size so a
 * small face in a big photo is still visible, growing with the face. */
static void sizes_for(int image_side, const fer_rect *box, int *thickness, int *scale) {
  int face_side = box->width < box->height ? box->width : box->height;
  int t = (int)lround(fmax(image_side / 320.0, face_side / 60.0));
  int s = (int)lround(fmax(image_side / 300.0, face_side / 70.0));
  *thickness = clamp_int(t, 1, 64);
  *scale = clamp_int(s, 1, 64);
}

static fer_status draw_label(const fer_analyzer *an, fer_image *img, const fer_face *f) {
  int width = fer_image_width(img), height = fer_image_height(img);
  int thickness, scale;
  sizes_for(width < height ? width : height, &f->box, &thickness, &scale);
  const char *name = fer_model_class_name(an->model, f->label);
  char label[300];
  int percent = (int)lround(100.0 * (double)f->confidence);
  if (name) snprintf(label, sizeof label, "%s %d%%", name, percent);
  else snprintf(label, sizeof label, "class %d %d%%", (int)f->label, percent);
  uint32_t color = fer_expression_color(name, f->label);

  (void)thickness;
  int text_w, text_h, pad = scale * 2;
  fer_image_text_size(label, scale, &text_w, &text_h);
  fer_rect bg = {f->box.x, f->box.y - text_h - 2 * pad, text_w + 2 * pad, text_h + 2 * pad};
  if (bg.y < 0) bg.y = f->box.y; /* no room above: inside the box's top */
  if (bg.x + bg.width > width) bg.x = width - bg.width;
  if (bg.x < 0) bg.x = 0;
  fer_status st = fer_image_fill_rect(img, &bg, color);
  if (st == FER_OK)
    st = fer_image_draw_text(img, bg.x + pad, bg.y + pad, label, scale, text_color_on(color));
  return st;
}

fer_status fer_analyzer_annotate(const fer_analyzer *an, fer_image *img,
                                 const fer_face *faces, size_t count) {
  fer_status st = fer__analyzer_check(an, "fer_analyzer_annotate");
  if (st != FER_OK) return st;
  if (fer_image_width(img) < 1)
    return fer__fail(FER_ERR_MISUSE, "fer_analyzer_annotate: NULL or freed image");
  if (!faces && count > 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_analyzer_annotate: faces is NULL");
  /* Boxes first, then every label, so no box line crosses a label. */
  for (size_t i = 0; st == FER_OK && i < count; i++) {
    int thickness, scale, w = fer_image_width(img), h = fer_image_height(img);
    sizes_for(w < h ? w : h, &faces[i].box, &thickness, &scale);
    st = fer_image_draw_rect(img, &faces[i].box,
                             fer_expression_color(fer_model_class_name(an->model, faces[i].label),
                                                  faces[i].label),
                             thickness);
  }
  for (size_t i = 0; st == FER_OK && i < count; i++) st = draw_label(an, img, &faces[i]);
  return st;
}
