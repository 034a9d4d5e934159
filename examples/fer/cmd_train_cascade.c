/*
 * fer train-cascade: trains a Viola-Jones cascade and writes it as OpenCV
 * XML (PREFIX.xml) and libfer's binary format (PREFIX.fercascade).
 *
 *   fer train-cascade --out PREFIX (--pos-folder DIR | --pos-csv FILE |
 *                     --pos-boxes FILE) --neg-list bg.txt [options]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "cli_train_common.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: fer train-cascade --out PREFIX POSITIVES --neg-list FILE [options]\n"
          "\n"
          "Trains a Haar cascade; writes PREFIX.xml (OpenCV) and PREFIX.fercascade.\n"
          "\n"
          "positives (one of):\n"
          "  --pos-folder DIR      class folders of face crops (the FER2013 layout)\n"
          "  --pos-csv FILE        a FER2013 CSV (gzip too); rows of --usage: training\n"
          "                        (default), publictest, privatetest or all\n"
          "  --pos-boxes FILE      lines 'image x y w h' (paths relative to FILE's folder)\n"
          "  --crop X,Y,SIDE       box taken from each 48x48 crop (default 1,1,46: the\n"
          "                        face-box convention of OpenCV's face cascades)\n"
          "  --mirror              add each positive's mirror image\n"
          "  --jitter N            add N copies per positive shifted/scaled by a pixel or two\n"
          "negatives:\n"
          "  --neg-list FILE       image paths, one a line, relative to FILE's folder\n"
          "  --neg-stride K        use every K-th line of the list only\n"
          "training:\n"
          "  --stages N  --min-hit-rate R  --max-false-alarm R  --num-pos N  --num-neg N\n"
          "  --boost gentle|real|discrete  --depth N  --features upright|all|lbp\n"
          "  --buffer-mb N  --threads N  --seed N  --max-weak N  --max-features N\n"
          "  --set NAME=VALUE      any trainer setting by name\n"
          "  --state FILE          resumable state, written after every stage\n"
          "\n"
          "Exit status: 0 ok, 1 failure, 2 usage.\n");
}

typedef struct options {
  const char *out, *pos_folder, *pos_csv, *pos_boxes, *neg_list, *state;
  int usage, crop_x, crop_y, crop_side, mirror, jitter, neg_stride;
} options;

static int progress(void *user, int stage, int weak, double hit, double fa, double acceptance,
                    double seconds) {
  (void)user;
  printf("stage %2d: %3d weak, hit rate %.4f, false alarm %.4f, negative acceptance ratio %.3g, "
         "%.1f s\n", stage, weak, hit, fa, acceptance, seconds);
  fflush(stdout);
  return 0;
}

/* A small deterministic generator for the jitter. */
static unsigned long long next_random(unsigned long long *s) {
  *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
  return *s >> 33;
}

/* Adds the crop box of a 48x48 sample and its jittered copies (parse_crop
 * made sure the box lies inside the sample). */
static fer_status add_crop(fer_cascade_trainer *tr, const uint8_t *px, int size,
                           const options *o, unsigned long long *rng) {
  int side = o->crop_side * size / 48, x = o->crop_x * size / 48, y = o->crop_y * size / 48;
  fer_status st = fer_cascade_trainer_add_positive(tr, px + y * size + x, side, side, size, o->mirror);
  for (int j = 0; st == FER_OK && j < o->jitter; j++) {
    int ds = (int)(next_random(rng) % 5) - 2; /* side -2..+2 */
    int s = side + ds;
    if (s > size) s = size; /* a crop as large as the sample cannot grow */
    if (s < 1) s = 1;       /* nor one of a pixel or two shrink to nothing */
    int jx = x - ds / 2 + (int)(next_random(rng) % 3) - 1;
    int jy = y - ds / 2 + (int)(next_random(rng) % 3) - 1;
    if (jx < 0) jx = 0;
    if (jy < 0) jy = 0;
    if (jx + s > size) jx = size - s;
    if (jy + s > size) jy = size - s;
    st = fer_cascade_trainer_add_positive(tr, px + jy * size + jx, s, s, size, o->mirror);
  }
  return st;
}

static fer_status add_dataset(fer_cascade_trainer *tr, fer_dataset *ds, const options *o) {
  unsigned long long rng = 12345;
  int size = fer_dataset_width(ds);
  fer_status st = FER_OK;
  for (size_t i = 0; st == FER_OK && i < fer_dataset_count(ds); i++)
    st = add_crop(tr, fer_dataset_pixels(ds, i), size, o, &rng);
  return st;
}

