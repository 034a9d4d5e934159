#!/usr/bin/env python3
"""The shipped cascade (models/frontalface.xml and .fercascade) from the
outside: OpenCV loads the XML with a 24x24 window, and on a real photo
OpenCV's CascadeClassifier and libfer's detector (given either file) find
the same boxes.

usage: model_cascade_check.py DETECT_RUN MODELS_DIR
Exit 77 (skip) without cv2 or without the photo (scikit-image's data).
"""
import os
import subprocess
import sys
import tempfile

SKIP = 77
PHOTO = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"

try:
    import cv2
except ImportError:
    print("SKIP: python3-opencv (cv2) is not installed")
    sys.exit(SKIP)


def libfer_boxes(detect_run, cascade, pgm):
    out = subprocess.run([detect_run, "--cascade", cascade, "--scale-factor", "1.1",
                          "--min-neighbors", "3", pgm],
                         capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        print("FAIL: detect_run on %s: %s" % (cascade, out.stderr.strip()))
        return None
    boxes = []
    for line in out.stdout.splitlines():
        rest = line.split("\t")[1]
        if rest != "-":
            boxes.append(tuple(int(v) for v in rest.split()[:4]))
    return sorted(boxes)


def main():
    detect_run, models = sys.argv[1], sys.argv[2]
    xml = os.path.join(models, "frontalface.xml")
    binary = os.path.join(models, "frontalface.fercascade")
    cascade = cv2.CascadeClassifier(xml)
    if cascade.empty():
        print("FAIL: OpenCV could not load %s" % xml)
        return 1
    size = tuple(cascade.getOriginalWindowSize())
    if size != (24, 24):
        print("FAIL: OpenCV reads a %s window, expected (24, 24)" % (size,))
        return 1
    if not os.path.exists(PHOTO):
        print("SKIP: %s (python3-skimage) is absent; the XML loads" % PHOTO)
        return SKIP
    with tempfile.TemporaryDirectory() as tmp:
        gray = cv2.cvtColor(cv2.imread(PHOTO), cv2.COLOR_BGR2GRAY)
        pgm = os.path.join(tmp, "photo.pgm")
        cv2.imwrite(pgm, gray)
        theirs = sorted(tuple(int(v) for v in b) for b in
                        cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3))
        from_xml = libfer_boxes(detect_run, xml, pgm)
        from_binary = libfer_boxes(detect_run, binary, pgm)
    print("opencv:", theirs)
    print("libfer (xml):", from_xml)
    print("libfer (fercascade):", from_binary)
    if from_xml is None or from_binary is None:
        return 1
    if not theirs:
        print("FAIL: the shipped cascade finds nothing on the astronaut photo")
        return 1
    if from_xml != theirs or from_binary != theirs:
        print("FAIL: libfer's and OpenCV's boxes differ")
        return 1
    print("ok: OpenCV loads the shipped XML; both files give OpenCV's %d boxes" % len(theirs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
