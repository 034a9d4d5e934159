/* Version, thread count and clock. */
#include <stdatomic.h>
#include <time.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core_internal.h"

#define FER__STR2(x) #x
#define FER__STR(x) FER__STR2(x)

const char *fer_version(void) {
  return FER__STR(FER_VERSION_MAJOR) "." FER__STR(FER_VERSION_MINOR) "." FER__STR(
      FER_VERSION_PATCH);
}

int fer_version_number(void) { return FER_VERSION_NUMBER; }

/* 0 means "the OpenMP runtime's default". Atomic because any thread may read
 * it when it starts a parallel loop. */
static atomic_int requested_threads;

fer_status fer_set_num_threads(int n) {
  if (n < 0 || n > 1024)
    return fer__fail(FER_ERR_INVALID_ARGUMENT,
                     "fer_set_num_threads: %d is outside 0..1024", n);
  atomic_store(&requested_threads, n);
  return FER_OK;
}

int fer__num_threads(void) {
#ifdef _OPENMP
  int n = atomic_load(&requested_threads);
  return n > 0 ? n : omp_get_max_threads();
#else
  return 1;
#endif
}

int fer_get_num_threads(void) { return fer__num_threads(); }

int fer_has_openmp(void) {
#ifdef _OPENMP
  return 1;
#else
  return 0;
#endif
}

double fer__now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
