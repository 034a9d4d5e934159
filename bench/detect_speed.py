#!/usr/bin/python3
"""Speed of libfer's detector against cv2.CascadeClassifier.detectMultiScale.

Makes 640x480 and 1280x720 gray test images from photos of
../shared/data/faces (each photo scaled to cover the frame, then centre
cropped), and times both detectors on the same pixels with
haarcascade_frontalface_default.xml at (scale 1.1, 3 neighbours) and
(1.3, 5), on 1 and 2 threads. Each figure is the median over repeats of one
image's detection time, averaged over the images. libfer runs through
detect_run (C, no Python overhead); OpenCV through its Python binding,
whose overhead is negligible at these sizes.

usage: detect_speed.py [--detect-run PATH] [--images N] [--repeat N]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

CASCADE = '/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml'


def frames(cv2, faces, names, size, count):
    w, h = size
    out = []
    for name in names[:count]:
        g = cv2.imread(os.path.join(faces, name), cv2.IMREAD_GRAYSCALE)
        s = max(w / g.shape[1], h / g.shape[0])
        r = cv2.resize(g, (max(w, round(g.shape[1] * s)), max(h, round(g.shape[0] * s))),
                       interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR)
        y0, x0 = (r.shape[0] - h) // 2, (r.shape[1] - w) // 2
        out.append(r[y0:y0 + h, x0:x0 + w].copy())
    return out


def time_opencv(cv2, cc, img, sf, mn, repeat):
    """Median wall and CPU seconds of one detection."""
    cc.detectMultiScale(img, sf, mn)
    wall, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        cc.detectMultiScale(img, sf, mn)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def time_libfer(exe, pgms, sf, mn, threads, repeat):
    out = subprocess.run([exe, '--cascade', CASCADE, '--scale-factor', str(sf),
                          '--min-neighbors', str(mn), '--threads', str(threads),
                          '--repeat', str(repeat)] + pgms,
                         capture_output=True, text=True, check=True)
    res = []
    for line in out.stdout.splitlines():
        f = line.split('\t')
        res.append((float(f[1].split()[0]) / 1e3, float(f[2].split()[0]) / 1e3))
    return res


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument('--detect-run', default=os.path.join(here, '..', 'build', 'bench', 'detect_run'))
    ap.add_argument('--shared', default=os.environ.get(
        'FER_SHARED_DATA', os.path.join(here, '..', '..', 'shared', 'data')))
    ap.add_argument('--images', type=int, default=6)
    ap.add_argument('--repeat', type=int, default=7)
    args = ap.parse_args()
    try:
        import cv2
    except ImportError:
        print('SKIP: cv2 is not installed')
        return 77
    faces = os.path.join(args.shared, 'faces')
    if not os.path.exists(os.path.join(faces, 'images.tsv')) or not os.path.exists(CASCADE):
        print('SKIP: %s or %s is absent' % (faces, CASCADE))
        return 77
    with open(os.path.join(faces, 'images.tsv')) as f:
        rows = [line.split('\t') for line in f.read().splitlines()[1:] if line]
    # The larger photos, so that frames are real detail rather than upscaled.
    names = [r[0] for r in sorted(rows, key=lambda r: -int(r[1]) * int(r[2]))]
    cc = cv2.CascadeClassifier(CASCADE)
    print('OpenCV %s, %d images per size, median of %d runs each' % (
        cv2.__version__, args.images, args.repeat))
    print('wall: elapsed time; cpu: process CPU time (fairer on a busy machine for 1 thread;')
    print('with 2 threads it adds both threads up, so only wall means anything there)')
    print('%-9s %-9s %7s %10s %10s %8s %10s %10s %8s' % (
        'size', 'params', 'threads', 'opencv', 'libfer', 'speedup', 'opencv', 'libfer', 'speedup'))
    print('%-9s %-9s %7s %10s %10s %8s %10s %10s %8s' % (
        '', '', '', 'wall ms', 'wall ms', 'wall', 'cpu ms', 'cpu ms', 'cpu'))
    with tempfile.TemporaryDirectory() as tmp:
        for size in [(640, 480), (1280, 720)]:
            imgs = frames(cv2, faces, names, size, args.images)
            pgms = []
            for i, img in enumerate(imgs):
                p = os.path.join(tmp, '%dx%d_%d.pgm' % (size[0], size[1], i))
                cv2.imwrite(p, img)
                pgms.append(p)
            for sf, mn in [(1.1, 3), (1.3, 5)]:
                for threads in (1, 2):
                    cv2.setNumThreads(threads)
                    ocv = [time_opencv(cv2, cc, img, sf, mn, args.repeat) for img in imgs]
                    fer = time_libfer(args.detect_run, pgms, sf, mn, threads, args.repeat)
                    ow, oc = (statistics.mean(t[k] for t in ocv) for k in (0, 1))
                    fw, fc = (statistics.mean(t[k] for t in fer) for k in (0, 1))
                    print('%-9s (%.1f, %d) %7d %10.2f %10.2f %7.2fx %10.2f %10.2f %7.2fx' % (
                        '%dx%d' % size, sf, mn, threads, ow * 1e3, fw * 1e3, ow / fw,
                        oc * 1e3, fc * 1e3, oc / fc))
                    sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
