#!/usr/bin/python3
"""PyTorch side of the reference-network benchmark.

Builds the reference networks of shared/bench/reference-nets.md
(seed000, seed001, seed002, vgglite; the graphs resnet-lite and
mobilenetv2-lite from tools/gen_nn_golden.py's layer lists, the ones the
golden tests check libfer against) for 1x48x48 inputs and 7 classes, and
measures, at a fixed thread count, fp32:
  train_ips   training images/s: batch 64, Adam, cross-entropy, train mode
  infer_ips   inference images/s: batch 64, eval mode, no autograd
  latency_ms  batch-1 latency: eval mode, inference mode, median of many calls
  gflops_fwd  forward GFLOP per image (2 x multiply-adds of the convolutions
              and dense layers); achieved GFLOP/s = gflops_fwd * infer_ips,
              or 3 * gflops_fwd * train_ips for training.
One JSON line per net on stdout (keys net, threads, train_ips, infer_ips,
latency_ms, gflops_fwd, config, plus params and blas); notes on stderr.

Configurations (--config):
  installed  Debian's python3-torch as it comes (reference BLAS).
  best       OpenBLAS from `apt-get download libopenblas0-pthread` (dpkg -x
             into a cache folder, LD_LIBRARY_PATH), OPENBLAS_CORETYPE and
             OPENBLAS_L2_SIZE unset, glibc told to keep freed memory
             (GLIBC_TUNABLES); see best_blas.py.
  both       installed, then best (each in its own process).

Usage: /usr/bin/python3 bench/torch_reference_nets.py [--threads 2]
       [--config best|installed|both] [--nets seed000,vgglite] [--quick]
Exit status 3 when torch is not installed.
"""
import argparse
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import best_blas  # noqa: E402

NETS = ("seed000", "seed001", "seed002", "vgglite", "resnet-lite", "mobilenetv2-lite")
CONFIG_MARK = "FER_TORCH_BENCH_CONFIG"


def note(msg):
    print("torch_reference_nets: " + msg, file=sys.stderr, flush=True)


# ---- The networks (kept literal, one line per layer, like the spec) ----

def build(name, nn):
    def conv(cin, cout, k, padding=0, dilation=1):
        return nn.Conv2d(cin, cout, k, padding=padding, dilation=dilation)

    if name == "seed000":
        def block(cin, cout, k):
            return [conv(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout),
                    nn.ReLU(), nn.MaxPool2d(2, 2), nn.Dropout(0.25)]
        return nn.Sequential(
            *block(1, 64, 3), *block(64, 128, 5), *block(128, 512, 3),
            *block(512, 512, 3),
            nn.Flatten(),                                    # 512*3*3
            nn.Linear(512 * 3 * 3, 256), nn.BatchNorm1d(256), nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(256, 512), nn.BatchNorm1d(512), nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(512, 7))  # softmax lives in the cross-entropy loss
    if name == "seed001":
        return nn.Sequential(
            conv(1, 64, 5), nn.ReLU(),                       # 44x44
            nn.MaxPool2d(5, 2),                              # 20x20
            conv(64, 64, 3), nn.ReLU(),                      # 18x18
            conv(64, 64, 3), nn.ReLU(),                      # 16x16
            nn.AvgPool2d(3, 2),                              # 7x7
            conv(64, 128, 3), nn.ReLU(),                     # 5x5
            conv(128, 128, 3), nn.ReLU(),                    # 3x3
            nn.AvgPool2d(3, 2),                              # 1x1
            nn.Flatten(),
            nn.Linear(128, 1024), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.2),
            nn.Linear(1024, 7))
    if name == "seed002":
        return nn.Sequential(
            conv(1, 32, 3, padding=1), nn.ReLU(),
            conv(32, 32, 3, padding=1), nn.ReLU(),
            conv(32, 64, 3, padding=1), nn.ReLU(),
            conv(64, 64, 3, padding=1), nn.ReLU(),
            conv(64, 96, 3, padding=2, dilation=2), nn.ReLU(),   # 48x48
            conv(96, 96, 3), nn.ReLU(),                          # 46x46
            conv(96, 128, 3, padding=2, dilation=2), nn.ReLU(),  # 46x46
            conv(128, 128, 3), nn.ReLU(),                        # 44x44
            nn.Flatten(),                                        # 128*44*44
            nn.Linear(128 * 44 * 44, 64), nn.Sigmoid(),
            nn.Linear(64, 7))
    if name == "vgglite":
        def block(cin, cout):
            return [conv(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                    nn.ReLU()]
        return nn.Sequential(
            *block(1, 32), *block(32, 32), nn.MaxPool2d(2, 2),
            *block(32, 64), *block(64, 64), nn.MaxPool2d(2, 2),
            *block(64, 128), *block(128, 128), nn.MaxPool2d(2, 2),
            *block(128, 256), *block(256, 256), nn.MaxPool2d(2, 2),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.3),
            nn.Linear(256, 7))
    if name in ("resnet-lite", "mobilenetv2-lite"):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
        import gen_nn_golden  # noqa: E402 (imports torch)

        class GraphNet(nn.Module):
            """(kind, module, inputs) layers, the final softmax left to the loss."""

            def __init__(self, layers):
                super().__init__()
                self.spec = [(kind, inputs) for kind, _, inputs in layers[:-1]]
                self.mods = nn.ModuleList([m if m is not None else nn.Identity()
                                           for _, m, _ in layers[:-1]])

            def forward(self, x):
                outs = []
                for (kind, inputs), mod in zip(self.spec, self.mods):
                    ins = [x if i == -1 else outs[i] for i in inputs]
                    outs.append(sum(ins[1:], ins[0]) if kind == "add" else mod(ins[0]))
                return outs[-1]

        return GraphNet(gen_nn_golden.GRAPH_NETS[name]())
    raise ValueError("unknown net " + name)


