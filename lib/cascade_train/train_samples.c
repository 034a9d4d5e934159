/* A stage's training windows with the integral images the scan would use. */
#include <string.h>

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"

fer_status fer__sample_set_init(fer__sample_set *set, int w, int h, int tilted, size_t capacity) {
  memset(set, 0, sizeof *set);
  set->width = w;
  set->height = h;
  set->stride = (size_t)w + 1;
  set->area = set->stride * ((size_t)h + 1);
  set->capacity = capacity;
  set->with_tilted = tilted;
  /* An empty set (capacity 0) is valid: it allocates one slot it never fills. */
  size_t slots = capacity ? capacity : 1;
  size_t n = fer__mul_size(slots, set->area);
  set->sum = fer__malloc(fer__mul_size(n, sizeof(uint32_t)));
  set->sqsum = fer__malloc(fer__mul_size(n, sizeof(uint32_t)));
  set->tilted = tilted ? fer__malloc(fer__mul_size(n, sizeof(uint32_t))) : NULL;
  set->inv_norm = fer__malloc(fer__mul_size(slots, sizeof(float)));
  set->work = fer__malloc(fer__mul_size(fer__tilted_work_size(w, h), sizeof(uint32_t)));
  if (!set->sum || !set->sqsum || (tilted && !set->tilted) || !set->inv_norm || !set->work) {
    fer__sample_set_release(set);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory for %zu samples",
                     capacity);
  }
  return FER_OK;
}

void fer__sample_set_release(fer__sample_set *set) {
  fer__free(set->sum);
  fer__free(set->sqsum);
  fer__free(set->tilted);
  fer__free(set->inv_norm);
  fer__free(set->work);
  memset(set, 0, sizeof *set);
}

fer__level_view fer__sample_view(const fer__sample_set *set, size_t i) {
  fer__level_view v;
  v.sum = set->sum + i * set->area;
  v.sqsum = set->sqsum + i * set->area;
  v.tilted = set->tilted ? set->tilted + i * set->area : NULL;
  return v;
}

void fer__sample_set_add(fer__sample_set *set, const uint8_t *pixels, size_t pixel_stride,
                         const fer__scan_plan *norm_plan) {
  if (set->count >= set->capacity) return; /* callers size the set; never overrun */
  size_t i = set->count++;
  uint32_t *sum = set->sum + i * set->area, *sqsum = set->sqsum + i * set->area;
  uint32_t *tilted = set->tilted ? set->tilted + i * set->area : NULL;
  fer__integral(pixels, set->width, set->height, pixel_stride, sum, sqsum, tilted, set->stride,
                set->work);
  fer__level_view v = fer__sample_view(set, i);
  set->inv_norm[i] = fer__scan_inv_norm(norm_plan, &v, 0);
}

void fer__train_resize_area(const uint8_t *src, int sw, int sh, size_t sstride, uint8_t *dst,
                            int w, int h) {
  double fx = (double)sw / w, fy = (double)sh / h;
  for (int y = 0; y < h; y++) {
    double y0 = y * fy, y1 = (y + 1) * fy;
    for (int x = 0; x < w; x++) {
      double x0 = x * fx, x1 = (x + 1) * fx;
      double acc = 0, area = 0;
      /* Every source pixel the destination pixel covers, weighted by the
       * covered fraction (enlarging degenerates to nearest sampling). */
      for (int sy = (int)y0; sy < sh && sy < y1; sy++) {
        double wy = FER__MIN(y1, sy + 1.0) - FER__MAX(y0, (double)sy);
        if (wy <= 0) continue;
        for (int sx = (int)x0; sx < sw && sx < x1; sx++) {
          double wx = FER__MIN(x1, sx + 1.0) - FER__MAX(x0, (double)sx);
          if (wx <= 0) continue;
          acc += wx * wy * src[(size_t)sy * sstride + (size_t)sx];
          area += wx * wy;
        }
      }
      int v = area > 0 ? (int)(acc / area + 0.5) : 0;
      dst[y * w + x] = (uint8_t)(v > 255 ? 255 : v);
    }
  }
}
