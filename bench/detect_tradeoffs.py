#!/usr/bin/env python3
"""Prints the detector's trade-off table: for a grid of (scale factor, min
neighbours, min size), the pipeline's frame rate on the 640x480 clip of
bench/make_pipeline_clip.py and the detection rate and false positives per
photo on ../shared/data/faces, as a Markdown table (docs/detection-tradeoffs.md).

  bench/detect_tradeoffs.py --build BUILD --clip CLIP.y4m
      [--cascade FILE] [--faces ../shared/data/faces]
      [--scale-factors 1.1,1.2,1.3] [--min-neighbors 3,4,5] [--min-sizes 24,36,48]
      [--repeat N]

Detection: BUILD/bench/detect_run on every photo decoded by cv2 as gray
(the cascade given, else models/frontalface.fercascade, the one built in), a face
found when a box matches it with IoU >= 0.5 (greedy one-to-one, best IoU
first, as faces/opencv_baseline.py and bench/cascade_eval.py); every box
that matches no face is a false positive. Speed: BUILD/bench/bench_pipeline
on the clip with 1 thread at the same settings and the built-in model:
frames per second from the CPU time per frame, best of --repeat passes
(on a machine shared with other work the wall clock says how busy it was,
not what a frame costs).
Needs python3-opencv (cv2).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cascade_eval import load_truth, matches, run, write_pgms  # noqa: E402


def floats(text):
    return [float(v) for v in text.split(',') if v]


def speed(exe, clip, cascade, sf, mn, ms, repeat):
    args = [exe, clip, '--threads', '1', '--repeat', str(repeat), '--scale-factor', str(sf),
            '--min-neighbors', str(mn), '--min-size', str(ms), '--cascade', cascade]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit('bench_pipeline failed: ' + out.stderr)
    for line in out.stdout.splitlines():
        if line.startswith('{'):
            return json.loads(line)
    sys.exit('bench_pipeline printed no JSON line')


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--build', required=True, help='meson build folder (bench/ built)')
    ap.add_argument('--clip', required=True, help='640x480 Y4M clip (bench/make_pipeline_clip.py)')
    ap.add_argument('--cascade', help='cascade file (default: the built-in one)')
    ap.add_argument('--faces', default=os.path.normpath(
        os.path.join(HERE, '..', '..', 'shared', 'data', 'faces')))
    ap.add_argument('--scale-factors', default='1.1,1.2,1.3')
    ap.add_argument('--min-neighbors', default='3,4,5')
    ap.add_argument('--min-sizes', default='24,36,48')
    ap.add_argument('--repeat', type=int, default=1)
    a = ap.parse_args()
    detect_run = os.path.join(a.build, 'bench', 'detect_run')
    pipeline = os.path.join(a.build, 'bench', 'bench_pipeline')
    for need in (detect_run, pipeline, a.clip, os.path.join(a.faces, 'boxes.tsv')):
        if not os.path.exists(need):
            print('detect_tradeoffs: %s is missing' % need, file=sys.stderr)
            return 77
    if a.cascade is None:
        # detect_run needs a file: the one the build embeds as the built-in.
        a.cascade = os.path.normpath(os.path.join(HERE, '..', 'models', 'frontalface.fercascade'))
    images, truth = load_truth(a.faces)
    faces = sum(len(truth[i]) for i in images)
    with tempfile.TemporaryDirectory() as tmp:
        pgm_of, listfile = write_pgms(a.faces, images, tmp)
        print('%d photos, %d faces (%s); clip %s; cascade %s; 1 thread' %
              (len(images), faces, a.faces, a.clip, a.cascade))
        print()
        print('| scale factor | min neighbours | min size | frames/s (CPU) | CPU ms/frame | '
              'detection rate | FP per photo |')
        print('|---|---|---|---|---|---|---|')
        for sf in floats(a.scale_factors):
            for ms in [int(v) for v in floats(a.min_sizes)]:
                for mn in [int(v) for v in floats(a.min_neighbors)]:
                    found = run(detect_run, a.cascade, listfile, False, (str(sf), str(mn), str(ms)))
                    hits = fps = 0
                    for img in images:
                        boxes = [b for b, _ in found.get(pgm_of[img], [])]
                        n = matches(truth[img], boxes)
                        hits += n
                        fps += len(boxes) - n
                    s = speed(pipeline, a.clip, a.cascade, sf, mn, ms, a.repeat)
                    print('| %g | %d | %d | %.1f | %.1f | %.3f | %.3f |' %
                          (sf, mn, ms, 1e3 / s['cpu_ms_per_frame'], s['cpu_ms_per_frame'],
                           hits / faces, fps / len(images)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
