"""Data sets, augmentation, metrics and charts (fer/data.h)."""

import ctypes

from . import _buffers, _lib, errors
from ._handle import Handle
from ._lib import (c_double, c_float, c_float_p, c_int, c_int32_p, c_ptr,
                   c_size, c_status, c_str, c_uint, c_uint8_p, signature)

P = ctypes.POINTER
c_u32_p = P(ctypes.c_uint32)
c_u64 = ctypes.c_uint64

signature("fer_fer2013_class_count", c_int)
signature("fer_fer2013_class_name", c_str, c_int)
signature("fer_dataset_load_fer2013_csv", c_status, c_str, c_int, c_uint, P(c_ptr))
signature("fer_dataset_parse_fer2013_csv", c_status, c_ptr, c_size, c_int, c_uint, P(c_ptr))
signature("fer_dataset_load_folder", c_status, c_str, P(c_str), c_int, c_int, c_int,
          c_int, c_uint, P(c_ptr))
signature("fer_dataset_from_u8", c_status, c_uint8_p, c_int32_p, c_size, c_int, c_int,
          c_int, P(c_str), c_int, P(c_ptr))
signature("fer_dataset_from_f32", c_status, c_float_p, c_int32_p, c_size, c_int, c_int,
          c_int, c_float, P(c_str), c_int, P(c_ptr))
signature("fer_dataset_free", None, c_ptr)
signature("fer_dataset_count", c_size, c_ptr)
signature("fer_dataset_channels", c_int, c_ptr)
signature("fer_dataset_height", c_int, c_ptr)
signature("fer_dataset_width", c_int, c_ptr)
signature("fer_dataset_class_count", c_int, c_ptr)
signature("fer_dataset_class_name", c_str, c_ptr, c_int)
signature("fer_dataset_class_size", c_size, c_ptr, c_int)
signature("fer_dataset_label", ctypes.c_int32, c_ptr, c_size)
signature("fer_dataset_skipped", c_size, c_ptr)
signature("fer_dataset_skipped_folders", c_size, c_ptr)
signature("fer_dataset_pixels", c_ptr, c_ptr, c_size)
signature("fer_dataset_get_sample", c_status, c_ptr, c_size, c_float, c_float_p, c_size)
signature("fer_dataset_split", c_status, c_ptr, c_double, c_u64, c_int, P(c_ptr), P(c_ptr))
signature("fer_dataset_subset", c_status, c_ptr, c_u32_p, c_size, P(c_ptr))
signature("fer_dataset_concat", c_status, c_ptr, c_ptr, P(c_ptr))
signature("fer_epoch_order", c_status, c_size, c_u64, ctypes.c_uint32, c_u32_p)
signature("fer_augment_create", c_status, c_u64, P(c_ptr))
signature("fer_augment_free", None, c_ptr)
signature("fer_augment_set", c_status, c_ptr, c_int, c_double)
signature("fer_augment_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_augment_param_info", c_status, c_int, P(c_str), P(c_double), P(c_double),
          P(c_double))
signature("fer_augment_param_find", c_status, c_str, P(c_int))
signature("fer_augment_apply", c_status, c_ptr, ctypes.c_uint32, c_u64, c_uint8_p, c_int,
          c_int, c_int, c_float, c_float_p)
signature("fer_dataset_make_batch", c_status, c_ptr, c_ptr, ctypes.c_uint32, c_u32_p,
          c_size, c_float, c_float_p, c_size, c_int32_p)
signature("fer_metrics_create", c_status, c_int, P(c_str), P(c_ptr))
signature("fer_metrics_free", None, c_ptr)
signature("fer_metrics_reset", None, c_ptr)
signature("fer_metrics_add_probs", c_status, c_ptr, c_float_p, c_int32_p, c_size)
signature("fer_metrics_add_classes", c_status, c_ptr, c_int32_p, c_int32_p, c_size)
signature("fer_metrics_class_count", c_int, c_ptr)
signature("fer_metrics_class_name", c_str, c_ptr, c_int)
signature("fer_metrics_count", c_u64, c_ptr)
signature("fer_metrics_loss", c_double, c_ptr)
signature("fer_metrics_accuracy", c_double, c_ptr)
signature("fer_metrics_confusion", c_status, c_ptr, P(c_u64), c_size)
signature("fer_metrics_class_stats", c_status, c_ptr, c_int, P(c_double), P(c_double),
          P(c_double), P(c_u64))
signature("fer_metrics_macro_f1", c_double, c_ptr)
signature("fer_metrics_report", c_status, c_ptr, c_int, P(c_ptr))
signature("fer_metrics_save", c_status, c_ptr, c_int, c_str)
signature("fer_chart_training_curves", c_status, c_float_p, c_float_p, c_float_p,
          c_float_p, c_int, c_str, P(c_ptr))
