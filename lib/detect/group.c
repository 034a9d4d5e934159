/*
 * cv::groupRectangles, as detectMultiScale applies it:
 *
 *  1. two windows are similar when every edge differs by at most
 *     delta = eps * (min(w1, w2) + min(h1, h2)) / 2;
 *  2. groups are the connected components of "similar" (union-find, visited
 *     in candidate order so groups come out in order of first member);
 *  3. a group's box is the mean of its members, each coordinate rounded as
 *     OpenCV does (float sum * (1 / n), round half to even);
 *  4. groups with min_neighbors or fewer members are dropped;
 *  5. a group lying inside another kept group (within eps of that group's
 *     size) is dropped when the other has more than max(3, n) members, or
 *     when it has fewer than 3 members itself.
 * The score of a group is the best score of its members (detectMultiScale3's
 * levelWeights).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "core/core_internal.h"
#include "detect/detect_internal.h"

typedef struct group_acc {
  int64_t x, y, w, h;
  int32_t members;
  double best_score;
  fer_rect box;
} group_acc;

size_t fer__group_scratch_size(size_t n) {
  return n * (2 * sizeof(int32_t) + sizeof(group_acc)) + 16;
}

static int similar(const fer_rect *a, const fer_rect *b, double eps) {
  double delta = eps * (FER__MIN(a->width, b->width) + FER__MIN(a->height, b->height)) * 0.5;
  return fabs((double)a->x - b->x) <= delta && fabs((double)a->y - b->y) <= delta &&
         fabs((double)a->x + a->width - b->x - b->width) <= delta &&
         fabs((double)a->y + a->height - b->y - b->height) <= delta;
}

static int32_t find_root(int32_t *parent, int32_t i) {
  int32_t root = i;
  while (parent[root] >= 0) root = parent[root];
  while (parent[i] >= 0) { /* path compression */
    int32_t next = parent[i];
    parent[i] = root;
    i = next;
  }
  return root;
}

static int32_t round_mean(int64_t sum, int32_t n) {
  float inv = 1.f / (float)n;
  return (int32_t)lrintf((float)sum * inv);
}

size_t fer__group_rectangles(const fer__candidate *cand, size_t n, int min_neighbors, double eps,
                             void *scratch, fer_detection *out) {
  if (min_neighbors <= 0 || n == 0) {
    for (size_t i = 0; i < n; i++) {
      out[i].box = cand[i].box;
      out[i].neighbors = 1;
      out[i].reserved = 0;
      out[i].score = cand[i].score;
    }
    return n;
  }
  int32_t *parent = scratch;
  int32_t *label = parent + n;
  group_acc *groups = (group_acc *)(void *)(label + n);
  for (size_t i = 0; i < n; i++) parent[i] = -1;
  /* Union by size is enough: only the components matter, and labels are
   * assigned below in order of first member. */
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      if (!similar(&cand[i].box, &cand[j].box, eps)) continue;
      int32_t ri = find_root(parent, (int32_t)i), rj = find_root(parent, (int32_t)j);
      if (ri == rj) continue;
      if (parent[ri] > parent[rj]) { /* ri is the smaller tree (-size) */
        int32_t t = ri;
        ri = rj;
        rj = t;
      }
      parent[ri] += parent[rj];
      parent[rj] = ri;
    }
  size_t classes = 0;
  for (size_t i = 0; i < n; i++) label[i] = -1;
  for (size_t i = 0; i < n; i++) {
    int32_t root = find_root(parent, (int32_t)i);
    if (label[root] < 0) {
      label[root] = (int32_t)classes;
      group_acc *g = &groups[classes++];
      g->x = g->y = g->w = g->h = 0;
      g->members = 0;
      g->best_score = -DBL_MAX;
    }
    group_acc *g = &groups[label[root]];
    g->x += cand[i].box.x;
    g->y += cand[i].box.y;
    g->w += cand[i].box.width;
    g->h += cand[i].box.height;
    g->members++;
    if (cand[i].score > g->best_score) g->best_score = cand[i].score;
  }
  for (size_t k = 0; k < classes; k++) {
    group_acc *g = &groups[k];
    g->box.x = round_mean(g->x, g->members);
    g->box.y = round_mean(g->y, g->members);
    g->box.width = round_mean(g->w, g->members);
    g->box.height = round_mean(g->h, g->members);
  }
  size_t kept = 0;
  for (size_t i = 0; i < classes; i++) {
    const group_acc *g1 = &groups[i];
    int32_t n1 = g1->members;
    if (n1 <= min_neighbors) continue;
    const fer_rect *r1 = &g1->box;
    size_t j;
    for (j = 0; j < classes; j++) {
      const group_acc *g2 = &groups[j];
      int32_t n2 = g2->members;
      if (j == i || n2 <= min_neighbors) continue;
      const fer_rect *r2 = &g2->box;
      int32_t dx = (int32_t)lrint(r2->width * eps);
      int32_t dy = (int32_t)lrint(r2->height * eps);
      if (r1->x >= r2->x - dx && r1->y >= r2->y - dy &&
          r1->x + r1->width <= r2->x + r2->width + dx &&
          r1->y + r1->height <= r2->y + r2->height + dy && (n2 > FER__MAX(3, n1) || n1 < 3))
        break;
    }
    if (j == classes) {
      out[kept].box = *r1;
      out[kept].neighbors = n1;
      out[kept].reserved = 0;
      out[kept].score = g1->best_score;
      kept++;
    }
  }
  return kept;
}
