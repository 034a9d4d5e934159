#!/usr/bin/python3
"""Writes the image test fixtures with encoders and decoders independent of
libfer: Pillow, ImageMagick's `convert`, OpenCV and a few hand-built files
(each checked against Pillow's decoder here). Run from anywhere:

    /usr/bin/python3 tests/data/image/make_fixtures.py

Outputs, all in this folder:
  codec/*.pnm|pbm|pgm|ppm|bmp   files to decode
  codec/*.rgb                    Pillow's decoding of each, as raw R,G,B rows
  codec/manifest.txt             file width height channels reference
  yuv/*                          OpenCV YUV <-> RGB conversions
  gray/*                         OpenCV RGB -> gray
  resize/*                       OpenCV resizes of procedural images
  orient/*                       Pillow's EXIF transposes of a small image
"""
import os
import struct
import subprocess

import cv2
import numpy as np
from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))


def out(*parts):
    path = os.path.join(HERE, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def sample_rgb(w=13, h=7):
    """A small colourful picture: gradients plus a few saturated pixels."""
    y, x = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = (x * 255 // (w - 1)).astype(np.uint8)
    img[..., 1] = (y * 255 // (h - 1)).astype(np.uint8)
    img[..., 2] = ((x * 37 + y * 91) % 256).astype(np.uint8)
    img[0, 0] = (255, 255, 255)
    img[h - 1, w - 1] = (0, 0, 0)
    img[1, 2] = (255, 0, 0)
    return img


# ---------------------------------------------------------------- codecs
manifest = []


def reference(name, file_path, channels, decoder="pillow"):
    """Pillow (or ImageMagick) decodes `file_path`; its RGB pixels become the
    reference. 16-bit BMPs use ImageMagick, which widens 5-bit fields by
    repeating their bits (as libfer does) where Pillow rounds them down."""
    im = Image.open(file_path)
    if decoder == "imagemagick":
        raw = subprocess.run(["convert", file_path, "-depth", "8", "rgb:-"],
                             check=True, stdout=subprocess.PIPE).stdout
        w, h = im.size
        ref = np.frombuffer(raw, np.uint8).reshape(h, w, 3)
        # The two decoders agree up to that rounding.
        assert np.abs(ref.astype(int) - np.asarray(im.convert("RGB"))).max() <= 1
        ref.tofile(out("codec", name + ".rgb"))
        manifest.append("%s %d %d %d %s.rgb" % (os.path.basename(file_path), w, h,
                                               channels, name))
        return
    if im.mode == "P" and file_path.endswith(".bmp"):
        # libfer's rule: a palette of grays decodes to one channel.
        pal = np.array(im.getpalette()).reshape(-1, 3)
        gray = bool(np.all(pal[:, 0] == pal[:, 1]) and np.all(pal[:, 1] == pal[:, 2]))
        assert channels == (1 if gray else 3), file_path
    rgb = np.asarray(im.convert("RGB"))
    if im.mode in ("I", "I;16", "I;16B"):
        raise RuntimeError("16-bit references are computed separately")
    rgb.tofile(out("codec", name + ".rgb"))
    h, w = rgb.shape[:2]
    manifest.append("%s %d %d %d %s.rgb" % (os.path.basename(file_path), w, h,
                                           channels, name))


def im_convert(src_png, args, dst):
    subprocess.run(["convert", src_png] + args + [dst], check=True)


def make_codec_fixtures():
    rgb = sample_rgb()
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    src_png = out("codec", "_source.png")
    Image.fromarray(rgb).save(src_png)
    gray_png = out("codec", "_gray.png")
    Image.fromarray(gray).save(gray_png)

    # PNM written by Pillow (binary) and ImageMagick (ASCII, 16-bit).
    Image.fromarray(rgb).save(out("codec", "pil_p6.ppm"))
    reference("pil_p6", out("codec", "pil_p6.ppm"), 3)
    Image.fromarray(gray).save(out("codec", "pil_p5.pgm"))
    reference("pil_p5", out("codec", "pil_p5.pgm"), 1)
    Image.fromarray(gray).convert("1").save(out("codec", "pil_p4.pbm"))
    reference("pil_p4", out("codec", "pil_p4.pbm"), 1)
    im_convert(src_png, ["-compress", "none"], out("codec", "im_p3.ppm"))
    reference("im_p3", out("codec", "im_p3.ppm"), 3)
    im_convert(gray_png, ["-compress", "none"], out("codec", "im_p2.pgm"))
    reference("im_p2", out("codec", "im_p2.pgm"), 1)
    im_convert(gray_png, ["-threshold", "50%", "-compress", "none"],
               out("codec", "im_p1.pbm"))
    reference("im_p1", out("codec", "im_p1.pbm"), 1)

    # 16-bit PGM and a PPM with maxval 1000 and comments everywhere in the
    # header: references from the netpbm rule round(v * 255 / maxval).
    im_convert(gray_png, ["-depth", "16"], out("codec", "im_p5_16bit.pgm"))
    with open(out("codec", "im_p5_16bit.pgm"), "rb") as f:
        data = f.read()
    assert data.startswith(b"P5\n13 7\n65535\n"), data[:20]
    v16 = np.frombuffer(data[-13 * 7 * 2:], ">u2").reshape(7, 13).astype(np.int64)
    ref = (v16 * 255 + 65535 // 2) // 65535
    np.repeat(ref[..., None], 3, 2).astype(np.uint8).tofile(out("codec", "im_p5_16bit.rgb"))
    manifest.append("im_p5_16bit.pgm 13 7 1 im_p5_16bit.rgb")

    v1000 = (rgb.astype(np.int64) * 1000 + 127) // 255
    v1000[3, 4] = (1000, 999, 1)
    header = b"P6 # comment after the magic\n#a full comment line\n13\t# w\n 7\r\n#x\n1000\n"
    with open(out("codec", "hand_p6_maxval1000.ppm"), "wb") as f:
        f.write(header + v1000.astype(">u2").tobytes())
    ref = (v1000 * 255 + 500) // 1000
    ref.astype(np.uint8).tofile(out("codec", "hand_p6_maxval1000.rgb"))
    manifest.append("hand_p6_maxval1000.ppm 13 7 3 hand_p6_maxval1000.rgb")
    # Cross-check the hand-made file against Pillow where it can read it.
    assert np.array_equal(np.asarray(Image.open(out("codec", "hand_p6_maxval1000.ppm")).convert("RGB")), ref)

    # BMP written by Pillow.
    Image.fromarray(rgb).save(out("codec", "pil_24.bmp"))
    reference("pil_24", out("codec", "pil_24.bmp"), 3)
    Image.fromarray(gray).save(out("codec", "pil_8gray.bmp"))
    reference("pil_8gray", out("codec", "pil_8gray.bmp"), 1)
    Image.fromarray(rgb).quantize(200).save(out("codec", "pil_8pal.bmp"))
    reference("pil_8pal", out("codec", "pil_8pal.bmp"), 3)
    Image.fromarray(gray).convert("1").save(out("codec", "pil_1.bmp"))
    reference("pil_1", out("codec", "pil_1.bmp"), 1)

    # BMP written by ImageMagick: V3 (40-byte) 4-bit and 1-bit palettes,
    # RLE8, OS/2 core headers, V5 bitfields.
    im_convert(src_png, ["-colors", "16"], "BMP3:" + out("codec", "im_4.bmp"))
    reference("im_4", out("codec", "im_4.bmp"), 3)
    im_convert(src_png, ["-colors", "2", "-type", "palette"], "BMP3:" + out("codec", "im_1.bmp"))
    reference("im_1", out("codec", "im_1.bmp"), 3)
    im_convert(src_png, ["-colors", "60", "-compress", "RLE"], "BMP3:" + out("codec", "im_rle8.bmp"))
    reference("im_rle8", out("codec", "im_rle8.bmp"), 3)
    im_convert(src_png, ["-colors", "60", "-compress", "RLE"], "BMP:" + out("codec", "im_rle8_v5.bmp"))
    reference("im_rle8_v5", out("codec", "im_rle8_v5.bmp"), 3)
    im_convert(src_png, [], "BMP2:" + out("codec", "im_core24.bmp"))
    reference("im_core24", out("codec", "im_core24.bmp"), 3)
    im_convert(src_png, ["-colors", "12", "-type", "palette"], "BMP2:" + out("codec", "im_core4.bmp"))
    reference("im_core4", out("codec", "im_core4.bmp"), 3)
    im_convert(src_png, ["-define", "bmp:subtype=RGB565"], "BMP:" + out("codec", "im_565_v5.bmp"))
    reference("im_565_v5", out("codec", "im_565_v5.bmp"), 3, "imagemagick")
    im_convert(src_png, ["-define", "bmp:subtype=RGB555"], "BMP:" + out("codec", "im_555_v5.bmp"))
    reference("im_555_v5", out("codec", "im_555_v5.bmp"), 3, "imagemagick")
    im_convert(src_png, ["-alpha", "set", "-define", "bmp:subtype=ARGB8888"],
               "BMP:" + out("codec", "im_32_v5.bmp"))
    reference("im_32_v5", out("codec", "im_32_v5.bmp"), 3)
    im_convert(src_png, [], "BMP:" + out("codec", "im_24_v5.bmp"))
    reference("im_24_v5", out("codec", "im_24_v5.bmp"), 3)
    make_hand_bmps(rgb, gray)

    with open(out("codec", "manifest.txt"), "w") as f:
        f.write("# file width height channels reference (written by make_fixtures.py)\n")
        f.write("\n".join(manifest) + "\n")
    os.remove(src_png)
    os.remove(gray_png)


def bmp_file(info_header, palette, pixels):
    offset = 14 + len(info_header) + len(palette)
    return (b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) +
            info_header + palette + pixels)


def info40(w, h, bpp, compression, image_size=0, colours=0):
    return struct.pack("<IiiHHIIiiII", 40, w, h, 1, bpp, compression,
                       image_size, 2835, 2835, colours, 0)


def padded_rows(rows):
    return b"".join(r + b"\0" * (-len(r) % 4) for r in rows)


def rle4_encode(indices):
    """RLE4 with both run and literal codes (each row: a literal run of the
    first four pixels, then runs), end-of-line after each row."""
    h, w = indices.shape
    data = bytearray()
    for row in indices[::-1]:
        row = list(int(v) for v in row)
        lit = row[:4]
        data += bytes([0, len(lit)])
        packed = bytes((lit[i] << 4) | (lit[i + 1] if i + 1 < len(lit) else 0)
                       for i in range(0, len(lit), 2))
        data += packed + b"\0" * (len(packed) & 1)
        x = 4
        while x < w:
            n = 1
            while x + n < w and n < 9 and row[x + n] == row[x]:
                n += 1
            data += bytes([n, (row[x] << 4) | row[x]])
            x += n
        data += b"\0\0"
    data += b"\0\1"
    return bytes(data)


def check_with_pillow(path, expected_rgb):
    got = np.asarray(Image.open(path).convert("RGB"))
    assert np.array_equal(got, expected_rgb), path


def make_hand_bmps(rgb, gray):
    h, w = rgb.shape[:2]
    bgr_rows = [rgb[y, :, ::-1].tobytes() for y in range(h)]

    # Top-down 24-bit: negative height, rows stored top first.
    path = out("codec", "hand_24_topdown.bmp")
    with open(path, "wb") as f:
        f.write(bmp_file(info40(w, -h, 24, 0), b"", padded_rows(bgr_rows)))
    check_with_pillow(path, rgb)
    reference("hand_24_topdown", path, 3)

    # 16-bit BI_RGB (5-5-5), bottom-up.
    q = (rgb >> 3).astype(np.uint16)
    v555 = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
    rows = [v555[y].astype("<u2").tobytes() for y in range(h - 1, -1, -1)]
    path = out("codec", "hand_16_555.bmp")
    with open(path, "wb") as f:
        f.write(bmp_file(info40(w, h, 16, 0), b"", padded_rows(rows)))
    reference("hand_16_555", path, 3, "imagemagick")

    # 32-bit BI_RGB (B, G, R, unused).
    bgrx = np.concatenate([rgb[..., ::-1], np.full((h, w, 1), 7, np.uint8)], 2)
    rows = [bgrx[y].tobytes() for y in range(h - 1, -1, -1)]
    path = out("codec", "hand_32_rgb.bmp")
    with open(path, "wb") as f:
        f.write(bmp_file(info40(w, h, 32, 0), b"", padded_rows(rows)))
    check_with_pillow(path, rgb)
    reference("hand_32_rgb", path, 3)

    # 32-bit BI_BITFIELDS with a 40-byte header (masks after it), the
    # colour in the top three bytes (one of the layouts Pillow reads).
    masks = struct.pack("<III", 0xFF000000, 0x00FF0000, 0x0000FF00)
    rgbx = np.concatenate([np.zeros((h, w, 1), np.uint8), rgb[..., ::-1]], 2)
    rows = [rgbx[y].tobytes() for y in range(h - 1, -1, -1)]
    path = out("codec", "hand_32_bitfields.bmp")
    with open(path, "wb") as f:
        f.write(bmp_file(info40(w, h, 32, 3), masks, padded_rows(rows)))
    check_with_pillow(path, rgb)
    reference("hand_32_bitfields", path, 3)

    # 8-bit with a short palette (5 colours announced and present).
    pal_rgb = [(10, 20, 30), (200, 0, 0), (0, 200, 0), (0, 0, 200), (250, 250, 5)]
    idx = (np.arange(h * w).reshape(h, w) * 7 // 3) % 5
    palette = b"".join(bytes((b, g, r, 0)) for r, g, b in pal_rgb)
    rows = [idx[y].astype(np.uint8).tobytes() for y in range(h - 1, -1, -1)]
    path = out("codec", "hand_8_short_palette.bmp")
    with open(path, "wb") as f:
        f.write(bmp_file(info40(w, h, 8, 0, colours=5), palette, padded_rows(rows)))
    check_with_pillow(path, np.array(pal_rgb, np.uint8)[idx])
    reference("hand_8_short_palette", path, 3)

    # RLE4 with a 16-colour palette, encoded here and decoded by Pillow.
    pal16 = [((i * 16) % 256, (255 - i * 13) % 256, (i * 71) % 256) for i in range(16)]
    idx = ((np.arange(w)[None, :] // 3 + np.arange(h)[:, None]) % 16).astype(np.uint8)
    palette = b"".join(bytes((b, g, r, 0)) for r, g, b in pal16)
    data = rle4_encode(idx)
    path = out("codec", "hand_rle4.bmp")
    with open(path, "wb") as f:
        f.write(bmp_file(info40(w, h, 4, 2, image_size=len(data), colours=16), palette, data))
    check_with_pillow(path, np.array(pal16, np.uint8)[idx])
    reference("hand_rle4", path, 3)

    # V4 (108-byte) header: the 24-bit V5 file's header cut to V4's fields.
    with open(out("codec", "im_24_v5.bmp"), "rb") as f:
        v5 = f.read()
    offset = struct.unpack_from("<I", v5, 10)[0]
    v4_info = struct.pack("<I", 108) + v5[18:14 + 108]
    path = out("codec", "hand_24_v4.bmp")
    with open(path, "wb") as f:
        f.write(bmp_file(v4_info, b"", v5[offset:]))
    check_with_pillow(path, rgb)
    reference("hand_24_v4", path, 3)


# ---------------------------------------------------------------- YUV, gray
def make_colour_fixtures():
    rng = np.random.default_rng(1234)
    w, h = 16, 12
    # Camera-like YUV plus the corners of the range (0, 255, 16, 235, 240).
    y = rng.integers(0, 256, (h, w), np.uint8)
    u = rng.integers(0, 256, (h // 2, w // 2), np.uint8)
    v = rng.integers(0, 256, (h // 2, w // 2), np.uint8)
    y[0, :6] = (0, 16, 235, 255, 128, 50)
    u[0, :3] = (0, 255, 128)
    v[0, :3] = (255, 0, 128)
    i420 = np.concatenate([y.ravel(), u.ravel(), v.ravel()])
    i420.tofile(out("yuv", "frame_16x12.i420"))
    cv2.cvtColor(i420.reshape(h * 3 // 2, w), cv2.COLOR_YUV2RGB_I420).tofile(
        out("yuv", "frame_16x12_i420.rgb"))
    uv = np.stack([u, v], 2).ravel()
    nv12 = np.concatenate([y.ravel(), uv])
    nv12.tofile(out("yuv", "frame_16x12.nv12"))
    cv2.cvtColor(nv12.reshape(h * 3 // 2, w), cv2.COLOR_YUV2RGB_NV12).tofile(
        out("yuv", "frame_16x12_nv12.rgb"))
    # RGB -> I420: OpenCV's Y plane is the reference for luma; OpenCV takes
    # chroma from one pixel of each 2x2 block where libfer averages the
    # block, so chroma is checked against the BT.601 formula on the mean.
    rgb = rng.integers(0, 256, (h, w, 3), np.uint8)
    rgb[0, 0] = (255, 255, 255)
    rgb[0, 1] = (0, 0, 0)
    rgb.tofile(out("yuv", "rgb_16x12.rgb"))
    cv_i420 = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420).ravel()
    mean = rgb.astype(np.float64).reshape(h // 2, 2, w // 2, 2, 3).mean((1, 3))
    r, g, b = mean[..., 0], mean[..., 1], mean[..., 2]
    u_ref = 128 + (-0.299 * r - 0.587 * g + 0.886 * b) / 1.772 * 224 / 255
    v_ref = 128 + (0.701 * r - 0.587 * g - 0.114 * b) / 1.402 * 224 / 255
    ref = np.concatenate([cv_i420[:w * h],
                          np.clip(np.round(u_ref), 0, 255).astype(np.uint8).ravel(),
                          np.clip(np.round(v_ref), 0, 255).astype(np.uint8).ravel()])
    ref.tofile(out("yuv", "rgb_16x12_ref.i420"))

    # Gray: every value of each channel appears, mixed with the others.
    gw, gh = 32, 32
    grgb = rng.integers(0, 256, (gh, gw, 3), np.uint8)
    grgb[0, :, 0] = np.arange(32) * 8 + 7
    grgb.tofile(out("gray", "rgb_32x32.rgb"))
    cv2.cvtColor(grgb, cv2.COLOR_RGB2GRAY).tofile(out("gray", "rgb_32x32.gray"))


# ---------------------------------------------------------------- resize
def procedural(w, h, channels):
    """The same picture tests/image/test_resize.c builds: smooth gradients,
    a sharp-edged disc and deterministic texture, all in integer maths."""
    y, x = np.mgrid[0:h, 0:w].astype(np.int64)
    img = np.zeros((h, w, channels), np.uint8)
    for c in range(channels):
        base = (x * (200 + 20 * c)) // w + (y * (55 - 10 * c)) // h
        texture = ((x * 2654435761 + y * 40503 + c * 977) >> 7) % 41
        disc = ((x - w // 3) ** 2 + (y - h // 2) ** 2) * 16 < (w * w + h * h)
        img[..., c] = np.where(disc, 255 - base % 256, (base + texture) % 256)
    return img


RESIZE_CASES = [
    # method, src w, src h, dst w, dst h, channels
    ("area", 640, 480, 48, 48, 1),
    ("area", 640, 480, 48, 48, 3),
    ("area", 97, 61, 48, 48, 1),
    ("area", 97, 61, 48, 48, 3),
    ("area", 48, 48, 96, 96, 1),
    ("area", 50, 50, 48, 48, 1),
    ("area", 96, 96, 48, 48, 3),
    ("area", 144, 100, 48, 25, 1),
    ("area", 31, 77, 40, 20, 3),
    # face crops of the sizes a detector returns
    ("area", 200, 200, 48, 48, 1),
    ("area", 123, 123, 48, 48, 1),
    ("area", 77, 77, 48, 48, 3),
    ("area", 49, 49, 48, 48, 1),
    ("linear", 640, 480, 48, 48, 1),
    ("linear", 97, 61, 48, 48, 3),
    ("linear", 48, 48, 96, 96, 1),
    ("linear", 50, 50, 48, 48, 3),
    ("linear", 96, 96, 48, 48, 1),
    ("linear", 17, 9, 53, 31, 3),
    ("linear", 123, 123, 48, 48, 1),
]


def make_resize_fixtures():
    lines = ["# method src_w src_h dst_w dst_h channels file (cv2.resize output)"]
    for method, sw, sh, dw, dh, c in RESIZE_CASES:
        src = procedural(sw, sh, c)
        interp = cv2.INTER_AREA if method == "area" else cv2.INTER_LINEAR
        dst = cv2.resize(src if c == 3 else src[..., 0], (dw, dh), interpolation=interp)
        name = "%s_%dx%d_%dx%d_c%d.raw" % (method, sw, sh, dw, dh, c)
        dst.tofile(out("resize", name))
        lines.append("%s %d %d %d %d %d %s" % (method, sw, sh, dw, dh, c, name))
    with open(out("resize", "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")


# ---------------------------------------------------------------- orientation
def make_orientation_fixtures():
    img = Image.fromarray(sample_rgb(5, 3))
    img.save(out("orient", "base.ppm"))
    for o in range(2, 9):
        im = img.copy()
        exif = im.getexif()
        exif[0x0112] = o
        t = ImageOps.exif_transpose(im)
        np.asarray(t.convert("RGB")).tofile(out("orient", "orient_%d.rgb" % o))


if __name__ == "__main__":
    make_codec_fixtures()
    make_colour_fixtures()
    make_resize_fixtures()
    make_orientation_fixtures()
