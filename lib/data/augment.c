/* On-the-fly augmentation. Every random draw for a sample comes from a
 * generator seeded by hashing (seed, epoch, sample index, transform), a
 * counter-based scheme: no state carries from one sample to the next, so
 * results do not depend on batch order, threads, or where a run resumed,
 * and changing one transform's settings leaves the others' draws alone. */
#include <math.h>
#include <string.h>

#include "core/core_internal.h"
#include "core/params.h"
#include "data/augment_internal.h"
#include "data/dataset_internal.h"

#define AUGMENT_MAGIC 0x46415547u /* "FAUG" */
#define NUM_KEYS (FER_AUG_ERASE_VALUE + 1)

struct fer_augment {
  uint32_t magic;
  uint64_t seed;
  double value[NUM_KEYS];
};

/* The one table behind set, get, bounds and names: key, name, kind, min,
 * max, default. Slot 0 is unused (keys start at 1). */
#define ROW(key, name, kind, min, max, def)                            \
  FER__PARAM_AT(struct fer_augment, value, key, name, kind, min, max, def, \
                FER__PARAM_MIN_INCLUSIVE)
static const fer__param rows[NUM_KEYS] = {
    ROW(FER_AUG_FLIP_PROB, "flip_prob", FER__PARAM_FLOAT, 0.0, 1.0, 0.0),
    ROW(FER_AUG_SHIFT_PROB, "shift_prob", FER__PARAM_FLOAT, 0.0, 1.0, 0.0),
    ROW(FER_AUG_SHIFT_MAX, "shift_max", FER__PARAM_FLOAT, 0.0, 0.5, 0.1),
    ROW(FER_AUG_ROTATE_PROB, "rotate_prob", FER__PARAM_FLOAT, 0.0, 1.0, 0.0),
    ROW(FER_AUG_ROTATE_DEGREES, "rotate_degrees", FER__PARAM_FLOAT, 0.0, 180.0, 10.0),
    ROW(FER_AUG_ZOOM_PROB, "zoom_prob", FER__PARAM_FLOAT, 0.0, 1.0, 0.0),
    ROW(FER_AUG_ZOOM_MIN, "zoom_min", FER__PARAM_FLOAT, 0.25, 4.0, 0.9),
    ROW(FER_AUG_ZOOM_MAX, "zoom_max", FER__PARAM_FLOAT, 0.25, 4.0, 1.1),
    ROW(FER_AUG_FILL_MODE, "fill_mode", FER__PARAM_ENUM, 0.0, 1.0, 0.0),
    ROW(FER_AUG_FILL_VALUE, "fill_value", FER__PARAM_FLOAT, 0.0, 255.0, 0.0),
    ROW(FER_AUG_BRIGHTNESS_PROB, "brightness_prob", FER__PARAM_FLOAT, 0.0, 1.0, 0.0),
    ROW(FER_AUG_BRIGHTNESS, "brightness", FER__PARAM_FLOAT, 0.0, 1.0, 0.2),
    ROW(FER_AUG_CONTRAST_PROB, "contrast_prob", FER__PARAM_FLOAT, 0.0, 1.0, 0.0),
    ROW(FER_AUG_CONTRAST, "contrast", FER__PARAM_FLOAT, 0.0, 1.0, 0.2),
    ROW(FER_AUG_ERASE_PROB, "erase_prob", FER__PARAM_FLOAT, 0.0, 1.0, 0.0),
    ROW(FER_AUG_ERASE_AREA_MIN, "erase_area_min", FER__PARAM_FLOAT, 0.0, 1.0, 0.02),
    ROW(FER_AUG_ERASE_AREA_MAX, "erase_area_max", FER__PARAM_FLOAT, 0.0, 1.0, 0.2),
    ROW(FER_AUG_ERASE_ASPECT_MIN, "erase_aspect_min", FER__PARAM_FLOAT, 0.01, 100.0, 0.3),
    ROW(FER_AUG_ERASE_ASPECT_MAX, "erase_aspect_max", FER__PARAM_FLOAT, 0.01, 100.0, 3.3),
    ROW(FER_AUG_ERASE_VALUE, "erase_value", FER__PARAM_FLOAT, 0.0, 255.0, 0.0),
};
#undef ROW
_Static_assert(FER__ARRAY_LEN(rows) == FER_AUG_ERASE_VALUE + 1,
               "one table row per augmentation key");
static const fer__param_table params =
    FER__PARAM_TABLE("augmentation", rows, FER_ERR_NOT_FOUND);

