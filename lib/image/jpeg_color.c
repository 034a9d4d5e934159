/*
 * From component planes to output pixels: chroma upsampling and YCbCr ->
 * RGB, with libjpeg-turbo's default arithmetic so the pixels match it.
 *
 * Upsampling by 2 uses the triangle filter libjpeg calls "fancy": each
 * output sample is 3/4 of the nearest input sample plus 1/4 of the next
 * nearest, horizontally, vertically, or both (9/16, 3/16, 3/16, 1/16).
 * Rounding biases alternate between neighbouring outputs so that errors do
 * not all lean one way. Edges replicate the outermost sample, and only the
 * component's real samples (not the padding of its last block) take part.
 * Other ratios replicate samples.
 */
#include <string.h>

#include "core/core_internal.h"
#include "image/image_internal.h"
#include "image/jpeg_internal.h"

typedef enum upsample_kind {
  UPSAMPLE_NONE,
  UPSAMPLE_H2V1_FANCY,
  UPSAMPLE_H1V2_FANCY,
  UPSAMPLE_H2V2_FANCY,
  UPSAMPLE_REPLICATE
} upsample_kind;

typedef struct upsampler {
  const fer__jpeg_component *comp;
  upsample_kind kind;
  int hx, vy;       /* output samples per input sample */
  uint8_t *row;     /* output row of this component, when it needs one */
  int *colsum;      /* h2v2: vertical sums of one row pair */
} upsampler;

static const uint8_t *plane_row(const fer__jpeg_component *c, int y) {
  /* Rows past the component's real height repeat its last real row. */
  if (y < 0) y = 0;
  if (y > c->height - 1) y = c->height - 1;
  return c->plane + (size_t)y * c->plane_stride;
}

static void h2v1_fancy(const uint8_t *in, int n, uint8_t *out) {
  out[0] = in[0];
  out[1] = (uint8_t)((in[0] * 3 + in[1] + 2) >> 2);
  for (int i = 1; i < n - 1; i++) {
    int near3 = in[i] * 3;
    out[2 * i] = (uint8_t)((near3 + in[i - 1] + 1) >> 2);
    out[2 * i + 1] = (uint8_t)((near3 + in[i + 1] + 2) >> 2);
  }
  out[2 * n - 2] = (uint8_t)((in[n - 1] * 3 + in[n - 2] + 1) >> 2);
  out[2 * n - 1] = in[n - 1];
}

static void h1v2_fancy(const uint8_t *near, const uint8_t *far, int bias,
                       int n, uint8_t *out) {
  for (int i = 0; i < n; i++)
    out[i] = (uint8_t)((near[i] * 3 + far[i] + bias) >> 2);
}

static void h2v2_fancy(const uint8_t *near, const uint8_t *far, int n,
                       int *colsum, uint8_t *out) {
  for (int i = 0; i < n; i++) colsum[i] = near[i] * 3 + far[i];
  out[0] = (uint8_t)((colsum[0] * 4 + 8) >> 4);
  out[1] = (uint8_t)((colsum[0] * 3 + colsum[1] + 7) >> 4);
  for (int i = 1; i < n - 1; i++) {
    int near3 = colsum[i] * 3;
    out[2 * i] = (uint8_t)((near3 + colsum[i - 1] + 8) >> 4);
    out[2 * i + 1] = (uint8_t)((near3 + colsum[i + 1] + 7) >> 4);
  }
  out[2 * n - 2] = (uint8_t)((colsum[n - 1] * 3 + colsum[n - 2] + 8) >> 4);
  out[2 * n - 1] = (uint8_t)((colsum[n - 1] * 4 + 7) >> 4);
}

/* The component's samples for output row y, at least `width` of them. */
static const uint8_t *upsample_row(upsampler *u, int y, int width) {
  const fer__jpeg_component *c = u->comp;
  int n = c->width;
  switch (u->kind) {
  case UPSAMPLE_NONE:
    return plane_row(c, y);
  case UPSAMPLE_H2V1_FANCY:
    h2v1_fancy(plane_row(c, y), n, u->row);
    return u->row;
  case UPSAMPLE_H1V2_FANCY:
  case UPSAMPLE_H2V2_FANCY: {
    /* Output row 2r lies above the centre of input row r, 2r+1 below it. */
    int r = y >> 1, lower = y & 1;
    const uint8_t *near = plane_row(c, r);
    const uint8_t *far = plane_row(c, lower ? r + 1 : r - 1);
    if (u->kind == UPSAMPLE_H1V2_FANCY)
      h1v2_fancy(near, far, lower ? 2 : 1, n, u->row);
    else
      h2v2_fancy(near, far, n, u->colsum, u->row);
    return u->row;
  }
  case UPSAMPLE_REPLICATE: {
    const uint8_t *in = plane_row(c, y / u->vy);
    for (int x = 0; x < width; x++) u->row[x] = in[x / u->hx];
    return u->row;
  }
  }
  return NULL;
}

