"""The Viola-Jones face detector (fer/detect.h), shaped like OpenCV's
``CascadeClassifier`` so that a tutorial's loop ports line by line:

    cascade = libfer.Cascade.load("haarcascade_frontalface_default.xml")
    for (x, y, w, h) in cascade.detect(image, scale_factor=1.1,
                                       min_neighbors=3, min_size=(30, 30)):
        ...
"""

import ctypes

from . import _buffers, _inputs, _lib, errors
from ._handle import Handle
from ._lib import (c_double, c_int, c_ptr, c_size, c_status, c_str, c_uint8_p,
                   signature, Rect)

P = ctypes.POINTER


class Detection(ctypes.Structure):
    """The frozen public ``fer_detection`` record."""
    _fields_ = [("box", Rect), ("neighbors", ctypes.c_int32),
                ("reserved", ctypes.c_int32), ("score", ctypes.c_double)]


signature("fer_cascade_load", c_status, c_str, P(c_ptr))
signature("fer_cascade_load_memory", c_status, c_ptr, c_size, P(c_ptr))
signature("fer_cascade_save", c_status, c_ptr, c_str)
signature("fer_cascade_encode", c_status, c_ptr, P(c_ptr), P(c_size))
signature("fer_cascade_free", None, c_ptr)
signature("fer_cascade_save_xml", c_status, c_ptr, c_str)
signature("fer_cascade_encode_xml", c_status, c_ptr, P(c_ptr), P(c_size))
signature("fer_default_cascade_load", c_status, P(c_ptr))
signature("fer_cascade_window_width", c_int, c_ptr)
signature("fer_cascade_window_height", c_int, c_ptr)
signature("fer_cascade_stage_count", c_int, c_ptr)
signature("fer_cascade_feature_type", c_int, c_ptr)
signature("fer_detector_set", c_status, c_ptr, c_int, c_double)
signature("fer_detector_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_detect_param_bounds", c_status, c_int, P(c_double), P(c_double), P(c_double))
signature("fer_detect_param_name", c_str, c_int)
signature("fer_detector_create", c_status, c_ptr, P(c_ptr))
signature("fer_detector_free", None, c_ptr)
signature("fer_detector_run", c_status, c_ptr, c_ptr, P(Detection), c_size, P(c_size))
signature("fer_detector_run_gray", c_status, c_ptr, c_uint8_p, c_int, c_int, c_size,
          P(Detection), c_size, P(c_size))

FEATURES = {1: "haar", 2: "lbp"}


def _param_keys():
    """{name: key} from the library's own table."""
    keys = {}
    name_of = _lib.fn("fer_detect_param_name")
    for key in range(1, 64):
        name = name_of(key)
        if name is None:
            break
        keys[name.decode()] = key
    return keys


class Detector(Handle):
    """Scratch memory and parameters for detection with one cascade (one
    thread at a time; make one per thread). Keeps its cascade alive."""

    _free_name = "fer_detector_free"
    _kind = "Detector"

    def __init__(self, cascade, **params):
        out = c_ptr()
        _lib.call("fer_detector_create", cascade._h, ctypes.byref(out))
        Handle.__init__(self, out.value)
        self.cascade = cascade
        cascade._detectors.add(self)
        self._capacity = 64
        self._results = (Detection * self._capacity)()
        self.set(**params)

    @staticmethod
    def params():
        """{name: (default, min, max)}."""
        out = {}
        for name, key in _param_keys().items():
            lo, hi, d = c_double(), c_double(), c_double()
            _lib.call("fer_detect_param_bounds", key, ctypes.byref(lo), ctypes.byref(hi),
                      ctypes.byref(d))
            out[name] = (d.value, lo.value, hi.value)
        return out

    def _key(self, name):
        keys = _param_keys()
        if name not in keys:
            raise errors.NotFoundError("the detector has no parameter %r (known: %s)"
                                       % (name, ", ".join(sorted(keys))), errors.NOT_FOUND)
        return keys[name]

    def set(self, **params):
        """Set parameters by name: scale_factor, min_neighbors, min_size,
        max_size, group_eps, raw. ``min_size``/``max_size`` also take a
        (w, h) pair as OpenCV does (the larger side is used: libfer's
        windows are square like the cascade's)."""
        for name, value in params.items():
            if value is None:
                continue
            if name in ("min_size", "max_size") and not isinstance(value, (int, float)):
                value = max(value)
            _lib.call("fer_detector_set", self._h, self._key(name), float(value))
        return self

    def get(self, name):
        value = c_double()
        _lib.call("fer_detector_get", self._h, self._key(name), ctypes.byref(value))
        return value.value

    def _run(self, fn, *args):
        count = c_size()
        while True:
            status = _lib.fn(fn)(self._h, *args, self._results, self._capacity,
                                 ctypes.byref(count))
            if status == errors.BUFFER_TOO_SMALL and count.value > self._capacity:
                self._capacity = count.value
                self._results = (Detection * self._capacity)()
                continue
            _lib.check(status)
            return self._results[:count.value]

    def detect_detections(self, image, channel_order="RGB"):
        """Full records: [(box (x, y, w, h), neighbors, score)]."""
        np = _buffers.np
        if np is not None and isinstance(image, np.ndarray) and image.ndim == 2:
            # A gray array goes to C as it is, without a copy.
            pixels, width, height, stride, keep = _gray_pixels(image)
            found = self._run("fer_detector_run_gray", pixels, width, height, stride)
            del keep
        else:
            image = _inputs.to_image(image, channel_order, "detect")
            found = self._run("fer_detector_run", image._h)
        return [((d.box.x, d.box.y, d.box.width, d.box.height), d.neighbors, d.score)
                for d in found]

    def detect(self, image, channel_order="RGB"):
        """Boxes (x, y, w, h) of the faces in ``image``: a libfer.Image, a
        path, encoded bytes, a PIL image, or a numpy uint8 array (H x W
        gray, passed without a copy; H x W x 3 or x 4 in ``channel_order``,
        "BGR" for OpenCV)."""
        return [box for box, _, _ in self.detect_detections(image, channel_order)]


