/*
 * A small, strict XML reader written for cascade files: it builds a read-only
 * element tree from a whole in-memory document.
 *
 * Supported: elements, attributes ('..' or ".."), character data, comments,
 * CDATA sections, processing instructions and the <?xml ...?> declaration
 * (both skipped), a DOCTYPE without an internal subset (skipped), the five
 * predefined entities and numeric character references (&#65; &#x41;,
 * written out as UTF-8). Namespaces are not interpreted (a prefix is part of
 * the name).
 *
 * Every error message names the document and the line:
 *   "cascade.xml:412: expected </stages>, found </stage>"
 */
#ifndef FER_UTIL_XML_H
#define FER_UTIL_XML_H

#include <stddef.h>

#include "fer/core.h"

/* Limits that keep hostile input cheap: nesting depth and document size. */
#define FER__XML_MAX_DEPTH 256
#define FER__XML_MAX_SIZE ((size_t)256 << 20)

typedef struct fer__xml_attr {
  const char *name;
  const char *value; /* entities decoded */
} fer__xml_attr;

typedef struct fer__xml_node {
  const char *name;
  /* Character data directly inside the element (entities decoded, CDATA
   * included, comments removed), NUL-terminated. For an element with child
   * elements, only the text before its first child is kept: cascade files
   * never mix text and elements. */
  const char *text;
  size_t text_len;
  int line; /* line of the start tag, 1-based */
  int attr_first, attr_count;  /* into doc->attrs */
  int first_child, next_sibling, parent; /* node indices, -1 when none */
} fer__xml_node;

typedef struct fer__xml_doc {
  char *buffer;          /* mutable copy of the input; strings point into it */
  fer__xml_node *nodes;  /* nodes[0] is the root element */
  int node_count, node_capacity;
  fer__xml_attr *attrs;
  int attr_count, attr_capacity;
  char name[128];        /* document name for messages */
} fer__xml_doc;

/* Parses `size` bytes into a new document; `doc_name` (a file name, or
 * "<memory>") prefixes error messages. FER_ERR_FORMAT with a line number on
 * malformed input, FER_ERR_TOO_LARGE past the limits, FER_ERR_OUT_OF_MEMORY. */
fer_status fer__xml_parse(const char *data, size_t size, const char *doc_name,
                          fer__xml_doc **out);
void fer__xml_free(fer__xml_doc *doc);

static inline const fer__xml_node *fer__xml_node_at(const fer__xml_doc *doc,
                                                    int index) {
  return index >= 0 && index < doc->node_count ? &doc->nodes[index] : NULL;
}
static inline const fer__xml_node *fer__xml_root(const fer__xml_doc *doc) {
  return fer__xml_node_at(doc, 0);
}
static inline const fer__xml_node *fer__xml_first_child(
    const fer__xml_doc *doc, const fer__xml_node *node) {
  return fer__xml_node_at(doc, node->first_child);
}
static inline const fer__xml_node *fer__xml_next(const fer__xml_doc *doc,
                                                 const fer__xml_node *node) {
  return fer__xml_node_at(doc, node->next_sibling);
}

/* The first child element called `name`, or NULL. */
const fer__xml_node *fer__xml_child(const fer__xml_doc *doc,
                                    const fer__xml_node *node,
                                    const char *name);
/* Number of child elements. */
int fer__xml_child_count(const fer__xml_doc *doc, const fer__xml_node *node);
/* The value of attribute `name`, or NULL. */
const char *fer__xml_attr_value(const fer__xml_doc *doc,
                                const fer__xml_node *node, const char *name);

#endif
