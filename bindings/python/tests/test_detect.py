"""The detector wrapper against OpenCV's CascadeClassifier on the same photo."""
import gc
import os

import pytest

import libfer
from libfer import _lib, errors

np = pytest.importorskip("numpy")

CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"


@pytest.fixture
def cascade_path():
    if getattr(_lib.load_library(), "fer_cascade_load", None) is None:
        pytest.skip("this libfer build has no detector (fer_cascade_load is missing)")
    if not os.path.isfile(CASCADE):
        pytest.skip("%s is absent (Debian package opencv-data)" % CASCADE)
    return CASCADE


def astronaut():
    data = pytest.importorskip("skimage.data")
    return data.astronaut()  # 512 x 512 RGB


def test_detect_matches_opencv(cascade_path):
    cv2 = pytest.importorskip("cv2")
    rgb = astronaut()
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    expect = cv2.CascadeClassifier(cascade_path).detectMultiScale(
        gray, scaleFactor=1.1, minNeighbors=3, minSize=(30, 30))
    expect = sorted(tuple(int(v) for v in box) for box in expect)
    cascade = libfer.Cascade.load(cascade_path)
    assert cascade.window_size == (24, 24) and cascade.stage_count == 25
    assert cascade.feature_type == "haar"
    image = libfer.Image.from_array(rgb)
    boxes = cascade.detect(image, scale_factor=1.1, min_neighbors=3, min_size=(30, 30))
    assert sorted(boxes) == expect
    # The OpenCV spelling, a gray array (zero-copy path), and a detector.
    assert sorted(cascade.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3,
                                           minSize=(30, 30))) == expect
    with cascade.detector(scale_factor=1.1, min_neighbors=3, min_size=30) as det:
        assert det.get("min_neighbors") == 3
        full = det.detect_detections(image)
        assert sorted(b for b, _, _ in full) == expect
        assert all(n > 3 for _, n, _ in full)


def test_cascade_files_and_lifetimes(cascade_path, tmp_path):
    cascade = libfer.Cascade.load(cascade_path)
    rgb = astronaut()
    image = libfer.Image.from_array(rgb)
    expect = sorted(cascade.detect(image))
    path = tmp_path / "face.fercascade"
    cascade.save(str(path))
    again = libfer.Cascade.load(str(path))
    assert sorted(again.detect(image)) == expect
    assert sorted(libfer.Cascade.from_bytes(cascade.to_bytes()).detect(image)) == expect
    det = again.detector()
    del again
    gc.collect()
    assert sorted(det.detect(image)) == expect  # the detector keeps its cascade
    det.cascade.close()
    with pytest.raises(errors.MisuseError):
        det.detect(image)
    # More results than the buffer holds: it grows and nothing is lost.
    raw = cascade.detector(min_neighbors=0).detect(image)
    small = cascade.detector(min_neighbors=0)
    small._capacity = 2
    small._results = (libfer.detect.Detection * 2)()
    assert len(raw) > 2 and small.detect(image) == raw


def test_detect_errors(cascade_path, tmp_path):
    with pytest.raises(errors.LibferIOError) as info:
        libfer.Cascade.load(str(tmp_path / "missing.xml"))
    assert "missing.xml" in str(info.value)
    bad = tmp_path / "bad.xml"
    bad.write_text("<opencv_storage><cascade>")
    with pytest.raises(errors.FileFormatError) as info:
        libfer.Cascade.load(str(bad))
    assert "bad.xml" in str(info.value)
    cascade = libfer.Cascade.load(cascade_path)
    with pytest.raises(errors.InvalidArgumentError):
        cascade.detect(libfer.Image.new(50, 50, 1), scale_factor=1.0)
    with pytest.raises(errors.NotFoundError):
        cascade.detector(speed=3)
    with pytest.raises(errors.InvalidArgumentError):
        cascade.detect(np.zeros((10, 10), dtype=np.float32))
    assert "scale_factor" in libfer.Detector.params()
    assert cascade.detect(libfer.Image.new(10, 10, 1)) == []
