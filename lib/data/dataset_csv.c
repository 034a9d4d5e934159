/* FER2013 in its original CSV layout: a header naming the columns emotion,
 * pixels and Usage, then one row per image with 2304 space-separated grey
 * levels. Parsed by hand (no strtol, no sscanf) because the full file is
 * about 290 MB and must load in seconds. */
#include <stdio.h>
#include <string.h>

#include "core/core_internal.h"
#include "data/dataset_internal.h"
#include "util/lines.h"

#define SIDE FER_FER2013_SIDE
#define PIXELS (SIDE * SIDE)

/* The CSV's integer order; the folder layout's alphabetical order differs,
 * which is why every loader maps classes by name. */
static const char *const fer2013_classes[FER_FER2013_CLASSES] = {
    "angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"};

int fer_fer2013_class_count(void) { return FER_FER2013_CLASSES; }

const char *fer_fer2013_class_name(int index) {
  if (index < 0 || index >= FER_FER2013_CLASSES) return NULL;
  return fer2013_classes[index];
}

static const char *const usage_names[] = {
    [FER_USAGE_TRAINING] = "Training",
    [FER_USAGE_PUBLIC_TEST] = "PublicTest",
    [FER_USAGE_PRIVATE_TEST] = "PrivateTest"};

/* Where each needed column sits in a row, from the header. */
typedef struct columns {
  int emotion, pixels, usage; /* -1 when absent */
  int count;
} columns;

/* A field of a row: bytes [begin, begin+len), surrounding quotes removed. */
typedef struct field {
  const char *begin;
  size_t len;
} field;

#define MAX_FIELDS 16

/* Splits a line at commas into at most MAX_FIELDS fields; returns their
 * number, or MAX_FIELDS + 1 when there are more. */
static int split_fields(const char *line, size_t len, field *fields) {
  int n = 0;
  size_t start = 0;
  for (size_t i = 0; i <= len; i++) {
    if (i < len && line[i] != ',') continue;
    if (n == MAX_FIELDS) return MAX_FIELDS + 1;
    const char *b = line + start;
    size_t l = i - start;
    while (l && (*b == ' ' || *b == '\t')) b++, l--;
    while (l && (b[l - 1] == ' ' || b[l - 1] == '\t')) l--;
    if (l >= 2 && b[0] == '"' && b[l - 1] == '"') b++, l -= 2;
    fields[n].begin = b;
    fields[n].len = l;
    n++;
    start = i + 1;
  }
  return n;
}

static fer_status parse_header(const char *name, const char *line, size_t len,
                               columns *cols) {
  field f[MAX_FIELDS];
  int n = split_fields(line, len, f);
  cols->emotion = cols->pixels = cols->usage = -1;
  cols->count = n;
  if (n > MAX_FIELDS)
    return fer__fail(FER_ERR_FORMAT, "%s:1: header has more than %d columns",
                     name, MAX_FIELDS);
  /* A UTF-8 byte order mark before the first name is harmless. */
  if (f[0].len >= 3 && memcmp(f[0].begin, "\xEF\xBB\xBF", 3) == 0)
    f[0].begin += 3, f[0].len -= 3;
  for (int i = 0; i < n; i++) {
    if (fer__equal_ignore_case(f[i].begin, f[i].len, "emotion"))
      cols->emotion = i;
    else if (fer__equal_ignore_case(f[i].begin, f[i].len, "pixels"))
      cols->pixels = i;
    else if (fer__equal_ignore_case(f[i].begin, f[i].len, "usage"))
      cols->usage = i;
  }
  if (cols->emotion < 0 || cols->pixels < 0)
    return fer__fail(FER_ERR_NOT_FOUND,
                     "%s:1: header lacks the column '%s' (expected "
                     "emotion,pixels,Usage)",
                     name, cols->emotion < 0 ? "emotion" : "pixels");
  return FER_OK;
}

