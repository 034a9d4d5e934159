#!/usr/bin/python3
"""Writes tests/fixtures/nn/golden_<net>.txt: PyTorch's view of the four
reference networks, for tests/nn/test_golden.c.

Each network is written down here independently of libfer's architecture
text, from ../shared/bench/reference-nets.md. Weights and inputs come from a
counter hash that the C test reproduces exactly (see golden_u), so no
weights are committed. For every net the file holds:

  - each layer's output shape and parameter counts, and the totals;
  - eval-mode logits and probabilities for two fixed input images
    (batch-norm running statistics are non-trivial hash values);
  - one training step (train mode, dropout layers left out because their
    random masks cannot be matched): the cross-entropy loss, strided
    samples of the gradients of the first convolution's weight and the last
    dense layer's weight and bias, and the first batch norm's running mean
    after the step.

Run with Debian's python3-torch:  /usr/bin/python3 tools/gen_nn_golden.py [NET...]
(all nets without arguments). resnet-lite and mobilenetv2-lite are graphs:
listed as (kind, module, inputs) per libfer layer and run by run_graph.
"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn

OUT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures", "nn")
BATCH = 2
# Batch norm over only two images is badly conditioned (every normalised
# value is +-1), so the training step uses eight.
TRAIN_BATCH = 8
LABELS = [3, 5, 0, 6, 1, 2, 4, 3]
MAX_SAMPLES = 256


def golden_u(index, tensor):
    """Uniform [0, 1) values from a 32-bit counter hash (vectorised)."""
    i = np.asarray(index, dtype=np.uint64)
    x = (i * np.uint64(2654435761) + np.uint64(tensor * 97531 + 12345)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x45D9F3B)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(16)
    return (x & np.uint64(0xFFFFFF)).astype(np.float64) / 16777216.0


# ---- The networks, as the reference document describes them. ----
# Each layer is (kind, module); "gap" is AdaptiveAvgPool2d + Flatten as one
# libfer layer.

def conv(cin, cout, k, pad, dil=1):
    p = dil * (k - 1) // 2 if pad == "same" else 0
    return ("conv", nn.Conv2d(cin, cout, k, padding=p, dilation=dil))


def block(cin, cout, k, pool=True, drop=None):
    layers = [conv(cin, cout, k, "same"), ("bn", nn.BatchNorm2d(cout)), ("relu", nn.ReLU())]
    if pool:
        layers.append(("max", nn.MaxPool2d(2, 2)))
    if drop:
        layers.append(("drop", nn.Dropout(drop)))
    return layers


def seed000():
    return (block(1, 64, 3, drop=0.25) + block(64, 128, 5, drop=0.25) +
            block(128, 512, 3, drop=0.25) + block(512, 512, 3, drop=0.25) +
            [("flatten", nn.Flatten()),
             ("dense", nn.Linear(512 * 3 * 3, 256)), ("bn", nn.BatchNorm1d(256)),
             ("relu", nn.ReLU()), ("drop", nn.Dropout(0.25)),
             ("dense", nn.Linear(256, 512)), ("bn", nn.BatchNorm1d(512)),
             ("relu", nn.ReLU()), ("drop", nn.Dropout(0.25)),
             ("dense", nn.Linear(512, 7)), ("softmax", nn.Softmax(dim=1))])


def seed001():
    return [conv(1, 64, 5, "valid"), ("relu", nn.ReLU()),
            ("max", nn.MaxPool2d(5, 2)),
            conv(64, 64, 3, "valid"), ("relu", nn.ReLU()),
            conv(64, 64, 3, "valid"), ("relu", nn.ReLU()),
            ("avg", nn.AvgPool2d(3, 2)),
            conv(64, 128, 3, "valid"), ("relu", nn.ReLU()),
            conv(128, 128, 3, "valid"), ("relu", nn.ReLU()),
            ("avg", nn.AvgPool2d(3, 2)),
            ("flatten", nn.Flatten()),
            ("dense", nn.Linear(128, 1024)), ("relu", nn.ReLU()), ("drop", nn.Dropout(0.2)),
            ("dense", nn.Linear(1024, 1024)), ("relu", nn.ReLU()), ("drop", nn.Dropout(0.2)),
            ("dense", nn.Linear(1024, 7)), ("softmax", nn.Softmax(dim=1))]


def seed002():
    return [conv(1, 32, 3, "same"), ("relu", nn.ReLU()),
            conv(32, 32, 3, "same"), ("relu", nn.ReLU()),
            conv(32, 64, 3, "same"), ("relu", nn.ReLU()),
            conv(64, 64, 3, "same"), ("relu", nn.ReLU()),
            conv(64, 96, 3, "same", dil=2), ("relu", nn.ReLU()),
            conv(96, 96, 3, "valid"), ("relu", nn.ReLU()),
            conv(96, 128, 3, "same", dil=2), ("relu", nn.ReLU()),
            conv(128, 128, 3, "valid"), ("relu", nn.ReLU()),
            ("flatten", nn.Flatten()),
            ("dense", nn.Linear(128 * 44 * 44, 64)), ("sigmoid", nn.Sigmoid()),
            ("dense", nn.Linear(64, 7)), ("softmax", nn.Softmax(dim=1))]


def vgglite():
    layers = []
    for cin, cout in [(1, 32), (32, 64), (64, 128), (128, 256)]:
        layers += block(cin, cout, 3, pool=False) + block(cout, cout, 3)
    return layers + [("gap", nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())),
                     ("drop", nn.Dropout(0.3)), ("dense", nn.Linear(256, 7)),
                     ("softmax", nn.Softmax(dim=1))]


NETS = {"seed000": seed000, "seed001": seed001, "seed002": seed002, "vgglite": vgglite}


# ---- Graph networks: (kind, module, inputs) per libfer layer, inputs the
# indices of earlier entries (-1: the image). Written from
# ../shared/bench/reference-nets.md (resnet-lite, mobilenetv2-lite). ----

class Graph:
    def __init__(self):
        self.layers = []

    def add(self, kind, module=None, inputs=None):
        if inputs is None:
            inputs = [len(self.layers) - 1]
        self.layers.append((kind, module, inputs))
        return len(self.layers) - 1


def resnet_lite():
    """ResNet-18 layout: 2-2-2-2 basic blocks, widths 32-256, no max pool."""
    g = Graph()
    g.add("conv", nn.Conv2d(1, 32, 3, padding=1, bias=False))
    g.add("bn", nn.BatchNorm2d(32))
    block_in = g.add("relu", nn.ReLU())
    cin = 32
    for c, s in [(32, 1), (32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1)]:
        if s != 1 or cin != c:
            g.add("conv", nn.Conv2d(cin, c, 1, stride=s, bias=False))
            shortcut = g.add("bn", nn.BatchNorm2d(c))
            g.add("conv", nn.Conv2d(cin, c, 3, stride=s, padding=1, bias=False), [block_in])
        else:
            shortcut = block_in
            g.add("conv", nn.Conv2d(c, c, 3, padding=1, bias=False))
        g.add("bn", nn.BatchNorm2d(c))
        g.add("relu", nn.ReLU())
        g.add("conv", nn.Conv2d(c, c, 3, padding=1, bias=False))
        last = g.add("bn", nn.BatchNorm2d(c))
        g.add("add", None, [last, shortcut])
        block_in = g.add("relu", nn.ReLU())
        cin = c
    g.add("gap", nn.AdaptiveAvgPool2d(1))
    g.add("flatten", nn.Flatten())
    g.add("dense", nn.Linear(256, 7))
    g.add("softmax", nn.Softmax(dim=1))
    return g.layers


def mobilenetv2_lite():
    """MobileNetV2's inverted residuals (t, c, n, s) with ReLU for ReLU6,
    stride 1 at the stem for 48x48 inputs."""
    g = Graph()
    g.add("conv", nn.Conv2d(1, 32, 3, padding=1, bias=False))
    g.add("bn", nn.BatchNorm2d(32))
    block_in = g.add("relu", nn.ReLU())
    cin = 32
    for t, c, n, s in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2),
                       (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]:
        for i in range(n):
            stride = s if i == 0 else 1
            mid = cin * t
            if t != 1:
                g.add("conv", nn.Conv2d(cin, mid, 1, bias=False))
                g.add("bn", nn.BatchNorm2d(mid))
                g.add("relu", nn.ReLU())
            g.add("conv", nn.Conv2d(mid, mid, 3, stride=stride, padding=1, groups=mid, bias=False))
            g.add("bn", nn.BatchNorm2d(mid))
            g.add("relu", nn.ReLU())
            g.add("conv", nn.Conv2d(mid, c, 1, bias=False))
            last = g.add("bn", nn.BatchNorm2d(c))
            if stride == 1 and cin == c:
                last = g.add("add", None, [last, block_in])
            block_in = last
            cin = c
    g.add("conv", nn.Conv2d(320, 1280, 1, bias=False))
    g.add("bn", nn.BatchNorm2d(1280))
    g.add("relu", nn.ReLU())
    g.add("gap", nn.AdaptiveAvgPool2d(1))
    g.add("flatten", nn.Flatten())
    g.add("drop", nn.Dropout(0.2))
    g.add("dense", nn.Linear(1280, 7))
    g.add("softmax", nn.Softmax(dim=1))
    return g.layers


GRAPH_NETS = {"resnet-lite": resnet_lite, "mobilenetv2-lite": mobilenetv2_lite}


def run_graph(layers, x):
    """Every layer's output."""
    outs = []
    for kind, mod, inputs in layers:
        ins = [x if i == -1 else outs[i] for i in inputs]
        if kind == "add":
            y = ins[0]
            for other in ins[1:]:
                y = y + other
        else:
            y = mod(ins[0])
        outs.append(y)
    return outs


