#!/usr/bin/python3
"""libfer against PyTorch on the reference networks, in one run.

Runs libfer's bench_reference_nets (one JSON line per net with keys net,
threads, train_ips, infer_ips, latency_ms, gflops_fwd; other output is
ignored) and torch_reference_nets.py in both PyTorch configurations
("installed" and "best", see that script), then prints one table row per
net and metric:

  ratio = libfer speed / PyTorch speed   (> 1: libfer is faster)

For throughputs that is libfer images/s over PyTorch images/s; for the
batch-1 latency it is PyTorch ms over libfer ms. The ratio that counts is
the one against "best". Achieved GFLOP/s = gflops_fwd x images/s (training
counts 3 x forward); for latency, gflops_fwd / seconds.

Usage:
  /usr/bin/python3 bench/compare_reference_nets.py [--build-dir build]
      [--threads 2] [--nets seed000,vgglite] [--quick]
      [--libfer-bench PATH] [--libfer-args "ARGS"] [--json OUT.json]

Without PyTorch (python3-torch absent) it prints libfer's figures only and
says why; without the libfer executable it prints PyTorch's only.
"""
import argparse
import json
import os
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
NETS = ("seed000", "seed001", "seed002", "vgglite", "resnet-lite", "mobilenetv2-lite")
METRICS = (
    # key, label, batch, higher_is_better, flops multiplier
    ("train_ips", "train img/s", 64, True, 3.0),
    ("infer_ips", "infer img/s", 64, True, 1.0),
    ("latency_ms", "latency ms", 1, False, 1.0),
)


def say(msg):
    print(msg, flush=True)


def json_lines(text):
    """Per-net JSON objects in a program's stdout, ignoring other lines."""
    found = {}
    for line in text.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if isinstance(obj, dict) and "net" in obj:
            found[obj["net"]] = obj
    return found


def run_libfer(args):
    exe = args.libfer_bench or os.path.join(args.build_dir, "bench",
                                            "bench_reference_nets")
    if not os.path.exists(exe):
        return {}, "libfer benchmark %s not found (build it with ninja -C %s)" % (
            exe, args.build_dir)
    extra = shlex.split(args.libfer_args) if args.libfer_args is not None \
        else ["--threads", str(args.threads)] + list(args.nets)
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(args.threads)
    say("$ " + " ".join([exe] + extra))
    proc = subprocess.run([exe] + extra, env=env, stdout=subprocess.PIPE,
                          universal_newlines=True)
    results = json_lines(proc.stdout)
    if proc.returncode != 0:
        return results, "libfer benchmark exited with status %d" % proc.returncode
    if not results:
        return results, "libfer benchmark printed no JSON lines"
    return results, None


def run_torch(args, config):
    cmd = [sys.executable, os.path.join(HERE, "torch_reference_nets.py"),
           "--config", config, "--threads", str(args.threads),
           "--nets", ",".join(args.nets)]
    if args.quick:
        cmd.append("--quick")
    say("$ " + " ".join(cmd))
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, universal_newlines=True)
    if proc.returncode == 3:
        return {}, "PyTorch is not installed (apt-get install python3-torch)"
    results = json_lines(proc.stdout)
    if proc.returncode != 0:
        return results, "torch_reference_nets.py --config %s exited with status %d" % (
            config, proc.returncode)
    return results, None


def speed(value, higher_is_better):
    if not value or value <= 0:
        return None
    return value if higher_is_better else 1.0 / value


def achieved_gflops(entry, key, mult, higher_is_better):
    if not entry or not entry.get(key) or not entry.get("gflops_fwd"):
        return None
    if higher_is_better:
        return entry["gflops_fwd"] * mult * entry[key]
    return entry["gflops_fwd"] / (entry[key] * 1e-3)


