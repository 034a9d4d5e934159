/*
 * fer_web: the few functions the web page (examples/web/fer.js) calls in
 * libfer.wasm. Built only by the WebAssembly cross build
 * (cross/wasm32-wasi.ini) as a WASI "reactor": a module with no main whose
 * exports JavaScript calls as often as it likes. It uses libfer's public
 * API only.
 *
 * The page's loop, in JavaScript terms:
 *
 *   s = fer_web_create()                  // built-in model and cascade
 *   buf = fer_web_frame(s, bytes)         // room for one frame: RGBA from a
 *                                         // canvas, or a camera's I420/NV12
 *   n = fer_web_run(s, w, h, stride, format, flags)
 *                                         // faces found (< 0: -fer_status)
 *   r = fer_web_results(s)                // n records of fer_web_record_size(s)
 *                                         // floats: x, y, width, height,
 *                                         // label, confidence, detector
 *                                         // score, neighbours, then the
 *                                         // probability of each class
 *
 * Strings (class names, the last error) are NUL-terminated UTF-8 in the
 * module's memory. One session belongs to one thread; the page has one.
 */
#include <stdint.h>
#include <stdlib.h>

#include <fer.h>

#define WEB_EXPORT(name) __attribute__((export_name(#name))) name

/* More faces than a webcam frame shows; the largest are kept past that. */
#define MAX_FACES 64
/* Fields of a record before the probabilities. */
#define RECORD_HEAD 8

typedef struct web_session {
  fer_analyzer *analyzer;
  int num_classes;
  uint8_t *frame; /* RGBA pixels the page writes */
  size_t frame_size;
  fer_face faces[MAX_FACES];
  float *probs;   /* MAX_FACES x num_classes */
  float *records; /* MAX_FACES x (RECORD_HEAD + num_classes) */
} web_session;

/* A session with the built-in model and cascade, or NULL
 * (fer_web_error() says why). */
web_session *WEB_EXPORT(fer_web_create)(void) {
  web_session *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  if (fer_analyzer_create_default(&s->analyzer) != FER_OK) {
    free(s);
    return NULL;
  }
  s->num_classes = fer_analyzer_num_classes(s->analyzer);
  size_t k = (size_t)s->num_classes;
  s->probs = malloc(MAX_FACES * k * sizeof *s->probs);
  s->records = malloc(MAX_FACES * (RECORD_HEAD + k) * sizeof *s->records);
  if (!s->probs || !s->records) {
    fer_analyzer_free(s->analyzer);
    free(s->probs);
    free(s->records);
    free(s);
    return NULL;
  }
  return s;
}

void WEB_EXPORT(fer_web_destroy)(web_session *s) {
  if (!s) return;
  fer_analyzer_free(s->analyzer);
  free(s->frame);
  free(s->probs);
  free(s->records);
  free(s);
}

/* This thread's last error message (always a valid string). */
const char *WEB_EXPORT(fer_web_error)(void) { return fer_last_error(); }

const char *WEB_EXPORT(fer_web_version)(void) { return fer_version(); }

int WEB_EXPORT(fer_web_num_classes)(const web_session *s) { return s ? s->num_classes : 0; }

/* Class `index`'s name, or NULL when out of range. */
const char *WEB_EXPORT(fer_web_class_name)(const web_session *s, int index) {
  return s ? fer_analyzer_class_name(s->analyzer, index) : NULL;
}

/* The colour of class `index` as 0xRRGGBB: the one fer_analyzer_annotate()
 * and `fer analyze --annotate` draw it in. */
int WEB_EXPORT(fer_web_class_color)(const web_session *s, int index) {
  return (int)fer_expression_color(fer_web_class_name(s, index), index);
}

int WEB_EXPORT(fer_web_record_size)(const web_session *s) {
  return s ? RECORD_HEAD + s->num_classes : 0;
}

/* fer_analyzer_set(): FER_ANALYZE_MIN_SIZE and the rest, same keys. */
int WEB_EXPORT(fer_web_set)(web_session *s, int key, double value) {
  if (!s) return FER_ERR_MISUSE;
  return (int)fer_analyzer_set(s->analyzer, (fer_analyze_param)key, value);
}

/* The session's frame buffer, grown to `size` bytes; its address may
 * change from one call to the next. NULL when size is 0 or memory ran
 * out. */
uint8_t *WEB_EXPORT(fer_web_frame)(web_session *s, size_t size) {
  if (!s || size == 0) return NULL;
  if (size > s->frame_size) {
    uint8_t *bigger = realloc(s->frame, size);
    if (!bigger) return NULL;
    s->frame = bigger;
    s->frame_size = size;
  }
  return s->frame;
}

