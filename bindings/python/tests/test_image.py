"""The Image wrapper against numpy and PIL references."""
import os
import threading

import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")


def test_version_and_threads():
    assert libfer.version().count(".") == 2
    libfer.set_num_threads(1)
    assert libfer.get_num_threads() == 1
    libfer.set_num_threads(0)
    with pytest.raises(errors.InvalidArgumentError) as info:
        libfer.set_num_threads(-3)
    assert "-3" in str(info.value)
    assert info.value.status == errors.INVALID_ARGUMENT


def test_array_round_trip_gray_rgb_bgr():
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 256, (13, 17), dtype=np.uint8)
    img = libfer.Image.from_array(gray)
    assert (img.width, img.height, img.channels) == (17, 13, 1)
    assert np.array_equal(img.to_array(), gray)
    rgb = rng.integers(0, 256, (9, 11, 3), dtype=np.uint8)
    img = libfer.Image.from_array(rgb, channel_order="RGB")
    assert np.array_equal(img.to_array("RGB"), rgb)
    assert np.array_equal(img.to_array("BGR"), rgb[:, :, ::-1])
    bgr_img = libfer.Image.from_array(rgb[:, :, ::-1].copy(), channel_order="BGR")
    assert np.array_equal(bgr_img.to_array("RGB"), rgb)
    # A non-contiguous view works too.
    assert np.array_equal(libfer.Image.from_array(rgb[:, ::2]).to_array(), rgb[:, ::2])


def test_bytes_without_numpy_paths():
    data = bytes(range(12))
    img = libfer.Image.from_bytes(data, 4, 3, "GRAY")
    assert img.to_bytes() == data
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Image.from_bytes(b"\0" * 5, 4, 3, "GRAY")
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Image.from_bytes(data, 4, 3, "XYZ")


def test_gray_matches_opencv_weights():
    rgb = np.random.default_rng(2).integers(0, 256, (8, 8, 3), dtype=np.uint8)
    gray = libfer.Image.from_array(rgb).to_gray().to_array()
    r, g, b = [rgb[:, :, i].astype(np.int64) for i in range(3)]
    expect = (r * 4899 + g * 9617 + b * 1868 + 8192) >> 14
    assert np.array_equal(gray, expect)


def test_png_encode_decode_and_save(tmp_path):
    rgb = np.random.default_rng(3).integers(0, 256, (20, 30, 3), dtype=np.uint8)
    img = libfer.Image.from_array(rgb)
    data = img.encode("png")
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert np.array_equal(libfer.Image.decode(data).to_array(), rgb)
    path = tmp_path / "x.png"
    img.save(str(path))
    back = libfer.Image.load(str(path))
    assert np.array_equal(back.to_array(), rgb)
    PIL = pytest.importorskip("PIL.Image")
    assert np.array_equal(np.asarray(PIL.open(str(path)).convert("RGB")), rgb)


def test_errors_carry_messages(tmp_path):
    with pytest.raises(errors.LibferIOError) as info:
        libfer.Image.load(str(tmp_path / "missing.png"))
    assert "missing.png" in str(info.value)
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)
    with pytest.raises(errors.FileFormatError):
        libfer.Image.load(str(bad))


def test_operations():
    rgb = np.zeros((40, 60, 3), dtype=np.uint8)
    img = libfer.Image.from_array(rgb)
    img.draw_rect((5, 5, 20, 10), color=(255, 0, 0), thickness=1)
    arr = img.to_array()
    assert tuple(arr[5, 10]) == (255, 0, 0) and tuple(arr[8, 10]) == (0, 0, 0)
    w, h = libfer.Image.text_size("hi", 2)
    assert (w, h) == (32, 16)
    img.draw_text(0, 20, "hi", 2, (255, 255, 255))
    assert img.to_array()[20:36, 0:32].any()
    assert img.crop(10, 10, 5, 7).shape == (7, 5, 3)
    assert img.resize(30, 20, "area").shape == (20, 30, 3)
    flipped = libfer.Image.from_array(np.arange(6, dtype=np.uint8).reshape(2, 3))
    flipped.flip_horizontal()
    assert flipped.to_array().tolist() == [[2, 1, 0], [5, 4, 3]]


def test_handle_lifetime():
    img = libfer.Image.new(4, 4, 1)
    img.close()
    img.close()  # idempotent
    with pytest.raises(errors.MisuseError):
        img.width
    with libfer.Image.new(2, 2, 3) as im2:
        assert im2.channels == 3
    assert im2.closed


def test_concurrent_use():
    rgb = np.random.default_rng(4).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    img = libfer.Image.from_array(rgb)
    expect = img.resize(48, 48).to_array()
    results = []

    def work():
        for _ in range(20):
            results.append(np.array_equal(img.resize(48, 48).to_array(), expect))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(results) and len(results) == 80