signature("fer_chart_confusion", c_status, c_ptr, c_str, P(c_ptr))
signature("fer_chart_save", c_status, c_str, c_str)

USAGES = {"all": 0, None: 0, "training": 1, "publictest": 2, "privatetest": 3}
SKIP_BAD = 1
SKIP_UNKNOWN_CLASSES = 2
REPORT_FORMATS = {"text": 1, "csv": 2, "json": 3}


def _invalid(message):
    return errors.InvalidArgumentError(message, errors.INVALID_ARGUMENT)


def _take_string(ptr):
    try:
        return ctypes.string_at(ptr.value).decode("utf-8", "replace")
    finally:
        _lib.fn("fer_free")(ptr)


def fer2013_class_names():
    """The seven FER2013 names in the CSV's integer order."""
    get = _lib.fn("fer_fer2013_class_name")
    return [get(i).decode() for i in range(_lib.fn("fer_fer2013_class_count")())]


def epoch_order(n, seed=0, epoch=0):
    """The sample order of one epoch (a pure function of n, seed, epoch)."""
    arr = (ctypes.c_uint32 * max(n, 1))()
    _lib.call("fer_epoch_order", n, int(seed), int(epoch), arr)
    return list(arr[:n])


def _usage(usage):
    key = usage.lower().replace("_", "") if isinstance(usage, str) else usage
    if key not in USAGES:
        raise _invalid("unknown usage %r (Training, PublicTest, PrivateTest or all)"
                       % (usage,))
    return USAGES[key]


