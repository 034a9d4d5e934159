/*
 * fer analyze: find the faces in images and classify their expressions.
 *
 *   fer analyze IMAGE|DIR... [--json | --csv] [-r] [-o FILE] [--jobs N]
 *               [--annotate DIR] [options]
 *
 * Output formats are documented with examples in docs/cli.md; batch runs
 * over large collections (resuming, jobs, GNU parallel across machines) in
 * docs/distributed.md.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
          "  -r, --recursive       folders stand for the images in their whole tree\n"
          "  -o, --output FILE     append the --json or --csv lines to FILE; images\n"
          "                        already in FILE are skipped (resume a stopped run)\n"
          "  --jobs N              analyse N images at a time (threads; default 1)\n"
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

/* Adds `path`, or the images of the folder `path` in name order (with
 * `recursive`, those of its sub-folders too: the whole tree's paths in
 * bytewise order). Hidden entries (a leading '.') are skipped. */
static int collect_tree(const char *path, path_list *list, int recursive, int top);

static int collect(const char *path, path_list *list, int recursive) {
  return collect_tree(path, list, recursive, 1);
}

static int collect_tree(const char *path, path_list *list, int recursive, int top) {
  struct stat info;
  if (stat(path, &info) != 0) {
    fprintf(stderr, "fer analyze: %s: %s\n", path, strerror(errno));
    return CLI_FAILURE;
  }
  if (!S_ISDIR(info.st_mode)) {
    if (!top && !has_image_extension(path)) return CLI_OK;
    return path_list_add(list, path) ? CLI_OK : CLI_FAILURE;
  }
  DIR *dir = opendir(path);
  if (!dir) {
    fprintf(stderr, "fer analyze: %s: cannot read the folder: %s\n", path, strerror(errno));
    return CLI_FAILURE;
  }
  size_t first = list->count;
  struct dirent *entry;
  int rc = CLI_OK;
  for (;;) {
    errno = 0;
    if (rc != CLI_OK || (entry = readdir(dir)) == NULL) break;
    if (entry->d_name[0] == '.') continue;
    if (!recursive && !has_image_extension(entry->d_name)) continue;
    size_t n = strlen(path) + strlen(entry->d_name) + 2;
    char *full = malloc(n);
    if (!full) {
      rc = CLI_FAILURE;
      break;
    }
    const char *sep = path[0] && path[strlen(path) - 1] == '/' ? "" : "/";
    snprintf(full, n, "%s%s%s", path, sep, entry->d_name);
    if (!recursive) {
      if (!path_list_add(list, full)) rc = CLI_FAILURE;
    } else {
      /* A sub-folder's images, or this file if it is an image. An entry
       * that cannot be looked at (a path too long, a name gone since) is
       * said, not skipped in silence. */
      struct stat sub;
      if (stat(full, &sub) != 0) {
        fprintf(stderr, "fer analyze: %s: %s\n", full, strerror(errno));
        rc = CLI_FAILURE;
      } else if (S_ISDIR(sub.st_mode) || has_image_extension(full)) {
        rc = collect_tree(full, list, 1, 0);
      }
    }
    free(full);
  }
  if (rc == CLI_OK && errno != 0) {
    fprintf(stderr, "fer analyze: %s: cannot read the folder: %s\n", path, strerror(errno));
    rc = CLI_FAILURE;
  }
  closedir(dir);
  /* (Not on an empty list: its paths may be NULL, and NULL + 0 is
   * undefined; UBSan stopped `fer analyze EMPTY_FOLDER` there.) */
  if (top && list->count > first)
    qsort(list->paths + first, list->count - first, sizeof *list->paths, compare_paths);
  if (top && rc == CLI_OK && list->count == first) {
    fprintf(stderr,
            "fer analyze: %s: no images in this folder%s (looked for .jpg .jpeg .png .bmp "
            ".pgm .ppm .pnm .pbm)\n",
            path, recursive ? " or below it" : "");
    rc = CLI_FAILURE;
  }
  return rc;
}

