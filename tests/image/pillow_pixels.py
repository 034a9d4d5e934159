#!/usr/bin/python3
"""Streams the pixels Pillow (libjpeg-turbo) decodes from JPEG files, for
tests that compare libfer's decoder with it without writing files.

usage: pillow_pixels.py [-g] FILE...
-g: gray output (Pillow's draft mode "L": libjpeg-turbo gives the Y plane).
For each file, writes one line "WIDTH HEIGHT CHANNELS\\n" (0 0 0 when Pillow
cannot read it) and then WIDTH*HEIGHT*CHANNELS bytes, rows top to bottom.
"""
import sys
from PIL import Image

out = sys.stdout.buffer
gray = sys.argv[1:2] == ["-g"]
for path in sys.argv[1 + gray:]:
    try:
        im = Image.open(path)
        if gray:
            im.draft("L", im.size)
        im.load()
        if gray and im.mode != "L":
            im = im.convert("L")
        elif im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        data = im.tobytes()
        out.write(b"%d %d %d\n" % (im.size[0], im.size[1], len(im.mode)))
        out.write(data)
    except OSError:
        out.write(b"0 0 0\n")
out.flush()
