/*
 * The XML reader behind cascade loading. One pass over a private copy of
 * the input: names, attribute values and text are decoded in place and
 * NUL-terminated there, so the whole tree costs two allocations plus the
 * node and attribute arrays.
 *
 * In-place decoding is safe because decoded text is never longer than its
 * source and every terminator is written over a byte already consumed.
 */
#include "util/xml.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"

typedef struct open_element {
  int node;
  int last_child;
  char *text_end; /* where the next decoded text chunk goes; NULL once closed */
} open_element;

typedef struct parser {
  fer__xml_doc *doc;
  char *pos, *end;
  int line;
  open_element stack[FER__XML_MAX_DEPTH];
  int depth;
} parser;

static const char empty_text[1] = "";

static fer_status syntax_error(parser *p, const char *fmt, ...)
    FER__PRINTF(2, 3);
static fer_status syntax_error(parser *p, const char *fmt, ...) {
  char detail[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(detail, sizeof detail, fmt, ap);
  va_end(ap);
  return fer__fail(FER_ERR_FORMAT, "%s:%d: %s", p->doc->name, p->line, detail);
}

static int count_lines(const char *from, const char *to) {
  int n = 0;
  for (const char *c = from; c < to; c++) n += *c == '\n';
  return n;
}

/* Moves to `to`, counting the newlines passed. */
static void advance(parser *p, char *to) {
  p->line += count_lines(p->pos, to);
  p->pos = to;
}

/* Moves to `to` over raw text that is about to be decoded in place (which
 * would change its newlines): the line count is taken first, and p->line
 * is left at the start so that decoding errors name their own line. */
static int skip_raw(parser *p, char *to) {
  int lines_after = p->line + count_lines(p->pos, to);
  p->pos = to;
  return lines_after;
}

static int starts_with(const parser *p, const char *s) {
  size_t n = strlen(s);
  return (size_t)(p->end - p->pos) >= n && memcmp(p->pos, s, n) == 0;
}

static int is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}
static int is_name_start(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
         c == ':' || c >= 0x80;
}
static int is_name_char(unsigned char c) {
  return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' || c == '.';
}

static void skip_space(parser *p) {
  char *c = p->pos;
  while (c < p->end && is_space(*c)) c++;
  advance(p, c);
}

/* Finds `needle` from the current position; NULL when absent. */
static char *find(const parser *p, const char *needle) {
  size_t n = strlen(needle);
  for (char *c = p->pos; c + n <= p->end; c++) {
    c = memchr(c, needle[0], (size_t)(p->end - c));
    if (!c || c + n > p->end) return NULL;
    if (memcmp(c, needle, n) == 0) return c;
  }
  return NULL;
}

