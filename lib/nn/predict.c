/* Inference: predictors own scratch (one thread each, a shared immutable
 * model), fer_model_predict makes scratch per call, and the image path turns
 * any fer_image into a normalised input tensor. */
#include <string.h>

#include "image/image_internal.h"
#include "nn/nn_internal.h"

struct fer_predictor {
  uint32_t magic;
  const fer_model *model;
  fer__workspace *ws;
};

static fer_status check_predictor(const fer_predictor *p, const char *who) {
  if (!p || p->magic != FER__PREDICTOR_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: predictor is NULL or not live", who);
  return fer__model_check(p->model, who);
}

fer_status fer_predictor_create(const fer_model *m, fer_predictor **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_predictor_create: out is NULL");
  *out = NULL;
  fer_status st = fer__model_check(m, "fer_predictor_create");
  if (st) return st;
  fer_predictor *p = fer__calloc(1, sizeof *p);
  if (!p) return fer__fail(FER_ERR_OUT_OF_MEMORY, "predictor: out of memory");
  p->magic = FER__PREDICTOR_MAGIC;
  p->model = m;
  *out = p;
  return FER_OK;
}

void fer_predictor_free(fer_predictor *p) {
  if (!p || p->magic != FER__PREDICTOR_MAGIC) return;
  fer__workspace_free(p->ws);
  p->magic = 0;
  fer__free(p);
}

/* Evaluation-mode forward of n images through `ws`: reads the model only. */
/* A workspace for n images; a predictor's (`keep`) keeps what layers
 * derive from the weights across calls. */
static fer_status prepare(const fer_model *m, fer__workspace **ws, int n,
                          int keep) {
  fer_status st = fer__workspace_prepare(m, ws, n, 0);
  if (!st && keep && !(*ws)->kept) st = fer__workspace_keep(m, *ws);
  return st;
}

static fer_status run_batch(const fer_model *m, fer__workspace **ws, int keep,
                            const float *x, int n, float *out, const char *who) {
  if (!x || !out || n < 1 || n > 65536)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: need input, output and a batch of 1..65536 (got %d)",
                     who, n);
  fer_status st = prepare(m, ws, n, keep);
  if (st) return st;
  const float *y = fer__forward(m, *ws, x, n, 0, NULL);
  memcpy(out, y, (size_t)n * (size_t)fer_model_output_size(m) * sizeof(float));
  return FER_OK;
}

fer_status fer_predictor_run(fer_predictor *p, const float *x, int n,
                             float *out) {
  fer_status st = check_predictor(p, "fer_predictor_run");
  if (st) return st;
  return run_batch(p->model, &p->ws, 1, x, n, out, "fer_predictor_run");
}

fer_status fer_model_predict(const fer_model *m, const float *x, int n,
                             float *out) {
  fer_status st = fer__model_check(m, "fer_model_predict");
  if (st) return st;
  fer__workspace *ws = NULL;
  st = run_batch(m, &ws, 0, x, n, out, "fer_model_predict");
  fer__workspace_free(ws);
  return st;
}

/* Pixel (x, y) of channel c as the model wants it: BT.601 luma for a
 * 1-channel model, R, G, B (gray replicated) for 3 channels. */
static float pixel(const fer_image *img, int channels, int x, int y, int c) {
  const uint8_t *p = img->pixels + (size_t)y * img->stride +
                     (size_t)x * (size_t)img->channels;
  if (img->channels == 1) return p[0];
  if (channels == 1) return fer__luma(p[0], p[1], p[2]);
  return p[c];
}

/* Area averaging: each output pixel is the mean of the source area it
 * covers, with fractional weights at the borders (OpenCV's INTER_AREA for
 * shrinking; enlarging repeats pixels). Raw values: the caller applies the
 * model's preprocessing. */
static void image_to_tensor(const fer_model *m, const fer_image *img,
                            float *dst) {
  const int C = m->input.c, H = m->input.h, W = m->input.w;
  const double sx = (double)img->width / W, sy = (double)img->height / H;
  for (int c = 0; c < C; c++)
    for (int oy = 0; oy < H; oy++) {
      double y0 = oy * sy, y1 = y0 + sy;
      for (int ox = 0; ox < W; ox++) {
        double x0 = ox * sx, x1 = x0 + sx, sum = 0.0, area = 0.0;
        for (int iy = (int)y0; iy < img->height && iy < y1; iy++) {
          double wy = FER__MIN(y1, iy + 1.0) - FER__MAX(y0, (double)iy);
          if (wy <= 0.0) continue;
          for (int ix = (int)x0; ix < img->width && ix < x1; ix++) {
            double wx = FER__MIN(x1, ix + 1.0) - FER__MAX(x0, (double)ix);
            if (wx <= 0.0) continue;
            sum += wx * wy * pixel(img, C, ix, iy, c);
            area += wx * wy;
          }
        }
        float v = area > 0.0 ? (float)(sum / area) : 0.0f;
        dst[((size_t)c * H + oy) * W + ox] = v;
      }
    }
}

static fer_status run_image(const fer_model *m, fer__workspace **ws, int keep,
                            const fer_image *img, float *probs, int capacity,
                            int *top_class, const char *who) {
  fer_status st = fer__image_check(img, who);
  if (st) return st;
  const int K = fer_model_output_size(m);
  if (capacity < 0 || (capacity > 0 && capacity < K) || (capacity && !probs))
    return fer__fail(FER_ERR_BUFFER_TOO_SMALL,
                     "%s: room for %d probabilities, the model gives %d", who,
                     capacity, K);
  if (m->input.c != 1 && m->input.c != 3)
    return fer__fail(FER_ERR_UNSUPPORTED,
                     "%s: images need a model with 1 or 3 input channels, not %d",
                     who, m->input.c);
  if ((st = prepare(m, ws, 1, keep))) return st;
  image_to_tensor(m, img, (*ws)->input);
  if ((st = fer__model_input(m, (*ws)->input, 1))) return st;
  const float *y = fer__forward(m, *ws, (*ws)->input, 1, 0, NULL);
  int best = 0;
  for (int k = 1; k < K; k++)
    if (y[k] > y[best]) best = k;
  if (capacity) memcpy(probs, y, (size_t)K * sizeof(float));
  if (top_class) *top_class = best;
  return FER_OK;
}

fer_status fer_predictor_run_image(fer_predictor *p, const fer_image *img,
                                   float *probs, int capacity, int *top_class) {
  fer_status st = check_predictor(p, "fer_predictor_run_image");
  if (st) return st;
  return run_image(p->model, &p->ws, 1, img, probs, capacity, top_class,
                   "fer_predictor_run_image");
}

fer_status fer_model_predict_image(const fer_model *m, const fer_image *img,
                                   float *probs, int capacity, int *top_class) {
  fer_status st = fer__model_check(m, "fer_model_predict_image");
  if (st) return st;
  fer__workspace *ws = NULL;
  st = run_image(m, &ws, 0, img, probs, capacity, top_class,
                 "fer_model_predict_image");
  fer__workspace_free(ws);
  return st;
}
