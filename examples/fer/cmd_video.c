/*
 * fer video: expressions in a Y4M video, frame by frame, with tracking.
 *
 *   fer video IN.y4m|- [-o OUT.y4m|-] [--json FILE|-] [options]
 *
 * Any video goes through a pipe:
 *   ffmpeg -i in.mp4 -f yuv4mpegpipe - | fer video - -o out.y4m
 * JSON lines (one per frame) go to stdout when the video goes to a file,
 * or to --json FILE. Many videos at once:
 *   fer video --json-dir OUT a.y4m b.y4m ...
 * writes OUT/a.jsonl, OUT/b.jsonl, ... and skips videos already done.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cli_analyzer.h"

#define MAX_FACES 256

static void usage(FILE *out) {
  fprintf(out,
          "usage: fer video IN.y4m|- [-o OUT.y4m|-] [--json FILE|-] [options]\n"
          "       fer video --json-dir DIR IN.y4m... [options]\n"
          "\n"
          "Reads a Y4M video (a file, or - for standard input), finds and classifies\n"
          "the faces of every frame, follows each face with a tracker (stable ids,\n"
          "smoothed probabilities) and writes the annotated video (-o) and one JSON\n"
          "line per frame (to standard output when -o is a file or absent, or to\n"
          "--json FILE). Convert other formats with ffmpeg:\n"
          "  ffmpeg -i in.mp4 -f yuv4mpegpipe - | fer video - -o out.y4m\n"
          "\n"
          "options:\n"
          "  -o, --output FILE|-   annotated Y4M video (- = standard output)\n"
          "  --json FILE|-         per-frame JSON lines (default: standard output\n"
          "                        unless the video goes there)\n"
          "  --json-dir DIR        for any number of videos: DIR/NAME.jsonl per video\n"
          "                        (NAME: the file name without its extension), each\n"
          "                        written when its video is done; videos whose file\n"
          "                        exists are skipped, so a stopped run resumes\n"
          "  --smoothing A         probability smoothing, 0..0.99 (default 0.6)\n"
          "  --max-missed N        frames a face may be missed before its track ends\n"
          "                        (default 5)\n"
          "  --detect-interval N   detect on the whole frame every N frames and in the\n"
          "                        frames between only around the faces already found\n"
          "                        (faster; a new face is found within N frames);\n"
          "                        1 = every whole frame (default 1)\n");
  cli_analyzer_usage(out);
  fprintf(out, "\nExit status: 0 ok, 1 the video or a file could not be used, 2 usage.\n");
}

typedef struct video_job {
  fer_analyzer *analyzer;
  fer_tracker *tracker;
  fer_y4m_reader *reader;
  fer_y4m_writer *writer;
  FILE *json;
  int k;
  int gray; /* the model reads gray faces */
  fer_face faces[MAX_FACES];
  fer_rect boxes[MAX_FACES], smoothed_boxes[MAX_FACES];
  int32_t ids[MAX_FACES];
  int top[MAX_FACES];
  float *probs, *smoothed;
} video_job;

static void write_json_frame(video_job *job, long frame, size_t n) {
  const fer_model *model = fer_analyzer_model(job->analyzer);
  fprintf(job->json, "{\"frame\":%ld,\"faces\":[", frame);
  for (size_t i = 0; i < n; i++) {
    const fer_rect *b = &job->smoothed_boxes[i];
    fprintf(job->json, "%s{\"id\":%d,\"box\":{\"x\":%d,\"y\":%d,\"width\":%d,\"height\":%d},"
                       "\"label\":",
            i ? "," : "", (int)job->ids[i], b->x, b->y, b->width, b->height);
    cli_json_string(job->json, cli_class_name(model, job->top[i]));
    fprintf(job->json, ",\"confidence\":%.6f,\"probabilities\":{",
            job->smoothed[i * (size_t)job->k + (size_t)job->top[i]]);
    for (int c = 0; c < job->k; c++) {
      fprintf(job->json, "%s", c ? "," : "");
      cli_json_string(job->json, cli_class_name(model, c));
      fprintf(job->json, ":%.6f", job->smoothed[i * (size_t)job->k + (size_t)c]);
    }
    fprintf(job->json, "}}");
  }
  fprintf(job->json, "]}\n");
  fflush(job->json);
}

/* Whether the model reads gray faces: then the analyzer is given the frame's
 * luma (fer_y4m_reader_image with FER_Y4M_READ_GRAY), not luma recomputed
 * from an RGB conversion, which rounds twice and clamps. */
static int gray_model(const fer_analyzer *an) {
  int channels = 0, height = 0, width = 0;
  return fer_model_input_shape(fer_analyzer_model(an), &channels, &height, &width) == FER_OK &&
         channels == 1;
}

