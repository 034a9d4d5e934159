#!/usr/bin/python3
"""Writes the JPEG decoder's fixtures into this folder.

Each NAME.jpg comes from another encoder (Pillow, OpenCV, ImageMagick, all
on libjpeg-turbo) and each reference next to it from Pillow's decoder
(libjpeg-turbo with its defaults):

  NAME.pgm / NAME.ppm  the pixels as Pillow decodes them (stored order, the
                       EXIF orientation is not applied)
  NAME.y.pgm           colour files only: the luma plane, decoded by Pillow
                       in YCbCr mode (no colour conversion)
  NAME.upright.ppm/pgm files with an EXIF orientation other than 1: the
                       pixels turned upright by Pillow's ImageOps.exif_transpose

manifest.txt has one line per fixture: name, orientation Pillow reads
from the EXIF block (1 when none), and the test's tolerance (0 = exact).
Files libfer must refuse are listed with tolerance "unsupported".

Needs Debian's python3-pil, python3-numpy, python3-opencv and ImageMagick's
`convert`. Run with /usr/bin/python3 from this folder; output is
deterministic for a given libjpeg-turbo.
"""
import io
import os
import struct
import subprocess
import sys

import cv2
import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))
manifest = []


def scene(width, height, channels, seed):
    """Smooth colour fields with sharp edges and a little noise: enough
    detail for every coefficient and for chroma upsampling to matter."""
    rng = np.random.RandomState(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(channels):
        fx, fy, phase = rng.uniform(0.05, 0.4), rng.uniform(0.05, 0.4), rng.uniform(0, 6)
        p = 128 + 90 * np.sin(fx * x + phase) * np.cos(fy * y + c)
        p += np.where((x // 7 + y // 5 + c) % 3 == 0, 60, -30)  # blocky edges
        p += rng.normal(0, 12, size=p.shape)
        planes.append(p)
    a = np.clip(np.stack(planes, axis=-1), 0, 255).astype(np.uint8)
    return Image.fromarray(a[:, :, 0] if channels == 1 else a, "L" if channels == 1 else "RGB")


def write_reference(name, data, orientation=1, tolerance="1"):
    path = os.path.join(HERE, name + ".jpg")
    with open(path, "wb") as f:
        f.write(data)
    im = Image.open(io.BytesIO(data))
    im.load()
    if im.mode == "L":
        im.save(os.path.join(HERE, name + ".pgm"))
    else:
        im.convert("RGB").save(os.path.join(HERE, name + ".ppm"))
        ycc = Image.open(io.BytesIO(data))
        ycc.draft("YCbCr", ycc.size)
        try:
            ycc.load()
            ycc.split()[0].save(os.path.join(HERE, name + ".y.pgm"))
        except OSError:
            pass  # R, G, B components: libjpeg has no luma plane to give
    exif_orientation = Image.open(io.BytesIO(data)).getexif().get(0x0112, 1)
    assert exif_orientation == orientation, (name, exif_orientation)
    if orientation != 1:
        upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
        upright.save(os.path.join(HERE, name + (".upright.pgm" if upright.mode == "L" else ".upright.ppm")))
    manifest.append("%s %d %s" % (name, orientation, tolerance))


def pillow(im, **options):
    b = io.BytesIO()
    im.save(b, "JPEG", **options)
    return b.getvalue()


def opencv(im, params):
    a = np.asarray(im)
    if a.ndim == 3:
        a = a[:, :, ::-1]  # OpenCV wants BGR
    ok, buf = cv2.imencode(".jpg", a, params)
    assert ok
    return buf.tobytes()


def imagemagick(im, *args):
    src = os.path.join(HERE, "_tmp_source.png")
    im.save(src)
    try:
        return subprocess.run(["convert", src, *args, "jpg:-"], check=True,
                              stdout=subprocess.PIPE).stdout
    finally:
        os.remove(src)


def segments(data):
    """Marker segments before SOS as (marker, payload), and the rest."""
    out, pos = [], 2
    while True:
        marker = data[pos + 1]
        length = struct.unpack(">H", data[pos + 2:pos + 4])[0]
        if marker == 0xDA:
            return out, data[pos:]
        out.append((marker, data[pos + 4:pos + 2 + length]))
        pos += 2 + length


def assemble(segs, rest):
    body = b"".join(bytes([0xFF, m]) + struct.pack(">H", len(p) + 2) + p for m, p in segs)
    return b"\xff\xd8" + body + rest


class BitWriter:
    def __init__(self):
        self.out, self.acc, self.n = bytearray(), 0, 0

    def put(self, value, length):
        for i in range(length - 1, -1, -1):
            self.acc = self.acc << 1 | (value >> i) & 1
            self.n += 1
            if self.n == 8:
                self.out.append(self.acc)
                if self.acc == 0xFF:
                    self.out.append(0)  # byte stuffing
                self.acc, self.n = 0, 0

    def flush(self):
        while self.n:
            self.put(1, 1)  # pad with 1 bits
        return bytes(self.out)


def huffman_codes(payload):
    """{(class, slot): {symbol: (code, length)}} from DHT payloads."""
    tables, p = {}, 0
    while p < len(payload):
        tc, th = payload[p] >> 4, payload[p] & 15
        counts = payload[p + 1:p + 17]
        symbols = payload[p + 17:p + 17 + sum(counts)]
        codes, code, k = {}, 0, 0
        for length in range(1, 17):
            for _ in range(counts[length - 1]):
                codes[symbols[k]] = (code, length)
                code, k = code + 1, k + 1
            code <<= 1
        tables[(tc, th)] = codes
        p += 17 + sum(counts)
    return tables


def magnitude(v):
    size = int(abs(v)).bit_length()
    return size, (v if v >= 0 else v + (1 << size) - 1)


def sequential_separate_scans(im, quality):
    """A sequential JPEG whose components are coded in three separate
    (non-interleaved) scans, which no encoder at hand writes. Quantization
    and Huffman tables come from a Pillow file of the same image; the DCT
    is done here in floating point."""
    segs, _ = segments(pillow(im, quality=quality, subsampling=2))
    dqt = b"".join(p for m, p in segs if m == 0xDB)
    qt, p = {}, 0
    while p < len(dqt):
        qt[dqt[p] & 15] = np.frombuffer(dqt[p + 1:p + 65], np.uint8).astype(np.float64)
        p += 65
    huff = huffman_codes(b"".join(p for m, p in segs if m == 0xC4))
    sof = [p for m, p in segs if m == 0xC0][0]
    ycc = np.asarray(im.convert("YCbCr")).astype(np.float64)
    height, width = ycc.shape[:2]
    n = np.arange(8)
    basis = np.cos((2 * n[None, :] + 1) * n[:, None] * np.pi / 16) * np.where(n == 0, np.sqrt(0.125), 0.5)[:, None]
    zigzag = sorted(((u, v) for u in range(8) for v in range(8)),
                    key=lambda t: (t[0] + t[1], t[1] if (t[0] + t[1]) % 2 == 0 else t[0]))
    scans = b""
    for ci in range(3):
        h, v, tq = sof[7 + 3 * ci] >> 4, sof[7 + 3 * ci] & 15, sof[8 + 3 * ci]
        plane = ycc[:, :, ci]
        if (h, v) != (2, 2):  # chroma: 2x2 averages, as the encoder does
            pad = np.pad(plane, ((0, height % 2), (0, width % 2)), mode="edge")
            plane = pad.reshape(pad.shape[0] // 2, 2, pad.shape[1] // 2, 2).mean(axis=(1, 3))
        cw, ch = -(-width * h // 2), -(-height * v // 2)
        bw, bh = -(-cw // 8), -(-ch // 8)
        plane = np.pad(plane[:ch, :cw], ((0, bh * 8 - ch), (0, bw * 8 - cw)), mode="edge")
        dc_codes, ac_codes = huff[(0, 0 if ci == 0 else 1)], huff[(1, 0 if ci == 0 else 1)]
        w, pred = BitWriter(), 0
        for by in range(bh):
            for bx in range(bw):
                block = plane[by * 8:by * 8 + 8, bx * 8:bx * 8 + 8] - 128
                coef = basis @ block @ basis.T
                q = qt[tq]  # DQT values are stored in zigzag order
                zz = [int(np.round(coef[u, vv] / q[k])) for k, (u, vv) in enumerate(zigzag)]
                size, bits = magnitude(zz[0] - pred)
                pred = zz[0]
                w.put(*dc_codes[size])
                w.put(bits, size)
                run = 0
                for k in range(1, 64):
                    if zz[k] == 0:
                        run += 1
                        continue
                    while run > 15:
                        w.put(*ac_codes[0xF0])
                        run -= 16
                    size, bits = magnitude(zz[k])
                    w.put(*ac_codes[run << 4 | size])
                    w.put(bits, size)
                    run = 0
                if run:
                    w.put(*ac_codes[0x00])
        cid = sof[6 + 3 * ci]
        tables = 0x00 if ci == 0 else 0x11
        sos = bytes([1, cid, tables, 0, 63, 0])
        scans += b"\xff\xda" + struct.pack(">H", len(sos) + 2) + sos + w.flush()
    return assemble(segs, scans + b"\xff\xd9")


def exif_block(orientation, big_endian):
    """APP1 payload: Exif header, TIFF header, IFD0 with one or two entries."""
    e = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    entries = [(0x010F, 2, 4, b"fer\0"),  # Make, an ASCII tag before it
               (0x0112, 3, 1, struct.pack(e + "H", orientation) + b"\0\0")]
    tiff += struct.pack(e + "H", len(entries))
    for tag, typ, count, value in entries:
        tiff += struct.pack(e + "HHI", tag, typ, count) + value
    tiff += struct.pack(e + "I", 0)
    return b"Exif\0\0" + tiff


def main():
    os.chdir(HERE)
    for f in os.listdir(HERE):
        if f.endswith((".jpg", ".pgm", ".ppm")):
            os.remove(f)

    # Gray, baseline, odd sizes.
    write_reference("gray_33x17", pillow(scene(33, 17, 1, 1), quality=90), tolerance="0")
    write_reference("gray_1x1", pillow(scene(1, 1, 1, 2), quality=90), tolerance="0")
    write_reference("gray_17x255", pillow(scene(17, 255, 1, 3), quality=75), tolerance="0")
    write_reference("gray_q100_optimized_40x40",
                    pillow(scene(40, 40, 1, 4), quality=100, optimize=True), tolerance="0")
    write_reference("gray_progressive_41x29",
                    pillow(scene(41, 29, 1, 5), quality=85, progressive=True), tolerance="0")
    write_reference("gray_restart_35x37",
                    opencv(scene(35, 37, 1, 6), [cv2.IMWRITE_JPEG_QUALITY, 80,
                                                 cv2.IMWRITE_JPEG_RST_INTERVAL, 3]),
                    tolerance="0")

    # Colour, every common sampling, odd sizes.
    for sub, label in ((0, "444"), (1, "422"), (2, "420")):
        write_reference("rgb%s_33x17" % label, pillow(scene(33, 17, 3, 10 + sub), quality=90,
                                                      subsampling=sub))
    write_reference("rgb420_1x1", pillow(scene(1, 1, 3, 20), quality=90, subsampling=2))
    write_reference("rgb420_2x3", pillow(scene(2, 3, 3, 21), quality=90, subsampling=2))
    write_reference("rgb422_4x2", pillow(scene(4, 2, 3, 22), quality=90, subsampling=1))
    write_reference("rgb420_17x255", pillow(scene(17, 255, 3, 23), quality=80, subsampling=2))
    write_reference("rgb420_64x48_q100_optimized",
                    pillow(scene(64, 48, 3, 24), quality=100, optimize=True, subsampling=2))
    write_reference("rgb440_33x17", imagemagick(scene(33, 17, 3, 25), "-quality", "90",
                                                "-sampling-factor", "1x2"))
    write_reference("rgb411_45x19", imagemagick(scene(45, 19, 3, 26), "-quality", "90",
                                                "-sampling-factor", "4x1"))
    write_reference("rgb_sampling3x2_50x21", imagemagick(scene(50, 21, 3, 27), "-quality", "90",
                                                         "-sampling-factor", "3x2"))
    write_reference("rgb_sampling1x4_19x50", imagemagick(scene(19, 50, 3, 28), "-quality", "90",
                                                         "-sampling-factor", "1x4"))

    # Progressive colour (spectral selection and successive approximation).
    write_reference("rgb420_progressive_61x45",
                    pillow(scene(61, 45, 3, 30), quality=90, progressive=True, subsampling=2))
    write_reference("rgb444_progressive_23x31",
                    pillow(scene(23, 31, 3, 31), quality=95, progressive=True, subsampling=0))
    write_reference("rgb420_progressive_restart_37x21",
                    opencv(scene(37, 21, 3, 32), [cv2.IMWRITE_JPEG_QUALITY, 90,
                                                  cv2.IMWRITE_JPEG_PROGRESSIVE, 1,
                                                  cv2.IMWRITE_JPEG_RST_INTERVAL, 2]))

    # Sequential, one scan per component (non-interleaved).
    write_reference("rgb420_three_scans_29x21", sequential_separate_scans(scene(29, 21, 3, 35), 90))

    # Restart markers in interleaved colour scans.
    write_reference("rgb420_restart_35x37",
                    opencv(scene(35, 37, 3, 33), [cv2.IMWRITE_JPEG_QUALITY, 85,
                                                  cv2.IMWRITE_JPEG_RST_INTERVAL, 1]))

    # 16-bit quantization tables (Pillow then writes an extended SOF1 frame).
    q16 = [[1 + i for i in range(64)], [250 + 4 * i for i in range(64)]]
    write_reference("rgb420_qtable16_24x24",
                    pillow(scene(24, 24, 3, 34), qtables=q16, subsampling=2))

    # EXIF orientation 1..8 (Pillow writes little-endian TIFF) and two
    # big-endian blocks written here.
    for o in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        write_reference("exif_orientation_%d" % o,
                        pillow(scene(12, 8, 3, 40 + o), quality=90, exif=exif.tobytes()),
                        orientation=o)
    for o in (3, 6):
        segs, rest = segments(pillow(scene(12, 8, 1, 50 + o), quality=90))
        segs.insert(1, (0xE1, exif_block(o, big_endian=True)))
        write_reference("exif_bigendian_%d" % o, assemble(segs, rest), orientation=o,
                        tolerance="0")

    # Three components that are R, G, B: told by an Adobe APP14 block with
    # transform 0 (and no JFIF block), or by the component ids 'R','G','B'.
    segs, rest = segments(pillow(scene(16, 16, 3, 60), quality=90, subsampling=0))
    segs = [s for s in segs if s[0] != 0xE0]
    adobe = b"Adobe" + struct.pack(">HHHB", 100, 0, 0, 0)
    write_reference("adobe_rgb_16x16", assemble([(0xEE, adobe)] + segs, rest), tolerance="0")
    segs, rest = segments(pillow(scene(16, 16, 3, 61), quality=90, subsampling=0))
    renamed = []
    for m, p in segs:
        if m == 0xE0:
            continue
        if m == 0xC0:
            p = bytearray(p)
            for i, cid in enumerate(b"RGB"):
                p[6 + 3 * i] = cid
            p = bytes(p)
        renamed.append((m, p))
    rest = bytearray(rest)
    for i, cid in enumerate(b"RGB"):  # SOS component ids follow its count byte
        rest[5 + 2 * i] = cid
    write_reference("ids_rgb_16x16", assemble(renamed, bytes(rest)), tolerance="0")

    # CMYK: libfer refuses it (FER_ERR_UNSUPPORTED); no reference pixels.
    cmyk = Image.fromarray(np.asarray(scene(8, 8, 3, 70)).repeat(2, axis=2)[:, :, :4], "CMYK")
    with open("cmyk_8x8.jpg", "wb") as f:
        f.write(pillow(cmyk, quality=90))
    manifest.append("cmyk_8x8 1 unsupported")

    with open("manifest.txt", "w") as f:
        f.write("\n".join(manifest) + "\n")
    total = sum(os.path.getsize(f) for f in os.listdir(HERE))
    print("%d fixtures, %d bytes in %s" % (len(manifest), total, HERE))


if __name__ == "__main__":
    sys.exit(main())
