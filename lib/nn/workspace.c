/* The workspace of one batch size: every layer's output (kept for the
 * backward pass), saved state, per-thread scratch and, for training,
 * gradient buffers. Made once per batch size and reused, so the hot loop
 * never allocates. */
#include <string.h>

#include "nn/quant.h"

void fer__workspace_free(fer__workspace *ws) {
  if (!ws) return;
  if (ws->act) {
    /* act[] and saved[] have one entry per layer; the count is not stored,
     * so they are NULL-terminated. */
    for (int i = 0; ws->act[i]; i++) fer__free(ws->act[i]);
    fer__free(ws->act);
  }
  if (ws->saved) {
    for (int i = 0; ws->saved[i] != (float *)ws; i++) fer__free(ws->saved[i]);
    fer__free(ws->saved);
  }
  fer__free(ws->scratch);
  fer__free(ws->delta_a);
  fer__free(ws->delta_b);
  fer__free(ws->grads);
  if (ws->dact) {
    for (int i = 0; ws->dact[i] != (float *)ws; i++) fer__free(ws->dact[i]);
    fer__free(ws->dact);
  }
  fer__free(ws->dact_live);
  fer__free(ws->input);
  fer__free(ws->affine);
  if (ws->kept)
    for (int i = 0; ws->kept[i] != (float *)ws; i++) fer__free(ws->kept[i]);
  fer__free(ws->kept);
  fer__free(ws->kept_ready);
  fer__free(ws->quant_scratch);
  fer__free(ws);
}

static fer_status workspace_make(const fer_model *m, int n, int threads,
                                 int with_grads, fer__workspace **out) {
  fer__workspace *ws = fer__calloc(1, sizeof *ws);
  if (!ws) return fer__fail(FER_ERR_OUT_OF_MEMORY, "workspace: out of memory");
  ws->n = n;
  ws->threads = threads;
  ws->with_grads = with_grads;
  const int L = m->num_layers;
  ws->act = fer__calloc((size_t)L + 1, sizeof *ws->act);
  ws->saved = fer__calloc((size_t)L + 1, sizeof *ws->saved);
  if (ws->saved) ws->saved[L] = (float *)ws; /* end marker: saved[i] may be NULL */
  if (!ws->act || !ws->saved) goto oom;
  size_t max_act = (size_t)fer__shape_size(m->input), scratch = 0, affine = 1;
  for (int i = 0; i < L; i++) {
    const fer__layer *l = &m->layers[i];
    const fer__layer_ops *ops = fer__layer_ops_of(l->kind);
    size_t size = (size_t)fer__shape_size(l->out);
    if (l->kind == FER_LAYER_BATCH_NORM && 2 * (size_t)l->in.c > affine)
      affine = 2 * (size_t)l->in.c;
    if (size > max_act) max_act = size;
    ws->act[i] = fer__malloc(fer__mul_size(fer__mul_size((size_t)n, size),
                                           sizeof(float)));
    if (!ws->act[i]) goto oom;
    size_t saved = ops->saved_floats(l, n);
    if (saved) {
      ws->saved[i] = fer__calloc(saved, sizeof(float));
      if (!ws->saved[i]) goto oom;
    }
    size_t s = ops->scratch_floats(l);
    if (s > scratch) scratch = s;
  }
  ws->scratch_floats = scratch;
  ws->scratch = fer__malloc(fer__mul_size(fer__mul_size(scratch, (size_t)threads),
                                          sizeof(float)));
  ws->input = fer__malloc(fer__mul_size(fer__mul_size((size_t)n,
      (size_t)fer__shape_size(m->input)), sizeof(float)));
  ws->affine = fer__malloc(affine * sizeof(float));
  if (!ws->scratch || !ws->input || !ws->affine) goto oom;
  if (with_grads) {
    size_t delta = fer__mul_size(fer__mul_size((size_t)n, max_act), sizeof(float));
    ws->delta_a = fer__malloc(delta);
    ws->delta_b = fer__malloc(delta);
    ws->grads = fer__calloc(m->trainable_floats, sizeof(float));
    if (!ws->delta_a || !ws->delta_b || !ws->grads) goto oom;
    if (!fer__model_is_chain(m)) {
      /* A graph's backward pass keeps every layer's output gradient: a
       * tensor read by several layers sums their contributions. */
      ws->dact = fer__calloc((size_t)L + 1, sizeof *ws->dact);
      ws->dact_live = fer__calloc((size_t)L + 1, 1);
      if (!ws->dact || !ws->dact_live) goto oom;
      ws->dact[L] = (float *)ws; /* end marker */
      for (int i = 0; i < L; i++) {
        ws->dact[i] = fer__malloc(fer__mul_size(fer__mul_size((size_t)n,
            (size_t)fer__shape_size(m->layers[i].out)), sizeof(float)));
        if (!ws->dact[i]) goto oom;
      }
    }
  }
  *out = ws;
  return FER_OK;
oom:
  fer__workspace_free(ws);
  return fer__fail(FER_ERR_OUT_OF_MEMORY,
                   "workspace for a batch of %d: out of memory", n);
}

