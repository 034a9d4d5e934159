/* compare_models A.ferm B.ferm MAX [MIN]: the largest difference between
 * the two models' parameters (fer_model_get_parameters, the flat layout),
 * relative to the largest parameter of A. Exit 0 when it is <= MAX (and
 * > MIN when MIN is given: for runs that must differ), 1 otherwise, 2 when
 * a model cannot be read or the architectures differ. Used by
 * test_mpi_train.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <fer.h>

static float *parameters(const char *path, size_t *count) {
  fer_model *m = NULL;
  float *p = NULL;
  *count = 0;
  if (fer_model_load(path, &m) == FER_OK) {
    fer_model_get_parameters(m, NULL, 0, count);
    p = malloc((*count ? *count : 1) * sizeof *p);
    if (p && fer_model_get_parameters(m, p, *count, NULL) != FER_OK) {
      free(p);
      p = NULL;
    }
  }
  if (!p) fprintf(stderr, "compare_models: %s: %s\n", path, fer_last_error());
  fer_model_free(m);
  return p;
}

int main(int argc, char **argv) {
  if (argc != 4 && argc != 5) {
    fprintf(stderr, "usage: compare_models A.ferm B.ferm MAX [MIN]\n");
    return 2;
  }
  size_t na, nb;
  float *a = parameters(argv[1], &na), *b = parameters(argv[2], &nb);
  if (!a || !b || na != nb || na == 0) {
    if (a && b) fprintf(stderr, "compare_models: %zu and %zu parameters\n", na, nb);
    free(a);
    free(b);
    return 2;
  }
  double worst = 0, big = 0;
  for (size_t i = 0; i < na; i++) {
    double d = fabs((double)a[i] - b[i]);
    if (!(d <= worst)) worst = d;
    if (fabs(a[i]) > big) big = fabs(a[i]);
  }
  double rel = worst / big, max = atof(argv[3]), min = argc == 5 ? atof(argv[4]) : -1;
  printf("%zu parameters, largest difference %.3g, relative %.3g (must be <= %g%s%s)\n", na,
         worst, rel, max, argc == 5 ? " and > " : "", argc == 5 ? argv[4] : "");
  free(a);
  free(b);
  return rel <= max && rel > min ? 0 : 1;
}
