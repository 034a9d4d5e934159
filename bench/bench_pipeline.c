/*
 * bench_pipeline: frames per second of the whole analyzer on a Y4M clip
 * (make one with bench/make_pipeline_clip.py), at each thread count given,
 * split into Y4M decoding, detection, and crop + classification.
 *
 *   bench_pipeline CLIP.y4m [--threads 1,2] [--model FILE] [--cascade FILE]
 *                  [--repeat N] [--scale-factor F] [--min-size N]
 *                  [--min-neighbors N]   (default: the analyzer's defaults)
 *                  [--detect-interval N] [--int8]
 *
 * With --int8 (the --model file must hold a saved quantisation: fer
 * quantize), every pass runs twice, fp32 then int8, interleaved, and the
 * table has a row for each and their frame-rate ratio.
 *
 * With --detect-interval N > 1 (video: full detection every N frames, only
 * around known faces between), it also runs the analyzer at interval 1 on
 * the same frames and prints both, their frame-rate ratio, and the
 * detection rate of the video mode against full detection on every frame
 * (faces of the full run matched by a box of the video run with IoU >=
 * 0.5, and the video run's boxes that match none).
 *
 * Detection time is the detector alone with the analyzer's settings on the
 * same frames; classification is the analyzer's time minus that. Prints a
 * table and one JSON line per thread count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <fer.h>

#define MAX_FRAMES 2000
#define MAX_FACES 64

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of the whole process: on a machine shared with other work it
 * still tells what a frame costs, where wall time tells how busy it was. */
static double cpu_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int die(const char *what) {
  fprintf(stderr, "bench_pipeline: %s: %s\n", what, fer_last_error());
  return 1;
}

static double iou(const fer_rect *a, const fer_rect *b) {
  double x0 = a->x > b->x ? a->x : b->x, y0 = a->y > b->y ? a->y : b->y;
  double x1 = a->x + a->width < b->x + b->width ? a->x + a->width : b->x + b->width;
  double y1 = a->y + a->height < b->y + b->height ? a->y + a->height : b->y + b->height;
  if (x1 <= x0 || y1 <= y0) return 0;
  double inter = (x1 - x0) * (y1 - y0);
  return inter / ((double)a->width * a->height + (double)b->width * b->height - inter);
}

/* One pass over the frames, the analyzer reset first (so every pass is
 * the same video): adds its wall and CPU seconds to the best so far, the
 * faces of frame f into faces[f * MAX_FACES ...] and counts[f]. */
static int time_pass(fer_analyzer *an, fer_image **frames, int count, fer_face *faces,
                     size_t *counts, double *wall, double *cpu) {
  if (fer_analyzer_reset(an) != FER_OK) return die("reset");
  double cpu_a = cpu_now(), a = now();
  for (int f = 0; f < count; f++) {
    fer_status st = fer_analyzer_run(an, frames[f], faces + (size_t)f * MAX_FACES, NULL,
                                     MAX_FACES, 0, &counts[f]);
    if (st == FER_ERR_BUFFER_TOO_SMALL) counts[f] = MAX_FACES;
    else if (st != FER_OK) return die("analyzer run");
  }
  double b = now(), cpu_b = cpu_now();
  if (b - a < *wall) *wall = b - a;
  if (cpu_b - cpu_a < *cpu) *cpu = cpu_b - cpu_a;
  return 0;
}