fer_status fer__workspace_keep(const fer_model *m, fer__workspace *ws) {
  const int L = m->num_layers;
  ws->kept = fer__calloc((size_t)L + 1, sizeof *ws->kept);
  ws->kept_ready = fer__calloc((size_t)L + 1, sizeof *ws->kept_ready);
  if (!ws->kept || !ws->kept_ready) goto oom;
  ws->kept[L] = (float *)ws; /* end marker: kept[i] may be NULL */
  for (int i = 0; i < L; i++) {
    const fer__layer_ops *ops = fer__layer_ops_of(m->layers[i].kind);
    size_t floats = ops->kept_floats ? ops->kept_floats(&m->layers[i], ws->n) : 0;
    if (floats && !(ws->kept[i] = fer__malloc(fer__mul_size(floats, sizeof(float)))))
      goto oom;
  }
  return FER_OK;
oom:
  if (ws->kept)
    for (int i = 0; i < L; i++) fer__free(ws->kept[i]);
  fer__free(ws->kept);
  fer__free(ws->kept_ready);
  ws->kept = NULL;
  ws->kept_ready = NULL;
  return fer__fail(FER_ERR_OUT_OF_MEMORY, "predictor: out of memory");
}

/* The int8 path's bytes, one image's worth per thread (quant_forward.c
 * runs a batch's images in parallel), grown when the model was quantised
 * since. */
static fer_status quant_scratch(const fer_model *m, fer__workspace *ws) {
  if (!m->quant) return FER_OK;
  const size_t need = m->quant->scratch_bytes * (size_t)FER__MIN(ws->threads, ws->n);
  if (ws->quant_scratch_bytes >= need) return FER_OK;
  fer__free(ws->quant_scratch);
  ws->quant_scratch_bytes = 0;
  if (!(ws->quant_scratch = fer__malloc(need)))
    return fer__fail(FER_ERR_OUT_OF_MEMORY, "workspace: out of memory");
  ws->quant_scratch_bytes = need;
  return FER_OK;
}

fer_status fer__workspace_prepare(const fer_model *m, fer__workspace **ws,
                                  int n, int with_grads) {
  int threads = fer__num_threads();
  if (threads < 1) threads = 1;
  if (*ws && (*ws)->n == n && (*ws)->threads == threads &&
      (*ws)->with_grads >= with_grads)
    return quant_scratch(m, *ws);
  fer__workspace_free(*ws);
  *ws = NULL;
  fer_status st = workspace_make(m, n, threads, with_grads, ws);
  return st ? st : quant_scratch(m, *ws);
}