/* One frame: analyse, track, write the JSON line and the annotated frame.
 * The RGB frame is made only for a colour model or the annotated output. */
static fer_status process_frame(video_job *job, long frame) {
  fer_image *rgb = NULL, *luma = NULL;
  size_t n = 0;
  fer_status st = FER_OK;
  if (job->gray) st = fer_y4m_reader_image(job->reader, FER_Y4M_READ_GRAY, &luma);
  if (st == FER_OK && (!job->gray || job->writer))
    st = fer_y4m_reader_image(job->reader, 0, &rgb);
  if (st == FER_OK) {
    st = fer_analyzer_run(job->analyzer, job->gray ? luma : rgb, job->faces, job->probs,
                          MAX_FACES, (size_t)job->k, &n);
    if (st == FER_ERR_BUFFER_TOO_SMALL) {
      st = FER_OK;
      n = MAX_FACES;
    }
  }
  for (size_t i = 0; i < n; i++) job->boxes[i] = job->faces[i].box;
  if (st == FER_OK)
    st = fer_tracker_update(job->tracker, job->boxes, job->probs, (int)n, job->ids,
                            job->smoothed, job->top, job->smoothed_boxes);
  if (st == FER_OK && job->json) write_json_frame(job, frame, n);
  if (st == FER_OK && job->writer) {
    /* Draw the tracked (smoothed) labels, which do not flicker. */
    for (size_t i = 0; i < n; i++) {
      job->faces[i].box = job->smoothed_boxes[i];
      job->faces[i].label = job->top[i];
      job->faces[i].confidence = job->smoothed[i * (size_t)job->k + (size_t)job->top[i]];
    }
    st = fer_analyzer_annotate(job->analyzer, rgb, job->faces, n);
    if (st == FER_OK) st = fer_y4m_writer_write(job->writer, rgb);
  }
  fer_image_free(luma);
  fer_image_free(rgb);
  return st;
}

static int parse_value(const char *flag, const char *text, double *out) {
  char *end;
  *out = strtod(text, &end);
  if (end == text || *end) {
    fprintf(stderr, "fer video: %s needs a number, not '%s'\n", flag, text);
    return 0;
  }
  return 1;
}

/* Reads every frame of job->reader through process_frame. */
static int run_frames(video_job *job, const char *input, int progress, const char *label) {
  for (int got = 1;;) {
    fer_status st = fer_y4m_reader_next(job->reader, &got);
    if (st == FER_OK && !got) return CLI_OK;
    long frame = fer_y4m_reader_frame_count(job->reader);
    if (st == FER_OK) st = process_frame(job, frame - 1);
    if (st != FER_OK) {
      fprintf(stderr, "%sfer video: %s: frame %ld: %s\n", progress ? "\r\033[K" : "", input,
              frame, fer_last_error());
      return CLI_FAILURE;
    }
    if (progress && frame % 10 == 0) {
      fprintf(stderr, "\r\033[Kfer video: %s, frame %ld", label, frame);
      fflush(stderr);
    }
  }
}

static fer_status new_tracker(video_job *job, double smoothing, double max_missed) {
  fer_tracker_free(job->tracker);
  job->tracker = NULL;
  fer_status st = fer_tracker_create(job->k, &job->tracker);
  if (st == FER_OK && smoothing >= 0)
    st = fer_tracker_set(job->tracker, FER_TRACKER_PROB_SMOOTHING, smoothing);
  if (st == FER_OK && max_missed >= 0)
    st = fer_tracker_set(job->tracker, FER_TRACKER_MAX_MISSED, max_missed);
  return st;
}

/* DIR/NAME.jsonl for the video at `input` (NAME: its file name without the
 * extension), in a new string. */
static char *json_path_in(const char *dir, const char *input) {
  const char *base = strrchr(input, '/');
  base = base ? base + 1 : input;
  size_t len = strlen(base);
  const char *dot = strrchr(base, '.');
  if (dot && dot != base) len = (size_t)(dot - base);
  size_t size = strlen(dir) + len + 8;
  char *path = malloc(size);
  if (path) snprintf(path, size, "%s/%.*s.jsonl", dir, (int)len, base);
  return path;
}

/* --json-dir: each video's lines go to DIR/NAME.jsonl.part, renamed to
 * DIR/NAME.jsonl when the video is done; an existing NAME.jsonl means done. */
