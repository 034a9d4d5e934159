/*
 * mpi_train: `fer train` on several processes with MPI (synchronous
 * data-parallel training).
 *
 *   mpirun -n 4 mpi_train [any fer train option] DATA
 *
 * Every rank runs the same `fer train` (examples/fer/cmd_train.c, so every
 * architecture, option and data format of `fer train` works) with three
 * additions made just before the fit:
 *  - the trainer learns its place: FER_TRAIN_SHARD_COUNT = ranks,
 *    FER_TRAIN_SHARD_INDEX = rank. Each epoch every rank draws the same
 *    order of the data and trains on its share of it (positions rank,
 *    rank + ranks, ...), so --batch is the batch of one rank and the
 *    global batch is ranks x --batch;
 *  - an all-reduce (MPI_Allreduce, MPI_SUM) through which the trainer sums
 *    the ranks' gradients at every step, and the running statistics,
 *    validation sums and history at the end of every epoch;
 *  - rank 0's initial weights, broadcast with the flat-parameter API, so
 *    that all ranks start from the same point even if their libraries
 *    initialised differently.
 * Rank 0 alone prints progress and writes --out, --history, --curves and
 * --state. A killed job restarts from --state on any number of ranks (the
 * file must be readable by every rank: one machine or a shared folder).
 * See docs/distributed.md for the recipe, the scaling table and what batch
 * norm does with per-rank batches.
 *
 * MPI is a dependency of this example only, never of libfer.
 */
#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <fer.h>

#include "cli.h"
#include "cli_train_common.h"

typedef struct mpi_job {
  MPI_Comm comm;
  int rank, ranks, local_ranks;
} mpi_job;

/* fer_train_allreduce on MPI: element-wise sums over all ranks, in place.
 * MPI counts are ints: long arrays go in pieces. */
static int sum_over_ranks(void *user, float *floats, size_t float_count, double *doubles,
                          size_t double_count) {
  const mpi_job *job = user;
  const size_t piece = INT_MAX / 2;
  for (size_t at = 0; at < float_count; at += piece) {
    int n = (int)(float_count - at < piece ? float_count - at : piece);
    if (MPI_Allreduce(MPI_IN_PLACE, floats + at, n, MPI_FLOAT, MPI_SUM, job->comm) != MPI_SUCCESS)
      return 1;
  }
  for (size_t at = 0; at < double_count; at += piece) {
    int n = (int)(double_count - at < piece ? double_count - at : piece);
    if (MPI_Allreduce(MPI_IN_PLACE, doubles + at, n, MPI_DOUBLE, MPI_SUM, job->comm) != MPI_SUCCESS)
      return 2;
  }
  return 0;
}

static int before_fit(void *user, fer_trainer *tr, fer_model *model) {
  const mpi_job *job = user;
  fer_status st = fer_trainer_set(tr, FER_TRAIN_SHARD_COUNT, job->ranks);
  if (!st) st = fer_trainer_set(tr, FER_TRAIN_SHARD_INDEX, job->rank);
  if (!st) st = fer_trainer_set_allreduce(tr, sum_over_ranks, (void *)job);
  /* Threads: without --threads, share this machine's cores among the ranks
   * that run on it. */
  double threads = 0;
  if (!st) st = fer_trainer_get(tr, FER_TRAIN_THREADS, &threads);
  if (!st && threads == 0) {
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    long each = cores > job->local_ranks ? cores / job->local_ranks : 1;
    st = fer_trainer_set(tr, FER_TRAIN_THREADS, (double)(each < 1024 ? each : 1024));
  }
  if (st) {
    fprintf(stderr, "mpi_train: rank %d: %s\n", job->rank, fer_last_error());
    return 1;
  }
  /* Rank 0's initial weights for everyone (a resumed job then loads the
   * state file on every rank, which overrides them alike). */
  size_t count = 0;
  fer_model_get_parameters(model, NULL, 0, &count);
  float *params = malloc((count ? count : 1) * sizeof *params);
  int ok = params && fer_model_get_parameters(model, params, count, NULL) == FER_OK;
  for (size_t at = 0; ok && at < count; at += INT_MAX / 2) {
    int n = (int)(count - at < INT_MAX / 2 ? count - at : INT_MAX / 2);
    ok = MPI_Bcast(params + at, n, MPI_FLOAT, 0, job->comm) == MPI_SUCCESS;
  }
  if (ok) ok = fer_model_set_parameters(model, params, count) == FER_OK;
  free(params);
  if (!ok) {
    fprintf(stderr, "mpi_train: rank %d: cannot share the initial weights: %s\n", job->rank,
            fer_last_error());
    return 1;
  }
  if (job->rank == 0) {
    double batch = 0;
    fer_trainer_get(tr, FER_TRAIN_BATCH_SIZE, &batch);
    fer_trainer_get(tr, FER_TRAIN_THREADS, &threads);
    fprintf(stderr, "mpi_train: ranks %d (%d on this machine), batch %.0f per rank, %.0f "
            "per step; threads per rank %.0f\n", job->ranks, job->local_ranks, batch,
            batch * job->ranks, threads);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
    fprintf(stderr, "mpi_train: MPI_Init failed\n");
    return CLI_FAILURE;
  }
  mpi_job job = {.comm = MPI_COMM_WORLD};
  MPI_Comm_rank(job.comm, &job.rank);
  MPI_Comm_size(job.comm, &job.ranks);
  MPI_Comm local;
  MPI_Comm_split_type(job.comm, MPI_COMM_TYPE_SHARED, job.rank, MPI_INFO_NULL, &local);
  MPI_Comm_size(local, &job.local_ranks);
  MPI_Comm_free(&local);
  for (int i = 1; i < argc; i++)
    if (cli_is_help(argv[i]) && job.rank == 0)
      printf("mpi_train: fer train on MPI ranks (mpirun -n N mpi_train OPTIONS DATA);\n"
             "--batch is per rank. The options are those of fer train:\n\n");
  cli_train_hooks hooks = {.before_fit = before_fit, .user = &job, .writer = job.rank == 0};
  /* argv[0] stands for the command name, as in `fer train`. */
  int rc = cli_train_run(argc, argv, &hooks);
  /* A rank that fails (a bad file, a full disk) must not leave the others
   * waiting in an all-reduce forever: it ends the whole job, with its
   * status (the others may already be inside a collective call). */
  if (rc != CLI_OK) MPI_Abort(job.comm, rc);
  MPI_Finalize();
  return rc;
}
