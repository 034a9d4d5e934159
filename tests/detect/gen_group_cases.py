#!/usr/bin/python3
"""Writes tests/fixtures/detect/group_cases.txt: inputs and cv2.groupRectangles
outputs (OpenCV 4.6) that test_group.c compares fer__group_rectangles with.

Format, one case after another:
  case N MIN_NEIGHBORS EPS
  x y w h            (N input rectangles)
  out M
  x y w h neighbors  (M groups, in OpenCV's order)
Run from the project root: /usr/bin/python3 tests/detect/gen_group_cases.py
"""
import os
import random

import cv2


def clusters(rng):
    rects = []
    for _ in range(rng.randint(1, 6)):
        cx, cy, s = rng.randint(0, 300), rng.randint(0, 300), rng.randint(10, 120)
        for _ in range(rng.randint(1, 9)):
            d = max(1, s // 8)
            rects.append([cx + rng.randint(-d, d), cy + rng.randint(-d, d),
                          s + rng.randint(-d, d), s + rng.randint(-d, d)])
    rng.shuffle(rects)
    return rects


def edge_cases():
    cases = []
    # Rounding of the mean: sums ending in .5 (half to even in OpenCV).
    cases.append(([[10, 10, 24, 24], [11, 11, 25, 25]] * 2, 1))
    cases.append(([[11, 11, 24, 24], [12, 12, 25, 25], [12, 12, 25, 25], [11, 11, 24, 24]], 1))
    # A small group nested in a big one, with various neighbour counts.
    big = [[100, 100, 100, 100]] * 6
    small = [[130, 130, 30, 30]] * 2
    cases.append((big + small, 1))
    cases.append((big[:2] + [[130, 130, 30, 30]] * 5, 1))
    cases.append((big[:4] + [[130, 130, 30, 30]] * 4, 1))
    # Edges exactly at the similarity limit (eps * mean size).
    cases.append(([[0, 0, 50, 50], [5, 5, 50, 50], [10, 10, 50, 50], [16, 16, 50, 50]], 0 + 1))
    # Chains joined only through a middle rectangle.
    cases.append(([[0, 0, 40, 40], [7, 0, 40, 40], [14, 0, 40, 40], [21, 0, 40, 40]], 2))
    # A single rectangle, and groups below the threshold.
    cases.append(([[5, 6, 7, 8]], 0))
    cases.append(([[5, 6, 24, 24]] * 3, 3))
    return cases


def main():
    rng = random.Random(20261122)
    cases = edge_cases()
    for i in range(60):
        cases.append((clusters(rng), rng.choice([1, 2, 3, 5])))
    out = os.path.join(os.path.dirname(__file__), '..', 'data', 'detect', 'group_cases.txt')
    with open(out, 'w') as f:
        for rects, mn in cases:
            eps = 0.2
            got, weights = cv2.groupRectangles([list(r) for r in rects], mn, eps)
            f.write('case %d %d %.17g\n' % (len(rects), mn, eps))
            for r in rects:
                f.write('%d %d %d %d\n' % tuple(r))
            got = list(got) if len(got) else []
            weights = list(weights) if len(weights) else []
            f.write('out %d\n' % len(got))
            for r, w in zip(got, weights):
                f.write('%d %d %d %d %d\n' % (r[0], r[1], r[2], r[3], int(w)))


if __name__ == '__main__':
    main()
