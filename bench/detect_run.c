/*
 * The C side of bench/detect_parity.py and bench/detect_speed.py: runs the
 * libfer detector on binary PGM (P5) files and prints one line per box,
 *   PATH<TAB>x y w h neighbors score
 * (or PATH<TAB>- for none), or, with --repeat N, the median time per image.
 * Reads its own PGMs so that both sides see the very pixels cv2 decoded.
 *
 * usage: detect_run --cascade FILE [--scale-factor F] [--min-neighbors N]
 *                   [--min-size N] [--max-size N] [--raw] [--threads N]
 *                   [--repeat N] [--list FILE] [PGM...]
 *        detect_run --cascade FILE --time-load N   (median load time of N loads)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fer.h>

/* Room for every raw window of a weak cascade on a large photo. */
#define MAX_BOXES 262144

static unsigned char *read_pgm(const char *path, int *w, int *h) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  int maxval;
  if (fscanf(f, "P5 %d %d %d", w, h, &maxval) != 3 || maxval != 255 || *w <= 0 || *h <= 0) {
    fclose(f);
    return NULL;
  }
  fgetc(f); /* the single whitespace after maxval */
  size_t n = (size_t)*w * (size_t)*h;
  unsigned char *px = malloc(n);
  if (px && fread(px, 1, n, f) != n) {
    free(px);
    px = NULL;
  }
  fclose(f);
  return px;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process: on a busy machine, the fairer figure for
 * single-threaded runs. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int compare_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static int run_one(fer_detector *det, const char *path, int repeat) {
  int w, h;
  unsigned char *px = read_pgm(path, &w, &h);
  if (!px) {
    fprintf(stderr, "detect_run: cannot read %s as binary PGM\n", path);
    return 1;
  }
  static fer_detection boxes[MAX_BOXES];
  size_t n = 0;
  fer_status st = FER_OK;
  if (repeat > 0) {
    double *times = malloc(sizeof(double) * 2 * (size_t)repeat), *cpu = times + repeat;
    fer_detector_run_gray(det, px, w, h, 0, boxes, MAX_BOXES, &n); /* warm up */
    for (int r = 0; r < repeat; r++) {
      double t0 = now(), c0 = cpu_now();
      st = fer_detector_run_gray(det, px, w, h, 0, boxes, MAX_BOXES, &n);
      times[r] = now() - t0;
      cpu[r] = cpu_now() - c0;
    }
    qsort(times, (size_t)repeat, sizeof(double), compare_double);
    qsort(cpu, (size_t)repeat, sizeof(double), compare_double);
    printf("%s\t%.3f ms\t%.3f cpu-ms\t%zu boxes\n", path, times[repeat / 2] * 1e3,
           cpu[repeat / 2] * 1e3, n);
    free(times);
  } else {
    st = fer_detector_run_gray(det, px, w, h, 0, boxes, MAX_BOXES, &n);
    if (st == FER_OK) {
      if (n == 0) printf("%s\t-\n", path);
      for (size_t i = 0; i < n; i++)
        printf("%s\t%d %d %d %d %d %.17g\n", path, boxes[i].box.x, boxes[i].box.y,
               boxes[i].box.width, boxes[i].box.height, boxes[i].neighbors, boxes[i].score);
    }
  }
  free(px);
  if (st != FER_OK) {
    fprintf(stderr, "detect_run: %s: %s (%s)\n", path, fer_status_string(st), fer_last_error());
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  const char *cascade_path = NULL, *list = NULL;
  double scale = 1.1;
  int neighbors = 3, min_size = 0, max_size = 0, raw = 0, threads = 0, repeat = 0, loads = 0;
  int first_file = argc;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--cascade") == 0 && v) cascade_path = v, i++;
    else if (strcmp(a, "--scale-factor") == 0 && v) scale = atof(v), i++;
    else if (strcmp(a, "--min-neighbors") == 0 && v) neighbors = atoi(v), i++;
    else if (strcmp(a, "--min-size") == 0 && v) min_size = atoi(v), i++;
    else if (strcmp(a, "--max-size") == 0 && v) max_size = atoi(v), i++;
    else if (strcmp(a, "--threads") == 0 && v) threads = atoi(v), i++;
    else if (strcmp(a, "--repeat") == 0 && v) repeat = atoi(v), i++;
    else if (strcmp(a, "--list") == 0 && v) list = v, i++;
    else if (strcmp(a, "--time-load") == 0 && v) loads = atoi(v), i++;
    else if (strcmp(a, "--raw") == 0) raw = 1;
    else if (a[0] == '-') {
      fprintf(stderr, "detect_run: unknown option %s\n", a);
      return 2;
    } else {
      first_file = i;
      break;
    }
  }
  if (!cascade_path) {
    fprintf(stderr, "usage: detect_run --cascade FILE [options] PGM...\n");
    return 2;
  }
  fer_cascade *cascade;
  fer_detector *det;
  if (loads > 0) {
    double *times = malloc(sizeof(double) * 2 * (size_t)loads), *cpu = times + loads;
    for (int r = 0; r < loads; r++) {
      double t0 = now(), c0 = cpu_now();
      if (fer_cascade_load(cascade_path, &cascade) != FER_OK) {
        fprintf(stderr, "detect_run: %s\n", fer_last_error());
        return 1;
      }
      times[r] = now() - t0;
      cpu[r] = cpu_now() - c0;
      fer_cascade_free(cascade);
    }
    qsort(times, (size_t)loads, sizeof(double), compare_double);
    qsort(cpu, (size_t)loads, sizeof(double), compare_double);
    printf("%s\tload %.3f ms wall, %.3f ms cpu (medians of %d)\n", cascade_path,
           times[loads / 2] * 1e3, cpu[loads / 2] * 1e3, loads);
    free(times);
    return 0;
  }
  if (fer_cascade_load(cascade_path, &cascade) != FER_OK) {
    fprintf(stderr, "detect_run: %s\n", fer_last_error());
    return 1;
  }
  if (fer_detector_create(cascade, &det) != FER_OK ||
      fer_detector_set(det, FER_DETECT_SCALE_FACTOR, scale) != FER_OK ||
      fer_detector_set(det, FER_DETECT_MIN_NEIGHBORS, neighbors) != FER_OK ||
      fer_detector_set(det, FER_DETECT_MIN_SIZE, min_size) != FER_OK ||
      fer_detector_set(det, FER_DETECT_MAX_SIZE, max_size) != FER_OK ||
      fer_detector_set(det, FER_DETECT_RAW, raw) != FER_OK ||
      (threads > 0 && fer_set_num_threads(threads) != FER_OK)) {
    fprintf(stderr, "detect_run: %s\n", fer_last_error());
    return 2;
  }
  int failures = 0;
  if (list) {
    FILE *f = fopen(list, "r");
    char line[4096];
    while (f && fgets(line, sizeof line, f)) {
      line[strcspn(line, "\r\n")] = '\0';
      if (line[0]) failures += run_one(det, line, repeat);
    }
    if (f) fclose(f);
    else failures++;
  }
  for (int i = first_file; i < argc; i++) failures += run_one(det, argv[i], repeat);
  fer_detector_free(det);
  fer_cascade_free(cascade);
  return failures ? 1 : 0;
}
