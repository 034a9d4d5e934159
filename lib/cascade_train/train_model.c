/* The cascade being trained, kept in growable arrays shaped like a
 * fer_cascade, and its conversion to and from a real one. An LBP model
 * also keeps each node's 256-bit subset, as the cascade does. */
#include <string.h>

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"

#define SUBSET_BYTES (FER__LBP_SUBSET_WORDS * sizeof(uint32_t))

/* Makes room for `extra` more items in a growable array. */
static int grow(void **items, int32_t *capacity, int32_t count, int32_t extra, size_t item_size) {
  if (count + extra <= *capacity) return 1;
  int32_t cap = *capacity ? *capacity : 64;
  while (cap < count + extra) cap *= 2;
  void *p = fer__realloc(*items, fer__mul_size((size_t)cap, item_size));
  if (!p) return 0;
  *items = p;
  *capacity = cap;
  return 1;
}

void fer__train_model_release(fer__train_model *m) {
  fer__free(m->stages);
  fer__free(m->trees);
  fer__free(m->nodes);
  fer__free(m->leaves);
  fer__free(m->features);
  fer__free(m->subsets);
  int w = m->window_width, h = m->window_height, lbp = m->lbp;
  memset(m, 0, sizeof *m);
  m->window_width = w;
  m->window_height = h;
  m->lbp = lbp;
}

int32_t fer__train_model_feature(fer__train_model *m, const fer__cascade_feature *f) {
  for (int32_t i = 0; i < m->feature_count; i++)
    if (memcmp(&m->features[i], f, sizeof *f) == 0) return i;
  if (!grow((void **)&m->features, &m->feature_cap, m->feature_count, 1, sizeof *f)) return -1;
  m->features[m->feature_count] = *f;
  return m->feature_count++;
}

fer_status fer__train_model_begin_stage(fer__train_model *m) {
  if (!grow((void **)&m->stages, &m->stage_cap, m->stage_count, 1, sizeof *m->stages))
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory");
  fer__cascade_stage *s = &m->stages[m->stage_count++];
  s->first_tree = m->tree_count;
  s->tree_count = 0;
  s->threshold = 0.f;
  return FER_OK;
}

fer_status fer__train_model_add_tree(fer__train_model *m, const fer__cascade_node *nodes,
                                     int32_t node_count, const float *leaves,
                                     const uint32_t *subsets) {
  if (m->lbp != (subsets != NULL))
    return fer__fail(FER_ERR_INTERNAL, "cascade trainer: subsets %s for a %s model",
                     subsets ? "given" : "missing", m->lbp ? "LBP" : "Haar");
  if (!grow((void **)&m->trees, &m->tree_cap, m->tree_count, 1, sizeof *m->trees) ||
      !grow((void **)&m->nodes, &m->node_cap, m->node_count, node_count, sizeof *m->nodes) ||
      !grow((void **)&m->leaves, &m->leaf_cap, m->leaf_count, node_count + 1, sizeof *m->leaves) ||
      (m->lbp &&
       !grow((void **)&m->subsets, &m->subset_cap, m->node_count, node_count, SUBSET_BYTES)))
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory");
  if (m->lbp)
    memcpy(&m->subsets[(size_t)m->node_count * FER__LBP_SUBSET_WORDS], subsets,
           (size_t)node_count * SUBSET_BYTES);
  fer__cascade_tree *t = &m->trees[m->tree_count++];
  t->first_node = m->node_count;
  t->node_count = node_count;
  t->first_leaf = m->leaf_count;
  memcpy(&m->nodes[m->node_count], nodes, (size_t)node_count * sizeof *nodes);
  memcpy(&m->leaves[m->leaf_count], leaves, (size_t)(node_count + 1) * sizeof *leaves);
  m->node_count += node_count;
  m->leaf_count += node_count + 1;
  m->stages[m->stage_count - 1].tree_count++;
  return FER_OK;
}