/* Transform ids: the fourth coordinate of each random stream. Changing them
 * changes every augmentation ever drawn, so they are fixed. */
enum { STREAM_GEOMETRY = 1, STREAM_BRIGHTNESS = 2, STREAM_CONTRAST = 3,
       STREAM_ERASE = 4 };

static fer_status check(const fer_augment *aug, const char *who) {
  if (!aug) return fer__fail(FER_ERR_MISUSE, "%s: augmenter is NULL", who);
  if (aug->magic != AUGMENT_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_augment (freed?)",
                     who);
  return FER_OK;
}

fer_status fer_augment_create(uint64_t seed, fer_augment **out) {
  if (!out)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_augment_create: out is NULL");
  *out = NULL;
  fer_augment *aug = fer__calloc(1, sizeof *aug);
  if (!aug)
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_augment_create: out of memory");
  aug->magic = AUGMENT_MAGIC;
  aug->seed = seed;
  fer__param_set_defaults(&params, aug);
  *out = aug;
  return FER_OK;
}

void fer_augment_free(fer_augment *aug) {
  if (!aug || aug->magic != AUGMENT_MAGIC) return;
  aug->magic = 0;
  fer__free(aug);
}

fer_status fer_augment_param_info(fer_augment_param key, const char **name,
                                  double *default_value, double *min_value,
                                  double *max_value) {
  return fer__param_info(&params, "fer_augment_param_info", (int)key, name,
                         min_value, max_value, default_value);
}

fer_status fer_augment_param_find(const char *name, fer_augment_param *key) {
  int found = 0;
  fer_status st = fer__param_find(&params, "fer_augment_param_find", name,
                                  key ? &found : NULL);
  if (st == FER_OK) *key = (fer_augment_param)found;
  return st;
}

fer_status fer_augment_set(fer_augment *aug, fer_augment_param key,
                           double value) {
  fer_status st = check(aug, "fer_augment_set");
  return st ? st : fer__param_set(&params, "fer_augment_set", aug, (int)key, value);
}

fer_status fer_augment_get(const fer_augment *aug, fer_augment_param key,
                           double *value) {
  fer_status st = check(aug, "fer_augment_get");
  return st ? st : fer__param_get(&params, "fer_augment_get", aug, (int)key, value);
}

/* The generator for one transform of one sample. */
static void stream(const fer_augment *aug, uint32_t epoch, uint64_t index,
                   int transform, fer__rng *rng) {
  uint64_t h = fer__mix64(aug->seed, epoch);
  h = fer__mix64(h, index);
  fer__rng_seed(rng, fer__mix64(h, (uint64_t)transform));
}

/* Uniform in the range spanned by two values, in either order. */
static double uniform_between(fer__rng *rng, double a, double b) {
  double lo = FER__MIN(a, b), hi = FER__MAX(a, b);
  return lo + (hi - lo) * (double)fer__rng_uniform(rng);
}

/* Draws whether a transform with probability p happens. Always consumes one
 * draw so the parameters that follow do not depend on p. */
static int happens(fer__rng *rng, double p) {
  return (double)fer__rng_uniform(rng) < p;
}

/* The inverse map of the geometric transforms: for an output pixel (x, y),
 * the source position is centre + R(-angle) (out - centre - shift) / zoom;
 * the horizontal flip mirrors the output. */
typedef struct geometry {
  int active, flip;
  double shift_x, shift_y, cos_a, sin_a, inv_zoom;
} geometry;

static void draw_geometry(const fer_augment *aug, fer__rng *rng, int height,
                          int width, geometry *g) {
  const double *v = aug->value;
  memset(g, 0, sizeof *g);
  g->cos_a = 1.0;
  g->inv_zoom = 1.0;
  /* Each transform's draws are made whether or not it applies. */
  int flip = happens(rng, v[FER_AUG_FLIP_PROB]);
  int shift = happens(rng, v[FER_AUG_SHIFT_PROB]);
  int max_x = (int)floor(v[FER_AUG_SHIFT_MAX] * width + 0.5);
  int max_y = (int)floor(v[FER_AUG_SHIFT_MAX] * height + 0.5);
  int dx = (int)fer__rng_below(rng, (uint32_t)(2 * max_x + 1)) - max_x;
  int dy = (int)fer__rng_below(rng, (uint32_t)(2 * max_y + 1)) - max_y;
  int rotate = happens(rng, v[FER_AUG_ROTATE_PROB]);
  double degrees = uniform_between(rng, -v[FER_AUG_ROTATE_DEGREES],
                                   v[FER_AUG_ROTATE_DEGREES]);
  int zoom = happens(rng, v[FER_AUG_ZOOM_PROB]);
  double factor = uniform_between(rng, v[FER_AUG_ZOOM_MIN], v[FER_AUG_ZOOM_MAX]);
  g->flip = flip;
  if (shift && (dx || dy)) {
    g->shift_x = dx;
    g->shift_y = dy;
    g->active = 1;
  }
  if (rotate && degrees != 0.0) {
    double radians = degrees * (3.14159265358979323846 / 180.0);
    g->cos_a = cos(radians);
    g->sin_a = sin(radians);
    g->active = 1;
  }
  if (zoom && factor != 1.0) {
    g->inv_zoom = 1.0 / factor;
    g->active = 1;
  }
}