/* The folder part of `path` (with its slash), into buf. */
static void folder_of(const char *path, char *buf, size_t size) {
  const char *slash = strrchr(path, '/');
  size_t n = slash ? (size_t)(slash - path + 1) : 0;
  if (n >= size) n = size - 1;
  memcpy(buf, path, n);
  buf[n] = 0;
}

static int load_list(const char *list, int boxes, fer_cascade_trainer *tr, const options *o) {
  FILE *f = fopen(list, "r");
  if (!f) {
    fprintf(stderr, "fer train-cascade: cannot open %s\n", list);
    return 0;
  }
  char dir[4096], line[4096], path[8192];
  folder_of(list, dir, sizeof dir);
  int ok = 1, count = 0, line_number = 0;
  while (ok && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\r\n")] = 0;
    if (!line[0]) continue;
    if (!boxes && o->neg_stride > 1 && line_number++ % o->neg_stride != 0) continue;
    char name[4096];
    int x = 0, y = 0, w = 0, h = 0;
    if (boxes) {
      if (sscanf(line, "%4095s %d %d %d %d", name, &x, &y, &w, &h) != 5) continue; /* header */
    } else {
      snprintf(name, sizeof name, "%s", line);
    }
    snprintf(path, sizeof path, "%s%s", name[0] == '/' ? "" : dir, name);
    fer_image *img;
    if (fer_image_load(path, FER_DECODE_GRAY, &img) != FER_OK) {
      fprintf(stderr, "fer train-cascade: %s\n", fer_last_error());
      ok = 0;
      break;
    }
    fer_status st;
    if (boxes) {
      int iw = fer_image_width(img), ih = fer_image_height(img);
      if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > iw || y + h > ih) {
        fer_image_free(img);
        continue; /* a box past the border: not a whole face */
      }
      const uint8_t *px = fer_image_data(img) + (size_t)y * fer_image_stride(img) + (size_t)x;
      st = fer_cascade_trainer_add_positive(tr, px, w, h, fer_image_stride(img), o->mirror);
    } else {
      st = fer_cascade_trainer_add_negative(tr, img);
    }
    fer_image_free(img);
    if (st == FER_ERR_INVALID_ARGUMENT && !boxes) {
      /* Smaller than the window: of no use, but no reason to stop. */
      fprintf(stderr, "fer train-cascade: skipped %s: %s\n", path, fer_last_error());
      st = FER_OK;
    }
    if (st != FER_OK) {
      fprintf(stderr, "fer train-cascade: %s: %s\n", path, fer_last_error());
      ok = 0;
    }
    count++;
  }
  fclose(f);
  if (ok && count == 0)
    fprintf(stderr, "fer train-cascade: %s names no %s\n", list,
            boxes ? "box inside its image" : "image");
  return ok && count > 0;
}

/* The trainer setting `name` from the text `value`, given as `flag`
 * (messages name what the user typed). */
static int set_named(fer_cascade_trainer *tr, const char *flag, const char *name,
                     const char *value) {
  fer_cascade_train_param key;
  double v;
  if (!cli_parse_double(value, &v)) {
    fprintf(stderr, "fer train-cascade: %s needs a number, not '%s'\n", flag, value);
    return 0;
  }
  if (fer_cascade_train_param_find(name, &key) != FER_OK ||
      fer_cascade_trainer_set(tr, key, v) != FER_OK) {
    fprintf(stderr, "fer train-cascade: %s: %s\n", flag, fer_last_error());
    return 0;
  }
  return 1;
}

/* A whole number in [min_value, max_value] (atoi took "abc" for 0 and a
 * negative --jitter for none). */
static int parse_whole(const char *flag, const char *text, int min_value, int max_value,
                       int *out) {
  double v;
  if (!cli_parse_double(text, &v) || v < min_value || v > max_value || v != (int)v) {
    fprintf(stderr, "fer train-cascade: %s needs a whole number in [%d, %d], not '%s'\n",
            flag, min_value, max_value, text);
    return 0;
  }
  *out = (int)v;
  return 1;
}

/* --crop X,Y,SIDE: a square inside the 48x48 sample, which the folder and
 * CSV sources always give. Checked here so that no crop reads outside it. */
static int parse_crop(const char *text, options *o) {
  long v[3];
  const char *p = text;
  for (int k = 0; k < 3; k++) {
    char *end;
    v[k] = strtol(p, &end, 10);
    if (end == p || *end != (k < 2 ? ',' : '\0')) {
      fprintf(stderr, "fer train-cascade: --crop needs X,Y,SIDE, not '%s'\n", text);
      return 0;
    }
    p = end + 1;
  }
  if (v[0] < 0 || v[1] < 0 || v[2] < 1 || v[0] + v[2] > FER_FER2013_SIDE ||
      v[1] + v[2] > FER_FER2013_SIDE) {
    fprintf(stderr, "fer train-cascade: --crop %s: the box must lie inside the %dx%d sample\n",
            text, FER_FER2013_SIDE, FER_FER2013_SIDE);
    return 0;
  }
  o->crop_x = (int)v[0];
  o->crop_y = (int)v[1];
  o->crop_side = (int)v[2];
  return 1;
}

