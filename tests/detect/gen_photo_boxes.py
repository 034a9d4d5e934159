#!/usr/bin/python3
"""Writes tests/fixtures/detect/photo_boxes.txt: OpenCV 4.6's detections on the
first 10 photos of ../shared/data/faces (colour, as cv2.imread reads them),
for test_detect_photos.c. Only box numbers are committed, never the photos.

Format: "IMAGE CASCADE SCALE NEIGHBORS COUNT" then COUNT lines "x y w h".
Run from the project root: /usr/bin/python3 tests/detect/gen_photo_boxes.py
"""
import os

import cv2

SHARED = os.path.join(os.path.dirname(__file__), '..', '..', '..', 'shared', 'data')
CASCADES = {
    'haarcascade_frontalface_default.xml': '/usr/share/opencv4/haarcascades',
    'lbpcascade_frontalface_improved.xml': '/usr/share/opencv4/lbpcascades',
}


def main():
    faces = os.path.join(SHARED, 'faces')
    with open(os.path.join(faces, 'images.tsv')) as f:
        names = [line.split('\t')[0] for line in f.read().splitlines()[1:] if line][:10]
    cv2.setNumThreads(1)
    out = os.path.join(os.path.dirname(__file__), '..', 'data', 'detect', 'photo_boxes.txt')
    with open(out, 'w') as f:
        for cascade, folder in CASCADES.items():
            cc = cv2.CascadeClassifier(os.path.join(folder, cascade))
            for sf, mn in [(1.1, 3), (1.3, 5)]:
                for name in names:
                    img = cv2.imread(os.path.join(faces, name))
                    boxes = cc.detectMultiScale(img, sf, mn)
                    f.write('%s %s %.1f %d %d\n' % (name, cascade, sf, mn, len(boxes)))
                    for b in boxes:
                        f.write('%d %d %d %d\n' % tuple(int(v) for v in b))


if __name__ == '__main__':
    main()
