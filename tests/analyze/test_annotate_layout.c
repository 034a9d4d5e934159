/* Where fer_analyzer_annotate puts its labels (lib/analyze/annotate_layout.c),
 * on synthetic layouts that used to go wrong: faces side by side and in a
 * grid (labels on top of each other), faces on the image border (labels
 * cut off), tiny and huge images, crowds, and random boxes anywhere. Every
 * drawn label must lie inside the image, apart from every other label,
 * with its text inside its background; in layouts with room for all of
 * them, every face gets its whole label over its box, large enough to read.
 * Then the same layouts are drawn, and each label's background and text
 * pixels must be in the output. */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "analyze/annotate_layout.h"
#include "core/core_internal.h"
#include "analyzer_fixtures.h"

enum { MAX_FACES = 200 };

typedef struct scene {
  const char *name;
  int width, height;
  fer_face faces[MAX_FACES];
  size_t count;
  int roomy; /* there is room for every whole label over its box */
} scene;

static const char *const sample_texts[] = {"happy 87%", "surprise 100%", "sad 5%", "neutral 46%",
                                           "fear 33%"};

static void new_scene(scene *s, const char *name, int width, int height, int roomy) {
  memset(s, 0, sizeof *s);
  s->name = name;
  s->width = width;
  s->height = height;
  s->roomy = roomy;
}

static void add_face(scene *s, int x, int y, int w, int h) {
  if (s->count >= MAX_FACES) return;
  fer_face f = {{x, y, w, h}, 3, (int32_t)(s->count % 7), 1.0, 0.5f, 0};
  s->faces[s->count++] = f;
}

static int rects_overlap(const fer_rect *a, const fer_rect *b) {
  return a->x < b->x + b->width && b->x < a->x + a->width && a->y < b->y + b->height &&
         b->y < a->y + a->height;
}

/* The checks on one layout, independent of how it was found. */
static void check_labels(const scene *s, const fer__label *labels, char texts[][FER__LABEL_TEXT_SIZE]) {
  int placed = 0;
  for (size_t i = 0; i < s->count; i++) {
    const fer__label *l = &labels[i];
    if (l->scale == 0) {
      CHECK_MSG(l->rect.width == 0 && l->text[0] == '\0', "%s: face %zu: unplaced label has a size",
                s->name, i);
      continue;
    }
    placed++;
    const fer_rect *r = &l->rect;
    CHECK_MSG(r->x >= 0 && r->y >= 0 && r->width > 0 && r->height > 0 &&
                  (long long)r->x + r->width <= s->width && (long long)r->y + r->height <= s->height,
              "%s: face %zu: label %d,%d %dx%d leaves the %dx%d image", s->name, i, r->x, r->y,
              r->width, r->height, s->width, s->height);
    int tw, th;
    fer_image_text_size(l->text, l->scale, &tw, &th);
    CHECK_MSG(l->scale >= 1 && l->scale <= 64 && l->text[0] && l->text_x >= r->x &&
                  l->text_y >= r->y && l->text_x + tw <= r->x + r->width &&
                  l->text_y + th <= r->y + r->height,
              "%s: face %zu: text \"%s\" at scale %d sticks out of its background", s->name, i,
              l->text, l->scale);
    CHECK_MSG(strncmp(l->text, texts[i], strlen(l->text)) == 0, "%s: face %zu: \"%s\" is not "
              "the start of \"%s\"", s->name, i, l->text, texts[i]);
    for (size_t j = 0; j < i; j++)
      if (labels[j].scale > 0)
        CHECK_MSG(!rects_overlap(r, &labels[j].rect), "%s: labels of faces %zu and %zu overlap",
                  s->name, j, i);
  }
  if (!s->roomy) return;
  CHECK_MSG(placed == (int)s->count, "%s: %d of %zu labels placed", s->name, placed, s->count);
  int image_side = s->width < s->height ? s->width : s->height;
  for (size_t i = 0; i < s->count; i++) {
    const fer__label *l = &labels[i];
    const fer_rect *r = &l->rect, *box = &s->faces[i].box;
    if (l->scale == 0) continue;
    CHECK_MSG(strcmp(l->text, texts[i]) == 0, "%s: face %zu: \"%s\" cut to \"%s\"", s->name, i,
              texts[i], l->text);
    /* Over its own box, touching it or a label's height away at most. */
    int overlap = (r->x + r->width < box->x + box->width ? r->x + r->width : box->x + box->width) -
                  (r->x > box->x ? r->x : box->x);
    CHECK_MSG(overlap > 0 && r->y + r->height >= box->y - 2 * r->height &&
                  r->y <= box->y + box->height + 2 * r->height,
              "%s: face %zu: label %d,%d is not over its box %d,%d %dx%d", s->name, i, r->x, r->y,
              box->x, box->y, box->width, box->height);
    /* Text at least 8 pixels high, and 1/80 of the image side: big photos
     * are looked at shrunk. */
    CHECK_MSG(8 * l->scale >= 8 && 80 * 8 * l->scale >= image_side, "%s: face %zu: text %d px "
              "high in a %d px image", s->name, i, 8 * l->scale, image_side);
  }
}

