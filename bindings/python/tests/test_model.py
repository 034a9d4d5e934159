"""Model building, queries, files and inference against a numpy reference."""
import gc

import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")

SMALL = """input 1x6x6
conv 2 3x3 same
relu
max 2x2/2
flatten
dense 3
softmax
"""


def numpy_forward(x, conv_w, conv_b, dense_w, dense_b):
    """Naive reference of SMALL: x is N x 1 x 6 x 6."""
    n = x.shape[0]
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    conv = np.zeros((n, 2, 6, 6))
    for f in range(2):
        for yy in range(6):
            for xx in range(6):
                conv[:, f, yy, xx] = (padded[:, :, yy:yy + 3, xx:xx + 3]
                                      * conv_w[f]).sum(axis=(1, 2, 3)) + conv_b[f]
    relu = np.maximum(conv, 0)
    pooled = relu.reshape(n, 2, 3, 2, 3, 2).max(axis=(3, 5))
    logits = pooled.reshape(n, -1) @ dense_w.T + dense_b
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def small_model(seed=5):
    rng = np.random.default_rng(seed)
    m = libfer.Model.from_text(SMALL)
    weights = (rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2),
               rng.normal(size=(3, 18)) * 0.3, rng.normal(size=3))
    m.set_tensor(0, weights[0], "weight")
    m.set_tensor(0, weights[1], "bias")
    m.set_tensor(4, weights[2])
    m.set_tensor(4, weights[3], which="bias")
    return m, weights


def test_predict_matches_numpy_reference():
    m, weights = small_model()
    x = np.random.default_rng(6).random((5, 1, 6, 6), dtype=np.float32)
    expect = numpy_forward(x.astype(np.float64), *weights)
    got = m.predict_proba(x)
    assert got.shape == (5, 3)
    np.testing.assert_allclose(got, expect, rtol=1e-4, atol=1e-6)
    assert list(m.predict(x)) == list(expect.argmax(axis=1))
    # Lists work without numpy arrays, and a predictor gives the same.
    as_lists = m.predict_proba(x.tolist())
    np.testing.assert_allclose(as_lists, expect, rtol=1e-4, atol=1e-6)
    with m.predictor() as p:
        np.testing.assert_allclose(p.predict_proba(x), expect, rtol=1e-4, atol=1e-6)


def test_builder_equals_text_and_layer_specs():
    built = (libfer.Model(input_shape=(1, 6, 6))
             .add_conv(2, kernel_size=3, padding="same").add_relu()
             .add_max_pool(2).add_flatten().add_dense(3).add_softmax())
    spec = libfer.Model((1, 6, 6), layers=[("conv", {"filters": 2, "kernel_size": 3}),
                                           "relu", ("max_pool", {"pool_size": 2}),
                                           ("flatten",), "dense 3", "softmax"])
    text = libfer.Model.from_text(SMALL)
    assert built.to_text() == text.to_text() == spec.to_text()
    assert libfer.Model.from_text(built.to_text()).to_text() == built.to_text()
    assert [k for k, _ in built.layers] == ["conv", "relu", "max_pool", "flatten",
                                           "dense", "softmax"]
    assert built.layers[2][1] == (2, 3, 3)
    assert built.input_shape == (1, 6, 6) and built.output_size == 3 and len(built) == 6
    # Parameter count and FLOPs by hand: conv 2*9+2, dense 3*18+3.
    assert built.count_params() == {"total": 20 + 57, "trainable": 77, "non_trainable": 0}
    assert built.flops == pytest.approx(2 * (2 * 9 * 36 + 3 * 18))
    every = libfer.Model((3, 16, 16)).add_conv(4, (3, 5), stride=2, padding=1, dilation=1,
                                               groups=1, bias=False)
    every.add_batch_norm(momentum=0.2, epsilon=1e-3).add_leaky_relu(0.1).add_elu(0.5)
    every.add_avg_pool(2, stride=1).add_sigmoid().add_tanh().add_dropout(0.25)
    every.add_global_avg_pool().add_flatten().add_dense(2, bias=False).add("softmax")
    assert "bn" in every.to_text() and "leaky" in every.to_text()
    assert every.count_params()["non_trainable"] == 8


