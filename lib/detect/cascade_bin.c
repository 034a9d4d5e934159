/*
 * libfer's own cascade format (docs/cascade-format.md): an 16-byte header
 * and tagged sections, little-endian, each section closed by a CRC-32 of its
 * tag, size and payload. It holds exactly the fer_cascade arrays, so a
 * cascade saved and loaded again evaluates bit for bit as before, and loads
 * without any text parsing (for embedding in the library).
 */
#include <string.h>

#include "core/core_internal.h"
#include "detect/cascade_internal.h"
#include "util/buffer.h"
#include "util/crc32.h"
#include "util/endian.h"
#include "util/file.h"

static const uint8_t file_magic[8] = {'F', 'E', 'R', 'C', 'A', 'S', 'C', 0x1A};
#define FORMAT_VERSION 1u
#define HEADER_SIZE 16u
#define MAX_SECTIONS 64u

#define TAG(a, b, c, d) \
  ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))
#define TAG_HEAD TAG('H', 'E', 'A', 'D')
#define TAG_STAGES TAG('S', 'T', 'A', 'G')
#define TAG_TREES TAG('T', 'R', 'E', 'E')
#define TAG_NODES TAG('N', 'O', 'D', 'E')
#define TAG_LEAVES TAG('L', 'E', 'A', 'F')
#define TAG_SUBSETS TAG('S', 'U', 'B', 'S')
#define TAG_FEATURES TAG('F', 'E', 'A', 'T')

#define HEAD_SIZE 32u   /* 8 x i32 */
#define STAGE_SIZE 8u   /* tree count, threshold */
#define TREE_SIZE 4u    /* node count */
#define NODE_SIZE 16u   /* left, right, feature, threshold */
#define LEAF_SIZE 4u
#define SUBSET_SIZE (4u * FER__LBP_SUBSET_WORDS)
#define FEATURE_SIZE 64u /* tilted, then 3 x (x, y, w, h, weight) */

int fer__cascade_binary_sniff(const uint8_t *data, size_t size) {
  return data && size >= sizeof file_magic && memcmp(data, file_magic, sizeof file_magic) == 0;
}

static void put_f32(fer__buf *b, float v) { fer__buf_f32le(b, v); }
static void put_i32(fer__buf *b, int32_t v) { fer__buf_u32le(b, (uint32_t)v); }

/* Appends one section: tag, size, payload written by the caller between
 * begin and end, then the CRC of all three. */
static size_t section_begin(fer__buf *b, uint32_t tag) {
  fer__buf_u32le(b, tag);
  fer__buf_u32le(b, 0); /* size, patched in section_end */
  return b->size;
}
static void section_end(fer__buf *b, size_t payload_start) {
  if (b->failed) return;
  size_t payload = b->size - payload_start;
  fer__put_u32le(b->data + payload_start - 4, (uint32_t)payload);
  uint32_t crc = fer__crc32(0, b->data + payload_start - 8, payload + 8);
  fer__buf_u32le(b, crc);
}

