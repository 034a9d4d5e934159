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
    t sweeps --points quantiles of the raw scores, from the lowest (the
    default operating point) to the highest;
  - with --drop-stages N, the same curve for the cascade with its last 1..N
    stages removed as well (how Viola and Jones draw a cascade's ROC: past
    the last stage's lowest threshold, loosening the cascade means dropping
    its last stage), so that a cascade stricter than another is compared
    over the other's whole range; applied alike to every cascade;
  - the curves' upper envelope: for every number k of false positives, the
    most faces found by a threshold that makes at most k. With two or more
    cascades, the first is compared with each other one at every k both
    curves reach ("at equal false positives");
  - detection time on a 640x480 photo (median of --repeat runs, 1 thread);
  - with --operating-point SF,MN,MIN (repeatable), the same counts at other
    detector parameters, e.g. the analyzer's defaults 1.2,4,36.

usage: cascade_eval.py --detect-run BUILD/bench/detect_run
                       --cascade NAME=FILE [--cascade NAME=FILE ...]
                       [--faces ../shared/data/faces] [--svg OUT.svg]
                       [--points N] [--repeat N] [--no-timing] [--drop-stages N]
                       [--operating-point SF,MN,MIN ...]
Needs python3-opencv (cv2) for decoding and grouping. Prints a Markdown table.
"""
import argparse
import math
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

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


def write_pgms(faces, images, tmp):
    """Every photo decoded by cv2 as gray into tmp/NAME.pgm (what
    detect_run reads), and a list file of them in order: ({image: pgm},
    list path)."""
    pgm_of = {}
    for img in images:
        gray = cv2.imread(os.path.join(faces, img), cv2.IMREAD_GRAYSCALE)
        p = os.path.join(tmp, os.path.basename(img) + '.pgm')
        cv2.imwrite(p, gray)
        pgm_of[img] = p
    listfile = os.path.join(tmp, 'list.txt')
    with open(listfile, 'w') as f:
        f.write('\n'.join(pgm_of[i] for i in images) + '\n')
    return pgm_of, listfile


def run(exe, cascade, listfile, raw, settings=('1.1', '3', str(MIN_SIZE))):
    """{pgm: [((x, y, w, h), score)]} from detect_run at settings (scale
    factor, min neighbours, min size) on 1 thread."""
    args = [exe, '--cascade', cascade, '--scale-factor', str(settings[0]), '--min-neighbors',
            str(settings[1]), '--min-size', str(settings[2]), '--threads', '1',
            '--list', listfile]
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
    """(false positives, faces found) for each threshold of the sweep."""
    scores = np.array([s for p in raw.values() for _, s in p])
    if not len(scores):
        return [(0, 0)]
    thresholds = np.unique(np.quantile(scores, np.linspace(0, 1, count)))
    points = []
    for t in thresholds:

        def grouped(p):
            rects = [list(b) for b, s in raw.get(p, []) if s >= t]
            if len(rects) <= 3:  # a group needs more than min neighbours windows
                return []
            g, _ = cv2.groupRectangles(rects, 3, 0.2)
            return [tuple(int(v) for v in r) for r in g]
        _, hits, _, fps = score(images, truth, pgm_of, grouped)
        points.append((fps, hits))
    return points


def envelope(points):
    """best[k]: the most faces found with at most k false positives, for k
    from 0 to the curve's largest count (0 where no threshold gets there)."""
    best = [0] * (max(f for f, _ in points) + 1)
    for f, h in points:
        best[f] = max(best[f], h)
    for k in range(1, len(best)):
        best[k] = max(best[k], best[k - 1])
    return best


