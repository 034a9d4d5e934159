/* Checked allocation with a per-thread failure-injection hook for tests. */
#include <stdlib.h>

#include "core/core_internal.h"

static _Thread_local long allocations_until_failure;

void fer__alloc_fail_after(long n) { allocations_until_failure = n; }

int fer__alloc_failure_pending(void) { return allocations_until_failure > 0; }

static int injected_failure(void) {
  if (allocations_until_failure <= 0) return 0;
  return --allocations_until_failure == 0;
}

size_t fer__mul_size(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return SIZE_MAX;
  return count * size;
}

void *fer__malloc(size_t size) {
  if (injected_failure() || size == SIZE_MAX) return NULL;
  return malloc(size ? size : 1);
}

void *fer__calloc(size_t count, size_t size) {
  if (injected_failure() || fer__mul_size(count, size) == SIZE_MAX) return NULL;
  if (count == 0 || size == 0) return calloc(1, 1);
  return calloc(count, size);
}

void *fer__realloc(void *ptr, size_t size) {
  if (injected_failure() || size == SIZE_MAX) return NULL;
  return realloc(ptr, size ? size : 1);
}

void fer__free(void *ptr) { free(ptr); }

void fer_free(void *ptr) { free(ptr); }
