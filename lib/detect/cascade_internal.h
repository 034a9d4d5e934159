/*
 * The in-memory cascade, shared by the loaders (XML, binary) and the scan.
 * It mirrors OpenCV's own representation so that evaluation can follow
 * OpenCV step for step:
 *
 *  - stages hold consecutive weak trees; a window passes a stage when the sum
 *    of its trees' leaf values is not below the stage threshold (stored with
 *    OpenCV's 1e-5 already subtracted);
 *  - a tree holds consecutive internal nodes and node_count + 1 leaves; a
 *    child reference > 0 is a node index within the tree, <= 0 the negated
 *    leaf index;
 *  - Haar nodes go left when feature value < threshold; LBP nodes go left
 *    when the 8-bit pattern's bit is set in the node's 256-bit subset.
 */
#ifndef FER_DETECT_CASCADE_INTERNAL_H
#define FER_DETECT_CASCADE_INTERNAL_H

#include <stdint.h>

#include "fer/detect.h"

#define FER__CASCADE_MAGIC 0x43534344u /* "DCSC" */

/* Limits that keep hostile files cheap; real cascades are far below. */
#define FER__CASCADE_MAX_WINDOW 1024
#define FER__CASCADE_MAX_STAGES 1000
#define FER__CASCADE_MAX_TREES 200000
#define FER__CASCADE_MAX_NODES_PER_TREE 1024
#define FER__CASCADE_MAX_FEATURES 1000000
#define FER__LBP_SUBSET_WORDS 8 /* 256 categories / 32 bits */

typedef struct fer__haar_rect {
  int32_t x, y, width, height;
  float weight;
} fer__haar_rect;

typedef struct fer__cascade_feature {
  /* Haar: up to 3 rectangles (weight 0 = unused). LBP: rect[0] is the block
   * of the 3x3 grid's top-left cell. */
  fer__haar_rect rect[3];
  int32_t tilted;
} fer__cascade_feature;

typedef struct fer__cascade_node {
  int32_t left, right;
  int32_t feature;
  float threshold; /* Haar only */
} fer__cascade_node;

typedef struct fer__cascade_tree {
  int32_t first_node, node_count, first_leaf;
} fer__cascade_tree;

typedef struct fer__cascade_stage {
  int32_t first_tree, tree_count;
  float threshold;
} fer__cascade_stage;

struct fer_cascade {
  uint32_t magic;
  int32_t feature_type; /* FER_CASCADE_HAAR or FER_CASCADE_LBP */
  int32_t window_width, window_height;
  int32_t has_tilted;
  int32_t max_nodes_per_tree;
  int32_t stage_count, tree_count, node_count, leaf_count, feature_count;
  fer__cascade_stage *stages;
  fer__cascade_tree *trees;
  fer__cascade_node *nodes;
  float *leaves;
  uint32_t *subsets; /* LBP: FER__LBP_SUBSET_WORDS per node */
  fer__cascade_feature *features;
};

/* Allocates the arrays of a cascade whose counts are set; zero-filled. */
fer_status fer__cascade_alloc_arrays(fer_cascade *c, const char *what);

/* Checks every index and feature rectangle against the window so the scan
 * can run without bounds checks; sets has_tilted and max_nodes_per_tree.
 * Every loader calls it. FER_ERR_FORMAT naming `what`. */
fer_status fer__cascade_validate(fer_cascade *c, const char *what);

/* Frees a cascade (also a half-built one). */
void fer__cascade_destroy(fer_cascade *c);

/* FER_OK for a live cascade, FER_ERR_MISUSE naming `who` otherwise. */
fer_status fer__cascade_check(const fer_cascade *c, const char *who);

/* Loaders of whole in-memory files; `name` prefixes messages. */
fer_status fer__cascade_from_xml(const uint8_t *data, size_t size,
                                 const char *name, fer_cascade **out);
fer_status fer__cascade_from_binary(const uint8_t *data, size_t size,
                                    const char *name, fer_cascade **out);
int fer__cascade_binary_sniff(const uint8_t *data, size_t size);

#endif
