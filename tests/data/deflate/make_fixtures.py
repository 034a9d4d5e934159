#!/usr/bin/python3
"""Writes the inflate and gzip fixtures with Python's zlib and gzip modules
(and, for cases zlib never produces, a tiny bit writer checked against
zlib.decompress). Run: /usr/bin/python3 tests/data/deflate/make_fixtures.py

manifest.txt lines:  NAME.zlib|NAME.deflate  EXPECTED  STATUS
  EXPECTED: a file in this folder, "-" for none, or a pattern the test
            builds itself (see test_inflate.c): repeat_a_100000, marker_32768
  STATUS:   ok, or the fer_status the decoder must return
Every "ok" stream decompresses with zlib to EXPECTED; every other one is
rejected by zlib too.
"""
import gzip
import os
import random
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
WORDS = ("face smile frown eyes mouth brow angry disgust fear happy sad "
         "surprise neutral pixel row column image train test the of and a "
         "to in is that for with").split()


def text(seed, n_words):
    r = random.Random(seed)
    out, line = [], []
    for _ in range(n_words):
        line.append(r.choice(WORDS))
        if r.random() < 0.08:
            out.append(" ".join(line))
            line = []
    out.append(" ".join(line))
    return ("\n".join(out) + "\n").encode()


def pattern(name):
    if name == "repeat_a_100000":
        return b"a" * 100000
    if name == "marker_32768":
        marker = bytes((i * 7 + 3) & 255 for i in range(258))
        return marker + bytes(32768 - 258) + marker
    raise KeyError(name)


class Bits:
    """DEFLATE bit writer: fields LSB first, Huffman codes MSB first."""

    def __init__(self):
        self.acc, self.n, self.out = 0, 0, bytearray()

    def bits(self, value, count):
        self.acc |= value << self.n
        self.n += count
        while self.n >= 8:
            self.out.append(self.acc & 255)
            self.acc >>= 8
            self.n -= 8

    def code(self, code, length):
        rev = int(format(code, "0%db" % length)[::-1], 2) if length else 0
        self.bits(rev, length)

    def fixed_litlen(self, sym):
        if sym < 144:
            self.code(0x30 + sym, 8)
        elif sym < 256:
            self.code(0x190 + sym - 144, 9)
        elif sym < 280:
            self.code(sym - 256, 7)
        else:
            self.code(0xC0 + sym - 280, 8)

    def done(self):
        if self.n:
            self.out.append(self.acc & 255)
        return bytes(self.out)


def marker_stream():
    """Fixed block: marker literals, zeros, then a match at distance 32768."""
    b = Bits()
    b.bits(1, 1)
    b.bits(1, 2)
    data = pattern("marker_32768")
    for v in data[:259]:
        b.fixed_litlen(v)
    zeros = 32768 - 259
    while zeros >= 258:
        b.fixed_litlen(285)  # length 258
        b.code(0, 5)         # distance 1
        zeros -= 258
    for _ in range(zeros):
        b.fixed_litlen(0)
    b.fixed_litlen(285)
    b.code(29, 5)            # distance code 29: 24577 + 13 extra bits
    b.bits(32768 - 24577, 13)
    b.fixed_litlen(256)
    return b.done()


def dynamic_header(b, hlit, hdist, precode, entries):
    """precode: {symbol: length}; entries: [(symbol, extra bits, value)]."""
    order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
    hclen = max(order.index(s) for s in precode) + 1
    hclen = max(hclen, 4)
    b.bits(hlit - 257, 5)
    b.bits(hdist - 1, 5)
    b.bits(hclen - 4, 4)
    for s in order[:hclen]:
        b.bits(precode.get(s, 0), 3)
    codes, code, prev = {}, 0, 0   # canonical codes, by (length, symbol)
    for s in sorted(precode, key=lambda s: (precode[s], s)):
        code <<= precode[s] - prev
        prev = precode[s]
        codes[s] = code
        code += 1
    for sym, nbits, value in entries:
        b.code(codes[sym], precode[sym])
        if nbits:
            b.bits(value, nbits)


