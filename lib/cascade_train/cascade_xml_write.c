/*
 * Writes a cascade in OpenCV's current XML layout (the one
 * opencv_traincascade wrote and cv::CascadeClassifier reads), so cascades
 * trained by libfer run in OpenCV too.
 *
 * Every float is written with 9 significant digits, which reads back to the
 * same float. Loaders (ours and OpenCV's) subtract 1e-5 from a stage
 * threshold in float arithmetic, so for each stored threshold t we write
 * the float x with x - 1e-5f == t (the trainer only makes thresholds for
 * which such an x exists).
 */
#include <math.h>
#include <string.h>

#include "core/core_internal.h"
#include "detect/detect_internal.h"
#include "fer/cascade_train.h"
#include "util/buffer.h"
#include "util/decimal.h"
#include "util/file.h"

#define STAGE_THRESHOLD_EPS 1e-5f

/* The float that a loader turns into `stored` by subtracting 1e-5f; the
 * nearest candidate when none is exact. */
static float written_stage_threshold(float stored) {
  float x = stored + STAGE_THRESHOLD_EPS;
  float best = x;
  float lo = x, hi = x;
  for (int i = 0; i < 8; i++) {
    if (lo - STAGE_THRESHOLD_EPS == stored) return lo;
    if (hi - STAGE_THRESHOLD_EPS == stored) return hi;
    lo = nextafterf(lo, -INFINITY);
    hi = nextafterf(hi, INFINITY);
  }
  return best;
}

static void write_header(fer__buf *b, const fer_cascade *c) {
  int lbp = c->feature_type == FER_CASCADE_LBP;
  fer__buf_printf(b, "<?xml version=\"1.0\"?>\n<opencv_storage>\n"
                     "<cascade type_id=\"opencv-cascade-classifier\">\n"
                     "  <stageType>BOOST</stageType>\n"
                     "  <featureType>%s</featureType>\n"
                     "  <height>%d</height>\n  <width>%d</width>\n",
                  lbp ? "LBP" : "HAAR", (int)c->window_height, (int)c->window_width);
  /* Parameters OpenCV's reader expects; the values describe the file. */
  fer__buf_printf(b, "  <stageParams>\n    <boostType>GAB</boostType>\n"
                     "    <maxDepth>%d</maxDepth>\n  </stageParams>\n",
                  (int)c->max_nodes_per_tree);
  fer__buf_printf(b, "  <featureParams>\n    <maxCatCount>%d</maxCatCount>\n"
                     "    <featSize>1</featSize>\n    <mode>%s</mode>\n  </featureParams>\n",
                  lbp ? 256 : 0, c->has_tilted ? "ALL" : "BASIC");
  fer__buf_printf(b, "  <stageNum>%d</stageNum>\n", (int)c->stage_count);
}

/* A float as "%.9g" (enough digits to read back the same float) with a
 * '.' whatever the locale, which printf alone would not promise. */
static const char *number_text(char text[32], float v) {
  fer__format_double(text, 32, "%.9g", (double)v);
  return text;
}

static void write_tree(fer__buf *b, const fer_cascade *c, const fer__cascade_tree *tr) {
  char text[32];
  fer__buf_printf(b, "        <_>\n          <internalNodes>\n           ");
  for (int32_t i = 0; i < tr->node_count; i++) {
    int32_t ni = tr->first_node + i;
    const fer__cascade_node *n = &c->nodes[ni];
    fer__buf_printf(b, " %d %d %d", (int)n->left, (int)n->right, (int)n->feature);
    if (c->feature_type == FER_CASCADE_LBP) {
      const uint32_t *subset = &c->subsets[(size_t)ni * FER__LBP_SUBSET_WORDS];
      for (int k = 0; k < FER__LBP_SUBSET_WORDS; k++) fer__buf_printf(b, " %d", (int)(int32_t)subset[k]);
    } else {
      fer__buf_printf(b, " %s", number_text(text, n->threshold));
    }
  }
  fer__buf_printf(b, "</internalNodes>\n          <leafValues>\n           ");
  for (int32_t i = 0; i <= tr->node_count; i++)
    fer__buf_printf(b, " %s", number_text(text, c->leaves[tr->first_leaf + i]));
  fer__buf_printf(b, "</leafValues></_>\n");
}

