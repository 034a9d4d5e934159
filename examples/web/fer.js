// fer.js: the page around libfer.wasm (examples/web/README.md).
//
// Part 1 loads the module and wraps its exports (fer_web.c) in a small
// object: `session.analyzeVideoFrame(frame)` and
// `session.analyzeImageData(imageData)` give the faces of a frame.
// Part 2 is the page: camera or photo in, boxes, labels and a probability
// bar per face out, and the frame rate.
//
// For programs driving the page (tests/web/test_browser.py): window.fer
// holds the state (ready, error, frames, fps, msPerFrame, faces, format), and every
// analysed frame fires a "fer-frame" event on window whose detail is
// {image, width, height, faces, ms, source, format}; `image` (a canvas image
// source holding the frame analysed) is valid during the event only.
'use strict';

// ---- Part 1: libfer.wasm -------------------------------------------------

// The module is a WASI reactor, but the page gives it no files, no
// environment and no clock: libc asks for these while starting, and the
// built-in model and cascade need nothing else. Any other WASI call gets
// ENOSYS.
const WASI_SUCCESS = 0, WASI_EBADF = 8, WASI_ENOSYS = 52;

function wasiImports(module, getMemory) {
  const view = () => new DataView(getMemory().buffer);
  const text = { 1: '', 2: '' };
  const calls = {
    environ_sizes_get(countAt, sizeAt) {
      view().setUint32(countAt, 0, true);
      view().setUint32(sizeAt, 0, true);
      return WASI_SUCCESS;
    },
    environ_get() { return WASI_SUCCESS; },
    fd_prestat_get() { return WASI_EBADF; }, // no preopened folders
    // libfer never prints, but anything written to stdout or stderr goes
    // to the console rather than nowhere.
    fd_write(fd, iovs, count, writtenAt) {
      const v = view();
      let total = 0;
      for (let i = 0; i < count; i++) {
        const at = v.getUint32(iovs + 8 * i, true), len = v.getUint32(iovs + 8 * i + 4, true);
        if (fd in text) text[fd] += new TextDecoder().decode(new Uint8Array(getMemory().buffer, at, len));
        total += len;
      }
      for (const f of [1, 2]) {
        const lines = text[f].split('\n');
        text[f] = lines.pop();
        for (const line of lines) (f === 1 ? console.log : console.warn)('libfer.wasm: ' + line);
      }
      v.setUint32(writtenAt, total, true);
      return fd in text ? WASI_SUCCESS : WASI_EBADF;
    },
    proc_exit(code) { throw new Error('libfer.wasm exited with status ' + code); },
  };
  const wasi = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== 'wasi_snapshot_preview1') throw new Error('libfer.wasm imports ' + imp.module + '.' + imp.name);
    wasi[imp.name] = calls[imp.name] || (() => WASI_ENOSYS);
  }
  return { wasi_snapshot_preview1: wasi };
}

// fer_pixel_format values (include/fer/image.h).
const PIXEL = { RGBA32: 4, BGRA32: 5, I420: 6, NV12: 7 };

// Where VideoFrame.copyTo puts each plane so that libfer reads the frame as
// one contiguous buffer (fer_image_from_pixels): the layout, the first
// plane's stride, the bytes and the libfer format; null for other formats.
function copyPlan(format, width, height) {
  const cw = (width + 1) >> 1, ch = (height + 1) >> 1, luma = width * height;
  switch (format) {
    case 'I420':
    case 'I420A': { // the alpha plane goes last, unread
      const layout = [{ offset: 0, stride: width }, { offset: luma, stride: cw },
        { offset: luma + cw * ch, stride: cw }];
      let bytes = luma + 2 * cw * ch;
      if (format === 'I420A') {
        layout.push({ offset: bytes, stride: width });
        bytes += luma;
      }
      return { layout, stride: width, bytes, format: PIXEL.I420 };
    }
    case 'NV12': { // an even stride: the UV rows hold whole pairs
      const stride = 2 * cw;
      return { layout: [{ offset: 0, stride }, { offset: stride * height, stride }],
        stride, bytes: stride * (height + ch), format: PIXEL.NV12 };
    }
    case 'RGBA': case 'RGBX': case 'BGRA': case 'BGRX':
      return { layout: [{ offset: 0, stride: 4 * width }], stride: 4 * width,
        bytes: 4 * luma, format: format[0] === 'R' ? PIXEL.RGBA32 : PIXEL.BGRA32 };
    default:
      return null;
  }
}

