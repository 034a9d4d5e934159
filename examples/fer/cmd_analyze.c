/*
 * fer analyze: find the faces in images and classify their expressions.
 *
 *   fer analyze IMAGE|DIR... [--json | --csv] [--annotate DIR] [options]
 *
 * Output formats are documented with examples in docs/cli.md.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_analyzer.h"

#define MAX_FACES 256

enum output_format { OUTPUT_TEXT, OUTPUT_JSON, OUTPUT_CSV };

static void usage(FILE *out) {
  fprintf(out,
          "usage: fer analyze IMAGE|DIR... [options]\n"
          "\n"
          "Finds the faces in each image (a folder stands for the images in it) and\n"
          "classifies their expressions.\n"
          "\n"
          "options:\n"
          "  --json                one JSON object per image per line\n"
          "  --csv                 one CSV row per face, with a header\n"
          "  --annotate DIR        write DIR/NAME.png with boxes and labels drawn\n");
  cli_analyzer_usage(out);
  fprintf(out, "\nExit status: 0 ok, 1 an image or file could not be used, 2 usage.\n");
}

/* A growing list of image paths (owned copies). */
typedef struct path_list {
  char **paths;
  size_t count, capacity;
} path_list;

static int path_list_add(path_list *list, const char *path) {
  if (list->count == list->capacity) {
    size_t cap = list->capacity ? list->capacity * 2 : 16;
    char **grown = realloc(list->paths, cap * sizeof *grown);
    if (!grown) return 0;
    list->paths = grown;
    list->capacity = cap;
  }
  size_t n = strlen(path) + 1;
  char *copy = malloc(n);
  if (!copy) return 0;
  memcpy(copy, path, n);
  list->paths[list->count++] = copy;
  return 1;
}

static void path_list_free(path_list *list) {
  for (size_t i = 0; i < list->count; i++) free(list->paths[i]);
  free(list->paths);
}

static int has_image_extension(const char *name) {
  static const char *const extensions[] = {".jpg", ".jpeg", ".png", ".bmp", ".pgm",
                                           ".ppm", ".pnm", ".pbm"};
  const char *dot = strrchr(name, '.');
  if (!dot) return 0;
  for (size_t i = 0; i < sizeof extensions / sizeof extensions[0]; i++) {
    const char *e = extensions[i];
    size_t k = 0;
    while (e[k] && dot[k] && (dot[k] | 0x20) == e[k]) k++;
    if (!e[k] && !dot[k]) return 1;
  }
  return 0;
}

