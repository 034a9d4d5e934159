#!/usr/bin/python3
"""Writes the PNG decoder fixtures: PNG files made by independent encoders
(PIL and ImageMagick's convert, i.e. libpng) and, next to each, the pixels
PIL decodes from it as a raw file (rows top to bottom, 8-bit gray or R,G,B).

Reference conventions (the decoder follows the same ones):
  - gray and gray+alpha give 1 channel; RGB, RGBA and palette give 3;
  - alpha (channel or tRNS) is dropped, as PIL's convert("RGB"/"L") does;
  - 16-bit samples keep their high byte: PIL's RGB;16B, LA;16B and RGBA;16B
    raw modes do so; PIL opens 16-bit gray as 32-bit mode "I" with the full
    value, so for gray the reference is that value >> 8.

Run from anywhere: /usr/bin/python3 tests/data/png/make_fixtures.py
It rewrites the *.png, *.raw and manifest.txt in this folder and checks
that every colour type / depth / interlace combination, and all five row
filters, are covered.
"""
import os
import struct
import subprocess
import tempfile
import zlib

import numpy as np
from PIL import Image, PngImagePlugin

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261122)


def pattern(w, h, channels, maxval=255):
    """Smooth gradients plus a little noise: every filter has a use."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    planes = []
    for c in range(channels):
        base = (x * (3 + c) + y * (5 - c)) / (w * 3 + h * 5) * maxval
        wave = np.sin((x + 2 * c) / 3.0) * np.cos(y / 4.0) * maxval * 0.15
        noise = rng.integers(0, max(2, maxval // 40), size=(h, w))
        planes.append(np.clip(base + wave + noise, 0, maxval))
    out = np.stack(planes, axis=-1) if channels > 1 else planes[0]
    return out.astype(np.uint16 if maxval > 255 else np.uint8)


def convert(args):
    subprocess.run(["convert"] + args, check=True)


def magick(name, arr, depth, mode, color_type, bit_depth, extra=()):
    """Writes arr (uint8 or uint16, big-endian raw) through ImageMagick."""
    h, w = arr.shape[:2]
    raw = arr.astype(">u2").tobytes() if depth == 16 else arr.tobytes()
    with tempfile.NamedTemporaryFile(suffix=".raw") as f:
        f.write(raw)
        f.flush()
        convert(["-size", "%dx%d" % (w, h), "-depth", str(depth),
                 "-endian", "MSB", "%s:%s" % (mode, f.name)] + list(extra) +
                ["-define", "png:color-type=%d" % color_type,
                 "-define", "png:bit-depth=%d" % bit_depth,
                 os.path.join(HERE, name)])


def reference(path, ctype):
    im = Image.open(path)
    im.load()
    if im.mode in ("I", "I;16", "I;16B"):
        return (np.array(im).astype(np.uint32) >> 8).astype(np.uint8), 1
    if im.mode in ("1", "L", "LA"):
        return np.array(im.convert("L")), 1
    rgb = np.array(im.convert("RGB"))
    if ctype in (0, 4):  # PIL opens 16-bit gray+alpha as RGBA with R=G=B
        assert (rgb[:, :, 0] == rgb[:, :, 1]).all() and (rgb[:, :, 0] == rgb[:, :, 2]).all()
        return rgb[:, :, 0], 1
    return rgb, 3


def png_chunks(data):
    pos = 8
    while pos < len(data):
        (n,) = struct.unpack(">I", data[pos:pos + 4])
        yield data[pos + 4:pos + 8], data[pos + 8:pos + 8 + n]
        pos += 12 + n


def chunk(kind, body):
    return (struct.pack(">I", len(body)) + kind + body +
            struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def split_idat(name, piece):
    """Re-chunks a file's IDAT stream into many small IDAT chunks."""
    path = os.path.join(HERE, name)
    data = open(path, "rb").read()
    out = data[:8]
    stream = b"".join(b for k, b in png_chunks(data) if k == b"IDAT")
    done = False
    for kind, body in png_chunks(data):
        if kind == b"IDAT":
            if not done:
                for i in range(0, len(stream), piece):
                    out += chunk(b"IDAT", stream[i:i + piece])
                done = True
        else:
            out += chunk(kind, body)
    open(path, "wb").write(out)