def compare(name_a, a, name_b, b, faces, images):
    """Prints a's and b's detection rates at every false-positive count both
    curves reach, and how many of those counts a is at least b at."""
    common = min(len(a), len(b))
    print('\n%s against %s at equal false positives (counts over %d photos):' %
          (name_a, name_b, images))
    print('| false positives | per photo | %s | %s | difference (points) |' % (name_a, name_b))
    print('|---|---|---|---|---|')
    for k in range(common):
        print('| %d | %.4f | %.3f | %.3f | %+.1f |' % (k, k / images, a[k] / faces, b[k] / faces,
                                                     100.0 * (a[k] - b[k]) / faces))
    at_least = sum(1 for k in range(common) if a[k] >= b[k])
    print('%s is at least %s at %d of %d counts (0 to %d false positives)' %
          (name_a, name_b, at_least, common, common - 1))
    if len(b) > len(a):
        print('beyond %d false positives only %s has points: %.3f at %d' %
              (len(a) - 1, name_b, b[-1] / faces, len(b) - 1))


def without_last_stages(path, drop, out):
    """Writes the OpenCV XML cascade `path` with its last `drop` stages
    removed to `out`; returns the stage count kept."""
    tree = ET.parse(path)
    cascade = tree.getroot().find('cascade')
    stages = cascade.find('stages') if cascade is not None else None
    if stages is None:
        sys.exit('%s: not an OpenCV current-format cascade XML (--drop-stages needs one)' % path)
    kept = len(stages) - drop
    if kept < 1:
        sys.exit('%s: has %d stages, cannot drop %d' % (path, len(stages), drop))
    for stage in list(stages)[kept:]:
        stages.remove(stage)
    cascade.find('stageNum').text = str(kept)
    tree.write(out)
    return kept


