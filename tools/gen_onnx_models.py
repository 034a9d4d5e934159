#!/usr/bin/python3
"""Writes ONNX models exported by PyTorch (torch.onnx.export, opset 13) for
tests/nn/test_onnx.py, with PyTorch's own eval-mode outputs next to them:

    /usr/bin/python3 tools/gen_onnx_models.py OUT_DIR [NET ...]

For each net: OUT_DIR/<net>.onnx, <net>.input.npy (4 x 1 x 48 x 48 inputs),
<net>.output.npy (PyTorch's outputs). The networks are the reference nets
as tools/gen_nn_golden.py writes them down from
../shared/bench/reference-nets.md (independently of libfer), with its
hash-filled weights and batch-norm statistics, plus "mixed": a small net
with every other operator of the ONNX subset (strided and grouped
convolutions, padded pooling, LeakyReLU, ELU, Tanh, Sigmoid, a Linear
without bias). "resnet" (basic blocks, identity
and projection shortcuts) and "mobilenet" (inverted residuals with
depthwise convolutions and squeeze-and-excitation gates, a concat) are
graphs; "scaled" multiplies by a constant, which libfer cannot express
and must refuse by name.

Nothing is committed: the test runs this into its build folder when Debian's
python3-torch is installed and skips those checks otherwise.
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_nn_golden as golden  # noqa: E402


def mixed():
    return [("conv", nn.Conv2d(1, 8, 3, stride=2, padding=1)), ("bn", nn.BatchNorm2d(8)),
            ("leaky", nn.LeakyReLU(0.1)),
            ("avg", nn.AvgPool2d(3, 2, padding=1, count_include_pad=True)),
            ("conv", nn.Conv2d(8, 8, 3, padding=1, groups=2)), ("elu", nn.ELU(0.5)),
            ("max", nn.MaxPool2d(3, 2, padding=1)), ("tanh", nn.Tanh()),
            ("flatten", nn.Flatten()),
            ("dense", nn.Linear(8 * 6 * 6, 16)), ("sigmoid", nn.Sigmoid()),
            ("dense", nn.Linear(16, 7)), ("softmax", nn.Softmax(dim=1))]


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 conv-bn, identity or 1x1 projection."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False),
                               nn.BatchNorm2d(cout), nn.ReLU(),
                               nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                       nn.BatchNorm2d(cout))

    def forward(self, x):
        return torch.relu(self.a(x) + (self.short(x) if self.short else x))


class InvertedResidual(nn.Module):
    """MobileNetV2 block (ReLU for ReLU6) with a squeeze-and-excitation gate."""

    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        mid = cin * expand
        self.expand = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), nn.BatchNorm2d(mid),
                                    nn.ReLU(),
                                    nn.Conv2d(mid, mid, 3, stride, 1, groups=mid, bias=False),
                                    nn.BatchNorm2d(mid), nn.ReLU())
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(mid, max(mid // 4, 1), 1),
                                nn.ReLU(), nn.Conv2d(max(mid // 4, 1), mid, 1), nn.Sigmoid())
        self.project = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        y = self.expand(x)
        y = self.project(y * self.se(y))
        return x + y if self.residual else y


class SmallResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.blocks = nn.Sequential(BasicBlock(8, 8, 1), BasicBlock(8, 16, 2))
        self.head = nn.Linear(16, 7)

    def forward(self, x):
        y = self.blocks(self.stem(x))
        return self.head(torch.flatten(nn.functional.adaptive_avg_pool2d(y, 1), 1))


class SmallMobileNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1, bias=False), nn.BatchNorm2d(8),
                                  nn.ReLU())
        self.blocks = nn.Sequential(InvertedResidual(8, 8, 1, 2), InvertedResidual(8, 12, 2, 3),
                                    InvertedResidual(12, 12, 1, 3))
        self.branch = nn.Conv2d(12, 4, 1)  # an Inception-style concat at the end
        self.head = nn.Linear(16 * 12 * 12, 7)

    def forward(self, x):
        y = self.blocks(self.stem(x))
        y = torch.cat([y, self.branch(y)], 1)
        return torch.softmax(self.head(torch.flatten(y, 1)), 1)


class Scaled(nn.Module):
    """A constant operand: outside what libfer expresses."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 4, 3, padding=1)

    def forward(self, x):
        return torch.flatten(self.a(x) * 2.0, 1)


def randomize(model):
    """Non-trivial batch-norm statistics (PyTorch folds them at export)."""
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                n = mod.num_features
                mod.weight.copy_(0.5 + torch.rand(n, generator=g))
                mod.bias.copy_(0.4 * torch.rand(n, generator=g) - 0.2)
                mod.running_mean.copy_(0.4 * torch.rand(n, generator=g) - 0.2)
                mod.running_var.copy_(0.5 + torch.rand(n, generator=g))


GRAPHS = {"resnet": SmallResNet, "mobilenet": SmallMobileNet, "scaled": Scaled}


NETS = dict(golden.NETS, mixed=mixed)


def export(name, out_dir):
    torch.manual_seed(0)
    if name in GRAPHS:
        model = GRAPHS[name]()
        randomize(model)
    else:
        layers = NETS[name]()
        golden.fill_weights(layers)
        model = nn.Sequential(*[m for _, m in layers])
    model.eval()
    x = torch.from_numpy(golden.golden_u(np.arange(4 * 48 * 48), 2000)
                         .astype(np.float32)).view(4, 1, 48, 48)
    with torch.no_grad():
        y = model(x)
    path = os.path.join(out_dir, name + ".onnx")
    torch.onnx.export(model, x, path, opset_version=13, input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "N"}, "output": {0: "N"}},
                      do_constant_folding=True)
    np.save(os.path.join(out_dir, name + ".input.npy"), x.numpy())
    np.save(os.path.join(out_dir, name + ".output.npy"), y.numpy())


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    torch.set_num_threads(1)
    for name in sys.argv[2:] or ["seed000", "seed001", "vgglite", "mixed", "resnet", "mobilenet",
                                   "scaled"]:
        export(name, out_dir)


if __name__ == "__main__":
    main()