class Dataset(Handle):
    """Labelled uint8 images (N x C x H x W) with class names; read-only and
    shareable between threads once built."""

    _free_name = "fer_dataset_free"
    _kind = "Dataset"

    @classmethod
    def _wrap(cls, ptr):
        return cls(ptr)

    @classmethod
    def from_fer2013_csv(cls, path, usage="Training", skip_bad=False):
        """Rows of a FER2013 CSV (gzip too) whose Usage matches ``usage``
        ("Training", "PublicTest", "PrivateTest" or "all")."""
        out = c_ptr()
        _lib.call("fer_dataset_load_fer2013_csv", _lib.encode_path(path), _usage(usage),
                  SKIP_BAD if skip_bad else 0, ctypes.byref(out))
        return cls(out.value)

    @classmethod
    def parse_fer2013_csv(cls, text, usage="all", skip_bad=False):
        """The same from CSV text (str or bytes) in memory."""
        data = text.encode() if isinstance(text, str) else text
        ptr, keep, n = _buffers.bytes_in(data)
        out = c_ptr()
        _lib.call("fer_dataset_parse_fer2013_csv", ptr, n, _usage(usage),
                  SKIP_BAD if skip_bad else 0, ctypes.byref(out))
        del keep
        return cls(out.value)

    @classmethod
    def from_folder(cls, path, class_names=None, channels=1, size=(48, 48),
                    skip_bad=False, skip_unknown_classes=False):
        """``path/<class>/<image>`` files; classes matched by name (default:
        the sub-folder names, sorted); images converted and resized to
        ``channels`` x ``size`` = (height, width)."""
        names, keep = (None, None)
        count = 0
        if class_names is not None:
            names, keep = _buffers.strings_in(class_names)
            count = len(class_names)
        flags = (SKIP_BAD if skip_bad else 0) | (
            SKIP_UNKNOWN_CLASSES if skip_unknown_classes else 0)
        out = c_ptr()
        _lib.call("fer_dataset_load_folder", _lib.encode_path(path), names, count,
                  int(channels), int(size[0]), int(size[1]), flags, ctypes.byref(out))
        del keep
        return cls(out.value)

    @classmethod
    def from_arrays(cls, x, y, class_names=None, num_classes=None, scale=None):
        """From images ``x`` (N x H x W or N x C x H x W; uint8, or floats
        with ``scale`` such as 1/255 for values in [0, 1]) and labels ``y``.
        Data is copied."""
        shape = _buffers.shape_of(x)
        if len(shape) == 3:
            n, c, h, w = shape[0], 1, shape[1], shape[2]
        elif len(shape) == 4:
            n, c, h, w = shape
        else:
            raise _invalid("x must be N x H x W or N x C x H x W, not shape %s" % (shape,))
        lptr, lkeep, ln = _buffers.ints_in(y)
        if ln != n:
            raise _invalid("%d images but %d labels" % (n, ln))
        if class_names is not None:
            k = len(class_names)
            names, nkeep = _buffers.strings_in(class_names)
        else:
            labels = list(y) if not _buffers.is_array(y) else y.tolist()
            k = num_classes or (max(labels) + 1 if labels else 1)
            names, nkeep = None, None
        out = c_ptr()
        is_float = scale is not None or (_buffers.is_array(x) and x.dtype.kind == "f")
        if is_float:
            ptr, keep, _ = _buffers.floats_in(x)
            _lib.call("fer_dataset_from_f32", ptr, lptr, n, c, h, w,
                      1 / 255 if scale is None else scale, names, k, ctypes.byref(out))
        else:
            ptr, keep, _ = _buffers.bytes_in(x)
            _lib.call("fer_dataset_from_u8", ptr, lptr, n, c, h, w, names, k,
                      ctypes.byref(out))
        del keep, lkeep, nkeep
        return cls(out.value)

    # -- queries -----------------------------------------------------------
    def __len__(self):
        return _lib.fn("fer_dataset_count")(self._h)

    @property
    def shape(self):
        """(channels, height, width) of each sample."""
        h = self._h
        return (_lib.fn("fer_dataset_channels")(h), _lib.fn("fer_dataset_height")(h),
                _lib.fn("fer_dataset_width")(h))

    @property
    def class_names(self):
        get = _lib.fn("fer_dataset_class_name")
        return [get(self._h, i).decode("utf-8", "replace")
                for i in range(_lib.fn("fer_dataset_class_count")(self._h))]

    @property
    def num_classes(self):
        return _lib.fn("fer_dataset_class_count")(self._h)

    def class_counts(self):
        """{class name: samples}."""
        size = _lib.fn("fer_dataset_class_size")
        return {name: size(self._h, i) for i, name in enumerate(self.class_names)}

    @property
    def labels(self):
        label = _lib.fn("fer_dataset_label")
        return [label(self._h, i) for i in range(len(self))]

    @property
    def skipped(self):
        return _lib.fn("fer_dataset_skipped")(self._h)

    @property
    def skipped_folders(self):
        return _lib.fn("fer_dataset_skipped_folders")(self._h)

    def _index(self, index):
        n = len(self)
        if index < 0:
            index += n
        if not 0 <= index < n:
            raise IndexError("sample %d out of range (%d samples)" % (index, n))
        return index

    def pixels(self, index):
        """Sample ``index`` as bytes (C x H x W)."""
        index = self._index(index)
        c, h, w = self.shape
        addr = _lib.fn("fer_dataset_pixels")(self._h, index)
        return ctypes.string_at(addr, c * h * w)

    def sample(self, index, scale=1 / 255):
        """Sample ``index`` as C x H x W floats (bytes times ``scale``)."""
        c, h, w = self.shape
        ptr, buf = _buffers.floats_out(c * h * w)
        _lib.call("fer_dataset_get_sample", self._h, index, scale, ptr, c * h * w)
        return _buffers.as_result(buf, (c, h, w)) if _buffers.is_array(buf) else list(buf)

    def __getitem__(self, index):
        """(pixels bytes, label) of one sample."""
        index = self._index(index)
        return self.pixels(index), _lib.fn("fer_dataset_label")(self._h, index)

    # -- new data sets -----------------------------------------------------
    def split(self, fraction=0.1, seed=0, stratified=True):
        """(train, validation) with round(fraction x N) validation samples."""
        train, val = c_ptr(), c_ptr()
        _lib.call("fer_dataset_split", self._h, float(fraction), int(seed),
                  int(bool(stratified)), ctypes.byref(train), ctypes.byref(val))
        return Dataset(train.value), Dataset(val.value)

    def subset(self, indices):
        ptr, keep, n = _buffers.u32_in(list(indices) if not _buffers.is_array(indices)
                                       else indices)
        out = c_ptr()
        _lib.call("fer_dataset_subset", self._h, ptr, n, ctypes.byref(out))
        del keep
        return Dataset(out.value)

    def concat(self, other):
        """This data set then ``other`` (classes mapped by name)."""
        out = c_ptr()
        _lib.call("fer_dataset_concat", self._h, other._h, ctypes.byref(out))
        return Dataset(out.value)

    __add__ = concat

    # -- batches -----------------------------------------------------------
    def make_batch(self, indices, augment=None, epoch=0, scale=1 / 255):
        """(x, labels) for the samples at ``indices``: x is N x C x H x W
        floats (bytes times ``scale``, augmented by ``augment`` if given)."""
        iptr, ikeep, n = _buffers.u32_in(list(indices) if not _buffers.is_array(indices)
                                         else indices)
        c, h, w = self.shape
        xptr, xbuf = _buffers.floats_out(max(n, 1) * c * h * w)
        labels = (ctypes.c_int32 * max(n, 1))()
        _lib.call("fer_dataset_make_batch", self._h, augment._h if augment else None,
                  int(epoch), iptr, n, scale, xptr, n * c * h * w, labels)
        del ikeep
        if _buffers.is_array(xbuf):
            np = _buffers.np
            return xbuf[:n * c * h * w].reshape(n, c, h, w), np.array(labels[:n], dtype=np.int32)
        return list(xbuf)[:n * c * h * w], list(labels[:n])

    def batches(self, batch_size=64, shuffle=False, seed=0, epoch=0, augment=None,
                preprocessing=(1 / 255, 0.0, 1.0), model=None):
        """Yield (x, labels) batches covering the data set once. With
        ``shuffle`` the order is ``epoch_order(N, seed, epoch)``.
        With ``model``, images are fed exactly as that model takes them
        (its preprocessing and per-image normalisation, ``Model.preprocess``);
        otherwise ``preprocessing`` = (scale, mean, std) as a model's."""
        n = len(self)
        order = epoch_order(n, seed, epoch) if shuffle else list(range(n))
        scale, mean, std = (1.0, 0.0, 1.0) if model is not None else preprocessing
        for start in range(0, n, batch_size):
            x, y = self.make_batch(order[start:start + batch_size], augment, epoch, scale)
            if model is not None:
                x = model.preprocess(x)
            elif mean != 0.0 or std != 1.0:
                if _buffers.is_array(x):
                    x = (x - mean) / std
                    x = x.astype(_buffers.np.float32, copy=False)
                else:
                    x = [(v - mean) / std for v in x]
            yield x, y

    def to_arrays(self, scale=1 / 255):
        """(x, y): all samples as floats N x C x H x W, and labels."""
        return self.make_batch(range(len(self)), None, 0, scale)

    def __repr__(self):
        if self.closed:
            return "<libfer.Dataset closed>"
        return "<libfer.Dataset %d samples, %s, %d classes>" % (
            len(self), "x".join(map(str, self.shape)), self.num_classes)


