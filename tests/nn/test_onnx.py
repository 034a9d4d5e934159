#!/usr/bin/python3
"""ONNX export and import against other implementations of the format:

  - export: `fer export` and Model.save_onnx files pass onnx.checker
    (full_check, with shape inference), and OpenCV's own ONNX importer
    (cv2.dnn.readNetFromONNX) gives libfer's outputs within 1e-4: the
    shipped model on real face crops (FER-sized crops of the photographs in
    ../shared/data/faces and of scikit-image's astronaut, found by OpenCV's
    cascade), and small nets with every exported layer kind on random input;
  - import: PyTorch's torch.onnx.export of the reference nets and of a net
    with the other operators (tools/gen_onnx_models.py, run here into the
    build folder) load with outputs within 1e-4 of PyTorch's; a graph with
    a skip connection and one with an operator outside the subset are
    refused with the operator named; `fer import` writes a loadable model.

Each part is skipped with a message when its package (python3-onnx,
python3-opencv, python3-torch) is absent; with none of them the test
skips (exit 77).

usage: test_onnx.py FER   (LIBFER_LIBRARY, PYTHONPATH set by meson)
"""
import glob
import os
import subprocess
import sys
import tempfile

import numpy as np

import libfer

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
TOL = 1e-4

failures = 0
ran = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def have(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


# Small nets with every layer kind the export writes (weights from a seed).
NETS = {
    "every-layer": "input 1x12x12\nconv 4 3x3 same stride=2\nbn\nrelu\nmax 2x2/2\n"
                   "conv 6 3x3 pad=1 nobias groups=2\nleaky 0.2\ndrop 0.3\navg 3x3/1 pad=1\n"
                   "elu 0.5\nflatten\ndense 5\nbn\ntanh\ndense 7 nobias\nsigmoid\n"
                   "dense 3\nsoftmax\n",
    "gap-head": "input 3x10x9\nconv 5 4x4 same\nrelu\nconv 4 3x3 same dil=2\n"
                "max 3x3/2 pad=1\ngap\ndrop 0.5\ndense 7\nsoftmax\n",
    "channel-softmax": "input 2x5x5\nconv 3 1x1\nsoftmax\n",
    # OpenCV 4.6 cannot broadcast a computed C x 1 x 1 operand of Mul (an SE
    # gate; "shape_utils.hpp:170: Assertion failed"), so this graph has an
    # element-wise mul instead; "se-graph" is checked by onnx.checker only.
    "graph": "input 2x6x6\nstem = conv 4 3x3 same\nbn\na = relu\nconv 4 3x3 same groups=4\n"
             "b = elu\nconv 4 1x1 from=a\nc = sigmoid\nadd a b\ns = relu\n"
             "gated = mul c\np = conv 3 1x1 from=input\nconcat p from=gated\n"
             "max 2x2/2\ndense 5\nsoftmax\n",
    "se-graph": "input 2x6x6\ns = conv 4 3x3 same\nrelu\ngap\nconv 2 1x1\nrelu\n"
                "conv 4 1x1\nsigmoid\nmul s\nflatten\ndense 3\n",
}


def small_model(text, seed):
    m = libfer.Model.from_text(text)
    m.init_weights("he_uniform", seed=seed)
    rng = np.random.RandomState(seed)
    for i, (kind, _) in enumerate(m.layers):
        for which in ("bias", "running_mean", "running_var"):
            try:
                t = m.get_tensor(i, which)
            except libfer.LibferError:
                continue
            lo, hi = (0.5, 1.5) if which == "running_var" else (-0.3, 0.3)
            m.set_tensor(i, rng.uniform(lo, hi, len(t)).astype(np.float32), which)
    return m


def face_crops(limit=16):
    """48x48 gray face crops from real photographs, as float32 pixels."""
    import cv2
    crops = []
    shared = os.environ.get("FER_SHARED_DATA", os.path.join(ROOT, "..", "shared", "data"))
    boxes = os.path.join(shared, "faces", "boxes.tsv")
    if os.path.exists(boxes):
        with open(boxes) as f:
            rows = [line.split("\t") for line in f.read().splitlines()[1:]]
        for image, x, y, w, h in rows[:limit]:
            gray = cv2.imread(os.path.join(shared, "faces", image), cv2.IMREAD_GRAYSCALE)
            x, y, w, h = int(x), int(y), int(w), int(h)
            crop = gray[max(y, 0):y + h, max(x, 0):x + w]
            if crop.size:
                crops.append(cv2.resize(crop, (48, 48), interpolation=cv2.INTER_AREA))
    else:
        print("note: ../shared/data/faces is absent; using only the astronaut")
    if os.path.exists(ASTRONAUT) and os.path.exists(CASCADE):
        gray = cv2.cvtColor(cv2.imread(ASTRONAUT), cv2.COLOR_BGR2GRAY)
        for x, y, w, h in cv2.CascadeClassifier(CASCADE).detectMultiScale(gray, 1.2, 4,
                                                                         minSize=(36, 36)):
            crops.append(cv2.resize(gray[y:y + h, x:x + w], (48, 48),
                                    interpolation=cv2.INTER_AREA))
    return np.array(crops, dtype=np.float32).reshape(-1, 1, 48, 48)


def libfer_out(m, x):
    m.training = False
    return np.asarray(m.forward(np.ascontiguousarray(x, dtype=np.float32)))


def test_export(fer, tmp):
    global ran
    import_onnx, import_cv2 = have("onnx"), have("cv2")
    if not (import_onnx or import_cv2):
        print("SKIP export checks: neither python3-onnx nor python3-opencv is installed")
        return
    ran += 1
    exported = []
    # The shipped model through the command.
    shipped = os.path.join(ROOT, "models", "default.ferm")
    path = os.path.join(tmp, "default.onnx")
    r = subprocess.run([fer, "export", shipped, path], capture_output=True, text=True)
    check(r.returncode == 0, "fer export: %s" % r.stderr)
    exported.append(("default", libfer.Model.load(shipped), path))
    for i, (name, text) in enumerate(NETS.items()):
        m = small_model(text, 10 + i)
        p = os.path.join(tmp, name + ".onnx")
        m.save_onnx(p)
        exported.append((name, m, p))
    if import_onnx:
        import onnx
        for name, m, p in exported:
            model = onnx.load(p)
            try:
                onnx.checker.check_model(model, full_check=True)
            except Exception as e:  # noqa: BLE001
                check(False, "%s: onnx.checker: %s" % (name, e))
            check(model.opset_import[0].version == libfer.Model.onnx_opset() == 13,
                  "%s: opset" % name)
            inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
            dims = [d.dim_value for d in inferred.graph.output[0].type.tensor_type.shape.dim[1:]]
            check(int(np.prod(dims)) == m.output_size, "%s: output shape %s" % (name, dims))
        print("onnx.checker: %d exported models pass" % len(exported))
    else:
        print("SKIP onnx.checker: python3-onnx is not installed")
    if import_cv2:
        import cv2
        for name, m, p in exported:
            if name == "se-graph":
                continue
            net = cv2.dnn.readNetFromONNX(p)
            if name == "default":
                x = face_crops()
                check(len(x) >= 1, "no face crops")
                x = m.preprocess(x)  # the caller's step, as docs/onnx.md says
            else:
                c, h, w = m.input_shape
                x = np.random.RandomState(3).uniform(-1, 1, (5, c, h, w)).astype(np.float32)
            net.setInput(x)
            got = net.forward()
            want = libfer_out(m, x)
            diff = float(np.abs(got.reshape(want.shape) - want).max())
            check(diff <= TOL, "%s: OpenCV differs by %g" % (name, diff))
            print("cv2.dnn %-16s %2d images, max |diff| %.3g" % (name, len(x), diff))
    else:
        print("SKIP cv2.dnn comparison: python3-opencv is not installed")


def test_import_torch(fer, tmp):
    global ran
    if not have("torch"):
        print("SKIP PyTorch import checks: python3-torch is not installed")
        return
    ran += 1
    out = os.path.join(tmp, "torch")
    gen = os.path.join(ROOT, "tools", "gen_onnx_models.py")
    r = subprocess.run([sys.executable, gen, out], capture_output=True, text=True)
    check(r.returncode == 0, "gen_onnx_models.py: %s" % r.stderr[-2000:])
    for name in ("seed000", "seed001", "vgglite", "mixed", "resnet", "mobilenet"):
        p = os.path.join(out, name + ".onnx")
        try:
            m = libfer.Model.load_onnx(p)
        except libfer.LibferError as e:
            check(False, "%s: import: %s" % (name, e))
            continue
        x = np.load(os.path.join(out, name + ".input.npy"))
        want = np.load(os.path.join(out, name + ".output.npy"))
        got = libfer_out(m, x)
        diff = float(np.abs(got.reshape(want.shape) - want).max())
        check(diff <= TOL, "%s: differs from PyTorch by %g" % (name, diff))
        print("torch.onnx.export %-8s -> libfer: %d layers, max |diff| %.3g"
              % (name, len(m), diff))
    ferm = os.path.join(tmp, "mixed.ferm")
    r = subprocess.run([fer, "import", os.path.join(out, "mixed.onnx"), ferm],
                       capture_output=True, text=True)
    check(r.returncode == 0, "fer import: %s" % r.stderr)
    if r.returncode == 0:
        x = np.load(os.path.join(out, "mixed.input.npy"))
        want = np.load(os.path.join(out, "mixed.output.npy"))
        got = libfer_out(libfer.Model.load(ferm), x)
        check(float(np.abs(got.reshape(want.shape) - want).max()) <= TOL, "fer import output")
    # A graph that libfer cannot express: a branch with a constant operand.
    r = subprocess.run([fer, "import", os.path.join(out, "scaled.onnx"), ferm + "2"],
                       capture_output=True, text=True)
    check(r.returncode == 1 and "(Mul)" in r.stderr and "constant operand" in r.stderr,
          "fer import scaled: %s" % r.stderr)


def test_import_errors(tmp):
    global ran
    if not have("onnx"):
        print("SKIP hand-made ONNX graphs: python3-onnx is not installed")
        return
    ran += 1
    from onnx import TensorProto, helper
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 4, 4])
    k = helper.make_tensor("k", TensorProto.FLOAT, [1], [2.0])
    nodes = [helper.make_node("Relu", ["x"], ["r"], name="first"),
             helper.make_node("Mul", ["r", "k"], ["y"], name="gate")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], [k]),
                              opset_imports=[helper.make_opsetid("", 13)])
    try:
        libfer.Model.from_onnx_bytes(model.SerializeToString())
        check(False, "Mul imported")
    except libfer.LibferError as e:
        check("node 'gate' (Mul)" in str(e), "Mul message: %s" % e)
    # A BatchNormalization made by hand (PyTorch folds it into the conv).
    rng = np.random.RandomState(1)
    vals = [rng.uniform(0.5, 1.5, 2), rng.uniform(-1, 1, 2), rng.uniform(-1, 1, 2),
            rng.uniform(0.5, 1.5, 2)]
    inits = [helper.make_tensor(n, TensorProto.FLOAT, [2], v.astype(np.float32))
             for n, v in zip("sbmv", vals)]
    bn = helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                          epsilon=1e-3)
    model = helper.make_model(helper.make_graph([bn], "g", [x], [y], inits),
                              opset_imports=[helper.make_opsetid("", 13)])
    m = libfer.Model.from_onnx_bytes(model.SerializeToString())
    xin = rng.uniform(-1, 1, (3, 2, 4, 4)).astype(np.float32)
    s, b, mu, var = (v.astype(np.float32).reshape(1, 2, 1, 1) for v in vals)
    want = (xin - mu) / np.sqrt(var + np.float32(1e-3)) * s + b
    got = libfer_out(m, xin).reshape(want.shape)
    check(float(np.abs(got - want).max()) <= TOL, "BatchNormalization import")
    data = model.SerializeToString()
    try:
        libfer.Model.from_onnx_bytes(data[:len(data) // 2])
        check(False, "truncated file imported")
    except libfer.LibferError as e:
        check("malformed" in str(e) or "no graph" in str(e), "truncated: %s" % e)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    fer = sys.argv[1]
    build = os.environ.get("FER_BUILD_ROOT", tempfile.gettempdir())
    with tempfile.TemporaryDirectory(dir=build, prefix="test-onnx-") as tmp:
        test_export(fer, tmp)
        test_import_torch(fer, tmp)
        test_import_errors(tmp)
    if not ran:
        print("SKIP: none of python3-onnx, python3-opencv, python3-torch is installed")
        return SKIP
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
