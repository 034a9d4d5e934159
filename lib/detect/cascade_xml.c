/*
 * OpenCV cascade XML -> fer_cascade, for both layouts OpenCV 4 reads:
 *
 *  - current (opencv_traincascade, type_id "opencv-cascade-classifier"):
 *    stageType BOOST, featureType HAAR or LBP, stages of weakClassifiers
 *    whose internalNodes hold "left right feature threshold" (Haar) or
 *    "left right feature subset[8]" (LBP) per node, and leafValues;
 *  - old (opencv_haartraining, type_id "opencv-haar-classifier"): stages of
 *    trees of nodes, each node with its own feature, threshold and
 *    left_val/left_node, right_val/right_node. Like OpenCV 4's converter we
 *    number leaves in the order they appear and run stages one after the
 *    other: <parent>/<next> (the stage tree of the *_tree cascades) are read
 *    and checked but do not change the order, exactly as in OpenCV 4.
 *
 * Numbers are read as doubles and narrowed to float where OpenCV stores
 * floats, and OpenCV's 1e-5 is subtracted from stage thresholds, so a
 * cascade loaded here holds the very values OpenCV evaluates.
 */
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core_internal.h"
#include "detect/cascade_internal.h"
#include "util/decimal.h"
#include "util/xml.h"

/* OpenCV subtracts this from every stage threshold when it loads a cascade. */
#define STAGE_THRESHOLD_EPS 1e-5f

typedef struct builder {
  const fer__xml_doc *doc;
  const char *name;
  fer_cascade *c;
  int cap_stages, cap_trees, cap_nodes, cap_leaves, cap_features;
} builder;

static fer_status at(const builder *b, const fer__xml_node *n, fer_status st,
                     const char *fmt, ...) FER__PRINTF(4, 5);
static fer_status at(const builder *b, const fer__xml_node *n, fer_status st,
                     const char *fmt, ...) {
  char detail[400];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return fer__fail(st, "%s:%d: %s", b->name, n ? n->line : 0, detail);
}

static fer_status grow(const builder *b, void **array, int *cap, int need,
                       size_t elem) {
  if (need <= *cap) return FER_OK;
  int next = *cap ? *cap : 64;
  while (next < need) next *= 2;
  void *grown = fer__realloc(*array, fer__mul_size((size_t)next, elem));
  if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", b->name);
  /* New slots start zeroed so a half-built cascade frees cleanly. */
  memset((char *)grown + (size_t)*cap * elem, 0, (size_t)(next - *cap) * elem);
  *array = grown;
  *cap = next;
  return FER_OK;
}

/* ---- numbers in element text ------------------------------------------- */

/* Reads the next whitespace-separated number of `*p`; 1 on success, 0 at
 * the end, -1 on a token that is not a number. */
static int next_number(const char **p, double *value) {
  const char *s = *p;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  if (!*s) {
    *p = s;
    return 0;
  }
  /* Not strtod: it reads "0.5" as 0 under a comma-decimal locale. */
  const char *end;
  double v;
  fer__parse_double(s, &end, &v);
  if (end == s || (*end && *end != ' ' && *end != '\t' && *end != '\n' && *end != '\r'))
    return -1;
  if (!isfinite(v)) return -1;
  *value = v;
  *p = end;
  return 1;
}

static int count_numbers(const char *text) {
  int n = 0;
  double v;
  int r;
  while ((r = next_number(&text, &v)) == 1) n++;
  return r < 0 ? -1 : n;
}

/* The whole text of `n` as one number. */
static fer_status one_number(const builder *b, const fer__xml_node *n, double *value) {
  const char *p = n->text;
  if (next_number(&p, value) != 1)
    return at(b, n, FER_ERR_FORMAT, "<%s> must hold a number", n->name);
  double extra;
  if (next_number(&p, &extra) != 0)
    return at(b, n, FER_ERR_FORMAT, "<%s> must hold a single number", n->name);
  return FER_OK;
}

static int is_int32(double v) {
  return v == floor(v) && v >= -2147483648.0 && v <= 2147483647.0;
}

