/* Grouping against cv2.groupRectangles: tests/fixtures/detect/group_cases.txt
 * holds inputs and OpenCV 4.6's outputs, written by gen_group_cases.py. */
#include "detect/detect_internal.h"
#include "core/core_internal.h"
#include "harness.h"

static void test_against_opencv(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/detect/group_cases.txt", harness_fixtures());
  FILE *f = fopen(path, "r");
  CHECK_MSG(f != NULL, "cannot open %s", path);
  if (!f) return;
  int cases = 0, n, mn;
  double eps;
  while (fscanf(f, " case %d %d %lf", &n, &mn, &eps) == 3) {
    fer__candidate *cand = calloc((size_t)n + 1, sizeof *cand);
    fer_detection *out = calloc((size_t)n + 1, sizeof *out);
    void *scratch = malloc(fer__group_scratch_size((size_t)n));
    for (int i = 0; i < n; i++) {
      fer_rect *r = &cand[i].box;
      CHECK(fscanf(f, "%d %d %d %d", &r->x, &r->y, &r->width, &r->height) == 4);
      cand[i].score = i; /* the best score of a group is its last member's */
    }
    int m;
    CHECK(fscanf(f, " out %d", &m) == 1);
    size_t got = fer__group_rectangles(cand, (size_t)n, mn, eps, scratch, out);
    CHECK_MSG((int)got == m, "case %d: %zu groups, OpenCV has %d", cases, got, m);
    for (int i = 0; i < m; i++) {
      fer_rect want;
      int neighbors;
      CHECK(fscanf(f, "%d %d %d %d %d", &want.x, &want.y, &want.width, &want.height,
                   &neighbors) == 5);
      if (i >= (int)got) continue;
      CHECK_MSG(memcmp(&out[i].box, &want, sizeof want) == 0 && out[i].neighbors == neighbors,
                "case %d group %d: %d %d %d %d (%d), OpenCV %d %d %d %d (%d)", cases, i,
                out[i].box.x, out[i].box.y, out[i].box.width, out[i].box.height,
                out[i].neighbors, want.x, want.y, want.width, want.height, neighbors);
    }
    free(cand);
    free(out);
    free(scratch);
    cases++;
  }
  fclose(f);
  CHECK_MSG(cases >= 60, "only %d cases read", cases);
}

/* The score of a group is the best of its members' (detectMultiScale3). */
static void test_best_score(void) {
  fer__candidate cand[4] = {{{10, 10, 24, 24}, 0.5}, {{11, 10, 24, 24}, 2.5},
                            {{10, 11, 24, 24}, 1.5}, {{200, 200, 24, 24}, 9.0}};
  fer_detection out[4];
  void *scratch = malloc(fer__group_scratch_size(4));
  size_t got = fer__group_rectangles(cand, 4, 1, 0.2, scratch, out);
  CHECK_EQ_INT(got, 1);
  CHECK_EQ_INT(out[0].neighbors, 3);
  CHECK_NEAR(out[0].score, 2.5, 0);
  /* min_neighbors 0 passes every window through. */
  got = fer__group_rectangles(cand, 4, 0, 0.2, scratch, out);
  CHECK_EQ_INT(got, 4);
  CHECK(out[3].box.x == 200 && out[3].neighbors == 1 && out[3].score == 9.0);
  free(scratch);
}

int main(void) {
  RUN(test_against_opencv);
  RUN(test_best_score);
  return harness_finish();
}
