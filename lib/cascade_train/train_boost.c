/*
 * One boosted stage. Weak learners are decision trees (stumps by default)
 * over Haar features; each split is found by walking every feature's
 * training values in sorted order, so the best threshold of a feature costs
 * one pass. Sorted orders are computed once per stage into a buffer of at
 * most FER_CASCADE_TRAIN_BUFFER_MB (the rest are recomputed per split).
 *
 * The three boosting variants differ in the split criterion and the leaf
 * values (W+ and W- are the weights of positives and negatives in a leaf):
 *   Gentle:   leaf = (W+ - W-) / (W+ + W-), split maximises sum (W+ - W-)^2 / (W+ + W-)
 *   Real:     leaf = 1/2 ln(W+ / W-),       split minimises sum sqrt(W+ W-)
 *   Discrete: leaf = +-alpha by majority,   split minimises sum min(W+, W-),
 *             alpha = 1/2 ln((1 - err) / err) with err the tree's weighted error
 * and every variant reweights w *= exp(-y f(x)). The stage threshold is
 * then the largest one keeping FER_CASCADE_TRAIN_MIN_HIT_RATE of the
 * positives, and trees are added until the negatives passing it are at
 * most FER_CASCADE_TRAIN_MAX_FALSE_ALARM. The positives the threshold is
 * set on are held-out ones when the caller has any: a threshold set on the
 * positives the trees were fitted to keeps 99.5% of those but markedly
 * fewer unseen faces (measured: a 10-stage cascade kept 0.995^10 = 95% of
 * its training positives by its own count but 78% of them at detection),
 * and that loss compounds over the stages.
 *
 * LBP stumps (pool->lbp) split the 256 codes of a feature into two sets
 * instead of at a threshold (train_boost_lbp.c has the search and why it
 * is exact); everything else (weights, leaves, the stage threshold) is
 * the same code. Their stage sums add in float, as the scan adds LBP
 * stumps.
 *
 * Every value, threshold and sum is the float or double the detector
 * computes, so the trained stage behaves identically at detection time.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core_internal.h"
#include "cascade_train/train_internal.h"

#define STAGE_THRESHOLD_EPS 1e-5f
#define MAX_TREE_NODES 15 /* depth 4 */

typedef struct sorted_entry {
  float value;
  uint32_t index;
} sorted_entry;

typedef struct stage_ctx {
  const fer__sample_set *set;
  const fer__feature_pool *pool;
  int boost, threads;
  size_t n, positives;
  size_t buffered;        /* features whose sorted order is in `sorted` */
  sorted_entry *sorted;   /* buffered * n */
  sorted_entry **scratch; /* per thread: n entries + n keys for the rest */
  uint32_t **keys;
  double *weight;
  int32_t *slot; /* per sample: the pending tree item it belongs to */
  uint8_t *codes; /* LBP: buffered * n codes, feature by feature */
} stage_ctx;

static float feature_value(const stage_ctx *cx, size_t feature, size_t sample) {
  fer__level_view v = fer__sample_view(cx->set, sample);
  return fer__scan_haar_value(&cx->pool->opt[feature], &v, 0, cx->set->inv_norm[sample]);
}

/* An LBP feature's code on a sample, computed by the scan's own code. */
static int lbp_code(const stage_ctx *cx, size_t feature, size_t sample) {
  if (feature < cx->buffered) return cx->codes[feature * cx->n + sample];
  fer__level_view v = fer__sample_view(cx->set, sample);
  return fer__scan_lbp_code(&cx->pool->opt[feature], &v, 0);
}

static int subset_has(const uint32_t *subset, int code) {
  return (subset[code >> 5] >> (code & 31)) & 1u;
}

