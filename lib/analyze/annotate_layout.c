/*
 * Label placement for fer_analyzer_annotate (annotate_layout.h).
 *
 * Greedy, one face at a time from the top of the image down: each label
 * takes the cheapest free spot among a few candidates. Their x comes from
 * the box (left-aligned, right-aligned, centred), the image edges and the
 * sides of labels already placed nearby; their y from the box (above,
 * below, inside at the top or bottom), the image edges and the top and
 * bottom of those labels. So a label can slide along past a neighbour's
 * or stack on it. A spot is free when it is inside the image and touches
 * no placed label. Among free spots, one that keeps the label over its
 * box wins, then one that covers no face, then the one nearest to the
 * preferred spot (above the box, left-aligned), in pixels moved.
 */
#include "analyze/annotate_layout.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"

/* The built-in font: 8 x 8 pixels a character at scale 1 (lib/image/font.c). */
#define GLYPH 8
/* Labels placed near a box that lend their edges as candidates, at most;
 * in a crowd the nearest few are the ones that matter. */
#define MAX_NEIGHBOURS 48

/* Rectangles as [x0, x1) x [y0, y1) in 64 bits: caller boxes may lie
 * anywhere, and x + width must not overflow. */
typedef struct area {
  long long x0, y0, x1, y1;
} area;

static area area_of(const fer_rect *r) {
  return (area){r->x, r->y, (long long)r->x + r->width, (long long)r->y + r->height};
}

