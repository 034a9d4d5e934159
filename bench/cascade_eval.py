#!/usr/bin/env python3
"""Evaluates face cascades on ../shared/data/faces (photos with ground-truth
boxes) through libfer's detector, and draws ROC-style curves as SVG.

For each cascade:
  - the operating point at the default parameters (scale factor 1.1,
    min neighbours 3, min size 20): detections, faces found (IoU >= 0.5,
    greedy one-to-one, best IoU first, as faces/opencv_baseline.py),
    detection rate, false positives (total and per image);
  - a curve: every raw window with its score (the final stage sum, libfer's
    raw mode), kept when its score is at least t, grouped as
    cv::groupRectangles(min neighbours 3, eps 0.2) does, then matched;
    t sweeps the raw scores' quantiles;
  - detection time on a 640x480 photo (median of --repeat runs, 1 thread).

usage: cascade_eval.py --detect-run BUILD/bench/detect_run
                       --cascade NAME=FILE [--cascade NAME=FILE ...]
                       [--faces ../shared/data/faces] [--svg OUT.svg]
                       [--points N] [--repeat N]
Needs python3-opencv (cv2) for decoding and grouping. Prints a Markdown table.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import cv2
import numpy as np

MIN_SIZE = 20
COLOURS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd']


def iou(a, b):
    ax1, ay1, bx1, by1 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    iw = min(ax1, bx1) - max(a[0], b[0])
    ih = min(ay1, by1) - max(a[1], b[1])
    if iw <= 0 or ih <= 0:
        return 0.0
    inter = iw * ih
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def matches(truth, found):
    pairs = sorted(((iou(t, f), i, j) for i, t in enumerate(truth)
                    for j, f in enumerate(found)), reverse=True)
    used_t, used_f, n = set(), set(), 0
    for v, i, j in pairs:
        if v < 0.5:
            break
        if i in used_t or j in used_f:
            continue
        used_t.add(i)
        used_f.add(j)
        n += 1
    return n


def load_truth(faces):
    truth = {}
    with open(os.path.join(faces, 'boxes.tsv')) as f:
        next(f)
        for line in f:
            img, x, y, w, h = line.split('\t')
            truth.setdefault(img, []).append((int(x), int(y), int(w), int(h)))
    images = []
    with open(os.path.join(faces, 'images.tsv')) as f:
        next(f)
        for line in f:
            images.append(line.split('\t')[0])
    return images, truth


def run(exe, cascade, listfile, raw):
    args = [exe, '--cascade', cascade, '--scale-factor', '1.1', '--min-neighbors', '3',
            '--min-size', str(MIN_SIZE), '--list', listfile]
    if raw:
        args.append('--raw')
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit('detect_run failed: ' + out.stderr)
    boxes = {}
    for line in out.stdout.splitlines():
        path, rest = line.split('\t')
        boxes.setdefault(path, [])
        if rest != '-':
            v = rest.split()
            boxes[path].append((tuple(int(x) for x in v[:4]), float(v[5])))
    return boxes


def score(images, truth, pgm_of, found_of):
    faces = sum(len(truth[i]) for i in images)
    hits = fps = dets = 0
    for img in images:
        found = found_of(pgm_of[img])
        n = matches(truth[img], found)
        hits += n
        dets += len(found)
        fps += len(found) - n
    return dets, hits, hits / faces, fps


def curve(images, truth, pgm_of, raw, count):
    scores = np.array([s for p in raw.values() for _, s in p]) if raw else np.array([0.0])
    points = []
    for q in np.linspace(0, 0.995, count):
        t = np.quantile(scores, q) if len(scores) else 0

        def grouped(p):
            rects = [list(b) for b, s in raw.get(p, []) if s >= t]
            if not rects:
                return []
            g, _ = cv2.groupRectangles(rects, 3, 0.2)
            return [tuple(int(v) for v in r) for r in g]
        _, hits, rate, fps = score(images, truth, pgm_of, grouped)
        points.append((fps / len(images), rate))
    return points


def timing(exe, cascade, photo, repeat):
    out = subprocess.run([exe, '--cascade', cascade, '--threads', '1', '--repeat', str(repeat),
                          photo], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit('detect_run failed: ' + out.stderr)
    return float(out.stdout.split('\t')[1].split()[0])


def svg(curves, path, images):
    w, h, m = 560, 400, 50
    xmax = max(max(x for x, _ in c) for _, c in curves) or 1
    xmax = min(xmax, 1.0)

    def px(x, y):
        return m + (w - 2 * m) * min(x, xmax) / xmax, h - m - (h - 2 * m) * y
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'font-family="sans-serif" font-size="12">' % (w, h),
             '<rect width="100%" height="100%" fill="white"/>']
    for k in range(6):
        y = k / 5
        x0, y0 = px(0, y)
        parts.append('<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#ddd"/>' % (x0, y0, w - m, y0))
        parts.append('<text x="%g" y="%g" text-anchor="end">%.1f</text>' % (x0 - 4, y0 + 4, y))
        xv = xmax * k / 5
        x1, y1 = px(xv, 0)
        parts.append('<text x="%g" y="%g" text-anchor="middle">%.2f</text>' % (x1, y1 + 16, xv))
    parts.append('<text x="%g" y="%g" text-anchor="middle">false positives per image '
                 '(%d photos)</text>' % (w / 2, h - 10, images))
    parts.append('<text x="14" y="%g" transform="rotate(-90 14 %g)" text-anchor="middle">'
                 'detection rate (IoU &#8805; 0.5)</text>' % (h / 2, h / 2))
    for k, (name, c) in enumerate(curves):
        pts = ' '.join('%.1f,%.1f' % px(x, y) for x, y in sorted(c) if x <= xmax)
        col = COLOURS[k % len(COLOURS)]
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (col, pts))
        parts.append('<text x="%g" y="%g" fill="%s">%s</text>' % (m + 10, m + 16 * k, col, name))
    parts.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(parts) + '\n')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--detect-run', required=True)
    ap.add_argument('--cascade', action='append', required=True, help='NAME=FILE')
    ap.add_argument('--faces', default='../shared/data/faces')
    ap.add_argument('--svg')
    ap.add_argument('--repeat', type=int, default=15)
    ap.add_argument('--points', type=int, default=40, help='points per curve')
    a = ap.parse_args()
    if not os.path.exists(os.path.join(a.faces, 'boxes.tsv')):
        print('SKIP: %s is absent' % a.faces)
        return 77
    images, truth = load_truth(a.faces)
    with tempfile.TemporaryDirectory() as tmp:
        pgm_of = {}
        for img in images:
            gray = cv2.imread(os.path.join(a.faces, img), cv2.IMREAD_GRAYSCALE)
            p = os.path.join(tmp, os.path.basename(img) + '.pgm')
            cv2.imwrite(p, gray)
            pgm_of[img] = p
        listfile = os.path.join(tmp, 'list.txt')
        with open(listfile, 'w') as f:
            f.write('\n'.join(pgm_of[i] for i in images) + '\n')
        # A 640x480 photo for timing: the first image, resized.
        photo = os.path.join(tmp, 'photo640.pgm')
        first = cv2.imread(os.path.join(a.faces, images[0]), cv2.IMREAD_GRAYSCALE)
        cv2.imwrite(photo, cv2.resize(first, (640, 480), interpolation=cv2.INTER_AREA))
        curves = []
        print('| cascade | detections | found / %d | detection rate | false positives '
              '| FP per image | ms at 640x480 |' % sum(len(v) for v in truth.values()))
        print('|---|---|---|---|---|---|---|')
        for spec in a.cascade:
            name, path = spec.split('=', 1)
            grouped = run(a.detect_run, path, listfile, False)
            dets, hits, rate, fps = score(images, truth, pgm_of,
                                          lambda p: [b for b, _ in grouped.get(p, [])])
            ms = timing(a.detect_run, path, photo, a.repeat)
            print('| %s | %d | %d | %.3f | %d | %.3f | %.2f |' %
                  (name, dets, hits, rate, fps, fps / len(images), ms))
            sys.stdout.flush()
            raw = run(a.detect_run, path, listfile, True)
            c = curve(images, truth, pgm_of, raw, a.points)
            curves.append((name, c))
            print('curve %s: ' % name + ' '.join('%.3f:%.3f' % p for p in c))
        if a.svg:
            svg(curves, a.svg, len(images))
    return 0


if __name__ == '__main__':
    sys.exit(main())
