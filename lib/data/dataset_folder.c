/* The folder layout of a data set (`dir/<class>/<image>`, as Kaggle ships
 * FER2013 and Keras' flow_from_directory reads it): listing, mapping folder
 * names to classes by name, and a deterministic order. Decoding each file
 * is a callback (dataset_folder_image.c supplies the real one). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/core_internal.h"
#include "data/dataset_internal.h"

/* A list of names read from one folder, owned. */
typedef struct name_list {
  char **names;
  size_t count, capacity;
} name_list;

static void names_free(name_list *l) {
  for (size_t i = 0; i < l->count; i++) fer__free(l->names[i]);
  fer__free(l->names);
  memset(l, 0, sizeof *l);
}

static int names_add(name_list *l, const char *name) {
  if (l->count == l->capacity) {
    size_t cap = l->capacity ? l->capacity * 2 : 16;
    char **grown = fer__realloc(l->names, cap * sizeof *grown);
    if (!grown) return 0;
    l->names = grown;
    l->capacity = cap;
  }
  size_t len = strlen(name);
  char *copy = fer__malloc(len + 1);
  if (!copy) return 0;
  memcpy(copy, name, len + 1);
  l->names[l->count++] = copy;
  return 1;
}

/* Bytewise order: the same on every machine and locale. */
static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static char *join_path(const char *dir, const char *name) {
  size_t a = strlen(dir), b = strlen(name);
  char *path = fer__malloc(a + b + 2);
  if (!path) return NULL;
  memcpy(path, dir, a);
  path[a] = '/';
  memcpy(path + a + 1, name, b + 1);
  return path;
}

static int has_image_extension(const char *name) {
  static const char *const extensions[] = {"jpg", "jpeg", "png", "pgm",
                                           "ppm", "pnm",  "bmp"};
  const char *dot = strrchr(name, '.');
  if (!dot) return 0;
  for (size_t i = 0; i < FER__ARRAY_LEN(extensions); i++)
    if (fer__equal_ignore_case(dot + 1, strlen(dot + 1), extensions[i]))
      return 1;
  return 0;
}

/* Lists the sub-folders (want_folders) or image files of `dir`, sorted.
 * Hidden entries (starting with '.') are left out. */
static fer_status list_folder(const char *dir, int want_folders,
                              name_list *out) {
  memset(out, 0, sizeof *out);
  DIR *d = opendir(dir);
  if (!d)
    return fer__fail(FER_ERR_IO, "%s: cannot open folder: %s", dir,
                     strerror(errno));
  fer_status st = FER_OK;
  struct dirent *e;
  while (st == FER_OK && (e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char *path = join_path(dir, e->d_name);
    if (!path) {
      st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
      break;
    }
    struct stat info;
    /* stat follows symbolic links, as users expect of linked folders. */
    int found = stat(path, &info) == 0;
    int is_folder = found && S_ISDIR(info.st_mode);
    int is_file = found && S_ISREG(info.st_mode);
    fer__free(path);
    int wanted = want_folders ? is_folder
                              : is_file && has_image_extension(e->d_name);
    if (wanted && !names_add(out, e->d_name))
      st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
  }
  closedir(d);
  if (st != FER_OK) {
    names_free(out);
    return st;
  }
  if (out->count) qsort(out->names, out->count, sizeof *out->names,
                        compare_names);
  return FER_OK;
}

/* "angry, disgust, ..." for messages, cut short when long. */
static void class_list_text(const fer_dataset *ds, char *out, size_t size) {
  size_t used = 0;
  out[0] = '\0';
  for (int k = 0; k < ds->num_classes && used + 1 < size; k++) {
    int n = snprintf(out + used, size - used, "%s%s", k ? ", " : "",
                     ds->class_names[k]);
    if (n < 0 || (size_t)n >= size - used) break;
    used += (size_t)n;
  }
}

/* Loads the images of one class folder into `ds`. */
static fer_status load_class(fer_dataset *ds, const char *folder, int label,
                             unsigned flags, fer__sample_loader load,
                             void *ctx) {
  name_list files;
  fer_status st = list_folder(folder, 0, &files);
  if (st != FER_OK) return st;
  for (size_t i = 0; i < files.count && st == FER_OK; i++) {
    char *path = join_path(folder, files.names[i]);
    uint8_t *dst = path ? fer__dataset_append(ds, label) : NULL;
    if (!dst) {
      fer__free(path);
      st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", folder);
      break;
    }
    st = load(ctx, path, ds->channels, ds->height, ds->width, dst);
    if (st != FER_OK) {
      fer__dataset_drop_last(ds);
      /* Memory exhaustion is never "a bad image" to skip. */
      if ((flags & FER_DATASET_SKIP_BAD) && st != FER_ERR_OUT_OF_MEMORY) {
        ds->skipped++;
        st = FER_OK;
      } else if (!strstr(fer_last_error(), path)) {
        fer__fail_prefix(st, path);
      }
    }
    fer__free(path);
  }
  names_free(&files);
  return st;
}

fer_status fer__dataset_load_folder_with(const char *dir,
                                         const char *const *class_names,
                                         int num_classes, int channels,
                                         int height, int width, unsigned flags,
                                         fer__sample_loader load, void *ctx,
                                         fer_dataset **out) {
  static const char who[] = "fer_dataset_load_folder";
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: out is NULL", who);
  *out = NULL;
  if (!dir) return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: dir is NULL", who);
  if (flags & ~(FER_DATASET_SKIP_BAD | FER_DATASET_SKIP_UNKNOWN_CLASSES))
    return fer__fail(FER_ERR_INVALID_ARGUMENT, "%s: unknown flags 0x%x", who,
                     flags);
  name_list folders;
  fer_status st = list_folder(dir, 1, &folders);
  if (st != FER_OK) return st;
  fer_dataset *ds = NULL;
  if (!class_names) {
    /* The folders themselves are the classes, in sorted order. */
    if (folders.count == 0)
      st = fer__fail(FER_ERR_NOT_FOUND, "%s: no class folders", dir);
    else if (folders.count > FER__DATASET_MAX_CLASSES)
      st = fer__fail(FER_ERR_TOO_LARGE, "%s: %zu class folders (at most %d)",
                     dir, folders.count, FER__DATASET_MAX_CLASSES);
    else
      st = fer__dataset_new(channels, height, width,
                            (const char *const *)folders.names,
                            (int)folders.count, who, &ds);
  } else {
    st = fer__dataset_new(channels, height, width, class_names, num_classes,
                          who, &ds);
  }
  for (size_t i = 0; st == FER_OK && i < folders.count; i++) {
    const char *name = folders.names[i];
    int label = fer__dataset_find_class(ds, name, strlen(name));
    if (label < 0) {
      if (flags & FER_DATASET_SKIP_UNKNOWN_CLASSES) {
        ds->skipped_folders++;
        continue;
      }
      char classes[512];
      class_list_text(ds, classes, sizeof classes);
      st = fer__fail(FER_ERR_NOT_FOUND,
                     "%s/%s: folder '%s' is not one of the classes (%s)", dir,
                     name, name, classes);
      break;
    }
    char *folder = join_path(dir, name);
    if (!folder) {
      st = fer__fail(FER_ERR_OUT_OF_MEMORY, "%s: out of memory", dir);
      break;
    }
    st = load_class(ds, folder, label, flags, load, ctx);
    fer__free(folder);
  }
  names_free(&folders);
  if (st != FER_OK) {
    fer_dataset_free(ds);
    return st;
  }
  fer__dataset_shrink(ds);
  *out = ds;
  return FER_OK;
}