def test_summary_init_and_tensors():
    m = libfer.Model.from_text(SMALL)
    assert "Params" in m.summary() or "params" in m.summary()
    w1 = m.get_tensor(0)
    m.init_weights("glorot_normal", seed=3)
    w2 = m.get_tensor(0)
    m.init_weights("glorot_normal", seed=3)
    assert np.array_equal(m.get_tensor(0), w2) and not np.array_equal(w1, w2)
    assert m.get_tensor(0, "bias").shape == (2,)
    with pytest.raises(errors.NotFoundError):
        m.get_tensor(1, "weight")  # relu has no weights
    with pytest.raises(errors.InvalidArgumentError):
        m.set_tensor(0, [1.0, 2.0])  # wrong size
    with pytest.raises(errors.InvalidArgumentError):
        m.init_weights("zeros")


def test_reference_nets():
    names = libfer.Model.reference_names()
    assert "seed000" in names
    m = libfer.Model.reference("seed000")
    assert m.input_shape == (1, 48, 48) and m.output_size == 7
    assert libfer.Model.from_text(libfer.Model.reference_text("seed000")).to_text() == m.to_text()
    with pytest.raises(errors.NotFoundError) as info:
        libfer.Model.reference("nope")
    assert "nope" in str(info.value)
    with pytest.raises(errors.NotFoundError):
        libfer.Model.reference_text("nope")


def test_names_preprocessing_metadata_and_files(tmp_path):
    m, _ = small_model()
    assert m.class_names == ["0", "1", "2"] or len(m.class_names) == 3
    m.class_names = ["a", "b", "c"]
    assert m.class_names == ["a", "b", "c"]
    with pytest.raises(errors.InvalidArgumentError):
        m.class_names = ["a", "b"]
    m.set_preprocessing(scale=1 / 255, mean=0.5, std=0.25)
    assert m.preprocessing == pytest.approx((1 / 255, 0.5, 0.25))
    with pytest.raises(errors.InvalidArgumentError):
        m.set_preprocessing(std=0)
    m.set_metadata("dataset", "fer2013").set_metadata("epochs", 3)
    assert m.metadata == {"dataset": "fer2013", "epochs": "3"}
    assert m.get_metadata("missing", "x") == "x"
    m.set_metadata("epochs", None)
    assert m.metadata == {"dataset": "fer2013"}
    x = np.random.default_rng(1).random((2, 1, 6, 6), dtype=np.float32)
    path = tmp_path / "m.ferm"
    m.save(str(path))
    back = libfer.Model.load(str(path))
    assert back.class_names == ["a", "b", "c"] and back.metadata == {"dataset": "fer2013"}
    assert back.preprocessing == pytest.approx((1 / 255, 0.5, 0.25))
    assert np.array_equal(back.predict_proba(x), m.predict_proba(x))
    data = m.to_bytes()
    assert data == path.read_bytes()
    assert np.array_equal(libfer.Model.from_bytes(data).predict_proba(x), m.predict_proba(x))
    half = libfer.Model.from_bytes(m.to_bytes(float16=True))
    np.testing.assert_allclose(half.predict_proba(x), m.predict_proba(x), atol=5e-3)
    assert libfer.Model.format_version() >= 1


def test_predict_image_uses_preprocessing_and_area_resize():
    m, _ = small_model()
    m.class_names = ["a", "b", "c"]
    m.set_preprocessing(scale=1 / 255, mean=0.25, std=0.5)
    rng = np.random.default_rng(2)
    pixels = rng.integers(0, 256, (12, 12), dtype=np.uint8)
    img = libfer.Image.from_array(pixels)
    # Reference: 2x2 block means (area resize to 6x6), then normalise.
    small = pixels.astype(np.float64).reshape(6, 2, 6, 2).mean(axis=(1, 3))
    x = ((small / 255 - 0.25) / 0.5).astype(np.float32).reshape(1, 1, 6, 6)
    probs = m.predict_proba(img)
    np.testing.assert_allclose(probs, m.predict_proba(x)[0], atol=2e-3)
    result = m.predict(img)
    assert result["label"] == "abc"[int(np.argmax(probs))]
    assert result["index"] == int(np.argmax(probs))
    assert result["probabilities"]["b"] == pytest.approx(float(probs[1]))
    with m.predictor() as p:
        assert p.predict(img)["label"] == result["label"]
    rgb = libfer.Image.from_array(np.stack([pixels] * 3, axis=2))
    np.testing.assert_allclose(m.predict_proba(rgb), probs, atol=1e-5)