static int intersect(area a, area b) {
  return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

static long long clamp_ll(long long v, long long lo, long long hi) {
  return v < lo ? lo : v > hi ? hi : v;
}

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

static int pad_for(int scale) { return 2 * scale; }

static long long width_for(size_t length, int scale) {
  return (long long)length * GLYPH * scale + 2LL * pad_for(scale);
}

static long long height_for(int scale) { return (long long)GLYPH * scale + 2LL * pad_for(scale); }

void fer__annotate_sizes(int width, int height, const fer_rect *box, int *thickness,
                         int *scale) {
  int image_side = width < height ? width : height;
  int face_side = box->width < box->height ? box->width : box->height;
  if (face_side < 0) face_side = 0;
  /* A photo shown shrunk to fit a screen about 800 pixels high still shows
   * 8-pixel-high text at scale image_side / 480 at 13 pixels or more. A
   * label "happy 87%" at face_side / 100 is about 3/4 of the face wide. */
  double t = fmax(image_side / 320.0, face_side / 60.0);
  double s = fmax(image_side / 480.0, face_side / 100.0);
  *thickness = (int)lround(fmin(fmax(t, 1.0), 64.0));
  *scale = (int)lround(fmin(fmax(s, 1.0), 64.0));
}

/* A face's place in reading order: top to bottom, then left to right,
 * then input order. */
typedef struct reading_key {
  int y, x;
  size_t index;
} reading_key;

static int by_reading_order(const void *a, const void *b) {
  const reading_key *p = a, *q = b;
  if (p->y != q->y) return p->y < q->y ? -1 : 1;
  if (p->x != q->x) return p->x < q->x ? -1 : 1;
  return p->index < q->index ? -1 : p->index > q->index;
}

/* What a search sees: the image, the faces and the labels placed so far
 * (those of faces order[0 .. placed)). */
typedef struct layout {
  int width, height;
  const fer_face *faces;
  size_t count;
  const fer__label *labels;
  const reading_key *order;
  size_t placed;
} layout;

/* A candidate spot and its rank: lower tier first, then lower cost. */
typedef struct spot {
  int found, tier;
  long long cost, x, y;
} spot;

static int touches_label(const layout *l, area r) {
  for (size_t k = 0; k < l->placed; k++) {
    const fer__label *other = &l->labels[l->order[k].index];
    if (other->scale > 0 && intersect(r, area_of(&other->rect))) return 1;
  }
  return 0;
}

static int covers_face(const layout *l, area r) {
  for (size_t i = 0; i < l->count; i++)
    if (intersect(r, area_of(&l->faces[i].box))) return 1;
  return 0;
}

/* Over its box: at least half of the label's width (or of the box's,
 * when narrower) above or below the box, no more than two label heights
 * away from it. */
static int attached(area r, area box, long long h) {
  long long overlap = (r.x1 < box.x1 ? r.x1 : box.x1) - (r.x0 > box.x0 ? r.x0 : box.x0);
  long long narrower = r.x1 - r.x0 < box.x1 - box.x0 ? r.x1 - r.x0 : box.x1 - box.x0;
  return overlap > 0 && 2 * overlap >= narrower && r.y0 >= box.y0 - 2 * h &&
         r.y1 <= box.y1 + 2 * h;
}

/* The best free w x h spot for the label of face `self`; spots that leave
 * the box only when `detached_ok`. */
static spot best_spot(const layout *l, size_t self, long long w, long long h, int detached_ok) {
  spot best = {0, 0, 0, 0, 0};
  if (w > l->width || h > l->height) return best;
  area box = area_of(&l->faces[self].box);
  long long xs[5 + 2 * MAX_NEIGHBOURS], ys[6 + 2 * MAX_NEIGHBOURS];
  int nx = 0, ny = 0;
  xs[nx++] = box.x0;
  xs[nx++] = box.x1 - w;
  xs[nx++] = box.x0 + (box.x1 - box.x0 - w) / 2;
  xs[nx++] = 0;
  xs[nx++] = l->width - w;
  ys[ny++] = box.y0 - h;
  ys[ny++] = box.y1;
  ys[ny++] = box.y0;
  ys[ny++] = box.y1 - h;
  ys[ny++] = 0;
  ys[ny++] = l->height - h;
  area near = {box.x0 - 2 * w, box.y0 - 3 * h, box.x1 + 2 * w, box.y1 + 3 * h};
  for (size_t k = 0, used = 0; k < l->placed && used < MAX_NEIGHBOURS; k++) {
    const fer__label *other = &l->labels[l->order[k].index];
    area r = area_of(&other->rect);
    if (other->scale == 0 || !intersect(r, near)) continue;
    xs[nx++] = r.x0 - w;
    xs[nx++] = r.x1;
    ys[ny++] = r.y0 - h;
    ys[ny++] = r.y1;
    used++;
  }
  long long preferred_x = clamp_ll(box.x0, 0, l->width - w), preferred_y = box.y0 - h;
  for (int i = 0; i < nx; i++)
    for (int j = 0; j < ny; j++) {
      long long x = clamp_ll(xs[i], 0, l->width - w), y = clamp_ll(ys[j], 0, l->height - h);
      area r = {x, y, x + w, y + h};
      int on_box = attached(r, box, h);
      if (!on_box && !detached_ok) continue;
      long long cost = llabs(x - preferred_x) + llabs(y - preferred_y);
      int tier = on_box ? 0 : 2; /* + 1 below when it covers a face */
      if (best.found && (tier > best.tier || (tier == best.tier && cost >= best.cost)))
        continue; /* cannot win, whatever it covers */
      tier += covers_face(l, r);
      if (best.found && (tier > best.tier || (tier == best.tier && cost >= best.cost))) continue;
      if (touches_label(l, r)) continue;
      best = (spot){1, tier, cost, x, y};
    }
  return best;
}

/* Takes `s` for the label at `scale` with the first `length` bytes. */
static void settle(fer__label *label, spot s, size_t length, int scale) {
  label->text[length] = '\0';
  label->scale = scale;
  label->rect = (fer_rect){(int)s.x, (int)s.y, (int)width_for(length, scale),
                           (int)height_for(scale)};
  label->text_x = label->rect.x + pad_for(scale);
  label->text_y = label->rect.y + pad_for(scale);
}

/* The largest scale up to `preferred` at which `length` bytes fit the
 * image; 0 when not even scale 1 does. */
static int fitting_scale(const layout *l, size_t length, int preferred) {
  int scale = preferred;
  while (scale > 0 && (width_for(length, scale) > l->width || height_for(scale) > l->height))
    scale--;
  return scale;
}

static void place(const layout *l, size_t self, fer__label *label) {
  int thickness, preferred;
  fer__annotate_sizes(l->width, l->height, &l->faces[self].box, &thickness, &preferred);
  /* The whole text, then without its last word ("87%"), then cut to the
   * image width: each tried only when the one before found no room. */
  size_t lengths[3], variants = 0, full = strnlen(label->text, FER__LABEL_TEXT_SIZE - 1);
  lengths[variants++] = full;
  size_t words = full; /* up to the last space, and before the spaces there */
  while (words > 0 && label->text[words - 1] != ' ') words--;
  while (words > 0 && label->text[words - 1] == ' ') words--;
  if (words > 0) lengths[variants++] = words;
  long long cut = l->width < 2 * pad_for(1) ? 0 : (l->width - 2 * pad_for(1)) / GLYPH;
  if (cut >= 1 && (size_t)cut < lengths[variants - 1]) lengths[variants++] = (size_t)cut;
  for (size_t v = 0; v < variants; v++) {
    size_t length = lengths[v];
    int scale = length ? fitting_scale(l, length, preferred) : 0;
    if (scale == 0) continue;
    for (;;) {
      spot s = best_spot(l, self, width_for(length, scale), height_for(scale), 0);
      if (s.found) {
        settle(label, s, length, scale);
        return;
      }
      if (scale == 1) break;
      scale = clamp_int(scale * 2 / 3, 1, scale - 1);
    }
    spot s = best_spot(l, self, width_for(length, 1), height_for(1), 1);
    if (s.found) {
      settle(label, s, length, 1);
      return;
    }
  }
  label->text[0] = '\0';
  label->scale = 0;
  label->rect = (fer_rect){0, 0, 0, 0};
  label->text_x = label->text_y = 0;
}

fer_status fer__annotate_layout(int width, int height, const fer_face *faces, size_t count,
                                fer__label *labels) {
  if (count == 0) return FER_OK;
  reading_key *order = fer__calloc(count, sizeof *order);
  if (!order)
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "annotate: out of memory for %zu labels", count);
  for (size_t i = 0; i < count; i++) order[i] = (reading_key){faces[i].box.y, faces[i].box.x, i};
  qsort(order, count, sizeof *order, by_reading_order);
  layout l = {width, height, faces, count, labels, order, 0};
  for (; l.placed < count; l.placed++) {
    size_t i = order[l.placed].index;
    place(&l, i, &labels[i]);
  }
  fer__free(order);
  return FER_OK;
}