static void print_text(FILE *out, const fer_analyzer *an, const char *path,
                       const fer_face *faces, const float *probs, size_t n, int k) {
  fprintf(out, "%s: %zu face%s\n", path, n, n == 1 ? "" : "s");
  for (size_t i = 0; i < n; i++) {
    const fer_face *f = &faces[i];
    fprintf(out, "  face %zu at %d,%d %dx%d: %s %.0f%%", i + 1, f->box.x, f->box.y, f->box.width,
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
      fprintf(out, "%s%s %.0f%%", s ? ", " : " (then ", cli_class_name(fer_analyzer_model(an), best),
             100.0 * probs[i * (size_t)k + (size_t)best]);
    }
    fprintf(out, "%s\n", k > 1 ? ")" : "");
  }
}

static void print_json(FILE *out, const fer_analyzer *an, const char *path,
                       const fer_image *img, const fer_face *faces, const float *probs,
                       size_t n, int k) {
  fprintf(out, "{\"image\":");
  cli_json_string(out, path);
  fprintf(out, ",\"width\":%d,\"height\":%d,\"faces\":[", fer_image_width(img),
          fer_image_height(img));
  for (size_t i = 0; i < n; i++) {
    const fer_face *f = &faces[i];
    fprintf(out, "%s{\"box\":{\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d},"
           "\"detector_score\":%.6g,\"neighbors\":%d,\"label\":",
           i ? "," : "", f->box.x, f->box.y, f->box.width, f->box.height, f->detector_score,
           (int)f->neighbors);
    cli_json_string(out, cli_class_name(fer_analyzer_model(an), f->label));
    fprintf(out, ",\"confidence\":%.6f,\"probabilities\":{", f->confidence);
    for (int c = 0; c < k; c++) {
      fprintf(out, "%s", c ? "," : "");
      cli_json_string(out, cli_class_name(fer_analyzer_model(an), c));
      fprintf(out, ":%.6f", probs[i * (size_t)k + (size_t)c]);
    }
    fprintf(out, "}}");
  }
  fprintf(out, "]}\n");
}

static void print_csv_header(FILE *out, const fer_analyzer *an, int k) {
  fprintf(out, "image,face,x,y,width,height,detector_score,label,confidence");
  for (int c = 0; c < k; c++) fprintf(out, ",%s", cli_class_name(fer_analyzer_model(an), c));
  fprintf(out, "\n");
}

