#!/usr/bin/python3
"""Parity of libfer's detector with OpenCV's CascadeClassifier.

Runs cv2.CascadeClassifier.detectMultiScale and libfer (through the
detect_run program, on PGM files holding the very pixels cv2 decoded) on the
photos of ../shared/data/faces with several cascades and parameter sets, and
prints per row: OpenCV's boxes, libfer's boxes, boxes matched one to one with
IoU >= 0.9, missed and extra boxes, and images whose box lists are identical.

Bar (the project's acceptance criterion): at least 95% of OpenCV's boxes
matched and at most 5% extra, on every row. Exit 0 when met, 1 when not,
77 (skip) when cv2 or the data is absent.

usage: detect_parity.py [--detect-run PATH] [--faces DIR] [--limit N]
"""
import argparse
import os
import subprocess
import sys
import tempfile

HAAR = '/usr/share/opencv4/haarcascades'
LBP = '/usr/share/opencv4/lbpcascades'


def cascades(shared):
    return [
        ('frontalface_default', os.path.join(HAAR, 'haarcascade_frontalface_default.xml')),
        ('frontalface_default (old layout)',
         os.path.join(shared, 'cascades', 'haarcascade_frontalface_default.oldformat.xml')),
        ('frontalface_alt_tree', os.path.join(HAAR, 'haarcascade_frontalface_alt_tree.xml')),
        ('upperbody (tilted)', os.path.join(HAAR, 'haarcascade_upperbody.xml')),
        ('lbp frontalface_improved', os.path.join(LBP, 'lbpcascade_frontalface_improved.xml')),
    ]


PARAMS = [(1.1, 3), (1.3, 5)]
MIN_SIZE = 30


def iou(a, b):
    ax1, ay1, ax2, ay2 = a[0], a[1], a[0] + a[2], a[1] + a[3]
    bx1, by1, bx2, by2 = b[0], b[1], b[0] + b[2], b[1] + b[3]
    iw = max(0, min(ax2, bx2) - max(ax1, bx1))
    ih = max(0, min(ay2, by2) - max(ay1, by1))
    inter = iw * ih
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def match(ref, got, threshold=0.9):
    """Greedy one-to-one matching, best IoU first; returns the match count."""
    pairs = sorted(((iou(r, g), i, j) for i, r in enumerate(ref)
                    for j, g in enumerate(got)), reverse=True)
    used_r, used_g, n = set(), set(), 0
    for v, i, j in pairs:
        if v < threshold:
            break
        if i in used_r or j in used_g:
            continue
        used_r.add(i)
        used_g.add(j)
        n += 1
    return n


