#!/usr/bin/env python3
"""The web page (examples/web/) in headless Chromium, against `fer video`.

Builds libfer.wasm (cross/wasm32-wasi.ini) into BUILD/web-wasm, makes a
640x480 clip with bench/make_pipeline_clip.py and stamps each frame's
number into it as a row of black and white blocks at the bottom left, then:

  - the reference: `fer video CLIP --smoothing 0` (the native build: boxes
    as detected, labels of the unsmoothed probabilities) gives every
    frame's faces;
  - the page: served by Python's http.server (what `python3 -m http.server`
    runs), opened in headless Chromium whose fake camera plays the clip
    (--use-file-for-fake-video-capture), driven over the DevTools protocol
    on a pipe (--remote-debugging-pipe; no Node, no npm). The test presses
    "Start camera" and listens to the page's "fer-frame" events; it reads
    the frame number from the analysed pixels and the faces the page found.

Each frame the page analysed must have the same boxes and labels as the
reference's frame of that number, and the page must have seen several
frames. Then the test picks the clip's photo (as a PNG) in the page's file
picker: same boxes and labels as `fer analyze` on that PNG. Also prints
the page's frame rate and libfer's time per frame, and writes screenshots
(BUILD/web-test/page.png with the camera running, page-photo.png).

Skips (exit 77) with a message when chromium, the WebAssembly toolchain
(clang's wasm32 target, lld, wasi-libc, libclang-rt-14-dev-wasm32), PIL or
the clip's photo (../shared/data) is missing.

usage: test_browser.py --fer PATH [--source-root DIR] [--build-root DIR]
                       [--frames N] [--min-frames N] [--seconds S]
"""
import argparse
import base64
import functools
import http.server
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time

try:
    from PIL import Image
except ImportError:
    Image = None

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
CODE_BLOCK = 16  # side of one block of the frame number
CODE_BITS = 8    # frames 0..255


def skip(message):
    print("SKIP: " + message)
    sys.exit(SKIP)


def log(message):
    print(message, flush=True)


# ---- the WebAssembly build -------------------------------------------------

def check_wasm_toolchain(work):
    """A reactor module links with clang --target=wasm32-wasi, or skip."""
    clang = shutil.which("clang")
    if not clang:
        skip("clang is not installed (apt-get install clang lld wasi-libc libclang-rt-14-dev-wasm32)")
    src = os.path.join(work, "probe.c")
    with open(src, "w") as f:
        f.write("#include <stdlib.h>\n__attribute__((export_name(\"probe\"))) "
                "void *probe(int n) { return malloc((size_t)n); }\n")
    r = subprocess.run([clang, "--target=wasm32-wasi", "-O2", "-mexec-model=reactor", src,
                        "-o", os.path.join(work, "probe.wasm")],
                       capture_output=True, text=True)
    if r.returncode != 0:
        skip("clang cannot build for wasm32-wasi (apt-get install lld wasi-libc "
             "libclang-rt-14-dev-wasm32):\n" + r.stderr.strip())


