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
without bias). "residual" has a skip connection (Add), which a chain-only
importer must refuse by name.

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


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(1, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 4, 3, padding=1)
        self.head = nn.Linear(4 * 48 * 48, 7)

    def forward(self, x):
        y = torch.relu(self.a(x))
        y = y + self.b(y)
        return self.head(torch.flatten(y, 1))


NETS = dict(golden.NETS, mixed=mixed)


def export(name, out_dir):
    torch.manual_seed(0)
    if name == "residual":
        model = Residual()
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
    for name in sys.argv[2:] or ["seed000", "seed001", "vgglite", "mixed", "residual"]:
        export(name, out_dir)


if __name__ == "__main__":
    main()