/* Parses "0".."6" into *label. */
static fer_status parse_emotion(const field *f, int32_t *label) {
  int value = 0;
  if (f->len == 0 || f->len > 4)
    return fer__fail(FER_ERR_FORMAT, "emotion '%.*s' is not a class index 0..%d",
                     (int)FER__MIN(f->len, 32), f->begin,
                     FER_FER2013_CLASSES - 1);
  for (size_t i = 0; i < f->len; i++) {
    char c = f->begin[i];
    if (c < '0' || c > '9')
      return fer__fail(FER_ERR_FORMAT,
                       "emotion '%.*s' is not a class index 0..%d",
                       (int)f->len, f->begin, FER_FER2013_CLASSES - 1);
    value = value * 10 + (c - '0');
  }
  if (value >= FER_FER2013_CLASSES)
    return fer__fail(FER_ERR_FORMAT, "unknown emotion index %d (expected 0..%d)",
                     value, FER_FER2013_CLASSES - 1);
  *label = value;
  return FER_OK;
}

static fer_status parse_usage(const field *f, fer_usage *usage) {
  for (int u = FER_USAGE_TRAINING; u <= FER_USAGE_PRIVATE_TEST; u++)
    if (fer__equal_ignore_case(f->begin, f->len, usage_names[u])) {
      *usage = (fer_usage)u;
      return FER_OK;
    }
  return fer__fail(FER_ERR_FORMAT,
                   "bad Usage '%.*s' (expected Training, PublicTest or "
                   "PrivateTest)",
                   (int)FER__MIN(f->len, 32), f->begin);
}

/* Parses exactly PIXELS grey levels 0..255 separated by spaces or tabs. */
static fer_status parse_pixels(const field *f, uint8_t *dst) {
  const char *p = f->begin, *end = f->begin + f->len;
  size_t count = 0;
  while (p < end) {
    if (*p == ' ' || *p == '\t') {
      p++;
      continue;
    }
    unsigned value = 0;
    int digits = 0;
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9') {
      if (digits < 4) value = value * 10 + (unsigned)(*p - '0');
      digits++;
      p++;
    }
    if (digits == 0 || (p < end && *p != ' ' && *p != '\t')) {
      const char *bad = p < end ? p : start;
      return fer__fail(FER_ERR_FORMAT,
                       "unexpected character '%c' in pixel value %zu",
                       (*bad >= 32 && *bad < 127) ? *bad : '?', count + 1);
    }
    if (value > 255 || digits > 3)
      return fer__fail(FER_ERR_FORMAT,
                       "pixel value %zu is %.*s, outside 0..255", count + 1,
                       (int)FER__MIN(digits, 12), start);
    if (count < PIXELS) dst[count] = (uint8_t)value;
    count++;
  }
  if (count != PIXELS)
    return fer__fail(FER_ERR_FORMAT, "%zu pixel values, expected %d (%dx%d)",
                     count, PIXELS, SIDE, SIDE);
  return FER_OK;
}

/* Parses one data row. Returns FER_OK with *selected = 0 for a well-formed
 * row that `usage` leaves out (its pixels are not parsed, which keeps
 * loading one split fast). Messages lack the location; the caller adds it. */
static fer_status parse_row(fer_dataset *ds, const columns *cols,
                            const char *line, size_t len, fer_usage usage,
                            int *selected) {
  field f[MAX_FIELDS];
  int n = split_fields(line, len, f);
  *selected = 0;
  if (n != cols->count)
    return fer__fail(FER_ERR_FORMAT, "%d fields, expected %d as in the header",
                     n > MAX_FIELDS ? MAX_FIELDS + 1 : n, cols->count);
  int32_t label = 0;
  fer_status st = parse_emotion(&f[cols->emotion], &label);
  if (st != FER_OK) return st;
  if (cols->usage >= 0) {
    fer_usage row_usage = FER_USAGE_ALL;
    st = parse_usage(&f[cols->usage], &row_usage);
    if (st != FER_OK) return st;
    if (usage != FER_USAGE_ALL && usage != row_usage) return FER_OK;
  }
  uint8_t *dst = fer__dataset_append(ds, label);
  if (!dst) return FER_ERR_OUT_OF_MEMORY;
  st = parse_pixels(&f[cols->pixels], dst);
  if (st != FER_OK) {
    fer__dataset_drop_last(ds);
    return st;
  }
  *selected = 1;
  return FER_OK;
}

