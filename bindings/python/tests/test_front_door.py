"""The front door: analyze() and friends take paths, bytes, numpy arrays
(RGB or BGR), PIL images and libfer.Image alike; refuse anything else with
a TypeError that lists what they take; and give results that convert
(to_dict, the fer package's shape), draw (annotate) and show in notebooks.

References: Pillow and OpenCV decode the files and convert the colours,
OpenCV's own detector finds the astronaut's face, the fer command (C)
draws the annotated image, ElementTree reads the SVG.
"""
import base64
import io
import json
import os
import pathlib
import subprocess
import threading
import xml.etree.ElementTree as ET

import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")
PIL_Image = pytest.importorskip("PIL.Image")

ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
OPENCV_CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
# The keys of the fer package's detect_emotions() results (its README).
FER_PACKAGE_EMOTIONS = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"}
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def photo_path():
    if not os.path.isfile(ASTRONAUT):
        pytest.skip("%s is absent (Debian package python3-skimage)" % ASTRONAUT)
    if not (libfer.has_default_model() and libfer.has_default_cascade()):
        pytest.skip("this libfer has no built-in model or cascade")
    return ASTRONAUT


@pytest.fixture(scope="module")
def rgb(photo_path):
    """The photo's pixels as Pillow decodes them."""
    return np.asarray(PIL_Image.open(photo_path).convert("RGB"))


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / float(aw * ah + bw * bh - w * h)


def summary(faces):
    return [(f.box, f.label, round(f.confidence, 6)) for f in faces]


def test_every_input_kind_gives_the_same_pixels_and_faces(photo_path, rgb, tmp_path):
    cv2 = pytest.importorskip("cv2")
    bgr = cv2.imread(photo_path)
    assert (bgr[..., ::-1] == rgb).all()  # the two references agree
    with open(photo_path, "rb") as f:
        encoded = f.read()
    inputs = {
        "str path": (photo_path, {}),
        "pathlib path": (pathlib.Path(photo_path), {}),
        "bytes": (encoded, {}),
        "bytearray": (bytearray(encoded), {}),
        "memoryview": (memoryview(encoded), {}),
        "RGB array": (rgb, {}),
        "BGR array from cv2.imread": (bgr, {"channel_order": "BGR"}),
        "BGR array, lower-case order": (bgr, {"channel_order": "bgr"}),
        "RGBA array": (np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]), {}),
        "BGRA array": (cv2.cvtColor(bgr, cv2.COLOR_BGR2BGRA), {"channel_order": "BGR"}),
        "strided view": (np.ascontiguousarray(bgr[:, :, ::-1])[:, :, ::-1],
                         {"channel_order": "BGR"}),
        "PIL RGB": (PIL_Image.open(photo_path).convert("RGB"), {}),
        "PIL RGBA": (PIL_Image.open(photo_path).convert("RGBA"), {}),
        "PIL palette": (PIL_Image.open(photo_path).convert("RGB").quantize(256), {}),
        "libfer.Image": (libfer.Image.load(photo_path), {}),
    }
    palette_rgb = np.asarray(inputs["PIL palette"][0].convert("RGB"))
    from libfer._inputs import to_image
    expected = None
    for name, (value, kw) in inputs.items():
        pixels = to_image(value, kw.get("channel_order", "RGB")).to_array()
        want = palette_rgb if name == "PIL palette" else rgb
        assert (pixels == want).all(), name
        faces = libfer.analyze(value, **kw)
        assert isinstance(faces, libfer.Faces) and isinstance(faces, list), name
        if name != "PIL palette":
            expected = expected or summary(faces)
            assert summary(faces) == expected, name
    # The astronaut's face, where OpenCV's own detector puts it.
    found = cv2.CascadeClassifier(OPENCV_CASCADE).detectMultiScale(
        cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), 1.1, 3, minSize=(30, 30))
    assert len(expected) == 1 and len(found) == 1
    assert iou(expected[0][0], tuple(found[0])) > 0.6
    assert expected[0][1] in FER_PACKAGE_EMOTIONS


def test_gray_inputs(photo_path, rgb):
    cv2 = pytest.importorskip("cv2")
    gray = cv2.imread(photo_path, cv2.IMREAD_GRAYSCALE)
    from libfer._inputs import to_image
    for value in (gray, gray[:, :, None], PIL_Image.fromarray(gray)):
        img = to_image(value)
        assert img.channels == 1 and (img.to_array() == gray).all()
    faces = libfer.analyze(gray)
    assert len(faces) == 1 and iou(faces[0].box, libfer.analyze(rgb)[0].box) > 0.8