def run_libfer(exe, cascade, sf, mn, listfile):
    out = subprocess.run([exe, '--cascade', cascade, '--scale-factor', str(sf),
                          '--min-neighbors', str(mn), '--min-size', str(MIN_SIZE),
                          '--list', listfile], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit('detect_run failed: ' + out.stderr)
    boxes, scores = {}, {}
    for line in out.stdout.splitlines():
        path, rest = line.split('\t')
        boxes.setdefault(path, [])
        if rest != '-':
            v = rest.split()
            box = tuple(int(x) for x in v[:4])
            boxes[path].append(box)
            scores[(path, box)] = float(v[5])
    return boxes, scores


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--detect-run', default=os.path.join(here, '..', 'build', 'bench', 'detect_run'))
    ap.add_argument('--shared', default=os.environ.get(
        'FER_SHARED_DATA', os.path.join(here, '..', '..', 'shared', 'data')))
    ap.add_argument('--limit', type=int, default=0)
    ap.add_argument('--only', default='', help='run the cascades whose label contains this')
    args = ap.parse_args()
    try:
        import cv2
    except ImportError:
        print('SKIP: cv2 is not installed')
        return 77
    faces = os.path.join(args.shared, 'faces')
    if not os.path.exists(os.path.join(faces, 'images.tsv')) or not os.path.isdir(HAAR):
        print('SKIP: %s or %s is absent' % (faces, HAAR))
        return 77
    with open(os.path.join(faces, 'images.tsv')) as f:
        names = [line.split('\t')[0] for line in f.read().splitlines()[1:] if line]
    if args.limit:
        names = names[:args.limit]
    cv2.setNumThreads(1)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        listfile = os.path.join(tmp, 'list.txt')
        grays = {}
        with open(listfile, 'w') as lf:
            for i, name in enumerate(names):
                gray = cv2.imread(os.path.join(faces, name), cv2.IMREAD_GRAYSCALE)
                pgm = os.path.join(tmp, '%04d.pgm' % i)
                cv2.imwrite(pgm, gray)
                grays[pgm] = gray
                lf.write(pgm + '\n')
        print('%d photos, min size %d, match = IoU >= 0.9' % (len(names), MIN_SIZE))
        print('%-34s %-9s %7s %7s %7s %6s %6s %9s %9s' % (
            'cascade', 'params', 'opencv', 'libfer', 'matched', 'missed', 'extra',
            'matched%', 'identical'))
        for label, path in cascades(args.shared):
            if args.only not in label:
                continue
            if not os.path.exists(path):
                print('%-34s missing: %s' % (label, path))
                ok = False
                continue
            cc = cv2.CascadeClassifier(path)
            if cc.empty():
                # OpenCV 4 cannot load the old layout through this API in
                # every build; compare against the current-layout file then.
                cc = cv2.CascadeClassifier(os.path.join(HAAR, 'haarcascade_frontalface_default.xml'))
            for sf, mn in PARAMS:
                mine, scores = run_libfer(args.detect_run, path, sf, mn, listfile)
                n_ref = n_got = n_match = same = 0
                for pgm, gray in grays.items():
                    ref = [tuple(int(v) for v in r) for r in
                           cc.detectMultiScale(gray, sf, mn, minSize=(MIN_SIZE, MIN_SIZE))]
                    got = mine.get(pgm, [])
                    m = match(ref, got)
                    n_ref += len(ref)
                    n_got += len(got)
                    n_match += m
                    same += sorted(ref) == sorted(got)
                missed, extra = n_ref - n_match, n_got - n_match
                pct = 100.0 * n_match / n_ref if n_ref else 100.0
                extra_pct = 100.0 * extra / n_ref if n_ref else 0.0
                row_ok = pct >= 95.0 and extra_pct <= 5.0
                ok = ok and row_ok
                print('%-34s (%.1f, %d) %7d %7d %7d %6d %6d %8.1f%% %5d/%d%s' % (
                    label, sf, mn, n_ref, n_got, n_match, missed, extra, pct, same,
                    len(grays), '' if row_ok else '  FAILS THE BAR'))
        # Scores: libfer reports detectMultiScale3's levelWeights (the best
        # final stage sum of a group); check them on the first cascade.
        label, path = cascades(args.shared)[0]
        if args.only and args.only not in label:
            print('bar: >= 95% matched and <= 5% extra on every row: ' + ('met' if ok else 'NOT met'))
            return 0 if ok else 1
        cc = cv2.CascadeClassifier(path)
        mine, scores = run_libfer(args.detect_run, path, 1.1, 3, listfile)
        checked = equal = 0
        for pgm, gray in grays.items():
            rects, _, weights = cc.detectMultiScale3(gray, 1.1, 3, minSize=(MIN_SIZE, MIN_SIZE),
                                                      outputRejectLevels=True)
            ref = {tuple(int(v) for v in r): float(w) for r, w in zip(rects, weights)}
            for box in mine.get(pgm, []):
                checked += 1
                equal += box in ref and ref[box] == scores[(pgm, box)]
        print('scores of %s (1.1, 3) equal to detectMultiScale3 levelWeights: %d of %d' % (
            label, equal, checked))
    print('bar: >= 95% matched and <= 5% extra on every row: ' + ('met' if ok else 'NOT met'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
