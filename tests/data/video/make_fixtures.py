#!/usr/bin/python3
"""Writes the Y4M test fixtures of tests/analyze/test_y4m.c and, beside each,
the pixels an independent decoder gives for it.

References: OpenCV's cvtColor(COLOR_YUV2RGB_I420) for even-sized colour
frames, and the BT.601 limited-range formulas evaluated in floating point
with numpy for odd sizes, mono and the writer (RGB -> I420 with 2x2 chroma
averaging). The Y4M files are written byte by byte here, not by libfer.
Deterministic (fixed seed); run from anywhere:

    /usr/bin/python3 tests/data/video/make_fixtures.py
"""
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261122)


def chroma_side(n):
    return (n + 1) // 2


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def y4m(header_tags, frames, frame_lines=None):
    """frames: list of (Y, U, V) uint8 arrays (U, V None for mono)."""
    out = bytearray(b"YUV4MPEG2 " + header_tags.encode() + b"\n")
    for i, planes in enumerate(frames):
        out += (frame_lines[i] if frame_lines else "FRAME").encode() + b"\n"
        for p in planes:
            if p is not None:
                out += p.astype(np.uint8).tobytes()
    return bytes(out)


def rgb_from_yuv_float(y, u, v):
    """BT.601 limited range, chroma replicated over its 2x2 block; luma below
    16 counts as 16 (as OpenCV does)."""
    h, w = y.shape
    uu = np.repeat(np.repeat(u, 2, 0), 2, 1)[:h, :w].astype(np.float64) - 128
    vv = np.repeat(np.repeat(v, 2, 0), 2, 1)[:h, :w].astype(np.float64) - 128
    yy = np.maximum(y.astype(np.float64) - 16, 0) * 255.0 / 219.0
    r = yy + 1.596027 * vv
    g = yy - 0.391762 * uu - 0.812968 * vv
    b = yy + 2.017232 * uu
    rgb = np.stack([r, g, b], axis=-1)
    return np.clip(np.floor(rgb + 0.5), 0, 255).astype(np.uint8)


def random_planes(w, h, lo=0, hi=256):
    cw, ch = chroma_side(w), chroma_side(h)
    return (rng.integers(lo, hi, (h, w), dtype=np.uint8),
            rng.integers(lo, hi, (ch, cw), dtype=np.uint8),
            rng.integers(lo, hi, (ch, cw), dtype=np.uint8))


# 1. Even size, every byte value (legal range and beyond); reference: OpenCV.
import cv2  # noqa: E402

frames = [random_planes(20, 14) for _ in range(2)]
write("rand_20x14.y4m", y4m("W20 H14 F30000:1001 Ip A1:1 C420jpeg", frames))
ref = b""
for y, u, v in frames:
    i420 = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(21, 20)
    ref += cv2.cvtColor(i420, cv2.COLOR_YUV2RGB_I420).tobytes()
write("rand_20x14.rgb", ref)

# 2. Odd size, C420paldv, tags in another order with X tags and an unknown
# tag, FRAME lines with parameters; reference: the float formula.
frames = [random_planes(15, 9, 16, 241) for _ in range(2)]
write("odd_15x9.y4m",
      y4m("C420paldv XYSCSS=420PALDV H9 A128:117 Zfuture F25:1 W15 It XCOLORRANGE=LIMITED",
          frames, ["FRAME Ip XFOO=bar", "FRAME"]))
write("odd_15x9.rgb", b"".join(rgb_from_yuv_float(*f).tobytes() for f in frames))

# 3. Mono, no F or A tag; reference: gray = round((Y - 16) * 255 / 219).
mono = [rng.integers(0, 256, (7, 11), dtype=np.uint8) for _ in range(3)]
write("mono_11x7.y4m", y4m("W11 H7 Cmono", [(m, None, None) for m in mono]))
write("mono_11x7.gray", b"".join(
    np.clip(np.floor((np.maximum(m.astype(np.float64) - 16, 0)) * 255 / 219 + 0.5),
            0, 255).astype(np.uint8).tobytes() for m in mono))

# 4. The writer: random RGB in, the I420 an independent encoder makes out
# (chroma: the average of the 2, 4 or 1 pixels of each block).
w, h = 13, 11
rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
write("writer_in_13x11.rgb", rgb.tobytes())
f = rgb.astype(np.float64)
R, G, B = f[..., 0], f[..., 1], f[..., 2]
Y = 16 + (65.481 * R + 128.553 * G + 24.966 * B) / 255
U = 128 + (-37.797 * R - 74.203 * G + 112.0 * B) / 255
V = 128 + (112.0 * R - 93.786 * G - 18.214 * B) / 255


def block_mean(p):
    ch, cw = chroma_side(h), chroma_side(w)
    out = np.zeros((ch, cw))
    for cy in range(ch):
        for cx in range(cw):
            out[cy, cx] = p[2 * cy:2 * cy + 2, 2 * cx:2 * cx + 2].mean()
    return out


def to_u8(p):
    return np.clip(np.floor(p + 0.5), 0, 255).astype(np.uint8)


write("writer_out_13x11.y4m",
      y4m("W13 H11 F25:1 Ip A1:1 C420jpeg",
          [(to_u8(Y), to_u8(block_mean(U)), to_u8(block_mean(V)))]))
