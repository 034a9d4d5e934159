/*
 * Soak: many analyses in one process, with the resident set size sampled,
 * to show that nothing grows (a leak of 16 bytes per analysis is 1.6 MB
 * after 10^5). Each iteration decodes the image from its file's bytes,
 * analyses it with the built-in model and cascade, and checks that the
 * faces are those of the first iteration; every 10th also annotates a
 * copy and encodes it as PNG, so the codecs and the drawing take part.
 *
 *   soak_analyze IMAGE [ITERATIONS [BOUND_KIB [MODEL]]]
 *
 * MODEL is a model file to use with the built-in cascade instead of the
 * built-in model (whose forward pass is most of an analysis: about 8 ms
 * of CPU, so 10^5 of them take 15 minutes of a free core; tools/soak.sh
 * runs 10^5 with the small model of tests/analyze/make_test_model and a
 * shorter run with the built-in one).
 * ITERATIONS defaults to 100000, BOUND_KIB to 1024. One library thread
 * (fer_set_num_threads(1)): the soak is about memory, and OpenMP barriers
 * on a loaded machine would only make it slow. RSS is read from
 * /proc/self/statm 100 times over the run; the baseline is taken after the
 * first 1% (at least 100 iterations), when the allocator and the library's
 * scratch buffers have reached their size. Prints the samples, then
 * "rss start/end/max KiB"; exit status 1 when the RSS after the baseline
 * rose more than BOUND_KIB above it or a result changed, 2 on a usage or
 * setup error. tools/soak.sh runs it (and the Python twin,
 * bindings/python/tests/soak_analyze.py); tools/valgrind-soak.sh runs a
 * short one under valgrind memcheck.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fer.h"

enum { MAX_FACES = 16, CLASSES_MAX = 64, SAMPLES = 100 };

static long rss_kib(void) {
  FILE *f = fopen("/proc/self/statm", "r");
  long size = 0, resident = 0;
  if (!f) return -1;
  if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
  fclose(f);
  return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static unsigned char *read_all(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  unsigned char *data = malloc(cap);
  while (data) {
    n += fread(data + n, 1, cap - n, f);
    if (n < cap) break;
    unsigned char *grown = realloc(data, cap *= 2);
    if (!grown) free(data);
    data = grown;
  }
  fclose(f);
  *size = n;
  return data;
}

static fer_status one_iteration(fer_analyzer *an, const unsigned char *file, size_t file_size,
                                int annotate, fer_face *faces, float *probs, size_t *count) {
  fer_image *img = NULL;
  fer_status st = fer_image_decode(file, file_size, FER_DECODE_DEFAULT, &img);
  if (st == FER_OK)
    st = fer_analyzer_run(an, img, faces, probs, MAX_FACES, CLASSES_MAX, count);
  if (st == FER_OK && annotate) {
    void *png = NULL;
    size_t png_size = 0;
    st = fer_analyzer_annotate(an, img, faces, *count);
    if (st == FER_OK) st = fer_image_encode(img, FER_IMAGE_FORMAT_PNG, &png, &png_size);
    fer_free(png);
  }
  fer_image_free(img);
  return st;
}

int main(int argc, char **argv) {
  if (argc < 2 || argc > 5) {
    fprintf(stderr, "usage: soak_analyze IMAGE [ITERATIONS [BOUND_KIB [MODEL]]]\n");
    return 2;
  }
  long iterations = argc > 2 ? strtol(argv[2], NULL, 10) : 100000;
  long bound = argc > 3 ? strtol(argv[3], NULL, 10) : 1024;
  if (iterations < 1 || bound < 0) {
    fprintf(stderr, "soak_analyze: ITERATIONS must be >= 1 and BOUND_KIB >= 0\n");
    return 2;
  }
  size_t file_size = 0;
  unsigned char *file = read_all(argv[1], &file_size);
  if (!file) {
    fprintf(stderr, "soak_analyze: cannot read %s\n", argv[1]);
    return 2;
  }
  fer_set_num_threads(1);
  fer_analyzer *an = NULL;
  fer_model *model = NULL;
  fer_cascade *cascade = NULL;
  fer_status st = FER_OK;
  if (argc > 4) {
    st = fer_model_load(argv[4], &model);
    if (st == FER_OK) st = fer_default_cascade_load(&cascade);
    if (st == FER_OK) st = fer_analyzer_create(model, cascade, &an);
  } else {
    st = fer_analyzer_create_default(&an);
  }
  if (st != FER_OK) {
    fprintf(stderr, "soak_analyze: %s\n", fer_last_error());
    fer_cascade_free(cascade);
    fer_model_free(model);
    free(file);
    return 2;
  }
  static fer_face faces[MAX_FACES], first_faces[MAX_FACES];
  static float probs[MAX_FACES * CLASSES_MAX], first_probs[MAX_FACES * CLASSES_MAX];
  size_t count = 0, first_count = 0;
  long warmup = iterations / 100 > 100 ? iterations / 100 : 100;
  if (warmup > iterations) warmup = iterations;
  long every = iterations / SAMPLES > 0 ? iterations / SAMPLES : 1;
  long baseline = -1, max_after = 0, last = 0, changed = 0;
  double started = now();
  int rc = 0;
  for (long i = 0; i < iterations; i++) {
    st = one_iteration(an, file, file_size, i % 10 == 9, faces, probs, &count);
    if (st != FER_OK) {
      fprintf(stderr, "soak_analyze: iteration %ld: %s\n", i, fer_last_error());
      rc = 1;
      break;
    }
    if (i == 0) {
      first_count = count;
      memcpy(first_faces, faces, sizeof faces);
      memcpy(first_probs, probs, sizeof probs);
    } else if (count != first_count || memcmp(faces, first_faces, count * sizeof *faces) != 0 ||
               memcmp(probs, first_probs, sizeof probs) != 0) {
      changed++;
    }
    if (i + 1 == warmup) baseline = rss_kib();
    if ((i + 1) % every == 0 || i + 1 == iterations) {
      last = rss_kib();
      if (i + 1 >= warmup && last > max_after) max_after = last;
      printf("%ld %ld\n", i + 1, last);
      fflush(stdout);
    }
  }
  double seconds = now() - started;
  printf("faces per image %zu, %ld iterations in %.1f s (%.2f ms each)\n", first_count,
         iterations, seconds, 1e3 * seconds / (double)iterations);
  printf("rss start/end/max KiB: %ld %ld %ld (after %ld warm-up iterations; bound +%ld)\n",
         baseline, last, max_after, warmup, bound);
  if (changed) {
    printf("FAIL: %ld iterations gave other faces than the first\n", changed);
    rc = 1;
  }
  if (baseline < 0 || max_after - baseline > bound) {
    printf("FAIL: RSS rose %ld KiB after the warm-up, more than %ld\n", max_after - baseline,
           bound);
    rc = 1;
  }
  if (first_count == 0) {
    printf("FAIL: no face found in %s\n", argv[1]);
    rc = 1;
  }
  fer_analyzer_free(an);
  fer_cascade_free(cascade);
  fer_model_free(model);
  free(file);
  return rc;
}
