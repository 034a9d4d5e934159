/* The fer_cascade handle: loading by content, validation, accessors. */
#include <string.h>

#include "core/core_internal.h"
#include "detect/cascade_internal.h"
#include "util/file.h"

/* Cascade files are a few MB at most; refuse absurd ones before reading. */
#define CASCADE_MAX_FILE_SIZE ((size_t)256 << 20)

fer_status fer__cascade_check(const fer_cascade *c, const char *who) {
  if (!c) return fer__fail(FER_ERR_MISUSE, "%s: cascade is NULL", who);
  if (c->magic != FER__CASCADE_MAGIC)
    return fer__fail(FER_ERR_MISUSE, "%s: not a live fer_cascade (freed?)", who);
  return FER_OK;
}

fer_status fer__cascade_alloc_arrays(fer_cascade *c, const char *what) {
  c->stages = fer__calloc((size_t)c->stage_count + 1, sizeof *c->stages);
  c->trees = fer__calloc((size_t)c->tree_count + 1, sizeof *c->trees);
  c->nodes = fer__calloc((size_t)c->node_count + 1, sizeof *c->nodes);
  c->leaves = fer__calloc((size_t)c->leaf_count + 1, sizeof *c->leaves);
  c->features = fer__calloc((size_t)c->feature_count + 1, sizeof *c->features);
  if (c->feature_type == FER_CASCADE_LBP)
    c->subsets = fer__calloc(fer__mul_size((size_t)c->node_count + 1, FER__LBP_SUBSET_WORDS),
                             sizeof *c->subsets);
  if (!c->stages || !c->trees || !c->nodes || !c->leaves || !c->features ||
      (c->feature_type == FER_CASCADE_LBP && !c->subsets))
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory for the cascade", what);
  return FER_OK;
}

void fer__cascade_destroy(fer_cascade *c) {
  if (!c) return;
  c->magic = 0;
  fer__free(c->stages);
  fer__free(c->trees);
  fer__free(c->nodes);
  fer__free(c->leaves);
  fer__free(c->subsets);
  fer__free(c->features);
  fer__free(c);
}

static int rect_inside(const fer__haar_rect *r, int tilted, int64_t w, int64_t h) {
  int64_t x = r->x, y = r->y, rw = r->width, rh = r->height;
  if (x < 0 || y < 0 || rw < 0 || rh < 0) return 0;
  if (!tilted) return x + rw <= w && y + rh <= h;
  /* The tilted rectangle's corners: (x,y), (x-h,y+h), (x+w,y+w), (x+w-h,y+w+h). */
  return x - rh >= 0 && x + rw <= w && y + rw + rh <= h;
}

