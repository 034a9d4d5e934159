#!/usr/bin/env python3
"""fer train-cascade from the outside, on synthetic data made here.

Positives are noisy cartoon faces (a bright oval, two dark eyes, a mouth)
in the FER2013 folder layout; negatives are random textures named by a list
file. The test trains small cascades and checks what a user relies on: the
positive count the options imply, one progress line per stage, the written
files (read back by fer detect, by an XML parser and by OpenCV when
available) for Haar and LBP features, byte-identical reruns and resumes, and clear refusals of bad
input without a crash (under ASan too: the jittered crops of --crop 0,0,48
once read outside the 48x48 sample).

usage: test_cli_train_cascade.py FER
"""
import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SKIP = 77
SIDE = 48  # FER2013 sample side
FACES_PER_CLASS = {"happy": 40, "sad": 30}
JITTER = 2
STAGES = 2
DATA_SEED = 2026  # of the synthetic images
# Small enough to train in about a second under ASan. A stage may pass 2% of
# the negatives (not the default 50%): the cartoon faces are so easy that a
# 50% stage is one weak tree, and two such stages find blobs, not faces.
TRAIN_OPTIONS = ["--crop", "0,0,48", "--jitter", str(JITTER), "--mirror",
                 "--num-pos", "200", "--num-neg", "200", "--max-features", "400",
                 "--max-false-alarm", "0.02", "--threads", "1", "--seed", "1"]

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)
    return cond


def run(args):
    """The finished process; a run past the time limit (--jitter 1e9 once
    ran for ever) comes back as exit status 124 saying so."""
    try:
        return subprocess.run(args, capture_output=True, timeout=30)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(args, 124, b"", b"timed out after 30 s")


def write_pgm(path, pixels):
    height, width = pixels.shape
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (width, height))
        f.write(pixels.astype("uint8").tobytes())


def cartoon_face(rng, np):
    """A 48x48 face the way FER2013 frames one: the oval fills the crop."""
    dy, dx = rng.integers(-1, 2, size=2)
    y, x = np.mgrid[0:SIDE, 0:SIDE].astype(float)
    y -= dy
    x -= dx
    skin = rng.uniform(150, 210)
    img = np.full((SIDE, SIDE), rng.uniform(40, 80))
    img[((x - 24) / 19) ** 2 + ((y - 25) / 23) ** 2 <= 1] = skin
    for eye_x in (16, 32):
        img[((x - eye_x) / 4.5) ** 2 + ((y - 19) / 3) ** 2 <= 1] = skin * 0.25
    img[(abs(x - 24) <= 8) & (abs(y - 35) <= 2)] = skin * 0.35
    img += rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).round()


