/*
 * libfer core: status codes, per-thread error messages, versions, threads
 * and memory. Included by every other public header.
 */
#ifndef FER_CORE_H
#define FER_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* FER_API marks exported functions. The library is built with hidden
 * visibility by default, so anything without FER_API stays internal. */
#if defined(_WIN32) && defined(FER_BUILDING_LIBRARY)
#  define FER_API __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#  define FER_API __attribute__((visibility("default")))
#else
#  define FER_API
#endif

#define FER_VERSION_MAJOR 0
#define FER_VERSION_MINOR 1
#define FER_VERSION_PATCH 0
/* One number that grows with every release: major*10000 + minor*100 + patch. */
#define FER_VERSION_NUMBER \
  (FER_VERSION_MAJOR * 10000 + FER_VERSION_MINOR * 100 + FER_VERSION_PATCH)

/*
 * Status codes. Every value is explicit and part of the ABI: new codes are
 * appended, none is ever renumbered or reused.
 */
typedef enum fer_status {
  FER_OK = 0,
  FER_ERR_INVALID_ARGUMENT = 1,  /* a parameter is out of its documented range */
  FER_ERR_OUT_OF_MEMORY = 2,     /* an allocation failed */
  FER_ERR_IO = 3,                /* a file could not be opened, read or written */
  FER_ERR_FORMAT = 4,            /* input is malformed or corrupt */
  FER_ERR_UNSUPPORTED = 5,       /* valid input using a feature libfer lacks */
  FER_ERR_TRUNCATED = 6,         /* input ends before it should */
  FER_ERR_CHECKSUM = 7,          /* a stored checksum does not match the data */
  FER_ERR_VERSION = 8,           /* a file written by a newer format version */
  FER_ERR_TOO_LARGE = 9,         /* a size beyond libfer's limits */
  FER_ERR_BUFFER_TOO_SMALL = 10, /* the caller's buffer cannot hold the result */
  FER_ERR_MISUSE = 11,           /* NULL or freed handle, or a call out of order */
  FER_ERR_SHAPE = 12,            /* tensor or layer shapes do not fit together */
  FER_ERR_CANCELLED = 13,        /* a user callback asked to stop */
  FER_ERR_NOT_FOUND = 14,        /* a named thing (class, key, layer) is unknown */
  FER_ERR_INTERNAL = 15          /* a libfer bug; please report it */
} fer_status;

/* A rectangle in pixel coordinates: covers x <= px < x+width,
 * y <= py < y+height. Frozen: its layout never changes. */
typedef struct fer_rect {
  int32_t x;
  int32_t y;
  int32_t width;
  int32_t height;
} fer_rect;

/* Static, never NULL: "FER_ERR_FORMAT" and so on; "FER_ERR_UNKNOWN" for a
 * value that is not a status. */
FER_API const char *fer_status_string(fer_status status);

/* The detail message of the last failed call made by this thread, such as
 * "model.ferm: truncated at byte 1234 (expected 5120 more)". Empty string
 * when there was none. The pointer stays valid until this thread's next
 * libfer call. */
FER_API const char *fer_last_error(void);

/* Forget this thread's last error message. */
FER_API void fer_clear_error(void);

/* The library's version as a string ("0.1.0") and as FER_VERSION_NUMBER;
 * compare with the macros to detect a header/library mismatch. */
FER_API const char *fer_version(void);
FER_API int fer_version_number(void);

/* Number of threads libfer's parallel loops use (OpenMP builds only; a build
 * without OpenMP always runs on one thread and reports 1). `n` = 0 restores
 * the default (the OpenMP runtime's choice). Process-wide; set it before
 * starting work, not while other threads are inside libfer. */
FER_API fer_status fer_set_num_threads(int n);
FER_API int fer_get_num_threads(void);

/* 1 when the library was built with OpenMP. */
FER_API int fer_has_openmp(void);

/* Free a buffer that libfer allocated for the caller (encoded images,
 * summaries, JSON strings). NULL is a no-op. */
FER_API void fer_free(void *ptr);

#ifdef __cplusplus
}
#endif

#endif /* FER_CORE_H */
