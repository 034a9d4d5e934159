#!/usr/bin/python3
"""Writes the data-set test fixtures in this folder. Run from anywhere with
Debian's python3 (needs numpy; cv2 for the folder layout's expected pixels):

    /usr/bin/python3 tests/data/dataset/make_fixtures.py

Independent of libfer: the expected files come from numpy and OpenCV.

fer2013_small.csv       5 good rows, one with CRLF, columns in the usual order
fer2013_small.expected  per row: label byte, usage byte (1 Training,
                        2 PublicTest, 3 PrivateTest), 2304 pixel bytes
fer2013_reordered.csv   the same rows with columns Usage,pixels,emotion
fer2013_small.csv.gz    fer2013_small.csv compressed by Python's gzip
fer2013_truncated.csv.gz  its first half, for the truncation error
fer2013_bad.csv         good and malformed rows (see BAD_ROWS for lines)
folders/                class folders (non-alphabetical mapping, mixed case)
                        of PGM images of several sizes
folders.expected        per image, in the loader's order: label byte, then
                        the 6x6 area-resized pixels (cv2.INTER_AREA)
folders_colour/         colour PNG and JPEG-free BMP images (PIL) of one class
folders_colour.expected per image: the 6x6 gray (cv2.cvtColor, then
                        INTER_AREA) then the 6x6 R, G and B planes
"""
import gzip
import os
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
USAGE = {1: "Training", 2: "PublicTest", 3: "PrivateTest"}
rng = np.random.RandomState(2013)


def pixels_text(px):
    return " ".join(str(int(v)) for v in px)


def write_small():
    rows = [(3, 1), (0, 2), (6, 1), (1, 3), (5, 1)]
    images = [rng.randint(0, 256, 2304) for _ in rows]
    images[0][:3] = [0, 255, 7]  # the extremes appear
    with open(os.path.join(HERE, "fer2013_small.csv"), "w", newline="") as f:
        f.write("emotion,pixels,Usage\n")
        for i, ((label, usage), px) in enumerate(zip(rows, images)):
            end = "\r\n" if i == 2 else "\n"
            f.write("%d,%s,%s%s" % (label, pixels_text(px), USAGE[usage], end))
    with open(os.path.join(HERE, "fer2013_reordered.csv"), "w", newline="") as f:
        f.write("Usage,pixels,emotion\n")
        for (label, usage), px in zip(rows, images):
            f.write("%s,%s,%d\n" % (USAGE[usage], pixels_text(px), label))
    with open(os.path.join(HERE, "fer2013_small.csv"), "rb") as f:
        packed = gzip.compress(f.read(), mtime=0)
    with open(os.path.join(HERE, "fer2013_small.csv.gz"), "wb") as f:
        f.write(packed)
    with open(os.path.join(HERE, "fer2013_truncated.csv.gz"), "wb") as f:
        f.write(packed[: len(packed) // 2])
    with open(os.path.join(HERE, "fer2013_small.expected"), "wb") as f:
        for (label, usage), px in zip(rows, images):
            f.write(bytes([label, usage]) + bytes(px.astype(np.uint8)))


def small_pixels():
    # One-digit values keep the malformed-row fixture small.
    return rng.randint(0, 10, 2304)


# (line number, what the message must mention) for fer2013_bad.csv; line 1
# is the header, lines 2 and 9 are good.
BAD_ROWS = [
    (3, "2303 pixel values"),
    (4, "256"),
    (5, "emotion index 7"),
    (6, "Usage 'Validation'"),
    (7, "2 fields"),
    (8, "'x'"),
]


def write_bad():
    lines = ["emotion,pixels,Usage"]
    good = [(2, small_pixels()), (4, small_pixels())]
    lines.append("2,%s,Training" % pixels_text(good[0][1]))
    lines.append("1,%s,Training" % pixels_text(small_pixels()[:2303]))
    p = small_pixels(); p[100] = 256
    lines.append("1,%s,Training" % pixels_text(p))
    lines.append("7,%s,Training" % pixels_text(small_pixels()))
    lines.append("3,%s,Validation" % pixels_text(small_pixels()))
    lines.append("3,%s" % pixels_text(small_pixels()))
    text = pixels_text(small_pixels()).split(" ")
    text[5] = "x"
    lines.append("3,%s,PublicTest" % " ".join(text))
    lines.append("4,%s,PublicTest" % pixels_text(good[1][1]))
    with open(os.path.join(HERE, "fer2013_bad.csv"), "w", newline="") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(HERE, "fer2013_bad.expected"), "wb") as f:
        for label, px in good:
            f.write(bytes([label]) + bytes(px.astype(np.uint8)))


def write_pgm(path, img):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (img.shape[1], img.shape[0]))
        f.write(img.astype(np.uint8).tobytes())