static void write_stages(fer__buf *b, const fer_cascade *c) {
  char text[32];
  fer__buf_printf(b, "  <stages>\n");
  for (int32_t s = 0; s < c->stage_count; s++) {
    const fer__cascade_stage *st = &c->stages[s];
    fer__buf_printf(b, "    <!-- stage %d -->\n    <_>\n      <maxWeakCount>%d</maxWeakCount>\n"
                       "      <stageThreshold>%s</stageThreshold>\n      <weakClassifiers>\n",
                    (int)s, (int)st->tree_count,
                    number_text(text, written_stage_threshold(st->threshold)));
    for (int32_t t = st->first_tree; t < st->first_tree + st->tree_count; t++)
      write_tree(b, c, &c->trees[t]);
    fer__buf_printf(b, "      </weakClassifiers></_>\n");
  }
  fer__buf_printf(b, "  </stages>\n");
}

static void write_features(fer__buf *b, const fer_cascade *c) {
  char text[32];
  fer__buf_printf(b, "  <features>\n");
  for (int32_t i = 0; i < c->feature_count; i++) {
    const fer__cascade_feature *f = &c->features[i];
    if (c->feature_type == FER_CASCADE_LBP) {
      fer__buf_printf(b, "    <_>\n      <rect>\n        %d %d %d %d</rect></_>\n",
                      (int)f->rect[0].x, (int)f->rect[0].y, (int)f->rect[0].width,
                      (int)f->rect[0].height);
      continue;
    }
    fer__buf_printf(b, "    <_>\n      <rects>\n");
    for (int k = 0; k < 3 && f->rect[k].weight != 0.0f; k++)
      fer__buf_printf(b, "        <_>\n          %d %d %d %d %s</_>\n", (int)f->rect[k].x,
                      (int)f->rect[k].y, (int)f->rect[k].width, (int)f->rect[k].height,
                      number_text(text, f->rect[k].weight));
    fer__buf_printf(b, "      </rects>\n      <tilted>%d</tilted></_>\n", (int)(f->tilted != 0));
  }
  fer__buf_printf(b, "  </features>\n</cascade>\n</opencv_storage>\n");
}

fer_status fer_cascade_encode_xml(const fer_cascade *cascade, char **out_data, size_t *out_size) {
  if (out_data) *out_data = NULL;
  if (out_size) *out_size = 0;
  fer_status st = fer__cascade_check(cascade, "fer_cascade_encode_xml");
  if (st != FER_OK) return st;
  if (!out_data || !out_size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_encode_xml: NULL output");
  fer__buf b;
  fer__buf_init(&b);
  write_header(&b, cascade);
  write_stages(&b, cascade);
  write_features(&b, cascade);
  fer__buf_byte(&b, 0);
  st = fer__buf_status(&b, "fer_cascade_encode_xml");
  if (st != FER_OK) {
    fer__buf_release(&b);
    return st;
  }
  /* Hand over a block the caller frees with fer_free() (plain free). */
  char *text = fer__malloc(b.size);
  if (!text) {
    fer__buf_release(&b);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "fer_cascade_encode_xml: out of memory");
  }
  memcpy(text, b.data, b.size);
  *out_size = b.size - 1;
  *out_data = text;
  fer__buf_release(&b);
  return FER_OK;
}

fer_status fer_cascade_save_xml(const fer_cascade *cascade, const char *path) {
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_save_xml: NULL path");
  char *text;
  size_t size;
  fer_status st = fer_cascade_encode_xml(cascade, &text, &size);
  if (st != FER_OK) return st;
  st = fer__write_file_atomic(path, text, size);
  fer__free(text);
  return st;
}