def corrupt_streams():
    out = {}
    b = Bits(); b.bits(1, 1); b.bits(3, 2)
    out["bad_block_type"] = b.done()
    out["stored_nlen"] = bytes([1, 5, 0, 0xFA, 0xFE]) + b"hello"
    b = Bits(); b.bits(1, 1); b.bits(2, 2)
    dynamic_header(b, 257, 1, {s: 1 for s in range(19)}, [])
    out["oversubscribed"] = b.done() + bytes(40)
    b = Bits(); b.bits(1, 1); b.bits(2, 2)
    lens = [2] + [0] * 255 + [2] + [2]
    dynamic_header(b, 257, 1, {0: 1, 2: 1}, [(v, 0, 0) for v in lens])
    out["incomplete_litlen"] = b.done() + bytes(40)
    b = Bits(); b.bits(1, 1); b.bits(2, 2)
    lens = [2, 2] + [0] * 255 + [2]
    dynamic_header(b, 257, 1, {0: 1, 2: 1}, [(v, 0, 0) for v in lens])
    out["no_end_code"] = b.done() + bytes(40)
    b = Bits(); b.bits(1, 1); b.bits(2, 2)
    dynamic_header(b, 257, 1, {0: 1, 16: 1}, [(16, 2, 0)])
    out["repeat_first"] = b.done() + bytes(40)
    b = Bits(); b.bits(1, 1); b.bits(1, 2)
    b.fixed_litlen(ord("a")); b.fixed_litlen(257); b.code(1, 5); b.fixed_litlen(256)
    out["distance_too_far"] = b.done()
    b = Bits(); b.bits(1, 1); b.bits(1, 2)
    b.fixed_litlen(ord("a")); b.fixed_litlen(286); b.fixed_litlen(256)
    out["litlen_286"] = b.done()
    b = Bits(); b.bits(1, 1); b.bits(1, 2)
    b.fixed_litlen(ord("a")); b.fixed_litlen(257); b.code(30, 5); b.fixed_litlen(256)
    out["distance_30"] = b.done()
    return out


def gz_member(data, flags=0, extra=b"", name=b"", comment=b""):
    head = struct.pack("<BBBBIBB", 0x1F, 0x8B, 8, flags, 0, 0, 3)
    if flags & 4:
        head += struct.pack("<H", len(extra)) + extra
    if flags & 8:
        head += name + b"\0"
    if flags & 16:
        head += comment + b"\0"
    if flags & 2:
        head += struct.pack("<H", zlib.crc32(head) & 0xFFFF)
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = c.compress(data) + c.flush()
    return head + body + struct.pack("<II", zlib.crc32(data) & 0xFFFFFFFF,
                                     len(data) & 0xFFFFFFFF)