static fer_status child_number(const builder *b, const fer__xml_node *parent,
                               const char *name, double *value) {
  const fer__xml_node *n = fer__xml_child(b->doc, parent, name);
  if (!n) return at(b, parent, FER_ERR_FORMAT, "<%s> lacks <%s>", parent->name, name);
  return one_number(b, n, value);
}

static fer_status child_int(const builder *b, const fer__xml_node *parent,
                            const char *name, int32_t *value) {
  double v;
  fer_status st = child_number(b, parent, name, &v);
  if (st != FER_OK) return st;
  if (!is_int32(v))
    return at(b, fer__xml_child(b->doc, parent, name), FER_ERR_FORMAT,
              "<%s> must be an integer", name);
  *value = (int32_t)v;
  return FER_OK;
}

/* Text of `n` without surrounding whitespace, compared with `word`. */
static int text_is(const fer__xml_node *n, const char *word) {
  const char *s = n->text;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  size_t len = strlen(word);
  if (strncmp(s, word, len) != 0) return 0;
  s += len;
  while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
  return *s == '\0';
}

/* ---- building ------------------------------------------------------------ */

static fer_status add_stage(builder *b, float threshold, fer__cascade_stage **out) {
  fer_cascade *c = b->c;
  if (c->stage_count >= FER__CASCADE_MAX_STAGES)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: more than %d stages", b->name, FER__CASCADE_MAX_STAGES);
  fer_status st = grow(b, (void **)&c->stages, &b->cap_stages, c->stage_count + 1, sizeof *c->stages);
  if (st != FER_OK) return st;
  fer__cascade_stage *s = &c->stages[c->stage_count++];
  s->first_tree = c->tree_count;
  s->tree_count = 0;
  s->threshold = threshold - STAGE_THRESHOLD_EPS;
  *out = s;
  return FER_OK;
}

static fer_status add_tree(builder *b, int node_count) {
  fer_cascade *c = b->c;
  if (c->tree_count >= FER__CASCADE_MAX_TREES)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: more than %d weak classifiers", b->name,
                     FER__CASCADE_MAX_TREES);
  fer_status st = grow(b, (void **)&c->trees, &b->cap_trees, c->tree_count + 1, sizeof *c->trees);
  if (st == FER_OK)
    st = grow(b, (void **)&c->nodes, &b->cap_nodes, c->node_count + node_count, sizeof *c->nodes);
  if (st == FER_OK)
    st = grow(b, (void **)&c->leaves, &b->cap_leaves, c->leaf_count + node_count + 1,
              sizeof *c->leaves);
  if (st == FER_OK && c->feature_type == FER_CASCADE_LBP) {
    int cap = b->cap_nodes; /* subsets follow the node capacity */
    uint32_t *grown = fer__realloc(c->subsets, fer__mul_size((size_t)cap, FER__LBP_SUBSET_WORDS * sizeof(uint32_t)));
    if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", b->name);
    c->subsets = grown;
  }
  if (st != FER_OK) return st;
  fer__cascade_tree *t = &c->trees[c->tree_count++];
  t->first_node = c->node_count;
  t->node_count = node_count;
  t->first_leaf = c->leaf_count;
  c->stages[c->stage_count - 1].tree_count++;
  return FER_OK;
}

static fer_status add_feature(builder *b, fer__cascade_feature **out) {
  fer_cascade *c = b->c;
  if (c->feature_count >= FER__CASCADE_MAX_FEATURES)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: more than %d features", b->name,
                     FER__CASCADE_MAX_FEATURES);
  fer_status st = grow(b, (void **)&c->features, &b->cap_features, c->feature_count + 1,
                       sizeof *c->features);
  if (st != FER_OK) return st;
  *out = &c->features[c->feature_count++];
  return FER_OK;
}

