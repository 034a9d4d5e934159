#!/usr/bin/python3
"""Times numpy's matmul for one SGEMM shape, for bench_gemm's comparison.

Re-runs itself in the best BLAS environment (see best_blas.py) unless
--as-installed is given. Prints `GFLOPS <median>` and `BLAS <libraries>`."""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import best_blas  # noqa: E402

MARK = "FER_NUMPY_GEMM_CONFIGURED"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--ta", type=int, default=0)
    ap.add_argument("--tb", type=int, default=0)
    ap.add_argument("--m", type=int, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--min-seconds", type=float, default=0.1)
    ap.add_argument("--as-installed", action="store_true")
    ap.add_argument("--cpu-time", action="store_true",
                    help="process CPU time instead of wall clock")
    args = ap.parse_args()

    if not os.environ.get(MARK):
        env = dict(os.environ)
        if not args.as_installed:
            best, reason = best_blas.best_env()
            if best is None:
                print("NOTE best BLAS unavailable: " + reason, flush=True)
            else:
                env = best
        env[MARK] = "1"
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
            env[var] = str(args.threads)
        os.execve(sys.executable, [sys.executable] + sys.argv, env)

    import numpy as np
    rng = np.random.default_rng(1)
    a = rng.random((args.k, args.m) if args.ta else (args.m, args.k),
                   dtype=np.float32) - 0.5
    b = rng.random((args.n, args.k) if args.tb else (args.k, args.n),
                   dtype=np.float32) - 0.5
    op_a = a.T if args.ta else a
    op_b = b.T if args.tb else b
    c = np.empty((args.m, args.n), dtype=np.float32)
    flops = 2.0 * args.m * args.n * args.k
    clock = time.process_time if args.cpu_time else time.perf_counter

    calls = 1
    while True:
        t0 = clock()
        for _ in range(calls):
            np.matmul(op_a, op_b, out=c)
        dt = clock() - t0
        if dt >= args.min_seconds or calls >= 1 << 24:
            break
        calls = calls * 16 if dt <= 0 else int(calls * args.min_seconds * 1.2 / dt) + 1
    rates = []
    for _ in range(args.repeats):
        t0 = clock()
        for _ in range(calls):
            np.matmul(op_a, op_b, out=c)
        rates.append(flops * calls / (clock() - t0) * 1e-9)
    rates.sort()
    print("GFLOPS %.3f" % rates[len(rates) // 2])
    print("BLAS " + best_blas.blas_in_use())


if __name__ == "__main__":
    main()
