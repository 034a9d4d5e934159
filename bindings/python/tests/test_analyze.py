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
    assert set(params) == {"scale_factor", "min_neighbors", "min_size", "max_size", "margin"}
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
