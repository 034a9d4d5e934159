/* The training-state file (docs/training-state-format.md): everything a fit
 * needs to continue exactly where it stopped, written atomically after each
 * epoch, CRC-checked and validated in full before anything is restored. */
#include <math.h>
#include <string.h>
#include <sys/stat.h>

#include "train/trainer_internal.h"
#include "util/crc32.h"
#include "util/endian.h"
#include "util/file.h"

static const char state_magic[8] = {'F', 'E', 'R', 'T', 'R', 'A', 'I', 'N'};
enum {
  HEADER_SIZE = 16,       /* magic, version, flags */
  TRACKERS = 3,           /* plateau, early stopping, checkpoint */
  PROG_SIZE = 4 + 4 + 8 + 8 + 16 + TRACKERS * 32,
  MAX_STATE_SIZE = 1 << 30,
  MAX_HISTORY = 100000
};

int fer_train_state_version(void) { return FER__TRAIN_STATE_VERSION; }

int fer__train_state_exists(const char *path) {
  struct stat info;
  return stat(path, &info) == 0;
}

static void put_f64(fer__buf *b, double v) {
  uint64_t u;
  memcpy(&u, &v, 8);
  fer__buf_u64le(b, u);
}

static double get_f64(const uint8_t *p) {
  uint64_t u = fer__get_u64le(p);
  double v;
  memcpy(&v, &u, 8);
  return v;
}

/* Starts a section: tag and a length patched by end_section. */
static size_t begin_section(fer__buf *b, const char *tag) {
  fer__buf_append(b, tag, 4);
  fer__buf_u32le(b, 0);
  return b->size;
}

static void end_section(fer__buf *b, size_t start) {
  if (!b->failed) fer__put_u32le(b->data + start - 4, (uint32_t)(b->size - start));
}

static fer_status append_model(fer__buf *b, const char *tag, const void *bytes,
                               size_t size) {
  if (size > MAX_STATE_SIZE)
    return fer__fail(FER_ERR_TOO_LARGE, "training state: model of %zu bytes", size);
  size_t at = begin_section(b, tag);
  fer__buf_append(b, bytes, size);
  end_section(b, at);
  return FER_OK;
}

fer_status fer__train_state_save(const fer_trainer *tr, const fer_model *m,
                                 uint64_t train_count, const char *path) {
  fer__buf b;
  fer__buf_init(&b);
  fer__buf_append(&b, state_magic, 8);
  fer__buf_u32le(&b, FER__TRAIN_STATE_VERSION);
  fer__buf_u32le(&b, 0);
  size_t at = begin_section(&b, "PROG");
  fer__buf_u32le(&b, (uint32_t)tr->epochs_done);
  fer__buf_u32le(&b, (uint32_t)tr->stopped);
  fer__buf_u64le(&b, (uint64_t)tr->value[FER_TRAIN_SEED]);
  fer__buf_u64le(&b, train_count);
  fer__buf_u64le(&b, m->dropout_rng.s[0]);
  fer__buf_u64le(&b, m->dropout_rng.s[1]);
  const fer__tracker *trackers[TRACKERS] = {&tr->plateau, &tr->early, &tr->checkpoint};
  for (int i = 0; i < TRACKERS; i++) {
    put_f64(&b, trackers[i]->best);
    fer__buf_u64le(&b, (uint64_t)trackers[i]->wait);
    fer__buf_u64le(&b, (uint64_t)trackers[i]->best_epoch);
    fer__buf_u64le(&b, (uint64_t)trackers[i]->cooldown);
  }
  end_section(&b, at);
  at = begin_section(&b, "HIST");
  fer__buf_u32le(&b, (uint32_t)tr->history_count);
  fer__buf_u32le(&b, FER_TRAIN_METRIC_COUNT);
  for (size_t i = 0; i < (size_t)tr->history_count * FER_TRAIN_METRIC_COUNT; i++)
    put_f64(&b, tr->history[i]);
  end_section(&b, at);
  void *model_bytes = NULL;
  size_t model_size = 0;
  fer_status st = fer_model_save_memory(m, FER_SAVE_DEFAULT, &model_bytes, &model_size);
  if (!st) st = append_model(&b, "MODL", model_bytes, model_size);
  fer_free(model_bytes);
  if (!st) {
    at = begin_section(&b, "OPTM");
    fer__optimizer_serialize(tr->opt, &b);
    end_section(&b, at);
    if (tr->sched) {
      at = begin_section(&b, "SCHD");
      fer__schedule_serialize(tr->sched, &b);
      end_section(&b, at);
    }
    if (tr->best_weights)
      st = append_model(&b, "BEST", tr->best_weights, tr->best_weights_size);
  }
  if (!st) st = fer__buf_status(&b, "training state");
  if (!st) {
    fer__buf_u32le(&b, fer__crc32(0, b.data, b.size));
    st = fer__buf_status(&b, "training state");
  }
  if (!st) st = fer__write_file_atomic(path, b.data, b.size);
  fer__buf_release(&b);
  return st;
}