def timing(exe, cascade, photo, repeat):
    out = subprocess.run([exe, '--cascade', cascade, '--threads', '1', '--repeat', str(repeat),
                          photo], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit('detect_run failed: ' + out.stderr)
    return float(out.stdout.split('\t')[1].split()[0])


def svg(curves, path, images, faces):
    """Draws each cascade's envelope (rate against false positives per photo)
    as a staircase."""
    w, h, m = 560, 400, 50
    xmax = max(len(c) - 1 for _, c in curves) / images or 1
    xmax = min(xmax, 1.0)

    # the rate axis spans the curves' own range in tenths, so that the
    # differences between them stay visible
    lowest = min(min(best) for _, best in curves) / faces
    ymin = min(math.floor(lowest * 10) / 10, 0.9)
    ymax = min(math.ceil(max(max(best) for _, best in curves) / faces * 10) / 10, 1.0)

    def px(x, y):
        return (m + (w - 2 * m) * min(x, xmax) / xmax,
                h - m - (h - 2 * m) * (y - ymin) / (ymax - ymin))
    parts = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
             'font-family="sans-serif" font-size="12">' % (w, h),
             '<rect width="100%" height="100%" fill="white"/>']
    ticks = int(round((ymax - ymin) * 10))
    for k in range(ticks + 1):
        y = ymin + k / 10
        x0, y0 = px(0, y)
        parts.append('<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#ddd"/>' % (x0, y0, w - m, y0))
        parts.append('<text x="%g" y="%g" text-anchor="end">%.1f</text>' % (x0 - 4, y0 + 4, y))
    # x ticks at round values: the smallest step giving at most 6 intervals
    step = next(s for s in (0.005, 0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)
                if xmax / s <= 6)
    for k in range(int(xmax / step + 1e-9) + 1):
        x1, y1 = px(k * step, ymin)
        parts.append('<text x="%g" y="%g" text-anchor="middle">%g</text>' % (x1, y1 + 16,
                                                                          round(k * step, 3)))
    parts.append('<text x="%g" y="%g" text-anchor="middle">false positives per image '
                 '(%d photos)</text>' % (w / 2, h - 10, images))
    parts.append('<text x="14" y="%g" transform="rotate(-90 14 %g)" text-anchor="middle">'
                 'detection rate (IoU &#8805; 0.5)</text>' % (h / 2, h / 2))
    for k, (name, best) in enumerate(curves):
        steps = []
        for fp, hits in enumerate(best):
            if fp / images > xmax:
                break
            if fp > 0:
                steps.append(px(fp / images, best[fp - 1] / faces))
            steps.append(px(fp / images, hits / faces))
        pts = ' '.join('%.1f,%.1f' % p for p in steps)
        col = COLOURS[k % len(COLOURS)]
        parts.append('<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>' % (col, pts))
        # the legend sits bottom right, below the curves' high right end
        parts.append('<text x="%g" y="%g" fill="%s" text-anchor="end">%s</text>' %
                     (w - m - 10, h - m - 10 - 16 * (len(curves) - 1 - k), col, name))
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
    ap.add_argument('--no-timing', action='store_true', help='skip the 640x480 timing')
    ap.add_argument('--drop-stages', type=int, default=0,
                    help='also sweep each cascade without its last 1..N stages')
    ap.add_argument('--points', type=int, default=300, help='thresholds per curve')
    ap.add_argument('--operating-point', action='append', default=[], metavar='SF,MN,MIN',
                    help='also count detections at these detector parameters')
    a = ap.parse_args()
    extra = []
    for spec in a.operating_point:
        v = spec.split(',')
        if len(v) != 3:
            sys.exit('--operating-point %s: want SCALE_FACTOR,MIN_NEIGHBORS,MIN_SIZE' % spec)
        extra.append((float(v[0]), int(v[1]), int(v[2])))
    if not os.path.exists(os.path.join(a.faces, 'boxes.tsv')):
        print('SKIP: %s is absent' % a.faces)
        return 77
    images, truth = load_truth(a.faces)
    with tempfile.TemporaryDirectory() as tmp:
        pgm_of, listfile = write_pgms(a.faces, images, tmp)
        # A 640x480 photo for timing: the first image, resized.
        photo = os.path.join(tmp, 'photo640.pgm')
        first = cv2.imread(os.path.join(a.faces, images[0]), cv2.IMREAD_GRAYSCALE)
        cv2.imwrite(photo, cv2.resize(first, (640, 480), interpolation=cv2.INTER_AREA))
        curves = []
        faces = sum(len(v) for v in truth.values())
        print('| cascade | detections | found / %d | detection rate | false positives '
              '| FP per image | ms at 640x480 |' % faces)
        print('|---|---|---|---|---|---|---|')
        for spec in a.cascade:
            name, path = spec.split('=', 1)
            grouped = run(a.detect_run, path, listfile, False)
            dets, hits, rate, fps = score(images, truth, pgm_of,
                                          lambda p: [b for b, _ in grouped.get(p, [])])
            ms = float('nan') if a.no_timing else timing(a.detect_run, path, photo, a.repeat)
            print('| %s | %d | %d | %.3f | %d | %.3f | %.2f |' %
                  (name, dets, hits, rate, fps, fps / len(images), ms))
            for point in extra:
                grouped = run(a.detect_run, path, listfile, False, point)
                dets, hits, rate, fps = score(images, truth, pgm_of,
                                              lambda p: [b for b, _ in grouped.get(p, [])])
                print('| %s at %g, %d, %d | %d | %d | %.3f | %d | %.3f | |' %
                      (name, point[0], point[1], point[2], dets, hits, rate, fps,
                       fps / len(images)))
            sys.stdout.flush()
            points = []
            for drop in range(a.drop_stages + 1):
                cut = path
                if drop:
                    cut = os.path.join(tmp, 'cut.xml')
                    without_last_stages(path, drop, cut)
                raw = run(a.detect_run, cut, listfile, True)
                points += curve(images, truth, pgm_of, raw, a.points)
            curves.append((name, envelope(points)))
        for name, best in curves:
            changes = [k for k in range(len(best)) if k == 0 or best[k] != best[k - 1]]
            print('envelope %s (false positives:found): ' % name +
                  ' '.join('%d:%d' % (k, best[k]) for k in changes))
        for name, best in curves[1:]:
            compare(curves[0][0], curves[0][1], name, best, faces, len(images))
        if a.svg:
            svg(curves, a.svg, len(images), faces)
    return 0


if __name__ == '__main__':
    sys.exit(main())
