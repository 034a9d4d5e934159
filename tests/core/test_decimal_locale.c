/* libfer's text formats under a comma-decimal locale: a program that called
 * setlocale(LC_ALL, "de_DE.UTF-8") must load the same cascade XML and the
 * same architecture text as one in the "C" locale, and write them with a
 * '.'. The reference is the same call made first in the "C" locale.
 *
 * Needs a comma-decimal locale installed (`locale -a`); skips, saying so,
 * when there is none (comma_locale.h says how to make one). */
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "comma_locale.h"
#include "harness.h"
#include "util/decimal.h"

/* Numbers as OpenCV 4 writes them (17 significant digits, exponent form)
 * and as older cascades do ("0.", "-1."). */
static const char cascade_xml[] =
    "<?xml version=\"1.0\"?>\n<opencv_storage>\n"
    "<cascade type_id=\"opencv-cascade-classifier\"><stageType>BOOST</stageType>\n"
    "  <featureType>HAAR</featureType><height>6</height><width>6</width>\n"
    "  <stageParams><maxWeakCount>1</maxWeakCount></stageParams>\n"
    "  <featureParams><maxCatCount>0</maxCatCount></featureParams>\n"
    "  <stageNum>2</stageNum>\n  <stages>\n"
    "    <_><maxWeakCount>1</maxWeakCount>\n"
    "      <stageThreshold>-1.2563890218734741e-01</stageThreshold>\n"
    "      <weakClassifiers><_><internalNodes>0 -1 0 3.3169601112604141e-02</internalNodes>\n"
    "          <leafValues>-8.5000002384185791e-01 7.5e-01</leafValues></_></weakClassifiers></_>\n"
    "    <_><maxWeakCount>1</maxWeakCount>\n"
    "      <stageThreshold>0.5</stageThreshold>\n"
    "      <weakClassifiers><_><internalNodes>0 -1 1 0.</internalNodes>\n"
    "          <leafValues>-1. 1.</leafValues></_></weakClassifiers></_></stages>\n"
    "  <features>\n"
    "    <_><rects><_>0 0 6 6 -1.</_><_>0 0 6 3 2.</_></rects></_>\n"
    "    <_><rects><_>0 0 6 6 -1.</_><_>0 0 3 6 2.</_></rects></_></features>\n"
    "</cascade>\n</opencv_storage>\n";

static const char arch_text[] =
    "input 1x8x8\nconv 2 3x3 same\nleaky 0.125\nbn\nelu 0.75\ndrop 0.3\nflatten\ndense 3\n";

/* What one locale makes of the formats: the cascade in libfer's own binary
 * form and as XML, and the architecture read and written back. */
typedef struct results {
  void *cascade_bin;
  size_t cascade_bin_size;
  char *cascade_xml;
  size_t cascade_xml_size;
  char *arch;
} results;

static int read_formats(results *r) {
  memset(r, 0, sizeof *r);
  fer_cascade *c = NULL;
  fer_model *m = NULL;
  int ok = fer_cascade_load_memory(cascade_xml, sizeof cascade_xml - 1, &c) == FER_OK &&
           fer_cascade_encode(c, &r->cascade_bin, &r->cascade_bin_size) == FER_OK &&
           fer_cascade_encode_xml(c, &r->cascade_xml, &r->cascade_xml_size) == FER_OK &&
           fer_model_from_text(arch_text, &m) == FER_OK &&
           fer_model_to_text(m, &r->arch) == FER_OK;
  if (!ok) fprintf(stderr, "  failed: %s\n", fer_last_error());
  fer_cascade_free(c);
  fer_model_free(m);
  return ok;
}

static void free_results(results *r) {
  fer_free(r->cascade_bin);
  fer_free(r->cascade_xml);
  fer_free(r->arch);
}

int main(void) {
  results in_c, in_comma;
  CHECK(read_formats(&in_c)); /* this program starts in the "C" locale */
  const char *name = comma_locale();
  if (!name) {
    free_results(&in_c);
    SKIP("no comma-decimal locale installed (locale -a); the reader itself is "
         "tested by test_decimal");
  }
  fprintf(stderr, "locale %s, decimal point '%s'\n", name, localeconv()->decimal_point);
  /* The trap is real here: the C library reads "0.5" as 0. */
  CHECK(strtod("0.5", NULL) != 0.5);
  double v = 0;
  CHECK(fer__parse_double("0.5", NULL, &v) == FER__NUMBER_OK && v == 0.5);
  char text[32];
  fer__format_double(text, sizeof text, "%.9g", 0.25);
  CHECK_MSG(strcmp(text, "0.25") == 0, "0.25 written as '%s'", text);
  fer__format_double(text, sizeof text, "%.3e", -1.5e-7);
  CHECK_MSG(strcmp(text, "-1.500e-07") == 0, "-1.5e-7 written as '%s'", text);

  CHECK(read_formats(&in_comma));
  CHECK(in_comma.cascade_bin_size == in_c.cascade_bin_size && in_c.cascade_bin &&
        in_comma.cascade_bin &&
        memcmp(in_comma.cascade_bin, in_c.cascade_bin, in_c.cascade_bin_size) == 0);
  CHECK(in_c.cascade_xml && in_comma.cascade_xml &&
        strcmp(in_c.cascade_xml, in_comma.cascade_xml) == 0);
  CHECK(in_comma.cascade_xml && strchr(in_comma.cascade_xml, ',') == NULL);
  CHECK(in_c.arch && in_comma.arch && strcmp(in_c.arch, in_comma.arch) == 0);
  CHECK(in_comma.arch && strstr(in_comma.arch, "0.125") && strstr(in_comma.arch, "0.3"));
  free_results(&in_c);
  free_results(&in_comma);
  setlocale(LC_ALL, "C");
  return harness_finish();
}