static char *put_utf8(char *dst, uint32_t cp) {
  if (cp < 0x80) {
    *dst++ = (char)cp;
  } else if (cp < 0x800) {
    *dst++ = (char)(0xC0 | (cp >> 6));
    *dst++ = (char)(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *dst++ = (char)(0xE0 | (cp >> 12));
    *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *dst++ = (char)(0x80 | (cp & 0x3F));
  } else {
    *dst++ = (char)(0xF0 | (cp >> 18));
    *dst++ = (char)(0x80 | ((cp >> 12) & 0x3F));
    *dst++ = (char)(0x80 | ((cp >> 6) & 0x3F));
    *dst++ = (char)(0x80 | (cp & 0x3F));
  }
  return dst;
}

/* Decodes [src, src_end) to `dst` (dst <= src), resolving references; sets
 * *out_end. Lines are counted by the caller over the raw source. */
static fer_status decode(parser *p, const char *src, const char *src_end,
                         char *dst, char **out_end) {
  /* p->line is the line of src on entry; errors report the line of the
   * reference itself. */
  int line = p->line;
  while (src < src_end) {
    if (*src != '&') {
      if (*src == '\n') line++;
      *dst++ = *src++;
      continue;
    }
    p->line = line;
    const char *semi = memchr(src, ';', (size_t)(src_end - src));
    if (!semi || semi - src > 12)
      return syntax_error(p, "unterminated entity reference");
    const char *name = src + 1;
    size_t len = (size_t)(semi - name);
    if (len >= 2 && name[0] == '#') {
      uint32_t cp = 0;
      int hex = name[1] == 'x';
      size_t i = hex ? 2 : 1;
      if (i == len) return syntax_error(p, "empty character reference");
      for (; i < len; i++) {
        char c = name[i];
        int digit;
        if (c >= '0' && c <= '9') digit = c - '0';
        else if (hex && c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        else if (hex && c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        else return syntax_error(p, "bad digit '%c' in character reference", c);
        cp = cp * (hex ? 16u : 10u) + (uint32_t)digit;
        if (cp > 0x10FFFF) break;
      }
      if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return syntax_error(p, "character reference to an invalid code point");
      dst = put_utf8(dst, cp);
    } else if (len == 2 && memcmp(name, "lt", 2) == 0) {
      *dst++ = '<';
    } else if (len == 2 && memcmp(name, "gt", 2) == 0) {
      *dst++ = '>';
    } else if (len == 3 && memcmp(name, "amp", 3) == 0) {
      *dst++ = '&';
    } else if (len == 4 && memcmp(name, "apos", 4) == 0) {
      *dst++ = '\'';
    } else if (len == 4 && memcmp(name, "quot", 4) == 0) {
      *dst++ = '"';
    } else {
      return syntax_error(p, "unknown entity &%.*s;", (int)len, name);
    }
    src = semi + 1;
  }
  *out_end = dst;
  return FER_OK;
}

static fer_status new_node(parser *p, fer__xml_node **out, int *index) {
  fer__xml_doc *d = p->doc;
  if (d->node_count == d->node_capacity) {
    int cap = d->node_capacity ? d->node_capacity * 2 : 256;
    fer__xml_node *grown = fer__realloc(d->nodes, fer__mul_size((size_t)cap, sizeof *grown));
    if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", d->name);
    d->nodes = grown;
    d->node_capacity = cap;
  }
  *index = d->node_count++;
  *out = &d->nodes[*index];
  memset(*out, 0, sizeof **out);
  return FER_OK;
}

static fer_status new_attr(parser *p, fer__xml_attr **out) {
  fer__xml_doc *d = p->doc;
  if (d->attr_count == d->attr_capacity) {
    int cap = d->attr_capacity ? d->attr_capacity * 2 : 16;
    fer__xml_attr *grown = fer__realloc(d->attrs, fer__mul_size((size_t)cap, sizeof *grown));
    if (!grown) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", d->name);
    d->attrs = grown;
    d->attr_capacity = cap;
  }
  *out = &d->attrs[d->attr_count++];
  return FER_OK;
}

/* Reads a name at the current position; returns its length (0 = none). */
static size_t scan_name(parser *p) {
  char *c = p->pos;
  if (c >= p->end || !is_name_start((unsigned char)*c)) return 0;
  while (c < p->end && is_name_char((unsigned char)*c)) c++;
  return (size_t)(c - p->pos);
}

/* Closes the text of the innermost open element (a child or its end tag
 * follows); the terminator lands on bytes already consumed. */
static void close_text(parser *p) {
  open_element *top = &p->stack[p->depth - 1];
  if (top->text_end) {
    fer__xml_node *n = &p->doc->nodes[top->node];
    if (n->text != empty_text) {
      *top->text_end = '\0';
      n->text_len = (size_t)(top->text_end - n->text);
    }
    top->text_end = NULL;
  }
}

/* Character data up to the next '<' (or a CDATA body when `raw`). */
static fer_status add_text(parser *p, char *start, char *stop, int raw) {
  if (p->depth == 0) {
    for (char *c = start; c < stop; c++)
      if (!is_space(*c)) return syntax_error(p, "text outside the root element");
    return FER_OK;
  }
  open_element *top = &p->stack[p->depth - 1];
  if (!top->text_end) return FER_OK; /* text after a child element: dropped */
  fer__xml_node *n = &p->doc->nodes[top->node];
  if (n->text == empty_text) {
    n->text = start;
    top->text_end = start;
  }
  if (raw) {
    memmove(top->text_end, start, (size_t)(stop - start));
    top->text_end += stop - start;
    return FER_OK;
  }
  return decode(p, start, stop, top->text_end, &top->text_end);
}

static fer_status parse_start_tag(parser *p) {
  advance(p, p->pos + 1); /* the '<' */
  size_t name_len = scan_name(p);
  if (!name_len) return syntax_error(p, "expected an element name after '<'");
  if (p->depth == FER__XML_MAX_DEPTH)
    return fer__fail(FER_ERR_TOO_LARGE, "%s:%d: elements nested deeper than %d",
                     p->doc->name, p->line, FER__XML_MAX_DEPTH);
  if (p->depth == 0 && p->doc->node_count > 0)
    return syntax_error(p, "a second root element <%.*s>", (int)name_len, p->pos);
  if (p->depth > 0) close_text(p);

  fer__xml_node *node = NULL;
  int index = 0;
  fer_status st = new_node(p, &node, &index);
  if (st != FER_OK) return st;
  char *name = p->pos;
  node->name = name;
  node->text = empty_text;
  node->line = p->line;
  node->attr_first = p->doc->attr_count;
  node->first_child = node->next_sibling = -1;
  node->parent = p->depth > 0 ? p->stack[p->depth - 1].node : -1;
  if (p->depth > 0) {
    open_element *parent = &p->stack[p->depth - 1];
    if (parent->last_child < 0) p->doc->nodes[parent->node].first_child = index;
    else p->doc->nodes[parent->last_child].next_sibling = index;
    parent->last_child = index;
  }
  advance(p, p->pos + name_len);

  /* Terminators for the element and attribute names, written once the tag
   * has been read (they overwrite '=', '>', '/' or spaces). */
  char *name_ends[1 + 64];
  int name_end_count = 0;
  name_ends[name_end_count++] = name + name_len;

  for (;;) {
    char *before = p->pos;
    skip_space(p);
    if (p->pos >= p->end) return syntax_error(p, "unterminated start tag <%.*s>", (int)name_len, name);
    if (*p->pos == '>' || *p->pos == '/') break;
    if (p->pos == before)
      return syntax_error(p, "expected a space, '>' or '/>' in <%.*s>", (int)name_len, name);
    size_t attr_len = scan_name(p);
    if (!attr_len) return syntax_error(p, "bad character '%c' in <%.*s>", *p->pos, (int)name_len, name);
    char *attr_name = p->pos;
    advance(p, p->pos + attr_len);
    skip_space(p);
    if (p->pos >= p->end || *p->pos != '=')
      return syntax_error(p, "expected '=' after attribute %.*s", (int)attr_len, attr_name);
    advance(p, p->pos + 1);
    skip_space(p);
    if (p->pos >= p->end || (*p->pos != '"' && *p->pos != '\''))
      return syntax_error(p, "expected a quoted value for attribute %.*s", (int)attr_len, attr_name);
    char quote = *p->pos;
    char *value = p->pos + 1;
    char *close = memchr(value, quote, (size_t)(p->end - value));
    if (!close) return syntax_error(p, "unterminated value of attribute %.*s", (int)attr_len, attr_name);
    if (memchr(value, '<', (size_t)(close - value)))
      return syntax_error(p, "'<' in the value of attribute %.*s", (int)attr_len, attr_name);
    if (name_end_count == (int)FER__ARRAY_LEN(name_ends))
      return fer__fail(FER_ERR_TOO_LARGE, "%s:%d: more than %d attributes on <%.*s>",
                       p->doc->name, p->line, (int)FER__ARRAY_LEN(name_ends) - 1,
                       (int)name_len, name);
    char *value_end;
    int line_after = skip_raw(p, close + 1);
    st = decode(p, value, close, value, &value_end);
    if (st != FER_OK) return st;
    p->line = line_after;
    *value_end = '\0';
    fer__xml_attr *attr = NULL;
    st = new_attr(p, &attr);
    if (st != FER_OK) return st;
    attr->name = attr_name;
    attr->value = value;
    name_ends[name_end_count++] = attr_name + attr_len;
    p->doc->nodes[index].attr_count++;
  }
  /* Refresh: new_node/new_attr may have moved the arrays. */
  node = &p->doc->nodes[index];
  int self_closing = *p->pos == '/';
  if (self_closing) {
    if (p->pos + 1 >= p->end || p->pos[1] != '>')
      return syntax_error(p, "expected '>' after '/' in <%.*s>", (int)name_len, name);
    advance(p, p->pos + 2);
  } else {
    advance(p, p->pos + 1);
  }
  for (int i = 0; i < name_end_count; i++) *name_ends[i] = '\0';
  /* Duplicate attributes are an error in XML. */
  for (int i = 0; i < node->attr_count; i++)
    for (int j = i + 1; j < node->attr_count; j++)
      if (strcmp(p->doc->attrs[node->attr_first + i].name,
                 p->doc->attrs[node->attr_first + j].name) == 0)
        return syntax_error(p, "attribute %s repeated in <%s>",
                            p->doc->attrs[node->attr_first + i].name, node->name);
  if (!self_closing) {
    open_element *e = &p->stack[p->depth++];
    e->node = index;
    e->last_child = -1;
    e->text_end = p->pos; /* text may start here; overwritten on first chunk */
    node->text = empty_text;
  }
  return FER_OK;
}

static fer_status parse_end_tag(parser *p) {
  advance(p, p->pos + 2);
  size_t len = scan_name(p);
  if (p->depth == 0) return syntax_error(p, "end tag </%.*s> without a start tag", (int)len, p->pos);
  const fer__xml_node *open = &p->doc->nodes[p->stack[p->depth - 1].node];
  /* The open element's name is NUL-terminated by now. */
  if (len != strlen(open->name) || memcmp(p->pos, open->name, len) != 0)
    return syntax_error(p, "expected </%s> (opened on line %d), found </%.*s>",
                        open->name, open->line, (int)len, p->pos);
  advance(p, p->pos + len);
  skip_space(p);
  if (p->pos >= p->end || *p->pos != '>')
    return syntax_error(p, "expected '>' to end </%s>", open->name);
  advance(p, p->pos + 1);
  close_text(p);
  p->depth--;
  return FER_OK;
}

/* <!-- -->, <![CDATA[ ]]>, <!DOCTYPE >, <? ?> */
static fer_status parse_markup(parser *p) {
  if (starts_with(p, "<!--")) {
    advance(p, p->pos + 4);
    char *close = find(p, "--");
    if (!close) return syntax_error(p, "unterminated comment");
    if (close + 2 >= p->end || close[2] != '>')
      return syntax_error(p, "'--' inside a comment");
    advance(p, close + 3);
    return FER_OK;
  }
  if (starts_with(p, "<![CDATA[")) {
    if (p->depth == 0) return syntax_error(p, "CDATA outside the root element");
    advance(p, p->pos + 9);
    char *close = find(p, "]]>");
    if (!close) return syntax_error(p, "unterminated CDATA section");
    char *body = p->pos;
    advance(p, close + 3);
    return add_text(p, body, close, 1);
  }
  if (starts_with(p, "<!DOCTYPE")) {
    if (p->depth > 0 || p->doc->node_count > 0)
      return syntax_error(p, "DOCTYPE after the root element started");
    char *c = p->pos + 9;
    while (c < p->end && *c != '>' && *c != '[') c++;
    if (c < p->end && *c == '[')
      return fer__fail(FER_ERR_UNSUPPORTED, "%s:%d: DOCTYPE with an internal subset is not supported",
                       p->doc->name, p->line);
    if (c >= p->end) return syntax_error(p, "unterminated DOCTYPE");
    advance(p, c + 1);
    return FER_OK;
  }
  if (starts_with(p, "<?")) {
    advance(p, p->pos + 2);
    if (!scan_name(p)) return syntax_error(p, "expected a name after '<?'");
    char *close = find(p, "?>");
    if (!close) return syntax_error(p, "unterminated processing instruction");
    advance(p, close + 2);
    return FER_OK;
  }
  return syntax_error(p, "unknown markup starting with '<!'");
}

static fer_status parse(parser *p) {
  while (p->pos < p->end) {
    if (*p->pos != '<') {
      char *lt = memchr(p->pos, '<', (size_t)(p->end - p->pos));
      char *stop = lt ? lt : p->end;
      char *start = p->pos;
      int line_after = skip_raw(p, stop);
      fer_status st = add_text(p, start, stop, 0);
      if (st != FER_OK) return st;
      p->line = line_after;
      continue;
    }
    fer_status st;
    if (p->pos + 1 >= p->end) return syntax_error(p, "document ends after '<'");
    if (p->pos[1] == '/') st = parse_end_tag(p);
    else if (p->pos[1] == '!' || p->pos[1] == '?') st = parse_markup(p);
    else st = parse_start_tag(p);
    if (st != FER_OK) return st;
  }
  if (p->depth > 0) {
    const fer__xml_node *open = &p->doc->nodes[p->stack[p->depth - 1].node];
    return syntax_error(p, "document ends inside <%s> (opened on line %d): expected </%s>",
                        open->name, open->line, open->name);
  }
  if (p->doc->node_count == 0) return syntax_error(p, "no root element");
  return FER_OK;
}

fer_status fer__xml_parse(const char *data, size_t size, const char *doc_name,
                          fer__xml_doc **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "xml: out is NULL");
  *out = NULL;
  if (!doc_name) doc_name = "<memory>";
  if (!data && size > 0)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: data is NULL", doc_name);
  if (size > FER__XML_MAX_SIZE)
    return fer__fail(FER_ERR_TOO_LARGE, "%s: XML document of %zu bytes exceeds the %zu byte limit",
                     doc_name, size, FER__XML_MAX_SIZE);
  if (size > 0 && memchr(data, '\0', size))
    return fer__fail(FER_ERR_FORMAT, "%s: NUL byte in an XML document", doc_name);
  fer__xml_doc *doc = fer__calloc(1, sizeof *doc);
  if (!doc) return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", doc_name);
  snprintf(doc->name, sizeof doc->name, "%s", doc_name);
  doc->buffer = fer__malloc(size + 1);
  if (!doc->buffer) {
    fer__xml_free(doc);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", doc_name);
  }
  if (size) memcpy(doc->buffer, data, size);
  doc->buffer[size] = '\0';
  parser *p = fer__malloc(sizeof *p);
  if (!p) {
    fer__xml_free(doc);
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", doc_name);
  }
  /* Size the node array once: every start tag is a '<' followed by a name
   * character, so counting those bounds the element count (growing the
   * array as we go would copy it several times). */
  size_t starts = 0;
  for (const char *c = doc->buffer; (c = memchr(c, '<', (size_t)(doc->buffer + size - c))) != NULL; c++)
    starts += c + 1 < doc->buffer + size && is_name_start((unsigned char)c[1]);
  if (starts > 0 && starts < (size_t)INT32_MAX / 2) {
    doc->nodes = fer__malloc(fer__mul_size(starts, sizeof *doc->nodes));
    if (!doc->nodes) {
      fer__free(p);
      fer__xml_free(doc);
      return fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory for %zu elements", doc_name, starts);
    }
    doc->node_capacity = (int)starts;
  }
  p->doc = doc;
  p->pos = doc->buffer;
  p->end = doc->buffer + size;
  p->line = 1;
  p->depth = 0;
  /* A UTF-8 byte order mark is allowed before the declaration. */
  if (size >= 3 && memcmp(p->pos, "\xEF\xBB\xBF", 3) == 0) p->pos += 3;
  fer_status st = parse(p);
  fer__free(p);
  if (st != FER_OK) {
    fer__xml_free(doc);
    return st;
  }
  *out = doc;
  return FER_OK;
}

void fer__xml_free(fer__xml_doc *doc) {
  if (!doc) return;
  fer__free(doc->buffer);
  fer__free(doc->nodes);
  fer__free(doc->attrs);
  fer__free(doc);
}

const fer__xml_node *fer__xml_child(const fer__xml_doc *doc,
                                    const fer__xml_node *node,
                                    const char *name) {
  for (const fer__xml_node *c = fer__xml_first_child(doc, node); c;
       c = fer__xml_next(doc, c))
    if (strcmp(c->name, name) == 0) return c;
  return NULL;
}

int fer__xml_child_count(const fer__xml_doc *doc, const fer__xml_node *node) {
  int n = 0;
  for (const fer__xml_node *c = fer__xml_first_child(doc, node); c;
       c = fer__xml_next(doc, c))
    n++;
  return n;
}

const char *fer__xml_attr_value(const fer__xml_doc *doc,
                                const fer__xml_node *node, const char *name) {
  for (int i = 0; i < node->attr_count; i++)
    if (strcmp(doc->attrs[node->attr_first + i].name, name) == 0)
      return doc->attrs[node->attr_first + i].value;
  return NULL;
}