/* <rects><_>x y w h weight</_>...</rects> and <tilted>, in both layouts. */
static fer_status read_haar_feature(builder *b, const fer__xml_node *fnode) {
  fer__cascade_feature *f;
  fer_status st = add_feature(b, &f);
  if (st != FER_OK) return st;
  const fer__xml_node *rects = fer__xml_child(b->doc, fnode, "rects");
  if (!rects) return at(b, fnode, FER_ERR_FORMAT, "feature lacks <rects>");
  int k = 0;
  for (const fer__xml_node *r = fer__xml_first_child(b->doc, rects); r;
       r = fer__xml_next(b->doc, r), k++) {
    if (k == 3) return at(b, r, FER_ERR_UNSUPPORTED, "a Haar feature with more than 3 rectangles");
    double v[5];
    const char *p = r->text;
    for (int i = 0; i < 5; i++)
      if (next_number(&p, &v[i]) != 1 || (i < 4 && !is_int32(v[i])))
        return at(b, r, FER_ERR_FORMAT, "a rectangle needs \"x y width height weight\"");
    if (next_number(&p, &v[0]) != 0)
      return at(b, r, FER_ERR_FORMAT, "a rectangle has more than 5 numbers");
    f->rect[k].x = (int32_t)v[0];
    f->rect[k].y = (int32_t)v[1];
    f->rect[k].width = (int32_t)v[2];
    f->rect[k].height = (int32_t)v[3];
    f->rect[k].weight = (float)v[4];
  }
  if (k < 1) return at(b, rects, FER_ERR_FORMAT, "a Haar feature without rectangles");
  const fer__xml_node *tilted = fer__xml_child(b->doc, fnode, "tilted");
  if (tilted) {
    double t;
    st = one_number(b, tilted, &t);
    if (st != FER_OK) return st;
    f->tilted = t != 0;
  }
  return FER_OK;
}

static fer_status read_lbp_feature(builder *b, const fer__xml_node *fnode) {
  fer__cascade_feature *f;
  fer_status st = add_feature(b, &f);
  if (st != FER_OK) return st;
  const fer__xml_node *rect = fer__xml_child(b->doc, fnode, "rect");
  if (!rect) return at(b, fnode, FER_ERR_FORMAT, "LBP feature lacks <rect>");
  double v[4];
  const char *p = rect->text;
  for (int i = 0; i < 4; i++)
    if (next_number(&p, &v[i]) != 1 || !is_int32(v[i]))
      return at(b, rect, FER_ERR_FORMAT, "<rect> needs \"x y width height\"");
  f->rect[0].x = (int32_t)v[0];
  f->rect[0].y = (int32_t)v[1];
  f->rect[0].width = (int32_t)v[2];
  f->rect[0].height = (int32_t)v[3];
  return FER_OK;
}

/* ---- current layout ------------------------------------------------------ */

static fer_status read_weak(builder *b, const fer__xml_node *weak, int node_step) {
  fer_cascade *c = b->c;
  const fer__xml_node *inodes = fer__xml_child(b->doc, weak, "internalNodes");
  const fer__xml_node *leaves = fer__xml_child(b->doc, weak, "leafValues");
  if (!inodes || !leaves)
    return at(b, weak, FER_ERR_FORMAT, "weak classifier lacks <internalNodes> or <leafValues>");
  int values = count_numbers(inodes->text);
  if (values <= 0 || values % node_step != 0)
    return at(b, inodes, FER_ERR_FORMAT, "<internalNodes> must hold groups of %d numbers",
              node_step);
  int node_count = values / node_step;
  if (node_count > FER__CASCADE_MAX_NODES_PER_TREE)
    return at(b, inodes, FER_ERR_TOO_LARGE, "a tree with %d nodes", node_count);
  if (count_numbers(leaves->text) != node_count + 1)
    return at(b, leaves, FER_ERR_FORMAT, "<leafValues> must hold %d numbers (nodes + 1)",
              node_count + 1);
  fer_status st = add_tree(b, node_count);
  if (st != FER_OK) return st;
  const char *p = inodes->text;
  for (int i = 0; i < node_count; i++) {
    fer__cascade_node *n = &c->nodes[c->node_count + i];
    double v;
    int32_t ints[3];
    for (int k = 0; k < 3; k++) {
      next_number(&p, &v);
      if (!is_int32(v))
        return at(b, inodes, FER_ERR_FORMAT, "node %d: left, right and feature must be integers", i);
      ints[k] = (int32_t)v;
    }
    n->left = ints[0];
    n->right = ints[1];
    n->feature = ints[2];
    if (c->feature_type == FER_CASCADE_LBP) {
      uint32_t *subset = &c->subsets[(size_t)(c->node_count + i) * FER__LBP_SUBSET_WORDS];
      for (int k = 0; k < FER__LBP_SUBSET_WORDS; k++) {
        next_number(&p, &v);
        if (!is_int32(v))
          return at(b, inodes, FER_ERR_FORMAT, "node %d: subset words must be 32-bit integers", i);
        subset[k] = (uint32_t)(int32_t)v;
      }
      n->threshold = 0.f;
    } else {
      next_number(&p, &v);
      n->threshold = (float)v;
    }
  }
  p = leaves->text;
  for (int i = 0; i <= node_count; i++) {
    double v;
    next_number(&p, &v);
    c->leaves[c->leaf_count + i] = (float)v;
  }
  c->node_count += node_count;
  c->leaf_count += node_count + 1;
  return FER_OK;
}

