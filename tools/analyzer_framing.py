#!/usr/bin/python3
"""Does the analyzer frame a face as FER2013 does?

FER2013's 48x48 crops are the faces the expression model learnt from. This
puts PublicTest crops back into a scene the way a photo holds a face
(upscaled SCALE times, surrounded by a border of PAD crop-widths made by
repeating the edge pixels), runs the analyzer's own detector on it, and
reports:
  * where the built-in cascade puts the box, relative to the original crop
    (offsets and size in crop widths; 0, 0, 1 is a perfect match);
  * the expression accuracy through the whole analyzer (detect, crop with
    each margin, shrink, classify) on the faces found, next to the model's
    accuracy on the same crops fed directly, for each --margins value.

  PYTHONPATH=bindings/python LIBFER_LIBRARY=build/lib/libfer.so.0 \\
    /usr/bin/python3 tools/analyzer_framing.py FER2013/test [--model M.ferm] \\
    [--limit N] [--margins 0,0.05,0.1,0.2]

FER2013/test is the PublicTest folder of the unpacked Kaggle layout.
"""
import argparse
import os
import sys

import numpy as np

import libfer

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def load_crops(folder, limit):
    """Every limit-th image per class, so a small limit still has all classes."""
    items = []
    for label, name in enumerate(CLASSES):
        files = sorted(os.listdir(os.path.join(folder, name)))
        items += [(os.path.join(folder, name, f), label) for f in files]
    items.sort(key=lambda t: os.path.basename(t[0]))
    if limit and limit < len(items):
        step = len(items) / limit
        items = [items[int(i * step)] for i in range(limit)]
    return items


def scene_of(crop, scale, pad):
    """The crop upscaled (nearest would add blocks; the library's resize is
    used) and padded with its own edge pixels; returns the scene and the
    crop's box in it."""
    size = crop.shape[0] * scale
    big = libfer.Image.from_array(crop).resize(size, size).to_array()
    if big.ndim == 3:
        big = big[:, :, 0]
    border = int(round(pad * size))
    scene = np.pad(big, border, mode="edge")
    return np.ascontiguousarray(scene), (border, border, size, size)


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    return inter / float(aw * ah + bw * bh - inter)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--model", help="model file (default: the built-in model)")
    ap.add_argument("--limit", type=int, default=600)
    ap.add_argument("--scale", type=int, default=3)
    ap.add_argument("--pad", type=float, default=0.5)
    ap.add_argument("--margins", default="0,0.05,0.1,0.2")
    args = ap.parse_args()

    model = libfer.Model.load(args.model) if args.model else libfer.Model.default()
    margins = [float(m) for m in args.margins.split(",")]
    analyzers = {m: libfer.Analyzer(model, libfer.Cascade.default(), margin=m)
                 for m in margins}
    items = load_crops(args.folder, args.limit)

    offsets, direct_hits, pipeline_hits, found = [], 0, {m: 0 for m in margins}, 0
    for path, label in items:
        image = libfer.Image.load(path)
        crop = image.to_gray().to_array()
        if crop.ndim == 3:
            crop = crop[:, :, 0]
        scene, truth = scene_of(crop, args.scale, args.pad)
        scene_image = libfer.Image.from_array(scene)
        best = None
        for m in margins:
            faces = analyzers[m].analyze(scene_image)
            match = max(faces, key=lambda f: iou(f.box, truth), default=None)
            if match is None or iou(match.box, truth) < 0.5:
                break
            best = match.box
            pipeline_hits[m] += match.index == label
        if best is None:
            continue
        found += 1
        direct_hits += model.predict(image.to_gray())["index"] == label
        x, y, w, h = best
        side = float(truth[2])
        offsets.append(((x - truth[0]) / side, (y - truth[1]) / side, w / side, h / side))

    n = len(items)
    print(f"{n} PublicTest crops, upscaled x{args.scale}, border {args.pad} crop widths; "
          f"the built-in cascade found {found} ({found / n:.3f}) at IoU >= 0.5")
    if not found:
        return 1
    o = np.array(offsets)
    q = np.percentile(o, [25, 50, 75], axis=0)
    print("box relative to the FER2013 crop (crop widths), p25 / median / p75:")
    for i, name in enumerate(["x offset", "y offset", "width", "height"]):
        print(f"  {name:9s} {q[0, i]:+.3f} / {q[1, i]:+.3f} / {q[2, i]:+.3f}")
    print(f"accuracy on those {found} faces:")
    print(f"  the 48x48 crop fed directly      {direct_hits / found:.4f}")
    for m in margins:
        print(f"  through the analyzer, margin {m:<4g} {pipeline_hits[m] / found:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