def main():
    for f in os.listdir(HERE):
        if not f.endswith(".py"):
            os.remove(os.path.join(HERE, f))
    manifest = []

    def put(name, data):
        open(os.path.join(HERE, name), "wb").write(data)

    def stream(name, data, expected, status="ok", wbits=15):
        put(name, data)
        if status == "ok":
            exp = pattern(expected) if "_" in expected and not expected.endswith(".raw") \
                else open(os.path.join(HERE, expected), "rb").read()
            assert zlib.decompress(data, wbits) == exp, name
        else:
            try:
                zlib.decompressobj(wbits).decompress(data)
                d = zlib.decompressobj(wbits)
                d.decompress(data)
                if not d.eof:
                    raise zlib.error("truncated")
                raise SystemExit("zlib accepts %s" % name)
            except zlib.error:
                pass
        manifest.append("%s %s %s" % (name, expected, status))

    txt = text(1, 1200)
    put("text.raw", txt)
    rnd = bytes(random.Random(2).getrandbits(8) for _ in range(3000))
    put("random.raw", rnd)
    put("empty.raw", b"")
    for level in range(10):
        stream("text.%d.zlib" % level, zlib.compress(txt, level), "text.raw")
    for level in (0, 1, 9):
        stream("random.%d.zlib" % level, zlib.compress(rnd, level), "random.raw")
        stream("empty.%d.zlib" % level, zlib.compress(b"", level), "empty.raw")
    for label, strategy in (("fixed", zlib.Z_FIXED), ("huffman", zlib.Z_HUFFMAN_ONLY),
                            ("rle", zlib.Z_RLE), ("filtered", zlib.Z_FILTERED)):
        c = zlib.compressobj(6, zlib.DEFLATED, 15, 9, strategy)
        stream("text.%s.zlib" % label, c.compress(txt) + c.flush(), "text.raw")
    # Many small blocks: a full flush every 500 bytes.
    c = zlib.compressobj(6)
    chunks = [c.compress(txt[i:i + 500]) + c.flush(zlib.Z_FULL_FLUSH)
              for i in range(0, len(txt), 500)]
    stream("text.flushed.zlib", b"".join(chunks) + c.flush(), "text.raw")
    stream("runs.9.zlib", zlib.compress(pattern("repeat_a_100000"), 9), "repeat_a_100000")
    stream("marker_32768.deflate", marker_stream(), "marker_32768", wbits=-15)
    for name, data in corrupt_streams().items():
        stream(name + ".deflate", data, "-", "FER_ERR_FORMAT", wbits=-15)
    z = bytearray(zlib.compress(txt, 6))
    z[-1] ^= 1
    stream("bad_adler.zlib", bytes(z), "-", "FER_ERR_CHECKSUM")
    c = zlib.compressobj(6, zdict=b"face smile")
    stream("fdict.zlib", c.compress(txt) + c.flush(), "-", "FER_ERR_UNSUPPORTED")
    stream("bad_header.zlib", bytes([0x78, 0x9D]) + zlib.compress(txt)[2:], "-",
           "FER_ERR_FORMAT")
    stream("truncated.zlib", zlib.compress(txt, 6)[:-10], "-", "FER_ERR_TRUNCATED")
    open(os.path.join(HERE, "manifest.txt"), "w").write(
        "# stream expected status (see make_fixtures.py)\n" + "\n".join(manifest) + "\n")

    # gzip: a text with CRLF lines, a long line and no final newline.
    lines = text(3, 400).replace(b"\nface", b"\r\nface")
    lines += b"x" * 3000 + b"\n" + b"last line without newline"
    put("lines.txt", lines)
    with gzip.GzipFile(os.path.join(HERE, "lines.txt.gz"), "wb", 9,
                       mtime=0) as f:  # FNAME set by the gzip module
        f.write(lines)
    half = len(lines) // 2
    put("multi.gz", gzip.compress(lines[:half], mtime=0) + gzip.compress(lines[half:], mtime=0))
    put("fields.gz", gz_member(lines, 1 | 2 | 4 | 8 | 16, b"AB\x02\x00hi", b"lines.txt",
                               b"all header fields"))
    put("padded.gz", gzip.compress(lines, mtime=0) + bytes(37))
    m = bytearray(gzip.compress(lines, mtime=0))
    m[-8] ^= 0x40
    put("bad_crc.gz", bytes(m))
    m = bytearray(gzip.compress(lines, mtime=0))
    m[-1] ^= 0x01
    put("bad_isize.gz", bytes(m))
    m = bytearray(gz_member(lines, 2))
    m[10] ^= 0x01
    put("bad_header_crc.gz", bytes(m))
    put("trailing_garbage.gz", gzip.compress(lines, mtime=0) + b"junk")
    put("truncated.gz", gzip.compress(lines, mtime=0)[:-20])
    for f, pad in (("lines.txt.gz", 0), ("multi.gz", 0), ("fields.gz", 0), ("padded.gz", 37)):
        data = open(os.path.join(HERE, f), "rb").read()
        assert gzip.decompress(data[:len(data) - pad]) == lines, f
    print("wrote %d streams" % len(manifest))


if __name__ == "__main__":
    main()
