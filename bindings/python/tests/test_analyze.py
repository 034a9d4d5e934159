"""The analyzer wrapper: boxes equal the detector's, probabilities equal the
model's own prediction on the same crop, annotation draws."""
import os

import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")

CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

SMALL = """input 1x48x48
conv 4 3x3 same
relu
max 2x2/2
flatten
dense 7
softmax
"""


@pytest.fixture
def photo():
    data = pytest.importorskip("skimage.data")
    return libfer.Image.from_array(data.astronaut())


@pytest.fixture
def cascade():
    if not os.path.isfile(CASCADE):
        pytest.skip("%s is absent (Debian package opencv-data)" % CASCADE)
    return libfer.Cascade.load(CASCADE)


def test_params_and_names(cascade):
    model = libfer.Model.from_text(SMALL)
    an = libfer.Analyzer(model, cascade, scale_factor=1.15, min_size=(40, 40))
    params = libfer.Analyzer.params()
    assert set(params) == {"scale_factor", "min_neighbors", "min_size", "max_size", "margin",
                           "detect_interval", "region_margin", "region_scale"}
    assert params["detect_interval"] == (1.0, 1.0, 10000.0)
    assert an.get("scale_factor") == pytest.approx(1.15)
    assert an.get("min_size") == 40
    assert an.num_classes == 7 and an.class_names[3] == "happy"
    with pytest.raises(errors.InvalidArgumentError) as info:
        an.set(scale_factor=0.5)
    assert "0.5" in str(info.value) or "scale" in str(info.value)
    with pytest.raises(errors.NotFoundError):
        an.set(colour=1)
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Analyzer(model=model)


def test_faces_match_detector_and_model(photo, cascade):
    model = libfer.Model.from_text(SMALL)
    model.init_weights(seed=3)
    an = libfer.Analyzer(model, cascade, scale_factor=1.2, min_neighbors=4, min_size=36)
    faces = an.analyze(photo)
    boxes = cascade.detect(photo, scale_factor=1.2, min_neighbors=4, min_size=(36, 36))
    assert sorted(f.box for f in faces) == sorted(tuple(b) for b in boxes)
    assert len(faces) >= 1
    for face in faces:
        probs = face.probabilities
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)
        assert face.label == max(probs, key=probs.get)
        assert face.confidence == pytest.approx(probs[face.label], abs=1e-6)
        x, y, w, h = face.box
        # The model on the same crop, gray and area-resized, as the C API does.
        crop = photo.crop(x, y, w, h).to_gray().resize(48, 48, "area")
        expect = model.predict_proba(crop)
        got = np.array([probs[n] for n in an.class_names])
        assert np.allclose(np.asarray(expect).ravel(), got, atol=1e-4)
    before = photo.to_array()
    an.annotate(photo, faces)
    assert (photo.to_array() != before).any()
    # A picture without faces is an empty list, not an error.
    assert an.analyze(libfer.Image.new(200, 200, 3)) == []
    an.close()
    with pytest.raises(errors.MisuseError):
        an.analyze(photo)


def test_default_analyzer(photo):
    assert isinstance(libfer.has_default_model(), bool)
    assert isinstance(libfer.has_default_cascade(), bool)
    if not libfer.has_default_model():
        pytest.skip("this libfer has no built-in model")
    if not libfer.has_default_cascade() and not os.path.isfile(CASCADE):
        pytest.skip("no built-in cascade and no OpenCV cascade installed")
    faces = libfer.analyze(photo)
    assert len(faces) == 1
    x, y, w, h = faces[0].box
    assert 150 < x < 210 and 40 < y < 100 and 70 < w < 130  # the astronaut's face


def face_summary(faces):
    return [(f.box, f.label, round(f.confidence, 6),
             tuple(round(p, 6) for p in f.probabilities.values())) for f in faces]


def test_analyze_batch_equals_one_image_at_a_time(photo, cascade):
    model = libfer.Model.from_text(SMALL)
    model.init_weights(seed=5)
    an = libfer.Analyzer(model, cascade, min_size=36)
    blank = libfer.Image.new(120, 90, 3)
    flipped = photo.flip_horizontal()
    images = [photo, blank, flipped, photo]
    one_by_one = [an.analyze(img) for img in images]
    assert len(one_by_one[0]) >= 1 and one_by_one[1] == []
    an._capacity = 1  # the batch needs more room: the wrapper grows it
    an._alloc()
    batch = an.analyze_batch(images)
    assert [face_summary(f) for f in batch] == [face_summary(f) for f in one_by_one]
    assert an.analyze_batch([]) == []
    assert an.analyze_batch([blank]) == [[]]
    closed = libfer.Image.new(4, 4, 1)
    closed.close()
    with pytest.raises(errors.MisuseError):
        an.analyze_batch([photo, closed])
    with pytest.raises(TypeError, match="image 1"):
        an.analyze_batch([photo, 3])
    with pytest.raises(errors.LibferIOError, match="missing.jpg"):
        an.analyze_batch([photo, "missing.jpg"])


def test_model_and_cascade_properties(photo, cascade):
    model = libfer.Model.from_text(SMALL)
    an = libfer.Analyzer(model, cascade)
    assert an.model is model and an.cascade is cascade