class Augment(Handle):
    """Random augmentation: ``Augment(seed=0, flip_prob=0.5, rotate_prob=0.5,
    rotate_degrees=10)``. Parameter names are the library's (``params()``)."""

    _free_name = "fer_augment_free"
    _kind = "Augment"

    def __init__(self, seed=0, **params):
        out = c_ptr()
        _lib.call("fer_augment_create", int(seed), ctypes.byref(out))
        Handle.__init__(self, out.value)
        self.set(**params)

    @staticmethod
    def _key(name):
        key = c_int()
        _lib.call("fer_augment_param_find", name.encode(), ctypes.byref(key))
        return key.value

    def set(self, **params):
        for name, value in params.items():
            _lib.call("fer_augment_set", self._h, self._key(name), float(value))
        return self

    def get(self, name):
        value = c_double()
        _lib.call("fer_augment_get", self._h, self._key(name), ctypes.byref(value))
        return value.value

    @staticmethod
    def params():
        """{name: (default, min, max)} of every parameter."""
        out = {}
        info = _lib.fn("fer_augment_param_info")
        for key in range(1, 64):
            name, d, lo, hi = c_str(), c_double(), c_double(), c_double()
            if info(key, ctypes.byref(name), ctypes.byref(d), ctypes.byref(lo),
                    ctypes.byref(hi)) != 0:
                break
            out[name.value.decode()] = (d.value, lo.value, hi.value)
        return out

    def apply(self, pixels, shape, epoch=0, index=0, scale=1.0):
        """Augment one C x H x W uint8 image (bytes or array) as sample
        ``index`` of ``epoch``; returns C x H x W floats times ``scale``."""
        c, h, w = shape
        ptr, keep, n = _buffers.bytes_in(pixels)
        if n != c * h * w:
            raise _invalid("%d bytes given for a %dx%dx%d image" % (n, c, h, w))
        out, buf = _buffers.floats_out(n)
        _lib.call("fer_augment_apply", self._h, int(epoch), int(index), ptr, c, h, w,
                  scale, out)
        del keep
        return _buffers.as_result(buf, (c, h, w)) if _buffers.is_array(buf) else list(buf)


