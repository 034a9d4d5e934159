#!/usr/bin/env python3
"""A cascade trained by libfer, written as OpenCV XML, must load in OpenCV
and find the same boxes as libfer on the same image.

usage: train_opencv_check.py TEST_TRAIN_EXE
TEST_TRAIN_EXE is test_train (a Haar cascade) or test_train_lbp (an LBP
one). Runs `TEST_TRAIN_EXE --export DIR` (cascade, scene, libfer's boxes), then
cv2.CascadeClassifier on the scene with libfer's default parameters
(scaleFactor 1.1, minNeighbors 3). Exit 77 (skip) without cv2.
"""
import subprocess
import sys
import tempfile

try:
    import cv2
except ImportError:
    print("SKIP: python3-opencv (cv2) is not installed")
    sys.exit(77)


def main():
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([exe, "--export", tmp], check=True)
        cascade = cv2.CascadeClassifier(tmp + "/tiny.xml")
        if cascade.empty():
            print("FAIL: OpenCV could not load the trained XML")
            return 1
        scene = cv2.imread(tmp + "/scene.pgm", cv2.IMREAD_GRAYSCALE)
        boxes = cascade.detectMultiScale(scene, scaleFactor=1.1, minNeighbors=3)
        ours = sorted(tuple(map(int, line.split()))
                      for line in open(tmp + "/libfer.txt") if line.strip())
        theirs = sorted(tuple(int(v) for v in b) for b in boxes)
        print("libfer:", ours)
        print("opencv:", theirs)
        if not ours:
            print("FAIL: the trained cascade found nothing in the scene")
            return 1
        if ours != theirs:
            print("FAIL: detections differ")
            return 1
    print("ok: OpenCV loads the trained cascade and finds the same %d boxes" % len(ours))
    return 0


if __name__ == "__main__":
    sys.exit(main())