static fer_status upsampler_init(upsampler *u, const fer__jpeg_decoder *dec,
                                 const fer__jpeg_component *c) {
  memset(u, 0, sizeof *u);
  u->comp = c;
  u->hx = dec->max_h / c->h;
  u->vy = dec->max_v / c->v;
  /* libjpeg-turbo's choice: the triangle filter only for factors of 2,
   * and horizontally only when the component is wider than 2 samples. */
  if (u->hx == 1 && u->vy == 1)
    u->kind = UPSAMPLE_NONE;
  else if (u->hx == 2 && u->vy == 1 && c->width > 2)
    u->kind = UPSAMPLE_H2V1_FANCY;
  else if (u->hx == 1 && u->vy == 2)
    u->kind = UPSAMPLE_H1V2_FANCY;
  else if (u->hx == 2 && u->vy == 2 && c->width > 2)
    u->kind = UPSAMPLE_H2V2_FANCY;
  else
    u->kind = UPSAMPLE_REPLICATE;
  if (u->kind == UPSAMPLE_NONE) return FER_OK;
  /* Room for every upsampled sample, which may pass the image width. */
  size_t row_size = (size_t)c->width * (size_t)u->hx + (size_t)dec->width + 16;
  u->row = fer__malloc(row_size);
  if (u->kind == UPSAMPLE_H2V2_FANCY)
    u->colsum = fer__malloc(fer__mul_size((size_t)c->width, sizeof(int)));
  if (!u->row || (u->kind == UPSAMPLE_H2V2_FANCY && !u->colsum))
    return fer__fail(FER_ERR_OUT_OF_MEMORY,
                     "JPEG: out of memory for upsampling rows");
  return FER_OK;
}

static void upsampler_release(upsampler *u) {
  fer__free(u->row);
  fer__free(u->colsum);
}

/* YCbCr -> RGB as JFIF defines it (R = Y + 1.402 Cr', G = Y - 0.34414 Cb'
 * - 0.71414 Cr', B = Y + 1.772 Cb', with Cb' = Cb - 128), in 16-bit fixed
 * point with libjpeg's rounding: R and B terms are rounded on their own, G
 * rounds the sum of its two terms. */
typedef struct ycc_tables {
  int cr_r[256], cb_b[256];
  int32_t cr_g[256], cb_g[256];
  uint8_t clamp[1024]; /* clamp[CLAMP_OFFSET + v] = v limited to 0..255 */
} ycc_tables;

/* Y plus a colour term lies within -227..481: a table lookup clamps it
 * without branches that the data would make unpredictable. */
#define CLAMP_OFFSET 384

#define SCALE_BITS 16
#define ONE_HALF ((int32_t)1 << (SCALE_BITS - 1))
#define FIX16(x) ((int32_t)((x) * (1L << SCALE_BITS) + 0.5))

static void ycc_tables_init(ycc_tables *t) {
  for (int i = 0; i < 256; i++) {
    int32_t d = i - 128;
    t->cr_r[i] = (int)((FIX16(1.40200) * d + ONE_HALF) >> SCALE_BITS);
    t->cb_b[i] = (int)((FIX16(1.77200) * d + ONE_HALF) >> SCALE_BITS);
    t->cr_g[i] = -FIX16(0.71414) * d;
    t->cb_g[i] = -FIX16(0.34414) * d + ONE_HALF;
  }
  for (int v = -CLAMP_OFFSET; v < 1024 - CLAMP_OFFSET; v++)
    t->clamp[v + CLAMP_OFFSET] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void ycc_row(const ycc_tables *t, const uint8_t *y, const uint8_t *cb,
                    const uint8_t *cr, int width, uint8_t *out) {
  const uint8_t *clamp = t->clamp + CLAMP_OFFSET;
  for (int x = 0; x < width; x++) {
    int luma = y[x], b = cb[x], r = cr[x];
    out[3 * x] = clamp[luma + t->cr_r[r]];
    out[3 * x + 1] = clamp[luma + (int)((t->cb_g[b] + t->cr_g[r]) >> SCALE_BITS)];
    out[3 * x + 2] = clamp[luma + t->cb_b[b]];
  }
}

fer_status fer__jpeg_output(const fer__jpeg_decoder *dec, int ycc,
                            fer_image *img) {
  int planes = img->channels == 1 ? 1 : 3;
  upsampler up[3];
  fer_status st = FER_OK;
  int ready = 0;
  for (; ready < planes && st == FER_OK; ready++)
    st = upsampler_init(&up[ready], dec, &dec->comp[ready]);

  ycc_tables *tables = NULL;
  if (st == FER_OK && planes == 3 && ycc) {
    tables = fer__malloc(sizeof *tables);
    if (!tables)
      st = fer__fail(FER_ERR_OUT_OF_MEMORY, "JPEG: out of memory for colour tables");
    else
      ycc_tables_init(tables);
  }

  for (int y = 0; st == FER_OK && y < img->height; y++) {
    uint8_t *out = img->pixels + (size_t)y * img->stride;
    if (planes == 1) {
      memcpy(out, upsample_row(&up[0], y, img->width), (size_t)img->width);
      continue;
    }
    const uint8_t *c0 = upsample_row(&up[0], y, img->width);
    const uint8_t *c1 = upsample_row(&up[1], y, img->width);
    const uint8_t *c2 = upsample_row(&up[2], y, img->width);
    if (tables) {
      ycc_row(tables, c0, c1, c2, img->width, out);
    } else {
      for (int x = 0; x < img->width; x++) {
        out[3 * x] = c0[x];
        out[3 * x + 1] = c1[x];
        out[3 * x + 2] = c2[x];
      }
    }
  }

  fer__free(tables);
  for (int i = 0; i < ready; i++) upsampler_release(&up[i]);
  return st;
}