def test_errors_and_shapes(tmp_path):
    with pytest.raises(errors.FileFormatError) as info:
        libfer.Model.from_text("input 1x6x6\nconv banana\n")
    assert "2" in str(info.value)  # the line number
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Model(input_shape=(0, 6, 6))
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Model(input_shape=(6, 6))
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Model((1, 4, 4)).add_conv(2, kernel_size=7, padding="valid")
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Model((1, 4, 4)).add_conv(2, padding="bogus")
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Model((1, 4, 4)).add_layers([("nonsense", {})])
    with pytest.raises(errors.LibferIOError) as info:
        libfer.Model.load(str(tmp_path / "missing.ferm"))
    assert "missing.ferm" in str(info.value)
    bad = tmp_path / "bad.ferm"
    bad.write_bytes(b"not a model at all" * 4)
    with pytest.raises(errors.FileFormatError):
        libfer.Model.load(str(bad))
    m, _ = small_model()
    truncated = m.to_bytes()[:-7]
    with pytest.raises(errors.FileFormatError):
        libfer.Model.from_bytes(truncated)
    with pytest.raises(errors.InvalidArgumentError) as info:
        m.predict_proba(np.zeros(35, dtype=np.float32))
    assert info.value.status == errors.SHAPE


def test_handle_lifetimes():
    m, _ = small_model()
    x = np.random.default_rng(3).random((1, 1, 6, 6), dtype=np.float32)
    expect = m.predict_proba(x).copy()
    p = m.predictor()
    del m
    gc.collect()
    # The predictor keeps its model alive.
    np.testing.assert_allclose(p.predict_proba(x), expect)
    model = p.model
    model.close()
    with pytest.raises(errors.MisuseError):
        p.predict_proba(x)
    with pytest.raises(errors.MisuseError):
        model.summary()
    model.close()  # idempotent
    # Changing the model rebuilds the predictor's scratch.
    m2, _ = small_model()
    p2 = m2.predictor()
    before = p2.predict_proba(x).copy()
    m2.init_weights(seed=9)
    after = p2.predict_proba(x)
    np.testing.assert_allclose(after, m2.predict_proba(x))
    assert not np.allclose(before, after)
    with libfer.Model.from_text(SMALL) as m3:
        assert repr(m3).startswith("<libfer.Model")
    assert m3.closed and repr(m3) == "<libfer.Model closed>"


def test_predictor_reused_input_buffer():
    """The predictor's fast path for an input array reused across calls
    (refilled in place) sees the new contents, and any other call in
    between (another batch size, an Image) does not confuse it."""
    m, weights = small_model()
    rng = np.random.default_rng(4)
    frames = rng.random((3, 1, 1, 6, 6), dtype=np.float32)
    buffer = np.empty((1, 1, 6, 6), dtype=np.float32)
    pair = rng.random((2, 1, 6, 6), dtype=np.float32)
    p = m.predictor()
    for frame in frames:
        buffer[...] = frame
        expect = numpy_forward(frame.astype(np.float64), *weights)
        np.testing.assert_allclose(p.predict_proba(buffer), expect, rtol=1e-4, atol=1e-6)
        np.testing.assert_allclose(p.predict_proba(pair),
                                   numpy_forward(pair.astype(np.float64), *weights),
                                   rtol=1e-4, atol=1e-6)
        p.predict_proba(libfer.Image.new(6, 6, 1))
    buffer[...] = frames[0]
    first = p.predict_proba(buffer).copy()
    assert p.predict_proba(buffer) is not None
    np.testing.assert_allclose(p.predict_proba(buffer), first)
    buffer.dtype = np.int32  # the same memory seen as other numbers: not float32 any more
    buffer[...] = 1
    np.testing.assert_allclose(p.predict_proba(buffer),
                               m.predict_proba(np.ones((1, 1, 6, 6), dtype=np.float32)),
                               rtol=1e-6)