static int compare_paths(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Adds `path`, or the images of the folder `path` in name order. */
static int collect(const char *path, path_list *list) {
  struct stat info;
  if (stat(path, &info) != 0) {
    fprintf(stderr, "fer analyze: %s: %s\n", path, strerror(errno));
    return CLI_FAILURE;
  }
  if (!S_ISDIR(info.st_mode)) return path_list_add(list, path) ? CLI_OK : CLI_FAILURE;
  DIR *dir = opendir(path);
  if (!dir) {
    fprintf(stderr, "fer analyze: %s: %s\n", path, strerror(errno));
    return CLI_FAILURE;
  }
  size_t first = list->count;
  struct dirent *entry;
  int rc = CLI_OK;
  while (rc == CLI_OK && (entry = readdir(dir)) != NULL) {
    if (entry->d_name[0] == '.' || !has_image_extension(entry->d_name)) continue;
    size_t n = strlen(path) + strlen(entry->d_name) + 2;
    char *full = malloc(n);
    if (!full) rc = CLI_FAILURE;
    else {
      snprintf(full, n, "%s/%s", path, entry->d_name);
      if (!path_list_add(list, full)) rc = CLI_FAILURE;
      free(full);
    }
  }
  closedir(dir);
  qsort(list->paths + first, list->count - first, sizeof *list->paths, compare_paths);
  return rc;
}

static void print_text(const fer_analyzer *an, const char *path, const fer_face *faces,
                       const float *probs, size_t n, int k) {
  printf("%s: %zu face%s\n", path, n, n == 1 ? "" : "s");
  for (size_t i = 0; i < n; i++) {
    const fer_face *f = &faces[i];
    printf("  face %zu at %d,%d %dx%d: %s %.0f%%", i + 1, f->box.x, f->box.y, f->box.width,
           f->box.height, cli_class_name(fer_analyzer_model(an), f->label), 100.0 * f->confidence);
    /* The next two classes, so a reader sees how sure the model was. */
    int shown[2] = {-1, -1};
    for (int s = 0; s < 2 && s + 1 < k; s++) {
      int best = -1;
      for (int c = 0; c < k; c++)
        if (c != f->label && c != shown[0] && (best < 0 || probs[i * (size_t)k + (size_t)c] >
                                                               probs[i * (size_t)k + (size_t)best]))
          best = c;
      shown[s] = best;
      printf("%s%s %.0f%%", s ? ", " : " (then ", cli_class_name(fer_analyzer_model(an), best),
             100.0 * probs[i * (size_t)k + (size_t)best]);
    }
    printf("%s\n", k > 1 ? ")" : "");
  }
}

static void print_json(const fer_analyzer *an, const char *path, const fer_image *img,
                       const fer_face *faces, const float *probs, size_t n, int k) {
  printf("{\"image\":");
  cli_json_string(stdout, path);
  printf(",\"width\":%d,\"height\":%d,\"faces\":[", fer_image_width(img), fer_image_height(img));
  for (size_t i = 0; i < n; i++) {
    const fer_face *f = &faces[i];
    printf("%s{\"box\":{\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d},"
           "\"detector_score\":%.6g,\"neighbors\":%d,\"label\":",
           i ? "," : "", f->box.x, f->box.y, f->box.width, f->box.height, f->detector_score,
           (int)f->neighbors);
    cli_json_string(stdout, cli_class_name(fer_analyzer_model(an), f->label));
    printf(",\"confidence\":%.6f,\"probabilities\":{", f->confidence);
    for (int c = 0; c < k; c++) {
      printf("%s", c ? "," : "");
      cli_json_string(stdout, cli_class_name(fer_analyzer_model(an), c));
      printf(":%.6f", probs[i * (size_t)k + (size_t)c]);
    }
    printf("}}");
  }
  printf("]}\n");
}

static void print_csv_header(const fer_analyzer *an, int k) {
  printf("image,face,x,y,width,height,detector_score,label,confidence");
  for (int c = 0; c < k; c++) printf(",%s", cli_class_name(fer_analyzer_model(an), c));
  printf("\n");
}

/* CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, stdout);
    return;
  }
  putchar('"');
  for (; *s; s++) {
    if (*s == '"') putchar('"');
    putchar(*s);
  }
  putchar('"');
}

static void print_csv(const fer_analyzer *an, const char *path, const fer_face *faces,
                      const float *probs, size_t n, int k) {
  for (size_t i = 0; i < n; i++) {
    const fer_face *f = &faces[i];
    csv_field(path);
    printf(",%zu,%d,%d,%d,%d,%.6g,%s,%.6f", i + 1, f->box.x, f->box.y, f->box.width,
           f->box.height, f->detector_score, cli_class_name(fer_analyzer_model(an), f->label),
           f->confidence);
    for (int c = 0; c < k; c++) printf(",%.6f", probs[i * (size_t)k + (size_t)c]);
    printf("\n");
  }
}

/* DIR/NAME.png for the image at `path`. */
static int annotate(const fer_analyzer *an, const fer_image *img, const char *path,
                    const char *dir, const fer_face *faces, size_t n) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t len = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot && dot != base) len = (size_t)(dot - base);
  size_t size = strlen(dir) + len + 6;
  char *out = malloc(size);
  if (!out) return CLI_FAILURE;
  snprintf(out, size, "%s/%.*s.png", dir, (int)len, base);
  fer_image *rgb = NULL;
  fer_status st = fer_image_to_rgb(img, &rgb);
  if (st == FER_OK) st = fer_analyzer_annotate(an, rgb, faces, n);
  if (st == FER_OK) st = fer_image_save(rgb, out, FER_IMAGE_FORMAT_PNG);
  if (st != FER_OK) fprintf(stderr, "fer analyze: %s: %s\n", out, fer_last_error());
  fer_image_free(rgb);
  free(out);
  return st == FER_OK ? CLI_OK : CLI_FAILURE;
}