def test_jpeg_files_decode_like_pillow(photo_path, rgb, tmp_path):
    path = tmp_path / "photo.jpg"
    PIL_Image.fromarray(rgb).save(str(path), quality=90)
    ours = libfer.Image.load(path).to_array().astype(int)
    pillow = np.asarray(PIL_Image.open(str(path)).convert("RGB")).astype(int)
    assert np.abs(ours - pillow).mean() < 1.0
    faces = libfer.analyze(path)
    assert len(faces) == 1 and iou(faces[0].box, libfer.analyze(rgb)[0].box) > 0.8


@pytest.mark.parametrize("value, words", [
    (None, ["None", "cv2.imread"]),
    ([[1, 2], [3, 4]], ["list", "file path", "numpy uint8 array", "PIL image"]),
    (42, ["int", "file path"]),
    (3.5, ["float"]),
    ({"path": "x.png"}, ["dict"]),
])
def test_other_types_are_a_type_error_listing_what_is_accepted(value, words):
    for call in (lambda: libfer.analyze(value),
                 lambda: libfer.Analyzer().analyze(value),
                 lambda: libfer.annotate(value, []),
                 lambda: libfer.Cascade.default().detect(value)):
        with pytest.raises(TypeError) as info:
            call()
        assert isinstance(info.value, libfer.LibferError)
        for word in words:
            assert word in str(info.value)


def test_bad_arrays():
    with pytest.raises(TypeError, match="uint8.*float64"):
        libfer.analyze(np.zeros((40, 40, 3)))
    with pytest.raises(TypeError, match="uint8"):
        libfer.Cascade.default().detect(np.zeros((40, 40), np.float32))
    with pytest.raises(errors.InvalidArgumentError, match="shape"):
        libfer.analyze(np.zeros((40, 40, 5), np.uint8))
    with pytest.raises(errors.InvalidArgumentError, match="shape"):
        libfer.analyze(np.zeros((2, 40, 40, 3), np.uint8))
    with pytest.raises(errors.InvalidArgumentError, match="channel_order"):
        libfer.analyze(np.zeros((40, 40, 3), np.uint8), channel_order="GBR")
    with pytest.raises(errors.InvalidArgumentError, match="empty"):
        libfer.analyze(b"")


def test_bad_files_name_the_file_and_the_reason(tmp_path):
    missing = tmp_path / "missing.jpg"
    with pytest.raises(errors.LibferIOError) as info:
        libfer.analyze(str(missing))
    assert str(missing) in str(info.value) and "No such file" in str(info.value)
    with pytest.raises(errors.LibferIOError):
        libfer.analyze(missing)  # os.PathLike
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("hello, this is text")
    with pytest.raises(errors.FileFormatError) as info:
        libfer.analyze(not_an_image)
    assert str(not_an_image) in str(info.value) and "format" in str(info.value)
    cut = tmp_path / "cut.png"
    with open(ASTRONAUT, "rb") as f:
        cut.write_bytes(f.read()[:5000])
    if os.path.isfile(ASTRONAUT):
        with pytest.raises(errors.FileFormatError) as info:
            libfer.analyze(cut)
        assert str(cut) in str(info.value)
    with pytest.raises(errors.FileFormatError):
        libfer.analyze(b"not an image at all")
    for call in (lambda: libfer.Model.default().predict(missing),
                 lambda: libfer.Cascade.default().detect(missing)):
        with pytest.raises(errors.LibferIOError, match="missing.jpg"):
            call()


def test_predict_and_detect_take_the_same_inputs(photo_path, rgb):
    cv2 = pytest.importorskip("cv2")
    bgr = rgb[:, :, ::-1].copy()
    model = libfer.Model.default()
    face = libfer.analyze(photo_path)[0]
    x, y, w, h = face.box
    crop_rgb = rgb[y:y + h, x:x + w]
    reference = model.predict(libfer.Image.from_array(crop_rgb))
    for value, order in ((crop_rgb, "RGB"), (crop_rgb[:, :, ::-1].copy(), "BGR"),
                         (PIL_Image.fromarray(crop_rgb), "RGB")):
        got = model.predict(value, channel_order=order)
        assert got["label"] == reference["label"]
        assert got["probabilities"] == pytest.approx(reference["probabilities"], abs=1e-6)
        assert np.allclose(model.predictor().predict_proba(value, channel_order=order),
                           list(reference["probabilities"].values()), atol=1e-6)
    # A float batch is still a batch.
    assert model.predict_proba(np.zeros((2,) + tuple(model.input_shape), np.float32)).shape \
        == (2, len(model.class_names))
    cascade = libfer.Cascade.load(OPENCV_CASCADE) if os.path.isfile(OPENCV_CASCADE) \
        else pytest.skip("opencv-data is absent")
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    from_gray = cascade.detect(gray, 1.1, 3, (30, 30))
    for value, order in ((photo_path, "RGB"), (bgr, "BGR"), (PIL_Image.open(photo_path), "RGB")):
        boxes = cascade.detect(value, 1.1, 3, (30, 30), channel_order=order)
        assert len(boxes) == len(from_gray) == 1 and iou(boxes[0], from_gray[0]) > 0.9
        assert cascade.detector().detect(value, channel_order=order) != []