/* Lays out `s` with sample texts, checks it and returns the labels. */
static fer__label *lay_out(const scene *s, char texts[][FER__LABEL_TEXT_SIZE]) {
  static fer__label labels[MAX_FACES];
  for (size_t i = 0; i < s->count; i++) {
    snprintf(texts[i], FER__LABEL_TEXT_SIZE, "%s", sample_texts[i % 5]);
    memcpy(labels[i].text, texts[i], FER__LABEL_TEXT_SIZE);
  }
  CHECK_OK(fer__annotate_layout(s->width, s->height, s->faces, s->count, labels));
  check_labels(s, labels, texts);
  return labels;
}

static char texts[MAX_FACES][FER__LABEL_TEXT_SIZE];

static void test_single_face_goes_above(void) {
  scene s;
  new_scene(&s, "single", 640, 480, 1);
  add_face(&s, 200, 200, 100, 100);
  fer__label *l = lay_out(&s, texts);
  CHECK(l[0].rect.x == 200 && l[0].rect.y + l[0].rect.height == 200);
  /* At the top edge it goes below, at the bottom edge above. */
  scene top;
  new_scene(&top, "top edge", 640, 480, 1);
  add_face(&top, 200, 0, 100, 100);
  l = lay_out(&top, texts);
  CHECK(l[0].rect.y == 100);
  scene right;
  new_scene(&right, "right edge", 640, 480, 1);
  add_face(&right, 600, 300, 40, 40);
  l = lay_out(&right, texts);
  CHECK(l[0].rect.x + l[0].rect.width == 640 && l[0].rect.y + l[0].rect.height == 300);
}

static scene row, grid, border, crowd;

static void make_scenes(void) {
  new_scene(&row, "row of touching faces", 640, 480, 1);
  for (int i = 0; i < 8; i++) add_face(&row, 40 + 70 * i, 200, 70, 70);
  new_scene(&grid, "grid of touching faces", 800, 600, 1);
  for (int r = 0; r < 3; r++)
    for (int c = 0; c < 5; c++) add_face(&grid, 100 + 110 * c, 120 + 110 * r, 110, 110);
  new_scene(&border, "faces on the border", 500, 400, 1);
  add_face(&border, 0, 0, 80, 80);
  add_face(&border, 420, 0, 80, 80);
  add_face(&border, 0, 320, 80, 80);
  add_face(&border, 420, 320, 80, 80);
  add_face(&border, 210, 0, 80, 80);
  add_face(&border, -30, 150, 80, 80); /* partly outside, as a caller may pass */
  add_face(&border, 460, 150, 90, 80);
  new_scene(&crowd, "crowd", 400, 300, 0);
  for (int r = 0; r < 6; r++)
    for (int c = 0; c < 10; c++) add_face(&crowd, 10 + 38 * c + (r % 2) * 15, 20 + 45 * r, 30, 30);
}