def forward_flops(model, torch, nn):
    """2 x multiply-adds of convolutions and dense layers for one image,
    from the output shapes seen in one forward pass."""
    total = [0]

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            per_out = module.in_channels // module.groups * k
            total[0] += 2 * per_out * output[0].numel()
        elif isinstance(module, nn.Linear):
            total[0] += 2 * module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.Linear))]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 1, 48, 48))
    model.train(was_training)
    for h in handles:
        h.remove()
    return total[0]


def param_counts(model):
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    # Keras' "Total params" also counts batch-norm running mean and variance.
    buffers = sum(b.numel() for name, b in model.named_buffers()
                  if name.endswith("running_mean") or name.endswith("running_var"))
    return trainable, trainable + buffers


# ---- Timing ----

def timed_rate(step, images_per_call, min_seconds, min_calls):
    """Images/s over at least min_seconds and min_calls calls (after the
    caller's warm-up); the median of the per-call rates when calls are many
    enough to have one, which ignores a stray descheduled call."""
    rates = []
    start = time.perf_counter()
    while len(rates) < min_calls or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        step()
        rates.append(images_per_call / (time.perf_counter() - t0))
    rates.sort()
    return rates[len(rates) // 2]


def measure(name, threads, quick, torch, nn):
    torch.manual_seed(0)
    model = build(name, nn)
    flops = forward_flops(model, torch, nn)
    trainable, total = param_counts(model)
    batch = 64
    x = torch.randn(batch, 1, 48, 48)
    y = torch.randint(0, 7, (batch,))
    x1 = torch.randn(1, 1, 48, 48)
    budget = 1.0 if quick else 4.0

    # Training: batch 64, Adam (lr 5e-4 as seed000 uses), cross-entropy.
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=5e-4)
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    for _ in range(2):
        train_step()
    train_ips = timed_rate(train_step, batch, budget, 3 if quick else 5)

    # Inference, batch 64, eval mode.
    model.eval()

    def infer_step():
        with torch.inference_mode():
            model(x)

    for _ in range(2):
        infer_step()
    infer_ips = timed_rate(infer_step, batch, budget / 2, 3 if quick else 5)

    # Batch-1 latency: median of many calls.
    def one():
        with torch.inference_mode():
            model(x1)

    for _ in range(10):
        one()
    # At least 200 calls and budget/2 seconds; on a slow (or busy) machine
    # stop after 5 x budget seconds with whatever count that gave (>= 10).
    times = []
    want = 20 if quick else 200
    start = time.perf_counter()
    while True:
        elapsed = time.perf_counter() - start
        if len(times) >= want and elapsed >= budget / 2:
            break
        if len(times) >= 10 and elapsed >= 5 * budget:
            break
        t0 = time.perf_counter()
        one()
        times.append(time.perf_counter() - t0)
    times.sort()
    latency_ms = 1e3 * times[len(times) // 2]
    return {
        "net": name, "threads": threads,
        "train_ips": round(train_ips, 2), "infer_ips": round(infer_ips, 2),
        "latency_ms": round(latency_ms, 4),
        "gflops_fwd": round(flops * 1e-9, 6), "latency_calls": len(times),
        "params": trainable, "params_with_bn_stats": total,
    }


def run_here(args, config):
    try:
        import torch
        import torch.nn as nn
    except ImportError as err:
        note("PyTorch is not installed (%s); apt-get install python3-torch" % err)
        return 3
    torch.set_num_threads(args.threads)
    blas = best_blas.blas_in_use()
    note("config %s, torch %s, %d threads, BLAS: %s"
         % (config, torch.__version__, torch.get_num_threads(), blas))
    for name in args.nets:
        result = measure(name, args.threads, args.quick, torch, nn)
        result["config"] = config
        result["blas"] = "openblas" if "openblas" in blas else "reference"
        note("%s: %d trainable parameters (%d with batch-norm statistics)"
             % (name, result["params"], result["params_with_bn_stats"]))
        print(json.dumps(result), flush=True)
    return 0


def run_config(args, config):
    """Runs this script for one configuration in a fresh process (the BLAS
    library and the allocator settings are fixed at process start)."""
    env = dict(os.environ)
    if config == "best":
        best, reason = best_blas.best_env(env)
        if best is None:
            note("best configuration unavailable: " + reason)
            return 4
        env = best
    env[CONFIG_MARK] = config
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env[var] = str(args.threads)
    cmd = [sys.executable, os.path.abspath(__file__), "--threads",
           str(args.threads), "--nets", ",".join(args.nets)]
    if args.quick:
        cmd.append("--quick")
    return subprocess.call(cmd, env=env)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--config", choices=("best", "installed", "both"),
                    default="both")
    ap.add_argument("--nets", default=",".join(NETS),
                    help="comma-separated subset of " + ", ".join(NETS))
    ap.add_argument("--quick", action="store_true",
                    help="short timings (a smoke test, not a measurement)")
    args = ap.parse_args()
    args.nets = [n for n in args.nets.split(",") if n]
    for n in args.nets:
        if n not in NETS:
            ap.error("unknown net %s" % n)

    configured = os.environ.get(CONFIG_MARK)
    if configured:
        return run_here(args, configured)
    configs = ("installed", "best") if args.config == "both" else (args.config,)
    status = 0
    for config in configs:
        status = run_config(args, config) or status
        if status == 3:  # torch missing: the other configuration cannot help
            break
    return status


if __name__ == "__main__":
    sys.exit(main())