# Folder names and the class each must map to in the CSV order (angry 0,
# disgust 1, fear 2, happy 3, sad 4, surprise 5, neutral 6): alphabetical
# order of the folders differs from the class order, and case varies.
FOLDERS = {"Surprise": 5, "angry": 0, "neutral": 6, "happy": 3}
SIZES = [(6, 6), (12, 12), (9, 7), (5, 8)]  # (width, height): same, down, odd, up


def write_folders():
    import cv2
    root = os.path.join(HERE, "folders")
    expected = []
    for name in sorted(FOLDERS, key=lambda s: s.encode()):
        os.makedirs(os.path.join(root, name), exist_ok=True)
        files = []
        for i, (w, h) in enumerate(SIZES[: 2 + len(name) % 3]):
            img = rng.randint(0, 256, (h, w)).astype(np.uint8)
            fname = "img_%d.pgm" % (3 - i)  # written out of order on purpose
            write_pgm(os.path.join(root, name, fname), img)
            files.append((fname, img))
        with open(os.path.join(root, name, "notes.txt"), "w") as f:
            f.write("not an image: the loader ignores it\n")
        for fname, img in sorted(files, key=lambda t: t[0].encode()):
            if img.shape != (6, 6):
                img = cv2.resize(img, (6, 6), interpolation=cv2.INTER_AREA)
            expected.append(bytes([FOLDERS[name]]) + img.tobytes())
    with open(os.path.join(HERE, "folders.expected"), "wb") as f:
        f.write(b"".join(expected))
    # A layout with a folder that is not a class.
    other = os.path.join(HERE, "folders_unknown")
    os.makedirs(os.path.join(other, "happy"), exist_ok=True)
    os.makedirs(os.path.join(other, "contempt"), exist_ok=True)
    write_pgm(os.path.join(other, "happy", "a.pgm"), rng.randint(0, 256, (6, 6)))
    write_pgm(os.path.join(other, "contempt", "b.pgm"), rng.randint(0, 256, (6, 6)))
    # A layout with an unreadable image.
    broken = os.path.join(HERE, "folders_broken")
    os.makedirs(os.path.join(broken, "sad"), exist_ok=True)
    write_pgm(os.path.join(broken, "sad", "good.pgm"), rng.randint(0, 256, (6, 6)))
    with open(os.path.join(broken, "sad", "truncated.pgm"), "wb") as f:
        f.write(b"P5\n6 6\n255\n" + bytes(10))


def write_colour():
    import cv2
    from PIL import Image
    root = os.path.join(HERE, "folders_colour", "fear")
    os.makedirs(root, exist_ok=True)
    out = []
    for name, (w, h) in (("a.png", (10, 8)), ("b.bmp", (6, 6)), ("c.png", (13, 17))):
        rgb = rng.randint(0, 256, (h, w, 3)).astype(np.uint8)
        Image.fromarray(rgb, "RGB").save(os.path.join(root, name))
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if (w, h) != (6, 6):
            gray = cv2.resize(gray, (6, 6), interpolation=cv2.INTER_AREA)
            rgb = cv2.resize(rgb, (6, 6), interpolation=cv2.INTER_AREA)
        out.append(gray.tobytes() + np.ascontiguousarray(rgb.transpose(2, 0, 1)).tobytes())
    with open(os.path.join(HERE, "folders_colour.expected"), "wb") as f:
        f.write(b"".join(out))


if __name__ == "__main__":
    write_small()
    write_bad()
    write_folders()
    write_colour()
