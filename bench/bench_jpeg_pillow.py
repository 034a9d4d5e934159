#!/usr/bin/python3
"""Pillow's (libjpeg-turbo's) decode speed on the same files as
bench_jpeg.c: every .jpg in the folders given, from memory, best of REPEAT,
in process CPU time.

usage: bench_jpeg_pillow.py [-r REPEAT] [-g] [DIR...]    (-g: decode to gray, draft mode 'L')
"""
import glob, io, os, sys, time
from PIL import Image

def main(argv):
    repeat, gray, dirs = 3, False, []
    i = 0
    while i < len(argv):
        if argv[i] == "-r":
            repeat = int(argv[i + 1]); i += 1
        elif argv[i] == "-g":
            gray = True
        else:
            dirs.append(argv[i])
        i += 1
    dirs = dirs or ["../shared/data/faces/images"]
    blobs = [open(f, "rb").read() for d in dirs for f in sorted(glob.glob(os.path.join(d, "*.jpg")))]
    best = float("inf")
    for _ in range(repeat):
        pixels = 0
        t0 = time.process_time()
        for b in blobs:
            im = Image.open(io.BytesIO(b))
            if gray:
                im.draft("L", im.size)
            im.load()
            pixels += im.size[0] * im.size[1]
        best = min(best, time.process_time() - t0)
    print("Pillow: %d files, %.2f MPixel, best of %d: %.3f s, %.1f MPixel/s%s"
          % (len(blobs), pixels / 1e6, repeat, best, pixels / best / 1e6, " (gray)" if gray else ""))

if __name__ == "__main__":
    main(sys.argv[1:])