def _gray_pixels(array):
    """(pointer, width, height, stride, keepalive) of a 2-D uint8 array."""
    np = _buffers.np
    if array.dtype != np.uint8:
        raise errors.UnsupportedInputError(
            "detect takes uint8 pixel arrays, not %s" % array.dtype, errors.INVALID_ARGUMENT)
    if array.strides[1] != 1 or array.strides[0] < array.shape[1]:
        array = np.ascontiguousarray(array)
    ptr = array.ctypes.data_as(c_uint8_p)
    return ptr, array.shape[1], array.shape[0], array.strides[0], array


class Cascade(Handle):
    """A loaded cascade (OpenCV XML or libfer binary): immutable, shareable."""

    _free_name = "fer_cascade_free"
    _kind = "Cascade"

    def __init__(self, ptr):
        Handle.__init__(self, ptr)
        import weakref
        self._detectors = weakref.WeakSet()
        self._default_detector = None

    @classmethod
    def load(cls, path):
        out = c_ptr()
        _lib.call("fer_cascade_load", _lib.encode_path(path), ctypes.byref(out))
        return cls(out.value)

    @classmethod
    def from_bytes(cls, data):
        ptr, keep, n = _buffers.bytes_in(data)
        out = c_ptr()
        _lib.call("fer_cascade_load_memory", ptr, n, ctypes.byref(out))
        del keep
        return cls(out.value)

    @classmethod
    def _borrow(cls, ptr, owner):
        """A view of a cascade that ``owner`` (an Analyzer) owns."""
        self = cls.__new__(cls)
        self._init_borrowed(ptr, owner)
        import weakref
        self._detectors = weakref.WeakSet()
        self._default_detector = None
        return self

    @classmethod
    def default(cls):
        """The frontal-face cascade built into this libfer, or else the
        installed OpenCV one (``$FER_CASCADE``, then the opencv-data paths).
        Raises NotFoundError, listing what was tried, when there is none."""
        out = c_ptr()
        _lib.call("fer_default_cascade_load", ctypes.byref(out))
        return cls(out.value)

    def close(self):
        """Free the cascade; detectors using it are closed first."""
        for det in list(getattr(self, "_detectors", ())):
            det.close()
        Handle.close(self)

    def save(self, path):
        """Write libfer's binary cascade format atomically."""
        _lib.call("fer_cascade_save", self._h, _lib.encode_path(path))

    def to_bytes(self):
        data, size = c_ptr(), c_size()
        _lib.call("fer_cascade_encode", self._h, ctypes.byref(data), ctypes.byref(size))
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            _lib.fn("fer_free")(data)

    def save_xml(self, path):
        """Write OpenCV's current cascade XML atomically: it loads in
        ``cv2.CascadeClassifier`` and back in ``Cascade.load``."""
        _lib.call("fer_cascade_save_xml", self._h, _lib.encode_path(path))

    def to_xml(self):
        """The OpenCV XML of ``save_xml`` as a str."""
        data, size = c_ptr(), c_size()
        _lib.call("fer_cascade_encode_xml", self._h, ctypes.byref(data), ctypes.byref(size))
        try:
            return ctypes.string_at(data.value, size.value).decode("utf-8")
        finally:
            _lib.fn("fer_free")(data)

    @property
    def window_size(self):
        """(width, height) of the detection window."""
        return (_lib.fn("fer_cascade_window_width")(self._h),
                _lib.fn("fer_cascade_window_height")(self._h))

    @property
    def stage_count(self):
        return _lib.fn("fer_cascade_stage_count")(self._h)

    @property
    def feature_type(self):
        """"haar" or "lbp"."""
        return FEATURES.get(_lib.fn("fer_cascade_feature_type")(self._h), "?")

    def detector(self, **params):
        """A new ``Detector`` (use one per thread)."""
        return Detector(self, **params)

    def detect(self, image, scale_factor=1.1, min_neighbors=3, min_size=None,
               max_size=None, channel_order="RGB"):
        """OpenCV's ``detectMultiScale``: a list of (x, y, w, h) boxes.
        ``image`` as ``Detector.detect`` takes it. Uses one detector kept by
        the cascade: call from one thread at a time, or make a
        ``detector()`` per thread."""
        if self._default_detector is None or self._default_detector.closed:
            self._default_detector = Detector(self)
        det = self._default_detector
        det.set(scale_factor=scale_factor, min_neighbors=min_neighbors,
                min_size=0 if min_size is None else min_size,
                max_size=0 if max_size is None else max_size)
        return det.detect(image, channel_order)

    # The OpenCV spelling, for ported scripts.
    def detectMultiScale(self, image, scaleFactor=1.1, minNeighbors=3, flags=0,
                         minSize=None, maxSize=None):
        return self.detect(image, scale_factor=scaleFactor, min_neighbors=minNeighbors,
                           min_size=minSize, max_size=maxSize)
