"""End to end: the tutorial example run as a user would, on a FER2013 CSV
made by ../shared/data/fer2013/make_csv.py and a photo from ../shared/data."""
import os
import subprocess
import sys

import pytest

from libfer import _lib

np = pytest.importorskip("numpy")
PIL = pytest.importorskip("PIL.Image")

HERE = os.path.dirname(os.path.abspath(__file__))
TUTORIAL = os.path.join(os.path.dirname(HERE), "examples", "tutorial.py")
CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"


def fer2013_csv(make_csv, tmp_path):
    """The CSV, made once per build folder (about a minute; much longer on
    a loaded machine) and kept there for later runs."""
    build = os.environ.get("FER_BUILD_ROOT")
    folder = build if build and os.path.isdir(build) else str(tmp_path)
    csv = os.path.join(folder, "python-tests-fer2013.csv")
    if not os.path.isfile(csv):
        partial = csv + ".%d.part" % os.getpid()
        subprocess.run(["/usr/bin/python3", make_csv, partial], check=True, timeout=1500,
                       capture_output=True)
        os.replace(partial, csv)
    return csv


@pytest.mark.slow
def test_tutorial_end_to_end(shared_data, tmp_path):
    make_csv = os.path.join(shared_data, "fer2013", "make_csv.py")
    if not os.path.isfile(os.path.join(shared_data, "fer2013", "fer2013-folders.tar.gz")):
        pytest.skip("../shared/data/fer2013 is absent")
    csv = fer2013_csv(make_csv, tmp_path)
    photo = os.path.join(shared_data, "faces", "images", "pic00036.jpg")
    has_detector = getattr(_lib.load_library(), "fer_cascade_load", None) is not None
    args = [sys.executable, TUTORIAL, csv, photo, "--epochs", "2", "--limit", "2000",
            "--model-out", str(tmp_path / "m.ferm"), "--out", str(tmp_path / "out.png")]
    if has_detector and os.path.isfile(CASCADE):
        args += ["--cascade", CASCADE]
    env = dict(os.environ, PYTHONPATH=os.path.dirname(HERE))
    result = subprocess.run(args, capture_output=True, text=True, timeout=1500,
                            cwd=str(tmp_path), env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert sum(1 for l in lines if l.startswith("epoch")) == 2
    evaluation = [l for l in lines if l.startswith("PublicTest:")]
    assert evaluation and "'count': 3589" in evaluation[0]
    accuracy = float(evaluation[0].split("'accuracy': ")[1].split(",")[0])
    assert accuracy > 1 / 7, "no better than chance after 2 epochs: %s" % evaluation[0]
    faces = [l for l in lines if l.startswith("face at")]
    assert faces, result.stdout
    # The annotated photo: decoded by PIL, the same size as the input, and
    # changed exactly along the drawn boxes and labels.
    before = np.asarray(PIL.open(photo).convert("RGB"))
    after = np.asarray(PIL.open(str(tmp_path / "out.png")).convert("RGB"))
    assert after.shape == before.shape
    changed = np.any(after != before, axis=2)
    assert changed.any()
    if has_detector:
        gt = [l.split("\t") for l in open(os.path.join(shared_data, "faces", "boxes.tsv"))
              if l.startswith("images/pic00036.jpg")]
        x, y, w, h = (int(v) for v in gt[0][1:])
        boxes = [eval(l.split("face at ")[1].split(" looks")[0]) for l in faces]
        # The detected face overlaps the annotated one.
        assert any(bx < x + w and x < bx + bw and by < y + h and y < by + bh
                   for bx, by, bw, bh in boxes)