def fmt(x, width, digits=1):
    return ("%*.*f" % (width, digits, x)) if x is not None else " " * (width - 1) + "-"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default="build")
    ap.add_argument("--libfer-bench", help="path of bench_reference_nets")
    ap.add_argument("--libfer-args",
                    help='arguments for it (default "--threads N")')
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--nets", default=",".join(NETS))
    ap.add_argument("--quick", action="store_true",
                    help="short PyTorch timings (smoke test)")
    ap.add_argument("--json", help="also write all figures and ratios here")
    args = ap.parse_args()
    args.nets = [n for n in args.nets.split(",") if n]

    libfer, libfer_why = run_libfer(args)
    if libfer_why:
        say("note: " + libfer_why)
    torch_runs, torch_why = {}, {}
    for config in ("installed", "best"):
        torch_runs[config], torch_why[config] = run_torch(args, config)
        if torch_why[config]:
            say("note: PyTorch %s: %s" % (config, torch_why[config]))
        if not torch_runs[config] and "not installed" in (torch_why[config] or ""):
            torch_runs["best"], torch_why["best"] = {}, torch_why[config]
            break

    say("")
    say("libfer vs PyTorch, %d threads, fp32; train/infer batch 64, latency "
        "batch 1" % args.threads)
    say("ratio = libfer speed / PyTorch speed (> 1: libfer faster); the one "
        "that counts is vs best")
    header = "%-8s %-12s %9s %9s %9s %7s %7s %8s %8s" % (
        "net", "metric", "libfer", "pt-best", "pt-inst", "r-best", "r-inst",
        "GF/s lf", "GF/s pt")
    say(header)
    say("-" * len(header))
    report = []
    for net in args.nets:
        lf = libfer.get(net)
        best = torch_runs.get("best", {}).get(net)
        inst = torch_runs.get("installed", {}).get(net)
        if lf and best and abs(lf.get("gflops_fwd", 0) - best.get("gflops_fwd", 0)) > \
                0.01 * max(best.get("gflops_fwd", 0), 1e-12):
            say("warning: %s: libfer counts %.4g forward GFLOP per image, "
                "PyTorch %.4g: the nets or the counting differ" % (
                    net, lf.get("gflops_fwd", 0), best.get("gflops_fwd", 0)))
        for key, label, batch, higher, mult in METRICS:
            v_lf = lf.get(key) if lf else None
            v_best = best.get(key) if best else None
            v_inst = inst.get(key) if inst else None
            s_lf = speed(v_lf, higher)
            r_best = s_lf / speed(v_best, higher) if s_lf and speed(v_best, higher) else None
            r_inst = s_lf / speed(v_inst, higher) if s_lf and speed(v_inst, higher) else None
            g_lf = achieved_gflops(lf, key, mult, higher)
            g_pt = achieved_gflops(best, key, mult, higher)
            say("%-8s %-12s %s %s %s %s %s %s %s" % (
                net, label, fmt(v_lf, 9, 2), fmt(v_best, 9, 2), fmt(v_inst, 9, 2),
                fmt(r_best, 7, 2), fmt(r_inst, 7, 2), fmt(g_lf, 8), fmt(g_pt, 8)))
            report.append({
                "net": net, "metric": key, "batch": batch,
                "threads": args.threads, "libfer": v_lf, "torch_best": v_best,
                "torch_installed": v_inst, "ratio_best": r_best,
                "ratio_installed": r_inst, "gflops_libfer": g_lf,
                "gflops_torch_best": g_pt,
            })
    for net in args.nets:
        for name, run in (("libfer", libfer), ("PyTorch best", torch_runs.get("best", {}))):
            entry = run.get(net)
            if entry and "threads" in entry and entry["threads"] != args.threads:
                say("warning: %s %s ran with %s threads, not %d" % (
                    name, net, entry["threads"], args.threads))
    if not libfer:
        say("(no libfer figures: %s)" % libfer_why)
    if not torch_runs.get("best"):
        say("(no PyTorch figures: %s)" % (torch_why.get("best") or torch_why.get("installed")))
    if args.json:
        with open(args.json, "w") as out:
            json.dump({"threads": args.threads, "rows": report,
                       "libfer": libfer, "torch": torch_runs}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