// Fetches and starts libfer.wasm; resolves to {version, bytes, createSession()}.
async function loadLibfer(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(url + ': HTTP ' + response.status);
  const bytes = await response.arrayBuffer();
  const module = await WebAssembly.compile(bytes);
  let memory = null;
  const instance = await WebAssembly.instantiate(module, wasiImports(module, () => memory));
  const x = instance.exports;
  memory = x.memory;
  x._initialize();
  const string = (at) => {
    if (!at) return null;
    const all = new Uint8Array(memory.buffer);
    let end = at;
    while (all[end]) end++;
    return new TextDecoder().decode(all.subarray(at, end));
  };
  return {
    version: string(x.fer_web_version()),
    bytes: bytes.byteLength,
    createSession() {
      const s = x.fer_web_create();
      if (!s) throw new Error('libfer: ' + string(x.fer_web_error()));
      const k = x.fer_web_num_classes(s), recordSize = x.fer_web_record_size(s);
      const classes = [], colors = [];
      for (let c = 0; c < k; c++) {
        classes.push(string(x.fer_web_class_name(s, c)));
        colors.push('#' + (x.fer_web_class_color(s, c) >>> 0).toString(16).padStart(6, '0'));
      }
      // Runs libfer on the frame in its buffer; the faces found.
      const run = (width, height, stride, format, flags) => {
        const n = x.fer_web_run(s, width, height, stride, format, flags);
        if (n < 0) throw new Error('libfer: ' + string(x.fer_web_error()));
        const r = new Float32Array(memory.buffer, x.fer_web_results(s), n * recordSize);
        const faces = [];
        for (let i = 0; i < n; i++) {
          const f = r.subarray(i * recordSize, (i + 1) * recordSize);
          const probabilities = {};
          classes.forEach((name, c) => { probabilities[name] = f[8 + c]; });
          faces.push({
            box: { x: f[0], y: f[1], width: f[2], height: f[3] },
            label: classes[f[4]], labelIndex: f[4], confidence: f[5],
            detectorScore: f[6], neighbors: f[7], probabilities,
          });
        }
        return faces;
      };
      const buffer = (bytes) => {
        const at = x.fer_web_frame(s, bytes);
        if (!at) throw new Error('libfer: no memory for a frame of ' + bytes + ' bytes');
        return new Uint8Array(memory.buffer, at, bytes);
      };
      return {
        classes, colors,
        // The faces of an ImageData (RGBA bytes from a canvas).
        analyzeImageData(image) {
          buffer(image.width * image.height * 4).set(image.data);
          return run(image.width, image.height, image.width * 4, PIXEL.RGBA32, 0);
        },
        // The faces of a WebCodecs VideoFrame, copied into libfer as it
        // is (a camera's I420 or NV12: no conversion to RGB, and the same
        // pixels `fer video` reads from a Y4M file); null when its format
        // is not one libfer reads.
        async analyzeVideoFrame(frame) {
          const { width, height } = frame.visibleRect;
          const plan = copyPlan(frame.format, width, height);
          if (!plan) return null;
          await frame.copyTo(buffer(plan.bytes), { layout: plan.layout });
          const fullRange = frame.colorSpace && frame.colorSpace.fullRange ? 1 : 0;
          return run(width, height, plan.stride, plan.format, fullRange);
        },
        free() { x.fer_web_destroy(s); },
      };
    },
  };
}

// ---- Part 2: the page ----------------------------------------------------

const $ = (id) => document.getElementById(id);
const page = {
  session: null, stream: null,
  work: document.createElement('canvas'), // the frame as analysed
  times: [], // when recent frames were analysed, for the frame rate
  msTotal: 0,
};
window.fer = {
  ready: false, error: null, frames: 0, fps: 0, msPerFrame: 0, faces: [], format: null, version: null,
};

function showStatus(message, isError) {
  $('status').textContent = message;
  $('status').classList.toggle('error', !!isError);
  if (isError) window.fer.error = message;
}

