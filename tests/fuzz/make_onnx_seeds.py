#!/usr/bin/python3
"""Writes the ONNX fuzz seeds in tests/fuzz/corpus/onnx/ with libfer's own
exporter (through the Python binding) and, when python3-torch is
installed, one small PyTorch export:

    LIBFER_LIBRARY=build/lib/libfer.so PYTHONPATH=bindings/python \\
        /usr/bin/python3 tests/fuzz/make_onnx_seeds.py
"""
import os
import subprocess
import sys
import tempfile

import libfer

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus", "onnx")
NETS = {
    "every_layer": "input 1x8x8\nconv 2 3x3 same stride=2\nbn\nrelu\nmax 2x2/2\n"
                   "conv 2 1x1 nobias\nleaky 0.2\ndrop 0.3\navg 3x3/1 pad=1\nelu\n"
                   "flatten\ndense 3\nbn\ntanh\ndense 2 nobias\nsigmoid\nsoftmax\n",
    "gap": "input 2x5x5\nconv 2 3x3 same dil=2 groups=2\nmax 3x3/2 pad=1\ngap\ndense 2\n",
    "empty": "input 1x2x2\n",
    "graph": "input 2x5x5\nstem = conv 2 3x3 same\na = relu\nconv 2 3x3 same groups=2\n"
             "g = sigmoid\ngap\ns = sigmoid\nmul g\nadd a\nc = conv 1 1x1 from=input\n"
             "concat c from=stem\nflatten\ndense 2\n",
}

os.makedirs(OUT, exist_ok=True)
for name, text in NETS.items():
    m = libfer.Model.from_text(text)
    m.init_weights("he_uniform", seed=1)
    m.class_names = ["c%d" % i for i in range(m.output_size)] if m.output_size < 8 else None
    m.save_onnx(os.path.join(OUT, name + ".onnx"))
try:
    import torch  # noqa: F401
    tmp = tempfile.mkdtemp()
    subprocess.run([sys.executable, os.path.join(HERE, "..", "..", "tools", "gen_onnx_models.py"),
                    tmp, "mixed"], check=True)
    os.replace(os.path.join(tmp, "mixed.onnx"), os.path.join(OUT, "torch_mixed.onnx"))
except ImportError:
    print("python3-torch is absent: no PyTorch seed")