/* ---- Loading: parse the framing, then validate every part, then apply. */

typedef struct section {
  const uint8_t *data;
  size_t size;
} section;

typedef struct parsed_state {
  uint32_t epochs_done, stopped;
  uint64_t seed, train_count, rng[2];
  fer__tracker trackers[TRACKERS];
  section hist, model, opt, sched, best;
  uint32_t rows;
} parsed_state;

/* Reads the section at *at if its tag is `tag`; `optional` ones may be
 * absent. */
static fer_status read_section(const uint8_t *data, size_t size, size_t *at,
                               const char *tag, int optional, section *out,
                               const char *name) {
  out->data = NULL;
  out->size = 0;
  if (size - *at < 8 || memcmp(data + *at, tag, 4) != 0) {
    if (optional) return FER_OK;
    if (size - *at < 8)
      return fer__fail(FER_ERR_TRUNCATED, "%s: truncated at byte %zu (expected "
                       "section %s)", name, *at, tag);
    return fer__fail(FER_ERR_FORMAT, "%s: byte %zu: expected section %s", name,
                     *at, tag);
  }
  uint32_t len = fer__get_u32le(data + *at + 4);
  if (len > size - *at - 8)
    return fer__fail(FER_ERR_TRUNCATED, "%s: section %s at byte %zu needs %u "
                     "bytes, %zu remain", name, tag, *at, (unsigned)len,
                     size - *at - 8);
  out->data = data + *at + 8;
  out->size = len;
  *at += 8 + (size_t)len;
  return FER_OK;
}

static fer_status parse(const uint8_t *data, size_t size, const char *name,
                        parsed_state *ps) {
  memset(ps, 0, sizeof *ps);
  if (size < HEADER_SIZE + 4 || memcmp(data, state_magic, 8) != 0) {
    if (size >= 8 && memcmp(data, state_magic, 8) == 0)
      return fer__fail(FER_ERR_TRUNCATED, "%s: truncated at byte %zu", name, size);
    return fer__fail(FER_ERR_FORMAT, "%s: not a libfer training-state file", name);
  }
  uint32_t version = fer__get_u32le(data + 8);
  if (version > FER__TRAIN_STATE_VERSION)
    return fer__fail(FER_ERR_VERSION, "%s: format version %u is newer than %d",
                     name, (unsigned)version, FER__TRAIN_STATE_VERSION);
  if (version == 0 || fer__get_u32le(data + 12) != 0)
    return fer__fail(FER_ERR_FORMAT, "%s: bad version or flags in the header", name);
  size_t body = size - 4;
  if (fer__crc32(0, data, body) != fer__get_u32le(data + body))
    return fer__fail(FER_ERR_CHECKSUM, "%s: CRC-32 mismatch (the file is corrupt "
                     "or truncated)", name);
  size_t at = HEADER_SIZE;
  section prog;
  fer_status st;
  if ((st = read_section(data, body, &at, "PROG", 0, &prog, name))) return st;
  if (prog.size != PROG_SIZE)
    return fer__fail(FER_ERR_FORMAT, "%s: PROG section of %zu bytes, expected %d",
                     name, prog.size, PROG_SIZE);
  const uint8_t *p = prog.data;
  ps->epochs_done = fer__get_u32le(p);
  ps->stopped = fer__get_u32le(p + 4);
  ps->seed = fer__get_u64le(p + 8);
  ps->train_count = fer__get_u64le(p + 16);
  ps->rng[0] = fer__get_u64le(p + 24);
  ps->rng[1] = fer__get_u64le(p + 32);
  if (ps->epochs_done > MAX_HISTORY || ps->stopped > 1 || (ps->rng[0] | ps->rng[1]) == 0)
    return fer__fail(FER_ERR_FORMAT, "%s: progress values out of range", name);
  for (int i = 0; i < TRACKERS; i++) {
    const uint8_t *q = p + 40 + 32 * i;
    fer__tracker *t = &ps->trackers[i];
    t->best = get_f64(q);
    uint64_t wait = fer__get_u64le(q + 8), best_epoch = fer__get_u64le(q + 16),
             cooldown = fer__get_u64le(q + 24);
    if (wait > MAX_HISTORY || best_epoch > ps->epochs_done || cooldown > MAX_HISTORY ||
        isinf(t->best))
      return fer__fail(FER_ERR_FORMAT, "%s: callback state %d out of range", name, i);
    t->wait = (long)wait;
    t->best_epoch = (long)best_epoch;
    t->cooldown = (long)cooldown;
  }
  if ((st = read_section(data, body, &at, "HIST", 0, &ps->hist, name))) return st;
  if (ps->hist.size < 8 || fer__get_u32le(ps->hist.data + 4) != FER_TRAIN_METRIC_COUNT)
    return fer__fail(FER_ERR_FORMAT, "%s: HIST section has a bad column count", name);
  ps->rows = fer__get_u32le(ps->hist.data);
  if (ps->rows != ps->epochs_done ||
      ps->hist.size != 8 + (size_t)ps->rows * FER_TRAIN_METRIC_COUNT * 8)
    return fer__fail(FER_ERR_FORMAT, "%s: HIST has %u rows for %u epochs (or a "
                     "bad size)", name, (unsigned)ps->rows, (unsigned)ps->epochs_done);
  if ((st = read_section(data, body, &at, "MODL", 0, &ps->model, name))) return st;
  if ((st = read_section(data, body, &at, "OPTM", 0, &ps->opt, name))) return st;
  if ((st = read_section(data, body, &at, "SCHD", 1, &ps->sched, name))) return st;
  if ((st = read_section(data, body, &at, "BEST", 1, &ps->best, name))) return st;
  if (at != body)
    return fer__fail(FER_ERR_FORMAT, "%s: %zu unexpected bytes at byte %zu", name,
                     body - at, at);
  return FER_OK;
}

