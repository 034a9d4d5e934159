#!/usr/bin/env python3
"""Which windows the detector scans must be exactly OpenCV's: the same
levels, the same step, the same first and last window positions. With a
cascade that accepts every window, cv2.CascadeClassifier.detectMultiScale
(min neighbours 0: no grouping) lists every window OpenCV scans; libfer's
raw mode must list the same set, on images of many sizes, at several scale
factors and minimum sizes (which change how OpenCV cuts levels into row
bands, and so which last rows it reaches).

usage: scan_extent_check.py DETECT_RUN
Exit 77 (skip) without cv2 or numpy.
"""
import os
import random
import subprocess
import sys
import tempfile

try:
    import cv2
    import numpy as np
except ImportError:
    print("SKIP: python3-opencv (cv2) or numpy is not installed")
    sys.exit(77)

# One stump whose leaves are both 1 against a stage threshold of -1: every
# window passes, whatever its pixels.
ACCEPT_ALL = """<?xml version="1.0"?>
<opencv_storage>
<cascade>
  <stageType>BOOST</stageType>
  <featureType>HAAR</featureType>
  <height>24</height>
  <width>24</width>
  <stageParams>
    <boostType>GAB</boostType>
    <minHitRate>0.995</minHitRate>
    <maxFalseAlarm>0.5</maxFalseAlarm>
    <weightTrimRate>0.95</weightTrimRate>
    <maxDepth>1</maxDepth>
    <maxWeakCount>1</maxWeakCount></stageParams>
  <featureParams>
    <maxCatCount>0</maxCatCount>
    <featSize>1</featSize>
    <mode>BASIC</mode></featureParams>
  <stageNum>1</stageNum>
  <stages>
    <_>
      <maxWeakCount>1</maxWeakCount>
      <stageThreshold>-1.</stageThreshold>
      <weakClassifiers>
        <_>
          <internalNodes>
            0 -1 0 0.</internalNodes>
          <leafValues>
            1. 1.</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_>
      <rects>
        <_>
          0 0 24 24 -1.</_>
        <_>
          0 0 12 24 2.</_></rects></_></features></cascade>
</opencv_storage>
"""


def libfer_windows(exe, cascade, pgm, scale_factor, min_size):
    out = subprocess.run([exe, "--cascade", cascade, "--scale-factor", str(scale_factor),
                          "--min-neighbors", "0", "--min-size", str(min_size), "--raw", pgm],
                         capture_output=True, text=True, check=True).stdout
    boxes = set()
    for line in out.splitlines():
        rest = line.split("\t")[1]
        if rest != "-":
            boxes.add(tuple(int(v) for v in rest.split()[:4]))
    return boxes


def main():
    exe = sys.argv[1]
    rng = random.Random(7)
    sizes = [(24, 24), (25, 24), (24, 61), (301, 200), (200, 301)]
    sizes += [(rng.randint(24, 300), rng.randint(24, 300)) for _ in range(15)]
    checked = mismatched = 0
    with tempfile.TemporaryDirectory() as tmp:
        cascade = os.path.join(tmp, "all.xml")
        with open(cascade, "w") as f:
            f.write(ACCEPT_ALL)
        classifier = cv2.CascadeClassifier(cascade)
        if classifier.empty():
            print("FAIL: OpenCV could not load the accept-all cascade")
            return 1
        noise = np.random.default_rng(7)
        for w, h in sizes:
            image = noise.integers(0, 256, size=(h, w), dtype=np.uint8)
            pgm = os.path.join(tmp, "img.pgm")
            cv2.imwrite(pgm, image)
            for scale_factor in (1.1, 1.25):
                for min_size in (0, 30):
                    theirs = set(tuple(int(v) for v in b) for b in classifier.detectMultiScale(
                        image, scaleFactor=scale_factor, minNeighbors=0,
                        minSize=(min_size, min_size)))
                    ours = libfer_windows(exe, cascade, pgm, scale_factor, min_size)
                    checked += 1
                    if ours != theirs:
                        mismatched += 1
                        extra, missing = sorted(ours - theirs), sorted(theirs - ours)
                        print("FAIL: %dx%d, scale factor %g, min size %d: %d windows vs "
                              "OpenCV's %d; only libfer: %s; only OpenCV: %s"
                              % (w, h, scale_factor, min_size, len(ours), len(theirs),
                                 extra[:4], missing[:4]))
    if mismatched:
        print("%d of %d cases differ" % (mismatched, checked))
        return 1
    print("ok: the scanned windows equal OpenCV's in all %d cases" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
