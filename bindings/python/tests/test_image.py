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


HEADERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                       "include", "fer")


def header_value(header, macro):
    """An integer #define from the public headers (read as text here)."""
    import re
    path = os.path.join(HEADERS, header)
    if not os.path.isfile(path):
        pytest.skip("include/fer is not next to the package")
    text = open(path).read()
    expr = re.search(r"#define %s\s+(.+)" % macro, text).group(1)
    return eval(expr.split("/*")[0].replace("L", ""))


def test_limits_status_names_and_error_state():
    assert libfer.Image.limits() == {"max_side": header_value("image.h", "FER_IMAGE_MAX_SIDE"),
                                     "max_pixels": header_value("image.h", "FER_IMAGE_MAX_PIXELS")}
    assert libfer.Model.limits() == {
        "max_layers": header_value("nn.h", "FER_MODEL_MAX_LAYERS"),
        "max_params": header_value("nn.h", "FER_MODEL_MAX_PARAMS")}
    assert libfer.status_string(errors.FORMAT) == "FER_ERR_FORMAT"
    assert libfer.status_string(999) == "FER_ERR_UNKNOWN"
    with pytest.raises(errors.InvalidArgumentError) as info:
        libfer.set_num_threads(-1)
    assert info.value.status_name == "FER_ERR_INVALID_ARGUMENT"
    assert libfer.last_error() and libfer.last_error() in str(info.value)
    libfer.clear_error()
    assert libfer.last_error() == ""


def test_memory_access_copy_fill_and_conversions():
    rng = np.random.default_rng(9)
    gray = rng.integers(0, 256, (5, 7), dtype=np.uint8)
    img = libfer.Image.from_array(gray)
    assert img.stride >= 7
    raw = np.frombuffer(img.raw(), dtype=np.uint8).reshape(5, img.stride)
    assert np.array_equal(raw[:, :7], gray)
    twin = img.copy()
    img.write_pixels(gray[::-1].copy())
    assert np.array_equal(img.to_array(), gray[::-1])
    assert np.array_equal(twin.to_array(), gray)  # the copy is independent
    with pytest.raises(errors.InvalidArgumentError):
        img.write_pixels(b"\0" * 3)
    rgb = twin.to_rgb()
    assert rgb.shape == (5, 7, 3)
    assert all(np.array_equal(rgb.to_array()[:, :, c], gray) for c in range(3))
    rgb.fill_rect((1, 1, 3, 2), (10, 20, 30))
    arr = rgb.to_array()
    assert (arr[1:3, 1:4] == [10, 20, 30]).all() and np.array_equal(arr[0, :, 0], gray[0])
    assert twin.orientation == 1


def test_from_yuv420_matches_opencv():
    cv2 = pytest.importorskip("cv2")
    rng = np.random.default_rng(10)
    w, h = 8, 6
    y = rng.integers(16, 236, (h, w), dtype=np.uint8)
    u = rng.integers(16, 241, (h // 2, w // 2), dtype=np.uint8)
    v = rng.integers(16, 241, (h // 2, w // 2), dtype=np.uint8)
    expect = cv2.cvtColor(np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w),
                          cv2.COLOR_YUV2RGB_I420)
    got = libfer.Image.from_yuv420(y, u, v, w, h).to_array()
    assert np.abs(got.astype(int) - expect).max() <= 1
    uv = np.stack([u, v], axis=2).reshape(h // 2, w)
    nv12 = libfer.Image.from_yuv420(y.tobytes(), uv.tobytes(), None, w, h, nv12=True)
    assert np.array_equal(nv12.to_array(), got)
