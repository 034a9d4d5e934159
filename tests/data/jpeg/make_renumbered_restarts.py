#!/usr/bin/python3
"""Restart markers with the wrong numbers, and what libjpeg-turbo makes of them.

Each fixture is a committed JPEG that has restart markers (written by
OpenCV's libjpeg-turbo, see generate.py) with one or more RSTn markers
renumbered by editing their second byte; nothing else changes. Beside each
one, the pixels Pillow (libjpeg-turbo, islow IDCT, fancy upsampling)
decodes from the damaged file, as .ppm or .pgm: test_jpeg_restarts.c must
give exactly those.

libjpeg-turbo's resynchronisation (jdmarker.c, jpeg_resync_to_restart),
with n the number due:
  - RST(n+1) or RST(n+2): data was lost; the marker stays unread and the
    intervals before it decode as empty;
  - RST(n-1) or RST(n-2): a marker already seen; its data is skipped up to
    the next marker, which is judged again;
  - any other RSTn: taken as if it were the one due.

Run from anywhere: /usr/bin/python3 make_renumbered_restarts.py
"""
import os

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def restart_positions(data):
    """Offsets of the second byte of every RSTn after the first SOS."""
    sos = data.index(b"\xff\xda")
    found = []
    for i in range(sos, len(data) - 1):
        if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7:
            found.append(i + 1)
    return found


def renumber(source, name, changes):
    """Writes <name>.jpg: `source`.jpg with RST marker k (0-based, in file
    order) given number changes[k], and <name>.ppm/.pgm as Pillow reads it."""
    with open(os.path.join(HERE, source + ".jpg"), "rb") as f:
        data = bytearray(f.read())
    positions = restart_positions(data)
    for index, number in changes.items():
        data[positions[index]] = 0xD0 + (number & 7)
    path = os.path.join(HERE, name + ".jpg")
    with open(path, "wb") as f:
        f.write(data)
    with Image.open(path) as im:
        im.load()
        ext = ".pgm" if im.mode == "L" else ".ppm"
        im.save(os.path.join(HERE, name + ext))
    print(name, len(positions), "markers, changed", changes)


def main():
    # rgb420_restart_35x37: a restart after every 16x16 MCU, 9 MCUs, so the
    # 8 markers are RST0..RST7 in order.
    src = "rgb420_restart_35x37"
    renumber(src, "restart_ahead1_35x37", {2: 3})   # due 2, found 3
    renumber(src, "restart_ahead2_35x37", {2: 4})   # due 2, found 4
    renumber(src, "restart_behind1_35x37", {4: 3})  # due 4, found 3 (seen)
    renumber(src, "restart_far_35x37", {2: 6})      # due 2, found 6: taken
    renumber(src, "restart_rotated_35x37",          # every one 3 ahead: taken
             {k: k + 3 for k in range(8)})
    # gray_restart_35x37: every 3 MCUs; the last marker one ahead, so the
    # scan ends on a marker that was never taken.
    renumber("gray_restart_35x37", "restart_gray_last_ahead1_35x37", {7: 0})
    # The last marker one behind: skipped, up to the EOI, where a restart
    # was due; the last interval is empty.
    renumber("gray_restart_35x37", "restart_gray_last_behind1_35x37", {7: 6})
    # A progressive file: an empty interval keeps what earlier scans gave.
    renumber("rgb420_progressive_restart_37x21", "restart_progressive_ahead1_37x21",
             {5: 4})  # due 3, found 4
    # Two wrong numbers in earlier scans: a later refinement scan reads its
    # bits out of step and runs into the EOI; the rest stays as it was.
    renumber("rgb420_progressive_restart_37x21", "restart_progressive_runs_out_37x21",
             {19: 0, 23: 6})


if __name__ == "__main__":
    main()