def texture(rng, np, height, width):
    """Blocks, blobs and faceless ovals with dark spots in the wrong
    places: the parts of a face, never arranged as one, so that a stage
    has to look at where the eyes and mouth are."""
    coarse = rng.uniform(0, 255, (height // 8 + 2, width // 8 + 2))
    img = np.kron(coarse, np.ones((8, 8)))[:height, :width]
    y, x = np.mgrid[0:height, 0:width].astype(float)
    for _ in range(height * width // 1000):
        cy, cx = rng.uniform(0, height), rng.uniform(0, width)
        ry, rx = rng.uniform(2, 25, size=2)
        inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1
        img[inside] = rng.uniform(0, 255)
        if rx > 12 and ry > 12:  # an oval big enough to be mistaken for a head
            for _ in range(rng.integers(0, 4)):
                sy, sx = cy + rng.uniform(-ry, ry) / 2, cx + rng.uniform(-rx, rx) / 2
                img[((x - sx) / rng.uniform(2, 6)) ** 2 + ((y - sy) / 3) ** 2 <= 1] = 30
    img += rng.normal(0, 8, img.shape)
    return np.clip(img, 0, 255).round()


def make_positives(root, rng, np):
    """The folder layout: root/<class>/<n>.pgm; returns the sample count."""
    count = 0
    for name, n in FACES_PER_CLASS.items():
        os.makedirs(os.path.join(root, name))
        for k in range(n):
            write_pgm(os.path.join(root, name, "%03d.pgm" % k), cartoon_face(rng, np))
            count += 1
    return count


def make_negatives(folder, rng, np, count=6):
    """Textures in folder/img/ and the list folder/bg.txt naming them
    relative to its own folder."""
    os.makedirs(os.path.join(folder, "img"))
    names = []
    for k in range(count):
        name = "img/bg%d.pgm" % k
        write_pgm(os.path.join(folder, name), texture(rng, np, 100, 120))
        names.append(name)
    with open(os.path.join(folder, "bg.txt"), "w") as f:
        f.write("\n".join(names) + "\n")
    return os.path.join(folder, "bg.txt")


def make_scene(path, rng, np):
    """A 320x260 texture with four faces pasted at twice the sample size;
    returns their boxes (x, y, side)."""
    img = texture(rng, np, 260, 320)
    boxes = [(16, 20, 2 * SIDE), (200, 24, 2 * SIDE), (30, 150, 2 * SIDE), (190, 140, 2 * SIDE)]
    for x, y, side in boxes:
        img[y:y + side, x:x + side] = np.kron(cartoon_face(rng, np), np.ones((2, 2)))
    write_pgm(path, img)
    return boxes


def iou(a, b):
    """Intersection over union of two (x, y, w, h) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    inter = max(w, 0) * max(h, 0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def detect(fer, cascade, image):
    """fer detect's boxes (x, y, w, h), or None when it fails."""
    r = run([fer, "detect", "--cascade", cascade, image])
    if not check(r.returncode == 0, "fer detect with %s: %s" % (cascade, r.stderr)):
        return None
    lines = r.stdout.decode().splitlines()
    found = int(re.match(r".*: (\d+) found$", lines[0]).group(1))
    boxes = [tuple(int(v) for v in line.split()[:4]) for line in lines[1:]]
    check(found == len(boxes), "fer detect prints as many boxes as it says it found")
    return boxes


def opencv():
    """The cv2 module, or None (a note says what goes unchecked)."""
    try:
        import cv2
    except ImportError:
        print("note: no cv2: OpenCV's reading of the XML not checked", file=sys.stderr)
        return None
    return cv2


def is_crash(r):
    """Killed by a signal (ASan aborts), or a sanitizer report."""
    return r.returncode < 0 or b"AddressSanitizer" in r.stderr or b"runtime error" in r.stderr


def read_files(prefix):
    """The bytes of PREFIX.xml and PREFIX.fercascade; None if one is missing."""
    paths = [prefix + ext for ext in (".xml", ".fercascade")]
    if not all(os.path.exists(path) for path in paths):
        return None
    return [open(path, "rb").read() for path in paths]


def check_training(fer, tmp, train, samples, name="a"):
    """One training: exit 0, the positive count, a progress line per stage,
    both files; their stage count read back by an XML parser and by OpenCV."""
    prefix = os.path.join(tmp, name)
    r = run(train + ["--out", prefix, "--stages", str(STAGES)])
    out = r.stdout.decode()
    if not check(r.returncode == 0 and not is_crash(r), "training exits 0: %s" % r.stderr):
        return None
    expected = samples * (1 + JITTER) * 2  # each sample, its jittered copies, all mirrored
    check(counts_of(r) == (expected, 6),
          "(positives, negative images) %s, expected (%d, 6)" % (counts_of(r), expected))
    stages = [int(s) for s in re.findall(r"^stage +(\d+): ", out, re.M)]
    check(stages == list(range(STAGES)), "one progress line per stage: %s" % out)
    if not check(read_files(prefix) and all(read_files(prefix)), "wrote both files"):
        return None
    root = ET.parse(prefix + ".xml").getroot()
    check(root.findtext("cascade/stageNum", "").strip() == str(STAGES)
          and len(root.findall("cascade/stages/_")) == STAGES, "XML holds %d stages" % STAGES)
    cv2 = opencv()
    if cv2:
        check(not cv2.CascadeClassifier(prefix + ".xml").empty(), "OpenCV loads the XML")
    return prefix


def check_detection(fer, tmp, prefix, rng, np):
    """The cascade finds a pasted face; the same boxes from either file and,
    when cv2 is there, from OpenCV's detector reading the XML."""
    scene = os.path.join(tmp, "scene.pgm")
    faces = make_scene(scene, rng, np)
    from_binary = detect(fer, prefix + ".fercascade", scene)
    from_xml = detect(fer, prefix + ".xml", scene)
    check(from_binary == from_xml, "the same boxes from either file")
    best = max((iou(box, (x, y, side, side)) for box in from_binary or []
                for x, y, side in faces), default=0)
    check(best >= 0.5, "a box on a pasted face (best IoU %.2f): %s" % (best, from_binary))
    cv2 = opencv()
    if not cv2:
        return
    gray = cv2.imread(scene, cv2.IMREAD_GRAYSCALE)
    # fer detect's defaults are OpenCV's: scale factor 1.1, 3 neighbours.
    found = cv2.CascadeClassifier(prefix + ".xml").detectMultiScale(gray, 1.1, 3)
    by_opencv = sorted(tuple(int(v) for v in box) for box in found)
    check(by_opencv == sorted(from_binary or []), "OpenCV's boxes %s, fer detect's %s"
          % (by_opencv, from_binary))


def check_determinism_and_resume(tmp, train, reference):
    """A rerun, and a run stopped after one stage then resumed, both give
    the reference's bytes."""
    again = os.path.join(tmp, "again")
    r = run(train + ["--out", again, "--stages", str(STAGES)])
    expected = read_files(reference)
    check(r.returncode == 0 and read_files(again) == expected,
          "the same command twice gives the same files: %s" % r.stderr)
    state = os.path.join(tmp, "state")
    resumed = os.path.join(tmp, "resumed")
    first = run(train + ["--out", resumed, "--stages", "1", "--state", state])
    check(first.returncode == 0 and os.path.exists(state), "a one-stage run writes its state")
    rest = run(train + ["--out", resumed, "--stages", str(STAGES), "--state", state])
    trained = re.findall(r"^stage +(\d+): ", rest.stdout.decode(), re.M)
    check(rest.returncode == 0 and trained == [str(s) for s in range(1, STAGES)],
          "the resumed run trains only the missing stages: %s" % rest.stdout.decode())
    check(rest.returncode == 0 and read_files(resumed) == expected,
          "resumed files equal the uninterrupted run's: %s" % rest.stderr)


def weak_per_stage(prefix):
    root = ET.parse(prefix + ".xml").getroot()
    return [int(st.findtext("maxWeakCount")) for st in root.findall("cascade/stages/_")]


def check_first_stage_budget(tmp, train, reference):
    """The first stages trained with a smaller --max-weak, the rest resumed
    from the state with the full settings (how models/frontalface.md keeps
    the first stages small): the budget holds for the first stage, and the
    resumed run trains the remaining stages only."""
    full = weak_per_stage(reference)
    if not check(full[0] > 1, "the uncapped first stage needs more than one tree: %s" % full):
        return
    state = os.path.join(tmp, "budget_state")
    prefix = os.path.join(tmp, "budget")
    first = run(train + ["--out", prefix, "--stages", "1", "--max-weak", "1", "--state", state])
    check(first.returncode == 0, "a one-stage run with --max-weak 1: %s" % first.stderr)
    rest = run(train + ["--out", prefix, "--stages", str(STAGES), "--state", state])
    trained = re.findall(r"^stage +(\d+): ", rest.stdout.decode(), re.M)
    check(rest.returncode == 0 and trained == [str(s) for s in range(1, STAGES)],
          "the resumed run trains only the missing stages: %s" % rest.stdout.decode())
    if rest.returncode == 0:
        weak = weak_per_stage(prefix)
        check(len(weak) == STAGES and weak[0] == 1,
              "weak classifiers per stage %s: the first one capped at 1 (uncapped %s)"
              % (weak, full))


def counts_of(r):
    """(positives, negative images) from the line the command prints
    before training, or None."""
    m = re.search(r"^(\d+) positives, (\d+) negative images$", r.stdout.decode(), re.M)
    return m and (int(m.group(1)), int(m.group(2)))


def check_other_sources(fer, tmp, neg_list, rng, np):
    """--pos-csv with --usage, --pos-boxes and --neg-stride: the samples
    each one takes, as the test wrote them."""
    quick = ["--stages", "1", "--max-features", "100", "--threads", "1",
             "--out", os.path.join(tmp, "quick")]
    rows = {"Training": 12, "PublicTest": 5}
    csv_path = os.path.join(tmp, "faces.csv")
    with open(csv_path, "w") as f:
        f.write("emotion,pixels,Usage\n")
        for usage, n in rows.items():
            for k in range(n):
                pixels = " ".join(str(int(v)) for v in cartoon_face(rng, np).ravel())
                f.write('%d,"%s",%s\n' % (k % 7, pixels, usage))
    for usage, expected in ((None, rows["Training"]), ("publictest", rows["PublicTest"]),
                            ("all", sum(rows.values()))):
        args = ["--pos-csv", csv_path, "--neg-list", neg_list, "--jitter", "1", "--mirror"]
        r = run([fer, "train-cascade"] + args + (["--usage", usage] if usage else []) + quick)
        check(r.returncode == 0 and counts_of(r) == (expected * 2 * 2, 6),
              "--pos-csv --usage %s: %s, expected %d positives: %s"
              % (usage, counts_of(r), expected * 4, r.stderr))
    # A tiny crop in the far corner: its jittered copies (a side of 0 to 4
    # before clamping) stay inside the sample and are all taken, which the
    # count line says. (Most are too flat to keep, so neither the count nor
    # the training's success is known here.)
    r = run([fer, "train-cascade", "--pos-csv", csv_path, "--neg-list", neg_list,
             "--crop", "46,46,2", "--jitter", "4"] + quick)
    check(counts_of(r) and not is_crash(r),
          "--crop 46,46,2 --jitter 4: %s: %s" % (counts_of(r), r.stderr))

    # Boxes on photos in a sub-folder, named relative to the list; a header
    # line and a box past the border are passed over. (A training needs 10
    # positives: two photos of four faces, mirrored.)
    os.makedirs(os.path.join(tmp, "boxes", "photos"))
    box_list = os.path.join(tmp, "boxes", "faces.txt")
    boxes = 0
    with open(box_list, "w") as f:
        f.write("image x y w h\n")
        for name in ("a.pgm", "b.pgm"):
            for x, y, side in make_scene(os.path.join(tmp, "boxes", "photos", name), rng, np):
                f.write("photos/%s %d %d %d %d\n" % (name, x, y, side, side))
                boxes += 1
            f.write("photos/%s 300 200 96 96\n" % name)
    r = run([fer, "train-cascade", "--pos-boxes", box_list, "--neg-list", neg_list,
             "--mirror"] + quick)
    check(r.returncode == 0 and counts_of(r) == (boxes * 2, 6),
          "--pos-boxes: %s, expected %d positives: %s" % (counts_of(r), boxes * 2, r.stderr))

    # Every second line, from the first: the lines in between name no file,
    # so a stride that read them would fail.
    strided = os.path.join(tmp, "neg", "strided.txt")
    with open(strided, "w") as f:
        f.write("".join("img/bg%d.pgm\nimg/not_there.pgm\n" % k for k in range(3)))
    r = run([fer, "train-cascade", "--pos-boxes", box_list, "--neg-list", strided,
             "--neg-stride", "2", "--mirror"] + quick)
    check(r.returncode == 0 and counts_of(r) == (boxes * 2, 3),
          "--neg-stride 2: %s: %s" % (counts_of(r), r.stderr))

    # A negative smaller than the 24x24 window is of no use: left out with a
    # note naming it, and the training goes on with the others.
    write_pgm(os.path.join(tmp, "neg", "img", "tiny.pgm"), texture(rng, np, 20, 30))
    with_tiny = os.path.join(tmp, "neg", "with_tiny.txt")
    with open(with_tiny, "w") as f:
        f.write(open(neg_list).read() + "img/tiny.pgm\n")
    r = run([fer, "train-cascade", "--pos-boxes", box_list, "--neg-list", with_tiny,
             "--mirror"] + quick)
    check(r.returncode == 0 and counts_of(r) == (boxes * 2, 6) and b"tiny.pgm" in r.stderr,
          "a negative smaller than the window: %s: %s" % (counts_of(r), r.stderr))


def bad_input_cases(tmp, pos, neg_list, rng, np):
    """(what, arguments, exit status, text stderr must contain)."""
    bad_pos = os.path.join(tmp, "bad_pos")
    os.makedirs(os.path.join(bad_pos, "happy"))
    for k in range(3):
        write_pgm(os.path.join(bad_pos, "happy", "%d.pgm" % k), cartoon_face(rng, np))
    with open(os.path.join(bad_pos, "happy", "3_truncated.pgm"), "wb") as f:
        f.write(b"P5\n48 48\n255\n" + bytes(100))
    missing_neg = os.path.join(tmp, "missing_neg.txt")
    with open(missing_neg, "w") as f:
        f.write("neg/img/bg0.pgm\nneg/img/not_there.pgm\n")
    empty_neg = os.path.join(tmp, "empty_neg.txt")
    open(empty_neg, "w").close()
    bad_state = os.path.join(tmp, "bad_state")
    with open(bad_state, "w") as f:
        f.write("not a cascade\n")
    out = os.path.join(tmp, "bad")
    ok = ["--pos-folder", pos, "--neg-list", neg_list, "--stages", "1", "--out", out]
    return [
        ("unknown option", ok + ["--bogus", "1"], 2, "--bogus"),
        ("unknown option last", ok + ["--bogus"], 2, "unknown option --bogus"),
        ("option without its value", ok + ["--stages"], 2, "--stages needs a value"),
        ("no --out", ok[:-2], 2, "--out"),
        ("no positives", ok[2:], 2, "--pos-folder"),
        ("two sources of positives", ok + ["--pos-csv", "x.csv"], 2, "--pos-csv"),
        ("missing positives folder", ok + ["--pos-folder", os.path.join(tmp, "nope")], 1, "nope"),
        ("truncated positive", ok + ["--pos-folder", bad_pos], 1, "3_truncated.pgm"),
        ("crop outside the sample", ok + ["--crop", "10,10,46"], 2, "--crop"),
        ("crop of side 0", ok + ["--crop", "0,0,0"], 2, "--crop"),
        ("crop with junk", ok + ["--crop", "1,1,46x"], 2, "--crop"),
        ("negative missing", ok + ["--neg-list", missing_neg], 1, "not_there.pgm"),
        ("negatives list missing", ok + ["--neg-list", os.path.join(tmp, "no.txt")], 1, "no.txt"),
        ("negatives list empty", ok + ["--neg-list", empty_neg], 1, "empty_neg.txt"),
        ("--stages 0", ok + ["--stages", "0"], 2, "stages"),
        ("--stages -3", ok + ["--stages", "-3"], 2, "stages"),
        ("--stages 2.5", ok + ["--stages", "2.5"], 2, "stages"),
        ("--stages abc", ok + ["--stages", "abc"], 2, "--stages"),
        ("--stages 3x", ok + ["--stages", "3x"], 2, "--stages"),
        ("--min-hit-rate 2", ok + ["--min-hit-rate", "2"], 2, "min-hit-rate"),
        ("--max-false-alarm 0", ok + ["--max-false-alarm", "0"], 2, "max-false-alarm"),
        ("--num-pos 1e30", ok + ["--num-pos", "1e30"], 2, "num-pos"),
        ("--jitter abc", ok + ["--jitter", "abc"], 2, "--jitter"),
        ("--jitter -1", ok + ["--jitter", "-1"], 2, "--jitter"),
        ("--jitter 1e9", ok + ["--jitter", "1000000000"], 2, "--jitter"),
        ("--neg-stride 0", ok + ["--neg-stride", "0"], 2, "--neg-stride"),
        ("--usage bogus", ok + ["--usage", "bogus"], 2, "--usage"),
        ("--boost bogus", ok + ["--boost", "bogus"], 2, "--boost"),
        ("--features bogus", ok + ["--features", "bogus"], 2, "--features"),
        ("LBP trees", ok + ["--features", "lbp", "--depth", "2"], 1, "stumps only"),
        ("--set unknown", ok + ["--set", "bogus=1"], 2, "bogus"),
        ("--out in a missing folder", ok + ["--out", os.path.join(tmp, "nodir", "c")], 1, "nodir"),
        ("corrupt state file", ok + ["--state", bad_state], 1, "bad_state"),
    ]


def check_bad_input(fer, tmp, pos, neg_list, rng, np):
    written = os.path.join(tmp, "bad.xml")
    for what, args, status, needle in bad_input_cases(tmp, pos, neg_list, rng, np):
        if os.path.exists(written):
            os.remove(written)
        r = run([fer, "train-cascade"] + args)
        err = r.stderr.decode(errors="replace")
        check(not is_crash(r), "%s: crashed (%d): %s" % (what, r.returncode, err[-2000:]))
        check(r.returncode == status, "%s: exit %d, expected %d" % (what, r.returncode, status))
        check(needle in err, "%s: stderr does not name %r: %s" % (what, needle, err[:300]))
        check(not os.path.exists(written), "%s: wrote a cascade" % what)
    r = run([fer, "train-cascade", "--help"])
    check(r.returncode == 0 and b"usage: fer train-cascade" in r.stdout and not is_crash(r),
          "--help exits 0 with the usage on stdout")


def main():
    fer = sys.argv[1]
    try:
        import numpy as np
    except ImportError as e:
        print("SKIP: needs numpy:", e, file=sys.stderr)
        return SKIP
    rng = np.random.default_rng(DATA_SEED)
    with tempfile.TemporaryDirectory(prefix="fer_train_cascade_") as tmp:
        pos = os.path.join(tmp, "pos")
        samples = make_positives(pos, rng, np)
        neg_list = make_negatives(os.path.join(tmp, "neg"), rng, np)
        train = [fer, "train-cascade", "--pos-folder", pos, "--neg-list", neg_list] + TRAIN_OPTIONS
        prefix = check_training(fer, tmp, train, samples)
        if prefix:
            check_detection(fer, tmp, prefix, rng, np)
            check_determinism_and_resume(tmp, train, prefix)
            check_first_stage_budget(tmp, train, prefix)
        # The same for a multi-block LBP cascade (--features lbp).
        lbp = check_training(fer, tmp, train + ["--features", "lbp"], samples, "lbp")
        if lbp:
            check(ET.parse(lbp + ".xml").getroot().findtext("cascade/featureType") == "LBP",
                  "--features lbp writes an LBP cascade")
            check_detection(fer, tmp, lbp, rng, np)
        check_other_sources(fer, tmp, neg_list, rng, np)
        check_bad_input(fer, tmp, pos, neg_list, rng, np)
    print("%d failures" % failures, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