int fer__sole_reader(const fer_model *m, int i, int j, fer_layer_kind kind) {
  if (j >= m->num_layers || m->layers[j].kind != kind ||
      m->layers[j].num_src > 1 || m->layers[j].src[0] != i)
    return 0;
  for (int k = i + 1; k < m->num_layers; k++)
    for (int s = 0; s < m->layers[k].num_src; s++)
      if (k != j && m->layers[k].src[s] == i) return 0;
  return 1;
}

/* The layers after layer i (one with forward_fused) that its output pass
 * `e` takes over, each when it is the sole reader of the layer before:
 * after a convolution a batch norm at evaluation (its affine map of the
 * running statistics into `affine`; in training it needs the batch's
 * statistics first), then a ReLU. Returns how many were taken. */
static int fuse_after(const fer_model *m, int i, int training, float *affine,
                      fer__epilogue *e) {
  int j = i + 1;
  *e = (fer__epilogue){0};
  if (!training && m->layers[i].kind == FER_LAYER_CONV &&
      fer__sole_reader(m, j - 1, j, FER_LAYER_BATCH_NORM)) {
    const fer__layer *bn = &m->layers[j];
    fer__bn_inference_affine(bn, affine, affine + bn->in.c);
    e->scale = affine;
    e->shift = affine + bn->in.c;
    j++;
  }
  if (fer__sole_reader(m, j - 1, j, FER_LAYER_RELU)) {
    e->relu = 1;
    j++;
  }
  return j - i - 1;
}

const float *fer__forward(const fer_model *m, fer__workspace *ws,
                          const float *x, int n, int training, fer__rng *rng) {
  const int int8 = !training && fer__model_runs_int8(m);
  /* A training forward changes batch-norm statistics (see below): the
   * quantisation made from the old ones goes. */
  if (training && m->quant) fer__model_drop_quant((fer_model *)m);
  fer__pass pass = {.n = n, .training = training, .threads = ws->threads,
                    .scratch = ws->scratch, .scratch_floats = ws->scratch_floats,
                    .rng = rng};
  const float *in = x;
  for (int i = 0; i < m->num_layers; i++) {
    const fer__layer *l = &m->layers[i];
    const fer__layer_ops *ops = fer__layer_ops_of(l->kind);
    fer__epilogue e;
    int taken;
    if (int8 && m->quant->by_layer[i] >= 0) {
      i = fer__quant_forward_layer(m, ws, i, fer__src_act(ws->act, x, l->src[0]), n);
      in = ws->act[i];
      continue;
    }
    pass.kept = ws->kept ? ws->kept[i] : NULL;
    pass.kept_ready = ws->kept ? &ws->kept_ready[i] : NULL;
    if (ops->forward_fused &&
        (taken = fuse_after(m, i, training, ws->affine, &e)) > 0) {
      /* The outputs of i and the taken layers but the last stay unwritten:
       * nothing reads them, not even a backward pass. */
      ops->forward_fused(l, &pass, fer__src_act(ws->act, x, l->src[0]),
                         ws->act[i + taken], ws->saved[i], &e);
      if (training && ops->update_running)
        ops->update_running((fer__layer *)l, ws->saved[i], n);
      i += taken;
      in = ws->act[i];
      continue;
    }
    if (ops->forward_n) {
      const float *xs[FER__MAX_INPUTS];
      for (int j = 0; j < l->num_src; j++) xs[j] = fer__src_act(ws->act, x, l->src[j]);
      ops->forward_n(l, &pass, xs, ws->act[i]);
      in = ws->act[i];
      continue;
    }
    in = fer__src_act(ws->act, x, l->src[0]);
    ops->forward(l, &pass, in, ws->act[i], ws->saved[i]);
    if (training && ops->update_running)
      /* Training forwards only run on a model the caller holds exclusively
       * (fer_model_forward, train step): folding in statistics is allowed. */
      ops->update_running((fer__layer *)l, ws->saved[i], n);
    in = ws->act[i];
  }
  return in;
}
