#!/usr/bin/python3
"""Writes the seed corpora of fuzz_annotate and fuzz_tracker (layouts in
the comments at the top of tests/fuzz/fuzz_annotate.c and fuzz_tracker.c):
a few ordinary scenes, then the edges (boxes off the image and overflowing,
labels out of range, NaN confidences, a tiny image, empty frames, resets,
a count past the limit).
Run from anywhere: /usr/bin/python3 tests/fuzz/make_annotate_tracker_seeds.py
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def annotate_seed(width, height, rgb, names, faces, null_faces=False):
    out = struct.pack("<HHBB", width - 1, height - 1, rgb | (2 if null_faces else 0),
                      len(names) - 1)
    for name in names:
        out += struct.pack("<B", len(name)) + name
    for x, y, w, h, label, conf, neighbors in faces:
        out += struct.pack("<iiiiifi", x, y, w, h, label, conf, neighbors)
    return out


FER = [b"angry", b"disgust", b"fear", b"happy", b"sad", b"surprise", b"neutral"]
NAN = float("nan")
INF = float("inf")
ANNOTATE = {
    "one_face": annotate_seed(200, 150, 1, FER, [(60, 40, 80, 80, 3, 0.87, 12)]),
    "gray_two": annotate_seed(320, 240, 0, FER, [(10, 10, 90, 90, 0, 0.5, 3),
                                                 (120, 20, 90, 90, 5, 1.0, 8)]),
    "crowd": annotate_seed(160, 120, 1, FER,
                           [(x * 15, y * 15, 30, 30, (x + y) % 7, 0.1 * (x % 10), 1)
                            for x in range(8) for y in range(6)][:40]),
    "edges": annotate_seed(100, 100, 1, FER, [(-50, -50, 80, 80, 2, 0.3, 1),
                                              (90, 90, 50, 50, 6, 0.9, 1),
                                              (0, 0, 100, 100, 1, 0.0, 0)]),
    "overflow": annotate_seed(64, 64, 1, FER, [(2147483600, 5, 1000, 20, 3, 0.5, 1),
                                               (-2147483648, -2147483648, 2147483647,
                                                2147483647, 0, 0.5, 1),
                                               (10, 10, 0, 0, 3, 0.5, 1),
                                               (10, 10, -5, -5, 3, 0.5, 1)]),
    "bad_labels": annotate_seed(120, 90, 1, [b"a", b"b"], [(10, 10, 40, 40, 7, NAN, 1),
                                                           (50, 10, 40, 40, -1, INF, 1),
                                                           (10, 50, 40, 40, 1, -INF, 1)]),
    "long_names": annotate_seed(300, 200, 1, [b"x" * 255, "\u00e9t\u00e9".encode()],
                                [(20, 20, 100, 100, 0, 0.99, 1),
                                 (150, 20, 100, 100, 1, 0.01, 1)]),
    "tiny": annotate_seed(1, 1, 1, FER, [(0, 0, 1, 1, 3, 0.5, 1)]),
    "small_image": annotate_seed(11, 13, 0, FER, [(0, 0, 11, 13, 4, 0.5, 1)]),
    "null_faces": annotate_seed(50, 50, 1, FER, [(5, 5, 20, 20, 3, 0.5, 1)], null_faces=True),
}


def tracker_seed(classes, settings, frames):
    out = struct.pack("<B", classes) + bytes(settings)
    for reset, boxes, probs in frames:
        count = 63 if boxes == "over" else len(boxes)
        out += struct.pack("<B", count | (128 if reset else 0))
        if boxes == "over":
            continue
        for x, y, w, h in boxes:
            out += struct.pack("<iiHH", x, y, w + 8, h + 8)
        for p in probs:
            out += struct.pack("<f", p)
    return out


def walking(frames, classes):
    out = []
    for k in range(frames):
        boxes = [(10 + 3 * k, 10 + k, 40, 40), (200 - 2 * k, 50, 30, 30)]
        if k % 4 == 3:
            boxes.append((400, 400, 20, 20))  # a face that comes and goes
        probs = [((i * 7 + c * 3 + k) % 10) / 10.0 for i in range(len(boxes))
                 for c in range(classes)]
        out.append((False, boxes, probs))
    return out


TRACKER = {
    "walking": tracker_seed(7, [77, 50, 153, 0], walking(12, 7)),
    "no_classes": tracker_seed(0, [77, 10, 0, 128], walking(8, 0)),
    "empty_frames": tracker_seed(3, [77, 5, 100, 100],
                                 [(False, [], [])] * 3 + walking(3, 3) + [(False, [], [])] * 8),
    "resets": tracker_seed(2, [0, 255, 250, 250],
                           [(k % 3 == 0, [(5, 5, 20, 20)], [0.25, 0.75]) for k in range(9)]),
    "bad_boxes": tracker_seed(2, [77, 50, 153, 0],
                              walking(2, 2) + [(False, [(0, 0, 0, 5)], [0.5, 0.5]),
                                               (False, [(1, 1, 5, 5)], [NAN, 0.5]),
                                               (False, [(-2147483648, 2147483600, 65527, 65527)],
                                                [INF, -1.0]),
                                               (False, "over", [])] + walking(2, 2)),
    "crowd": tracker_seed(1, [200, 3, 128, 64],
                          [(False, [(x * 11 + k, y * 11, 10, 10) for x in range(7)
                                    for y in range(8)], [0.5] * 56) for k in range(4)]),
}


def write(folder, seeds):
    path = os.path.join(HERE, "corpus", folder)
    os.makedirs(path, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


write("annotate", ANNOTATE)
write("tracker", TRACKER)
