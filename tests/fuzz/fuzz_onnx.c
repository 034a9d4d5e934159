/* ONNX import fuzzing: any bytes must import or fail cleanly (no crash,
 * leak or huge allocation); an imported model must export to bytes that
 * import again and export to the same bytes, and must run one prediction
 * when small. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fer.h"
#include "fuzz_model_run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fer_model *m = NULL;
  if (fer_model_load_onnx_memory(data, size, &m) != FER_OK) return 0;
  void *saved = NULL, *again = NULL;
  size_t saved_size = 0, again_size = 0;
  fer_model *back = NULL;
  /* A layer with no ONNX form cannot come out of an import. */
  if (fer_model_save_onnx_memory(m, &saved, &saved_size) != FER_OK) __builtin_trap();
  if (fer_model_load_onnx_memory(saved, saved_size, &back) != FER_OK) __builtin_trap();
  if (fer_model_save_onnx_memory(back, &again, &again_size) != FER_OK ||
      again_size != saved_size || memcmp(saved, again, saved_size) != 0)
    __builtin_trap();
  fuzz_predict_if_small(m);
  fer_free(saved);
  fer_free(again);
  fer_model_free(back);
  fer_model_free(m);
  return 0;
}
