/* Resumable training: a run killed with SIGKILL (after an epoch's state was
 * written, and in the middle of the next epoch) and resumed in a new process
 * ends with the same weights, bit for bit, as an uninterrupted run (also
 * with soft targets: mixup and a distillation teacher); the state file's
 * corruption and truncation are rejected. */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_trainer_util.h"

enum { EPOCHS = 4, KILL_AFTER_EPOCH = 1 };

static fer_dataset *train_set, *val_set;
static fer_augment *augment;
static fer_model *teacher; /* used when soft_targets is set */
static int soft_targets;

/* Every run trains the same way: Adam, a step schedule, plateau on
 * val_loss, early stopping that never fires, flips and shifts, dropout. */
static fer_status run_fit(const char *state, fer_train_callback cb, void *user,
                          fer_model **out) {
  fer_model *m = toy_model();
  fer_trainer *tr = toy_trainer(EPOCHS, 42);
  fer_schedule *sched = NULL;
  fer_schedule_create(FER_SCHEDULE_STEP, &sched);
  fer_schedule_set(sched, FER_SCHED_STEP_SIZE, 3);
  fer_trainer_set_schedule(tr, sched);
  fer_trainer_set(tr, FER_TRAIN_PLATEAU_FACTOR, 0.5);
  fer_trainer_set(tr, FER_TRAIN_PLATEAU_PATIENCE, 1);
  fer_trainer_set(tr, FER_TRAIN_EARLY_STOP_PATIENCE, 50);
  fer_trainer_set(tr, FER_TRAIN_RESTORE_BEST, 1);
  fer_trainer_set_augment(tr, augment);
  if (soft_targets) {
    fer_trainer_set(tr, FER_TRAIN_MIXUP, 0.4);
    fer_trainer_set_teacher(tr, teacher);
    fer_trainer_set(tr, FER_TRAIN_DISTILL_TEMPERATURE, 2.0);
  }
  if (state) fer_trainer_set_path(tr, FER_TRAIN_PATH_STATE, state);
  fer_trainer_set_callback(tr, cb, user);
  fer_status st = fer_trainer_fit(tr, m, train_set, val_set);
  fer_trainer_free(tr);
  fer_schedule_free(sched);
  *out = m;
  return st;
}

typedef struct kill_point {
  int fd;      /* pipe to the parent */
  int epoch;   /* 0-based epoch to signal in */
  long batch;  /* 0: at the epoch event, else at this batch */
} kill_point;

/* Tells the parent "kill me now" and waits to be killed. */
static int signal_parent(void *user, fer_train_event event, int epoch,
                         int epochs, long batch, long batches,
                         const double *metrics, int count) {
  const kill_point *k = user;
  (void)epochs; (void)batches; (void)metrics; (void)count;
  int now = epoch == k->epoch &&
            (k->batch ? event == FER_TRAIN_EVENT_BATCH && batch == k->batch
                      : event == FER_TRAIN_EVENT_EPOCH);
  if (now) {
    char c = 'k';
    if (write(k->fd, &c, 1) != 1) _exit(3);
    for (;;) pause();
  }
  return 0;
}

/* Trains in a child until the kill point, SIGKILLs it, then resumes in a
 * second child that saves its final model to `final_path`. */
static int killed_and_resumed(const char *state, const char *final_path,
                              int epoch, long batch) {
  int fds[2];
  if (pipe(fds) != 0) return 0;
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    kill_point k = {fds[1], epoch, batch};
    fer_model *m;
    run_fit(state, signal_parent, &k, &m);
    _exit(2); /* never reached: killed first */
  }
  close(fds[1]);
  char c;
  ssize_t got = read(fds[0], &c, 1);
  close(fds[0]);
  kill(child, SIGKILL);
  int status;
  waitpid(child, &status, 0);
  if (got != 1 || !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) return 0;
  pid_t resumer = fork();
  if (resumer == 0) {
    fer_model *m;
    fer_status st = run_fit(state, NULL, NULL, &m);
    if (!st) st = fer_model_save(m, final_path, FER_SAVE_DEFAULT);
    fer_model_free(m);
    _exit(st == FER_OK ? 0 : 1);
  }
  waitpid(resumer, &status, 0);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static char state_path[64], final_path[80];

