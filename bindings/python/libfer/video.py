"""Video helpers (fer/video.h): Y4M streams in and out, and the face tracker.

The ``*_from_file`` C functions take a ``FILE *`` and are not wrapped; use
the path forms (``"-"`` is standard input or output).
"""

import ctypes

from . import _buffers, _inputs, _lib, errors
from ._handle import Handle
from ._lib import (c_double, c_float_p, c_int, c_ptr, c_size, c_status, c_str, c_uint,
                   signature, Rect)
from .image import Image

P = ctypes.POINTER

signature("fer_y4m_reader_open", c_status, c_str, P(c_ptr))
signature("fer_y4m_reader_free", None, c_ptr)
signature("fer_y4m_reader_width", c_int, c_ptr)
signature("fer_y4m_reader_height", c_int, c_ptr)
signature("fer_y4m_reader_colorspace", c_int, c_ptr)
signature("fer_y4m_reader_interlace", c_int, c_ptr)
signature("fer_y4m_reader_frame_rate", c_status, c_ptr, P(c_int), P(c_int))
signature("fer_y4m_reader_aspect", c_status, c_ptr, P(c_int), P(c_int))
signature("fer_y4m_reader_next", c_status, c_ptr, P(c_int))
signature("fer_y4m_reader_frame_count", ctypes.c_long, c_ptr)
signature("fer_y4m_reader_planes", c_status, c_ptr, P(c_ptr), P(c_size))
signature("fer_y4m_reader_image", c_status, c_ptr, c_uint, P(c_ptr))
signature("fer_y4m_writer_open", c_status, c_str, c_int, c_int, c_uint, P(c_ptr))
signature("fer_y4m_writer_set_frame_rate", c_status, c_ptr, c_int, c_int)
signature("fer_y4m_writer_set_aspect", c_status, c_ptr, c_int, c_int)
signature("fer_y4m_writer_write", c_status, c_ptr, c_ptr)
signature("fer_y4m_writer_close", c_status, c_ptr)
signature("fer_tracker_create", c_status, c_int, P(c_ptr))
signature("fer_tracker_free", None, c_ptr)
signature("fer_tracker_set", c_status, c_ptr, c_int, c_double)
signature("fer_tracker_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_tracker_param_info", c_status, c_int, P(c_str), P(c_double), P(c_double),
          P(c_double))
signature("fer_tracker_update", c_status, c_ptr, P(Rect), c_float_p, c_int,
          P(ctypes.c_int32), c_float_p, P(c_int), P(Rect))
signature("fer_tracker_num_tracks", c_int, c_ptr)
signature("fer_tracker_reset", c_status, c_ptr)

COLORSPACES = {1: "420jpeg", 2: "420paldv", 3: "420mpeg2", 4: "420", 5: "mono"}
INTERLACES = {0: "unknown", 1: "progressive", 2: "top_first", 3: "bottom_first", 4: "mixed"}
READ_GRAY = 1
WRITE_MONO = 1


def _fraction(name, h):
    num, den = c_int(), c_int()
    _lib.call(name, h, ctypes.byref(num), ctypes.byref(den))
    return num.value, den.value