// Box, probability bar and label of each face, scaled to the frame: boxes
// and bars first, then the labels, so that no line crosses a label.
function drawFaces(ctx, faces, width, height) {
  const line = Math.max(2, Math.round(width / 320));
  const fontPx = Math.max(12, Math.round(width / 40));
  const { classes, colors } = page.session;
  const bars = [];
  for (const f of faces) {
    const { x, y, width: w, height: h } = f.box;
    ctx.lineWidth = line;
    ctx.strokeStyle = colors[f.labelIndex];
    ctx.strokeRect(x, y, w, h);
    // The probability bar under the box: one segment per class, as wide as
    // its probability, in the class's colour.
    const bar = { x, y: y + h + line, w, h: Math.max(6, Math.round(w / 10)) };
    let bx = x;
    classes.forEach((name, c) => {
      const segment = w * f.probabilities[name];
      ctx.fillStyle = colors[c];
      ctx.fillRect(bx, bar.y, segment, bar.h);
      bx += segment;
    });
    ctx.lineWidth = 1;
    ctx.strokeStyle = '#000';
    ctx.strokeRect(bar.x, bar.y, bar.w, bar.h);
    bars.push(bar);
  }
  ctx.font = 'bold ' + fontPx + 'px system-ui, sans-serif';
  ctx.textBaseline = 'top';
  const placed = [];
  faces.forEach((f, i) => {
    const text = f.label + ' ' + Math.round(100 * f.confidence) + '%';
    const label = placeLabel(f.box, bars[i], ctx.measureText(text).width + 8, fontPx + 6,
      placed, width, height);
    placed.push(label);
    ctx.fillStyle = colors[f.labelIndex];
    ctx.fillRect(label.x, label.y, label.w, label.h);
    ctx.fillStyle = textColorOn(colors[f.labelIndex]);
    ctx.fillText(text, label.x + 4, label.y + 3);
  });
}

// Where a label of w x h goes: above its box, else under its bar, else
// inside the box's top; moved sideways past labels already placed but
// still over its box, and inside the frame. Where nothing is free, above
// the box after all.
function placeLabel(box, bar, w, h, placed, width, height) {
  const overlaps = (a, b) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
  const clampX = (x) => Math.max(0, Math.min(x, width - w));
  const overBox = (x) => x >= 0 && x + w <= width && x < box.x + box.width && x + w > box.x;
  for (const y of [box.y - h, bar.y + bar.h, box.y]) {
    if (y < 0 || y + h > height) continue;
    const tried = new Set();
    for (let x = clampX(box.x); overBox(x) && !tried.has(x);) {
      tried.add(x);
      const spot = { x, y, w, h };
      const hit = placed.find((r) => overlaps(r, spot));
      if (!hit) return spot;
      x = overBox(hit.x + hit.w + 1) ? hit.x + hit.w + 1 : hit.x - w - 1;
    }
  }
  return { x: clampX(box.x), y: Math.max(0, Math.min(box.y - h, height - h)), w, h };
}

function textColorOn(hex) {
  const v = parseInt(hex.slice(1), 16);
  return 299 * (v >> 16) + 587 * ((v >> 8) & 255) + 114 * (v & 255) > 140000 ? '#000' : '#fff';
}

function listFaces(faces) {
  $('faces').replaceChildren(...faces.map((f) => {
    const li = document.createElement('li');
    const { x, y, width, height } = f.box;
    const probs = page.session.classes.map((n) => n + ' ' + Math.round(100 * f.probabilities[n])).join(', ');
    li.textContent = f.label + ' ' + Math.round(100 * f.confidence) + '% at ' + x + ',' + y +
      ' (' + width + 'x' + height + '): ' + probs;
    return li;
  }));
}

// The frame of a video, image or bitmap as RGBA bytes, through a canvas.
function imageDataOf(source, width, height) {
  const work = page.work;
  if (work.width !== width || work.height !== height) {
    work.width = width;
    work.height = height;
  }
  const ctx = work.getContext('2d', { willReadFrequently: true });
  ctx.drawImage(source, 0, 0, width, height);
  return ctx.getImageData(0, 0, width, height);
}

// Shows an analysed frame: the picture (`image`, any canvas image source),
// then a "fer-frame" event, then boxes, labels, bars and the numbers.
function show(image, width, height, faces, ms, kind, format) {
  const view = $('view');
  if (view.width !== width || view.height !== height) {
    view.width = width;
    view.height = height;
  }
  const ctx = view.getContext('2d');
  ctx.drawImage(image, 0, 0, width, height);

  const state = window.fer;
  state.frames++;
  state.faces = faces;
  state.format = format;
  page.msTotal += ms;
  state.msPerFrame = page.msTotal / state.frames;
  const now = performance.now();
  page.times.push(now);
  if (page.times.length > 30) page.times.shift();
  const span = now - page.times[0];
  state.fps = page.times.length > 1 && span > 0 ? 1000 * (page.times.length - 1) / span : 0;
  window.dispatchEvent(new CustomEvent('fer-frame',
    { detail: { image, width, height, faces, ms, source: kind, format } }));

  drawFaces(ctx, faces, width, height);
  listFaces(faces);
  $('stats').textContent = kind === 'camera'
    ? state.fps.toFixed(1) + ' frames/s · libfer ' + ms.toFixed(0) + ' ms this frame (' +
      state.msPerFrame.toFixed(1) + ' ms mean) · ' + width + 'x' + height + ' ' + format + ' · ' +
      faces.length + ' face(s)'
    : 'photo ' + width + 'x' + height + ' · libfer ' + ms.toFixed(0) + ' ms · ' + faces.length + ' face(s)';
}