class Metrics(Handle):
    """Accuracy, loss, confusion matrix and per-class precision/recall/F1.
    ``Metrics(class_names)`` or ``Metrics(num_classes)``; one thread at a time."""

    _free_name = "fer_metrics_free"
    _kind = "Metrics"

    def __init__(self, classes):
        if isinstance(classes, int):
            names, keep, k = None, None, classes
        else:
            names, keep = _buffers.strings_in(classes)
            k = len(classes)
        out = c_ptr()
        _lib.call("fer_metrics_create", k, names, ctypes.byref(out))
        Handle.__init__(self, out.value)
        del keep

    def reset(self):
        _lib.fn("fer_metrics_reset")(self._h)

    def add_probs(self, probs, labels):
        """Add N samples: probabilities (N x K) and true labels."""
        pptr, pkeep, pn = _buffers.floats_in(probs)
        lptr, lkeep, n = _buffers.ints_in(labels)
        if pn != n * self.num_classes:
            raise _invalid("%d probabilities for %d samples of %d classes"
                           % (pn, n, self.num_classes))
        _lib.call("fer_metrics_add_probs", self._h, pptr, lptr, n)
        del pkeep, lkeep

    def add_classes(self, predicted, labels):
        pptr, pkeep, pn = _buffers.ints_in(predicted)
        lptr, lkeep, n = _buffers.ints_in(labels)
        if pn != n:
            raise _invalid("%d predictions but %d labels" % (pn, n))
        _lib.call("fer_metrics_add_classes", self._h, pptr, lptr, n)
        del pkeep, lkeep

    @property
    def num_classes(self):
        return _lib.fn("fer_metrics_class_count")(self._h)

    @property
    def class_names(self):
        get = _lib.fn("fer_metrics_class_name")
        return [get(self._h, i).decode("utf-8", "replace") for i in range(self.num_classes)]

    @property
    def count(self):
        return _lib.fn("fer_metrics_count")(self._h)

    @property
    def loss(self):
        return _lib.fn("fer_metrics_loss")(self._h)

    @property
    def accuracy(self):
        return _lib.fn("fer_metrics_accuracy")(self._h)

    @property
    def macro_f1(self):
        return _lib.fn("fer_metrics_macro_f1")(self._h)

    def confusion(self):
        """K x K counts (rows true class, columns predicted) as lists."""
        k = self.num_classes
        arr = (c_u64 * (k * k))()
        _lib.call("fer_metrics_confusion", self._h, arr, k * k)
        return [list(arr[r * k:(r + 1) * k]) for r in range(k)]

    def class_stats(self, label):
        """{"precision", "recall", "f1", "support"} of one class (index or name)."""
        if isinstance(label, str):
            label = self.class_names.index(label)
        p, r, f, s = c_double(), c_double(), c_double(), c_u64()
        _lib.call("fer_metrics_class_stats", self._h, label, ctypes.byref(p),
                  ctypes.byref(r), ctypes.byref(f), ctypes.byref(s))
        return {"precision": p.value, "recall": r.value, "f1": f.value, "support": s.value}

    def report(self, format="text"):
        """The report as text, CSV or JSON (a string)."""
        out = c_ptr()
        _lib.call("fer_metrics_report", self._h, _fmt(format), ctypes.byref(out))
        return _take_string(out)

    def save(self, path, format="text"):
        _lib.call("fer_metrics_save", self._h, _fmt(format), _lib.encode_path(path))

    def confusion_svg(self, title=None):
        """The confusion matrix as an SVG heat map (a string)."""
        out = c_ptr()
        _lib.call("fer_chart_confusion", self._h, title.encode() if title else None,
                  ctypes.byref(out))
        return _take_string(out)


def _fmt(name):
    try:
        return REPORT_FORMATS[name.lower()]
    except (KeyError, AttributeError):
        raise _invalid("unknown report format %r (text, csv or json)" % (name,))


def training_curves_svg(history, title=None):
    """SVG of loss and accuracy per epoch from a ``fit()`` history dict
    (keys loss, val_loss, accuracy, val_accuracy; missing ones not drawn)."""
    keys = ("loss", "val_loss", "accuracy", "val_accuracy")
    epochs = max([len(history.get(k) or ()) for k in keys] + [0])
    series, keep = [], []
    for key in keys:
        values = history.get(key)
        if not values or len(values) == 0:
            series.append(None)
            continue
        # Shorter series are padded with NaN, which the chart leaves out.
        padded = [float(v) for v in values] + [float("nan")] * (epochs - len(values))
        arr = (c_float * epochs)(*padded)
        keep.append(arr)
        series.append(arr)
    out = c_ptr()
    _lib.call("fer_chart_training_curves", *series, epochs,
              title.encode() if title else None, ctypes.byref(out))
    return _take_string(out)


def save_svg(svg, path):
    """Write an SVG string to ``path`` atomically."""
    _lib.call("fer_chart_save", svg.encode("utf-8"), _lib.encode_path(path))