static fer_status encode(const fer_cascade *c, fer__buf *b) {
  fer__buf_append(b, file_magic, sizeof file_magic);
  fer__buf_u32le(b, FORMAT_VERSION);
  int sections = c->feature_type == FER_CASCADE_LBP ? 7 : 6;
  fer__buf_u32le(b, (uint32_t)sections);

  size_t s = section_begin(b, TAG_HEAD);
  put_i32(b, c->feature_type);
  put_i32(b, c->window_width);
  put_i32(b, c->window_height);
  put_i32(b, c->stage_count);
  put_i32(b, c->tree_count);
  put_i32(b, c->node_count);
  put_i32(b, c->leaf_count);
  put_i32(b, c->feature_count);
  section_end(b, s);

  s = section_begin(b, TAG_STAGES);
  for (int32_t i = 0; i < c->stage_count; i++) {
    put_i32(b, c->stages[i].tree_count);
    /* Stored as evaluated (OpenCV's 1e-5 already subtracted). */
    put_f32(b, c->stages[i].threshold);
  }
  section_end(b, s);

  s = section_begin(b, TAG_TREES);
  for (int32_t i = 0; i < c->tree_count; i++) put_i32(b, c->trees[i].node_count);
  section_end(b, s);

  s = section_begin(b, TAG_NODES);
  for (int32_t i = 0; i < c->node_count; i++) {
    put_i32(b, c->nodes[i].left);
    put_i32(b, c->nodes[i].right);
    put_i32(b, c->nodes[i].feature);
    put_f32(b, c->nodes[i].threshold);
  }
  section_end(b, s);

  s = section_begin(b, TAG_LEAVES);
  for (int32_t i = 0; i < c->leaf_count; i++) put_f32(b, c->leaves[i]);
  section_end(b, s);

  if (c->feature_type == FER_CASCADE_LBP) {
    s = section_begin(b, TAG_SUBSETS);
    for (size_t i = 0; i < (size_t)c->node_count * FER__LBP_SUBSET_WORDS; i++)
      fer__buf_u32le(b, c->subsets[i]);
    section_end(b, s);
  }

  s = section_begin(b, TAG_FEATURES);
  for (int32_t i = 0; i < c->feature_count; i++) {
    const fer__cascade_feature *f = &c->features[i];
    put_i32(b, f->tilted);
    for (int k = 0; k < 3; k++) {
      put_i32(b, f->rect[k].x);
      put_i32(b, f->rect[k].y);
      put_i32(b, f->rect[k].width);
      put_i32(b, f->rect[k].height);
      put_f32(b, f->rect[k].weight);
    }
  }
  section_end(b, s);
  return fer__buf_status(b, "cascade encoder");
}

fer_status fer_cascade_encode(const fer_cascade *cascade, void **out_data, size_t *out_size) {
  if (!out_data || !out_size)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_encode: output pointer is NULL");
  *out_data = NULL;
  *out_size = 0;
  fer_status st = fer__cascade_check(cascade, "fer_cascade_encode");
  if (st != FER_OK) return st;
  fer__buf b;
  fer__buf_init(&b);
  st = encode(cascade, &b);
  if (st != FER_OK) {
    fer__buf_release(&b);
    return st;
  }
  *out_data = b.data;
  *out_size = b.size;
  return FER_OK;
}

fer_status fer_cascade_save(const fer_cascade *cascade, const char *path) {
  fer_status st = fer__cascade_check(cascade, "fer_cascade_save");
  if (st != FER_OK) return st;
  if (!path) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_cascade_save: path is NULL");
  fer__buf b;
  fer__buf_init(&b);
  st = encode(cascade, &b);
  if (st == FER_OK) st = fer__write_file_atomic(path, b.data, b.size);
  fer__buf_release(&b);
  return st;
}

/* ---- decoding ------------------------------------------------------------ */

typedef struct section {
  const uint8_t *payload;
  uint32_t size;
  int present;
} section;

static fer_status need(const char *name, const char *what, const section *s, uint64_t count,
                       uint32_t elem) {
  if (!s->present) return fer__fail(FER_ERR_FORMAT, "%s: the %s section is missing", name, what);
  if ((uint64_t)s->size != count * elem)
    return fer__fail(FER_ERR_FORMAT, "%s: the %s section holds %u bytes, expected %llu", name,
                     what, (unsigned)s->size, (unsigned long long)(count * elem));
  return FER_OK;
}

static int32_t get_i32(const uint8_t *p) { return (int32_t)fer__get_u32le(p); }

