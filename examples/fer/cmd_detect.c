/*
 * fer detect: find faces (or whatever the cascade finds) in images.
 *
 *   fer detect IMAGE... [--cascade FILE] [--scale-factor F] [--min-neighbors N]
 *              [--min-size N] [--max-size N] [--json] [--annotate OUT.png]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_BOXES 1024

static void usage(FILE *out) {
  fprintf(out,
          "usage: fer detect IMAGE... [--cascade FILE] [options]\n"
          "\n"
          "Finds objects with a Viola-Jones cascade (OpenCV XML, either layout, or\n"
          "libfer's binary format) and prints one line per box: x y width height\n"
          "neighbours score.\n"
          "\n"
          "options:\n"
          "  --cascade FILE        the cascade (default: $FER_CASCADE, else the\n"
          "                        built-in face cascade, as fer analyze)\n"
          "  --scale-factor F      pyramid step, > 1 (default 1.1)\n"
          "  --min-neighbors N     windows a box needs beyond itself (default 3)\n"
          "  --min-size N          smallest box side in pixels (default: the window)\n"
          "  --max-size N          largest box side in pixels (default: no limit)\n"
          "  --json                one JSON object per image per line\n"
          "  --annotate OUT.png    write the image with the boxes drawn (one image only)\n"
          "\n"
          "Exit status: 0 ok, 1 an image or the cascade could not be used, 2 usage.\n");
}

/* JSON string body with the characters JSON requires escaped. */
static void print_json_string(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

static int parse_number(const char *flag, const char *text, double *out) {
  char *end;
  *out = strtod(text, &end);
  if (end == text || *end) {
    fprintf(stderr, "fer detect: %s needs a number, not '%s'\n", flag, text);
    return 0;
  }
  return 1;
}

static int detect_one(fer_detector *det, const char *path, int json, const char *annotate) {
  fer_image *img;
  if (fer_image_load(path, FER_DECODE_DEFAULT, &img) != FER_OK) {
    fprintf(stderr, "fer detect: %s\n", fer_last_error());
    return CLI_FAILURE;
  }
  static fer_detection boxes[MAX_BOXES];
  size_t n = 0;
  fer_status st = fer_detector_run(det, img, boxes, MAX_BOXES, &n);
  if (st != FER_OK && st != FER_ERR_BUFFER_TOO_SMALL) {
    fprintf(stderr, "fer detect: %s: %s\n", path, fer_last_error());
    fer_image_free(img);
    return CLI_FAILURE;
  }
  if (n > MAX_BOXES) n = MAX_BOXES;
  if (json) {
    printf("{\"image\":");
    print_json_string(path);
    printf(",\"width\":%d,\"height\":%d,\"faces\":[", fer_image_width(img), fer_image_height(img));
    for (size_t i = 0; i < n; i++)
      printf("%s{\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d,\"neighbors\":%d,\"score\":%.6g}",
             i ? "," : "", boxes[i].box.x, boxes[i].box.y, boxes[i].box.width,
             boxes[i].box.height, boxes[i].neighbors, boxes[i].score);
    printf("]}\n");
  } else {
    printf("%s: %zu found\n", path, n);
    for (size_t i = 0; i < n; i++)
      printf("  %d %d %d %d %d %.6g\n", boxes[i].box.x, boxes[i].box.y, boxes[i].box.width,
             boxes[i].box.height, boxes[i].neighbors, boxes[i].score);
  }
  int rc = CLI_OK;
  if (annotate) {
    fer_image *rgb = NULL;
    st = fer_image_to_rgb(img, &rgb);
    int thickness = fer_image_width(img) > 600 ? 3 : 2;
    for (size_t i = 0; st == FER_OK && i < n; i++)
      st = fer_image_draw_rect(rgb, &boxes[i].box, 0x00FF00, thickness);
    if (st == FER_OK) st = fer_image_save(rgb, annotate, FER_IMAGE_FORMAT_AUTO);
    if (st != FER_OK) {
      fprintf(stderr, "fer detect: %s: %s\n", annotate, fer_last_error());
      rc = CLI_FAILURE;
    }
    fer_image_free(rgb);
  }
  fer_image_free(img);
  return rc;
}

int cmd_detect(int argc, char **argv) {
  const char *cascade_path = NULL, *annotate = NULL;
  int json = 0;
  struct {
    const char *flag;
    fer_detect_param param;
  } numeric[] = {
      {"--scale-factor", FER_DETECT_SCALE_FACTOR},
      {"--min-neighbors", FER_DETECT_MIN_NEIGHBORS},
      {"--min-size", FER_DETECT_MIN_SIZE},
      {"--max-size", FER_DETECT_MAX_SIZE},
  };
  double values[4];
  int given[4] = {0, 0, 0, 0};
  const char **images = calloc((size_t)argc + 1, sizeof *images);
  int image_count = 0;
  if (!images) return CLI_FAILURE;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout);
      free(images);
      return CLI_OK;
    }
    if (strcmp(a, "--json") == 0) {
      json = 1;
      continue;
    }
    int known = 0;
    if (strcmp(a, "--cascade") == 0 || strcmp(a, "--annotate") == 0) known = 1;
    for (size_t k = 0; k < 4; k++) known |= strcmp(a, numeric[k].flag) == 0;
    if (known) {
      if (i + 1 >= argc) {
        fprintf(stderr, "fer detect: %s needs a value\n", a);
        free(images);
        return CLI_USAGE;
      }
      const char *v = argv[++i];
      if (strcmp(a, "--cascade") == 0) cascade_path = v;
      else if (strcmp(a, "--annotate") == 0) annotate = v;
      for (size_t k = 0; k < 4; k++)
        if (strcmp(a, numeric[k].flag) == 0) {
          if (!parse_number(a, v, &values[k])) {
            free(images);
            return CLI_USAGE;
          }
          given[k] = 1;
        }
      continue;
    }
    if (a[0] == '-' && a[1]) {
      fprintf(stderr, "fer detect: unknown option %s\n", a);
      usage(stderr);
      free(images);
      return CLI_USAGE;
    }
    images[image_count++] = a;
  }
  if (image_count == 0 || (annotate && image_count != 1)) {
    fprintf(stderr, "fer detect: %s\n",
            image_count == 0 ? "no image given" : "--annotate takes exactly one image");
    usage(stderr);
    free(images);
    return CLI_USAGE;
  }
  fer_cascade *cascade;
  if ((cascade_path ? fer_cascade_load(cascade_path, &cascade)
                    : fer_default_cascade_load(&cascade)) != FER_OK) {
    fprintf(stderr, "fer detect: %s\n", fer_last_error());
    free(images);
    return CLI_FAILURE;
  }
  fer_detector *det;
  if (fer_detector_create(cascade, &det) != FER_OK) {
    fprintf(stderr, "fer detect: %s\n", fer_last_error());
    fer_cascade_free(cascade);
    free(images);
    return CLI_FAILURE;
  }
  int rc = CLI_OK;
  for (size_t k = 0; k < 4 && rc == CLI_OK; k++)
    if (given[k] && fer_detector_set(det, numeric[k].param, values[k]) != FER_OK) {
      fprintf(stderr, "fer detect: %s: %s\n", numeric[k].flag, fer_last_error());
      rc = CLI_USAGE;
    }
  for (int i = 0; i < image_count && rc != CLI_USAGE; i++) {
    int r = detect_one(det, images[i], json, annotate);
    if (r != CLI_OK) rc = r;
  }
  fer_detector_free(det);
  fer_cascade_free(cascade);
  free(images);
  return rc;
}