def fill_graph_weights(layers):
    """fill_weights for (kind, module, inputs) layers, where a convolution
    may have no bias (its tensor number is skipped, as the C test does)."""
    t = 0
    with torch.no_grad():
        for kind, mod, _ in layers:
            if kind in ("conv", "dense"):
                fan_in = mod.weight[0].numel()
                u = golden_u(np.arange(mod.weight.numel()), t)
                scale = math.sqrt(3.0 / fan_in)
                mod.weight.copy_(torch.from_numpy(((2 * u - 1) * scale).astype(np.float32)).view_as(mod.weight))
                t += 1
                if mod.bias is not None:
                    u = golden_u(np.arange(mod.bias.numel()), t)
                    mod.bias.copy_(torch.from_numpy(((2 * u - 1) * 0.1).astype(np.float32)))
                t += 1
            elif kind == "bn":
                n = mod.weight.numel()
                for name, f in (("weight", lambda u: 0.5 + u), ("bias", lambda u: (2 * u - 1) * 0.2),
                                ("running_mean", lambda u: (2 * u - 1) * 0.2),
                                ("running_var", lambda u: 0.5 + u)):
                    u = golden_u(np.arange(n), t)
                    getattr(mod, name).copy_(torch.from_numpy(f(u).astype(np.float32)))
                    t += 1