/* CSV field: quoted when it holds a comma, quote or line break. */
static void csv_field(FILE *out, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"') fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

/* One row per face; with `record_empty` (an output file that must list
 * every image analysed, for resuming) an image without faces gets one row
 * with face 0 and the other fields empty. */
static void print_csv(FILE *out, const fer_analyzer *an, const char *path,
                      const fer_face *faces, const float *probs, size_t n, int k,
                      int record_empty) {
  if (n == 0 && record_empty) {
    csv_field(out, path);
    fprintf(out, ",0,,,,,,,");
    for (int c = 0; c < k; c++) fputc(',', out);
    fputc('\n', out);
  }
  for (size_t i = 0; i < n; i++) {
    const fer_face *f = &faces[i];
    csv_field(out, path);
    fprintf(out, ",%zu,%d,%d,%d,%d,%.6g,%s,%.6f", i + 1, f->box.x, f->box.y, f->box.width,
            f->box.height, f->detector_score, cli_class_name(fer_analyzer_model(an), f->label),
            f->confidence);
    for (int c = 0; c < k; c++) fprintf(out, ",%.6f", probs[i * (size_t)k + (size_t)c]);
    fprintf(out, "\n");
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


/* ---- Resuming: the images an output file already holds. ---- */

/* The first field of a CSV row (RFC 4180 quotes undone), or the "image"
 * string of a JSON line, in a new string; NULL when the line has none. */
static char *image_of_line(const char *line, size_t len, enum output_format format) {
  char *name = malloc(len + 1);
  if (!name) return NULL;
  size_t at = 0, n = 0;
  if (format == OUTPUT_CSV) {
    if (len && line[0] == '"') {
      for (at = 1; at < len; at++) {
        if (line[at] == '"') {
          if (at + 1 < len && line[at + 1] == '"') at++;
          else break;
        }
        name[n++] = line[at];
      }
    } else {
      while (at < len && line[at] != ',') name[n++] = line[at++];
    }
  } else {
    static const char key[] = "{\"image\":\"";
    if (len < sizeof key - 1 || memcmp(line, key, sizeof key - 1) != 0) {
      free(name);
      return NULL;
    }
    /* Undo cli_json_string: \" \\ and \u00XX. */
    for (at = sizeof key - 1; at < len && line[at] != '"'; at++) {
      if (line[at] == '\\' && at + 1 < len) {
        at++;
        if (line[at] == 'u' && at + 4 < len) {
          name[n++] = (char)strtol((char[]){line[at + 3], line[at + 4], 0}, NULL, 16);
          at += 4;
          continue;
        }
      }
      name[n++] = line[at];
    }
  }
  name[n] = '\0';
  return name;
}

/* Reads `path` (absent or empty: nothing done) into `done`, sorted. A last
 * line without its newline (a run killed while writing) is cut off the
 * file. For CSV the first line must be `header`. */
static int load_done(const char *path, enum output_format format, const char *header,
                     path_list *done, int *has_content) {
  *has_content = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return errno == ENOENT ? CLI_OK : (fprintf(stderr, "fer analyze: %s: %s\n", path,
                                                     strerror(errno)), CLI_FAILURE);
  char *line = NULL;
  size_t cap = 0, kept = 0, number = 0;
  ssize_t len;
  int rc = CLI_OK;
  while (rc == CLI_OK && (len = getline(&line, &cap, f)) > 0) {
    if (line[len - 1] != '\n') break; /* a torn last line: cut below */
    kept += (size_t)len;
    number++;
    len--;
    if (format == OUTPUT_CSV && number == 1) {
      if ((size_t)len != strlen(header) || memcmp(line, header, (size_t)len) != 0) {
        fprintf(stderr, "fer analyze: %s: its first line is not this run's CSV header "
                "(another model, or not a fer analyze --csv file)\n", path);
        rc = CLI_USAGE;
      }
      continue;
    }
    char *name = image_of_line(line, (size_t)len, format);
    if (!name) {
      fprintf(stderr, "fer analyze: %s:%zu: not a fer analyze --%s line\n", path, number,
              format == OUTPUT_CSV ? "csv" : "json");
      rc = CLI_USAGE;
    } else if (!path_list_add(done, name)) {
      rc = CLI_FAILURE;
    }
    free(name);
  }
  free(line);
  fclose(f);
  *has_content = kept > 0;
  if (rc == CLI_OK) {
    struct stat info;
    if (stat(path, &info) == 0 && (size_t)info.st_size > kept && truncate(path, (off_t)kept) != 0) {
      fprintf(stderr, "fer analyze: %s: cannot cut its torn last line: %s\n", path,
              strerror(errno));
      rc = CLI_FAILURE;
    }
  }
  if (done->count) qsort(done->paths, done->count, sizeof *done->paths, compare_paths);
  return rc;
}

static int is_done(const path_list *done, const char *path) {
  return done->count && bsearch(&path, done->paths, done->count, sizeof *done->paths,
                                compare_paths) != NULL;
}

/* ---- The run: workers take images in turn, each with its own analyzer
 * (the model and cascade are shared, read-only), and write each image's
 * lines in one piece under the lock. ---- */

typedef struct batch_run {
  const path_list *images;
  const path_list *done;
  enum output_format format;
  const char *annotate_dir;
  int record_empty; /* CSV into a file: a row for a faceless image too */
  FILE *out;
  pthread_mutex_t lock;
  size_t next;                 /* next image to take */
  size_t analysed, skipped, failed, faces;
  int progress;                /* a progress line on stderr */
  double started, last_shown;
  int rc;
} batch_run;

static double now_seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The progress line, redrawn in place; called under the lock. */
static void show_progress(batch_run *run, int final) {
  double t = now_seconds();
  if (!final && t - run->last_shown < 0.25) return;
  run->last_shown = t;
  size_t total = run->images->count, handled = run->analysed + run->failed;
  double rate = handled / (t - run->started > 1e-3 ? t - run->started : 1e-3);
  size_t left = total - handled - run->skipped;
  fprintf(stderr, "\r\033[Kfer analyze: %zu/%zu images", handled + run->skipped, total);
  if (run->skipped) fprintf(stderr, " (%zu already done)", run->skipped);
  fprintf(stderr, ", %zu faces, %.1f images/s", run->faces, rate);
  if (!final && rate > 0 && left) fprintf(stderr, ", %.0f s left", (double)left / rate);
  if (run->failed) fprintf(stderr, ", %zu failed", run->failed);
  if (final) fputc('\n', stderr);
  fflush(stderr);
}

static int analyze_one(batch_run *run, fer_analyzer *an, const char *path, fer_face *faces,
                       float *probs, size_t *face_count) {
  fer_image *img;
  *face_count = 0;
  if (fer_image_load(path, FER_DECODE_DEFAULT, &img) != FER_OK) {
    fprintf(stderr, "%sfer analyze: %s\n", run->progress ? "\r\033[K" : "", fer_last_error());
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
  /* This image's lines in memory, then out in one write. */
  char *text = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&text, &size);
  int rc = mem ? CLI_OK : CLI_FAILURE;
  if (mem) {
    if (run->format == OUTPUT_JSON) print_json(mem, an, path, img, faces, probs, n, k);
    else if (run->format == OUTPUT_CSV) print_csv(mem, an, path, faces, probs, n, k, run->record_empty);
    else print_text(mem, an, path, faces, probs, n, k);
    if (fclose(mem) != 0) rc = CLI_FAILURE;
  }
  if (rc == CLI_OK && run->annotate_dir)
    rc = annotate(an, img, path, run->annotate_dir, faces, n);
  if (rc == CLI_OK) {
    pthread_mutex_lock(&run->lock);
    if (run->progress) fputs("\r\033[K", stderr); /* the line comes back below */
    if (fwrite(text, 1, size, run->out) != size || fflush(run->out) != 0) {
      fprintf(stderr, "fer analyze: cannot write the results: %s\n", strerror(errno));
      rc = CLI_FAILURE;
      run->next = run->images->count; /* stop everyone */
    }
    pthread_mutex_unlock(&run->lock);
  }
  free(text);
  fer_image_free(img);
  *face_count = n;
  return rc;
}

typedef struct worker {
  batch_run *run;
  fer_analyzer *analyzer;
} worker;

static void *work(void *arg) {
  worker *w = arg;
  batch_run *run = w->run;
  int k = fer_analyzer_num_classes(w->analyzer);
  fer_face *faces = malloc(MAX_FACES * sizeof *faces);
  float *probs = malloc((size_t)MAX_FACES * (size_t)k * sizeof *probs);
  if (!faces || !probs) {
    pthread_mutex_lock(&run->lock);
    run->rc = CLI_FAILURE;
    run->next = run->images->count;
    pthread_mutex_unlock(&run->lock);
  }
  for (;;) {
    pthread_mutex_lock(&run->lock);
    const char *path = NULL;
    while (!path && run->next < run->images->count) {
      const char *p = run->images->paths[run->next++];
      if (is_done(run->done, p)) run->skipped++;
      else path = p;
    }
    if (run->progress) show_progress(run, 0);
    pthread_mutex_unlock(&run->lock);
    if (!path || !faces || !probs) break;
    size_t n = 0;
    int rc = analyze_one(run, w->analyzer, path, faces, probs, &n);
    pthread_mutex_lock(&run->lock);
    if (rc == CLI_OK) {
      run->analysed++;
      run->faces += n;
    } else {
      run->failed++;
      run->rc = CLI_FAILURE;
    }
    if (run->progress) show_progress(run, 0);
    pthread_mutex_unlock(&run->lock);
  }
  free(faces);
  free(probs);
  return NULL;
}

/* One more analyzer on the shared model and cascade, with the options. */
static int extra_analyzer(const cli_analyzer *ca, const cli_analyzer_options *opt,
                          fer_analyzer **out) {
  fer_status st = fer_analyzer_create(ca->model, ca->cascade, out);
  for (int key = 1; key <= 5 && st == FER_OK; key++)
    if (opt->given[key]) st = fer_analyzer_set(*out, (fer_analyze_param)key, opt->values[key]);
  if (st != FER_OK) {
    fprintf(stderr, "fer analyze: %s\n", fer_last_error());
    fer_analyzer_free(*out);
    *out = NULL;
    return CLI_FAILURE;
  }
  return CLI_OK;
}

int cmd_analyze(int argc, char **argv) {
  cli_analyzer_options opt = {0};
  enum output_format format = OUTPUT_TEXT;
  const char *annotate_dir = NULL, *output = NULL;
  int recursive = 0, jobs = 1;
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
    int takes_value = strcmp(a, "--annotate") == 0 || strcmp(a, "-o") == 0 ||
                      strcmp(a, "--output") == 0 || strcmp(a, "--jobs") == 0;
    if (takes_value && i + 1 >= argc) {
      fprintf(stderr, "fer analyze: %s needs a value\n", a);
      free(inputs);
      return CLI_USAGE;
    }
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
      annotate_dir = argv[++i];
    } else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
      output = argv[++i];
    } else if (strcmp(a, "--jobs") == 0) {
      char *end;
      long n = strtol(argv[++i], &end, 10);
      if (*end || end == argv[i] || n < 1 || n > 256) {
        fprintf(stderr, "fer analyze: --jobs must be a whole number from 1 to 256\n");
        free(inputs);
        return CLI_USAGE;
      }
      jobs = (int)n;
    } else if (strcmp(a, "-r") == 0 || strcmp(a, "--recursive") == 0) {
      recursive = 1;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "fer analyze: unknown option %s\n", a);
      usage(stderr);
      free(inputs);
      return CLI_USAGE;
    } else {
      inputs[input_count++] = argv[i];
    }
  }
  if (input_count == 0 || (output && format == OUTPUT_TEXT)) {
    fprintf(stderr, "fer analyze: %s\n", input_count == 0 ? "no image given"
                                                          : "-o needs --json or --csv");
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
  path_list images = {0}, done = {0};
  for (int i = 0; i < input_count; i++)
    if (collect(inputs[i], &images, recursive) != CLI_OK) rc = CLI_FAILURE;
  free(inputs);
  /* Library threads: shared among the jobs unless --threads says. */
  if (jobs > 1 && opt.threads == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    opt.threads = cores > jobs ? (int)(cores / jobs) : 1;
  }
  cli_analyzer ca;
  int open_rc = cli_analyzer_open("analyze", &opt, 1, &ca);
  if (open_rc != CLI_OK) {
    path_list_free(&images);
    return open_rc;
  }
  int k = fer_analyzer_num_classes(ca.analyzer);
  /* The CSV header, to write or to find at the top of an output file. */
  char *header = NULL;
  size_t header_size = 0;
  FILE *mem = open_memstream(&header, &header_size);
  if (mem) {
    print_csv_header(mem, ca.analyzer, k);
    fclose(mem);
  }
  if (!header) rc = CLI_FAILURE;
  else if (header_size) header[header_size - 1] = '\0'; /* without its newline */
  FILE *out = stdout;
  int has_content = 0;
  if (header && output) {
    int load_rc = load_done(output, format, header, &done, &has_content);
    if (load_rc != CLI_OK) {
      rc = load_rc;
      out = NULL;
    } else if (!(out = fopen(output, "a"))) {
      fprintf(stderr, "fer analyze: %s: %s\n", output, strerror(errno));
      rc = CLI_FAILURE;
    }
  }
  batch_run run = {.images = &images, .done = &done, .format = format,
                   .annotate_dir = annotate_dir, .record_empty = output != NULL, .out = out,
                   .progress = isatty(2) && (output || !isatty(1)), .started = now_seconds(), .rc = CLI_OK};
  pthread_mutex_init(&run.lock, NULL);
  if (out && header) {
    if (format == OUTPUT_CSV && !has_content) fprintf(out, "%s\n", header);
    worker workers[256];
    pthread_t threads[256];
    int started = 0;
    workers[0] = (worker){.run = &run, .analyzer = ca.analyzer};
    for (int j = 1; j < jobs; j++) {
      workers[j] = (worker){.run = &run};
      if (extra_analyzer(&ca, &opt, &workers[j].analyzer) != CLI_OK) {
        run.rc = CLI_FAILURE;
        break;
      }
      if (pthread_create(&threads[j], NULL, work, &workers[j]) != 0) {
        fer_analyzer_free(workers[j].analyzer);
        break;
      }
      started = j;
    }
    work(&workers[0]);
    for (int j = 1; j <= started; j++) {
      pthread_join(threads[j], NULL);
      fer_analyzer_free(workers[j].analyzer);
    }
    if (run.progress) show_progress(&run, 1);
    if (run.rc != CLI_OK) rc = run.rc;
  }
  if (out && out != stdout && fclose(out) != 0) {
    fprintf(stderr, "fer analyze: %s: %s\n", output, strerror(errno));
    rc = CLI_FAILURE;
  }
  pthread_mutex_destroy(&run.lock);
  free(header);
  cli_analyzer_close(&ca);
  path_list_free(&images);
  path_list_free(&done);
  return rc;
}
