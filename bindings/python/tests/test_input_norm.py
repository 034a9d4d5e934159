"""Per-image input normalisation (Model.set_image_normalization,
Model.preprocess, image_sharpness) against numpy and scipy references."""
import math

import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")

NET = "input 1x16x16\nflatten\ndense 3\nsoftmax\n"


def numpy_sharpness(x):
    x = np.asarray(x, dtype=np.float64)
    sd = x.std()
    if sd == 0:
        return 0.0
    dx = np.abs(np.diff(x, axis=-1))
    dy = np.abs(np.diff(x, axis=-2))
    return (dx.sum() + dy.sum()) / (dx.size + dy.size) / sd


def test_sharpness_matches_numpy():
    rng = np.random.default_rng(1)
    for shape in [(16, 16), (3, 9, 5), (1, 48, 48)]:
        x = rng.uniform(0, 255, size=shape).astype(np.float32)
        assert libfer.image_sharpness(x) == pytest.approx(numpy_sharpness(x), rel=1e-5)
    flat = [[4.0] * 5 for _ in range(4)]
    assert libfer.image_sharpness(flat) == 0.0
    with pytest.raises(errors.InvalidArgumentError):
        libfer.image_sharpness(np.zeros(10, dtype=np.float32))


def test_standardize_and_affine_match_numpy():
    m = libfer.Model.from_text(NET)
    m.set_preprocessing(scale=1 / 255, mean=0.5, std=0.25)
    m.set_image_normalization(standardize=True)
    assert m.image_normalization == {"standardize": True, "sharpness_limit": 0.0}
    rng = np.random.default_rng(2)
    raw = rng.integers(0, 256, size=(4, 1, 16, 16)).astype(np.float32)
    got = m.preprocess(raw)
    assert got.shape == raw.shape and not np.shares_memory(got, raw)
    v = (raw.astype(np.float64) / 255 - 0.5) / 0.25
    want = (v - v.mean(axis=(1, 2, 3), keepdims=True)) / v.std(axis=(1, 2, 3), keepdims=True)
    np.testing.assert_allclose(got, want, atol=2e-5)


def test_sharpness_limit_matches_scipy_gaussian():
    ndimage = pytest.importorskip("scipy.ndimage")
    m = libfer.Model.from_text(NET)
    m.set_preprocessing(scale=1.0, mean=0.0, std=1.0)
    limit = 0.35
    m.set_image_normalization(sharpness_limit=limit)
    raw = np.random.default_rng(3).uniform(0, 255, size=(1, 16, 16)).astype(np.float32)
    got = m.preprocess(raw)
    assert libfer.image_sharpness(got) <= limit

    def blur(sigma):
        radius = math.ceil(3 * sigma)
        return ndimage.gaussian_filter(raw[0].astype(np.float64), sigma, mode="nearest",
                                       truncate=radius / sigma)
    # The smallest sigma on the 0.25 px ladder that reaches the limit.
    sigma = next(0.25 * k for k in range(1, 33) if numpy_sharpness(blur(0.25 * k)) <= limit)
    np.testing.assert_allclose(got[0], blur(sigma), atol=1e-3)
    assert numpy_sharpness(blur(sigma - 0.25)) > limit


def test_predict_and_dataset_paths_use_it(tmp_path):
    m = libfer.Model.from_text(NET)
    m.init_weights(seed=3)
    m.set_image_normalization(standardize=True, sharpness_limit=0.5)
    rng = np.random.default_rng(4)
    pixels = rng.integers(0, 256, size=(6, 1, 16, 16)).astype(np.uint8)
    ds = libfer.Dataset.from_arrays(pixels, [0, 1, 2, 0, 1, 2], num_classes=3)
    want = m.predict_proba(m.preprocess(pixels.astype(np.float32)))
    np.testing.assert_allclose(m.predict_proba(ds), want, atol=1e-6)
    img = libfer.Image.from_array(pixels[2, 0])
    np.testing.assert_allclose(m.predict_proba(img), want[2], atol=1e-6)
    path = tmp_path / "norm.ferm"
    m.save(path)
    again = libfer.Model.load(path)
    assert again.image_normalization == {"standardize": True, "sharpness_limit": 0.5}


def test_bad_settings_raise():
    m = libfer.Model.from_text(NET)
    with pytest.raises(errors.InvalidArgumentError, match="sharpness limit"):
        m.set_image_normalization(sharpness_limit=-1)
    with pytest.raises(errors.InvalidArgumentError):
        m.preprocess(np.zeros(7, dtype=np.float32))