def test_onnx_round_trip(tmp_path):
    m = libfer.Model.from_text("input 1x6x6\nconv 3 3x3 same\nbn\nrelu\ndrop 0.2\n"
                               "flatten\ndense 3\nsoftmax\n")
    m.class_names = ["a", "b", "c"]
    m.set_metadata("dataset", "fer2013")
    x = np.random.default_rng(2).random((2, 1, 6, 6), dtype=np.float32)
    path = tmp_path / "m.onnx"
    m.save_onnx(str(path))
    data = m.to_onnx_bytes()
    assert data == path.read_bytes()
    assert libfer.Model.onnx_opset() == 13
    for back in (libfer.Model.load_onnx(str(path)), libfer.Model.from_onnx_bytes(data)):
        assert back.to_text() == m.to_text()  # the architecture text comes back
        assert back.class_names == ["a", "b", "c"] and back.metadata == {"dataset": "fer2013"}
        assert np.array_equal(back.predict_proba(x), m.predict_proba(x))
    with pytest.raises(errors.FileFormatError):
        libfer.Model.from_onnx_bytes(data[:len(data) // 2])


def test_graph_model(tmp_path):
    """A residual block with a squeeze-and-excitation gate, from Python."""
    m = libfer.Model.from_text("input 1x8x8\nstem = conv 4 3x3 same\nrelu\nconv 4 3x3 same\n"
                               "x = add stem\ngap\nconv 4 1x1\nsigmoid\nmul x\n"
                               "flatten\ndense 3\nsoftmax\n")
    assert [k for k, _ in m.layers][3:5] == ["add", "global_avg_pool"]
    assert m.layers[7] == ("mul", (4, 8, 8))
    assert "x = add stem" in m.to_text() and "Inputs" in m.summary()
    m.add("y = dense 2 from=x")
    x = np.random.default_rng(3).random((4, 1, 8, 8), dtype=np.float32)
    path = tmp_path / "g.ferm"
    m.save(str(path))
    back = libfer.Model.load(str(path))
    assert back.to_text() == m.to_text()
    assert np.array_equal(back.predict_proba(x), m.predict_proba(x))
    onnx_back = libfer.Model.from_onnx_bytes(m.to_onnx_bytes())
    assert onnx_back.to_text() == m.to_text()
    assert np.array_equal(onnx_back.predict_proba(x), m.predict_proba(x))
    # It trains: Adam steps on a fixed batch lower the loss.
    opt = libfer.Optimizer("adam", learning_rate=1e-2)
    y = np.array([0, 1, 0, 1], dtype=np.int32)
    back.training = True
    first, _ = back.train_step(opt, x, y)
    for _ in range(30):
        loss, _ = back.train_step(opt, x, y)
    assert loss < 0.5 * first


def test_ensemble_is_the_geometric_mean_of_members(tmp_path):
    """Model.ensemble: softmax of the mean log-probability of the members
    (numpy reference), saved and reloaded; bad members refused."""
    a, weights = small_model(5)
    b, _ = small_model(8)
    x = np.random.default_rng(4).random((6, 1, 6, 6), dtype=np.float32)
    expect_a = numpy_forward(x.astype(np.float64), *weights)
    logp = (np.log(a.predict_proba(x).astype(np.float64))
            + np.log(b.predict_proba(x).astype(np.float64))) / 2
    expect = np.exp(logp - logp.max(axis=1, keepdims=True))
    expect /= expect.sum(axis=1, keepdims=True)
    e = libfer.Model.ensemble([a, b])
    np.testing.assert_allclose(e.predict_proba(x), expect, rtol=1e-5, atol=1e-6)
    assert e.get_metadata("ensemble_members") == "2"
    path = tmp_path / "pair.ferm"
    e.save(str(path))
    assert np.array_equal(libfer.Model.load(str(path)).predict_proba(x), e.predict_proba(x))
    # The members are untouched.
    np.testing.assert_allclose(a.predict_proba(x), expect_a, rtol=1e-4, atol=1e-6)
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Model.ensemble([a])
    with pytest.raises(errors.FileFormatError, match="member 1"):
        libfer.Model.ensemble([a, libfer.Model.from_text("input 1x6x6\nflatten\ndense 3\n")])
    with pytest.raises(TypeError):
        libfer.Model.ensemble([a, "b.ferm"])


def test_fer_ensemble_command(tmp_path):
    """`fer ensemble OUT A B` writes what Model.ensemble builds; bad
    arguments exit 2, an unreadable member 1 with its path named."""
    import os
    import subprocess
    fer = os.path.join(os.environ.get("FER_BUILD_ROOT", ""), "examples", "fer", "fer")
    if not os.path.isfile(fer):
        pytest.skip("the fer command is not built (FER_BUILD_ROOT/examples/fer/fer)")
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    a, _ = small_model(5)
    b, _ = small_model(8)
    a.save(str(tmp_path / "a.ferm"))
    b.save(str(tmp_path / "b.ferm"))
    out = str(tmp_path / "pair.ferm")
    r = subprocess.run([fer, "ensemble", out, str(tmp_path / "a.ferm"), str(tmp_path / "b.ferm")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 0, r.stderr
    x = np.random.default_rng(2).random((3, 1, 6, 6), dtype=np.float32)
    assert np.array_equal(libfer.Model.load(out).predict_proba(x),
                          libfer.Model.ensemble([a, b]).predict_proba(x))
    r = subprocess.run([fer, "ensemble", out, str(tmp_path / "a.ferm")],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 2 and "usage: fer ensemble" in r.stderr
    missing = str(tmp_path / "missing.ferm")
    r = subprocess.run([fer, "ensemble", out, str(tmp_path / "a.ferm"), missing],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 1 and missing in r.stderr
