#!/usr/bin/env python3
"""Batch analysis from the outside (docs/distributed.md): fer analyze over a
folder tree with -r, -o (resume after a stop, a torn last line, a foreign
header), --jobs against one job and against the single-image command;
fer video --json-dir over several videos against one video at a time, and
its resume; GNU parallel's --sshlogin recipe run locally (":" is this
machine) against the single run, and its --resume.

usage: test_cli_batch.py FER
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
PHOTOS = "/usr/lib/python3/dist-packages/skimage/data"
NAMES = ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "horse.png"]
VIDEOS = os.path.join(os.environ.get("FER_TEST_DATA", "tests/fixtures"), "video")

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)
    else:
        print("ok  ", what, file=sys.stderr)


def run(args, **kw):
    return subprocess.run(args, capture_output=True, timeout=300, **kw)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def main():
    fer = os.path.abspath(sys.argv[1])
    if not all(os.path.exists(os.path.join(PHOTOS, n)) for n in NAMES):
        print("SKIP: the photos of python3-skimage are missing", file=sys.stderr)
        return SKIP
    tmp = tempfile.mkdtemp(prefix="fer_batch_")
    os.chdir(tmp)
    # tree/: images two levels deep, a file that is not an image, a hidden one.
    layout = {"tree/a/b": NAMES[:2], "tree/c": NAMES[2:4], "tree": NAMES[4:]}
    for folder, names in layout.items():
        os.makedirs(folder, exist_ok=True)
        for n in names:
            shutil.copy(os.path.join(PHOTOS, n), folder)
    open("tree/c/notes.txt", "w").write("not an image\n")
    os.makedirs("tree/.hidden")
    shutil.copy(os.path.join(PHOTOS, NAMES[0]), "tree/.hidden")
    paths = sorted(os.path.join(folder, n) for folder, names in layout.items() for n in names)

    # -r -o: every image once (a faceless one as face 0), the header once.
    r = run([fer, "analyze", "-r", "--csv", "-o", "out.csv", "tree"])
    check(r.returncode == 0, "analyze -r -o exits 0 (%s)" % r.stderr.decode()[-300:])
    rows = list(csv.DictReader(open("out.csv", newline="")))
    check(sorted({row["image"] for row in rows}) == paths, "every image of the tree, no other")
    faceless = [row for row in rows if row["face"] == "0"]
    check(all(row["label"] == "" for row in faceless) and len(faceless) >= 1,
          "an image without faces is one row with face 0")
    astro = [row for row in rows if row["image"].endswith("astronaut.png")]
    single = list(csv.DictReader(run([fer, "analyze", "--csv", "tree/a/b/astronaut.png"])
                                 .stdout.decode().splitlines()))
    check(len(astro) >= 1 and astro == single, "the same rows as the single-image command")
    first = read("out.csv")

    # Resume: nothing new; a stop mid-line and a lost line come back.
    r = run([fer, "analyze", "-r", "--csv", "-o", "out.csv", "tree"])
    check(r.returncode == 0 and read("out.csv") == first, "a finished run is left as it is")
    lines = first.decode().splitlines(keepends=True)
    torn = "".join(lines[:-2]) + lines[-1][: len(lines[-1]) // 2]
    open("out.csv", "w").write(torn)
    r = run([fer, "analyze", "-r", "--csv", "-o", "out.csv", "tree"])
    check(r.returncode == 0 and sorted(read("out.csv").decode().splitlines()) ==
          sorted(first.decode().splitlines()), "resumed after a torn line: the same rows")
    open("other.csv", "w").write("image,something,else\n")
    r = run([fer, "analyze", "-r", "--csv", "-o", "other.csv", "tree"])
    check(r.returncode == 2 and b"header" in r.stderr, "a file with another header is refused")
    check(run([fer, "analyze", "-o", "x.txt", "tree"]).returncode == 2, "-o needs --json or --csv")

    # --jobs 3 finds what one job finds (in another order).
    r1 = run([fer, "analyze", "-r", "--json", "tree"])
    r3 = run([fer, "analyze", "-r", "--json", "--jobs", "3", "-o", "out.jsonl", "tree"])
    one = sorted(r1.stdout.decode().splitlines())
    three = sorted(read("out.jsonl").decode().splitlines())
    check(r3.returncode == 0 and one == three and len(one) == len(paths),
          "--jobs 3 gives the lines of one job")
    check(sorted(json.loads(x)["image"] for x in three) == paths, "JSON lines name the images")
    r = run([fer, "analyze", "-r", "--json", "--jobs", "2", "-o", "out.jsonl", "tree"])
    check(sorted(read("out.jsonl").decode().splitlines()) == three, "JSON resume adds nothing")

    # fer video --json-dir: each file as one video alone gives it; resume.
    videos = [os.path.join(VIDEOS, v) for v in ("rand_20x14.y4m", "odd_15x9.y4m")]
    r = run([fer, "video", "--json-dir", "vids"] + videos)
    check(r.returncode == 0, "video --json-dir exits 0 (%s)" % r.stderr.decode()[-300:])
    for v in videos:
        alone = run([fer, "video", v, "--json", "-"]).stdout
        name = os.path.splitext(os.path.basename(v))[0] + ".jsonl"
        check(os.path.exists(os.path.join("vids", name)) and
              read(os.path.join("vids", name)) == alone and alone.count(b"\n") > 1,
              "video %s: the lines of the single-video command" % name)
    stamp = os.stat("vids/odd_15x9.jsonl").st_mtime_ns
    r = run([fer, "video", "--json-dir", "vids"] + videos)
    check(r.returncode == 0 and os.stat("vids/odd_15x9.jsonl").st_mtime_ns == stamp,
          "video --json-dir skips videos already done")
    check(run([fer, "video"] + videos).returncode == 2, "several videos need --json-dir")

    # GNU parallel, as docs/distributed.md writes it, on this machine only.
    if shutil.which("parallel") is None:
        print("note: GNU parallel is not installed; its recipe is not tested", file=sys.stderr)
    else:
        recipe = ("find tree -type f \\( -iname '*.jpg' -o -iname '*.jpeg' -o -iname '*.png' \\) "
                  "! -path '*/.*' | sort | parallel --will-cite --sshlogin 2/: --workdir . --joblog jobs.log "
                  "--resume -N 2 %s analyze --csv --threads 1 -o parts/part-{#}.csv {}" % fer)
        os.makedirs("parts")
        r = run(["sh", "-c", recipe])
        check(r.returncode == 0, "the parallel recipe runs (%s)" % r.stderr.decode()[-300:])
        merged = []
        for part in sorted(os.listdir("parts")):
            merged += open(os.path.join("parts", part)).read().splitlines()[1:]
        check(sorted(merged) == sorted(first.decode().splitlines()[1:]),
              "parallel's parts hold the rows of one run")
        jobs = read("jobs.log")
        r = run(["sh", "-c", recipe])
        check(r.returncode == 0 and read("jobs.log") == jobs, "parallel --resume reruns nothing")
    shutil.rmtree(tmp)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
