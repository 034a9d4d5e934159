/* Writes the analyzer tests' random-weight 7-class model to a file, for
 * tests that drive the fer command: make_test_model OUT.ferm */
#include "analyzer_fixtures.h"

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_test_model OUT.ferm\n");
    return 2;
  }
  fer_model *m = fixture_model(1, 11);
  if (!m || fer_model_save(m, argv[1], FER_SAVE_DEFAULT) != FER_OK) {
    fprintf(stderr, "make_test_model: %s\n", fer_last_error());
    fer_model_free(m);
    return 1;
  }
  fer_model_free(m);
  return 0;
}