static int run_many(video_job *job, const char *dir, char **inputs, int count,
                    double smoothing, double max_missed) {
  struct stat info;
  if (stat(dir, &info) != 0 && mkdir(dir, 0777) != 0) {
    fprintf(stderr, "fer video: --json-dir %s: %s\n", dir, strerror(errno));
    return CLI_FAILURE;
  }
  int progress = isatty(2), rc = CLI_OK, skipped = 0, failed = 0;
  char **outs = calloc((size_t)count, sizeof *outs);
  if (!outs) return CLI_FAILURE;
  for (int i = 0; i < count; i++)
    if (!(outs[i] = json_path_in(dir, inputs[i]))) rc = CLI_FAILURE;
  /* Two inputs may not write one file. */
  for (int i = 0; rc == CLI_OK && i < count; i++)
    for (int j = 0; j < i; j++)
      if (!strcmp(outs[i], outs[j]) && strcmp(inputs[i], inputs[j])) {
        fprintf(stderr, "fer video: %s and %s would both write %s\n", inputs[j], inputs[i],
                outs[i]);
        rc = CLI_USAGE;
        break;
      }
  for (int i = 0; rc != CLI_USAGE && i < count; i++) {
    if (!outs[i]) continue;
    if (access(outs[i], F_OK) == 0) {
      skipped++;
      continue;
    }
    size_t size = strlen(outs[i]) + 6;
    char *part = malloc(size), label[64];
    if (!part) {
      rc = CLI_FAILURE;
      break;
    }
    snprintf(part, size, "%s.part", outs[i]);
    snprintf(label, sizeof label, "video %d/%d", i + 1, count);
    int one = CLI_OK;
    /* Each video starts with a full detection. */
    if (new_tracker(job, smoothing, max_missed) != FER_OK ||
        fer_analyzer_reset(job->analyzer) != FER_OK ||
        fer_y4m_reader_open(inputs[i], &job->reader) != FER_OK) {
      fprintf(stderr, "%sfer video: %s\n", progress ? "\r\033[K" : "", fer_last_error());
      one = CLI_FAILURE;
    } else if (!(job->json = fopen(part, "w"))) {
      fprintf(stderr, "fer video: %s: %s\n", part, strerror(errno));
      one = CLI_FAILURE;
    } else {
      one = run_frames(job, inputs[i], progress, label);
      if (fclose(job->json) != 0 && one == CLI_OK) {
        fprintf(stderr, "fer video: %s: write failed\n", part);
        one = CLI_FAILURE;
      }
      job->json = NULL;
      if (one == CLI_OK && rename(part, outs[i]) != 0) {
        fprintf(stderr, "fer video: %s: %s\n", outs[i], strerror(errno));
        one = CLI_FAILURE;
      }
      if (one != CLI_OK) remove(part);
    }
    fer_y4m_reader_free(job->reader);
    job->reader = NULL;
    free(part);
    if (one != CLI_OK) {
      failed++;
      rc = CLI_FAILURE;
    }
  }
  if (progress && rc != CLI_USAGE)
    fprintf(stderr, "\r\033[Kfer video: %d videos, %d already done, %d failed\n", count,
            skipped, failed);
  for (int i = 0; i < count; i++) free(outs[i]);
  free(outs);
  return rc;
}

