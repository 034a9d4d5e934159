"""The face analyzer: detect faces, classify each one's expression, and
draw the results, as ``fer analyze`` does."""

import ctypes

from . import _lib, errors
from ._handle import Handle
from ._lib import c_double, c_int, c_ptr, c_size, c_status, c_str, signature, Rect

P = ctypes.POINTER


class _Face(ctypes.Structure):
    """The frozen public ``fer_face`` record."""
    _fields_ = [("box", Rect), ("neighbors", ctypes.c_int32), ("label", ctypes.c_int32),
                ("detector_score", ctypes.c_double), ("confidence", ctypes.c_float),
                ("reserved", ctypes.c_int32)]


signature("fer_analyze_param_info", c_status, c_int, P(c_str), P(c_double), P(c_double),
          P(c_double))
signature("fer_analyzer_create", c_status, c_ptr, c_ptr, P(c_ptr))
signature("fer_analyzer_create_default", c_status, P(c_ptr))
signature("fer_analyzer_free", None, c_ptr)
signature("fer_analyzer_set", c_status, c_ptr, c_int, c_double)
signature("fer_analyzer_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_analyzer_num_classes", c_int, c_ptr)
signature("fer_analyzer_class_name", c_str, c_ptr, c_int)
signature("fer_analyzer_run", c_status, c_ptr, c_ptr, P(_Face), P(ctypes.c_float), c_size,
          c_size, P(c_size))
signature("fer_analyzer_annotate", c_status, c_ptr, c_ptr, P(_Face), c_size)
signature("fer_analyzer_has_default_model", c_int)
signature("fer_analyzer_has_default_cascade", c_int)

# fer_analyze_param values (include/fer/analyze.h; part of the ABI).
_KEYS = {"scale_factor": 1, "min_neighbors": 2, "min_size": 3, "max_size": 4, "margin": 5}


class Face:
    """One analysed face: ``box`` (x, y, w, h), ``label``, ``index``,
    ``confidence``, ``probabilities`` ({class name: probability}),
    ``neighbors`` and ``detector_score``."""

    __slots__ = ("box", "label", "index", "confidence", "probabilities", "neighbors",
                 "detector_score", "_record")

    def __repr__(self):
        return "Face(box=%r, label=%r, confidence=%.3f)" % (self.box, self.label,
                                                            self.confidence)


def has_default_model():
    """True when this libfer carries a built-in expression model."""
    return bool(_lib.fn("fer_analyzer_has_default_model")())


def has_default_cascade():
    """True when this libfer carries a built-in face cascade."""
    return bool(_lib.fn("fer_analyzer_has_default_cascade")())


class Analyzer(Handle):
    """Detector + expression model. ``Analyzer()`` uses the built-in
    defaults; ``Analyzer(model, cascade)`` uses yours (both are kept alive
    while the analyzer lives). One thread at a time per analyzer; make one
    per thread, they can share a model and a cascade."""

    _free_name = "fer_analyzer_free"
    _kind = "Analyzer"

    def __init__(self, model=None, cascade=None, **params):
        out = c_ptr()
        if model is None and cascade is None:
            _lib.call("fer_analyzer_create_default", ctypes.byref(out))
        elif model is not None and cascade is not None:
            _lib.call("fer_analyzer_create", model._h, cascade._h, ctypes.byref(out))
        else:
            raise errors.InvalidArgumentError(
                "give both a model and a cascade, or neither for the built-in ones",
                errors.INVALID_ARGUMENT)
        Handle.__init__(self, out.value)
        self.model, self.cascade = model, cascade
        self._capacity = 16
        self._alloc()
        self.set(**params)

    def _alloc(self):
        k = self.num_classes
        self._faces = (_Face * self._capacity)()
        self._probs = (ctypes.c_float * (self._capacity * k))()

    @staticmethod
    def params():
        """{name: (default, min, max)} of the analyzer's parameters."""
        out = {}
        for name, key in _KEYS.items():
            cname, lo, hi, d = c_str(), c_double(), c_double(), c_double()
            _lib.call("fer_analyze_param_info", key, ctypes.byref(cname), ctypes.byref(lo),
                      ctypes.byref(hi), ctypes.byref(d))
            out[name] = (d.value, lo.value, hi.value)
        return out

    def _key(self, name):
        if name not in _KEYS:
            raise errors.NotFoundError("the analyzer has no parameter %r (known: %s)"
                                       % (name, ", ".join(sorted(_KEYS))), errors.NOT_FOUND)
        return _KEYS[name]

    def set(self, **params):
        """scale_factor, min_neighbors, min_size (int or (w, h)), max_size, margin."""
        for name, value in params.items():
            if value is None:
                continue
            if name in ("min_size", "max_size") and not isinstance(value, (int, float)):
                value = max(value)
            _lib.call("fer_analyzer_set", self._h, self._key(name), float(value))
        return self

    def get(self, name):
        value = c_double()
        _lib.call("fer_analyzer_get", self._h, self._key(name), ctypes.byref(value))
        return value.value

    @property
    def num_classes(self):
        return _lib.fn("fer_analyzer_num_classes")(self._h)

    @property
    def class_names(self):
        fn = _lib.fn("fer_analyzer_class_name")
        return [fn(self._h, i).decode() for i in range(self.num_classes)]

    def analyze(self, image):
        """The faces of ``image`` (a libfer.Image), largest first as found;
        an image without faces gives []."""
        count = c_size()
        k = self.num_classes
        while True:
            status = _lib.fn("fer_analyzer_run")(self._h, image._h, self._faces, self._probs,
                                                 self._capacity, k, ctypes.byref(count))
            if status == errors.BUFFER_TOO_SMALL and count.value > self._capacity:
                self._capacity = count.value
                self._alloc()
                continue
            _lib.check(status, "fer_analyzer_run")
            break
        names = self.class_names
        faces = []
        for i in range(count.value):
            rec = self._faces[i]
            face = Face()
            face.box = (rec.box.x, rec.box.y, rec.box.width, rec.box.height)
            face.index = rec.label
            face.label = names[rec.label]
            face.confidence = rec.confidence
            face.probabilities = {names[c]: self._probs[i * k + c] for c in range(k)}
            face.neighbors = rec.neighbors
            face.detector_score = rec.detector_score
            face._record = _Face.from_buffer_copy(rec)
            faces.append(face)
        return faces

    def annotate(self, image, faces):
        """Draw boxes and "label NN%" tags on ``image`` in place; returns it."""
        records = (_Face * max(1, len(faces)))(*[f._record for f in faces])
        _lib.call("fer_analyzer_annotate", self._h, image._h, records, len(faces))
        return image


def analyze(image, **params):
    """The faces of ``image`` with the built-in model and cascade (see
    ``Analyzer``); a new analyzer per call, so it is safe from any thread."""
    with Analyzer(**params) as analyzer:
        return analyzer.analyze(image)