/* An optimizer or schedule of the kind a record says, with the record
 * restored into it (validation). Kinds are the u32 after the inner tag and
 * length. */
static fer_status check_optimizer(const section *s, const char *name,
                                  fer_optimizer **out) {
  *out = NULL;
  if (s->size < 12)
    return fer__fail(FER_ERR_FORMAT, "%s: OPTM section too short", name);
  uint32_t kind = fer__get_u32le(s->data + 8);
  if (kind < FER_OPTIMIZER_SGD || kind > FER_OPTIMIZER_ADAMW)
    return fer__fail(FER_ERR_FORMAT, "%s: unknown optimizer kind %u", name,
                     (unsigned)kind);
  fer_status st = fer_optimizer_create((fer_optimizer_kind)kind, out);
  size_t offset = 0;
  if (!st) st = fer__optimizer_restore(*out, s->data, s->size, &offset);
  if (!st && offset != s->size)
    st = fer__fail(FER_ERR_FORMAT, "%s: OPTM section has trailing bytes", name);
  if (st) {
    fer_optimizer_free(*out);
    *out = NULL;
    return fer__fail_prefix(st, name);
  }
  return FER_OK;
}

static fer_status check_schedule(const section *s, const char *name,
                                 fer_schedule **out) {
  *out = NULL;
  if (s->size < 12)
    return fer__fail(FER_ERR_FORMAT, "%s: SCHD section too short", name);
  uint32_t kind = fer__get_u32le(s->data + 8);
  if (kind < FER_SCHEDULE_STEP || kind > FER_SCHEDULE_PLATEAU)
    return fer__fail(FER_ERR_FORMAT, "%s: unknown schedule kind %u", name,
                     (unsigned)kind);
  fer_status st = fer_schedule_create((fer_schedule_kind)kind, out);
  size_t offset = 0;
  if (!st) st = fer__schedule_restore(*out, s->data, s->size, &offset);
  if (!st && offset != s->size)
    st = fer__fail(FER_ERR_FORMAT, "%s: SCHD section has trailing bytes", name);
  if (st) {
    fer_schedule_free(*out);
    *out = NULL;
    return fer__fail_prefix(st, name);
  }
  return FER_OK;
}

/* Every part of a parsed state, validated into temporaries. */
typedef struct loaded_state {
  parsed_state ps;
  fer_model *model, *best;
  fer_optimizer *opt;
  fer_schedule *sched;
} loaded_state;

static void loaded_release(loaded_state *ls) {
  fer_model_free(ls->model);
  fer_model_free(ls->best);
  fer_optimizer_free(ls->opt);
  fer_schedule_free(ls->sched);
}

static fer_status load_all(const uint8_t *data, size_t size, const char *name,
                           loaded_state *ls) {
  memset(ls, 0, sizeof *ls);
  fer_status st = parse(data, size, name, &ls->ps);
  if (st) return st;
  if ((st = fer_model_load_memory(ls->ps.model.data, ls->ps.model.size, &ls->model)))
    return fer__fail_prefix(st, name);
  if (ls->ps.best.data &&
      (st = fer_model_load_memory(ls->ps.best.data, ls->ps.best.size, &ls->best)))
    return fer__fail_prefix(st, name);
  if ((st = check_optimizer(&ls->ps.opt, name, &ls->opt))) return st;
  if (ls->ps.sched.data && (st = check_schedule(&ls->ps.sched, name, &ls->sched)))
    return st;
  if (ls->best && (st = fer__model_copy_tensors(ls->best, ls->model, name))) {
    /* a check only: same architecture; ls->best is reloaded when used */
    return st;
  }
  return FER_OK;
}

