#!/usr/bin/python3
"""Random restart-marker renumberings: libfer against Pillow (libjpeg-turbo).

Not part of `meson test` (it reports how often the two disagree rather than
passing or failing). Each trial takes one of the committed restart fixtures,
gives 1 to 3 of its RSTn markers a random number, and decodes the result
with Pillow and with libfer through the Python binding.

    LIBFER_LIBRARY=build/lib/libfer.so /usr/bin/python3 \
        tests/image/crosscheck_restarts.py [SEED] [TRIALS]
"""
import io
import os
import random
import sys

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bindings", "python"))
import libfer  # noqa: E402

FIXTURES = os.path.join(ROOT, "tests", "data", "jpeg")
SOURCES = ["rgb420_restart_35x37", "gray_restart_35x37", "rgb420_progressive_restart_37x21"]


def main():
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    trials = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    compared = differ = refused = 0
    for _ in range(trials):
        source = rng.choice(SOURCES)
        with open(os.path.join(FIXTURES, source + ".jpg"), "rb") as f:
            data = bytearray(f.read())
        sos = data.index(b"\xff\xda")
        markers = [i + 1 for i in range(sos, len(data) - 1)
                   if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7]
        for _ in range(rng.randint(1, 3)):
            data[rng.choice(markers)] = 0xD0 + rng.randrange(8)
        try:
            ref = np.asarray(Image.open(io.BytesIO(bytes(data)))).astype(int)
        except Exception:  # Pillow refused it: nothing to compare
            continue
        compared += 1
        try:
            got = libfer.Image.decode(bytes(data)).to_array().astype(int).reshape(ref.shape)
        except libfer.LibferError as e:
            refused += 1
            print("libfer refused", source, e)
            continue
        if (got != ref).any():
            differ += 1
            print("differs", source, int(np.abs(got - ref).max()),
                  " ".join("%x" % data[p] for p in markers))
    print("%d compared, %d differ, %d refused by libfer" % (compared, differ, refused))


if __name__ == "__main__":
    main()