def test_video_writer_takes_bgr_frames(tmp_path):
    rng = np.random.default_rng(5)
    frames = [rng.integers(0, 256, (6, 10, 3), dtype=np.uint8) for _ in range(3)]
    paths = [tmp_path / "rgb.y4m", tmp_path / "bgr.y4m"]
    with libfer.Y4MWriter(str(paths[0]), 10, 6) as a, libfer.Y4MWriter(str(paths[1]), 10, 6) as b:
        for f in frames:
            a.write(libfer.Image.from_array(f))
            b.write(f[:, :, ::-1].copy(), channel_order="BGR")
        with pytest.raises(TypeError):
            b.write([1, 2, 3])
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_results_convert(photo_path):
    faces = libfer.analyze(photo_path)
    face = faces[0]
    d = face.to_dict()
    assert json.loads(json.dumps(d)) == d
    assert d["box"] == list(face.box) and d["label"] == face.label
    assert d["confidence"] == pytest.approx(face.confidence)
    assert d["probabilities"] == pytest.approx(face.probabilities)
    assert max(d["probabilities"], key=d["probabilities"].get) == d["label"]
    for conversion in (libfer.to_fer(faces), faces.to_fer()):
        assert json.loads(json.dumps(conversion)) == conversion
        assert len(conversion) == 1 and set(conversion[0]) == {"box", "emotions"}
        x, y, w, h = conversion[0]["box"]
        assert (x, y, w, h) == face.box and all(type(v) is int for v in (x, y, w, h))
        assert set(conversion[0]["emotions"]) == FER_PACKAGE_EMOTIONS
        assert conversion[0]["emotions"] == pytest.approx(face.probabilities)
    rounded = libfer.to_fer(faces, decimals=2)[0]["emotions"]
    assert all(v == round(v, 2) for v in rounded.values())
    assert all(abs(rounded[k] - face.probabilities[k]) <= 0.005 + 1e-9 for k in rounded)
    assert faces.to_dicts() == [d]
    assert libfer.to_fer([]) == []
    with pytest.raises(TypeError):
        libfer.to_fer([{"box": [1, 2, 3, 4]}])