/* --detect-interval: the video mode against full detection on every frame. */
static int compare_video(fer_analyzer *full, fer_analyzer *video, fer_detector *det,
                         fer_image **frames, int count, const char *threads_arg, int repeat,
                         int interval) {
  fer_face *ref = malloc((size_t)count * MAX_FACES * sizeof *ref);
  fer_face *got = malloc((size_t)count * MAX_FACES * sizeof *got);
  size_t *ref_n = malloc((size_t)count * sizeof *ref_n), *got_n = malloc((size_t)count * sizeof *got_n);
  if (!ref || !got || !ref_n || !got_n) return die("out of memory");
  printf("detect interval %d: video mode (full detection every %d frames, regions between) "
         "against full detection on every frame\n", interval, interval);
  printf("(cpu: CPU ms per frame, whole pipeline; detect: the detector alone on every whole\n"
         "frame, and for the video mode that less the CPU time the video mode saved)\n");
  printf("threads  full fps  video fps  full cpu  video cpu  ratio  full detect  video detect  "
         "ratio  faces (full)  found  rate   extra\n");
  char *list = malloc(strlen(threads_arg) + 1);
  strcpy(list, threads_arg);
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    int threads = atoi(tok);
    if (fer_set_num_threads(threads) != FER_OK) return die("threads");
    /* Passes interleaved (full, video, detector, full, ...), the first of
     * each a warm-up, the best of the rest kept: on a shared machine the
     * load changes from one second to the next. */
    double full_wall = 1e30, full_cpu = 1e30, video_wall = 1e30, video_cpu = 1e30;
    double detect_cpu = 1e30;
    for (int r = 0; r <= repeat; r++) {
      double ignored_wall = 1e30, ignored_cpu = 1e30;
      if (time_pass(full, frames, count, ref, ref_n, r ? &full_wall : &ignored_wall,
                    r ? &full_cpu : &ignored_cpu) ||
          time_pass(video, frames, count, got, got_n, r ? &video_wall : &ignored_wall,
                    r ? &video_cpu : &ignored_cpu))
        return 1;
      double a = cpu_now();
      for (int f = 0; f < count; f++) {
        fer_detection boxes[MAX_FACES];
        size_t n = 0;
        fer_status st = fer_detector_run(det, frames[f], boxes, MAX_FACES, &n);
        if (st != FER_OK && st != FER_ERR_BUFFER_TOO_SMALL) return die("detector run");
      }
      if (r && cpu_now() - a < detect_cpu) detect_cpu = cpu_now() - a;
    }
    double video_detect = detect_cpu - (full_cpu - video_cpu);
    size_t total = 0, found = 0, extra = 0;
    for (int f = 0; f < count; f++) {
      const fer_face *r = ref + (size_t)f * MAX_FACES, *g = got + (size_t)f * MAX_FACES;
      for (size_t i = 0; i < ref_n[f]; i++) {
        int hit = 0;
        for (size_t j = 0; j < got_n[f] && !hit; j++) hit = iou(&r[i].box, &g[j].box) >= 0.5;
        found += (size_t)hit;
      }
      for (size_t j = 0; j < got_n[f]; j++) {
        int hit = 0;
        for (size_t i = 0; i < ref_n[f] && !hit; i++) hit = iou(&r[i].box, &g[j].box) >= 0.5;
        extra += (size_t)!hit;
      }
      total += ref_n[f];
    }
    double rate = total ? (double)found / (double)total : 1.0;
    printf("%7d  %8.1f  %9.1f  %8.2f  %9.2f  %5.2f  %11.2f  %12.2f  %5.2f  %12zu  %5zu  %5.3f  %5zu\n",
           threads, count / full_wall, count / video_wall, full_cpu * 1e3 / count,
           video_cpu * 1e3 / count, full_cpu / video_cpu, detect_cpu * 1e3 / count,
           video_detect * 1e3 / count, video_detect / detect_cpu, total, found, rate, extra);
    printf("{\"bench\":\"pipeline_video\",\"threads\":%d,\"interval\":%d,\"frames\":%d,"
           "\"full_fps\":%.2f,\"video_fps\":%.2f,\"full_cpu_ms\":%.3f,\"video_cpu_ms\":%.3f,"
           "\"full_detect_cpu_ms\":%.3f,\"video_detect_cpu_ms\":%.3f,"
           "\"faces\":%zu,\"found\":%zu,\"rate\":%.4f,\"extra\":%zu}\n",
           threads, interval, count, count / full_wall, count / video_wall,
           full_cpu * 1e3 / count, video_cpu * 1e3 / count, detect_cpu * 1e3 / count,
           video_detect * 1e3 / count, total, found, rate, extra);
  }
  free(list);
  free(ref);
  free(got);
  free(ref_n);
  free(got_n);
  return 0;
}