static int analyze_one(fer_analyzer *an, const char *path, enum output_format format,
                       const char *annotate_dir, fer_face *faces, float *probs) {
  fer_image *img;
  if (fer_image_load(path, FER_DECODE_DEFAULT, &img) != FER_OK) {
    fprintf(stderr, "fer analyze: %s\n", fer_last_error());
    return CLI_FAILURE;
  }
  int k = fer_analyzer_num_classes(an);
  size_t n = 0;
  fer_status st = fer_analyzer_run(an, img, faces, probs, MAX_FACES, (size_t)k, &n);
  if (st == FER_ERR_BUFFER_TOO_SMALL) {
    fprintf(stderr, "fer analyze: %s: %zu faces, reporting the %d largest\n", path, n, MAX_FACES);
    n = MAX_FACES;
  } else if (st != FER_OK) {
    fprintf(stderr, "fer analyze: %s: %s\n", path, fer_last_error());
    fer_image_free(img);
    return CLI_FAILURE;
  }
  if (format == OUTPUT_JSON) print_json(an, path, img, faces, probs, n, k);
  else if (format == OUTPUT_CSV) print_csv(an, path, faces, probs, n, k);
  else print_text(an, path, faces, probs, n, k);
  fflush(stdout);
  int rc = annotate_dir ? annotate(an, img, path, annotate_dir, faces, n) : CLI_OK;
  fer_image_free(img);
  return rc;
}

int cmd_analyze(int argc, char **argv) {
  cli_analyzer_options opt = {0};
  enum output_format format = OUTPUT_TEXT;
  const char *annotate_dir = NULL;
  char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
  int input_count = 0;
  if (!inputs) return CLI_FAILURE;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    int shared = cli_analyzer_parse("analyze", argc, argv, &i, &opt);
    if (shared < 0) {
      free(inputs);
      return CLI_USAGE;
    }
    if (shared) continue;
    if (cli_is_help(a)) {
      usage(stdout);
      free(inputs);
      return CLI_OK;
    } else if (strcmp(a, "--json") == 0 || strcmp(a, "--csv") == 0) {
      enum output_format f = a[2] == 'j' ? OUTPUT_JSON : OUTPUT_CSV;
      if (format != OUTPUT_TEXT && format != f) {
        fprintf(stderr, "fer analyze: --json and --csv exclude each other\n");
        free(inputs);
        return CLI_USAGE;
      }
      format = f;
    } else if (strcmp(a, "--annotate") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, "fer analyze: --annotate needs a folder\n");
        free(inputs);
        return CLI_USAGE;
      }
      annotate_dir = argv[++i];
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "fer analyze: unknown option %s\n", a);
      usage(stderr);
      free(inputs);
      return CLI_USAGE;
    } else {
      inputs[input_count++] = argv[i];
    }
  }
  if (input_count == 0) {
    fprintf(stderr, "fer analyze: no image given\n");
    usage(stderr);
    free(inputs);
    return CLI_USAGE;
  }
  int rc = CLI_OK;
  if (annotate_dir) {
    struct stat info;
    if (stat(annotate_dir, &info) != 0 && mkdir(annotate_dir, 0777) != 0) {
      fprintf(stderr, "fer analyze: --annotate %s: %s\n", annotate_dir, strerror(errno));
      free(inputs);
      return CLI_FAILURE;
    }
  }
  path_list images = {0};
  for (int i = 0; i < input_count; i++)
    if (collect(inputs[i], &images) != CLI_OK) rc = CLI_FAILURE;
  free(inputs);
  cli_analyzer ca;
  int open_rc = cli_analyzer_open("analyze", &opt, 1, &ca);
  if (open_rc != CLI_OK) {
    path_list_free(&images);
    return open_rc;
  }
  int k = fer_analyzer_num_classes(ca.analyzer);
  fer_face *faces = malloc(MAX_FACES * sizeof *faces);
  float *probs = malloc((size_t)MAX_FACES * (size_t)k * sizeof *probs);
  if (!faces || !probs) rc = CLI_FAILURE;
  if (faces && probs && format == OUTPUT_CSV) print_csv_header(ca.analyzer, k);
  for (size_t i = 0; faces && probs && i < images.count; i++)
    if (analyze_one(ca.analyzer, images.paths[i], format, annotate_dir, faces, probs) != CLI_OK)
      rc = CLI_FAILURE;
  free(faces);
  free(probs);
  cli_analyzer_close(&ca);
  path_list_free(&images);
  return rc;
}
