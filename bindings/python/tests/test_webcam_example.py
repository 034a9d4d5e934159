"""examples/webcam.py, the tutorials' OpenCV webcam loop ported to libfer,
run on a video file: OpenCV reads the frames, libfer finds and draws the
faces. References: OpenCV's own face detector on the frames OpenCV decoded,
and the input frames themselves (only the face's surroundings change)."""
import json
import os
import subprocess
import sys

import pytest

import libfer

np = pytest.importorskip("numpy")
cv2 = pytest.importorskip("cv2")

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLE = os.path.join(PACKAGE_ROOT, "examples", "webcam.py")
ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
OPENCV_CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
FRAMES = 6
SIDE = 320


def write_y4m(path, frames_bgr):
    """A 4:2:0 Y4M file, written here from OpenCV's I420 conversion."""
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W%d H%d F10:1 Ip A1:1 C420jpeg\n" % (SIDE, SIDE))
        for frame in frames_bgr:
            f.write(b"FRAME\n")
            f.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())


def read_frames(path):
    capture = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    w = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0, min(ay + ah, by + bh) - max(ay, by))
    return w * h / float(aw * ah + bw * bh - w * h)


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    for path, package in ((ASTRONAUT, "python3-skimage"), (OPENCV_CASCADE, "opencv-data")):
        if not os.path.isfile(path):
            pytest.skip("%s is absent (Debian package %s)" % (path, package))
    if not (libfer.has_default_model() and libfer.has_default_cascade()):
        pytest.skip("this libfer has no built-in model or cascade")
    photo = cv2.resize(cv2.imread(ASTRONAUT), (SIDE, SIDE), interpolation=cv2.INTER_AREA)
    # The face moves right by 6 pixels a frame (the left edge is repeated).
    frames = [np.ascontiguousarray(np.concatenate([photo[:, :1].repeat(6 * i, axis=1),
                                                   photo[:, :SIDE - 6 * i]], axis=1))
              for i in range(FRAMES)]
    path = str(tmp_path_factory.mktemp("video") / "astronaut.y4m")
    write_y4m(path, frames)
    decoded = read_frames(path)
    if len(decoded) != FRAMES:
        pytest.skip("this OpenCV cannot read Y4M files (no FFmpeg backend)")
    return path, decoded


@pytest.mark.parametrize("output", ["annotated.avi", "annotated.y4m"])
def test_webcam_loop_on_a_video_file(video, output, tmp_path):
    path, decoded = video
    out_path = str(tmp_path / output)
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DISPLAY", None)
    done = subprocess.run([sys.executable, EXAMPLE, path, "--no-window", "--json",
                           "--output", out_path], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["frame"] for line in lines] == list(range(1, FRAMES + 1))
    opencv = cv2.CascadeClassifier(OPENCV_CASCADE)
    written = read_frames(out_path)
    assert len(written) == FRAMES
    for line, frame, drawn in zip(lines, decoded, written):
        assert len(line["faces"]) == 1
        face = line["faces"][0]
        assert abs(sum(face["emotions"].values()) - 1) < 1e-3
        found = opencv.detectMultiScale(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), 1.1, 3,
                                        minSize=(30, 30))
        assert max(iou(face["box"], tuple(box)) for box in found) > 0.5
        # The box is drawn: its top edge changed; a far corner did not.
        x, y, w, h = face["box"]
        diff = np.abs(drawn.astype(int) - frame.astype(int)).mean(axis=2)
        assert diff[max(0, y - 2):y + 3, x:x + w].mean() > 25
        assert diff[SIDE - 60:, :60].mean() < 6