def build_wasm(source_root, wasm_build):
    if not os.path.exists(os.path.join(wasm_build, "build.ninja")):
        cmd = ["meson", "setup", wasm_build, "--cross-file",
               os.path.join(source_root, "cross", "wasm32-wasi.ini"), "-Dwerror=true"]
        r = subprocess.run(cmd, cwd=source_root, capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("meson setup of the wasm build failed:\n" + r.stdout + r.stderr)
    t0 = time.time()
    r = subprocess.run(["ninja", "-C", wasm_build], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("the wasm build failed:\n" + r.stdout + r.stderr)
    site = os.path.join(wasm_build, "examples", "web")
    wasm = os.path.join(site, "libfer.wasm")
    log("libfer.wasm: %d bytes (built in %.0f s)" % (os.path.getsize(wasm), time.time() - t0))
    return site


# ---- the clip ----------------------------------------------------------------

def stamp_frame_numbers(src, dst):
    """Copies a 4:2:0 Y4M clip, writing frame k's number into its bottom-left
    corner: a white block, a black block (guards), then CODE_BITS blocks,
    most significant bit first, white for 1. Chroma is neutral there."""
    with open(src, "rb") as f:
        data = f.read()
    header, _, body = data.partition(b"\n")
    fields = {t[:1]: t[1:] for t in header.split()[1:]}
    width, height = int(fields[b"W"]), int(fields[b"H"])
    luma, chroma = width * height, (width // 2) * (height // 2)
    frame_size = luma + 2 * chroma
    out = bytearray(header + b"\n")
    at, k = 0, 0
    while at < len(body):
        assert body[at:at + 6] == b"FRAME\n", "unexpected Y4M frame header"
        frame = bytearray(body[at + 6:at + 6 + frame_size])
        at += 6 + frame_size
        bits = [1, 0] + [(k >> (CODE_BITS - 1 - b)) & 1 for b in range(CODE_BITS)]
        for i, bit in enumerate(bits):
            x0 = i * CODE_BLOCK
            for y in range(height - CODE_BLOCK, height):
                frame[y * width + x0:y * width + x0 + CODE_BLOCK] = bytes([235 if bit else 16]) * CODE_BLOCK
            for plane in range(2):
                base = luma + plane * chroma
                for y in range((height - CODE_BLOCK) // 2, height // 2):
                    row = base + y * (width // 2) + x0 // 2
                    frame[row:row + CODE_BLOCK // 2] = bytes([128]) * (CODE_BLOCK // 2)
        out += b"FRAME\n" + frame
        k += 1
    with open(dst, "wb") as f:
        f.write(out)
    return k


def reference_faces(fer, clip, out_json):
    subprocess.run([fer, "video", clip, "--smoothing", "0", "--json", out_json], check=True)
    frames = {}
    with open(out_json) as f:
        for line in f:
            d = json.loads(line)
            frames[d["frame"]] = sorted((face["box"]["x"], face["box"]["y"], face["box"]["width"],
                                         face["box"]["height"], face["label"])
                                        for face in d["faces"])
    return frames


# ---- Chromium over the DevTools protocol -----------------------------------

class Browser:
    """Chromium with --remote-debugging-pipe: JSON messages ending in a NUL
    byte, commands on its fd 3, answers and events on its fd 4. A shell
    moves our stdin/stdout pipes to those numbers."""

    def __init__(self, chromium, args, log_path):
        launch = 'exec "$0" "$@" 3<&0 4>&1 0</dev/null 1>&2'
        self.log_path = log_path
        with open(log_path, "wb") as log_file:
            self.proc = subprocess.Popen(["sh", "-c", launch, chromium] + args,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=log_file)
        self.next_id = 0
        self.answers = {}
        self.events = queue.Queue()
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(65536)
            if not chunk:
                with self.cond:
                    self.answers[None] = "closed"
                    self.cond.notify_all()
                return
            buf += chunk
            while b"\0" in buf:
                raw, buf = buf.split(b"\0", 1)
                msg = json.loads(raw)
                if "id" in msg:
                    with self.cond:
                        self.answers[msg["id"]] = msg
                        self.cond.notify_all()
                else:
                    self.events.put(msg)

    def send(self, method, params=None, session=None, timeout=60):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.proc.stdin.write(json.dumps(msg).encode() + b"\0")
        self.proc.stdin.flush()
        deadline = time.time() + timeout
        with self.cond:
            while self.next_id not in self.answers:
                if None in self.answers:
                    with open(self.log_path, errors="replace") as f:
                        tail = f.read()[-2000:]
                    raise RuntimeError("chromium closed the pipe during %s; its output:\n%s" %
                                       (method, tail))
                left = deadline - time.time()
                if left <= 0:
                    raise TimeoutError(method + ": no answer in %d s" % timeout)
                self.cond.wait(left)
            answer = self.answers.pop(self.next_id)
        if "error" in answer:
            raise RuntimeError("%s: %s" % (method, answer["error"]))
        return answer["result"]

    def close(self):
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, TimeoutError, BrokenPipeError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def evaluate(browser, session, expression, timeout=60):
    r = browser.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True,
                                          "returnByValue": True}, session, timeout)
    if "exceptionDetails" in r:
        raise RuntimeError("page: " + json.dumps(r["exceptionDetails"])[:2000])
    return r["result"].get("value")


# Runs in the page: starts the camera and collects, per analysed frame, the
# frame number read from its pixels and the faces, until `frames` frames or
# `seconds` have passed.
COLLECT = r"""
new Promise((resolve) => {
  const got = [];
  const block = %(block)d, bits = %(bits)d, limit = %(frames)d;
  const strip = document.createElement('canvas');
  strip.width = block * (bits + 2);
  strip.height = block;
  const sctx = strip.getContext('2d', { willReadFrequently: true });
  const finish = () => resolve({frames: got, fps: window.fer.fps, msPerFrame: window.fer.msPerFrame,
                                stats: document.getElementById('stats').textContent});
  window.addEventListener('fer-frame', (e) => {
    const d = e.detail;
    // The bottom-left strip of the frame analysed, at its own size.
    sctx.drawImage(d.image, 0, d.height - block, strip.width, block, 0, 0, strip.width, block);
    const px = sctx.getImageData(0, 0, strip.width, block).data;
    const level = (i) => px[4 * ((block / 2) * strip.width + i * block + block / 2) + 1];
    let code = level(0) > 128 && level(1) < 128 ? 0 : -1;
    for (let b = 0; code >= 0 && b < bits; b++) code = 2 * code + (level(2 + b) > 128 ? 1 : 0);
    got.push({code, t: performance.now(), ms: d.ms, width: d.width, height: d.height, format: d.format,
              faces: d.faces.map((f) => [f.box.x, f.box.y, f.box.width, f.box.height, f.label])});
    if (got.length >= limit) finish();
  });
  setTimeout(finish, %(seconds)d * 1000);
  document.getElementById('camera').click();
})
"""


# Runs in the page: a promise for the next analysed photo's faces.
PHOTO_WAIT = r"""
window.ferTestPhoto = new Promise((resolve) => {
  window.addEventListener('fer-frame', (e) => {
    if (e.detail.source === 'photo')
      resolve({width: e.detail.width, height: e.detail.height,
               faces: e.detail.faces.map((f) => [f.box.x, f.box.y, f.box.width, f.box.height, f.label])});
  });
});
true
"""


def pick_photo(browser, session, photo):
    """Chooses `photo` in the page's file picker; the faces the page found."""
    evaluate(browser, session, PHOTO_WAIT)
    root = browser.send("DOM.getDocument", session=session)["root"]["nodeId"]
    node = browser.send("DOM.querySelector", {"nodeId": root, "selector": "#photo"},
                        session)["nodeId"]
    browser.send("DOM.setFileInputFiles", {"files": [photo], "nodeId": node}, session)
    return evaluate(browser, session, "window.ferTestPhoto", timeout=120)


def run_page(chromium, site, clip, work, frames, seconds, screenshot, photo):
    handler = functools.partial(QuietHandler, directory=site)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/index.html" % server.server_address[1]
    args = ["--headless", "--no-sandbox", "--remote-debugging-pipe",
            "--user-data-dir=" + os.path.join(work, "profile"),
            "--no-first-run", "--no-default-browser-check", "--disable-extensions",
            "--mute-audio", "--window-size=900,1100",
            "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
            "--use-file-for-fake-video-capture=" + clip, "about:blank"]
    browser = Browser(chromium, args, os.path.join(os.path.dirname(screenshot), "chromium.log"))
    problems = []
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target,
                                                         "flatten": True})["sessionId"]
        browser.send("Runtime.enable", session=session)
        browser.send("Page.enable", session=session)
        browser.send("Page.navigate", {"url": url}, session)
        deadline = time.time() + 60
        while not evaluate(browser, session, "!!(window.fer && (window.fer.ready || window.fer.error))"):
            if time.time() > deadline:
                raise TimeoutError("the page did not get ready in 60 s")
            time.sleep(0.2)
        status = evaluate(browser, session, "document.getElementById('status').textContent")
        log("page: " + status)
        if evaluate(browser, session, "window.fer.error"):
            problems.append("the page failed to start: " + status)
            return None, problems
        result = evaluate(browser, session, COLLECT % {"block": CODE_BLOCK, "bits": CODE_BITS,
                                                        "frames": frames, "seconds": seconds},
                          timeout=seconds + 60)
        error = evaluate(browser, session, "window.fer.error")
        if error:
            problems.append("page error: " + error)
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        log("screenshot: %s" % screenshot)
        result["photo"] = pick_photo(browser, session, photo)
        shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
        photo_shot = screenshot.replace(".png", "-photo.png")
        with open(photo_shot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        log("screenshot: %s" % photo_shot)
        while not browser.events.empty():
            ev = browser.events.get()
            if ev.get("method") == "Runtime.exceptionThrown":
                problems.append("page exception: " +
                                json.dumps(ev["params"]["exceptionDetails"])[:1000])
            elif ev.get("method") == "Runtime.consoleAPICalled" and \
                    ev["params"]["type"] in ("error", "warning"):
                problems.append("console %s: %s" % (ev["params"]["type"], json.dumps(
                    [a.get("value", a.get("description")) for a in ev["params"]["args"]])[:1000]))
        return result, problems
    finally:
        browser.close()
        server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


# ---- the comparison ------------------------------------------------------------

def compare(result, reference, num_frames):
    frames = result["frames"]
    bad_code = [f for f in frames if not 0 <= f["code"] < num_frames]
    good = [f for f in frames if 0 <= f["code"] < num_frames]
    mismatches = []
    for f in good:
        page_faces = sorted(tuple(face) for face in f["faces"])
        ref = [tuple(r) for r in reference[f["code"]]]
        if page_faces != ref:
            mismatches.append((f["code"], page_faces, ref))
    return good, bad_code, mismatches


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fer", required=True, help="the native fer command")
    ap.add_argument("--source-root", default=os.environ.get("FER_SOURCE_ROOT",
                                                            os.path.join(HERE, "..", "..")))
    ap.add_argument("--build-root", default=os.environ.get("FER_BUILD_ROOT", "."))
    ap.add_argument("--frames", type=int, default=40, help="page frames to compare")
    ap.add_argument("--min-frames", type=int, default=10,
                    help="fewer frames than this in --seconds fail")
    ap.add_argument("--seconds", type=int, default=45, help="longest wait for --frames")
    ap.add_argument("--clip-frames", type=int, default=60)
    args = ap.parse_args()

    if Image is None:
        skip("no PIL for python3 (apt-get install python3-pil python3-numpy)")
    chromium = os.environ.get("FER_CHROMIUM") or shutil.which("chromium") or \
        shutil.which("chromium-browser")
    if not chromium:
        skip("chromium is not installed (apt-get install chromium): the browser test needs it")
    work = os.path.join(os.path.abspath(args.build_root), "web-test")
    os.makedirs(work, exist_ok=True)
    check_wasm_toolchain(work)

    # The pipeline benchmark's photo and clip (bench/make_pipeline_clip.py).
    shared = os.environ.get("FER_SHARED_DATA") or os.path.join(args.source_root, "..", "shared",
                                                               "data")
    source_photo = os.path.join(shared, "faces", "images", "pic03872.jpg")
    if not os.path.exists(source_photo):
        skip("%s is missing (../shared/data): no clip to play" % source_photo)
    raw_clip = os.path.join(work, "pipeline.y4m")
    subprocess.run([sys.executable, os.path.join(args.source_root, "bench",
                                                 "make_pipeline_clip.py"),
                    raw_clip, "--frames", str(args.clip_frames), "--photo", source_photo],
                   check=True)
    clip = os.path.join(work, "clip.y4m")
    num_frames = stamp_frame_numbers(raw_clip, clip)

    # The photo picker gets the clip's photo as a PNG: the browser and libfer
    # decode it to the same pixels (a JPEG would go through two decoders).
    photo = os.path.join(work, "photo.png")
    with Image.open(source_photo) as im:
        im.convert("RGB").save(photo)
    photo_json = subprocess.run([args.fer, "analyze", photo, "--json"], check=True,
                                capture_output=True, text=True).stdout
    photo_ref = sorted((f["box"]["x"], f["box"]["y"], f["box"]["width"], f["box"]["height"],
                        f["label"]) for f in json.loads(photo_json)["faces"])

    site = build_wasm(os.path.abspath(args.source_root),
                      os.path.join(os.path.abspath(args.build_root), "web-wasm"))
    reference = reference_faces(args.fer, clip, os.path.join(work, "reference.jsonl"))
    log("reference: fer video, %d frames, %d faces" %
        (len(reference), sum(len(v) for v in reference.values())))

    with tempfile.TemporaryDirectory() as tmp:
        result, problems = run_page(chromium, site, clip, tmp, args.frames, args.seconds,
                                    os.path.join(work, "page.png"), photo)
    if result is None:
        sys.exit("FAIL: " + "; ".join(problems))

    frames = result["frames"]
    good, bad_code, mismatches = compare(result, reference, num_frames)
    sizes = sorted({(f["width"], f["height"]) for f in frames})
    formats = sorted({f["format"] for f in frames})
    log("page: %d frames analysed (%s %s), %d distinct clip frames, %d with faces" %
        (len(frames), sizes, formats, len({f["code"] for f in good}),
         sum(1 for f in good if f["faces"])))
    if len(frames) > 1:
        span = (frames[-1]["t"] - frames[0]["t"]) / 1000
        log("page: %.1f frames/s analysed over %.1f s; libfer %.1f ms per frame (mean); "
            "page says: %s" % ((len(frames) - 1) / span, span,
                               sum(f["ms"] for f in frames) / len(frames), result["stats"]))
    for code, page_faces, ref in mismatches[:10]:
        log("frame %d differs:\n  page      %s\n  fer video %s" % (code, page_faces, ref))
    for p in problems:
        log(p)

    failures = []
    page_photo = sorted(tuple(f) for f in result["photo"]["faces"])
    log("photo picker: %d faces in %dx%d; fer analyze: %d" %
        (len(page_photo), result["photo"]["width"], result["photo"]["height"], len(photo_ref)))
    if page_photo != photo_ref:
        log("photo differs:\n  page        %s\n  fer analyze %s" % (page_photo, photo_ref))
        failures.append("the photo's faces differ from fer analyze")
    if len(frames) < args.min_frames:
        failures.append("only %d frames in %d s" % (len(frames), args.seconds))
    if sizes != [(640, 480)]:
        failures.append("frames of %s, not the clip's 640x480" % sizes)
    if bad_code:
        failures.append("%d frames without a readable frame number" % len(bad_code))
    if len({f["code"] for f in good}) < 5:
        failures.append("the page saw fewer than 5 different frames")
    if not any(f["faces"] for f in good):
        failures.append("no faces at all")
    if mismatches:
        failures.append("%d of %d frames differ from fer video" % (len(mismatches), len(good)))
    failures += problems
    if failures:
        print("FAIL: " + "; ".join(failures))
        return 1
    log("ok: %d frames, every box and label as fer video found them" % len(good))
    return 0


if __name__ == "__main__":
    sys.exit(main())
