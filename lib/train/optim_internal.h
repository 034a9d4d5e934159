/*
 * Optimisers and learning-rate schedules, inside: the records behind the
 * public fer_optimizer and fer_schedule handles (include/fer/nn.h), the
 * update the training step applies, and their (de)serialisation for
 * resumable training-state files. Shared by the files of lib/train/ only.
 */
#ifndef FER_OPTIM_INTERNAL_H
#define FER_OPTIM_INTERNAL_H

#include "nn/nn_internal.h"

#define FER__OPTIMIZER_MAGIC 0x54504F46u /* catches freed or foreign pointers */
#define FER__SCHEDULE_MAGIC 0x48435346u

/* ------------------------------------------------------------------------
 * Optimizer and schedule (state serialisable for resumable training)
 * ------------------------------------------------------------------------ */
struct fer_optimizer {
  uint32_t magic;
  fer_optimizer_kind kind;
  double lr, momentum, nesterov, beta1, beta2, epsilon, weight_decay,
      clip_norm;
  long steps;
  size_t size;  /* floats per moment buffer, 0 before the first step */
  float *m1;    /* momentum / first moment */
  float *m2;    /* second moment (Adam) */
};

/* Applies one update to m's trainable tensors from `grads` (flat, in the
 * model's trainable index space). */
/* Allocates the moment buffers for `m` if `opt` has none yet. A training
 * step calls it before its forward pass, which moves batch-norm statistics
 * and the dropout generator: a step that cannot get its optimizer state
 * must fail before it changes the model. */
fer_status fer__optimizer_prepare(fer_optimizer *opt, const fer_model *m);
fer_status fer__optimizer_update(fer_optimizer *opt, fer_model *m,
                                 float *grads);

/* Appends the optimizer's full state (kind, settings, step count, moments)
 * to `out`, little-endian, self-delimiting: tag "OPT1", u32 byte length,
 * payload. fer__optimizer_restore reads it back into `opt` (which must be of
 * the same kind), advancing *offset; FER_ERR_FORMAT / TRUNCATED on bad data. */
void fer__optimizer_serialize(const fer_optimizer *opt, fer__buf *out);
fer_status fer__optimizer_restore(fer_optimizer *opt, const uint8_t *data,
                                  size_t size, size_t *offset);

struct fer_schedule {
  uint32_t magic;
  fer_schedule_kind kind;
  double step_size, gamma, t_max, min_lr, factor, patience, mode_max,
      threshold, cooldown;
  /* State. */
  long epoch;        /* fer_schedule_step calls so far */
  double base_lr;    /* optimizer's rate at the first call */
  double best;       /* plateau: best metric so far */
  long bad_epochs;   /* plateau: epochs since the best */
  long cooldown_left;
  double current_lr;
};

/* Same framing as the optimizer, tag "SCH1". */
void fer__schedule_serialize(const fer_schedule *s, fer__buf *out);
fer_status fer__schedule_restore(fer_schedule *s, const uint8_t *data,
                                 size_t size, size_t *offset);

#endif