static fer_status read_current(builder *b, const fer__xml_node *root) {
  fer_cascade *c = b->c;
  const fer__xml_node *n = fer__xml_child(b->doc, root, "stageType");
  if (!n) return at(b, root, FER_ERR_FORMAT, "<%s> lacks <stageType>", root->name);
  if (!text_is(n, "BOOST"))
    return at(b, n, FER_ERR_UNSUPPORTED, "stage type \"%s\" (only BOOST is supported)", n->text);
  n = fer__xml_child(b->doc, root, "featureType");
  if (!n) return at(b, root, FER_ERR_FORMAT, "<%s> lacks <featureType>", root->name);
  if (text_is(n, "HAAR")) c->feature_type = FER_CASCADE_HAAR;
  else if (text_is(n, "LBP")) c->feature_type = FER_CASCADE_LBP;
  else return at(b, n, FER_ERR_UNSUPPORTED, "feature type \"%s\" (HAAR and LBP are supported)", n->text);
  fer_status st = child_int(b, root, "width", &c->window_width);
  if (st == FER_OK) st = child_int(b, root, "height", &c->window_height);
  if (st != FER_OK) return st;
  if (c->window_width < 1 || c->window_height < 1 || c->window_width > FER__CASCADE_MAX_WINDOW ||
      c->window_height > FER__CASCADE_MAX_WINDOW)
    return at(b, root, FER_ERR_FORMAT, "window size %dx%d outside 1..%d", (int)c->window_width,
              (int)c->window_height, FER__CASCADE_MAX_WINDOW);
  const fer__xml_node *fparams = fer__xml_child(b->doc, root, "featureParams");
  if (!fparams) return at(b, root, FER_ERR_FORMAT, "<%s> lacks <featureParams>", root->name);
  int32_t max_cat = 0;
  st = child_int(b, fparams, "maxCatCount", &max_cat);
  if (st != FER_OK) return st;
  if ((c->feature_type == FER_CASCADE_HAAR && max_cat != 0) ||
      (c->feature_type == FER_CASCADE_LBP && max_cat != 256))
    return at(b, fparams, FER_ERR_UNSUPPORTED, "maxCatCount %d with %s features", (int)max_cat,
              c->feature_type == FER_CASCADE_LBP ? "LBP" : "HAAR");
  int node_step = c->feature_type == FER_CASCADE_LBP ? 3 + FER__LBP_SUBSET_WORDS : 4;

  const fer__xml_node *stages = fer__xml_child(b->doc, root, "stages");
  if (!stages) return at(b, root, FER_ERR_FORMAT, "<%s> lacks <stages>", root->name);
  for (const fer__xml_node *s = fer__xml_first_child(b->doc, stages); s; s = fer__xml_next(b->doc, s)) {
    double threshold;
    st = child_number(b, s, "stageThreshold", &threshold);
    if (st != FER_OK) return st;
    fer__cascade_stage *stage;
    st = add_stage(b, (float)threshold, &stage);
    if (st != FER_OK) return st;
    const fer__xml_node *weaks = fer__xml_child(b->doc, s, "weakClassifiers");
    if (!weaks || !fer__xml_first_child(b->doc, weaks))
      return at(b, s, FER_ERR_FORMAT, "stage %d has no <weakClassifiers>", (int)c->stage_count - 1);
    for (const fer__xml_node *w = fer__xml_first_child(b->doc, weaks); w; w = fer__xml_next(b->doc, w)) {
      st = read_weak(b, w, node_step);
      if (st != FER_OK) return st;
    }
  }
  const fer__xml_node *features = fer__xml_child(b->doc, root, "features");
  if (!features) return at(b, root, FER_ERR_FORMAT, "<%s> lacks <features>", root->name);
  for (const fer__xml_node *f = fer__xml_first_child(b->doc, features); f; f = fer__xml_next(b->doc, f)) {
    st = c->feature_type == FER_CASCADE_LBP ? read_lbp_feature(b, f) : read_haar_feature(b, f);
    if (st != FER_OK) return st;
  }
  return FER_OK;
}

