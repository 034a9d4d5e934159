/* fer_model_summary and the counts behind it: the totals printed for each
 * reference net equal PyTorch's (from the golden fixtures), and the table
 * has a row per layer. */
#include "nn_test_util.h"

static long fixture_params(const char *net, long *trainable, long *frozen) {
  char path[1024], line[256];
  snprintf(path, sizeof path, "%s/nn/golden_%s.txt", harness_fixtures(), net);
  FILE *f = fopen(path, "r");
  CHECK_MSG(f != NULL, "cannot open %s", path);
  long total = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "params %ld %ld %ld", &total, trainable, frozen) == 3) break;
  if (f) fclose(f);
  return total;
}

/* "1234567" as the summary writes it: "1,234,567". */
static void commas(long v, char *out) {
  char d[32];
  int n = snprintf(d, sizeof d, "%ld", v), o = 0;
  for (int i = 0; i < n; i++) {
    out[o++] = d[i];
    if ((n - i - 1) % 3 == 0 && i + 1 < n) out[o++] = ',';
  }
  out[o] = '\0';
}

static void test_reference_summaries(void) {
  for (int i = 0; fer_model_reference_name(i); i++) {
    const char *net = fer_model_reference_name(i);
    long tr = 0, nt = 0, total = fixture_params(net, &tr, &nt);
    fer_model *m = NULL;
    CHECK_OK(fer_model_create_reference(net, &m));
    char *s = NULL;
    CHECK_OK(fer_model_summary(m, &s));
    if (!s) continue;
    char want[128], num[32];
    commas(total, num);
    snprintf(want, sizeof want, "Total params: %s ", num);
    CHECK_MSG(strstr(s, want) != NULL, "%s: no '%s' in\n%s", net, want, s);
    commas(tr, num);
    snprintf(want, sizeof want, "Trainable params: %s\n", num);
    CHECK_MSG(strstr(s, want) != NULL, "%s: no '%s'", net, want);
    commas(nt, num);
    snprintf(want, sizeof want, "Non-trainable params: %s\n", num);
    CHECK_MSG(strstr(s, want) != NULL, "%s: no '%s'", net, want);
    CHECK(strstr(s, "Forward FLOPs per image:") != NULL);
    int rows = 0;
    for (const char *p = s; (p = strstr(p, "\n ")) != NULL; p++) rows++;
    CHECK_EQ_INT(rows, fer_model_num_layers(m) + 1); /* + the header row */
    fer_free(s);
    fer_model_free(m);
  }
}

/* FLOPs: 2 x multiply-adds, worked out by hand for a small net. */
static void test_flops(void) {
  fer_model *m = NULL;
  CHECK_OK(fer_model_from_text("input 3x10x10\nconv 4 3x3 same\nrelu\nmax 2x2/2\n"
                               "conv 6 3x3 valid groups=2\nflatten\ndense 5\n", &m));
  /* conv1: 4 x 3*9 x 100 outputs; conv2: 6 x 2*9 x 9; dense: 5 x 54 */
  double want = 2.0 * (4 * 27 * 100 + 6 * 18 * 9 + 5 * 54);
  CHECK_NEAR(fer_model_flops(m), want, 0);
  long tr, nt;
  CHECK_EQ_INT(fer_model_num_params(m, &tr, &nt), 4 * 27 + 4 + 6 * 18 + 6 + 5 * 54 + 5);
  CHECK_EQ_INT(nt, 0);
  fer_model_free(m);
}

int main(void) {
  RUN(test_reference_summaries);
  RUN(test_flops);
  return harness_finish();
}