int main(int argc, char **argv) {
  const char *clip = NULL, *model_path = NULL, *cascade_path = NULL, *threads_arg = "1,2";
  int repeat = 3, interval = 1, int8 = 0;
  double settings[6] = {0};
  int given[6] = {0};
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads_arg = argv[++i];
    else if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model_path = argv[++i];
    else if (strcmp(argv[i], "--cascade") == 0 && i + 1 < argc) cascade_path = argv[++i];
    else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) repeat = atoi(argv[++i]);
    else if (strcmp(argv[i], "--scale-factor") == 0 && i + 1 < argc)
      given[FER_ANALYZE_SCALE_FACTOR] = 1, settings[FER_ANALYZE_SCALE_FACTOR] = atof(argv[++i]);
    else if (strcmp(argv[i], "--min-size") == 0 && i + 1 < argc)
      given[FER_ANALYZE_MIN_SIZE] = 1, settings[FER_ANALYZE_MIN_SIZE] = atof(argv[++i]);
    else if (strcmp(argv[i], "--min-neighbors") == 0 && i + 1 < argc)
      given[FER_ANALYZE_MIN_NEIGHBORS] = 1, settings[FER_ANALYZE_MIN_NEIGHBORS] = atof(argv[++i]);
    else if (strcmp(argv[i], "--detect-interval") == 0 && i + 1 < argc)
      interval = atoi(argv[++i]);
    else if (strcmp(argv[i], "--int8") == 0)
      int8 = 1;
    else if (argv[i][0] != '-' && !clip) clip = argv[i];
    else {
      fprintf(stderr, "usage: bench_pipeline CLIP.y4m [--threads 1,2] [--model FILE] "
                      "[--cascade FILE] [--repeat N] [--scale-factor F] [--min-size N] "
                      "[--min-neighbors N] [--detect-interval N] [--int8]\n");
      return 2;
    }
  }
  if (!clip || repeat < 1) {
    fprintf(stderr, "bench_pipeline: no clip given (bench/make_pipeline_clip.py makes one)\n");
    return 2;
  }
  /* The model: a file, else the built-in one, else a reference net of
   * similar cost with random weights (the speed does not depend on them). */
  fer_model *model = NULL;
  const char *model_name = model_path;
  if (model_path) {
    if (fer_model_load(model_path, &model) != FER_OK) return die(model_path);
  } else if (fer_analyzer_has_default_model()) {
    if (fer_default_model_load(&model) != FER_OK) return die("built-in model");
    model_name = "built-in";
  } else {
    if (fer_model_create_reference("seed001", &model) != FER_OK) return die("seed001");
    model_name = "seed001 (random weights; no built-in model)";
  }
  if (int8 && (interval > 1 ||
               fer_model_set(model, FER_MODEL_PRECISION, FER_PRECISION_INT8) != FER_OK)) {
    fprintf(stderr, "bench_pipeline: --int8 needs a --model file with a saved "
                    "quantisation (fer quantize) and no --detect-interval\n");
    return 2;
  }
  fer_cascade *cascade = NULL;
  fer_status st = cascade_path ? fer_cascade_load(cascade_path, &cascade)
                               : fer_default_cascade_load(&cascade);
  if (st != FER_OK) return die(cascade_path ? cascade_path : "default cascade");

  /* Decode every frame first, timing the decoding on its own. */
  fer_y4m_reader *reader = NULL;
  if (fer_y4m_reader_open(clip, &reader) != FER_OK) return die(clip);
  static fer_image *frames[MAX_FRAMES];
  int count = 0, got = 1;
  double t0 = now();
  while (count < MAX_FRAMES) {
    if (fer_y4m_reader_next(reader, &got) != FER_OK) return die(clip);
    if (!got) break;
    if (fer_y4m_reader_image(reader, 0, &frames[count]) != FER_OK) return die(clip);
    count++;
  }
  double decode_ms = (now() - t0) * 1e3 / (count ? count : 1);
  int width = fer_y4m_reader_width(reader), height = fer_y4m_reader_height(reader);
  fer_y4m_reader_free(reader);
  if (count == 0) {
    fprintf(stderr, "bench_pipeline: %s has no frames\n", clip);
    return 1;
  }

  fer_analyzer *an = NULL;
  if (fer_analyzer_create(model, cascade, &an) != FER_OK) return die("analyzer");
  for (int key = 1; key <= 5; key++)
    if (given[key] && fer_analyzer_set(an, (fer_analyze_param)key, settings[key]) != FER_OK)
      return die("setting");
  fer_detector *det = NULL;
  if (fer_detector_create(cascade, &det) != FER_OK) return die("detector");
  const fer_analyze_param keys[4] = {FER_ANALYZE_SCALE_FACTOR, FER_ANALYZE_MIN_NEIGHBORS,
                                     FER_ANALYZE_MIN_SIZE, FER_ANALYZE_MAX_SIZE};
  const fer_detect_param det_keys[4] = {FER_DETECT_SCALE_FACTOR, FER_DETECT_MIN_NEIGHBORS,
                                        FER_DETECT_MIN_SIZE, FER_DETECT_MAX_SIZE};
  for (int k = 0; k < 4; k++) {
    double v;
    fer_analyzer_get(an, keys[k], &v);
    fer_detector_set(det, det_keys[k], v);
    settings[keys[k]] = v;
  }
  printf("clip %s: %d frames of %dx%d; model %s (%.1f MFLOP/face); Y4M decode %.2f ms/frame\n",
         clip, count, width, height, model_name, fer_model_flops(model) / 1e6, decode_ms);
  printf("settings: scale factor %g, min neighbours %g, min size %g\n",
         settings[FER_ANALYZE_SCALE_FACTOR], settings[FER_ANALYZE_MIN_NEIGHBORS],
         settings[FER_ANALYZE_MIN_SIZE]);
  if (interval > 1) {
    fer_analyzer *video = NULL;
    if (fer_analyzer_create(model, cascade, &video) != FER_OK) return die("analyzer");
    for (int key = 1; key <= 5; key++)
      if (given[key] && fer_analyzer_set(video, (fer_analyze_param)key, settings[key]) != FER_OK)
        return die("setting");
    if (fer_analyzer_set(video, FER_ANALYZE_DETECT_INTERVAL, interval) != FER_OK)
      return die("--detect-interval");
    int rc = compare_video(an, video, det, frames, count, threads_arg, repeat, interval);
    fer_analyzer_free(video);
    return rc;
  }
  printf("threads  precision  frames/s  ms/frame  detect ms  classify ms  faces/frame  "
         "cpu ms/frame\n");

  static const char *const precision_name[2] = {"fp32", "int8"};
  const int precisions = int8 ? 2 : 1;
  char *list = malloc(strlen(threads_arg) + 1);
  strcpy(list, threads_arg);
  for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
    int threads = atoi(tok);
    if (fer_set_num_threads(threads) != FER_OK) return die("threads");
    fer_face faces[MAX_FACES];
    fer_detection boxes[MAX_FACES];
    size_t n = 0, total_faces[2] = {0, 0};
    /* Passes interleaved (fp32, int8, detector, fp32, ...), the first a
     * warm-up that grows the scratch buffers, the best of the rest kept:
     * on a shared machine the load changes from one second to the next. */
    double best_total[2] = {1e30, 1e30}, best_cpu[2] = {1e30, 1e30}, best_detect = 1e30;
    for (int r = 0; r <= repeat; r++) {
      for (int p = 0; p < precisions; p++) {
        if (fer_model_set(model, FER_MODEL_PRECISION,
                          p ? FER_PRECISION_INT8 : FER_PRECISION_FP32) != FER_OK)
          return die("precision");
        total_faces[p] = 0;
        double cpu_a = cpu_now(), a = now();
        for (int f = 0; f < count && (r || f < 5); f++) {
          st = fer_analyzer_run(an, frames[f], faces, NULL, MAX_FACES, 0, &n);
          if (st != FER_OK && st != FER_ERR_BUFFER_TOO_SMALL) return die("analyzer run");
          total_faces[p] += n;
        }
        double b = now(), cpu_b = cpu_now();
        if (r && b - a < best_total[p]) best_total[p] = b - a;
        if (r && cpu_b - cpu_a < best_cpu[p]) best_cpu[p] = cpu_b - cpu_a;
      }
      if (!r) continue;
      double b = now();
      for (int f = 0; f < count; f++) {
        st = fer_detector_run(det, frames[f], boxes, MAX_FACES, &n);
        if (st != FER_OK && st != FER_ERR_BUFFER_TOO_SMALL) return die("detector run");
      }
      if (now() - b < best_detect) best_detect = now() - b;
    }
    for (int p = 0; p < precisions; p++) {
      double ms = best_total[p] * 1e3 / count, det_ms = best_detect * 1e3 / count;
      double cls_ms = ms > det_ms ? ms - det_ms : 0;
      double faces_per_frame = (double)total_faces[p] / count;
      double cpu_ms = best_cpu[p] * 1e3 / count;
      printf("%7d  %9s  %8.1f  %8.2f  %9.2f  %11.2f  %11.2f  %12.2f\n", threads,
             precision_name[p], 1e3 / ms, ms, det_ms, cls_ms, faces_per_frame, cpu_ms);
      printf("{\"bench\":\"pipeline\",\"threads\":%d,\"precision\":\"%s\",\"width\":%d,"
             "\"height\":%d,\"frames\":%d,\"fps\":%.2f,\"ms_per_frame\":%.3f,"
             "\"detect_ms\":%.3f,\"classify_ms\":%.3f,\"decode_ms\":%.3f,"
             "\"faces_per_frame\":%.2f,\"cpu_ms_per_frame\":%.3f}\n",
             threads, precision_name[p], width, height, count, 1e3 / ms, ms, det_ms, cls_ms,
             decode_ms, faces_per_frame, cpu_ms);
    }
    if (int8)
      printf("threads %d: int8 / fp32 frame time %.3f, classification time %.3f\n", threads,
             best_total[1] / best_total[0],
             (best_total[1] - best_detect) / (best_total[0] - best_detect));
  }
  free(list);
  for (int f = 0; f < count; f++) fer_image_free(frames[f]);
  fer_detector_free(det);
  fer_analyzer_free(an);
  fer_model_free(model);
  fer_cascade_free(cascade);
  return 0;
}
