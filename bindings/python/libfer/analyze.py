"""The face analyzer: detect faces, classify each one's expression, and
draw the results, as ``fer analyze`` does."""

import ctypes
import threading
import weakref

from . import _lib, errors
from ._inputs import to_image
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
signature("fer_analyzer_reset", c_status, c_ptr)
signature("fer_analyzer_num_classes", c_int, c_ptr)
signature("fer_analyzer_class_name", c_str, c_ptr, c_int)
signature("fer_analyzer_run", c_status, c_ptr, c_ptr, P(_Face), P(ctypes.c_float), c_size,
          c_size, P(c_size))
signature("fer_analyzer_annotate", c_status, c_ptr, c_ptr, P(_Face), c_size)
signature("fer_analyzer_has_default_model", c_int)
signature("fer_analyzer_has_default_cascade", c_int)
signature("fer_analyzer_model", c_ptr, c_ptr)
signature("fer_analyzer_cascade", c_ptr, c_ptr)
signature("fer_analyzer_run_batch", c_status, c_ptr, P(c_ptr), c_size, P(_Face),
          P(ctypes.c_float), c_size, c_size, P(c_size), P(c_size))
signature("fer_expression_color", ctypes.c_uint32, c_str, c_int)

# fer_analyze_param values (include/fer/analyze.h; part of the ABI).
_KEYS = {"scale_factor": 1, "min_neighbors": 2, "min_size": 3, "max_size": 4, "margin": 5,
         "detect_interval": 6, "region_margin": 7, "region_scale": 8}


class Face:
    """One analysed face: ``box`` (x, y, w, h), ``label``, ``index``,
    ``confidence``, ``probabilities`` ({class name: probability}),
    ``neighbors`` and ``detector_score``. ``to_dict()`` gives plain Python
    values (JSON-ready); in a notebook a face shows its probabilities as a
    bar chart."""

    __slots__ = ("box", "label", "index", "confidence", "probabilities", "neighbors",
                 "detector_score", "_record", "_analyzer")

    def __repr__(self):
        return "Face(box=%r, label=%r, confidence=%.3f)" % (self.box, self.label,
                                                            self.confidence)

    def to_dict(self):
        """{"box": [x, y, w, h], "label", "index", "confidence",
        "probabilities": {name: p}, "neighbors", "detector_score"} with
        plain ints, floats and strs (``json.dumps`` takes it as it is)."""
        return {"box": [int(v) for v in self.box], "label": self.label,
                "index": int(self.index), "confidence": float(self.confidence),
                "probabilities": {name: float(p) for name, p in self.probabilities.items()},
                "neighbors": int(self.neighbors), "detector_score": float(self.detector_score)}

    def _repr_svg_(self):
        from . import _display
        return _display.faces_svg([self])


class Faces(list):
    """The faces found in one image: a list of ``Face`` (largest first, as
    the detector found them; empty when there is none) that also knows its
    ``image`` (the libfer.Image analysed, as it is when used). In a
    notebook it shows the annotated image and a probability bar chart per
    face."""

    def __init__(self, faces=(), image=None):
        list.__init__(self, faces)
        self.image = image

    def to_fer(self, decimals=None):
        """The list in the ``fer`` package's shape; see ``libfer.to_fer``."""
        return to_fer(self, decimals)

    def to_dicts(self):
        """``[face.to_dict() for face in self]``."""
        return [face.to_dict() for face in self]

    def annotate(self):
        """A new RGB image: the analysed image with boxes and labels."""
        if self.image is None:
            raise errors.MisuseError("these faces carry no image; use libfer.annotate(image, "
                                     "faces)", errors.MISUSE)
        return annotate(self.image, self)

    def _shown_image(self):
        if self.image is None or self.image.closed:
            return None
        return self.annotate()

    def _repr_png_(self):
        shown = self._shown_image()
        return None if shown is None else shown.encode("png")

    def _repr_svg_(self):
        from . import _display
        return _display.faces_svg(self, self._shown_image())


