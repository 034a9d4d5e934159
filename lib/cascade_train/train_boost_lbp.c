/*
 * The split of an LBP node: a feature's 8-bit code is a category, not a
 * number, so a node splits the 256 codes into two sets (the node's subset
 * goes left, to leaf 0, as the scan does) rather than at a threshold.
 *
 * Trying all 2^255 partitions is out of the question, and unnecessary: for
 * two classes and a criterion that is a concave function of a side's
 * positive share p = W+ / (W+ + W-) weighted by the side's weight (the
 * squared error of Gentle AdaBoost's regression stump, Real AdaBoost's
 * sqrt(W+ W-), Discrete AdaBoost's min(W+, W-)), an optimal partition puts
 * the codes in order of p and cuts that order once (Fisher 1958 for the
 * squared error; Breiman et al. 1984, CART, theorem 4.5, for concave
 * impurities; min(W+, W-) is concave but not strictly, and there the cut
 * between means below and above 0 already reaches the lower bound
 * sum over codes of min(W+, W-)). p orders the codes as their weighted
 * mean response (W+ - W-) / (W+ + W-) does, so sorting the codes present
 * by that mean and trying the m - 1 cuts finds the best split in
 * O(256 log 256).
 *
 * The subset is the high-mean side: a code that no training sample had
 * falls to the low-mean (negative-leaning) leaf, so a pattern never seen
 * on a positive does not vote for a face.
 */
#include <stdlib.h>
#include <string.h>

#include "cascade_train/train_internal.h"

typedef struct code_mean {
  double mean;
  int code;
} code_mean;

/* Ascending mean, ties by code: a total order, so the split (and with it
 * the trained cascade) does not depend on qsort's tie handling. */
static int compare_code_mean(const void *a, const void *b) {
  const code_mean *x = a, *y = b;
  if (x->mean != y->mean) return x->mean < y->mean ? -1 : 1;
  return x->code - y->code;
}

int fer__lbp_best_split(const double wp[256], const double wn[256], int boost,
                        uint32_t subset[FER__LBP_SUBSET_WORDS], double *score) {
  code_mean order[256];
  int m = 0;
  for (int c = 0; c < 256; c++) {
    double w = wp[c] + wn[c];
    if (!(w > 0)) continue;
    order[m].mean = (wp[c] - wn[c]) / w;
    order[m++].code = c;
  }
  memset(subset, 0, FER__LBP_SUBSET_WORDS * sizeof *subset);
  if (m < 2) return 0;
  qsort(order, (size_t)m, sizeof *order, compare_code_mean);
  /* Cut after position k: codes order[0..k] on the low side, the rest
   * (total minus low, as the Haar search does; fer__boost_criterion takes
   * a side that rounds a hair below zero) on the high side. */
  double tp = 0, tn = 0;
  for (int k = 0; k < m; k++) {
    tp += wp[order[k].code];
    tn += wn[order[k].code];
  }
  double lp = 0, ln = 0, best = 0;
  int cut = -1;
  for (int k = 0; k + 1 < m; k++) {
    lp += wp[order[k].code];
    ln += wn[order[k].code];
    double s =
        fer__boost_criterion(boost, lp, ln) + fer__boost_criterion(boost, tp - lp, tn - ln);
    if (cut < 0 || s > best) {
      best = s;
      cut = k;
    }
  }
  for (int k = cut + 1; k < m; k++) subset[order[k].code >> 5] |= 1u << (order[k].code & 31);
  *score = best;
  return 1;
}