/* ---- old layout ---------------------------------------------------------- */

static fer_status read_old_child(builder *b, const fer__xml_node *tnode, int side,
                                 int node_count, fer__cascade_node *n, int *leaves) {
  const char *val_name = side ? "right_val" : "left_val";
  const char *node_name = side ? "right_node" : "left_node";
  const fer__xml_node *val = fer__xml_child(b->doc, tnode, val_name);
  int32_t ref;
  if (val) {
    double v;
    fer_status st = one_number(b, val, &v);
    if (st != FER_OK) return st;
    if (*leaves > node_count)
      return at(b, val, FER_ERR_FORMAT, "a tree of %d nodes with more than %d leaves",
                node_count, node_count + 1);
    b->c->leaves[b->c->leaf_count + *leaves] = (float)v;
    ref = -*leaves;
    (*leaves)++;
  } else {
    fer_status st = child_int(b, tnode, node_name, &ref);
    if (st != FER_OK)
      return at(b, tnode, FER_ERR_FORMAT, "tree node lacks <%s> and <%s>", val_name, node_name);
    if (ref <= 0) return at(b, tnode, FER_ERR_FORMAT, "<%s> must be a positive node index", node_name);
  }
  if (side) n->right = ref;
  else n->left = ref;
  return FER_OK;
}

