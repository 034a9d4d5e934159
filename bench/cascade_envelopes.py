#!/usr/bin/python3
"""Compares and draws cascade curves from saved bench/cascade_eval.py
outputs, so that a new cascade can be evaluated on its own and set against
an earlier run's cascades without evaluating those again.

Reads the 'envelope NAME (false positives:found): ...' lines of the given
outputs (in order), keeps each curve up to --limit false positives, prints
cascade_eval.py's comparison of the first curve with every other one and
draws them with its svg() (../shared/data/faces: 400 photos, 566 faces).

usage: cascade_envelopes.py [--limit K] OUT.svg EVAL_OUTPUT [EVAL_OUTPUT ...]
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cascade_eval  # noqa: E402

PHOTOS, FACES = 400, 566


def envelopes(path):
    curves = []
    with open(path) as f:
        for line in f:
            if not line.startswith('envelope '):
                continue
            head, points = line.split('): ')
            name = head[len('envelope '):].rsplit(' (', 1)[0]
            pairs = [tuple(int(v) for v in p.split(':')) for p in points.split()]
            best = [0] * (pairs[-1][0] + 1)
            for k, found in pairs:
                best[k] = found
            for k in range(1, len(best)):  # the lines list changes only
                best[k] = max(best[k], best[k - 1])
            curves.append((name, best))
    return curves


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--limit', type=int, default=0, help='largest false-positive count kept')
    ap.add_argument('svg')
    ap.add_argument('outputs', nargs='+')
    a = ap.parse_args()
    curves = [c for path in a.outputs for c in envelopes(path)]
    if len(curves) < 2:
        sys.exit('need at least two envelope lines, found %d' % len(curves))
    if a.limit:
        curves = [(name, best[:a.limit + 1]) for name, best in curves]
    for name, best in curves[1:]:
        cascade_eval.compare(curves[0][0], curves[0][1], name, best, FACES, PHOTOS)
    cascade_eval.svg(curves, a.svg, PHOTOS, FACES)
    return 0


if __name__ == '__main__':
    sys.exit(main())