fer_status fer_train_state_validate(const void *data, size_t size) {
  if (!data && size) return fer__fail(FER_ERR_INVALID_ARGUMENT,
                                      "fer_train_state_validate: data is NULL");
  loaded_state ls;
  fer_status st = load_all(data ? data : (const void *)"", size, "<memory>", &ls);
  loaded_release(&ls);
  return st;
}

fer_status fer__train_state_load(fer_trainer *tr, fer_model *m,
                                 uint64_t train_count, const char *path) {
  uint8_t *data;
  size_t size;
  fer_status st = fer__read_file(path, MAX_STATE_SIZE, &data, &size);
  if (st) return st;
  loaded_state ls;
  st = load_all(data, size, path, &ls);
  const parsed_state *ps = &ls.ps;
  if (!st && ps->seed != (uint64_t)tr->value[FER_TRAIN_SEED])
    st = fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: written with seed %llu, the "
                   "trainer has seed %llu", path, (unsigned long long)ps->seed,
                   (unsigned long long)tr->value[FER_TRAIN_SEED]);
  if (!st && ps->train_count != train_count)
    st = fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: written for %llu training "
                   "samples, this fit has %llu", path,
                   (unsigned long long)ps->train_count,
                   (unsigned long long)train_count);
  if (!st && (ps->sched.data != NULL) != (tr->sched != NULL))
    st = fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: written %s a schedule, this "
                   "fit has %s", path, ps->sched.data ? "with" : "without",
                   tr->sched ? "one" : "none");
  if (!st && ls.opt->kind != tr->opt->kind)
    st = fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: written with another optimizer "
                   "kind", path);
  if (!st && ls.sched && ls.sched->kind != tr->sched->kind)
    st = fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: written with another schedule "
                   "kind", path);
  double *history = NULL;
  if (!st && ps->rows &&
      !(history = fer__malloc((size_t)ps->rows * FER_TRAIN_METRIC_COUNT * sizeof *history)))
    st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  uint8_t *best = NULL;
  if (!st && ps->best.data && !(best = fer__malloc(ps->best.size)))
    st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", path);
  /* The model must have the state's architecture: copy checks it. */
  if (!st) st = fer__model_copy_tensors(m, ls.model, path);
  if (!st) {
    /* Commit: nothing below can fail. */
    size_t offset = 0;
    fer__optimizer_restore(tr->opt, ps->opt.data, ps->opt.size, &offset);
    if (tr->sched) {
      offset = 0;
      fer__schedule_restore(tr->sched, ps->sched.data, ps->sched.size, &offset);
    }
    m->dropout_rng.s[0] = ps->rng[0];
    m->dropout_rng.s[1] = ps->rng[1];
    for (size_t i = 0; i < (size_t)ps->rows * FER_TRAIN_METRIC_COUNT; i++)
      history[i] = get_f64(ps->hist.data + 8 + 8 * i);
    fer__free(tr->history);
    tr->history = history;
    tr->history_count = tr->history_capacity = (int)ps->rows;
    history = NULL;
    tr->epochs_done = (int)ps->epochs_done;
    tr->stopped = (int)ps->stopped;
    tr->plateau = ps->trackers[0];
    tr->early = ps->trackers[1];
    tr->checkpoint = ps->trackers[2];
    fer__free(tr->best_weights);
    tr->best_weights = NULL;
    tr->best_weights_size = 0;
    if (best) {
      memcpy(best, ps->best.data, ps->best.size);
      tr->best_weights = best;
      tr->best_weights_size = ps->best.size;
      best = NULL;
    }
  }
  fer__free(best);
  fer__free(history);
  loaded_release(&ls);
  fer__free(data);
  return st;
}

fer_status fer__model_copy_tensors(fer_model *dst, const fer_model *src,
                                   const char *who) {
  int same = dst->num_layers == src->num_layers &&
             dst->trainable_floats == src->trainable_floats;
  for (int i = 0; same && i < dst->num_layers; i++) {
    same = dst->layers[i].kind == src->layers[i].kind;
    for (int k = 0; same && k < FER__TENSORS; k++)
      same = dst->layers[i].tensor_size[k] == src->layers[i].tensor_size[k];
  }
  if (!same)
    return fer__fail(FER_ERR_SHAPE, "%s: written for another architecture "
                     "(layers or tensor sizes differ)", who);
  for (int i = 0; i < dst->num_layers; i++)
    for (int k = 0; k < FER__TENSORS; k++)
      if (dst->layers[i].tensor_size[k])
        memcpy(dst->layers[i].tensor[k], src->layers[i].tensor[k],
               dst->layers[i].tensor_size[k] * sizeof(float));
  return FER_OK;
}
