/* Architecture text fuzzing: any text must parse or fail cleanly with a
 * message; text that parses must write back canonical text that parses to
 * the same canonical text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 4096) return 0;
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = '\0';
  fer_model *m = NULL;
  fer_status st = fer_model_from_text(text, &m);
  free(text);
  if (st != FER_OK) {
    if (m != NULL || fer_last_error()[0] == '\0') __builtin_trap();
    return 0;
  }
  char *canonical = NULL, *again = NULL;
  fer_model *back = NULL;
  if (fer_model_to_text(m, &canonical) != FER_OK ||
      fer_model_from_text(canonical, &back) != FER_OK ||
      fer_model_to_text(back, &again) != FER_OK || strcmp(canonical, again) != 0)
    __builtin_trap();
  char *summary = NULL;
  if (fer_model_summary(m, &summary) != FER_OK) __builtin_trap();
  fer_free(summary);
  fer_free(canonical);
  fer_free(again);
  fer_model_free(back);
  fer_model_free(m);
  return 0;
}
