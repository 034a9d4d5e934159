#!/usr/bin/python3
"""Python zlib figures to set beside bench_inflate's: for each file (a .gz is
read with the gzip module, timed), zlib level 1/6/9 size, ratio and speed,
and zlib.decompress speed on the level-6 stream (best of 5). Speeds are per
CPU second of this process, like bench_inflate's.
Usage: /usr/bin/python3 bench/zlib_reference.py FILE..."""
import gzip
import sys
import time
import zlib

for path in sys.argv[1:]:
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        t = time.process_time()
        with gzip.open(path) as f:
            data = f.read()
        dt = time.process_time() - t
        print("%s: %d bytes\n  gzip module: %.1f MB/s of output" % (path, len(data), len(data) / 1e6 / dt))
    else:
        data = raw
        print("%s: %d bytes" % (path, len(data)))
    for level in (1, 6, 9):
        t = time.process_time()
        z = zlib.compress(data, level)
        dt = time.process_time() - t
        print("  zlib level %d: %d bytes (ratio %.4f), %.1f MB/s" % (level, len(z), len(z) / max(1, len(data)), len(data) / 1e6 / dt))
        if level == 6:
            z6 = z
    best = min((lambda t0: (zlib.decompress(z6), time.process_time() - t0)[1])(time.process_time()) for _ in range(5))
    print("  zlib.decompress (level-6 stream, best of 5): %.1f MB/s of output" % (len(data) / 1e6 / best))
