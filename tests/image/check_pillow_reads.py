#!/usr/bin/python3
"""Pillow, an independent decoder, must read what libfer's PNM and BMP
encoders write. Runs test_image (argv[1]) with FER_IMAGE_EXPORT_DIR set,
then compares each file with the picture make_test_image() draws."""
import os
import subprocess
import sys
import tempfile

try:
    import numpy as np
    from PIL import Image
except ImportError as e:
    print("SKIP: needs numpy and Pillow (%s)" % e, file=sys.stderr)
    sys.exit(77)


def test_picture(w, h, channels):
    """tests/image/image_test_util.h: make_test_image()."""
    y, x, c = np.mgrid[0:h, 0:w, 0:channels]
    return ((x * 7 + y * 13 + c * 101 + ((x * y) % 17) * 3) % 256).astype(np.uint8)


with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ, FER_IMAGE_EXPORT_DIR=tmp)
    subprocess.run([sys.argv[1]], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    failures = 0
    for name in ("gray.pgm", "gray.bmp", "rgb.ppm", "rgb.bmp"):
        channels = 1 if name.startswith("gray") else 3
        im = Image.open(os.path.join(tmp, name))
        got = np.asarray(im.convert("L" if channels == 1 else "RGB"))
        want = test_picture(9, 4, channels)
        if channels == 1:
            want = want[..., 0]
        ok = got.shape == want.shape and np.array_equal(got, want)
        print("%-9s %s (Pillow mode %s)" % (name, "ok" if ok else "DIFFERS", im.mode))
        failures += not ok
    sys.exit(1 if failures else 0)