def row_filters(path):
    """The filter byte of every row (all passes) of a PNG."""
    data = open(path, "rb").read()
    chunks = list(png_chunks(data))
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    samples = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[ctype]
    raw = zlib.decompress(b"".join(b for k, b in chunks if k == b"IDAT"))
    passes = [(0, 0, 1, 1)] if not interlace else [
        (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4),
        (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]
    found, pos = set(), 0
    for x0, y0, dx, dy in passes:
        pw = (w - x0 + dx - 1) // dx if w > x0 else 0
        ph = (h - y0 + dy - 1) // dy if h > y0 else 0
        if pw == 0:
            continue
        row = (pw * samples * depth + 7) // 8
        for _ in range(ph):
            found.add(raw[pos])
            pos += 1 + row
    return (w, h, ctype, depth, interlace), found


def main():
    for f in os.listdir(HERE):
        if f.endswith(".png") or f.endswith(".raw"):
            os.remove(os.path.join(HERE, f))
    made = []  # (name, expected colour type, depth, interlace)

    def pil(name, im, ctype, depth, interlace=0, **kw):
        im.save(os.path.join(HERE, name), **kw)
        made.append((name, ctype, depth, interlace))

    def im6(name, arr, depth, mode, ctype, bits, interlace=0, extra=()):
        extra = list(extra) + (["-interlace", "PNG"] if interlace else [])
        magick(name, arr, depth, mode, ctype, bits, extra)
        made.append((name, ctype, bits, interlace))

    # PIL: 8-bit and 1-bit gray, RGB, RGBA, LA, palettes, tRNS, 16-bit gray.
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "ancillary chunks are ignored")
    pil("gray8_37x23.png", Image.fromarray(pattern(37, 23, 1)), 0, 8, pnginfo=info)
    pil("gray1_37x23.png", Image.fromarray(pattern(37, 23, 1) > 120).convert("1"), 0, 1)
    pil("rgb8_37x23.png", Image.fromarray(pattern(37, 23, 3)), 2, 8)
    pil("rgba8_37x23.png", Image.fromarray(pattern(37, 23, 4)), 6, 8)
    pil("la8_21x13.png", Image.fromarray(pattern(21, 13, 2), "LA"), 4, 8)
    pil("gray16_29x17.png", Image.fromarray(pattern(29, 17, 1, 65535)), 0, 16)
    rgb = Image.fromarray(pattern(40, 30, 3))
    pil("pal8_40x30.png", rgb.quantize(200), 3, 8)
    pil("pal8_trns_40x30.png", rgb.quantize(100), 3, 8, transparency=7)
    pil("pal4_33x17.png", rgb.resize((33, 17)).quantize(16), 3, 4, bits=4)
    pil("pal2_19x11.png", rgb.resize((19, 11)).quantize(4), 3, 2, bits=2)
    pil("pal1_13x7.png", rgb.resize((13, 7)).quantize(2), 3, 1, bits=1)
    pil("multi_idat_rgb8_48x32.png", Image.fromarray(pattern(48, 32, 3)), 2, 8)
    split_idat("multi_idat_rgb8_48x32.png", 97)

    # ImageMagick (libpng): low-depth gray, 16-bit colour, Adam7, filters.
    im6("gray2_37x23.png", pattern(37, 23, 1), 8, "gray", 0, 2)
    im6("gray4_37x23.png", pattern(37, 23, 1), 8, "gray", 0, 4)
    rgb16 = pattern(37, 23, 3, 65535)
    im6("rgb16_37x23.png", rgb16, 16, "rgb", 2, 16)
    im6("rgba16_23x19.png", pattern(23, 19, 4, 65535), 16, "rgba", 6, 16)
    im6("la16_17x9.png", pattern(17, 9, 2, 65535)[:, :, [0, 0, 0, 1]], 16,
        "rgba", 4, 16)
    im6("adam7_rgb8_37x23.png", pattern(37, 23, 3), 8, "rgb", 2, 8, 1)
    im6("adam7_gray8_9x7.png", pattern(9, 7, 1), 8, "gray", 0, 8, 1)
    im6("adam7_gray1_35x21.png", ((pattern(35, 21, 1) > 120) * 255).astype(np.uint8), 8, "gray", 0, 1, 1)
    im6("adam7_gray4_13x11.png", pattern(13, 11, 1), 8, "gray", 0, 4, 1)
    im6("adam7_rgba16_11x13.png", pattern(11, 13, 4, 65535), 16, "rgba", 6, 16, 1)
    im6("adam7_gray8_1x1.png", pattern(1, 1, 1), 8, "gray", 0, 8, 1)
    im6("adam7_rgb8_3x2.png", pattern(3, 2, 3), 8, "rgb", 2, 8, 1)
    for f, label in enumerate(["none", "sub", "up", "average", "paeth"]):
        im6("filter_%s_rgb8_31x9.png" % label, pattern(31, 9, 3), 8, "rgb", 2, 8,
            extra=["-quality", str(90 + f)])

    manifest = ["# name width height channels colour_type depth interlace"]
    all_filters = set()
    for name, ctype, depth, interlace in made:
        path = os.path.join(HERE, name)
        (w, h, got_type, got_depth, got_interlace), filters = row_filters(path)
        if (got_type, got_depth, got_interlace) != (ctype, depth, interlace):
            raise SystemExit("%s: wrote type %d depth %d interlace %d, wanted %s"
                             % (name, got_type, got_depth, got_interlace,
                                (ctype, depth, interlace)))
        all_filters |= filters
        pixels, channels = reference(path, ctype)
        assert pixels.shape[:2] == (h, w), name
        open(path[:-4] + ".raw", "wb").write(pixels.astype(np.uint8).tobytes())
        manifest.append("%s %d %d %d %d %d %d" % (name, w, h, channels, ctype,
                                                   depth, interlace))
    # PIL reduces 16-bit colour samples to their high byte (not rounding).
    got = reference(os.path.join(HERE, "rgb16_37x23.png"), 2)[0]
    if not (got == (rgb16 >> 8)).all():
        raise SystemExit("PIL does not take the high byte of 16-bit samples")
    if all_filters != {0, 1, 2, 3, 4}:
        raise SystemExit("filters covered: %s" % sorted(all_filters))
    open(os.path.join(HERE, "manifest.txt"), "w").write("\n".join(manifest) + "\n")
    print("wrote %d fixtures" % len(made))


if __name__ == "__main__":
    main()
