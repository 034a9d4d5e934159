#!/usr/bin/env python3
"""fer analyze on paths that are not plain images: an empty folder, an
unreadable one, files that are not images, an empty file, FIFOs with and
without a writer, a character device, paths longer than PATH_MAX and names
that are not UTF-8. Each must give a message on stderr naming the path and
the reason and exit 1 (or work, for a FIFO with a writer and for names
that are not UTF-8), never crash or hang: every run has a timeout.

usage: test_cli_odd_paths.py FER
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
TIMEOUT = 60
failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL:", what, file=sys.stderr)


def run(args, **kw):
    """(returncode, stdout bytes, stderr bytes); a hang is a failure."""
    try:
        r = subprocess.run(args, capture_output=True, timeout=TIMEOUT, **kw)
    except subprocess.TimeoutExpired:
        check(False, "%r hung for %d s" % (args, TIMEOUT))
        return None, b"", b""
    check(r.returncode >= 0, "%r died of signal %d" % (args, -r.returncode))
    return r.returncode, r.stdout, r.stderr


def expect_failure(fer, path, *needles, extra=()):
    """fer analyze PATH exits 1 and says PATH and each needle on stderr."""
    rc, _, err = run([fer, "analyze", *extra, path])
    name = os.fsencode(path)
    check(rc == 1, "%r: exit status %r, expected 1 (%r)" % (path, rc, err))
    check(name in err or b"..." in err, "%r: message does not name the path: %r" % (path, err))
    for needle in needles:
        check(needle in err, "%r: message lacks %r: %r" % (path, needle, err))


def deep_tree(top, total):
    """Makes folders under `top` until the path is longer than `total`
    bytes (through directory file descriptors: the kernel refuses such a
    path in one piece) and returns the path."""
    part = "d" * 200
    os.mkdir(top)
    path = top
    fd = os.open(top, os.O_RDONLY)
    while len(path) <= total:
        os.mkdir(part, dir_fd=fd)
        child = os.open(part, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
        path += "/" + part
    os.close(fd)
    return path


def write_in_tree(top, relative_parts, name, data):
    fd = os.open(top, os.O_RDONLY)
    for part in relative_parts:
        child = os.open(part, os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = child
    out = os.open(name, os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
    os.write(out, data)
    os.close(out)
    os.close(fd)


def main():
    fer = os.path.abspath(sys.argv[1])
    fixture = os.path.join(os.environ.get("FER_TEST_DATA", "tests/fixtures"),
                           "analyze", "face_96.png")
    if not os.path.exists(fixture):
        print("SKIP:", fixture, "is missing", file=sys.stderr)
        return SKIP
    with open(fixture, "rb") as f:
        face = f.read()
    tmp = tempfile.mkdtemp(prefix="fer_odd_")
    os.chdir(tmp)

    # An empty folder, and a folder named like an image; with -r a tree
    # without images.
    os.mkdir("empty")
    expect_failure(fer, "empty", b"no images in this folder")
    os.mkdir("folder.png")
    expect_failure(fer, "folder.png", b"no images in this folder")
    os.makedirs("tree/sub")
    expect_failure(fer, "tree", b"no images in this folder or below it", extra=["-r"])

    # An unreadable folder. Root reads every folder, so as root fer runs
    # as nobody for this one.
    os.chmod(tmp, 0o755)
    os.mkdir("locked")
    shutil.copy(fixture, "locked/face.png")
    os.chmod("locked", 0)
    as_nobody = {}
    runner = fer
    if os.geteuid() == 0:
        def drop():
            os.setgid(65534)
            os.setuid(65534)
        # nobody must reach fer and libfer, and a checkout under /root is
        # private (a fresh machine's): run copies from this open folder.
        public = os.path.join(tmp, "bin")
        os.mkdir(public)
        runner = shutil.copy(fer, public)
        libdir = os.path.join(os.environ.get("FER_BUILD_ROOT", ""), "lib")
        for name in os.listdir(libdir) if os.path.isdir(libdir) else []:
            if name.startswith("libfer.so") and os.path.isfile(os.path.join(libdir, name)):
                shutil.copy(os.path.join(libdir, name), public)
        as_nobody = {"preexec_fn": drop,
                     "env": dict(os.environ, LD_LIBRARY_PATH=public)}
    try:
        rc, _, err = run([runner, "analyze", "locked"], **as_nobody)
    except PermissionError as e:
        rc, err = 126, str(e).encode()
    if rc in (126, 127) or b"error while loading shared libraries" in err:
        print("note: nobody cannot run %s, unreadable folder not tested" % fer, file=sys.stderr)
    else:
        check(rc == 1 and b"locked: cannot read the folder: Permission denied" in err,
              "unreadable folder: %r %r" % (rc, err))
    os.chmod("locked", 0o755)

    # Files that are not images, and an empty one.
    with open("notes.png", "wb") as f:
        f.write(b"hello\n")
    expect_failure(fer, "notes.png", b"unknown image format", b"68 65 6C 6C 6F")
    open("empty.jpg", "wb").close()
    expect_failure(fer, "empty.jpg", b"empty")
    expect_failure(fer, "/dev/null", b"character device")
    expect_failure(fer, "missing.png", b"No such file or directory")

    # FIFOs without a writer: at the top and inside a folder. Opening one
    # for reading in the usual way would wait for a writer forever.
    os.mkfifo("pipe.png")
    expect_failure(fer, "pipe.png", b"FIFO without a writer")
    os.mkdir("withfifo")
    os.mkfifo("withfifo/a.png")
    shutil.copy(fixture, "withfifo/b.png")
    rc, out, err = run([fer, "analyze", "withfifo"])
    check(rc == 1 and b"withfifo/a.png: a FIFO without a writer" in err,
          "folder with a FIFO: %r %r" % (rc, err))
    check(b"withfifo/b.png: 1 face" in out, "the image beside the FIFO: %r" % out)

    # A pipe with a writer, as <(cat face.png) gives: read like a file.
    read_end, write_end = os.pipe()
    os.write(write_end, face)  # fits the pipe buffer (64 KiB)
    os.close(write_end)
    rc, out, err = run([fer, "analyze", "/dev/fd/%d" % read_end], pass_fds=[read_end])
    os.close(read_end)
    check(rc == 0 and b": 1 face" in out, "pipe with a writer: %r %r %r" % (rc, out, err))

    # Paths longer than PATH_MAX (4096 on Linux). The tree itself, with -r:
    # the entries past the limit are named, not skipped in silence.
    deep = deep_tree("long", 4200)
    parts = deep.split("/")[1:]
    write_in_tree("long", parts, "face.png", face)
    rc, out, err = run([fer, "analyze", "-r", "long"])
    check(rc == 1 and b"File name too long" in err, "-r over a deep tree: %r %r" % (rc, err[-300:]))
    expect_failure(fer, deep + "/face.png", b"File name too long")
    # A folder whose own path fits but whose image's path does not: the
    # library's message shortens the path in the middle and keeps the reason.
    fits = deep_tree("fits", 3900)
    write_in_tree("fits", fits.split("/")[1:], "f" * 250 + ".png", face)
    rc, out, err = run([fer, "analyze", fits])
    check(rc == 1 and b"..." in err and b"File name too long" in err,
          "image path past PATH_MAX: %r %r" % (rc, err[-300:]))
    check(len(err) < 2000, "the message repeats a 4000-byte path: %d bytes" % len(err))

    # Names that are not UTF-8: analysed, named as they are in text, as
    # \u00XX escapes in JSON (valid JSON), and found again when resuming.
    latin1 = b"caf\xe9.png"
    with open(latin1, "wb") as f:
        f.write(face)
    rc, out, err = run([fer, "analyze", latin1])
    check(rc == 0 and latin1 + b": 1 face" in out, "latin-1 name, text: %r %r" % (out, err))
    rc, out, err = run([fer, "analyze", "--json", latin1])
    try:
        record = json.loads(out.decode("utf-8"))
        check(record["image"] == "caf\u00e9.png" and len(record["faces"]) == 1,
              "latin-1 name, JSON: %r" % record)
    except (UnicodeDecodeError, ValueError) as e:
        check(False, "latin-1 name: --json is not valid UTF-8 JSON (%s): %r" % (e, out))
    rc, out, err = run([fer, "analyze", "--json", "-o", "out.jsonl", latin1])
    check(rc == 0, "latin-1 name, -o: %r" % err)
    rc, out, err = run([fer, "analyze", "--json", "-o", "out.jsonl", latin1])
    with open("out.jsonl", "rb") as f:
        lines = f.read().splitlines()
    check(rc == 0 and len(lines) == 1, "latin-1 name, resumed: %d lines %r" % (len(lines), err))
    bad = b"x\xff\xfe.jpg"
    with open(bad, "wb") as f:
        f.write(b"not a jpeg")
    expect_failure(fer, os.fsdecode(bad), b"unknown image format")

    os.chdir("/")
    # rm walks the deep trees with directory descriptors; shutil.rmtree
    # would meet the path limit.
    subprocess.run(["rm", "-rf", tmp], timeout=TIMEOUT)
    if failures:
        print("%d failures" % failures, file=sys.stderr)
        return 1
    print("ok", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