void fer__train_model_set_stage_threshold(fer__train_model *m, float threshold) {
  m->stages[m->stage_count - 1].threshold = threshold;
}

fer_status fer__train_model_to_cascade(const fer__train_model *m, int32_t stages,
                                       fer_cascade **out) {
  *out = NULL;
  if (stages < 1 || stages > m->stage_count)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "cascade trainer: no finished stage");
  const fer__cascade_stage *last = &m->stages[stages - 1];
  int32_t trees = last->first_tree + last->tree_count;
  int32_t nodes = trees == m->tree_count ? m->node_count : m->trees[trees].first_node;
  int32_t leaves = trees == m->tree_count ? m->leaf_count : m->trees[trees].first_leaf;
  fer_cascade *c = fer__calloc(1, sizeof *c);
  if (!c) return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory");
  c->magic = FER__CASCADE_MAGIC;
  c->feature_type = m->lbp ? FER_CASCADE_LBP : FER_CASCADE_HAAR;
  c->window_width = m->window_width;
  c->window_height = m->window_height;
  c->stage_count = stages;
  c->tree_count = trees;
  c->node_count = nodes;
  c->leaf_count = leaves;
  c->feature_count = m->feature_count;
  fer_status st = fer__cascade_alloc_arrays(c, "cascade trainer");
  if (st == FER_OK) {
    memcpy(c->stages, m->stages, (size_t)stages * sizeof *c->stages);
    memcpy(c->trees, m->trees, (size_t)trees * sizeof *c->trees);
    memcpy(c->nodes, m->nodes, (size_t)nodes * sizeof *c->nodes);
    memcpy(c->leaves, m->leaves, (size_t)leaves * sizeof *c->leaves);
    memcpy(c->features, m->features, (size_t)m->feature_count * sizeof *c->features);
    if (m->lbp) memcpy(c->subsets, m->subsets, (size_t)nodes * SUBSET_BYTES);
    st = fer__cascade_validate(c, "cascade trainer");
  }
  if (st != FER_OK) {
    fer__cascade_destroy(c);
    return st;
  }
  *out = c;
  return FER_OK;
}

fer_status fer__train_model_from_cascade(fer__train_model *m, const fer_cascade *c) {
  fer__train_model_release(m);
  m->window_width = c->window_width;
  m->window_height = c->window_height;
  m->lbp = c->feature_type == FER_CASCADE_LBP;
  if ((m->lbp && !grow((void **)&m->subsets, &m->subset_cap, 0, c->node_count, SUBSET_BYTES)) ||
      !grow((void **)&m->stages, &m->stage_cap, 0, c->stage_count, sizeof *m->stages) ||
      !grow((void **)&m->trees, &m->tree_cap, 0, c->tree_count, sizeof *m->trees) ||
      !grow((void **)&m->nodes, &m->node_cap, 0, c->node_count, sizeof *m->nodes) ||
      !grow((void **)&m->leaves, &m->leaf_cap, 0, c->leaf_count, sizeof *m->leaves) ||
      !grow((void **)&m->features, &m->feature_cap, 0, c->feature_count, sizeof *m->features))
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory");
  memcpy(m->stages, c->stages, (size_t)c->stage_count * sizeof *m->stages);
  memcpy(m->trees, c->trees, (size_t)c->tree_count * sizeof *m->trees);
  memcpy(m->nodes, c->nodes, (size_t)c->node_count * sizeof *m->nodes);
  memcpy(m->leaves, c->leaves, (size_t)c->leaf_count * sizeof *m->leaves);
  memcpy(m->features, c->features, (size_t)c->feature_count * sizeof *m->features);
  if (m->lbp) memcpy(m->subsets, c->subsets, (size_t)c->node_count * SUBSET_BYTES);
  m->stage_count = c->stage_count;
  m->tree_count = c->tree_count;
  m->node_count = c->node_count;
  m->leaf_count = c->leaf_count;
  m->feature_count = c->feature_count;
  return FER_OK;
}