static fer_status load(fer__line_reader *reader, fer_usage usage,
                       unsigned flags, fer_dataset **out) {
  const char *name = fer__line_reader_name(reader);
  fer_dataset *ds;
  fer_status st = fer__dataset_new(1, SIDE, SIDE, fer2013_classes,
                                   FER_FER2013_CLASSES, name, &ds);
  if (st != FER_OK) return st;
  const char *line;
  size_t len;
  st = fer__line_reader_next(reader, &line, &len);
  if (st == FER_OK && !line)
    st = fer__fail(FER_ERR_FORMAT, "%s: empty file (no header)", name);
  columns cols = {-1, -1, -1, 0};
  if (st == FER_OK) st = parse_header(name, line, len, &cols);
  if (st == FER_OK && cols.usage < 0 && usage != FER_USAGE_ALL)
    st = fer__fail(FER_ERR_NOT_FOUND,
                   "%s:1: no Usage column to select %s rows by", name,
                   usage_names[usage]);
  while (st == FER_OK) {
    st = fer__line_reader_next(reader, &line, &len);
    if (st != FER_OK || !line) break;
    if (len == 0) continue; /* blank lines, typically at the end */
    int selected;
    st = parse_row(ds, &cols, line, len, usage, &selected);
    if (st == FER_ERR_FORMAT && (flags & FER_DATASET_SKIP_BAD)) {
      ds->skipped++;
      st = FER_OK;
    } else if (st != FER_OK) {
      char where[512];
      snprintf(where, sizeof where, "%s:%ld", name,
               fer__line_reader_number(reader));
      fer__fail_prefix(st, where);
    }
  }
  if (st != FER_OK) {
    fer_dataset_free(ds);
    return st;
  }
  fer__dataset_shrink(ds);
  *out = ds;
  return FER_OK;
}

static fer_status check_arguments(const char *who, fer_usage usage,
                                  unsigned flags, fer_dataset **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  if ((unsigned)usage > FER_USAGE_PRIVATE_TEST)
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: unknown usage %d", who,
                     (int)usage);
  if (flags & ~(FER_DATASET_SKIP_BAD | FER_DATASET_SKIP_UNKNOWN_CLASSES))
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: unknown flags 0x%x", who,
                     flags);
  return FER_OK;
}

fer_status fer_dataset_load_fer2013_csv(const char *path, fer_usage usage,
                                        unsigned flags, fer_dataset **out) {
  fer_status st =
      check_arguments("fer_dataset_load_fer2013_csv", usage, flags, out);
  if (st != FER_OK) return st;
  fer__line_reader *reader;
  st = fer__line_reader_open(path, &reader);
  if (st != FER_OK) return st;
  st = load(reader, usage, flags, out);
  fer__line_reader_close(reader);
  return st;
}

fer_status fer_dataset_parse_fer2013_csv(const void *data, size_t size,
                                         fer_usage usage, unsigned flags,
                                         fer_dataset **out) {
  fer_status st =
      check_arguments("fer_dataset_parse_fer2013_csv", usage, flags, out);
  if (st != FER_OK) return st;
  fer__line_reader *reader;
  st = fer__line_reader_open_memory(data, size, &reader);
  if (st != FER_OK) return st;
  st = load(reader, usage, flags, out);
  fer__line_reader_close(reader);
  return st;
}