fer_status fer__cascade_validate(fer_cascade *c, const char *what) {
  if (c->feature_type != FER_CASCADE_HAAR && c->feature_type != FER_CASCADE_LBP)
    return fer__fail(FER_ERR_FORMAT, "%s: unknown feature type %d", what, (int)c->feature_type);
  if (c->window_width < 1 || c->window_height < 1 ||
      c->window_width > FER__CASCADE_MAX_WINDOW || c->window_height > FER__CASCADE_MAX_WINDOW)
    return fer__fail(FER_ERR_FORMAT, "%s: window size %dx%d outside 1..%d", what,
                     (int)c->window_width, (int)c->window_height, FER__CASCADE_MAX_WINDOW);
  if (c->stage_count < 1)
    return fer__fail(FER_ERR_FORMAT, "%s: the cascade has no stages", what);
  int32_t next_tree = 0;
  for (int32_t s = 0; s < c->stage_count; s++) {
    const fer__cascade_stage *st = &c->stages[s];
    if (st->first_tree != next_tree || st->tree_count < 1 ||
        st->tree_count > c->tree_count - next_tree)
      return fer__fail(FER_ERR_FORMAT, "%s: stage %d has a bad tree range", what, (int)s);
    next_tree += st->tree_count;
  }
  if (next_tree != c->tree_count)
    return fer__fail(FER_ERR_FORMAT, "%s: %d trees but the stages use %d", what,
                     (int)c->tree_count, (int)next_tree);
  int32_t next_node = 0, next_leaf = 0, max_nodes = 0;
  for (int32_t t = 0; t < c->tree_count; t++) {
    const fer__cascade_tree *tr = &c->trees[t];
    if (tr->first_node != next_node || tr->first_leaf != next_leaf || tr->node_count < 1 ||
        tr->node_count > FER__CASCADE_MAX_NODES_PER_TREE ||
        tr->node_count > c->node_count - next_node ||
        tr->node_count + 1 > c->leaf_count - next_leaf)
      return fer__fail(FER_ERR_FORMAT, "%s: tree %d has a bad node or leaf range", what, (int)t);
    for (int32_t i = 0; i < tr->node_count; i++) {
      const fer__cascade_node *n = &c->nodes[tr->first_node + i];
      int32_t kids[2] = {n->left, n->right};
      for (int k = 0; k < 2; k++) {
        /* Children after their parent guarantee that every walk ends. */
        if (kids[k] > 0 ? (kids[k] <= i || kids[k] >= tr->node_count)
                        : (kids[k] < -tr->node_count))
          return fer__fail(FER_ERR_FORMAT, "%s: tree %d node %d has a bad %s child %d",
                           what, (int)t, (int)i, k ? "right" : "left", (int)kids[k]);
      }
      if (n->feature < 0 || n->feature >= c->feature_count)
        return fer__fail(FER_ERR_FORMAT, "%s: tree %d node %d uses feature %d of %d", what,
                         (int)t, (int)i, (int)n->feature, (int)c->feature_count);
    }
    next_node += tr->node_count;
    next_leaf += tr->node_count + 1;
    if (tr->node_count > max_nodes) max_nodes = tr->node_count;
  }
  if (next_node != c->node_count || next_leaf != c->leaf_count)
    return fer__fail(FER_ERR_FORMAT, "%s: node or leaf count does not match the trees", what);
  c->max_nodes_per_tree = max_nodes;
  c->has_tilted = 0;
  for (int32_t f = 0; f < c->feature_count; f++) {
    fer__cascade_feature *ft = &c->features[f];
    if (c->feature_type == FER_CASCADE_LBP) {
      const fer__haar_rect *r = &ft->rect[0];
      if (r->x < 0 || r->y < 0 || r->width < 1 || r->height < 1 ||
          (int64_t)r->x + 3 * (int64_t)r->width > c->window_width ||
          (int64_t)r->y + 3 * (int64_t)r->height > c->window_height)
        return fer__fail(FER_ERR_FORMAT, "%s: LBP feature %d (%d %d %d %d) leaves the %dx%d window",
                         what, (int)f, (int)r->x, (int)r->y, (int)r->width, (int)r->height,
                         (int)c->window_width, (int)c->window_height);
      continue;
    }
    ft->tilted = ft->tilted != 0;
    for (int k = 0; k < 3; k++)
      if (!rect_inside(&ft->rect[k], ft->tilted, c->window_width, c->window_height))
        return fer__fail(FER_ERR_FORMAT, "%s: feature %d rectangle %d (%d %d %d %d%s) leaves the %dx%d window",
                         what, (int)f, k, (int)ft->rect[k].x, (int)ft->rect[k].y,
                         (int)ft->rect[k].width, (int)ft->rect[k].height,
                         ft->tilted ? ", tilted" : "", (int)c->window_width,
                         (int)c->window_height);
    if (ft->tilted) c->has_tilted = 1;
  }
  c->magic = FER__CASCADE_MAGIC;
  return FER_OK;
}

fer_status fer_cascade_load_memory(const void *data, size_t size, fer_cascade **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_load_memory: out is NULL");
  *out = NULL;
  if (!data && size > 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_load_memory: data is NULL");
  if (fer__cascade_binary_sniff(data, size))
    return fer__cascade_from_binary(data, size, "<memory>", out);
  return fer__cascade_from_xml(data, size, "<memory>", out);
}

fer_status fer_cascade_load(const char *path, fer_cascade **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_load: out is NULL");
  *out = NULL;
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_load: path is NULL");
  uint8_t *data;
  size_t size;
  fer_status st = fer__read_file(path, CASCADE_MAX_FILE_SIZE, &data, &size);
  if (st != FER_OK) return st;
  if (fer__cascade_binary_sniff(data, size))
    st = fer__cascade_from_binary(data, size, path, out);
  else
    st = fer__cascade_from_xml(data, size, path, out);
  fer__free(data);
  return st;
}

void fer_cascade_free(fer_cascade *cascade) {
  if (!cascade || cascade->magic != FER__CASCADE_MAGIC) return;
  fer__cascade_destroy(cascade);
}

int fer_cascade_window_width(const fer_cascade *c) {
  return c && c->magic == FER__CASCADE_MAGIC ? c->window_width : 0;
}
int fer_cascade_window_height(const fer_cascade *c) {
  return c && c->magic == FER__CASCADE_MAGIC ? c->window_height : 0;
}
int fer_cascade_stage_count(const fer_cascade *c) {
  return c && c->magic == FER__CASCADE_MAGIC ? c->stage_count : 0;
}
int fer_cascade_feature_type(const fer_cascade *c) {
  return c && c->magic == FER__CASCADE_MAGIC ? c->feature_type : 0;
}