// One camera frame: its own pixels where the browser hands them over
// (WebCodecs), else RGBA through a canvas.
async function analyseCameraFrame(video) {
  const width = video.videoWidth, height = video.videoHeight;
  let frame = null;
  try {
    if (typeof VideoFrame === 'function') frame = new VideoFrame(video);
  } catch (e) {
    frame = null; // no frame to wrap yet, or no WebCodecs for this video
  }
  try {
    const t0 = performance.now();
    let faces = frame ? await page.session.analyzeVideoFrame(frame) : null;
    if (faces) {
      show(frame, frame.visibleRect.width, frame.visibleRect.height, faces,
        performance.now() - t0, 'camera', frame.format);
      return;
    }
    const imageData = imageDataOf(frame || video, width, height);
    faces = page.session.analyzeImageData(imageData);
    show(page.work, width, height, faces, performance.now() - t0, 'camera', 'RGBA');
  } finally {
    if (frame) frame.close();
  }
}

function resetStats() {
  page.times = [];
  page.msTotal = 0;
  window.fer.frames = 0;
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    showStatus('This browser gives no camera here (a page needs https:// or http://localhost).', true);
    return;
  }
  try {
    page.stream = await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false,
    });
  } catch (e) {
    showStatus('No camera: ' + e.message, true);
    return;
  }
  const video = $('video');
  video.srcObject = page.stream;
  await video.play();
  resetStats();
  $('camera').disabled = true;
  $('stop').disabled = false;
  showStatus('Camera on.');
  nextFrame();
}

// One analysis per new camera frame where the browser says when one
// arrives (requestVideoFrameCallback), else once per screen refresh; a
// frame that arrives during an analysis is skipped.
function nextFrame() {
  if (!page.stream) return;
  const video = $('video');
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
  else requestAnimationFrame(onFrame);
}

async function onFrame() {
  if (!page.stream) return;
  const video = $('video');
  try {
    if (video.videoWidth > 0) await analyseCameraFrame(video);
  } catch (e) {
    stopCamera();
    showStatus(e.message, true);
    return;
  }
  nextFrame();
}

function stopCamera() {
  if (page.stream) page.stream.getTracks().forEach((t) => t.stop());
  page.stream = null;
  $('video').srcObject = null;
  $('camera').disabled = false;
  $('stop').disabled = true;
}

async function analysePhoto(file) {
  stopCamera();
  try {
    const bitmap = await createImageBitmap(file);
    resetStats();
    const t0 = performance.now();
    const faces = page.session.analyzeImageData(imageDataOf(bitmap, bitmap.width, bitmap.height));
    show(page.work, bitmap.width, bitmap.height, faces, performance.now() - t0, 'photo', 'RGBA');
    bitmap.close();
    showStatus(file.name + ' analysed.');
  } catch (e) {
    showStatus(file.name + ': ' + e.message, true);
  }
}

async function main() {
  if (location.protocol === 'file:') {
    showStatus('Serve this folder over HTTP (python3 -m http.server) and open it from there: ' +
      'browsers load no WebAssembly from file:// pages.', true);
    return;
  }
  try {
    const lib = await loadLibfer('libfer.wasm');
    page.session = lib.createSession();
    window.fer.version = lib.version;
    showStatus('libfer ' + lib.version + ' ready (libfer.wasm, ' + (lib.bytes / 1e6).toFixed(2) +
      ' MB, model and face detector inside).');
  } catch (e) {
    showStatus('Could not start libfer: ' + e.message, true);
    return;
  }
  $('legend').replaceChildren(...page.session.classes.map((name, c) => {
    const li = document.createElement('li');
    const swatch = document.createElement('span');
    swatch.style.background = page.session.colors[c];
    li.append(swatch, name);
    return li;
  }));
  $('camera').addEventListener('click', startCamera);
  $('stop').addEventListener('click', () => { stopCamera(); showStatus('Camera off.'); });
  $('photo').addEventListener('change', (e) => { if (e.target.files[0]) analysePhoto(e.target.files[0]); });
  for (const id of ['camera', 'photo']) $(id).disabled = false;
  window.fer.ready = true;
}

main();