def to_fer(faces, decimals=None):
    """Faces in the shape the ``fer`` package's ``detect_emotions`` returns:
    ``[{"box": [x, y, w, h], "emotions": {"angry": p, ..., "neutral": p}}]``,
    so code written against that package keeps working. ``fer`` rounds the
    probabilities to 2 decimals; pass ``decimals=2`` to get the same."""
    out = []
    for face in faces:
        if not isinstance(face, Face):
            raise errors.UnsupportedInputError(
                "to_fer takes the Face objects that analyze() returns, not %s"
                % type(face).__name__, errors.INVALID_ARGUMENT)
        emotions = {name: float(p) if decimals is None else round(float(p), decimals)
                    for name, p in face.probabilities.items()}
        out.append({"box": [int(v) for v in face.box], "emotions": emotions})
    return out


def expression_color(label, index=0):
    """The (r, g, b) colour ``Analyzer.annotate`` draws ``label`` with
    (happy yellow, sad blue, ...); other labels get a colour from ``index``."""
    rgb = _lib.fn("fer_expression_color")(str(label).encode("utf-8"), int(index))
    return (rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF


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
        # The caller's objects are kept alive (the C analyzer reads them);
        # for the built-in ones, borrowed views are made on first use.
        self._given = {"model": model, "cascade": cascade}
        self._views = weakref.WeakSet()
        self._capacity = 16
        self._alloc()
        self.set(**params)

    def _alloc(self):
        k = self.num_classes
        self._faces = (_Face * self._capacity)()
        self._probs = (ctypes.c_float * (self._capacity * k))()

    def close(self):
        """Free the analyzer; views of its built-in model and cascade are
        closed first."""
        for view in list(getattr(self, "_views", ())):
            view._owner_closed()
        Handle.close(self)

    def _part(self, what, getter, wrap):
        ptr = _lib.fn(getter)(self._h)
        given = self._given[what]
        if given is not None and given._ptr == ptr:
            return given
        view = self._given.get("view_" + what)
        if view is None or view.closed:
            view = wrap(ptr, self)
            self._given["view_" + what] = view
            self._views.add(view)
        return view

    @property
    def model(self):
        """The Model in use: the one given, or a read-only view of the
        built-in one that keeps this analyzer alive."""
        from .model import Model
        return self._part("model", "fer_analyzer_model", Model._borrow)

    @property
    def cascade(self):
        """The Cascade in use: the one given, or a view of the built-in one
        that keeps this analyzer alive."""
        from .detect import Cascade
        return self._part("cascade", "fer_analyzer_cascade", Cascade._borrow)

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
        """scale_factor, min_neighbors, min_size (int or (w, h)), max_size, margin;
        for video, detect_interval (the whole frame every N analyses, only
        around the faces found between), region_margin, region_scale."""
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

    def reset(self):
        """Forget the faces of earlier frames (detect_interval > 1): the next
        analysis scans the whole image. Call it between two videos."""
        _lib.call("fer_analyzer_reset", self._h)
        return self

    @property
    def num_classes(self):
        return _lib.fn("fer_analyzer_num_classes")(self._h)

    @property
    def class_names(self):
        fn = _lib.fn("fer_analyzer_class_name")
        return [fn(self._h, i).decode() for i in range(self.num_classes)]

    def analyze(self, image, channel_order="RGB"):
        """The faces of ``image``, largest first as found, as ``Faces`` (a
        list of ``Face``; an image without faces gives an empty one).
        ``image``: a path, encoded bytes, a numpy uint8 array (H x W, H x W
        x 3 or x 4 in ``channel_order``: "RGB", or "BGR" for OpenCV), a PIL
        image or a libfer.Image."""
        image = to_image(image, channel_order, "Analyzer.analyze")
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
        return Faces(self._faces_at(0, count.value), image)

    def analyze_batch(self, images, channel_order="RGB"):
        """The faces of each image of ``images`` in one call: a list (one
        per image) of ``Faces``; an image without faces gives an empty one.
        Each image is anything ``analyze`` takes."""
        images = [to_image(image, channel_order, "Analyzer.analyze_batch (image %d)" % i)
                  for i, image in enumerate(images)]
        handles = (c_ptr * max(1, len(images)))(*[image._h for image in images])
        counts = (c_size * max(1, len(images)))()
        total = c_size()
        k = self.num_classes
        while True:
            status = _lib.fn("fer_analyzer_run_batch")(
                self._h, handles, len(images), self._faces, self._probs, self._capacity, k,
                counts, ctypes.byref(total))
            if status == errors.BUFFER_TOO_SMALL and total.value > self._capacity:
                self._capacity = total.value
                self._alloc()
                continue
            _lib.check(status, "fer_analyzer_run_batch")
            break
        out, start = [], 0
        for i in range(len(images)):
            out.append(Faces(self._faces_at(start, counts[i]), images[i]))
            start += counts[i]
        return out

    def _faces_at(self, start, count):
        """Face objects of records start .. start + count - 1."""
        names = self.class_names
        k = len(names)
        faces = []
        for i in range(start, start + count):
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
            face._analyzer = self
            faces.append(face)
        return faces

    def annotate(self, image, faces):
        """Draw boxes and "label NN%" tags on ``image`` (a libfer.Image) in
        place; returns it. ``libfer.annotate`` makes a new image instead."""
        faces = list(faces)
        for face in faces:
            if not isinstance(face, Face):
                raise errors.UnsupportedInputError(
                    "annotate takes the Face objects that analyze() returns, not %s"
                    % type(face).__name__, errors.INVALID_ARGUMENT)
        records = (_Face * max(1, len(faces)))(*[f._record for f in faces])
        _lib.call("fer_analyzer_annotate", self._h, image._h, records, len(faces))
        return image


# One analyzer per thread for analyze() and annotate(): made on first use
# (the built-in model and cascade), kept for the thread's life, so that a
# video loop does not rebuild it for every frame.
_per_thread = threading.local()


def _thread_analyzer():
    analyzer = getattr(_per_thread, "analyzer", None)
    if analyzer is None or analyzer.closed:
        analyzer = Analyzer()
        _per_thread.analyzer = analyzer
        _per_thread.defaults = {name: analyzer.get(name) for name in _KEYS}
    return analyzer


def analyze(image, channel_order="RGB", **params):
    """The faces of ``image`` with the built-in model and cascade, as
    ``Faces`` (a list of ``Face``). ``image`` is a path, encoded bytes, a
    numpy uint8 array (H x W gray, H x W x 3 or H x W x 4 in
    ``channel_order``: "RGB" by default, "BGR" for arrays from OpenCV), a
    PIL image or a libfer.Image. ``params`` are the ``Analyzer`` settings
    for this call (scale_factor, min_neighbors, min_size, max_size,
    margin); the others keep their defaults. Safe from any thread (one
    analyzer per thread, kept between calls)."""
    image = to_image(image, channel_order, "analyze")
    analyzer = _thread_analyzer()
    settings = dict(_per_thread.defaults)
    settings.update(params)
    analyzer.set(**settings)
    return analyzer.analyze(image, channel_order)


def annotate(image, faces, channel_order="RGB"):
    """A new RGB libfer.Image: ``image`` (anything ``analyze`` takes; it is
    not changed) with each face's box and "label NN%" drawn in the colour of
    its expression, as ``fer analyze --annotate`` draws them. ``faces`` are
    Face objects from ``analyze``. The result saves with ``.save("x.png")``
    or ``.save("x.jpg")`` and converts with ``.to_array()`` (RGB) or
    ``.to_array("BGR")`` for OpenCV."""
    faces = list(faces)
    picture = to_image(image, channel_order, "annotate").to_rgb()
    groups = {}
    for face in faces:
        if not isinstance(face, Face):
            raise errors.UnsupportedInputError(
                "annotate takes the Face objects that analyze() returns, not %s"
                % type(face).__name__, errors.INVALID_ARGUMENT)
        analyzer = getattr(face, "_analyzer", None)
        if analyzer is None or analyzer.closed:
            # Its analyzer is gone: the built-in one draws it if it names
            # the classes the same way (the label is looked up by index).
            analyzer = _thread_analyzer()
            names = analyzer.class_names
            if not 0 <= face.index < len(names) or names[face.index] != face.label:
                raise errors.MisuseError(
                    "the analyzer that found a %r face was closed, and the built-in model "
                    "names class %d differently; annotate before closing it"
                    % (face.label, face.index), errors.MISUSE)
        groups.setdefault(id(analyzer), (analyzer, []))[1].append(face)
    for analyzer, group in groups.values():
        analyzer.annotate(picture, group)
    return picture
