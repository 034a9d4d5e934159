/* Drawing: rectangles against a naive per-pixel definition, text against
 * itself at other scales and positions, and the font's own sanity. */
#include "image_test_util.h"

#include "core/core_internal.h"
#include "image/font.h"

static uint32_t next_random(uint32_t *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}

/* 1 when every pixel is `inside(x, y) ? colour : background`. */
typedef int (*inside_fn)(const fer_rect *r, int t, int x, int y);

static int in_fill(const fer_rect *r, int t, int x, int y) {
  (void)t;
  return (int64_t)x >= r->x && (int64_t)x < (int64_t)r->x + r->width &&
         (int64_t)y >= r->y && (int64_t)y < (int64_t)r->y + r->height;
}

static int in_outline(const fer_rect *r, int t, int x, int y) {
  if (!in_fill(r, t, x, y)) return 0;
  int64_t x1 = (int64_t)r->x + r->width, y1 = (int64_t)r->y + r->height;
  return x < (int64_t)r->x + t || x >= x1 - t || y < (int64_t)r->y + t || y >= y1 - t;
}

static int matches(const fer_image *img, const fer_rect *r, int t, inside_fn inside,
                   const uint8_t *colour, uint8_t background) {
  int c = fer_image_channels(img);
  for (int y = 0; y < fer_image_height(img); y++)
    for (int x = 0; x < fer_image_width(img); x++)
      for (int k = 0; k < c; k++) {
        uint8_t want = inside(r, t, x, y) ? colour[k] : background;
        if (pixel_at(img, x, y)[k] != want) return 0;
      }
  return 1;
}