def graph_golden(name, make):
    lines = ["# %s: written by tools/gen_nn_golden.py with PyTorch %s" % (name, torch.__version__)]
    layers = make()
    fill_graph_weights(layers)
    for _, mod, _ in layers:
        if mod is not None:
            mod.eval()
    lines.append("layers %d" % len(layers))
    x = golden_input(BATCH)
    total_t = total_nt = 0
    with torch.no_grad():
        outs = run_graph(layers, x)
    for i, ((kind, mod, _), h) in enumerate(zip(layers, outs)):
        shape = list(h.shape[1:]) + [1] * (4 - h.dim())
        tr = sum(p.numel() for p in mod.parameters()) if mod is not None else 0
        nt = (sum(b.numel() for n_, b in mod.named_buffers() if n_.startswith("running"))
              if mod is not None else 0)
        total_t += tr
        total_nt += nt
        lines.append("shape %d %s %d %d %d %d %d" % (i, kind, shape[0], shape[1], shape[2], tr, nt))
    lines.append("params %d %d %d" % (total_t + total_nt, total_t, total_nt))
    lines.append("eval_logits %d %s" % (outs[-2].numel(), fmt(outs[-2].reshape(-1).tolist())))
    lines.append("eval_probs %d %s" % (outs[-1].numel(), fmt(outs[-1].reshape(-1).tolist())))

    # One training step, dropout as identity (the C side removes the lines).
    train_layers = [(k, nn.Identity() if k == "drop" else m, i) for k, m, i in make()]
    fill_graph_weights(train_layers)
    for _, mod, _ in train_layers:
        if mod is not None:
            mod.train()
    logits = run_graph(train_layers, golden_input(TRAIN_BATCH))[-2]
    loss = nn.functional.cross_entropy(logits, torch.tensor(LABELS))
    loss.backward()
    lines.append("train_labels %d %s" % (len(LABELS), " ".join(map(str, LABELS))))
    lines.append("train_loss 1 %.9g" % loss.item())
    convs = [m for k, m, _ in train_layers if k == "conv"]
    denses = [m for k, m, _ in train_layers if k == "dense"]
    for label, tensor in (("grad_first_conv_weight", convs[0].weight.grad),
                          ("grad_last_dense_weight", denses[-1].weight.grad),
                          ("grad_last_dense_bias", denses[-1].bias.grad)):
        stride, sample = strided(tensor)
        lines.append("%s %d %d %s" % (label, sample.size, stride, fmt(sample.tolist())))
    rm = [m for k, m, _ in train_layers if k == "bn"][0].running_mean
    lines.append("first_bn_running_mean %d %s" % (rm.numel(), fmt(rm.tolist())))
    return lines