/* One source pixel, or the fill outside the image. */
static double source_at(const uint8_t *plane, int height, int width, int x,
                        int y, int edge, double fill) {
  if (x < 0 || y < 0 || x >= width || y >= height) {
    if (!edge) return fill;
    x = x < 0 ? 0 : x >= width ? width - 1 : x;
    y = y < 0 ? 0 : y >= height ? height - 1 : y;
  }
  return plane[(size_t)y * (size_t)width + (size_t)x];
}

static void apply_geometry(const fer_augment *aug, const geometry *g,
                           const uint8_t *src, int channels, int height,
                           int width, float *dst) {
  size_t plane_size = (size_t)height * (size_t)width;
  if (!g->active) { /* exact copy (maybe mirrored): no resampling */
    for (int c = 0; c < channels; c++)
      for (int y = 0; y < height; y++) {
        const uint8_t *row = src + c * plane_size + (size_t)y * width;
        float *out = dst + c * plane_size + (size_t)y * width;
        for (int x = 0; x < width; x++)
          out[x] = row[g->flip ? width - 1 - x : x];
      }
    return;
  }
  int edge = aug->value[FER_AUG_FILL_MODE] == 1.0;
  double fill = aug->value[FER_AUG_FILL_VALUE];
  double cx = (width - 1) * 0.5, cy = (height - 1) * 0.5;
  /* Along an output row the source position moves linearly with x, so it
   * is stepped rather than recomputed; a flip walks the row backwards. */
  double step = g->flip ? -1.0 : 1.0;
  double step_x = g->cos_a * g->inv_zoom * step;
  double step_y = -g->sin_a * g->inv_zoom * step;
  for (int y = 0; y < height; y++) {
    double ox = (g->flip ? width - 1 : 0) - cx - g->shift_x;
    double oy = y - cy - g->shift_y;
    double sx = cx + (g->cos_a * ox + g->sin_a * oy) * g->inv_zoom;
    double sy = cy + (-g->sin_a * ox + g->cos_a * oy) * g->inv_zoom;
    for (int x = 0; x < width; x++, sx += step_x, sy += step_y) {
      size_t out = (size_t)y * width + x;
      /* Far outside: the fill (or the clamped edge) without overflow. */
      double fx0 = sx < -2.0 * width || sx > 2.0 * width ? -2.0 * width
                                                         : floor(sx);
      double fy0 = sy < -2.0 * height || sy > 2.0 * height ? -2.0 * height
                                                           : floor(sy);
      double fx = sx - fx0, fy = sy - fy0;
      int x0 = (int)fx0, y0 = (int)fy0;
      int inside = x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height;
      for (int c = 0; c < channels; c++) {
        const uint8_t *plane = src + c * plane_size;
        double p00, p10, p01, p11;
        if (inside) { /* the common case: four neighbours in the image */
          const uint8_t *p = plane + (size_t)y0 * width + x0;
          p00 = p[0];
          p10 = p[1];
          p01 = p[width];
          p11 = p[width + 1];
        } else {
          p00 = source_at(plane, height, width, x0, y0, edge, fill);
          p10 = source_at(plane, height, width, x0 + 1, y0, edge, fill);
          p01 = source_at(plane, height, width, x0, y0 + 1, edge, fill);
          p11 = source_at(plane, height, width, x0 + 1, y0 + 1, edge, fill);
        }
        double top = p00 + (p10 - p00) * fx;
        double bottom = p01 + (p11 - p01) * fx;
        dst[c * plane_size + out] = (float)(top + (bottom - top) * fy);
      }
    }
  }
}

static float clamp_level(double v) {
  return (float)(v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v);
}

static void apply_brightness(const fer_augment *aug, fer__rng *rng,
                             float *img, size_t size) {
  int on = happens(rng, aug->value[FER_AUG_BRIGHTNESS_PROB]);
  double b = aug->value[FER_AUG_BRIGHTNESS];
  double delta = uniform_between(rng, -b, b) * 255.0;
  if (!on || delta == 0.0) return;
  for (size_t i = 0; i < size; i++) img[i] = clamp_level(img[i] + delta);
}