/* fer_web_run() flag: the YUV frame uses the full 0..255 range (a JPEG
 * camera stream), not BT.601's 16..235. */
#define WEB_FULL_RANGE 1

/* Gray from the luma plane alone, as `fer video` reads Y4M frames
 * (FER_Y4M_READ_GRAY): 16..235 stretched to 0..255, rounded, clamped. A
 * camera frame then gives the detector and a gray model exactly the pixels
 * the native command sees, with no trip through RGB. */
static fer_status gray_from_luma(const uint8_t *y, int width, int height, size_t stride,
                                 int full_range, fer_image **out) {
  uint8_t table[256];
  for (int i = 0; i < 256; i++) {
    int v = (i - 16) * 255 * 2 + 219; /* 2 * 219 * round((i - 16) * 255 / 219) */
    v = v < 0 ? 0 : v / (2 * 219);
    table[i] = full_range ? (uint8_t)i : (uint8_t)(v > 255 ? 255 : v);
  }
  fer_status st = fer_image_create(width, height, 1, out);
  if (st != FER_OK) return st;
  uint8_t *dst = fer_image_data_mutable(*out);
  size_t dst_stride = fer_image_stride(*out);
  for (int r = 0; r < height; r++)
    for (int c = 0; c < width; c++)
      dst[(size_t)r * dst_stride + (size_t)c] = table[y[(size_t)r * stride + (size_t)c]];
  return FER_OK;
}

/* Analyses the width x height frame in the session's buffer, in `format`
 * (a fer_pixel_format: FER_PIXEL_RGBA32, BGRA32, I420 or NV12, laid out as
 * fer_image_from_pixels() reads them, `stride` bytes per row of the
 * first plane; flags: WEB_FULL_RANGE). Returns the number of faces (their
 * records are in fer_web_results()) or a negative fer_status
 * (fer_web_error() says why). YUV frames go to a gray model as their
 * luma, to a colour model through fer_image_from_pixels()' BT.601. */
int WEB_EXPORT(fer_web_run)(web_session *s, int width, int height, size_t stride, int format,
                            int flags) {
  if (!s) return -FER_ERR_MISUSE;
  if (width <= 0 || height <= 0 || stride < (size_t)width || !s->frame)
    return -FER_ERR_INVALID_ARGUMENT;
  int channels = 0, model_height = 0, model_width = 0;
  fer_model_input_shape(fer_analyzer_model(s->analyzer), &channels, &model_height,
                        &model_width);
  int yuv = format == FER_PIXEL_I420 || format == FER_PIXEL_NV12;
  /* The buffer must hold what fer_image_from_pixels() will read. */
  size_t chroma_rows = yuv ? (size_t)(height + 1) / 2 : 0;
  size_t chroma_bytes = format == FER_PIXEL_I420 ? 2 * chroma_rows * ((stride + 1) / 2)
                                                 : chroma_rows * stride;
  if ((size_t)height > (s->frame_size - chroma_bytes) / stride)
    return -FER_ERR_INVALID_ARGUMENT;
  fer_image *img = NULL;
  fer_status st;
  if (yuv && channels == 1)
    st = gray_from_luma(s->frame, width, height, stride, flags & WEB_FULL_RANGE, &img);
  else
    st = fer_image_from_pixels(s->frame, width, height, stride, (fer_pixel_format)format, &img);
  size_t count = 0, k = (size_t)s->num_classes;
  if (st == FER_OK)
    st = fer_analyzer_run(s->analyzer, img, s->faces, s->probs, MAX_FACES, k, &count);
  fer_image_free(img);
  if (st == FER_ERR_BUFFER_TOO_SMALL) { /* the MAX_FACES largest were analysed */
    st = FER_OK;
    count = MAX_FACES;
  }
  if (st != FER_OK) return -(int)st;
  for (size_t i = 0; i < count; i++) {
    const fer_face *f = &s->faces[i];
    float *r = s->records + i * (RECORD_HEAD + k);
    r[0] = (float)f->box.x;
    r[1] = (float)f->box.y;
    r[2] = (float)f->box.width;
    r[3] = (float)f->box.height;
    r[4] = (float)f->label;
    r[5] = f->confidence;
    r[6] = (float)f->detector_score;
    r[7] = (float)f->neighbors;
    for (size_t c = 0; c < k; c++) r[RECORD_HEAD + c] = s->probs[i * k + c];
  }
  return (int)count;
}

const float *WEB_EXPORT(fer_web_results)(const web_session *s) { return s ? s->records : NULL; }
