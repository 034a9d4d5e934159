#!/usr/bin/python3
"""Measures how soft FER2013's Training images are next to its PublicTest
images, the reason libfer models carry a sharpness limit (fer/nn.h).

    /usr/bin/python3 tools/fer2013_sharpness.py FER2013_DIR [--sample N]

FER2013_DIR holds train/<class>/*.jpg and test/<class>/*.jpg (the folder
layout from ../shared/data/fer2013/fer2013-folders.tar.gz). Prints, per
split, percentiles of the per-image standard deviation, of the mean
absolute horizontal gradient and of libfer's sharpness measure (mean
absolute difference of adjacent pixels over the standard deviation), then
the Gaussian sigma that brings the PublicTest median sharpness down to the
Training median. Needs numpy, PIL and scipy (Debian packages)."""
import argparse
import glob
import os
import random

import numpy as np
from PIL import Image
from scipy import ndimage


def load(folder, sample, seed):
    files = sorted(glob.glob(os.path.join(folder, "*", "*.jpg")))
    if not files:
        raise SystemExit("no images under %s" % folder)
    if sample and sample < len(files):
        files = random.Random(seed).sample(files, sample)
    return np.stack([np.asarray(Image.open(f).convert("L"), dtype=np.float64)
                     for f in files])


def sharpness(batch):
    sd = batch.reshape(len(batch), -1).std(axis=1)
    dx = np.abs(np.diff(batch, axis=2))
    dy = np.abs(np.diff(batch, axis=1))
    pairs = dx[0].size + dy[0].size
    s = (dx.sum(axis=(1, 2)) + dy.sum(axis=(1, 2))) / pairs
    return np.where(sd > 0, s / np.maximum(sd, 1e-12), 0.0)


def row(name, values):
    p = np.percentile(values, [5, 25, 50, 75, 95])
    return "| %s | %s |" % (name, " | ".join("%.3f" % v for v in p))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("root")
    ap.add_argument("--sample", type=int, default=0, help="images per split (0: all)")
    args = ap.parse_args()
    splits = {"Training": load(os.path.join(args.root, "train"), args.sample, 1),
              "PublicTest": load(os.path.join(args.root, "test"), args.sample, 2)}
    print("| measure | p5 | p25 | median | p75 | p95 |")
    print("|---|---|---|---|---|---|")
    for name, batch in splits.items():
        print(row("%s std (%d images)" % (name, len(batch)),
                  batch.reshape(len(batch), -1).std(axis=1)))
        print(row("%s mean abs gradient" % name,
                  np.abs(np.diff(batch, axis=2)).mean(axis=(1, 2))))
        print(row("%s sharpness" % name, sharpness(batch)))
    target = np.median(sharpness(splits["Training"]))
    test = splits["PublicTest"][:1000]
    print()
    print("Gaussian sigma (px) applied to PublicTest -> median sharpness "
          "(Training median %.4f):" % target)
    for sigma in np.arange(0.5, 5.01, 0.5):
        blurred = np.stack([ndimage.gaussian_filter(x, sigma, mode="nearest") for x in test])
        print("  sigma %.1f: %.4f" % (sigma, np.median(sharpness(blurred))))


if __name__ == "__main__":
    main()
