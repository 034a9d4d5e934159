"""int8 inference from Python (Model.quantize, Model.precision,
Model.int8_portable, Model.settings): the shipped model against its own
fp32 results, the switch, and the errors."""
import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")


def faces_free_inputs(model, n, seed):
    """Smooth random 48x48 pictures, preprocessed as the model wants them."""
    rng = np.random.default_rng(seed)
    c, h, w = model.input_shape
    coarse = rng.uniform(0, 255, size=(n, c, 6, 6)).astype(np.float32)
    x = np.repeat(np.repeat(coarse, h // 6, axis=2), w // 6, axis=3)
    x += rng.uniform(0, 8, size=x.shape).astype(np.float32)
    return model.preprocess(x)


def test_settings_table():
    settings = libfer.Model.settings()
    assert settings["precision"] == (1.0, 1.0, 2.0)
    assert settings["int8_portable"] == (0.0, 0.0, 1.0)


def test_quantize_and_switch():
    m = libfer.Model.default()
    calib = faces_free_inputs(m, 32, 1)
    x = faces_free_inputs(m, 40, 2)
    assert m.precision == "fp32"
    with pytest.raises(errors.MisuseError):
        m.precision = "int8"  # not quantised yet
    p32 = np.asarray(m.predict_proba(x))
    m.quantize(calib)
    assert m.precision == "fp32"  # quantising alone does not switch
    assert np.array_equal(np.asarray(m.predict_proba(x)), p32)
    m.precision = "int8"
    assert m.precision == "int8"
    p8 = np.asarray(m.predict_proba(x))
    assert not np.array_equal(p8, p32)
    agree = np.mean(p8.argmax(axis=1) == p32.argmax(axis=1))
    assert agree >= 0.9
    assert np.abs(p8 - p32).max() <= 0.1
    # The portable kernel gives the same sums, hence the same results.
    m.int8_portable = True
    assert m.int8_portable
    assert np.array_equal(np.asarray(m.predict_proba(x)), p8)
    m.int8_portable = False
    m.precision = "fp32"
    assert np.array_equal(np.asarray(m.predict_proba(x)), p32)


def test_weight_change_returns_to_fp32():
    m = libfer.Model.default()
    m.quantize(faces_free_inputs(m, 8, 3))
    m.precision = "int8"
    m.set_tensor(0, m.get_tensor(0))
    assert m.precision == "fp32"


def test_bad_calibration():
    m = libfer.Model.default()
    with pytest.raises(errors.InvalidArgumentError):
        m.quantize(np.zeros(100, dtype=np.float32))  # not whole images
    with pytest.raises(errors.InvalidArgumentError):
        m.quantize(np.zeros(0, dtype=np.float32))  # no images
    bad = faces_free_inputs(m, 2, 4)
    bad[1, 0, 5, 5] = np.nan
    with pytest.raises(errors.InvalidArgumentError, match="non-finite"):
        m.quantize(bad)
    with pytest.raises(errors.InvalidArgumentError):
        m.precision = "int4"


def test_saved_quantisation(tmp_path):
    """A saved quantised model (format version 4, QUNT section) loads
    quantised: int8 without calibration, the same outputs bit for bit."""
    m = libfer.Model.default()
    m.quantize(faces_free_inputs(m, 16, 5))
    m.precision = "int8"
    x = faces_free_inputs(m, 12, 6)
    p8 = np.asarray(m.predict_proba(x))
    path = tmp_path / "q.ferm"
    m.save(str(path))
    data = path.read_bytes()
    assert int.from_bytes(data[8:12], "little") == 4
    for back in (libfer.Model.load(str(path)), libfer.Model.from_bytes(data)):
        assert back.precision == "fp32"  # loads quantised, runs fp32 until asked
        back.precision = "int8"
        assert np.array_equal(np.asarray(back.predict_proba(x)), p8)
    # An unquantised model keeps writing its old version, without QUNT.
    plain = libfer.Model.default().to_bytes()
    assert int.from_bytes(plain[8:12], "little") < 4
    assert b"QUNT" not in plain
