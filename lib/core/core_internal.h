/*
 * Internal helpers every module uses: error reporting, checked allocation,
 * a per-handle random number generator. Nothing here is exported.
 */
#ifndef FER_CORE_INTERNAL_H
#define FER_CORE_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "fer/core.h"

#if defined(__GNUC__) || defined(__clang__)
#  define FER__PRINTF(fmt_index, first_arg) \
    __attribute__((format(printf, fmt_index, first_arg)))
#else
#  define FER__PRINTF(fmt_index, first_arg)
#endif

/* Records `status` with a printf-style detail message for this thread and
 * returns `status`, so error paths read `return fer__fail(FER_ERR_IO, ...)`. */
fer_status fer__fail(fer_status status, const char *fmt, ...) FER__PRINTF(2, 3);
fer_status fer__failv(fer_status status, const char *fmt, va_list ap);

/* Prefixes this thread's current message with "<prefix>: " (for example a
 * file name added by a loader around a memory decoder) and returns status. */
fer_status fer__fail_prefix(fer_status status, const char *prefix);

/* `path` as messages show it: itself when it is short, else its first and
 * last bytes around "...", so that a path longer than the message (a
 * 5000-byte path is legal on Linux, PATH_MAX is only what one system call
 * takes) still leaves room for the reason after it. Returns `path` or
 * `buf`, which must hold FER__MESSAGE_PATH_MAX bytes. */
#define FER__MESSAGE_PATH_MAX 400
const char *fer__message_path(const char *path, char *buf);

/* Allocation through one place, so tests can inject failures. Sizes are
 * checked for overflow; a zero-size request returns a valid pointer. */
void *fer__malloc(size_t size);
void *fer__calloc(size_t count, size_t size);
void *fer__realloc(void *ptr, size_t size);
void fer__free(void *ptr);
/* count * size, or SIZE_MAX when it overflows (which every allocator then
 * refuses). */
size_t fer__mul_size(size_t count, size_t size);

/* Test hook: make the Nth allocation from now fail (0 disables). Per thread,
 * so parallel tests do not disturb each other. */
void fer__alloc_fail_after(long n);
/* 1 while a failure set up by fer__alloc_fail_after() has not happened yet:
 * a test that sees 1 after a call knows the call made fewer allocations than
 * N, so it has tried every one. */
int fer__alloc_failure_pending(void);

/* A small, fast, seedable generator (xoshiro128**-style state), one per
 * handle: never a global. */
typedef struct fer__rng {
  uint64_t s[2];
} fer__rng;
void fer__rng_seed(fer__rng *rng, uint64_t seed);
uint64_t fer__rng_next(fer__rng *rng);
/* Uniform in [0, 1). */
float fer__rng_uniform(fer__rng *rng);
/* Uniform integer in [0, n), n > 0. */
uint32_t fer__rng_below(fer__rng *rng, uint32_t n);
/* Standard normal (Box-Muller). */
float fer__rng_normal(fer__rng *rng);

/* The thread count libfer's parallel loops should use now. */
int fer__num_threads(void);

/* Seconds from a monotonic clock. */
double fer__now_seconds(void);

#define FER__MIN(a, b) ((a) < (b) ? (a) : (b))
#define FER__MAX(a, b) ((a) > (b) ? (a) : (b))
#define FER__ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif /* FER_CORE_INTERNAL_H */