static fer_status read_old(builder *b, const fer__xml_node *root) {
  fer_cascade *c = b->c;
  c->feature_type = FER_CASCADE_HAAR;
  const fer__xml_node *size = fer__xml_child(b->doc, root, "size");
  if (!size) return at(b, root, FER_ERR_FORMAT, "<%s> lacks <size>", root->name);
  const char *p = size->text;
  double w, h, extra;
  if (next_number(&p, &w) != 1 || next_number(&p, &h) != 1 || next_number(&p, &extra) != 0 ||
      !is_int32(w) || !is_int32(h))
    return at(b, size, FER_ERR_FORMAT, "<size> must be \"width height\"");
  c->window_width = (int32_t)w;
  c->window_height = (int32_t)h;
  if (c->window_width < 1 || c->window_height < 1 || c->window_width > FER__CASCADE_MAX_WINDOW ||
      c->window_height > FER__CASCADE_MAX_WINDOW)
    return at(b, size, FER_ERR_FORMAT, "window size %dx%d outside 1..%d", (int)c->window_width,
              (int)c->window_height, FER__CASCADE_MAX_WINDOW);
  const fer__xml_node *stages = fer__xml_child(b->doc, root, "stages");
  if (!stages) return at(b, root, FER_ERR_FORMAT, "<%s> lacks <stages>", root->name);
  int index = 0;
  for (const fer__xml_node *s = fer__xml_first_child(b->doc, stages); s;
       s = fer__xml_next(b->doc, s), index++) {
    double threshold;
    fer_status st = child_number(b, s, "stage_threshold", &threshold);
    if (st != FER_OK) return st;
    /* The stage tree: a parent must come earlier; OpenCV 4 ignores both. */
    int32_t parent = index - 1, next = -1;
    if (fer__xml_child(b->doc, s, "parent") && (st = child_int(b, s, "parent", &parent)) != FER_OK)
      return st;
    if (fer__xml_child(b->doc, s, "next") && (st = child_int(b, s, "next", &next)) != FER_OK)
      return st;
    if (parent < -1 || parent >= index || next < -1)
      return at(b, s, FER_ERR_FORMAT, "stage %d has a bad <parent> %d or <next> %d", index,
                (int)parent, (int)next);
    fer__cascade_stage *stage;
    st = add_stage(b, (float)threshold, &stage);
    if (st != FER_OK) return st;
    const fer__xml_node *trees = fer__xml_child(b->doc, s, "trees");
    if (!trees || !fer__xml_first_child(b->doc, trees))
      return at(b, s, FER_ERR_FORMAT, "stage %d has no <trees>", index);
    for (const fer__xml_node *t = fer__xml_first_child(b->doc, trees); t; t = fer__xml_next(b->doc, t)) {
      int node_count = fer__xml_child_count(b->doc, t);
      if (node_count < 1) return at(b, t, FER_ERR_FORMAT, "a tree without nodes");
      if (node_count > FER__CASCADE_MAX_NODES_PER_TREE)
        return at(b, t, FER_ERR_TOO_LARGE, "a tree with %d nodes", node_count);
      st = add_tree(b, node_count);
      if (st != FER_OK) return st;
      int i = 0, leaves = 0;
      for (const fer__xml_node *tn = fer__xml_first_child(b->doc, t); tn;
           tn = fer__xml_next(b->doc, tn), i++) {
        fer__cascade_node *n = &c->nodes[c->node_count + i];
        const fer__xml_node *fnode = fer__xml_child(b->doc, tn, "feature");
        if (!fnode) return at(b, tn, FER_ERR_FORMAT, "tree node lacks <feature>");
        n->feature = c->feature_count;
        st = read_haar_feature(b, fnode);
        if (st != FER_OK) return st;
        double thr;
        st = child_number(b, tn, "threshold", &thr);
        if (st != FER_OK) return st;
        n->threshold = (float)thr;
        st = read_old_child(b, tn, 0, node_count, n, &leaves);
        if (st == FER_OK) st = read_old_child(b, tn, 1, node_count, n, &leaves);
        if (st != FER_OK) return st;
      }
      if (leaves != node_count + 1)
        return at(b, t, FER_ERR_FORMAT, "a tree of %d nodes must have %d leaves, not %d",
                  node_count, node_count + 1, leaves);
      c->node_count += node_count;
      c->leaf_count += node_count + 1;
    }
  }
  return FER_OK;
}

fer_status fer__cascade_from_xml(const uint8_t *data, size_t size, const char *name,
                                 fer_cascade **out) {
  *out = NULL;
  fer__xml_doc *doc;
  fer_status st = fer__xml_parse((const char *)data, size, name, &doc);
  if (st != FER_OK) return st;
  builder b = {doc, name, NULL, 0, 0, 0, 0, 0};
  b.c = fer__calloc(1, sizeof *b.c);
  if (!b.c) {
    fer__xml_free(doc);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  }
  /* OpenCV reads the first element inside <opencv_storage>. */
  const fer__xml_node *root = fer__xml_root(doc);
  if (strcmp(root->name, "opencv_storage") == 0) root = fer__xml_first_child(doc, root);
  if (!root) {
    st = at(&b, fer__xml_root(doc), FER_ERR_FORMAT, "<opencv_storage> is empty");
  } else {
    const char *type = fer__xml_attr_value(doc, root, "type_id");
    int old = (type && strcmp(type, "opencv-haar-classifier") == 0) ||
              (!fer__xml_child(doc, root, "stageType") && fer__xml_child(doc, root, "size"));
    if (!old && !fer__xml_child(doc, root, "stageType") && !fer__xml_child(doc, root, "stages"))
      st = at(&b, root, FER_ERR_FORMAT, "<%s> is not an OpenCV cascade", root->name);
    else
      st = old ? read_old(&b, root) : read_current(&b, root);
  }
  if (st == FER_OK) st = fer__cascade_validate(b.c, name);
  fer__xml_free(doc);
  if (st != FER_OK) {
    fer__cascade_destroy(b.c);
    return st;
  }
  *out = b.c;
  return FER_OK;
}