static uint32_t order_key(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

/* The samples' values of one feature in ascending order, ties in sample
 * order (a stable LSD radix sort of 11-bit digits). */
static void sort_feature(const stage_ctx *cx, size_t feature, sorted_entry *out, sorted_entry *tmp,
                         uint32_t *keys) {
  size_t n = cx->n;
  uint32_t *tkeys = keys + n;
  for (size_t i = 0; i < n; i++) {
    tmp[i].value = feature_value(cx, feature, i);
    tmp[i].index = (uint32_t)i;
    keys[i] = order_key(tmp[i].value);
  }
  sorted_entry *src = tmp, *dst = out;
  uint32_t *ksrc = keys, *kdst = tkeys;
  for (int shift = 0; shift < 33; shift += 11) {
    size_t count[2049] = {0};
    for (size_t i = 0; i < n; i++) count[((ksrc[i] >> shift) & 2047u) + 1]++;
    for (int b = 0; b < 2048; b++) count[b + 1] += count[b];
    for (size_t i = 0; i < n; i++) {
      size_t at = count[(ksrc[i] >> shift) & 2047u]++;
      dst[at] = src[i];
      kdst[at] = ksrc[i];
    }
    sorted_entry *t = src;
    src = dst;
    dst = t;
    uint32_t *tk = ksrc;
    ksrc = kdst;
    kdst = tk;
  }
  /* After an odd number of passes the result is in `out` already. */
  if (src != out) memcpy(out, src, n * sizeof *out);
}

typedef struct split {
  double score;
  size_t feature;
  float threshold;
  int found;
  uint32_t subset[FER__LBP_SUBSET_WORDS]; /* LBP: the codes going left */
} split;

/* Best threshold of one feature for the samples of item `item`. */
static inline void best_threshold_for(const stage_ctx *cx, const sorted_entry *e, int32_t item,
                                      double tp, double tn, split *best, size_t feature,
                                      const int boost) {
  double lp = 0, ln = 0;
  size_t n = cx->n;
  for (size_t k = 0; k + 1 < n; k++) {
    uint32_t i = e[k].index;
    if (cx->slot[i] == item) {
      if (i < cx->positives) lp += cx->weight[i];
      else ln += cx->weight[i];
    }
    if (!(e[k].value < e[k + 1].value)) continue;
    if (lp + ln <= 0 || (tp - lp) + (tn - ln) <= 0) continue;
    double score =
        fer__boost_criterion(boost, lp, ln) + fer__boost_criterion(boost, tp - lp, tn - ln);
    if (!best->found || score > best->score) {
      /* A threshold t with v[k] < t <= v[k+1]: the midpoint unless float
       * rounding puts it on v[k]. */
      float t = (float)(((double)e[k].value + (double)e[k + 1].value) * 0.5);
      if (!(t > e[k].value)) t = e[k + 1].value;
      best->found = 1;
      best->score = score;
      best->threshold = t;
      best->feature = feature;
    }
  }
}

static void best_threshold(const stage_ctx *cx, const sorted_entry *e, int32_t item, double tp,
                           double tn, split *best, size_t feature) {
  switch (cx->boost) {
    case FER_BOOST_GENTLE:
      best_threshold_for(cx, e, item, tp, tn, best, feature, FER_BOOST_GENTLE);
      break;
    case FER_BOOST_REAL:
      best_threshold_for(cx, e, item, tp, tn, best, feature, FER_BOOST_REAL);
      break;
    default:
      best_threshold_for(cx, e, item, tp, tn, best, feature, FER_BOOST_DISCRETE);
      break;
  }
}

/* The best LBP split of one feature for the samples of item `item`: the
 * weights of each code's positives and negatives, then the categorical
 * search. */
static void best_subset(const stage_ctx *cx, int32_t item, split *best, size_t feature) {
  double wp[256] = {0}, wn[256] = {0};
  for (size_t i = 0; i < cx->n; i++) {
    if (cx->slot[i] != item) continue;
    int code = lbp_code(cx, feature, i);
    if (i < cx->positives) wp[code] += cx->weight[i];
    else wn[code] += cx->weight[i];
  }
  best->feature = feature;
  best->found = fer__lbp_best_split(wp, wn, cx->boost, best->subset, &best->score);
}

static int better(const split *a, const split *b) {
  if (!a->found) return 0;
  if (!b->found) return 1;
  if (a->score != b->score) return a->score > b->score;
  return a->feature < b->feature;
}

static split find_split(const stage_ctx *cx, int32_t item, double tp, double tn) {
  split best = {0};
  size_t features = cx->pool->count;
#ifdef _OPENMP
#pragma omp parallel num_threads(cx->threads) if (cx->threads > 1)
#endif
  {
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    split mine = {0};
#ifdef _OPENMP
#pragma omp for schedule(dynamic, 64)
#endif
    for (long j = 0; j < (long)features; j++) {
      split s = {0};
      if (cx->pool->lbp) {
        best_subset(cx, item, &s, (size_t)j);
      } else {
        const sorted_entry *e;
        if ((size_t)j < cx->buffered) e = cx->sorted + (size_t)j * cx->n;
        else {
          sort_feature(cx, (size_t)j, cx->scratch[t], cx->scratch[t] + cx->n, cx->keys[t]);
          e = cx->scratch[t];
        }
        best_threshold(cx, e, item, tp, tn, &s, (size_t)j);
      }
      if (better(&s, &mine)) mine = s;
    }
#ifdef _OPENMP
#pragma omp critical(fer_train_split)
#endif
    if (better(&mine, &best)) best = mine;
  }
  return best;
}

/* A tree under construction: items are pending nodes or leaves. */
typedef struct tree_build {
  fer__cascade_node nodes[MAX_TREE_NODES];
  size_t pool_feature[MAX_TREE_NODES]; /* each node's feature in the pool */
  float leaves[MAX_TREE_NODES + 1];
  uint32_t subsets[MAX_TREE_NODES][FER__LBP_SUBSET_WORDS]; /* LBP nodes */
  int32_t node_count, leaf_count;
  int32_t leaf_of_item[2 * MAX_TREE_NODES + 1];
} tree_build;

typedef struct item {
  int depth, parent, side; /* parent node index (-1: root), side 0 left 1 right */
} item;

static void link_child(tree_build *tb, const item *it, int32_t ref) {
  if (it->parent < 0) return;
  if (it->side == 0) tb->nodes[it->parent].left = ref;
  else tb->nodes[it->parent].right = ref;
}

/* Grows one tree on the current weights: FIFO over pending items, so node
 * and leaf numbers follow breadth-first order (children after parents,
 * a stump's left leaf 0 and right leaf 1). */
static fer_status grow_tree(const stage_ctx *cx, int depth, fer__train_model *model, tree_build *tb,
                            int32_t *leaf_of_sample, float *leaf_values) {
  item items[2 * MAX_TREE_NODES + 1];
  int item_count = 1, next = 0;
  items[0] = (item){0, -1, 0};
  memset(tb, 0, sizeof *tb);
  for (size_t i = 0; i < cx->n; i++) cx->slot[i] = 0;
  double wp_leaf[MAX_TREE_NODES + 1], wn_leaf[MAX_TREE_NODES + 1];
  while (next < item_count) {
    int32_t id = next++;
    const item *it = &items[id];
    double tp = 0, tn = 0;
    for (size_t i = 0; i < cx->n; i++)
      if (cx->slot[i] == id) {
        if (i < cx->positives) tp += cx->weight[i];
        else tn += cx->weight[i];
      }
    split s = {0};
    if (it->depth < depth && tp > 0 && tn > 0) s = find_split(cx, id, tp, tn);
    if (s.found) {
      int32_t node = tb->node_count++;
      int32_t fidx = fer__train_model_feature(model, &cx->pool->features[s.feature]);
      if (fidx < 0) return fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory");
      tb->nodes[node].feature = fidx;
      tb->nodes[node].threshold = s.threshold;
      tb->pool_feature[node] = s.feature;
      memcpy(tb->subsets[node], s.subset, sizeof s.subset);
      link_child(tb, it, node);
      int32_t left = item_count++, right = item_count++;
      items[left] = (item){it->depth + 1, node, 0};
      items[right] = (item){it->depth + 1, node, 1};
      for (size_t i = 0; i < cx->n; i++) {
        if (cx->slot[i] != id) continue;
        int go_left = cx->pool->lbp ? subset_has(s.subset, lbp_code(cx, s.feature, i))
                                    : feature_value(cx, s.feature, i) < s.threshold;
        cx->slot[i] = go_left ? left : right;
      }
    } else {
      if (id == 0)
        return fer__fail(FER_ERR_INTERNAL,
                         "cascade trainer: no feature separates the samples (all values equal?)");
      int32_t leaf = tb->leaf_count++;
      link_child(tb, it, -leaf);
      tb->leaf_of_item[id] = leaf;
      wp_leaf[leaf] = tp;
      wn_leaf[leaf] = tn;
    }
  }
  for (size_t i = 0; i < cx->n; i++) leaf_of_sample[i] = tb->leaf_of_item[cx->slot[i]];
  double total = 0, error = 0;
  for (int32_t l = 0; l < tb->leaf_count; l++) {
    total += wp_leaf[l] + wn_leaf[l];
    error += wp_leaf[l] < wn_leaf[l] ? wp_leaf[l] : wn_leaf[l];
  }
  double eps = 1e-6 * (total > 0 ? total : 1);
  double err = total > 0 ? error / total : 0.5;
  if (err < 1e-10) err = 1e-10;
  double alpha = 0.5 * log((1 - err) / err);
  for (int32_t l = 0; l < tb->leaf_count; l++) {
    double wp = wp_leaf[l], wn = wn_leaf[l], v;
    switch (cx->boost) {
      case FER_BOOST_GENTLE: v = wp + wn > 0 ? (wp - wn) / (wp + wn) : 0; break;
      case FER_BOOST_REAL: v = 0.5 * log((wp + eps) / (wn + eps)); break;
      default: v = wp >= wn ? alpha : -alpha; break;
    }
    leaf_values[l] = (float)v;
  }
  memcpy(tb->leaves, leaf_values, (size_t)tb->leaf_count * sizeof(float));
  return FER_OK;
}

/* The tree's output on sample i of `set`, walked as the detector walks it
 * (left when the value is below the node threshold, or for LBP when the
 * code is in the node's subset; child refs <= 0 are leaves). */
static float tree_output(const tree_build *tb, const fer__feature_pool *pool,
                         const fer__sample_set *set, size_t i) {
  fer__level_view v = fer__sample_view(set, i);
  int32_t node = 0;
  for (;;) {
    const fer__opt_feature *f = &pool->opt[tb->pool_feature[node]];
    const fer__cascade_node *n = &tb->nodes[node];
    int go_left = pool->lbp ? subset_has(tb->subsets[node], fer__scan_lbp_code(f, &v, 0))
                            : fer__scan_haar_value(f, &v, 0, set->inv_norm[i]) < n->threshold;
    int32_t next = go_left ? n->left : n->right;
    if (next <= 0) return tb->leaves[-next];
    node = next;
  }
}

/* A stage sum plus a leaf as the scan adds them: float leaves in double
 * for Haar, in float for LBP stumps (OpenCV's choices; a float sum kept
 * in a double is exact). */
static double add_leaf(int lbp, double sum, float leaf) {
  return lbp ? (double)((float)sum + leaf) : sum + leaf;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

fer_status fer__train_stage(const fer_cascade_trainer *tr, const fer__sample_set *set,
                            const fer__sample_set *held_out, const fer__feature_pool *pool,
                            int threads, fer__train_model *model, fer__stage_result *result) {
  double *sums_out = result->stage_sums;
  memset(result, 0, sizeof *result);
  result->stage_sums = sums_out;
  stage_ctx cx;
  memset(&cx, 0, sizeof cx);
  cx.set = set;
  cx.pool = pool;
  cx.boost = fer__train_int(tr, FER_CASCADE_TRAIN_BOOST);
  cx.threads = threads;
  cx.n = set->count;
  cx.positives = set->positives;
  size_t n = cx.n, P = set->positives, N = n - P;
  int depth = fer__train_int(tr, FER_CASCADE_TRAIN_TREE_DEPTH);
  int max_weak = fer__train_int(tr, FER_CASCADE_TRAIN_MAX_WEAK);
  double min_hit = tr->values[FER_CASCADE_TRAIN_MIN_HIT_RATE];
  double max_fa = tr->values[FER_CASCADE_TRAIN_MAX_FALSE_ALARM];
  size_t budget = (size_t)tr->values[FER_CASCADE_TRAIN_BUFFER_MB] << 20;
  if (pool->lbp && depth > 1)
    return fer__fail(FER_ERR_UNSUPPORTED,
                     "cascade trainer: LBP trees of depth %d (LBP training makes stumps: depth 1)",
                     depth);
  /* Buffered: sorted values of Haar features, one-byte codes of LBP ones. */
  size_t per_feature = pool->lbp ? n : n * sizeof(sorted_entry);
  cx.buffered = FER__MIN(pool->count, budget / per_feature);

  fer_status st = FER_OK;
  size_t slots = cx.buffered ? cx.buffered : 1;
  if (pool->lbp) cx.codes = fer__malloc(fer__mul_size(slots, n));
  cx.sorted = fer__malloc(pool->lbp ? sizeof(sorted_entry)
                                    : fer__mul_size(slots, n * sizeof(sorted_entry)));
  cx.scratch = fer__calloc((size_t)threads, sizeof *cx.scratch);
  cx.keys = fer__calloc((size_t)threads, sizeof *cx.keys);
  cx.weight = fer__malloc(n * sizeof(double));
  cx.slot = fer__malloc(n * sizeof(int32_t));
  double *stage_sum = fer__calloc(n, sizeof(double));
  size_t H = held_out ? held_out->count : 0;
  double *held_sums = fer__calloc(H ? H : 1, sizeof(double));
  /* The positives the threshold is set on: held-out ones when there are some. */
  size_t T = H ? H : P;
  double *pos_sums = fer__malloc((T ? T : 1) * sizeof(double));
  int32_t *leaf_of_sample = fer__malloc(n * sizeof(int32_t));
  int ok = (!pool->lbp || cx.codes) && cx.sorted && cx.scratch && cx.keys && cx.weight &&
           cx.slot && stage_sum && pos_sums && leaf_of_sample && held_sums;
  for (int t = 0; ok && t < threads; t++) {
    cx.scratch[t] = fer__malloc(2 * n * sizeof(sorted_entry));
    cx.keys[t] = fer__malloc(2 * n * sizeof(uint32_t));
    ok = cx.scratch[t] && cx.keys[t];
  }
  if (!ok) {
    st = fer__fail(FER_ERR_OUT_OF_MEMORY, "cascade trainer: out of memory for %zu samples", n);
    goto done;
  }
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 64) num_threads(threads) if (threads > 1)
#endif
  for (long j = 0; j < (long)cx.buffered; j++) {
    int t = 0;
#ifdef _OPENMP
    t = omp_get_thread_num();
#endif
    if (pool->lbp) {
      fer__opt_feature f = pool->opt[j];
      for (size_t i = 0; i < n; i++) {
        fer__level_view v = fer__sample_view(set, i);
        cx.codes[(size_t)j * n + i] = (uint8_t)fer__scan_lbp_code(&f, &v, 0);
      }
    } else {
      sort_feature(&cx, (size_t)j, cx.sorted + (size_t)j * n, cx.scratch[t], cx.keys[t]);
    }
  }
  for (size_t i = 0; i < n; i++) cx.weight[i] = i < P ? 0.5 / (double)P : 0.5 / (double)N;

  st = fer__train_model_begin_stage(model);
  if (st != FER_OK) goto done;
  for (int weak = 0; weak < max_weak; weak++) {
    tree_build tb;
    float leaf_values[MAX_TREE_NODES + 1];
    st = grow_tree(&cx, depth, model, &tb, leaf_of_sample, leaf_values);
    if (st != FER_OK) goto done;
    st = fer__train_model_add_tree(model, tb.nodes, tb.node_count, tb.leaves,
                                   pool->lbp ? &tb.subsets[0][0] : NULL);
    if (st != FER_OK) goto done;
    double wsum = 0;
    for (size_t i = 0; i < n; i++) {
      float h = leaf_values[leaf_of_sample[i]];
      stage_sum[i] = add_leaf(pool->lbp, stage_sum[i], h);
      double y = i < P ? 1.0 : -1.0;
      cx.weight[i] *= exp(-y * (double)h);
      wsum += cx.weight[i];
    }
    for (size_t i = 0; i < n; i++) cx.weight[i] /= wsum;
    for (size_t i = 0; i < H; i++)
      held_sums[i] = add_leaf(pool->lbp, held_sums[i], tree_output(&tb, pool, held_out, i));

    /* The largest float threshold that keeps min_hit of the positives
     * (held-out ones when there are some), stored (like OpenCV) as the
     * written value minus 1e-5f. */
    memcpy(pos_sums, H ? held_sums : stage_sum, T * sizeof(double));
    qsort(pos_sums, T, sizeof(double), compare_double);
    size_t may_fail = (size_t)floor((1.0 - min_hit) * (double)T + 1e-9);
    if (may_fail >= T) may_fail = T - 1;
    float written = (float)pos_sums[may_fail];
    if ((double)written > pos_sums[may_fail]) written = nextafterf(written, -INFINITY);
    float threshold = written - STAGE_THRESHOLD_EPS;
    fer__train_model_set_stage_threshold(model, threshold);
    size_t hits = 0, alarms = 0;
    for (size_t i = 0; i < n; i++) {
      if (stage_sum[i] < threshold) continue;
      if (i < P) hits += !H;
      else alarms++;
    }
    for (size_t i = 0; i < H; i++) hits += held_sums[i] >= threshold;
    result->weak_count = weak + 1;
    result->hit_rate = (double)hits / (double)T;
    result->false_alarm = N ? (double)alarms / (double)N : 0;
    if (result->false_alarm <= max_fa) break;
  }
  if (sums_out) memcpy(sums_out, stage_sum, n * sizeof(double));
done:
  fer__free(cx.codes);
  fer__free(cx.sorted);
  for (int t = 0; cx.scratch && t < threads; t++) fer__free(cx.scratch[t]);
  for (int t = 0; cx.keys && t < threads; t++) fer__free(cx.keys[t]);
  fer__free(cx.scratch);
  fer__free(cx.keys);
  fer__free(cx.weight);
  fer__free(cx.slot);
  fer__free(stage_sum);
  fer__free(pos_sums);
  fer__free(held_sums);
  fer__free(leaf_of_sample);
  return st;
}