fer_status fer__cascade_from_binary(const uint8_t *data, size_t size, const char *name,
                                    fer_cascade **out) {
  *out = NULL;
  if (size < HEADER_SIZE)
    return fer__fail(FER_ERR_TRUNCATED, "%s: %zu bytes, shorter than the %u byte header", name,
                     size, HEADER_SIZE);
  if (!fer__cascade_binary_sniff(data, size))
    return fer__fail(FER_ERR_FORMAT, "%s: not a libfer cascade (bad magic)", name);
  uint32_t version = fer__get_u32le(data + 8);
  if (version == 0)
    return fer__fail(FER_ERR_FORMAT, "%s: format version 0 does not exist", name);
  if (version > FORMAT_VERSION)
    return fer__fail(FER_ERR_VERSION, "%s: format version %u is newer than this libfer reads (%u)",
                     name, (unsigned)version, FORMAT_VERSION);
  uint32_t count = fer__get_u32le(data + 12);
  if (count > MAX_SECTIONS)
    return fer__fail(FER_ERR_FORMAT, "%s: %u sections (at most %u)", name, (unsigned)count,
                     MAX_SECTIONS);
  section head = {0}, stages = {0}, trees = {0}, nodes = {0}, leaves = {0}, subsets = {0},
          features = {0};
  size_t pos = HEADER_SIZE;
  for (uint32_t i = 0; i < count; i++) {
    if (size - pos < 8)
      return fer__fail(FER_ERR_TRUNCATED, "%s: section %u header cut off at byte %zu", name,
                       (unsigned)i, pos);
    uint32_t tag = fer__get_u32le(data + pos);
    uint32_t len = fer__get_u32le(data + pos + 4);
    if ((uint64_t)size - pos - 8 < (uint64_t)len + 4)
      return fer__fail(FER_ERR_TRUNCATED, "%s: section %u (%u bytes) cut off at byte %zu", name,
                       (unsigned)i, (unsigned)len, size);
    uint32_t crc = fer__get_u32le(data + pos + 8 + len);
    if (fer__crc32(0, data + pos, (size_t)len + 8) != crc)
      return fer__fail(FER_ERR_CHECKSUM, "%s: CRC mismatch in section %u at byte %zu", name,
                       (unsigned)i, pos);
    section *s = tag == TAG_HEAD      ? &head
                 : tag == TAG_STAGES  ? &stages
                 : tag == TAG_TREES   ? &trees
                 : tag == TAG_NODES   ? &nodes
                 : tag == TAG_LEAVES  ? &leaves
                 : tag == TAG_SUBSETS ? &subsets
                 : tag == TAG_FEATURES ? &features
                                       : NULL;
    if (s) {
      if (s->present)
        return fer__fail(FER_ERR_FORMAT, "%s: section %u repeats a section", name, (unsigned)i);
      s->payload = data + pos + 8;
      s->size = len;
      s->present = 1;
    } /* unknown sections: written by a later minor version, skipped */
    pos += 8 + (size_t)len + 4;
  }
  if (pos != size)
    return fer__fail(FER_ERR_FORMAT, "%s: %zu stray bytes after the last section", name, size - pos);
  fer_status st = need(name, "HEAD", &head, 1, HEAD_SIZE);
  if (st != FER_OK) return st;

  fer_cascade *c = fer__calloc(1, sizeof *c);
  if (!c) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", name);
  const uint8_t *h = head.payload;
  c->feature_type = get_i32(h);
  c->window_width = get_i32(h + 4);
  c->window_height = get_i32(h + 8);
  c->stage_count = get_i32(h + 12);
  c->tree_count = get_i32(h + 16);
  c->node_count = get_i32(h + 20);
  c->leaf_count = get_i32(h + 24);
  c->feature_count = get_i32(h + 28);
  if (c->feature_type != FER_CASCADE_HAAR && c->feature_type != FER_CASCADE_LBP)
    st = fer__fail(FER_ERR_FORMAT, "%s: unknown feature type %d", name, (int)c->feature_type);
  else if (c->stage_count < 1 || c->stage_count > FER__CASCADE_MAX_STAGES || c->tree_count < 1 ||
           c->tree_count > FER__CASCADE_MAX_TREES || c->node_count < 1 ||
           c->node_count > FER__CASCADE_MAX_TREES * 16 || c->leaf_count < 2 ||
           c->leaf_count > FER__CASCADE_MAX_TREES * 17 || c->feature_count < 1 ||
           c->feature_count > FER__CASCADE_MAX_FEATURES)
    st = fer__fail(FER_ERR_FORMAT, "%s: counts out of range in the HEAD section", name);
  if (st == FER_OK) st = need(name, "STAG", &stages, (uint64_t)c->stage_count, STAGE_SIZE);
  if (st == FER_OK) st = need(name, "TREE", &trees, (uint64_t)c->tree_count, TREE_SIZE);
  if (st == FER_OK) st = need(name, "NODE", &nodes, (uint64_t)c->node_count, NODE_SIZE);
  if (st == FER_OK) st = need(name, "LEAF", &leaves, (uint64_t)c->leaf_count, LEAF_SIZE);
  if (st == FER_OK) st = need(name, "FEAT", &features, (uint64_t)c->feature_count, FEATURE_SIZE);
  if (st == FER_OK && c->feature_type == FER_CASCADE_LBP)
    st = need(name, "SUBS", &subsets, (uint64_t)c->node_count, SUBSET_SIZE);
  if (st == FER_OK) st = fer__cascade_alloc_arrays(c, name);
  if (st != FER_OK) {
    fer__cascade_destroy(c);
    return st;
  }
  /* The first_* offsets are implied by the counts; validation checks them. */
  int32_t first = 0;
  for (int32_t i = 0; i < c->stage_count; i++) {
    const uint8_t *p = stages.payload + (size_t)i * STAGE_SIZE;
    c->stages[i].first_tree = first;
    c->stages[i].tree_count = get_i32(p);
    c->stages[i].threshold = fer__get_f32le(p + 4);
    if (c->stages[i].tree_count < 0 || c->stages[i].tree_count > c->tree_count) break;
    first += c->stages[i].tree_count;
  }
  int32_t first_node = 0, first_leaf = 0;
  for (int32_t i = 0; i < c->tree_count; i++) {
    c->trees[i].first_node = first_node;
    c->trees[i].first_leaf = first_leaf;
    c->trees[i].node_count = get_i32(trees.payload + (size_t)i * TREE_SIZE);
    if (c->trees[i].node_count < 0 || c->trees[i].node_count > FER__CASCADE_MAX_NODES_PER_TREE)
      break;
    first_node += c->trees[i].node_count;
    first_leaf += c->trees[i].node_count + 1;
  }
  for (int32_t i = 0; i < c->node_count; i++) {
    const uint8_t *p = nodes.payload + (size_t)i * NODE_SIZE;
    c->nodes[i].left = get_i32(p);
    c->nodes[i].right = get_i32(p + 4);
    c->nodes[i].feature = get_i32(p + 8);
    c->nodes[i].threshold = fer__get_f32le(p + 12);
  }
  for (int32_t i = 0; i < c->leaf_count; i++)
    c->leaves[i] = fer__get_f32le(leaves.payload + (size_t)i * LEAF_SIZE);
  if (c->feature_type == FER_CASCADE_LBP)
    for (size_t i = 0; i < (size_t)c->node_count * FER__LBP_SUBSET_WORDS; i++)
      c->subsets[i] = fer__get_u32le(subsets.payload + i * 4);
  for (int32_t i = 0; i < c->feature_count; i++) {
    const uint8_t *p = features.payload + (size_t)i * FEATURE_SIZE;
    fer__cascade_feature *f = &c->features[i];
    f->tilted = get_i32(p);
    for (int k = 0; k < 3; k++) {
      const uint8_t *r = p + 4 + 20 * k;
      f->rect[k].x = get_i32(r);
      f->rect[k].y = get_i32(r + 4);
      f->rect[k].width = get_i32(r + 8);
      f->rect[k].height = get_i32(r + 12);
      f->rect[k].weight = fer__get_f32le(r + 16);
    }
    if (c->feature_type == FER_CASCADE_HAAR && f->tilted != 0 && f->tilted != 1) {
      fer__cascade_destroy(c);
      return fer__fail(FER_ERR_FORMAT, "%s: feature %d has tilted flag %d", name, (int)i,
                       (int)f->tilted);
    }
  }
  st = fer__cascade_validate(c, name);
  if (st != FER_OK) {
    fer__cascade_destroy(c);
    return st;
  }
  *out = c;
  return FER_OK;
}
