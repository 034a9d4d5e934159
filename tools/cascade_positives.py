#!/usr/bin/python3
"""Choose the face crops a frontal-face cascade is trained on.

FER2013's crops include turned heads, hands over faces, cartoons and a
blank image. A cascade stage must accept 99.5% of its positives, so those
few crops decide how many weak classifiers every early stage needs, and so
how fast detection is (models/frontalface.md, "Pruned positives").

  rank  scores every crop of a FER2013 folder layout with the first stages
        of an earlier cascade (OpenCV XML, Haar stumps) and writes the
        lowest-scoring fraction as CLASS/FILE lines, worst first;
  link  makes a folder layout of symbolic links to every crop except the
        listed ones, for `fer train-cascade --pos-folder`.

The score of a crop is the smallest margin (stage sum minus stage
threshold) over the first --stages stages, on the crop's --crop box
(default 1,1,46, the box `fer train-cascade` takes by default; give the
--crop the earlier cascade was trained with) area-resized to the cascade
window. Needs python3-numpy and python3-opencv (rank only).

usage: cascade_positives.py rank --cascade OLD.xml [--stages 3]
                                 [--drop 0.10] [--crop 1,1,46] FOLDER LIST
       cascade_positives.py link FOLDER LIST OUT_FOLDER
"""
import argparse
import os
import sys
import xml.etree.ElementTree as ET

IMAGE_ENDINGS = ('.jpg', '.jpeg', '.png', '.pgm', '.ppm', '.pnm', '.bmp')


def crops(folder):
    """(CLASS/FILE, path) for every image, in the order fer's loader uses."""
    for cls in sorted(os.listdir(folder)):
        sub = os.path.join(folder, cls)
        if not os.path.isdir(sub):
            continue
        for name in sorted(os.listdir(sub)):
            if name.lower().endswith(IMAGE_ENDINGS):
                yield cls + '/' + name, os.path.join(sub, name)


def load_stump_cascade(path):
    root = ET.parse(path).getroot()[0]
    width = int(root.find('width').text)
    features = []
    for f in root.find('features'):
        rects = []
        for r in f.find('rects'):
            v = r.text.split()
            rects.append((int(v[0]), int(v[1]), int(v[2]), int(v[3]), float(v[4])))
        features.append(rects)
    stages = []
    for st in root.find('stages'):
        weak = []
        for wc in st.find('weakClassifiers'):
            nodes = wc.find('internalNodes').text.split()
            leaves = wc.find('leafValues').text.split()
            if len(nodes) != 4 or len(leaves) != 2:
                sys.exit('%s: only stump cascades are supported' % path)
            weak.append((int(nodes[2]), float(nodes[3]), float(leaves[0]), float(leaves[1])))
        stages.append((float(st.find('stageThreshold').text), weak))
    return width, features, stages


def margin(np, window, features, stages):
    """Smallest stage margin of one window (float64 arithmetic)."""
    n = window.shape[0]
    ii = np.zeros((n + 1, n + 1))
    ii[1:, 1:] = window.cumsum(0).cumsum(1)
    sq = np.zeros((n + 1, n + 1))
    sq[1:, 1:] = (window * window).cumsum(0).cumsum(1)

    def box(a, x, y, w, h):
        return a[y + h, x + w] - a[y, x + w] - a[y + h, x] + a[y, x]

    area = (n - 2) * (n - 2)
    s, q = box(ii, 1, 1, n - 2, n - 2), box(sq, 1, 1, n - 2, n - 2)
    norm = max(area * q - s * s, 1e-9) ** 0.5
    worst = float('inf')
    for threshold, weak in stages:
        total = 0.0
        for feature, split, left, right in weak:
            value = sum(wt * box(ii, x, y, w, h) for x, y, w, h, wt in features[feature]) / norm
            total += left if value < split else right
        worst = min(worst, total - threshold)
    return worst


def rank(args):
    import cv2
    import numpy as np
    width, features, stages = load_stump_cascade(args.cascade)
    stages = stages[:args.stages]
    x, y, side = (int(v) for v in args.crop.split(','))
    if x < 0 or y < 0 or side < 1 or x + side > 48 or y + side > 48:
        sys.exit('--crop %s: not a box inside a 48x48 crop' % args.crop)
    scored = []
    for name, path in crops(args.folder):
        gray = cv2.imread(path, cv2.IMREAD_GRAYSCALE)
        if gray is None or gray.shape != (48, 48):
            sys.exit('%s: not a 48x48 image' % path)
        window = cv2.resize(gray[y:y + side, x:x + side], (width, width), interpolation=cv2.INTER_AREA)
        scored.append((margin(np, window.astype(np.float64), features, stages), name))
    scored.sort()
    drop = int(len(scored) * args.drop)
    with open(args.list, 'w') as out:
        for _, name in scored[:drop]:
            out.write(name + '\n')
    print('%d crops, %d listed in %s (margins %.3f to %.3f)' %
          (len(scored), drop, args.list, scored[0][0], scored[drop - 1][0] if drop else 0))


def link(args):
    with open(args.list) as f:
        excluded = {line.strip() for line in f if line.strip()}
    kept = 0
    seen = set()
    for name, path in crops(args.folder):
        if name in excluded:
            seen.add(name)
            continue
        dst = os.path.join(args.out, name)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.lexists(dst):
            os.remove(dst)
        os.symlink(os.path.abspath(path), dst)
        kept += 1
    missing = excluded - seen
    if missing:
        sys.exit('%s: %d listed crops are not in %s, e.g. %s' %
                 (args.list, len(missing), args.folder, sorted(missing)[0]))
    print('%d crops linked into %s, %d left out' % (kept, args.out, len(seen)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='command', required=True)
    r = sub.add_parser('rank')
    r.add_argument('--cascade', required=True)
    r.add_argument('--stages', type=int, default=3)
    r.add_argument('--drop', type=float, default=0.10)
    r.add_argument('--crop', default='1,1,46', help='X,Y,SIDE of the 48x48 crop')
    r.add_argument('folder')
    r.add_argument('list')
    ln = sub.add_parser('link')
    ln.add_argument('folder')
    ln.add_argument('list')
    ln.add_argument('out')
    args = ap.parse_args()
    rank(args) if args.command == 'rank' else link(args)


if __name__ == '__main__':
    main()