def test_analyze_settings_apply_to_one_call(photo_path):
    assert libfer.analyze(photo_path, min_size=300) == []
    assert len(libfer.analyze(photo_path)) == 1  # back to the defaults
    with pytest.raises(errors.NotFoundError):
        libfer.analyze(photo_path, colour=3)
    results = []
    threads = [threading.Thread(target=lambda: results.append(summary(libfer.analyze(
        photo_path)))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [summary(libfer.analyze(photo_path))] * 3


def test_annotate_draws_like_the_fer_command(photo_path, rgb, tmp_path):
    cv2 = pytest.importorskip("cv2")
    bgr = rgb[:, :, ::-1].copy()
    faces = libfer.analyze(bgr, channel_order="BGR")
    before = bgr.copy()
    drawn = libfer.annotate(bgr, faces, channel_order="BGR")
    assert (bgr == before).all()  # the input is not changed
    assert isinstance(drawn, libfer.Image) and drawn.shape == rgb.shape
    out = np.asarray(drawn)
    assert (out == drawn.to_array()).all()
    x, y, w, h = faces[0].box
    changed = np.argwhere((out != rgb).any(axis=2))
    assert len(changed) > 100
    # Only the box and its label changed: nothing far from the face.
    assert changed[:, 0].min() >= y - 60 and changed[:, 0].max() <= y + h + 60
    assert changed[:, 1].min() >= x - 60 and changed[:, 1].max() <= x + w + 200
    assert (drawn.to_array("BGR") == cv2.cvtColor(out, cv2.COLOR_RGB2BGR)).all()
    # Saves as PNG (exact) and JPEG; both open in Pillow.
    drawn.save(str(tmp_path / "a.png"))
    drawn.save(str(tmp_path / "a.jpg"))
    assert (np.asarray(PIL_Image.open(str(tmp_path / "a.png"))) == out).all()
    jpeg = np.asarray(PIL_Image.open(str(tmp_path / "a.jpg")).convert("RGB")).astype(int)
    assert np.abs(jpeg - out).mean() < 3
    assert (np.asarray(drawn.to_pil()) == out).all()
    # A libfer.Image given is not changed either; gray input gives RGB out.
    image = libfer.Image.load(photo_path)
    assert (libfer.annotate(image, faces).to_array() == out).all()
    assert (image.to_array() == rgb).all()
    assert libfer.annotate(image.to_gray(), faces).channels == 3
    # The fer command, in C, draws the same picture.
    fer = os.path.join(os.environ.get("FER_BUILD_ROOT", ""), "examples", "fer", "fer")
    if os.path.isfile(fer):
        # Without the ASan runtime run_pytest.sh may preload into Python: the
        # program of a sanitizer build carries its own.
        env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
        subprocess.run([fer, "analyze", photo_path, "--annotate", str(tmp_path / "cli")],
                       check=True, capture_output=True, env=env)
        cli = np.asarray(PIL_Image.open(str(tmp_path / "cli" / "astronaut.png")))
        assert (cli == out).all()
    # Faces outlive the analyzer that found them while it stays open...
    with libfer.Analyzer() as an:
        own = an.analyze(photo_path)
        assert (libfer.annotate(photo_path, own).to_array() == out).all()
    # ... and after it is closed the built-in one draws them (same names).
    assert (libfer.annotate(photo_path, own).to_array() == out).all()
    with pytest.raises(TypeError):
        libfer.annotate(photo_path, [(1, 2, 3, 4)])


def test_notebook_pictures(photo_path, rgb):
    faces = libfer.analyze(photo_path)
    image = libfer.Image.load(photo_path)
    assert (np.asarray(PIL_Image.open(io.BytesIO(image._repr_png_()))) == rgb).all()
    drawn = libfer.annotate(photo_path, faces).to_array()
    assert (np.asarray(PIL_Image.open(io.BytesIO(faces._repr_png_()))) == drawn).all()

    root = ET.fromstring(faces._repr_svg_())
    assert root.tag == SVG + "svg"
    embedded = root.find(SVG + "image")
    href = embedded.get("{http://www.w3.org/1999/xlink}href")
    assert href.startswith("data:image/png;base64,")
    shown = PIL_Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1])))
    assert shown.size == (int(embedded.get("width")), int(embedded.get("height")))
    assert max(shown.size) <= 400
    panels = root.findall(".//" + SVG + "g[@class='face']")
    assert len(panels) == len(faces) == 1
    check_panel(panels[0], faces[0], 1)

    alone = ET.fromstring(faces[0]._repr_svg_())
    assert alone.find(SVG + "image") is None
    check_panel(alone.find(".//" + SVG + "g[@class='face']"), faces[0], 1)

    empty = libfer.analyze(np.zeros((60, 80, 3), np.uint8))
    assert empty == [] and "no face found" in empty._repr_svg_()
    assert PIL_Image.open(io.BytesIO(empty._repr_png_())).size == (80, 60)


def check_panel(panel, face, number):
    """Each class has a track and a bar whose width over the track's is
    its probability, and its name."""
    rows = panel.findall(SVG + "g[@class='row']")
    assert len(rows) == len(face.probabilities)
    for row, (name, p) in zip(rows, face.probabilities.items()):
        track = row.find(SVG + "rect[@class='track']")
        bar = row.find(SVG + "rect[@class='bar']")
        assert float(bar.get("width")) / float(track.get("width")) == pytest.approx(p, abs=1e-3)
        texts = [t.text for t in row.findall(SVG + "text")]
        assert texts[0] == name and texts[1] == "%.0f%%" % (100 * p)
    title = panel.find(SVG + "text").text
    assert title == "face %d: %s %.0f%%" % (number, face.label, 100 * face.confidence)


def test_ipython_shows_pictures(photo_path):
    ipython = pytest.importorskip("IPython.core.formatters",
                                  reason="IPython is not installed (Debian python3-ipython)")
    formatter = ipython.DisplayFormatter()
    faces = libfer.analyze(photo_path)
    data, _ = formatter.format(faces)
    assert {"image/png", "image/svg+xml", "text/plain"} <= set(data)
    data, _ = formatter.format(libfer.Image.load(photo_path))
    assert "image/png" in data and data["image/png"].startswith(b"\x89PNG")
    data, _ = formatter.format(faces[0])
    assert "image/svg+xml" in data