def fill_weights(layers):
    """Tensor t (counted over layers, then weight, bias, running mean,
    running variance) entry i gets a value from golden_u(i, t)."""
    t = 0
    with torch.no_grad():
        for kind, mod in layers:
            if kind in ("conv", "dense"):
                fan_in = mod.weight[0].numel()
                u = golden_u(np.arange(mod.weight.numel()), t)
                scale = math.sqrt(3.0 / fan_in)
                mod.weight.copy_(torch.from_numpy(((2 * u - 1) * scale).astype(np.float32)).view_as(mod.weight))
                t += 1
                u = golden_u(np.arange(mod.bias.numel()), t)
                mod.bias.copy_(torch.from_numpy(((2 * u - 1) * 0.1).astype(np.float32)))
                t += 1
            elif kind == "bn":
                n = mod.weight.numel()
                for name, f in (("weight", lambda u: 0.5 + u), ("bias", lambda u: (2 * u - 1) * 0.2),
                                ("running_mean", lambda u: (2 * u - 1) * 0.2),
                                ("running_var", lambda u: 0.5 + u)):
                    u = golden_u(np.arange(n), t)
                    getattr(mod, name).copy_(torch.from_numpy(f(u).astype(np.float32)))
                    t += 1


def golden_input(n):
    u = golden_u(np.arange(n * 48 * 48), 1000)
    return torch.from_numpy(u.astype(np.float32)).view(n, 1, 48, 48)


def fmt(values):
    return " ".join("%.9g" % v for v in values)


def strided(t):
    flat = t.detach().reshape(-1).numpy()
    stride = max(1, -(-flat.size // MAX_SAMPLES))
    return stride, flat[::stride]


def main():
    torch.manual_seed(0)
    torch.set_num_threads(2)
    os.makedirs(OUT_DIR, exist_ok=True)
    only = set(sys.argv[1:])
    for name, make in GRAPH_NETS.items():
        if only and name not in only:
            continue
        path = os.path.join(OUT_DIR, "golden_%s.txt" % name)
        with open(path, "w") as f:
            f.write("\n".join(graph_golden(name, make)) + "\n")
        print("wrote", path, file=sys.stderr)
    for name, make in NETS.items():
        if only and name not in only:
            continue
        lines = ["# %s: written by tools/gen_nn_golden.py with PyTorch %s" % (name, torch.__version__)]
        layers = make()
        fill_weights(layers)
        model = nn.Sequential(*[m for _, m in layers]).eval()
        lines.append("layers %d" % len(layers))
        x = golden_input(BATCH)
        h = x
        total_t = total_nt = 0
        with torch.no_grad():
            for i, (kind, mod) in enumerate(layers):
                h = mod(h)
                shape = list(h.shape[1:]) + [1] * (4 - h.dim())
                tr = sum(p.numel() for p in mod.parameters())
                nt = sum(b.numel() for n_, b in mod.named_buffers() if n_.startswith("running"))
                total_t += tr
                total_nt += nt
                lines.append("shape %d %s %d %d %d %d %d" % (i, kind, shape[0], shape[1], shape[2], tr, nt))
        lines.append("params %d %d %d" % (total_t + total_nt, total_t, total_nt))
        with torch.no_grad():
            logits = nn.Sequential(*[m for _, m in layers[:-1]]).eval()(x)
            probs = model(x)
        lines.append("eval_logits %d %s" % (logits.numel(), fmt(logits.reshape(-1).tolist())))
        lines.append("eval_probs %d %s" % (probs.numel(), fmt(probs.reshape(-1).tolist())))

        # One training step without the dropout layers, fresh weights.
        train_layers = [(k, m) for k, m in make() if k != "drop"]
        fill_weights(train_layers)
        body = nn.Sequential(*[m for _, m in train_layers[:-1]]).train()
        loss = nn.functional.cross_entropy(body(golden_input(TRAIN_BATCH)), torch.tensor(LABELS))
        loss.backward()
        lines.append("train_labels %d %s" % (len(LABELS), " ".join(map(str, LABELS))))
        lines.append("train_loss 1 %.9g" % loss.item())
        convs = [m for k, m in train_layers if k == "conv"]
        denses = [m for k, m in train_layers if k == "dense"]
        for label, tensor in (("grad_first_conv_weight", convs[0].weight.grad),
                              ("grad_last_dense_weight", denses[-1].weight.grad),
                              ("grad_last_dense_bias", denses[-1].bias.grad)):
            stride, sample = strided(tensor)
            lines.append("%s %d %d %s" % (label, sample.size, stride, fmt(sample.tolist())))
        bns = [m for k, m in train_layers if k == "bn"]
        if bns:
            rm = bns[0].running_mean
            lines.append("first_bn_running_mean %d %s" % (rm.numel(), fmt(rm.tolist())))
        path = os.path.join(OUT_DIR, "golden_%s.txt" % name)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        print("wrote", path, file=sys.stderr)


if __name__ == "__main__":
    main()