/* Flags that map straight to a trainer setting. */
static const struct {
  const char *flag, *name;
} setting_flags[] = {
  {"--stages", "stages"},         {"--min-hit-rate", "min_hit_rate"},
  {"--max-false-alarm", "max_false_alarm"}, {"--num-pos", "positives"},
  {"--num-neg", "negatives"},     {"--depth", "tree_depth"},
  {"--buffer-mb", "buffer_mb"},   {"--threads", "threads"},
  {"--seed", "seed"},             {"--max-weak", "max_weak"},
  {"--max-features", "max_features"}, {"--width", "window_width"},
  {"--height", "window_height"},
};

static int parse_args(int argc, char **argv, fer_cascade_trainer *tr, options *o) {
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    /* Every flag but --mirror takes a value; an unknown flag is reported as
     * such even when it is the last argument. */
#define TAKE_VALUE() \
  do { if (!v) { fprintf(stderr, "fer train-cascade: %s needs a value\n", a); return 0; } i++; } while (0)
    if (cli_is_help(a)) {
      usage(stdout);
      exit(CLI_OK);
    }
    int handled = 0;
    for (size_t k = 0; k < sizeof setting_flags / sizeof setting_flags[0]; k++)
      if (strcmp(a, setting_flags[k].flag) == 0) {
        TAKE_VALUE();
        if (!set_named(tr, a, setting_flags[k].name, v)) return 0;
        handled = 1;
      }
    if (handled) continue;
    if (strcmp(a, "--mirror") == 0) o->mirror = 1;
    else if (strcmp(a, "--out") == 0) { TAKE_VALUE(); o->out = v; }
    else if (strcmp(a, "--pos-folder") == 0) { TAKE_VALUE(); o->pos_folder = v; }
    else if (strcmp(a, "--pos-csv") == 0) { TAKE_VALUE(); o->pos_csv = v; }
    else if (strcmp(a, "--pos-boxes") == 0) { TAKE_VALUE(); o->pos_boxes = v; }
    else if (strcmp(a, "--neg-list") == 0) { TAKE_VALUE(); o->neg_list = v; }
    else if (strcmp(a, "--state") == 0) { TAKE_VALUE(); o->state = v; }
    else if (strcmp(a, "--usage") == 0) {
      TAKE_VALUE();
      if ((o->usage = cli_parse_usage(v)) < 0) {
        fprintf(stderr, "fer train-cascade: --usage training, publictest, privatetest or all, "
                "not '%s'\n", v);
        return 0;
      }
    } else if (strcmp(a, "--jitter") == 0) {
      TAKE_VALUE();
      if (!parse_whole(a, v, 0, 100, &o->jitter)) return 0;
    } else if (strcmp(a, "--neg-stride") == 0) {
      TAKE_VALUE();
      if (!parse_whole(a, v, 1, 1000000, &o->neg_stride)) return 0;
    } else if (strcmp(a, "--crop") == 0) {
      TAKE_VALUE();
      if (!parse_crop(v, o)) return 0;
    } else if (strcmp(a, "--boost") == 0) {
      TAKE_VALUE();
      double b = strcmp(v, "gentle") == 0 ? FER_BOOST_GENTLE
                 : strcmp(v, "real") == 0 ? FER_BOOST_REAL
                 : strcmp(v, "discrete") == 0 ? FER_BOOST_DISCRETE : 0;
      if (b == 0 || fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_BOOST, b) != FER_OK) {
        fprintf(stderr, "fer train-cascade: --boost gentle, real or discrete\n");
        return 0;
      }
    } else if (strcmp(a, "--features") == 0) {
      TAKE_VALUE();
      double f = strcmp(v, "upright") == 0 ? FER_FEATURES_HAAR_UPRIGHT
                 : strcmp(v, "all") == 0 ? FER_FEATURES_HAAR_ALL
                 : strcmp(v, "lbp") == 0 ? FER_FEATURES_LBP : 0;
      if (f == 0 || fer_cascade_trainer_set(tr, FER_CASCADE_TRAIN_FEATURE_SET, f) != FER_OK) {
        fprintf(stderr, "fer train-cascade: --features upright, all or lbp\n");
        return 0;
      }
    } else if (strcmp(a, "--set") == 0) {
      TAKE_VALUE();
      char buf[256];
      snprintf(buf, sizeof buf, "%s", v);
      char *eq = strchr(buf, '=');
      if (!eq) {
        fprintf(stderr, "fer train-cascade: --set NAME=VALUE\n");
        return 0;
      }
      *eq = 0;
      if (!set_named(tr, buf, buf, eq + 1)) return 0;
    } else {
      fprintf(stderr, "fer train-cascade: unknown option %s\n", a);
      return 0;
    }
