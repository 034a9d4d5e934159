/* The fer_dataset layout, shared by the files that build data sets (arrays,
 * CSV, folders) and those that read them (batches, augmentation). */
#ifndef FER_NN_DATASET_INTERNAL_H
#define FER_NN_DATASET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "fer/data.h"

#define FER__DATASET_MAGIC 0x46445354u /* "FDST": catches freed or foreign pointers */
/* Limits that keep sizes far from overflow and refuse absurd requests. */
#define FER__DATASET_MAX_CLASSES 4096
#define FER__DATASET_MAX_SIDE 4096
#define FER__DATASET_MAX_COUNT ((size_t)UINT32_MAX)

struct fer_dataset {
  uint32_t magic;
  int channels, height, width;
  size_t sample_size;    /* channels * height * width bytes */
  size_t count, capacity;
  uint8_t *pixels;       /* count x sample_size, owned */
  int32_t *labels;       /* count, owned */
  int num_classes;
  char **class_names;    /* num_classes strings, owned */
  size_t skipped;        /* bad rows or images skipped while loading */
  size_t skipped_folders;
};

/* FER_OK when `ds` is live, else FER_ERR_MISUSE naming `who`. */
fer_status fer__dataset_check(const fer_dataset *ds, const char *who);

/* An empty data set of the given shape and classes (NULL names: "0", "1",
 * ...). Checks the arguments, naming `who` in messages. */
fer_status fer__dataset_new(int channels, int height, int width,
                            const char *const *class_names, int num_classes,
                            const char *who, fer_dataset **out);

/* Room for one more sample: returns where its pixels go and records its
 * label, or NULL when memory runs out (message set). Undo with
 * fer__dataset_drop_last(). */
uint8_t *fer__dataset_append(fer_dataset *ds, int32_t label);
void fer__dataset_drop_last(fer_dataset *ds);

/* Frees unused capacity after loading (never fails: keeps the block when
 * the allocator refuses). */
void fer__dataset_shrink(fer_dataset *ds);

/* Index of the class called `name` (ignoring ASCII case, `len` bytes), or -1. */
int fer__dataset_find_class(const fer_dataset *ds, const char *name,
                            size_t len);

/* ASCII case-insensitive comparison of a counted string and a C string. */
int fer__equal_ignore_case(const char *a, size_t a_len, const char *b);

/* Decodes the image file at `path` into `dst` as channels x height x width
 * bytes (planes of rows), converting colour and size as needed. Messages
 * name the path. The folder loader calls it once per image file. */
typedef fer_status (*fer__sample_loader)(void *ctx, const char *path,
                                         int channels, int height, int width,
                                         uint8_t *dst);

/* fer_dataset_load_folder() with the decoding step supplied by the caller
 * (the public function passes one built on fer_image_load; tests may pass
 * their own). */
fer_status fer__dataset_load_folder_with(const char *dir,
                                         const char *const *class_names,
                                         int num_classes, int channels,
                                         int height, int width, unsigned flags,
                                         fer__sample_loader load, void *ctx,
                                         fer_dataset **out);

/* Mixes two words into a well-spread 64-bit value (splitmix64 finaliser
 * over a + golden-ratio * b): the seed of counter-based random streams, so
 * that a draw depends only on its (seed, epoch, index) coordinates. */
static inline uint64_t fer__mix64(uint64_t a, uint64_t b) {
  uint64_t z = a + 0x9E3779B97F4A7C15ull * (b + 1);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

#endif
