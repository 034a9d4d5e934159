#!/usr/bin/env python3
"""The fer analyze, predict and video commands from the outside: their JSON
parsed with Python's json module, CSV with csv, boxes compared with OpenCV's
own CascadeClassifier, exit codes, and a Y4M clip piped through stdin.

usage: test_cli_analyze.py FER MAKE_TEST_MODEL
"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

SKIP = 77
ASTRONAUT = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
CASCADE = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"
FER2013 = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def run(args, stdin=None):
    return subprocess.run(args, input=stdin, capture_output=True, timeout=120)


def opencv_boxes(path):
    import cv2
    gray = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2GRAY)
    found = cv2.CascadeClassifier(CASCADE).detectMultiScale(
        gray, scaleFactor=1.2, minNeighbors=4, minSize=(36, 36))
    return sorted(tuple(int(v) for v in box) for box in found)


def y4m_clip(frames):
    """A 640x480 C420jpeg clip panning over the astronaut photo."""
    import numpy as np
    from PIL import Image
    photo = Image.open(ASTRONAUT).convert("RGB").resize((800, 600))
    out = io.BytesIO()
    out.write(b"YUV4MPEG2 W640 H480 F25:1 Ip A1:1 C420jpeg\n")
    for k in range(frames):
        frame = photo.crop((10 * k, 5 * k, 10 * k + 640, 5 * k + 480)).convert("YCbCr")
        y, u, v = (np.asarray(p) for p in frame.split())
        # Y4M from ffmpeg is limited range: squeeze the full-range planes.
        y = (16 + y.astype(np.float64) * 219 / 255).round().astype(np.uint8)
        u, v = ((16 + c[::2, ::2].astype(np.float64) * 224 / 255).round().astype(np.uint8)
                for c in (u, v))
        out.write(b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes())
    return out.getvalue()


def main():
    fer, make_model = sys.argv[1], sys.argv[2]
    for need in (ASTRONAUT, CASCADE):
        if not os.path.exists(need):
            print("SKIP:", need, "is missing", file=sys.stderr)
            return SKIP
    try:
        import cv2  # noqa: F401
        import numpy  # noqa: F401
        from PIL import Image
    except ImportError as e:
        print("SKIP: needs python3-opencv, numpy and PIL:", e, file=sys.stderr)
        return SKIP
    tmp = tempfile.mkdtemp(prefix="fer_cli_")
    model = os.path.join(tmp, "model.ferm")
    check(run([make_model, model]).returncode == 0, "make_test_model")
    base = [fer, "analyze", "--model", model, "--cascade", CASCADE]

    # JSON: one object per image, boxes as OpenCV finds them.
    r = run(base + ["--json", ASTRONAUT])
    check(r.returncode == 0, "analyze --json exit 0: %s" % r.stderr)
    lines = r.stdout.decode().splitlines()
    check(len(lines) == 1, "one JSON line per image")
    doc = json.loads(lines[0])
    check(doc["image"] == ASTRONAUT and doc["width"] == 512 and doc["height"] == 512,
          "image fields")
    boxes = sorted((f["box"]["x"], f["box"]["y"], f["box"]["width"], f["box"]["height"])
                   for f in doc["faces"])
    check(boxes == opencv_boxes(ASTRONAUT), "boxes %s vs OpenCV %s" % (boxes, opencv_boxes(ASTRONAUT)))
    for f in doc["faces"]:
        probs = f["probabilities"]
        check(sorted(probs) == sorted(FER2013), "class names")
        check(abs(sum(probs.values()) - 1) < 1e-4, "probabilities sum to 1")
        check(f["label"] == max(probs, key=probs.get), "label is the top class")
        check(abs(f["confidence"] - probs[f["label"]]) < 1e-6, "confidence")

    # CSV: a header and one row per face with the same boxes.
    r = run(base + ["--csv", ASTRONAUT])
    rows = list(csv.DictReader(io.StringIO(r.stdout.decode())))
    check(r.returncode == 0 and len(rows) == len(doc["faces"]), "CSV rows")
    check(sorted((int(w["x"]), int(w["y"]), int(w["width"]), int(w["height"])) for w in rows)
          == boxes, "CSV boxes")

    # A folder: its images in name order; no face is an empty list.
    folder = os.path.join(tmp, "photos")
    os.mkdir(folder)
    Image.open(ASTRONAUT).save(os.path.join(folder, "a.png"))
    Image.new("RGB", (200, 150), (90, 90, 90)).save(os.path.join(folder, "b.jpg"))
    open(os.path.join(folder, "notes.txt"), "w").write("not an image")
    annotated = os.path.join(tmp, "annotated")
    r = run(base + ["--json", folder, "--annotate", annotated])
    docs = [json.loads(line) for line in r.stdout.decode().splitlines()]
    check(r.returncode == 0 and [os.path.basename(d["image"]) for d in docs] == ["a.png", "b.jpg"],
          "folder listing: %s" % r.stderr)
    check(len(docs) == 2 and docs[1]["faces"] == [], "no faces is an empty list")
    for name, size in (("a.png", (512, 512)), ("b.png", (200, 150))):
        path = os.path.join(annotated, name)
        check(os.path.exists(path) and Image.open(path).size == size, "annotated " + name)

    # Exit codes and messages that name the file.
    r = run(base + ["--bogus", ASTRONAUT])
    check(r.returncode == 2, "unknown option exits 2")
    r = run(base + [os.path.join(tmp, "missing.png")])
    check(r.returncode == 1 and b"missing.png" in r.stderr, "missing file exits 1 naming it")
    r = run(base + ["--scale-factor", "0.5", ASTRONAUT])
    check(r.returncode == 2 and b"scale_factor" in r.stderr, "bad setting exits 2")
    r = run([fer, "analyze", "--model", os.path.join(tmp, "nope.ferm"), ASTRONAUT])
    check(r.returncode == 1 and b"nope.ferm" in r.stderr, "missing model exits 1 naming it")
    for command in ("analyze", "video", "predict"):
        r = run([fer, command, "--help"])
        check(r.returncode == 0 and b"usage: fer " + command.encode() in r.stdout, command + " --help")

    # predict on a crop.
    crop = os.path.join(tmp, "crop.png")
    Image.open(ASTRONAUT).convert("L").crop((170, 60, 280, 170)).save(crop)
    r = run([fer, "predict", "--model", model, "--json", crop])
    check(r.returncode == 0, "predict exit 0: %s" % r.stderr)
    p = json.loads(r.stdout.decode())
    check(p["label"] in FER2013 and abs(sum(p["probabilities"].values()) - 1) < 1e-4, "predict JSON")

    # video through a pipe: JSON lines on stdout, annotated Y4M in a file.
    frames = 6
    clip = y4m_clip(frames)
    out = os.path.join(tmp, "out.y4m")
    r = run([fer, "video", "-", "-o", out, "--model", model, "--cascade", CASCADE], stdin=clip)
    check(r.returncode == 0, "video exit 0: %s" % r.stderr)
    per_frame = [json.loads(line) for line in r.stdout.decode().splitlines()]
    check([d["frame"] for d in per_frame] == list(range(frames)), "one JSON line per frame")
    ids = [f["id"] for d in per_frame for f in d["faces"]]
    check(len(ids) >= 2 and len(set(ids)) == 1, "the face keeps one id: %s" % ids)
    data = open(out, "rb").read()
    check(data.startswith(b"YUV4MPEG2 W640 H480 F25:1"), "Y4M header")
    check(data.count(b"FRAME\n") == frames and len(data) == len(data.split(b"\n")[0]) + 1
          + frames * (6 + 640 * 480 * 3 // 2), "Y4M frames")
    # Video to stdout, JSON to a file.
    json_path = os.path.join(tmp, "frames.jsonl")
    r = run([fer, "video", "-", "-o", "-", "--json", json_path, "--model", model,
             "--cascade", CASCADE], stdin=clip)
    check(r.returncode == 0 and r.stdout.startswith(b"YUV4MPEG2"), "video to stdout")
    check(len(open(json_path).read().splitlines()) == frames, "JSON to a file")
    # --detect-interval 2: frames 0, 2, 4 scanned whole, 1, 3, 5 only around
    # the faces of the frame before. The face comes into view at frame 2
    # and stays well inside its region, so every frame has the boxes above
    # (frame 3 found by the region scan alone).
    r = run([fer, "video", "-", "--detect-interval", "2", "--model", model, "--cascade", CASCADE],
            stdin=clip)
    check(r.returncode == 0, "video --detect-interval exit 0: %s" % r.stderr)
    boxes = lambda lines: [[f["box"] for f in d["faces"]] for d in lines]
    every = [json.loads(line) for line in r.stdout.decode().splitlines()]
    check(boxes(every) == boxes(per_frame) and boxes(per_frame)[3] and not boxes(per_frame)[1],
          "--detect-interval 2 keeps the boxes: %s" % boxes(every))
    r = run([fer, "video", "-", "--detect-interval", "0", "--model", model, "--cascade", CASCADE],
            stdin=clip)
    check(r.returncode == 2 and b"detect_interval" in r.stderr, "bad --detect-interval exits 2")
    r = run([fer, "video", "-", "--model", model, "--cascade", CASCADE], stdin=clip[:1000])
    check(r.returncode == 1 and b"frame" in r.stderr, "truncated video exits 1")

    # int8: fer quantize on a small folder of face-sized crops, then
    # analyze --int8 with the file it wrote: the same boxes, other
    # probabilities close to fp32's; a model without a quantisation is
    # refused (exit 1, message naming it).
    calib = os.path.join(tmp, "calib")
    photo = Image.open(ASTRONAUT).convert("L")
    for k, name in enumerate(FER2013):
        os.makedirs(os.path.join(calib, name))
        for j in range(2):
            x, y = 150 + 20 * k, 50 + 30 * j
            photo.crop((x, y, x + 120, y + 120)).resize((48, 48)).save(
                os.path.join(calib, name, "%d.png" % j))
    quantised = os.path.join(tmp, "q.ferm")
    r = run([fer, "quantize", model, calib, quantised, "--calibrate", "10"])
    check(r.returncode == 0, "quantize exit 0: %s" % r.stderr)
    with open(quantised, "rb") as f:
        check(f.read(12)[8:] == (4).to_bytes(4, "little"), "quantised file is version 4")
    r = run([fer, "analyze", "--model", quantised, "--cascade", CASCADE, "--int8",
             "--json", ASTRONAUT])
    check(r.returncode == 0, "analyze --int8 exit 0: %s" % r.stderr)
    doc8 = json.loads(r.stdout.decode().splitlines()[0]) if r.returncode == 0 else {"faces": []}
    check([f["box"] for f in doc8["faces"]] == [f["box"] for f in doc["faces"]],
          "--int8 finds the same faces")
    diffs = [abs(a["probabilities"][c] - b["probabilities"][c])
             for a, b in zip(doc8["faces"], doc["faces"]) for c in FER2013]
    check(diffs and 0 < max(diffs) < 0.05, "--int8 probabilities near fp32's: %s" % diffs)
    r = run(base + ["--int8", "--json", ASTRONAUT])
    check(r.returncode == 1 and b"quantisation" in r.stderr and model.encode() in r.stderr,
          "--int8 without a quantisation exits 1: %s" % r.stderr)
    r = run([fer, "quantize", model, calib])
    check(r.returncode == 2, "quantize without OUT exits 2")

    print("%d failures" % failures, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