static void test_resume_after_sigkill(void) {
  /* Killed after epoch 2's state, and in the middle of epoch 3 (its
   * partial progress is lost; epoch 2's state is resumed). */
  const long batches[2] = {0, 3};
  for (int i = 0; i < 2; i++) {
    remove(state_path);
    CHECK(killed_and_resumed(state_path, final_path, KILL_AFTER_EPOCH - (i ? -1 : 0) , batches[i]));
    fer_model *resumed = NULL, *straight = NULL;
    CHECK_OK(fer_model_load(final_path, &resumed));
    CHECK_OK(run_fit(NULL, NULL, NULL, &straight));
    CHECK(resumed && same_weights(resumed, straight));
    fer_model_free(resumed);
    fer_model_free(straight);
  }
}

static void test_state_rejects_damage(void) {
  FILE *f = fopen(state_path, "rb");
  CHECK(f != NULL);
  if (!f) return;
  static uint8_t data[1 << 20];
  size_t size = fread(data, 1, sizeof data, f);
  fclose(f);
  CHECK(size > 100 && size < sizeof data);
  CHECK_OK(fer_train_state_validate(data, size));
  /* Every truncation fails with a status, never a crash. */
  for (size_t n = 0; n < size; n += (n < 64 ? 1 : 97))
    CHECK(fer_train_state_validate(data, n) != FER_OK);
  /* Flipped bytes fail the CRC. */
  for (size_t at = 0; at < size; at += 131) {
    data[at] ^= 0x40;
    fer_status st = fer_train_state_validate(data, size);
    CHECK(st == FER_ERR_CHECKSUM || st == FER_ERR_FORMAT || st == FER_ERR_VERSION);
    data[at] ^= 0x40;
  }
  /* A newer version is refused as such (before the checksum). */
  data[8] = 9;
  CHECK_STATUS(fer_train_state_validate(data, size), FER_ERR_VERSION);
  data[8] = 1;
  /* fit refuses a damaged state file and names it. */
  data[size / 2] ^= 1;
  f = fopen(state_path, "wb");
  fwrite(data, 1, size, f);
  fclose(f);
  fer_model *m;
  CHECK_STATUS(run_fit(state_path, NULL, NULL, &m), FER_ERR_CHECKSUM);
  CHECK_MESSAGE_CONTAINS(state_path);
  fer_model_free(m);
  /* A state written with another seed is refused. */
  data[size / 2] ^= 1;
  f = fopen(state_path, "wb");
  fwrite(data, 1, size, f);
  fclose(f);
  fer_trainer *tr = toy_trainer(EPOCHS, 43);
  fer_trainer_set_path(tr, FER_TRAIN_PATH_STATE, state_path);
  m = toy_model();
  CHECK_STATUS(fer_trainer_fit(tr, m, train_set, val_set), FER_ERR_INVALID_ARGUMENT);
  CHECK_MESSAGE_CONTAINS("seed");
  fer_model_free(m);
  fer_trainer_free(tr);
  CHECK_STATUS(fer_train_state_validate(NULL, 0), FER_ERR_FORMAT);
}

int main(void) {
  const size_t counts[3] = {24, 24, 24}, vcounts[3] = {8, 8, 8};
  train_set = toy_dataset(counts, 3, 21);
  val_set = toy_dataset(vcounts, 3, 22);
  fer_augment_create(5, &augment);
  fer_augment_set(augment, FER_AUG_FLIP_PROB, 0.5);
  fer_augment_set(augment, FER_AUG_SHIFT_PROB, 0.5);
  snprintf(state_path, sizeof state_path, "/tmp/fer_test_state_%d", (int)getpid());
  snprintf(final_path, sizeof final_path, "%s.final.ferm", state_path);
  /* Forks first: the parent must not have started OpenMP threads. */
  RUN(test_resume_after_sigkill);
  teacher = toy_model();
  fer_model_init_weights(teacher, FER_INIT_HE_UNIFORM, 8);
  soft_targets = 1;
  RUN(test_resume_after_sigkill);
  soft_targets = 0;
  RUN(test_state_rejects_damage);
  remove(state_path);
  remove(final_path);
  fer_augment_free(augment);
  fer_model_free(teacher);
  fer_dataset_free(train_set);
  fer_dataset_free(val_set);
  return harness_finish();
}