static void test_neighbours_and_borders(void) {
  lay_out(&row, texts);
  lay_out(&grid, texts);
  lay_out(&border, texts);
  fer__label *l = lay_out(&crowd, texts);
  int placed = 0;
  for (size_t i = 0; i < crowd.count; i++) placed += l[i].scale > 0;
  CHECK_MSG(placed * 10 >= (int)crowd.count * 9, "crowd: only %d of %zu labels placed", placed,
            crowd.count);
  /* As many faces as the test holds, packed: still quick, still apart. */
  scene packed;
  new_scene(&packed, "200 packed faces", 1000, 800, 0);
  for (int i = 0; i < MAX_FACES; i++) add_face(&packed, 20 + 48 * (i % 20), 30 + 75 * (i / 20), 44, 44);
  lay_out(&packed, texts);
}

static void test_tiny_and_huge_images(void) {
  scene one;
  new_scene(&one, "1x1 image", 1, 1, 0);
  add_face(&one, 0, 0, 1, 1);
  fer__label *l = lay_out(&one, texts);
  CHECK(l[0].scale == 0);
  scene tiny;
  new_scene(&tiny, "20x20 image", 20, 20, 0);
  add_face(&tiny, 5, 5, 10, 10);
  l = lay_out(&tiny, texts);
  CHECK_MSG(l[0].scale == 1 && strlen(l[0].text) == 2, "\"%s\" at scale %d", l[0].text,
            l[0].scale);
  scene small;
  new_scene(&small, "54x72 image", 54, 72, 0);
  add_face(&small, 10, 20, 30, 30);
  l = lay_out(&small, texts);
  CHECK_MSG(strcmp(l[0].text, "happy") == 0, "\"%s\"", l[0].text); /* the name, without "87%" */
  scene huge;
  new_scene(&huge, "6000x4000 image", 6000, 4000, 1);
  add_face(&huge, 1000, 1000, 40, 40);
  add_face(&huge, 1100, 1000, 45, 45);
  add_face(&huge, 3000, 1500, 1500, 1500);
  l = lay_out(&huge, texts);
  /* Grows with the face: the close-up's label is larger than the others. */
  CHECK(l[2].scale > l[0].scale && l[2].rect.width >= 1500 / 2);
}

/* Random boxes anywhere, of any size, in images of any size. */
static uint32_t random_state = 12345;
static int random_below(int n) {
  random_state = random_state * 1664525u + 1013904223u;
  return (int)(random_state >> 8) % n;
}

static void test_random_layouts(void) {
  for (int round = 0; round < 300; round++) {
    scene s;
    int width = 1 + random_below(1500), height = 1 + random_below(1500);
    new_scene(&s, "random", width, height, 0);
    int n = random_below(40);
    for (int i = 0; i < n; i++) {
      int side = 1 + random_below(width < height ? width : height);
      int x = random_below(width + 40) - 20, y = random_below(height + 40) - 20;
      add_face(&s, x, y, side, side);
    }
    lay_out(&s, texts);
  }
  scene extreme;
  new_scene(&extreme, "extreme boxes", 300, 200, 0);
  add_face(&extreme, INT32_MAX - 10, INT32_MAX - 10, INT32_MAX, INT32_MAX);
  add_face(&extreme, -INT32_MAX, -INT32_MAX, INT32_MAX, INT32_MAX);
  add_face(&extreme, 10, 10, 0, 0);
  add_face(&extreme, 50, 50, -5, 20);
  lay_out(&extreme, texts);
}