#undef TAKE_VALUE
  }
  if (!o->out) {
    fprintf(stderr, "fer train-cascade: missing --out PREFIX\n");
    return 0;
  }
  if (!o->neg_list) {
    fprintf(stderr, "fer train-cascade: missing --neg-list FILE\n");
    return 0;
  }
  if (!!o->pos_folder + !!o->pos_csv + !!o->pos_boxes != 1) {
    fprintf(stderr, "fer train-cascade: need exactly one of --pos-folder, --pos-csv and "
            "--pos-boxes\n");
    return 0;
  }
  return 1;
}

/* True when PREFIX's folder exists: found before training, not after. */
static int out_folder_exists(const char *prefix) {
  char dir[4096];
  struct stat info;
  folder_of(prefix, dir, sizeof dir);
  if (!dir[0] || (stat(dir, &info) == 0 && S_ISDIR(info.st_mode))) return 1;
  fprintf(stderr, "fer train-cascade: --out %s: folder %s does not exist\n", prefix, dir);
  return 0;
}

static int load_positives(fer_cascade_trainer *tr, const options *o) {
  fer_dataset *ds = NULL;
  fer_status st = FER_OK;
  if (o->pos_boxes) return load_list(o->pos_boxes, 1, tr, o);
  /* An unreadable image stops the command (naming it), as in fer train:
   * skipping it silently would train on less than the user thinks. */
  if (o->pos_csv)
    st = fer_dataset_load_fer2013_csv(o->pos_csv, (fer_usage)o->usage, FER_DATASET_DEFAULT, &ds);
  else
    st = fer_dataset_load_folder(o->pos_folder, NULL, 0, 1, FER_FER2013_SIDE, FER_FER2013_SIDE,
                                 FER_DATASET_DEFAULT, &ds);
  if (st == FER_OK) st = add_dataset(tr, ds, o);
  fer_dataset_free(ds);
  if (st != FER_OK) fprintf(stderr, "fer train-cascade: %s\n", fer_last_error());
  return st == FER_OK;
}

int cmd_train_cascade(int argc, char **argv) {
  options o;
  memset(&o, 0, sizeof o);
  o.crop_x = 1;
  o.crop_y = 1;
  o.crop_side = 46;
  o.usage = FER_USAGE_TRAINING;
  fer_cascade_trainer *tr;
  if (fer_cascade_trainer_create(&tr) != FER_OK) return CLI_FAILURE;
  if (!parse_args(argc, argv, tr, &o)) {
    fer_cascade_trainer_free(tr);
    usage(stderr);
    return CLI_USAGE;
  }
  int rc = CLI_FAILURE;
  fer_cascade *cascade = NULL;
  if (!out_folder_exists(o.out) || !load_positives(tr, &o) || !load_list(o.neg_list, 0, tr, &o))
    goto done;
  printf("%zu positives, %zu negative images\n", fer_cascade_trainer_positive_count(tr),
         fer_cascade_trainer_negative_image_count(tr));
  fflush(stdout);
  fer_cascade_trainer_set_progress(tr, progress, NULL);
  if (o.state) fer_cascade_trainer_set_state_file(tr, o.state);
  fer_status st = fer_cascade_trainer_run(tr, &cascade);
  printf("%s\n", fer_cascade_trainer_message(tr));
  if (st != FER_OK) {
    fprintf(stderr, "fer train-cascade: %s\n", fer_last_error());
    goto done;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s.xml", o.out);
  if (fer_cascade_save_xml(cascade, path) != FER_OK) {
    fprintf(stderr, "fer train-cascade: %s\n", fer_last_error());
    goto done;
  }
  snprintf(path, sizeof path, "%s.fercascade", o.out);
  if (fer_cascade_save(cascade, path) != FER_OK) {
    fprintf(stderr, "fer train-cascade: %s\n", fer_last_error());
    goto done;
  }
  printf("wrote %s.xml and %s.fercascade (%d stages)\n", o.out, o.out,
         fer_cascade_stage_count(cascade));
  rc = CLI_OK;
done:
  fer_cascade_free(cascade);
  fer_cascade_trainer_free(tr);
  return rc;
}