int cmd_video(int argc, char **argv) {
  cli_analyzer_options opt = {0};
  const char *input = NULL, *output = NULL, *json_path = NULL, *json_dir = NULL;
  double smoothing = -1, max_missed = -1, detect_interval = -1;
  char **inputs = calloc((size_t)argc + 1, sizeof *inputs);
  int input_count = 0;
  if (!inputs) return CLI_FAILURE;
  int rc = CLI_OK;
  for (int i = 1; i < argc && rc == CLI_OK; i++) {
    const char *a = argv[i];
    int shared = cli_analyzer_parse("video", argc, argv, &i, &opt);
    if (shared < 0) rc = CLI_USAGE;
    if (shared) continue;
    if (cli_is_help(a)) {
      usage(stdout);
      free(inputs);
      return CLI_OK;
    }
    int takes_value = strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
                      strcmp(a, "--json") == 0 || strcmp(a, "--smoothing") == 0 ||
                      strcmp(a, "--max-missed") == 0 || strcmp(a, "--json-dir") == 0 ||
                      strcmp(a, "--detect-interval") == 0;
    if (takes_value) {
      if (i + 1 >= argc) {
        fprintf(stderr, "fer video: %s needs a value\n", a);
        rc = CLI_USAGE;
        break;
      }
      const char *v = argv[++i];
      if (a[1] == 'o' || strcmp(a, "--output") == 0) output = v;
      else if (strcmp(a, "--json") == 0) json_path = v;
      else if (strcmp(a, "--json-dir") == 0) json_dir = v;
      else if (!parse_value(a, v, strcmp(a, "--smoothing") == 0   ? &smoothing
                                  : strcmp(a, "--max-missed") == 0 ? &max_missed
                                                                   : &detect_interval))
        rc = CLI_USAGE;
    } else if (a[0] == '-' && a[1]) {
      fprintf(stderr, "fer video: unknown option %s\n", a);
      usage(stderr);
      rc = CLI_USAGE;
    } else {
      inputs[input_count++] = argv[i];
    }
  }
  if (rc != CLI_OK) {
    free(inputs);
    return rc;
  }
  if (json_dir && (output || json_path)) {
    fprintf(stderr, "fer video: --json-dir writes one file per video: no -o or --json with it\n");
    free(inputs);
    return CLI_USAGE;
  }
  if (!json_dir && input_count > 1) {
    fprintf(stderr, "fer video: several input videos need --json-dir DIR ('%s' and '%s')\n",
            inputs[0], inputs[1]);
    free(inputs);
    return CLI_USAGE;
  }
  input = input_count ? inputs[0] : NULL;
  int video_to_stdout = output && strcmp(output, "-") == 0;
  if (!input || (json_path && strcmp(json_path, "-") == 0 && video_to_stdout)) {
    fprintf(stderr, "fer video: %s\n", !input ? "no input video given (use - for standard input)"
                                              : "the video and the JSON cannot both go to standard output");
    usage(stderr);
    free(inputs);
    return CLI_USAGE;
  }
  video_job job;
  memset(&job, 0, sizeof job);
  cli_analyzer ca;
  rc = cli_analyzer_open("video", &opt, 1, &ca);
  if (rc != CLI_OK) {
    free(inputs);
    return rc;
  }
  job.analyzer = ca.analyzer;
  job.k = fer_analyzer_num_classes(ca.analyzer);
  job.gray = gray_model(ca.analyzer);
  job.probs = malloc((size_t)MAX_FACES * (size_t)job.k * sizeof(float));
  job.smoothed = malloc((size_t)MAX_FACES * (size_t)job.k * sizeof(float));
  fer_status st = job.probs && job.smoothed ? FER_OK : FER_ERR_OUT_OF_MEMORY;
  if (st == FER_OK) st = new_tracker(&job, smoothing, max_missed);
  if (st == FER_OK && detect_interval >= 0)
    st = fer_analyzer_set(ca.analyzer, FER_ANALYZE_DETECT_INTERVAL, detect_interval);
  if (st != FER_OK) {
    fprintf(stderr, "fer video: %s\n", fer_last_error());
    rc = st == FER_ERR_INVALID_ARGUMENT ? CLI_USAGE : CLI_FAILURE;
  }
  if (rc == CLI_OK && json_dir) {
    rc = run_many(&job, json_dir, inputs, input_count, smoothing, max_missed);
    input = NULL; /* done */
  }
  if (rc == CLI_OK && input && fer_y4m_reader_open(input, &job.reader) != FER_OK) {
    fprintf(stderr, "fer video: %s\n", fer_last_error());
    rc = CLI_FAILURE;
  }
  if (rc == CLI_OK && input && output) {
    /* A closed pipe must give an error we report, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    int num = 0, den = 0;
    st = fer_y4m_writer_open(output, fer_y4m_reader_width(job.reader),
                             fer_y4m_reader_height(job.reader), 0, &job.writer);
    if (st == FER_OK && fer_y4m_reader_frame_rate(job.reader, &num, &den) == FER_OK && num > 0 &&
        den > 0)
      st = fer_y4m_writer_set_frame_rate(job.writer, num, den);
    if (st != FER_OK) {
      fprintf(stderr, "fer video: %s\n", fer_last_error());
      rc = CLI_FAILURE;
    }
  }
  if (rc == CLI_OK && input) {
    if (json_path && strcmp(json_path, "-") != 0) {
      job.json = fopen(json_path, "w");
      if (!job.json) {
        fprintf(stderr, "fer video: --json %s: cannot create the file\n", json_path);
        rc = CLI_FAILURE;
      }
    } else if (json_path || !video_to_stdout) {
      job.json = stdout;
    }
  }
  if (rc == CLI_OK && input) rc = run_frames(&job, input, 0, NULL);
  if (job.writer && fer_y4m_writer_close(job.writer) != FER_OK && rc == CLI_OK) {
    fprintf(stderr, "fer video: %s: %s\n", output, fer_last_error());
    rc = CLI_FAILURE;
  }
  if (job.json && job.json != stdout && fclose(job.json) != 0 && rc == CLI_OK) {
    fprintf(stderr, "fer video: --json %s: write failed\n", json_path);
    rc = CLI_FAILURE;
  }
  fer_y4m_reader_free(job.reader);
  fer_tracker_free(job.tracker);
  free(job.probs);
  free(job.smoothed);
  cli_analyzer_close(&ca);
  free(inputs);
  return rc;
}