/* Draws `s` on a gray image and looks for each label's pixels. */
static void check_drawn(const fer_analyzer *an, const fer_model *m, const scene *s) {
  fer_image *img = NULL;
  CHECK_OK(fer_image_create(s->width, s->height, 3, &img));
  if (!img) return;
  fer_rect all = {0, 0, s->width, s->height};
  fer_image_fill_rect(img, &all, 0x808080);
  static fer__label labels[MAX_FACES];
  CHECK_OK(fer__annotate_plan(an, s->width, s->height, s->faces, s->count, labels));
  CHECK_OK(fer_analyzer_annotate(an, img, s->faces, s->count));
  const uint8_t *px = fer_image_data(img);
  size_t stride = fer_image_stride(img);
  for (size_t i = 0; i < s->count; i++) {
    const fer__label *l = &labels[i];
    if (l->scale == 0) continue;
    uint32_t background = fer_expression_color(fer_model_class_name(m, s->faces[i].label),
                                               s->faces[i].label);
    long fill = 0, ink = 0, area = (long)l->rect.width * l->rect.height;
    for (int y = l->rect.y; y < l->rect.y + l->rect.height; y++)
      for (int x = l->rect.x; x < l->rect.x + l->rect.width; x++) {
        const uint8_t *p = px + (size_t)y * stride + (size_t)x * 3;
        uint32_t rgb = (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
        fill += rgb == background;
        ink += rgb == 0x000000 || rgb == 0xFFFFFF;
      }
    CHECK_MSG(fill * 2 >= area && ink * 50 >= area && fill + ink == area,
              "%s: label %zu \"%s\": %ld background and %ld text pixels of %ld", s->name, i,
              l->text, fill, ink, area);
  }
  fer_image_free(img);
}

static void test_drawn_labels(void) {
  fer_cascade *cascade = NULL;
  if (fer_default_cascade_load(&cascade) != FER_OK) cascade = fixture_cascade();
  fer_model *m = fixture_model(1, 3);
  fer_analyzer *an = NULL;
  CHECK_OK(fer_analyzer_create(m, cascade, &an));
  check_drawn(an, m, &row);
  check_drawn(an, m, &grid);
  check_drawn(an, m, &border);
  check_drawn(an, m, &crowd);
  scene small;
  new_scene(&small, "40x30 image", 40, 30, 0);
  add_face(&small, 0, 0, 15, 15);
  add_face(&small, 20, 10, 15, 15);
  check_drawn(an, m, &small);
  /* Out of memory for the labels (first allocation) or for their order
   * (second): a status, nothing drawn half-way that leaks. */
  fer_image *img = NULL;
  CHECK_OK(fer_image_create(row.width, row.height, 3, &img));
  for (long n = 1; n <= 2; n++) {
    fer__alloc_fail_after(n);
    CHECK_STATUS(fer_analyzer_annotate(an, img, row.faces, row.count), FER_ERR_OUT_OF_MEMORY);
    fer__alloc_fail_after(0);
  }
  fer_image_free(img);
  fer_analyzer_free(an);
  fer_model_free(m);
  fer_cascade_free(cascade);
}

/* Class indices outside any model: every one, INT_MIN included (whose
 * negation overflows an int; the replayed fuzz input that found it is in
 * tests/fuzz/corpus/annotate), gets a palette colour, and an index and its
 * negation share one. */
static void test_colors_of_any_index(void) {
  const int indices[] = {INT_MIN, INT_MIN + 1, -9, -1, 0, 7, 8, 1000, INT_MAX};
  for (size_t i = 0; i < sizeof indices / sizeof indices[0]; i++) {
    uint32_t c = fer_expression_color(NULL, indices[i]);
    CHECK(c != 0 && c <= 0xFFFFFF);
    if (indices[i] != INT_MIN) CHECK_EQ_INT(c, fer_expression_color(NULL, -indices[i]));
  }
  CHECK_EQ_INT(fer_expression_color("happy", INT_MIN), fer_expression_color("happy", 0));
}

int main(void) {
  make_scenes();
  RUN(test_colors_of_any_index);
  RUN(test_single_face_goes_above);
  RUN(test_neighbours_and_borders);
  RUN(test_tiny_and_huge_images);
  RUN(test_random_layouts);
  RUN(test_drawn_labels);
  return harness_finish();
}