class Y4MReader(Handle):
    """Frames of a YUV4MPEG2 stream, in order: ``for image in reader``
    yields RGB images (``gray=True``: luma only, what the detector needs)."""

    _free_name = "fer_y4m_reader_free"
    _kind = "Y4MReader"

    def __init__(self, path, gray=False):
        out = c_ptr()
        _lib.call("fer_y4m_reader_open", _lib.encode_path(path), ctypes.byref(out))
        Handle.__init__(self, out.value)
        self.gray = gray

    @property
    def width(self):
        return _lib.fn("fer_y4m_reader_width")(self._h)

    @property
    def height(self):
        return _lib.fn("fer_y4m_reader_height")(self._h)

    @property
    def colorspace(self):
        return COLORSPACES.get(_lib.fn("fer_y4m_reader_colorspace")(self._h), "?")

    @property
    def interlace(self):
        return INTERLACES.get(_lib.fn("fer_y4m_reader_interlace")(self._h), "?")

    @property
    def frame_rate(self):
        """(numerator, denominator); (0, 0) when the stream does not say."""
        return _fraction("fer_y4m_reader_frame_rate", self._h)

    @property
    def aspect(self):
        return _fraction("fer_y4m_reader_aspect", self._h)

    @property
    def frame_count(self):
        return _lib.fn("fer_y4m_reader_frame_count")(self._h)

    def next_frame(self):
        """Advance; False at the clean end of the stream."""
        got = c_int()
        _lib.call("fer_y4m_reader_next", self._h, ctypes.byref(got))
        return bool(got.value)

    def image(self, gray=None):
        """The current frame as a new Image."""
        out = c_ptr()
        flags = READ_GRAY if (self.gray if gray is None else gray) else 0
        _lib.call("fer_y4m_reader_image", self._h, flags, ctypes.byref(out))
        return Image(out.value)

    def planes(self):
        """The current frame's (Y, U, V) planes as bytes (U, V None for mono)."""
        ptrs, strides = (c_ptr * 3)(), (c_size * 3)()
        _lib.call("fer_y4m_reader_planes", self._h, ptrs, strides)
        w, h = self.width, self.height
        heights = (h, (h + 1) // 2, (h + 1) // 2)
        return tuple(ctypes.string_at(ptrs[i], strides[i] * heights[i]) if ptrs[i] else None
                     for i in range(3))

    def __iter__(self):
        while self.next_frame():
            yield self.image()


class Y4MWriter(Handle):
    """Writes frames (Images of the stream's size) to a Y4M file or "-"."""

    _free_name = "fer_y4m_writer_close"
    _kind = "Y4MWriter"

    def __init__(self, path, width, height, mono=False, frame_rate=None, aspect=None):
        out = c_ptr()
        _lib.call("fer_y4m_writer_open", _lib.encode_path(path), int(width), int(height),
                  WRITE_MONO if mono else 0, ctypes.byref(out))
        Handle.__init__(self, out.value)
        if frame_rate is not None:
            self.set_frame_rate(*frame_rate)
        if aspect is not None:
            self.set_aspect(*aspect)

    def set_frame_rate(self, numerator, denominator=1):
        _lib.call("fer_y4m_writer_set_frame_rate", self._h, int(numerator), int(denominator))

    def set_aspect(self, numerator, denominator=1):
        _lib.call("fer_y4m_writer_set_aspect", self._h, int(numerator), int(denominator))

    def write(self, image, channel_order="RGB"):
        """Append one frame: a libfer.Image or anything ``analyze`` takes (a
        numpy array in ``channel_order``, "BGR" for OpenCV frames)."""
        image = _inputs.to_image(image, channel_order, "Y4MWriter.write")
        _lib.call("fer_y4m_writer_write", self._h, image._h)

    def close(self):
        """Flush and close; raises if writing failed (the writer is freed
        either way)."""
        if self._ptr is None:
            return
        ptr = self._ptr
        self._finalizer.detach()
        self._ptr = None
        _lib.call("fer_y4m_writer_close", ptr)


class Tracker(Handle):
    """Keeps face identities across frames and smooths their probabilities:
    ``Tracker(num_classes=7, prob_smoothing=0.6)``, then ``update(boxes,
    probs)`` per frame."""

    _free_name = "fer_tracker_free"
    _kind = "Tracker"

    def __init__(self, num_classes=7, **params):
        out = c_ptr()
        _lib.call("fer_tracker_create", int(num_classes), ctypes.byref(out))
        Handle.__init__(self, out.value)
        self.num_classes = int(num_classes)
        self.set(**params)

    @staticmethod
    def params():
        """{name: (default, min, max, key)} of every parameter."""
        out = {}
        info = _lib.fn("fer_tracker_param_info")
        for key in range(1, 64):
            name, lo, hi, d = c_str(), c_double(), c_double(), c_double()
            if info(key, ctypes.byref(name), ctypes.byref(lo), ctypes.byref(hi),
                    ctypes.byref(d)) != 0:
                break
            out[name.value.decode()] = (d.value, lo.value, hi.value, key)
        return out

    def _key(self, name):
        table = self.params()
        if name not in table:
            raise errors.NotFoundError("the tracker has no parameter %r (known: %s)"
                                       % (name, ", ".join(sorted(table))), errors.NOT_FOUND)
        return table[name][3]

    def set(self, **params):
        for name, value in params.items():
            _lib.call("fer_tracker_set", self._h, self._key(name), float(value))
        return self

    def get(self, name):
        value = c_double()
        _lib.call("fer_tracker_get", self._h, self._key(name), ctypes.byref(value))
        return value.value

    @property
    def num_tracks(self):
        return _lib.fn("fer_tracker_num_tracks")(self._h)

    def reset(self):
        _lib.call("fer_tracker_reset", self._h)

    def update(self, boxes, probs=None):
        """One frame: boxes [(x, y, w, h)] and, with classes, one probability
        row per box. Returns [{"id", "box", "top_class", "probabilities"}]."""
        n = len(boxes)
        rects = (Rect * max(n, 1))(*[Rect(*[int(v) for v in b]) for b in boxes])
        k = self.num_classes
        pptr, keep = None, None
        if k and n:
            if probs is None:
                raise errors.InvalidArgumentError("probabilities are needed for %d classes" % k,
                                                  errors.INVALID_ARGUMENT)
            pptr, keep, count = _buffers.floats_in(probs)
            if count != n * k:
                raise errors.InvalidArgumentError(
                    "%d probabilities for %d boxes of %d classes" % (count, n, k),
                    errors.INVALID_ARGUMENT)
        ids = (ctypes.c_int32 * max(n, 1))()
        smoothed = (ctypes.c_float * max(n * k, 1))()
        top = (c_int * max(n, 1))()
        out_boxes = (Rect * max(n, 1))()
        _lib.call("fer_tracker_update", self._h, rects, pptr, n, ids, smoothed, top, out_boxes)
        del keep
        return [{"id": ids[i],
                 "box": (out_boxes[i].x, out_boxes[i].y, out_boxes[i].width,
                         out_boxes[i].height),
                 "top_class": top[i],
                 "probabilities": list(smoothed[i * k:(i + 1) * k])} for i in range(n)]
