#!/usr/bin/env python3
"""The binding's overhead bar: a batch-1 predict from Python against the same
call from C (bench/bench_predict_latency.c), on the same model and input.

    ninja -C build bench/bench_predict_latency
    LIBFER_LIBRARY=build/lib/libfer.so.0 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bindings/python/bench_overhead.py \\
        --c-bench build/bench/bench_predict_latency --model seed000

Both sides run one thread by default, warm up, then time each call and
report the median (and minimum) in microseconds. The C and Python runs
alternate (--rounds) so that load from other processes hits both alike; the
reported figure is the median over rounds of each side's median. ``--model
small`` uses a small 1x48x48 net where a fixed per-call cost shows most.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import libfer

SMALL_NET = """input 1x48x48
conv 8 3x3 same
relu
max 2x2/2
conv 16 3x3 same
relu
gap
flatten
dense 7
softmax
"""


def python_latency(model, iterations):
    import numpy as np
    c, h, w = model.input_shape
    x = (np.arange(c * h * w) % 251).astype(np.float32) / np.float32(255)
    x = x.reshape(1, c, h, w)
    predictor = model.predictor()
    for _ in range(5):
        predictor.predict_proba(x)
    times = []
    clock = time.perf_counter
    for _ in range(iterations):
        start = clock()
        predictor.predict_proba(x)
        times.append((clock() - start) * 1e6)
    probs = predictor.predict_proba(x)
    return statistics.median(times), min(times), float(probs[0][0])


def c_latency(exe, spec, iterations, threads):
    out = subprocess.run([exe, spec, str(iterations), str(threads)], check=True,
                         capture_output=True, text=True).stdout
    fields = dict(line.split(None, 1) for line in out.splitlines() if line.strip())
    return float(fields["median_us"]), float(fields["min_us"]), float(fields["prob0"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--c-bench", required=True, help="path of bench_predict_latency")
    ap.add_argument("--model", default="seed000",
                    help="a reference network name, 'small', or an architecture file")
    ap.add_argument("--iterations", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()

    libfer.set_num_threads(args.threads)
    spec = args.model
    tmp = None
    if spec == "small":
        tmp = tempfile.NamedTemporaryFile("w", suffix=".arch", delete=False)
        tmp.write(SMALL_NET)
        tmp.close()
        spec = tmp.name
    try:
        if spec in libfer.Model.reference_names():
            model = libfer.Model.reference(spec)
        else:
            with open(spec) as f:
                model = libfer.Model.from_text(f.read())
        c_medians, py_medians = [], []
        for _ in range(args.rounds):
            c_med, c_min, c_prob = c_latency(args.c_bench, spec, args.iterations, args.threads)
            py_med, py_min, py_prob = python_latency(model, args.iterations)
            if abs(c_prob - py_prob) > 1e-6:
                sys.exit("C and Python disagree: %g vs %g" % (c_prob, py_prob))
            c_medians.append(c_med)
            py_medians.append(py_med)
    finally:
        if tmp is not None:
            os.unlink(tmp.name)
    c_us, py_us = statistics.median(c_medians), statistics.median(py_medians)
    print("model %s, batch 1, %d thread(s), %d calls x %d rounds"
          % (args.model, libfer.get_num_threads(), args.iterations, args.rounds))
    print("C      median %10.1f us  (per-round medians %s)"
          % (c_us, ", ".join("%.1f" % v for v in c_medians)))
    print("Python median %10.1f us  (per-round medians %s)"
          % (py_us, ", ".join("%.1f" % v for v in py_medians)))
    print("ratio Python / C: %.3f (bar: <= 1.5)" % (py_us / c_us))


if __name__ == "__main__":
    main()