static void apply_contrast(const fer_augment *aug, fer__rng *rng, float *img,
                           int channels, size_t plane_size) {
  int on = happens(rng, aug->value[FER_AUG_CONTRAST_PROB]);
  double c = aug->value[FER_AUG_CONTRAST];
  double factor = uniform_between(rng, 1.0 - c, 1.0 + c);
  if (!on || factor == 1.0) return;
  for (int ch = 0; ch < channels; ch++) {
    float *plane = img + ch * plane_size;
    double mean = 0.0;
    for (size_t i = 0; i < plane_size; i++) mean += plane[i];
    mean /= (double)plane_size;
    for (size_t i = 0; i < plane_size; i++)
      plane[i] = clamp_level((plane[i] - mean) * factor + mean);
  }
}

/* Random erasing: a rectangle of random area and aspect (height / width),
 * tried up to ten times until it fits, as in Zhong et al. 2017. */
static void apply_erase(const fer_augment *aug, fer__rng *rng, float *img,
                        int channels, int height, int width) {
  const double *v = aug->value;
  if (!happens(rng, v[FER_AUG_ERASE_PROB])) return;
  double area = (double)height * width;
  for (int attempt = 0; attempt < 10; attempt++) {
    double target =
        area * uniform_between(rng, v[FER_AUG_ERASE_AREA_MIN],
                               v[FER_AUG_ERASE_AREA_MAX]);
    double log_aspect = uniform_between(rng, log(v[FER_AUG_ERASE_ASPECT_MIN]),
                                        log(v[FER_AUG_ERASE_ASPECT_MAX]));
    double aspect = exp(log_aspect);
    int h = (int)floor(sqrt(target * aspect) + 0.5);
    int w = (int)floor(sqrt(target / aspect) + 0.5);
    if (h < 1 || w < 1 || h > height || w > width) continue;
    int top = (int)fer__rng_below(rng, (uint32_t)(height - h + 1));
    int left = (int)fer__rng_below(rng, (uint32_t)(width - w + 1));
    float fill = (float)v[FER_AUG_ERASE_VALUE];
    size_t plane_size = (size_t)height * width;
    for (int c = 0; c < channels; c++)
      for (int y = top; y < top + h; y++)
        for (int x = left; x < left + w; x++)
          img[c * plane_size + (size_t)y * width + x] = fill;
    return;
  }
}

void fer__augment_run(const fer_augment *aug, uint32_t epoch, uint64_t index,
                      const uint8_t *src, int channels, int height, int width,
                      float scale, float *dst) {
  size_t plane_size = (size_t)height * (size_t)width;
  size_t size = plane_size * (size_t)channels;
  fer__rng rng;
  geometry g;
  stream(aug, epoch, index, STREAM_GEOMETRY, &rng);
  draw_geometry(aug, &rng, height, width, &g);
  apply_geometry(aug, &g, src, channels, height, width, dst);
  stream(aug, epoch, index, STREAM_BRIGHTNESS, &rng);
  apply_brightness(aug, &rng, dst, size);
  stream(aug, epoch, index, STREAM_CONTRAST, &rng);
  apply_contrast(aug, &rng, dst, channels, plane_size);
  stream(aug, epoch, index, STREAM_ERASE, &rng);
  apply_erase(aug, &rng, dst, channels, height, width);
  if (scale != 1.0f)
    for (size_t i = 0; i < size; i++) dst[i] *= scale;
}

fer_status fer__augment_check(const fer_augment *aug, const char *who) {
  return check(aug, who);
}

fer_status fer_augment_apply(const fer_augment *aug, uint32_t epoch,
                             uint64_t index, const uint8_t *src, int channels,
                             int height, int width, float scale, float *dst) {
  static const char who[] = "fer_augment_apply";
  fer_status st = check(aug, who);
  if (st != FER_OK) return st;
  if (!src || !dst)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: src or dst is NULL", who);
  if (channels < 1 || channels > 4 || height < 1 || width < 1 ||
      height > FER__DATASET_MAX_SIDE || width > FER__DATASET_MAX_SIDE)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "%s: shape %dx%dx%d outside 1..4 channels, 1..%d pixels",
                     who, channels, height, width, FER__DATASET_MAX_SIDE);
  fer__augment_run(aug, epoch, index, src, channels, height, width, scale, dst);
  return FER_OK;
}
