/* The XML reader behind cascade loading: structure, text decoding, errors
 * with line numbers, limits. Expected values are written out by hand. */
#include "core/core_internal.h"
#include "harness.h"
#include "util/xml.h"

static fer__xml_doc *parse_ok(const char *text) {
  fer__xml_doc *doc = NULL;
  CHECK_OK(fer__xml_parse(text, strlen(text), "t.xml", &doc));
  return doc;
}

static void test_structure(void) {
  const char *text =
      "<?xml version=\"1.0\"?>\n"
      "<!-- a comment -->\n"
      "<!DOCTYPE cascade>\n"
      "<root a=\"1\" b='two'>\n"
      "  <first>hello</first>\n"
      "  <second x=\"y\"/>\n"
      "  <third>  <inner>7</inner> </third>\n"
      "</root>\n";
  fer__xml_doc *doc = parse_ok(text);
  if (!doc) return;
  const fer__xml_node *root = fer__xml_root(doc);
  CHECK(strcmp(root->name, "root") == 0);
  CHECK_EQ_INT(root->line, 4);
  CHECK(strcmp(fer__xml_attr_value(doc, root, "a"), "1") == 0);
  CHECK(strcmp(fer__xml_attr_value(doc, root, "b"), "two") == 0);
  CHECK(fer__xml_attr_value(doc, root, "c") == NULL);
  CHECK_EQ_INT(fer__xml_child_count(doc, root), 3);
  const fer__xml_node *first = fer__xml_child(doc, root, "first");
  CHECK(first && strcmp(first->text, "hello") == 0 && first->text_len == 5);
  CHECK(first && first->line == 5);
  const fer__xml_node *second = fer__xml_child(doc, root, "second");
  CHECK(second && strcmp(second->text, "") == 0 && second->first_child == -1);
  CHECK(second && strcmp(fer__xml_attr_value(doc, second, "x"), "y") == 0);
  const fer__xml_node *third = fer__xml_child(doc, root, "third");
  const fer__xml_node *inner = third ? fer__xml_child(doc, third, "inner") : NULL;
  CHECK(inner && strcmp(inner->text, "7") == 0 && inner->line == 7);
  CHECK(fer__xml_child(doc, root, "missing") == NULL);
  fer__xml_free(doc);
}

static void test_text_decoding(void) {
  const char *text =
      "<r q=\"&quot;&amp;&lt;&gt;&apos;\">a&amp;b<!-- gone -->c&#65;&#x42;&#233;"
      "<![CDATA[<raw & text>]]>z</r>";
  fer__xml_doc *doc = parse_ok(text);
  if (!doc) return;
  const fer__xml_node *r = fer__xml_root(doc);
  CHECK(strcmp(fer__xml_attr_value(doc, r, "q"), "\"&<>'") == 0);
  /* &#233; is U+00E9, two bytes in UTF-8. */
  CHECK_MSG(strcmp(r->text, "a&bcAB\xC3\xA9<raw & text>z") == 0, "text was \"%s\"", r->text);
  fer__xml_free(doc);
}

/* Each bad document must fail with FER_ERR_FORMAT naming the right line. */
static void test_errors(void) {
  static const struct {
    const char *text;
    const char *message;
  } cases[] = {
      {"<a>\n<b>\n</c>\n</a>", "t.xml:3: expected </b>"},
      {"<a>\n<b>\n", "t.xml:3: document ends inside <b>"},
      {"<a>&bogus;</a>", "t.xml:1: unknown entity &bogus;"},
      {"<a>\n\n&#xZZ;</a>", "t.xml:3: bad digit"},
      {"<a x=1></a>", "t.xml:1: expected a quoted value"},
      {"<a x='1' x='2'></a>", "attribute x repeated"},
      {"<a></a><b></b>", "a second root element"},
      {"<a><!-- open", "unterminated comment"},
      {"text", "text outside the root element"},
      {"", "no root element"},
      {"<a>\n</a>\n</a>", "t.xml:3: end tag </a> without a start tag"},
      {"<a>&#0;</a>", "invalid code point"},
  };
  for (size_t i = 0; i < FER__ARRAY_LEN(cases); i++) {
    fer__xml_doc *doc = (fer__xml_doc *)1;
    fer_status st = fer__xml_parse(cases[i].text, strlen(cases[i].text), "t.xml", &doc);
    CHECK_MSG(st == FER_ERR_FORMAT, "case %zu returned %s", i, fer_status_string(st));
    CHECK(doc == NULL);
    CHECK_MESSAGE_CONTAINS(cases[i].message);
  }
}

static void test_limits(void) {
  /* Nesting deeper than the limit is refused, not recursed into. */
  size_t depth = FER__XML_MAX_DEPTH + 1;
  char *text = malloc(depth * 7 + 1);
  size_t n = 0;
  for (size_t i = 0; i < depth; i++) n += (size_t)sprintf(text + n, "<a>");
  for (size_t i = 0; i < depth; i++) n += (size_t)sprintf(text + n, "</a>");
  fer__xml_doc *doc;
  CHECK_STATUS(fer__xml_parse(text, n, "deep.xml", &doc), FER_ERR_TOO_LARGE);
  CHECK_MESSAGE_CONTAINS("deep.xml:1:");
  free(text);
  /* NUL bytes cannot appear in XML. */
  CHECK_STATUS(fer__xml_parse("<a>\0</a>", 8, "nul.xml", &doc), FER_ERR_FORMAT);
}

static void test_allocation_failures(void) {
  const char *text = "<r><a x='1'>t</a><b/><c>&amp;</c></r>";
  for (long n = 1; n < 20; n++) {
    fer__xml_doc *doc;
    fer__alloc_fail_after(n);
    fer_status st = fer__xml_parse(text, strlen(text), "t.xml", &doc);
    fer__alloc_fail_after(0);
    CHECK(st == FER_OK || st == FER_ERR_OUT_OF_MEMORY);
    if (st == FER_OK) fer__xml_free(doc);
  }
}

int main(void) {
  RUN(test_structure);
  RUN(test_text_decoding);
  RUN(test_errors);
  RUN(test_limits);
  RUN(test_allocation_failures);
  return harness_finish();
}
