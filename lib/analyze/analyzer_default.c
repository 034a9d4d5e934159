/*
 * The analyzer with libfer's built-in model and cascade. The build embeds
 * models/default.ferm and models/frontalface.fercascade (see
 * lib/analyze/meson.build); $FER_CASCADE overrides the cascade, and a build
 * without one falls back to an installed OpenCV cascade at run time (never
 * shipped with libfer).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer_internal.h"
#include "core/core_internal.h"

/* Where OpenCV's packages put the frontal-face cascade (Debian, Fedora and
 * Homebrew's opencv4 layout, then the older opencv one). */
static const char *const installed_cascades[] = {
    "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
    "/usr/share/opencv/haarcascades/haarcascade_frontalface_default.xml",
    "/usr/local/share/opencv4/haarcascades/haarcascade_frontalface_default.xml",
};

int fer_analyzer_has_default_model(void) { return fer__embedded_model_size > 0; }

int fer_analyzer_has_default_cascade(void) { return fer__embedded_cascade_size > 0; }

static int readable(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  fclose(f);
  return 1;
}

fer_status fer_default_cascade_load(fer_cascade **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_default_cascade_load: out is NULL");
  *out = NULL;
  /* $FER_CASCADE first: a user who names a cascade gets it, built-in or
   * not; an explicit choice that fails is an error, not a reason to guess. */
  const char *env = getenv("FER_CASCADE");
  if (env && *env) {
    fer_status st = fer_cascade_load(env, out);
    return st == FER_OK ? st : fer__fail_prefix(st, "$FER_CASCADE");
  }
  if (fer__embedded_cascade_size > 0) {
    fer_status st = fer_cascade_load_memory(fer__embedded_cascade,
                                            fer__embedded_cascade_size, out);
    return st == FER_OK ? st : fer__fail_prefix(st, "built-in cascade");
  }
  size_t n = sizeof installed_cascades / sizeof installed_cascades[0];
  for (size_t i = 0; i < n; i++)
    if (readable(installed_cascades[i])) return fer_cascade_load(installed_cascades[i], out);
  return fer__fail(FER_ERR_NOT_FOUND,
                   "no face cascade is built into this libfer and none was found: "
                   "set $FER_CASCADE, install OpenCV's data (Debian: opencv-data) "
                   "or pass a cascade; tried %s, %s, %s",
                   installed_cascades[0], installed_cascades[1], installed_cascades[2]);
}

fer_status fer_default_model_load(fer_model **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_default_model_load: out is NULL");
  *out = NULL;
  if (fer__embedded_model_size == 0)
    return fer__fail(FER_ERR_NOT_FOUND,
                     "no default model is built into this libfer (models/default.ferm "
                     "was absent at build time): pass a model file");
  fer_status st = fer_model_load_memory(fer__embedded_model, fer__embedded_model_size, out);
  return st == FER_OK ? st : fer__fail_prefix(st, "built-in model");
}

fer_status fer_analyzer_create_default(fer_analyzer **out) {
  if (!out) return fer__fail(FER_ERR_INVALID_ARGUMENT, "fer_analyzer_create_default: out is NULL");
  *out = NULL;
  fer_model *model = NULL;
  fer_cascade *cascade = NULL;
  fer_status st = fer_default_model_load(&model);
  if (st == FER_OK) st = fer_default_cascade_load(&cascade);
  if (st == FER_OK) st = fer_analyzer_create(model, cascade, out);
  if (st != FER_OK) {
    fer_model_free(model);
    fer_cascade_free(cascade);
    return st;
  }
  (*out)->owned_model = model;
  (*out)->owned_cascade = cascade;
  return FER_OK;
}
