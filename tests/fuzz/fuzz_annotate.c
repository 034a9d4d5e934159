/* libFuzzer harness for the annotated-image writer, fer_analyzer_annotate:
 * the input is an image size and kind, class names and a list of faces
 * with any boxes (negative, huge, off the image, overflowing x + width),
 * labels (out of range too), confidences (NaN, infinities, negative) and
 * detector fields, as a caller could pass them. The call must return a
 * status, never crash or write outside the image (ASan), and leave the
 * image's size alone.
 *
 * Layout (little-endian; missing bytes read as 0):
 *   u16 width, u16 height (each taken mod 700, plus 1), u8 flags (bit 0:
 *   RGB, bit 1: the faces pointer is NULL), u8 K (classes, 1 + K % 8),
 *   K class names: u8 length, then that many bytes (a name the model
 *   refuses leaves the default names), then faces of 28 bytes each until
 *   the input ends (at most 64): i32 x, y, width, height, label,
 *   f32 confidence, i32 neighbors. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fer.h"
#include "fuzz_reader.h"

enum { MAX_FACES = 64, FACE_BYTES = 28 };

static const fer_cascade *shared_cascade(void) {
  static fer_cascade *cascade;
  if (!cascade && fer_default_cascade_load(&cascade) != FER_OK) {
    fprintf(stderr, "fuzz_annotate: no cascade: %s\n", fer_last_error());
    cascade = NULL;
  }
  return cascade;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const fer_cascade *cascade = shared_cascade();
  if (!cascade) return 0;
  fuzz_reader r = {data, size, 0};
  int width = 1 + (int)(fuzz_take(&r, 2) % 700), height = 1 + (int)(fuzz_take(&r, 2) % 700);
  unsigned flags = fuzz_take(&r, 1);
  int classes = 1 + (int)(fuzz_take(&r, 1) % 8);

  char text[128];
  snprintf(text, sizeof text, "input 1x8x8\ndense %d\nsoftmax\n", classes);
  fer_model *model = NULL;
  if (fer_model_from_text(text, &model) != FER_OK) return 0;
  char names[8][256];
  const char *name_ptrs[8];
  for (int k = 0; k < classes; k++) {
    size_t n = fuzz_take(&r, 1);
    for (size_t i = 0; i < n; i++) names[k][i] = (char)fuzz_take(&r, 1);
    names[k][n] = '\0';
    name_ptrs[k] = names[k];
  }
  fer_model_set_class_names(model, name_ptrs, classes);

  fer_face faces[MAX_FACES];
  size_t count = 0;
  while (fuzz_more(&r) && count < MAX_FACES) {
    fer_face *f = &faces[count++];
    memset(f, 0, sizeof *f);
    f->box.x = (int32_t)fuzz_take(&r, 4);
    f->box.y = (int32_t)fuzz_take(&r, 4);
    f->box.width = (int32_t)fuzz_take(&r, 4);
    f->box.height = (int32_t)fuzz_take(&r, 4);
    f->label = (int32_t)fuzz_take(&r, 4);
    uint32_t bits = fuzz_take(&r, 4);
    memcpy(&f->confidence, &bits, sizeof bits);
    f->neighbors = (int32_t)fuzz_take(&r, 4);
    f->detector_score = (double)f->neighbors / 7.0;
  }

  fer_analyzer *an = NULL;
  fer_image *img = NULL;
  if (fer_analyzer_create(model, cascade, &an) == FER_OK &&
      fer_image_create(width, height, flags & 1u ? 3 : 1, &img) == FER_OK) {
    fer_analyzer_annotate(an, img, flags & 2u ? NULL : faces, count);
    if (fer_image_width(img) != width || fer_image_height(img) != height) __builtin_trap();
  }
  fer_image_free(img);
  fer_analyzer_free(an);
  fer_model_free(model);
  return 0;
}