static void test_rectangles(void) {
  uint32_t seed = 12345;
  const uint32_t rgb = 0xC83214; /* R 200, G 50, B 20 */
  const uint8_t colour3[3] = {200, 50, 20};
  /* Gray images get the BT.601 luma, computed here in floating point. */
  const uint8_t colour1[1] = {(uint8_t)(0.299 * 200 + 0.587 * 50 + 0.114 * 20 + 0.5)};
  for (int trial = 0; trial < 400; trial++) {
    int c = trial % 2 ? 3 : 1;
    fer_image *img = NULL;
    CHECK_OK(fer_image_create(23, 17, c, &img));
    memset(fer_image_data_mutable(img), 7, 23 * 17 * (size_t)c);
    fer_rect r = {(int)(next_random(&seed) % 40) - 10, (int)(next_random(&seed) % 30) - 8,
                  (int)(next_random(&seed) % 30) - 3, (int)(next_random(&seed) % 25) - 3};
    int t = 1 + (int)(next_random(&seed) % 5);
    int fill = trial % 4 < 2;
    if (fill)
      CHECK_OK(fer_image_fill_rect(img, &r, rgb));
    else
      CHECK_OK(fer_image_draw_rect(img, &r, rgb, t));
    CHECK_MSG(matches(img, &r, t, fill ? in_fill : in_outline, c == 3 ? colour3 : colour1, 7),
              "%s (%d,%d %dx%d) t=%d c=%d", fill ? "fill" : "outline", (int)r.x, (int)r.y,
              (int)r.width, (int)r.height, t, c);
    fer_image_free(img);
  }
  /* Extreme rectangles are clipped without overflow. */
  fer_image *img = NULL;
  CHECK_OK(fer_image_create(5, 5, 3, &img));
  fer_rect huge = {INT32_MIN, INT32_MIN, INT32_MAX, INT32_MAX};
  CHECK_OK(fer_image_fill_rect(img, &huge, rgb));
  fer_rect far = {INT32_MAX - 2, 0, INT32_MAX, 5};
  CHECK_OK(fer_image_draw_rect(img, &far, rgb, INT32_MAX));
  CHECK_STATUS(fer_image_draw_rect(img, &far, rgb, 0), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("thickness");
  CHECK_STATUS(fer_image_draw_rect(img, NULL, rgb, 1), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_fill_rect(img, NULL, rgb), FER_ERR_INVALID_ARGUMENT);
  fer_image_free(img);
}

static void test_font(void) {
  /* Every glyph: inside columns 1..5, ink except for the space, and no two
   * printable characters alike. */
  uint64_t seen[95];
  int ok = 1;
  for (int ch = 32; ch <= 126; ch++) {
    uint64_t bits = 0;
    for (int row = 0; row < 8; row++) {
      unsigned r = fer__font_row(ch, row);
      ok &= (r & 0x83u) == 0;
      bits = bits << 8 | r;
    }
    CHECK_MSG(ch == ' ' ? bits == 0 : bits != 0, "glyph '%c' ink", ch);
    for (int other = 32; other < ch; other++)
      CHECK_MSG(seen[other - 32] != bits, "'%c' looks like '%c'", ch, other);
    seen[ch - 32] = bits;
  }
  CHECK(ok);
  /* Outside printable ASCII: the glyph of '?'. */
  for (int row = 0; row < 8; row++) {
    CHECK(fer__font_row(200, row) == fer__font_row('?', row));
    CHECK(fer__font_row('\n', row) == fer__font_row('?', row));
  }
}

static void test_text(void) {
  int w = -1, h = -1;
  fer_image_text_size("Happy 97%", 2, &w, &h);
  CHECK(w == 9 * 16 && h == 16);
  fer_image_text_size("", 3, &w, &h);
  CHECK(w == 0 && h == 24);
  fer_image_text_size(NULL, 1, &w, NULL);
  CHECK(w == 0);

  /* Scale s draws each font pixel as an s x s block: compare scale 3 to
   * scale 1 pixel by pixel. */
  const char *text = "Fear: 0.42 {ok}";
  int n = (int)strlen(text);
  fer_image *one = NULL, *three = NULL;
  CHECK_OK(fer_image_create(8 * n, 8, 1, &one));
  CHECK_OK(fer_image_create(24 * n, 24, 3, &three));
  CHECK_OK(fer_image_draw_text(one, 0, 0, text, 1, 0xFFFFFF));
  CHECK_OK(fer_image_draw_text(three, 0, 0, text, 3, 0x00FF00));
  int ok = 1;
  for (int y = 0; y < 24; y++)
    for (int x = 0; x < 24 * n; x++) {
      int ink = pixel_at(one, x / 3, y / 3)[0] == 255;
      const uint8_t *p = pixel_at(three, x, y);
      ok &= ink ? (p[0] == 0 && p[1] == 255 && p[2] == 0) : (p[0] == 0 && p[1] == 0 && p[2] == 0);
    }
  CHECK(ok);
  /* Each glyph at scale 1 is exactly its font rows. */
  ok = 1;
  for (int i = 0; i < n; i++)
    for (int row = 0; row < 8; row++)
      for (int col = 0; col < 8; col++) {
        int ink = (fer__font_row(text[i], row) >> (7 - col)) & 1;
        ok &= (pixel_at(one, 8 * i + col, row)[0] == 255) == ink;
      }
  CHECK(ok);

  /* Clipping: text hanging off every edge equals the matching window of
   * the same text drawn whole on a bigger canvas. */
  fer_image *big = NULL;
  CHECK_OK(fer_image_create(8 * n * 2 + 40, 60, 3, &big));
  CHECK_OK(fer_image_draw_text(big, 20, 20, text, 2, 0xFF8000));
  int offsets[][2] = {{-7, -5}, {-100, 3}, {5, 12}, {30, -15}, {-3, 40}, {1000, 0}, {0, -1000}};
  for (size_t k = 0; k < FER__ARRAY_LEN(offsets); k++) {
    int ox = offsets[k][0], oy = offsets[k][1];
    fer_image *small = NULL;
    CHECK_OK(fer_image_create(40, 20, 3, &small));
    CHECK_OK(fer_image_draw_text(small, ox, oy, text, 2, 0xFF8000));
    ok = 1;
    for (int y = 0; y < 20; y++)
      for (int x = 0; x < 40; x++) {
        int bx = x - ox + 20, by = y - oy + 20;
        uint8_t want = 0;
        if (bx >= 0 && by >= 0 && bx < fer_image_width(big) && by < fer_image_height(big))
          want = pixel_at(big, bx, by)[0];
        ok &= pixel_at(small, x, y)[0] == want;
      }
    CHECK_MSG(ok, "text at (%d, %d)", ox, oy);
    fer_image_free(small);
  }
  CHECK_OK(fer_image_draw_text(big, INT32_MIN, INT32_MAX, text, 64, 0));
  CHECK_STATUS(fer_image_draw_text(big, 0, 0, text, 0, 0), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_draw_text(big, 0, 0, text, 65, 0), FER_ERR_INVALID_ARGUMENT);
  CHECK_STATUS(fer_image_draw_text(big, 0, 0, NULL, 1, 0), FER_ERR_INVALID_ARGUMENT);
  fer_image_free(big);
  fer_image_free(one);
  fer_image_free(three);
}

/* With FER_FONT_SAMPLE=path.ppm set, writes every glyph for a person to
 * look at (the test itself does not need it). */
static void write_sample(void) {
  const char *path = getenv("FER_FONT_SAMPLE");
  if (!path) return;
  fer_image *img = NULL;
  fer_image_create(16 * 8 * 3 + 12, 7 * 8 * 3 + 12, 3, &img);
  fer_image_fill_rect(img, &(fer_rect){0, 0, 10000, 10000}, 0x202020);
  char line[17];
  for (int r = 0; r < 6; r++) {
    for (int i = 0; i < 16; i++) line[i] = (char)(32 + r * 16 + i < 127 ? 32 + r * 16 + i : ' ');
    line[16] = 0;
    fer_image_draw_text(img, 6, 6 + r * 24, line, 3, 0xFFFFFF);
  }
  fer_image_draw_text(img, 6, 6 + 6 * 24, "happy 0.97", 3, 0x40FF40);
  fer_image_draw_rect(img, &(fer_rect){2, 2, 16 * 24 + 8, 7 * 24 + 8}, 0xFF4040, 2);
  fer_image_save(img, path, FER_IMAGE_FORMAT_AUTO);
  fer_image_free(img);
}

int main(void) {
  RUN(test_rectangles);
  RUN(test_font);
  RUN(test_text);
  write_sample();
  return harness_finish();
}