def test_default_parts_are_borrowed_views_that_keep_the_analyzer(photo):
    if not libfer.has_default_model():
        pytest.skip("this libfer has no built-in model")
    if not libfer.has_default_cascade() and not os.path.isfile(CASCADE):
        pytest.skip("no built-in cascade and no OpenCV cascade installed")
    an = libfer.Analyzer()
    faces = an.analyze(photo)
    model, cascade = an.model, an.cascade
    assert an.model is model  # one view per analyzer
    assert model.class_names == an.class_names
    del an
    import gc
    gc.collect()
    # The views keep the analyzer (and so the C model and cascade) alive.
    x, y, w, h = faces[0].box
    crop = photo.crop(x, y, w, h).to_gray().resize(48, 48, "area")
    expect = np.array([faces[0].probabilities[n] for n in model.class_names])
    np.testing.assert_allclose(np.asarray(model.predict_proba(crop)).ravel(), expect,
                               atol=1e-4)
    assert [tuple(b) for b in cascade.detect(photo, scale_factor=1.2, min_neighbors=4,
                                              min_size=(36, 36))] == [faces[0].box]
    # The built-in model equals a fresh copy of it.
    assert model.to_bytes() == libfer.Model.default().to_bytes()
    with pytest.raises(errors.MisuseError):
        model.init_weights(seed=1)  # read-only: the analyzer runs it
    # Dropping a view never frees the analyzer's model.
    owner = model._owner
    del model, cascade
    gc.collect()
    assert len(owner.analyze(photo)) == 1
    view = owner.model
    owner.close()
    with pytest.raises(errors.MisuseError):
        view.output_size


def test_default_model_both_branches():
    if libfer.has_default_model():
        m = libfer.Model.default()
        assert m.output_size == 7 and m.class_names[3] == "happy"
        assert m.to_bytes() == libfer.Model.default().to_bytes()
    else:
        with pytest.raises(errors.NotFoundError, match="default model"):
            libfer.Model.default()


def test_default_cascade_both_branches(monkeypatch, tmp_path):
    # $FER_CASCADE names the file whether or not one is built in, and a bad
    # name is an error (never a silent fallback to another cascade).
    monkeypatch.setenv("FER_CASCADE", str(tmp_path / "absent.xml"))
    with pytest.raises(errors.LibferIOError, match="FER_CASCADE"):
        libfer.Cascade.default()
    if os.path.isfile(CASCADE):
        monkeypatch.setenv("FER_CASCADE", CASCADE)
        got = libfer.Cascade.default()
        assert got.to_bytes() == libfer.Cascade.load(CASCADE).to_bytes()
    monkeypatch.delenv("FER_CASCADE")
    if libfer.has_default_cascade():
        # Built in: libfer's own models/frontalface.fercascade.
        own = os.path.join(os.path.dirname(__file__), "..", "..", "..", "models",
                           "frontalface.fercascade")
        default = libfer.Cascade.default()
        assert default.stage_count > 0
        if os.path.isfile(own):
            assert default.to_bytes() == libfer.Cascade.load(own).to_bytes()
    elif os.path.isfile(CASCADE):
        assert libfer.Cascade.default().to_bytes() == libfer.Cascade.load(CASCADE).to_bytes()
    else:
        with pytest.raises(errors.NotFoundError, match="opencv-data"):
            libfer.Cascade.default()


def test_expression_colors():
    # The colours the header documents, as hue families.
    r, g, b = libfer.expression_color("happy")
    assert r > 150 and g > 150 and b < 100  # yellow
    r, g, b = libfer.expression_color("sad")
    assert b > r and b > g  # blue
    r, g, b = libfer.expression_color("angry")
    assert r > 150 and g < 100 and b < 100  # red
    r, g, b = libfer.expression_color("disgust")
    assert g > r and g > b  # green
    r, g, b = libfer.expression_color("neutral")
    assert max(r, g, b) - min(r, g, b) < 30  # gray
    assert all(0 <= v <= 255 for v in libfer.expression_color("smirk", 9))
    assert libfer.expression_color("smirk", 9) == libfer.expression_color("smirk", 9)


def test_video_detect_interval(photo, cascade):
    """detect_interval: between full detections only the regions around
    known faces are scanned; a still photo keeps its faces, and a face that
    appears is found only at the next full detection, or after reset()."""
    model = libfer.Model.from_text(SMALL)
    model.init_weights(seed=3)
    an = libfer.Analyzer(model, cascade, scale_factor=1.2, min_neighbors=4, min_size=36,
                         detect_interval=3)
    assert an.get("detect_interval") == 3
    full = sorted(f.box for f in libfer.Analyzer(model, cascade, scale_factor=1.2,
                                                  min_neighbors=4, min_size=36).analyze(photo))
    assert full
    for _ in range(4):
        assert sorted(f.box for f in an.analyze(photo)) == full
    blank = libfer.Image.from_array(np.full((512, 512, 3), 128, np.uint8))
    an.reset()
    assert an.analyze(blank) == []
    assert an.analyze(photo) == []  # between full detections: no new face yet
    assert an.reset() is an
    assert sorted(f.box for f in an.analyze(photo)) == full
    with pytest.raises(errors.InvalidArgumentError) as info:
        an.set(detect_interval=0)
    assert "detect_interval" in str(info.value)
    with pytest.raises(errors.InvalidArgumentError):
        an.set(region_scale=0.5)
