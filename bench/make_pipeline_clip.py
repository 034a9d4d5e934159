#!/usr/bin/env python3
"""Writes the pipeline benchmark's clip: a 640x480 Y4M video that pans and
zooms over a group photo from ../shared/data/faces (several faces in every
frame). Neither the photo nor the clip is committed; write the clip into a
build folder.

usage: make_pipeline_clip.py OUT.y4m [--frames N] [--photo PATH]
"""
import argparse
import os
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
# pic03872: four adults and children, faces of 50 to 200 px at full size.
DEFAULT_PHOTO = os.path.join(HERE, "..", "..", "shared", "data", "faces", "images",
                             "pic03872.jpg")

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--frames", type=int, default=120)
    ap.add_argument("--photo", default=DEFAULT_PHOTO)
    args = ap.parse_args()
    if not os.path.exists(args.photo):
        print("make_pipeline_clip: %s is missing (../shared/data/faces)" % args.photo,
              file=sys.stderr)
        return 77
    photo = Image.open(args.photo).convert("RGB")
    width, height = photo.size
    with open(args.out, "wb") as out:
        out.write(b"YUV4MPEG2 W640 H480 F30:1 Ip A1:1 C420jpeg\n")
        for k in range(args.frames):
            t = k / max(1, args.frames - 1)
            # Zoom from the whole photo to 85% of it while panning right.
            zoom = 1.0 - 0.15 * t
            w = min(width, height * 4 / 3) * zoom
            h = w * 3 / 4
            x = (width - w) * t
            y = (height - h) * 0.5
            frame = photo.resize((640, 480), Image.BILINEAR, box=(x, y, x + w, y + h))
            ycc = frame.convert("YCbCr")
            planes = [np.asarray(p).astype(np.float64) for p in ycc.split()]
            luma = (16 + planes[0] * 219 / 255).round().astype(np.uint8)
            chroma = [(16 + ((c[0::2, 0::2] + c[1::2, 0::2] + c[0::2, 1::2] + c[1::2, 1::2]) / 4)
                       * 224 / 255).round().astype(np.uint8) for c in planes[1:]]
            out.write(b"FRAME\n" + luma.tobytes() + chroma[0].tobytes() + chroma[1].tobytes())
    return 0

if __name__ == "__main__":
    sys.exit(main())
