#!/usr/bin/python3
"""Soak from Python: the twin of bench/soak_analyze.c through the ctypes
binding. Each iteration analyses the image from its file's bytes (decode
and analysis in C, Face objects in Python) and checks the result against
the first; every 10th also annotates it and encodes the result as PNG.
RSS is read from /proc/self/statm 100 times; the baseline is taken after
the first 1% (at least 100 iterations). Exit status 1 when the RSS rose
more than BOUND_KIB above the baseline or a result changed.

usage: PYTHONPATH=bindings/python LIBFER_LIBRARY=build/lib/libfer.so \\
       bench/soak_analyze.py IMAGE [ITERATIONS [BOUND_KIB [MODEL]]]
MODEL: a model file used with the built-in cascade instead of the built-in
model (as for bench/soak_analyze.c).
(tools/soak.sh sets both.)
"""
import os
import sys
import time

import libfer

SAMPLES = 100


def rss_kib():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * (os.sysconf("SC_PAGESIZE") // 1024)


def main():
    if not 2 <= len(sys.argv) <= 5:
        print(__doc__, file=sys.stderr)
        return 2
    iterations = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    bound = int(sys.argv[3]) if len(sys.argv) > 3 else 1024
    with open(sys.argv[1], "rb") as f:
        data = f.read()
    libfer.set_num_threads(1)  # as the C soak: memory, not speed
    if len(sys.argv) > 4:
        analyzer = libfer.Analyzer(libfer.Model.load(sys.argv[4]), libfer.Cascade.default())
    else:
        analyzer = libfer.Analyzer()
    warmup = min(iterations, max(100, iterations // 100))
    every = max(1, iterations // SAMPLES)
    first = None
    changed = 0
    baseline, max_after, last = -1, 0, 0
    started = time.monotonic()
    for i in range(iterations):
        faces = analyzer.analyze(data)
        if i % 10 == 9:
            faces.annotate().encode("png")
        result = faces.to_dicts()
        if first is None:
            first = result
        elif result != first:
            changed += 1
        if i + 1 == warmup:
            baseline = rss_kib()
        if (i + 1) % every == 0 or i + 1 == iterations:
            last = rss_kib()
            if i + 1 >= warmup:
                max_after = max(max_after, last)
            print(i + 1, last, flush=True)
    seconds = time.monotonic() - started
    print("faces per image %d, %d iterations in %.1f s (%.2f ms each)"
          % (len(first), iterations, seconds, 1e3 * seconds / iterations))
    print("rss start/end/max KiB: %d %d %d (after %d warm-up iterations; bound +%d)"
          % (baseline, last, max_after, warmup, bound))
    rc = 0
    if changed:
        print("FAIL: %d iterations gave other faces than the first" % changed)
        rc = 1
    if baseline < 0 or max_after - baseline > bound:
        print("FAIL: RSS rose %d KiB after the warm-up, more than %d" % (max_after - baseline, bound))
        rc = 1
    if not first:
        print("FAIL: no face found in", sys.argv[1])
        rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main())
