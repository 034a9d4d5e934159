"""libfer's training step against PyTorch's on real data, same weights.

Trains one small CNN (conv-relu-pool x2, dense 128, dense 7) with Adam 1e-3,
batch 64, on the first N FER2013 Training rows, in libfer (fer_model_train_step
through the Python binding) and in PyTorch from identical initial weights
and the same batch order, and prints both losses. Usage:
  LIBFER_LIBRARY=build/lib/libfer.so.0 /usr/bin/python3 bench/train_step_vs_torch.py FER2013.csv [N]
(the CSV from ../shared/data/fer2013/make_csv.py, plain, not gzip).
"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'bindings', 'python'))
import libfer  # noqa: E402
torch.set_num_threads(1); libfer.set_num_threads(1)
N = int(sys.argv[2]) if len(sys.argv) > 2 else 4000
rows = []
with open(sys.argv[1]) as f:
    next(f)
    for line in f:
        e, p, u = line.rstrip('\n').split(',')
        if u == 'Training':
            rows.append((int(e), np.array(p.split(), dtype=np.uint8)))
        if len(rows) >= N: break
y = np.array([r[0] for r in rows], dtype=np.int32)
x = np.stack([r[1] for r in rows]).reshape(N, 1, 48, 48).astype(np.float32) / 255
ARCH = "input 1x48x48\nconv 32 3x3 same\nrelu\nmax 2x2/2\nconv 64 3x3 same\nrelu\nmax 2x2/2\nflatten\ndense 128\nrelu\ndense 7\nsoftmax\n"
m = libfer.Model.from_text(ARCH); m.init_weights(seed=1)
# Same weights in torch.
tm = nn.Sequential(nn.Conv2d(1,32,3,padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32,64,3,padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64*12*12,128), nn.ReLU(), nn.Linear(128,7))
with torch.no_grad():
    for t_idx, f_idx in zip([0,3,7,9], [0,3,7,9]):
        w = np.asarray(m.get_tensor(f_idx, "weight")); b = np.asarray(m.get_tensor(f_idx, "bias"))
        tm[t_idx].weight.copy_(torch.from_numpy(w.reshape(tm[t_idx].weight.shape)))
        tm[t_idx].bias.copy_(torch.from_numpy(b.reshape(tm[t_idx].bias.shape)))
opt_t = torch.optim.Adam(tm.parameters(), lr=1e-3)
opt_f = libfer.Optimizer("adam", learning_rate=1e-3)
B = 64
perm = np.random.default_rng(0).permutation(N)
for epoch in range(2):
    lt = lf = 0; nb = 0
    for i in range(0, N - B + 1, B):
        idx = perm[i:i+B]
        xb, yb = x[idx], y[idx]
        opt_t.zero_grad(); out = tm(torch.from_numpy(xb)); loss = nn.functional.cross_entropy(out, torch.from_numpy(yb.astype(np.int64))); loss.backward(); opt_t.step()
        r = m.train_step(opt_f, xb, yb)
        lt += loss.item(); lf += r[0] if isinstance(r, tuple) else r["loss"]; nb += 1
        if nb in (1, 2, 5, 20):
            print("batch", nb, "torch %.4f libfer %.4f" % (loss.item(), r[0] if isinstance(r, tuple) else r["loss"]))
    print("epoch", epoch, "mean loss torch %.4f libfer %.4f" % (lt/nb, lf/nb))
