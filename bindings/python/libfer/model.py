"""Models: build, inspect, save, load and run the CNN engine (fer/nn.h).

A ``Model`` owns a ``fer_model``. ``Predictor`` objects hold scratch memory
for fast repeated predictions and keep their model alive.
"""

import ctypes
import weakref

from . import _buffers, _inputs, _lib, errors
from ._handle import Handle
from ._lib import (c_double, c_float, c_float_p, c_int, c_int32_p, c_ptr,
                   c_size, c_status, c_str, c_uint, signature)

P = ctypes.POINTER
c_long = ctypes.c_long
c_u64 = ctypes.c_uint64

signature("fer_model_max_layers", c_int)
signature("fer_model_max_params", c_long)
signature("fer_model_create", c_status, c_int, c_int, c_int, P(c_ptr))
signature("fer_model_free", None, c_ptr)
signature("fer_default_model_load", c_status, P(c_ptr))
signature("fer_model_add_conv", c_status, c_ptr, c_int, c_int, c_int, c_int,
          c_int, c_int, c_int, c_int)
signature("fer_model_add_max_pool", c_status, c_ptr, c_int, c_int, c_int, c_int)
signature("fer_model_add_avg_pool", c_status, c_ptr, c_int, c_int, c_int, c_int)
signature("fer_model_add_global_avg_pool", c_status, c_ptr)
signature("fer_model_add_batch_norm", c_status, c_ptr, c_float, c_float)
signature("fer_model_add_relu", c_status, c_ptr)
signature("fer_model_add_leaky_relu", c_status, c_ptr, c_float)
signature("fer_model_add_elu", c_status, c_ptr, c_float)
signature("fer_model_add_sigmoid", c_status, c_ptr)
signature("fer_model_add_tanh", c_status, c_ptr)
signature("fer_model_add_softmax", c_status, c_ptr)
signature("fer_model_add_dropout", c_status, c_ptr, c_float)
signature("fer_model_add_dense", c_status, c_ptr, c_int, c_int)
signature("fer_model_add_flatten", c_status, c_ptr)
signature("fer_model_add_text", c_status, c_ptr, c_str)
signature("fer_model_from_text", c_status, c_str, P(c_ptr))
signature("fer_model_to_text", c_status, c_ptr, P(c_ptr))
signature("fer_model_create_reference", c_status, c_str, P(c_ptr))
signature("fer_model_reference_text", c_str, c_str)
signature("fer_model_reference_name", c_str, c_int)
signature("fer_model_init_weights", c_status, c_ptr, c_int, c_u64)
signature("fer_model_num_layers", c_int, c_ptr)
signature("fer_model_layer_kind", c_int, c_ptr, c_int)
signature("fer_model_layer_shape", c_status, c_ptr, c_int, P(c_int), P(c_int), P(c_int))
signature("fer_model_input_shape", c_status, c_ptr, P(c_int), P(c_int), P(c_int))
signature("fer_model_output_size", c_int, c_ptr)
signature("fer_model_num_params", c_long, c_ptr, P(c_long), P(c_long))
signature("fer_model_flops", c_double, c_ptr)
signature("fer_model_get_tensor", c_status, c_ptr, c_int, c_int, c_float_p, c_size, P(c_size))
signature("fer_model_set_tensor", c_status, c_ptr, c_int, c_int, c_float_p, c_size)
signature("fer_model_summary", c_status, c_ptr, P(c_ptr))
signature("fer_model_set_class_names", c_status, c_ptr, P(c_str), c_int)
signature("fer_model_class_name", c_str, c_ptr, c_int)
signature("fer_model_set_preprocessing", c_status, c_ptr, c_float, c_float, c_float)
signature("fer_model_get_preprocessing", None, c_ptr, P(c_float), P(c_float), P(c_float))
signature("fer_model_set_image_normalization", c_status, c_ptr, ctypes.c_uint, c_float)
signature("fer_model_get_image_normalization", None, c_ptr, P(ctypes.c_uint), P(c_float))
signature("fer_model_preprocess", c_status, c_ptr, P(c_float), c_int)
signature("fer_image_sharpness", c_float, P(c_float), c_int, c_int, c_int)
signature("fer_model_quantize", c_status, c_ptr, P(c_float), c_size)
signature("fer_model_set", c_status, c_ptr, c_int, c_double)
signature("fer_model_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_model_param_info", c_status, c_int, P(c_str), P(c_double),
          P(c_double), P(c_double))

# fer_model_param keys and fer_precision values (fer/nn.h).
MODEL_PRECISION, MODEL_INT8_PORTABLE = 1, 2
PRECISIONS = {"fp32": 1, "int8": 2}
signature("fer_model_set_metadata", c_status, c_ptr, c_str, c_str)
signature("fer_model_get_metadata", c_str, c_ptr, c_str)
signature("fer_model_metadata_count", c_int, c_ptr)
signature("fer_model_metadata_at", c_status, c_ptr, c_int, P(c_str), P(c_str))
signature("fer_model_save", c_status, c_ptr, c_str, c_uint)
signature("fer_model_save_memory", c_status, c_ptr, c_uint, P(c_ptr), P(c_size))
signature("fer_model_load", c_status, c_str, P(c_ptr))
signature("fer_model_load_memory", c_status, c_ptr, c_size, P(c_ptr))
signature("fer_model_format_version", c_int)
signature("fer_model_save_onnx", c_status, c_ptr, c_str)
signature("fer_model_save_onnx_memory", c_status, c_ptr, P(c_ptr), P(c_size))
signature("fer_model_load_onnx", c_status, c_str, P(c_ptr))
signature("fer_model_load_onnx_memory", c_status, c_ptr, c_size, P(c_ptr))
signature("fer_model_onnx_opset", c_int)
signature("fer_model_ensemble", c_status, P(c_ptr), c_int, P(c_ptr))
signature("fer_model_predict", c_status, c_ptr, c_float_p, c_int, c_float_p)
signature("fer_model_predict_image", c_status, c_ptr, c_ptr, c_float_p, c_int, P(c_int))
signature("fer_predictor_create", c_status, c_ptr, P(c_ptr))
signature("fer_predictor_free", None, c_ptr)
signature("fer_predictor_run", c_status, c_ptr, c_float_p, c_int, c_float_p)
signature("fer_predictor_run_image", c_status, c_ptr, c_ptr, c_float_p, c_int, P(c_int))
signature("fer_model_set_training", c_status, c_ptr, c_int)
signature("fer_model_is_training", c_int, c_ptr)
signature("fer_model_set_seed", c_status, c_ptr, c_u64)
signature("fer_model_set_label_smoothing", c_status, c_ptr, c_float)
signature("fer_model_set_class_weights", c_status, c_ptr, c_float_p, c_int)
signature("fer_model_forward", c_status, c_ptr, c_float_p, c_int, c_float_p)
signature("fer_model_evaluate", c_status, c_ptr, c_float_p, c_int32_p, c_int,
          P(c_float), P(c_float))
signature("fer_model_train_step", c_status, c_ptr, c_ptr, c_float_p, c_int32_p,
          c_int, P(c_float), P(c_float))
signature("fer_model_train_step_soft", c_status, c_ptr, c_ptr, c_float_p, c_float_p,
          c_size, c_float_p, c_int, P(c_float), P(c_float))
# The flat-buffer training API (fer/train.h): a step in two halves.
signature("fer_flat_layout_version", c_int)
signature("fer_model_compute_gradients_soft", c_status, c_ptr, c_float_p, c_float_p,
          c_size, c_float_p, c_int, P(c_float), P(c_float), P(c_double))
signature("fer_model_compute_gradients", c_status, c_ptr, c_float_p, c_int32_p, c_int,
          P(c_float), P(c_float), P(c_double))
signature("fer_model_apply_gradients", c_status, c_ptr, c_ptr)
for _what in ("gradients", "parameters", "statistics"):
    signature("fer_model_get_" + _what, c_status, c_ptr, c_float_p, c_size, P(c_size))
    signature("fer_model_set_" + _what, c_status, c_ptr, c_float_p, c_size)

LAYER_KINDS = {1: "conv", 2: "max_pool", 3: "avg_pool", 4: "global_avg_pool",
               5: "batch_norm", 6: "relu", 7: "leaky_relu", 8: "elu",
               9: "sigmoid", 10: "tanh", 11: "softmax", 12: "dropout",
               13: "dense", 14: "flatten", 15: "add", 16: "concat", 17: "mul"}
INITS = {"he_uniform": 1, "he_normal": 2, "glorot_uniform": 3, "glorot_normal": 4}
TENSORS = {"weight": 1, "bias": 2, "running_mean": 3, "running_var": 4}
FLAT = {"parameters": "parameters", "gradients": "gradients", "statistics": "statistics"}
SAVE_FLOAT16 = 1
NORM_STANDARDIZE = 1


def _invalid(message):
    return errors.InvalidArgumentError(message, errors.INVALID_ARGUMENT)


def _lookup(table, key, what):
    try:
        return table[key.lower() if isinstance(key, str) else key]
    except (KeyError, AttributeError):
        raise _invalid("unknown %s %r (use one of %s)"
                       % (what, key, ", ".join(sorted(map(str, table)))))


def _pair(value, what):
    """An int or an (h, w) pair as (h, w)."""
    if isinstance(value, int):
        return value, value
    try:
        h, w = value
        return int(h), int(w)
    except (TypeError, ValueError):
        raise _invalid("%s must be an int or an (h, w) pair, not %r" % (what, value))


def _padding(value):
    if value in ("same", "SAME"):
        return -1
    if value in ("valid", "VALID", None):
        return 0
    if isinstance(value, int) and value >= 0:
        return value
    raise _invalid("padding must be 'same', 'valid' or a count >= 0, not %r" % (value,))


def _take_string(ptr):
    """Copy and free a C string that libfer allocated for us."""
    try:
        return ctypes.string_at(ptr.value).decode("utf-8", "replace")
    finally:
        _lib.fn("fer_free")(ptr)


class Model(Handle):
    """A convolutional network: ``Model(input_shape=(1, 48, 48))`` then
    ``add_*`` calls, or ``Model.from_text()``, ``Model.reference()``,
    ``Model.load()``.

    Queries, ``predict*`` and ``save`` may run from many threads at once;
    anything that changes the model (``add_*``, setters, training) needs the
    model to itself.
    """

    _free_name = "fer_model_free"
    _kind = "Model"

    def __init__(self, input_shape=(1, 48, 48), layers=None):
        """An empty model taking ``input_shape`` = (channels, height, width)
        inputs, then ``layers`` appended (see ``add_layers``)."""
        if len(input_shape) != 3:
            raise _invalid("input_shape must be (channels, height, width), not %r"
                           % (input_shape,))
        out = c_ptr()
        _lib.call("fer_model_create", *[int(v) for v in input_shape], ctypes.byref(out))
        self._init_handle(out.value)
        if layers:
            self.add_layers(layers)

    def _init_handle(self, ptr):
        Handle.__init__(self, ptr)
        self._predictors = weakref.WeakSet()

    @classmethod
    def _wrap(cls, ptr):
        self = cls.__new__(cls)
        self._init_handle(ptr)
        return self

    @classmethod
    def _borrow(cls, ptr, owner):
        """A read-only view of a model that ``owner`` (an Analyzer) owns."""
        self = cls.__new__(cls)
        self._init_borrowed(ptr, owner)
        self._predictors = weakref.WeakSet()
        return self

    @classmethod
    def default(cls):
        """A new copy of the expression model built into this libfer
        (NotFoundError when this build carries none)."""
        out = c_ptr()
        _lib.call("fer_default_model_load", ctypes.byref(out))
        return cls._wrap(out.value)

    def close(self):
        """Free the model now; its predictors are closed first."""
        for pred in list(getattr(self, "_predictors", ())):
            pred.close()
        Handle.close(self)

    def _mutable(self):
        """The handle, for a call that changes the model: predictors made
        from it are released (they rebuild themselves on their next run),
        as the C API requires."""
        h = self._h
        if getattr(self, "_owner", None) is not None:
            raise errors.MisuseError("this Model belongs to an Analyzer and is read-only; "
                                     "change a Model.load() copy instead", errors.MISUSE)
        for pred in list(self._predictors):
            pred._release()
        return h

    # -- construction ------------------------------------------------------
    @classmethod
    def from_text(cls, text):
        """Build from architecture text (``input 1x48x48`` then one layer per
        line). Raises FileFormatError with line:column on bad text."""
        out = c_ptr()
        _lib.call("fer_model_from_text", text.encode("utf-8"), ctypes.byref(out))
        return cls._wrap(out.value)

    @classmethod
    def reference(cls, name):
        """A reference network by name (see ``reference_names()``)."""
        out = c_ptr()
        _lib.call("fer_model_create_reference", name.encode(), ctypes.byref(out))
        return cls._wrap(out.value)

    @staticmethod
    def reference_names():
        names, i = [], 0
        get = _lib.fn("fer_model_reference_name")
        while True:
            name = get(i)
            if name is None:
                return names
            names.append(name.decode())
            i += 1

    @staticmethod
    def reference_text(name):
        text = _lib.fn("fer_model_reference_text")(name.encode())
        if text is None:
            raise errors.NotFoundError("no reference network called %r" % name,
                                       errors.NOT_FOUND)
        return text.decode()

    @classmethod
    def load(cls, path):
        """Load a model file (validated; errors name the file and offset)."""
        out = c_ptr()
        _lib.call("fer_model_load", _lib.encode_path(path), ctypes.byref(out))
        return cls._wrap(out.value)

    @classmethod
    def from_bytes(cls, data):
        ptr, keep, n = _buffers.bytes_in(data)
        out = c_ptr()
        _lib.call("fer_model_load_memory", ptr, n, ctypes.byref(out))
        del keep
        return cls._wrap(out.value)

    @classmethod
    def load_onnx(cls, path):
        """Import an ONNX model made of the operators libfer expresses
        (docs/onnx.md); the error names the first one it cannot."""
        out = c_ptr()
        _lib.call("fer_model_load_onnx", _lib.encode_path(path), ctypes.byref(out))
        return cls._wrap(out.value)

    @classmethod
    def from_onnx_bytes(cls, data):
        ptr, keep, n = _buffers.bytes_in(data)
        out = c_ptr()
        _lib.call("fer_model_load_onnx_memory", ptr, n, ctypes.byref(out))
        del keep
        return cls._wrap(out.value)

    @classmethod
    def ensemble(cls, members):
        """One model averaging the logits of 2 to 8 ``members`` (softmax of
        the mean; the normalised geometric mean of their probabilities).
        Members must share input, classes and normalisation and end with
        dense + softmax; they are only read. Costs their summed FLOPs."""
        members = list(members)
        for m in members:
            if not isinstance(m, Model):
                raise TypeError("Model.ensemble: members must be Model objects, got %s"
                                % type(m).__name__)
        handles = (c_ptr * max(len(members), 1))(*[m._h for m in members])
        out = c_ptr()
        _lib.call("fer_model_ensemble", handles, len(members), ctypes.byref(out))
        return cls._wrap(out.value)

    # -- layers ------------------------------------------------------------
    def _add(self, name, *args):
        _lib.call(name, self._mutable(), *args)
        return self

    def add(self, line):
        """Append one layer written as architecture text ("conv 32 3x3 same")."""
        return self._add("fer_model_add_text", line.encode("utf-8"))

    def add_conv(self, filters, kernel_size=3, stride=1, padding="same",
                 dilation=1, groups=1, bias=True):
        kh, kw = _pair(kernel_size, "kernel_size")
        return self._add("fer_model_add_conv", int(filters), kh, kw, int(stride),
                         _padding(padding), int(dilation), int(groups), int(bool(bias)))

    def add_max_pool(self, pool_size=2, stride=None, padding=0):
        kh, kw = _pair(pool_size, "pool_size")
        return self._add("fer_model_add_max_pool", kh, kw,
                         int(stride if stride is not None else kh), int(padding))

    def add_avg_pool(self, pool_size=2, stride=None, padding=0):
        kh, kw = _pair(pool_size, "pool_size")
        return self._add("fer_model_add_avg_pool", kh, kw,
                         int(stride if stride is not None else kh), int(padding))

    def add_global_avg_pool(self):
        return self._add("fer_model_add_global_avg_pool")

    def add_batch_norm(self, momentum=0.1, epsilon=1e-5):
        return self._add("fer_model_add_batch_norm", momentum, epsilon)

    def add_relu(self):
        return self._add("fer_model_add_relu")

    def add_leaky_relu(self, slope=0.01):
        return self._add("fer_model_add_leaky_relu", slope)

    def add_elu(self, alpha=1.0):
        return self._add("fer_model_add_elu", alpha)

    def add_sigmoid(self):
        return self._add("fer_model_add_sigmoid")

    def add_tanh(self):
        return self._add("fer_model_add_tanh")

    def add_softmax(self):
        return self._add("fer_model_add_softmax")

    def add_dropout(self, rate=0.5):
        return self._add("fer_model_add_dropout", rate)

    def add_dense(self, units, bias=True):
        return self._add("fer_model_add_dense", int(units), int(bool(bias)))

    def add_flatten(self):
        return self._add("fer_model_add_flatten")

    def add_layers(self, layers):
        """Append a list of layer specs: each a text line ("relu", "dense 7"),
        or a (kind, {keyword arguments}) pair such as ("conv", {"filters": 32})
        naming an ``add_<kind>`` method."""
        for spec in layers:
            if isinstance(spec, str):
                self.add(spec)
                continue
            kind, kwargs = spec[0], (spec[1] if len(spec) > 1 else {})
            method = getattr(self, "add_" + str(kind), None)
            if method is None or kind in ("layers",):
                raise _invalid("unknown layer kind %r" % (kind,))
            method(**kwargs)
        return self

    def init_weights(self, init="he_uniform", seed=0):
        """Redraw all weights deterministically from ``seed``."""
        return self._add("fer_model_init_weights", _lookup(INITS, init, "initialiser"),
                         int(seed))

    # -- queries -----------------------------------------------------------
    def to_text(self):
        out = c_ptr()
        _lib.call("fer_model_to_text", self._h, ctypes.byref(out))
        return _take_string(out)

    def summary(self):
        """A Keras-style table of layers, shapes, parameters and FLOPs."""
        out = c_ptr()
        _lib.call("fer_model_summary", self._h, ctypes.byref(out))
        return _take_string(out)

    def __len__(self):
        return _lib.fn("fer_model_num_layers")(self._h)

    def _shape(self, index):
        c, h, w = c_int(), c_int(), c_int()
        _lib.call("fer_model_layer_shape", self._h, index, ctypes.byref(c),
                  ctypes.byref(h), ctypes.byref(w))
        return c.value, h.value, w.value

    @property
    def input_shape(self):
        """(channels, height, width)."""
        c, h, w = c_int(), c_int(), c_int()
        _lib.call("fer_model_input_shape", self._h, ctypes.byref(c), ctypes.byref(h),
                  ctypes.byref(w))
        return c.value, h.value, w.value

    @staticmethod
    def limits():
        """{"max_layers", "max_params"} the builder and loaders enforce."""
        return {"max_layers": _lib.fn("fer_model_max_layers")(),
                "max_params": _lib.fn("fer_model_max_params")()}

    @property
    def output_size(self):
        return _lib.fn("fer_model_output_size")(self._h)

    num_classes = output_size

    @property
    def layers(self):
        """[(kind name, output shape)] for every layer."""
        kind = _lib.fn("fer_model_layer_kind")
        return [(LAYER_KINDS.get(kind(self._h, i), "?"), self._shape(i))
                for i in range(len(self))]

    def count_params(self):
        """{"total", "trainable", "non_trainable"} parameter counts."""
        trainable, frozen = c_long(), c_long()
        total = _lib.fn("fer_model_num_params")(self._h, ctypes.byref(trainable),
                                                ctypes.byref(frozen))
        return {"total": total, "trainable": trainable.value,
                "non_trainable": frozen.value}

    @property
    def flops(self):
        return _lib.fn("fer_model_flops")(self._h)

    def get_tensor(self, layer, which="weight"):
        """A copy of a layer's tensor (flat, PyTorch's layout)."""
        key = _lookup(TENSORS, which, "tensor")
        needed = c_size()
        status = _lib.fn("fer_model_get_tensor")(self._h, layer, key, None, 0,
                                                 ctypes.byref(needed))
        if status not in (0, errors.BUFFER_TOO_SMALL):
            _lib.check(status)
        ptr, buf = _buffers.floats_out(needed.value)
        _lib.call("fer_model_get_tensor", self._h, layer, key, ptr, needed.value, None)
        return _buffers.as_result(buf)

    def set_tensor(self, layer, values, which="weight"):
        ptr, keep, n = _buffers.floats_in(values)
        _lib.call("fer_model_set_tensor", self._mutable(), layer,
                  _lookup(TENSORS, which, "tensor"), ptr, n)
        del keep

    # -- int8 inference ----------------------------------------------------
    def quantize(self, calibration):
        """Derive int8 weights and activation scales from calibration images
        (N x C x H x W, already ``preprocess``-ed; a few hundred is plenty).
        Inference stays fp32 until ``precision = "int8"``. Training, or any
        change of the weights, discards the quantisation (back to fp32)."""
        c, h, w = self.input_shape
        ptr, keep, count = _buffers.floats_in(calibration)
        if count % (c * h * w):
            raise _invalid("calibration holds %d values, not a multiple of the "
                           "model input %dx%dx%d" % (count, c, h, w))
        _lib.call("fer_model_quantize", self._mutable(), ptr, count // (c * h * w))
        del keep
        return self

    def _setting(self, key):
        value = c_double()
        _lib.call("fer_model_get", self._h, key, ctypes.byref(value))
        return value.value

    @property
    def precision(self):
        """"fp32" (the default) or "int8" (after ``quantize``)."""
        value = int(self._setting(MODEL_PRECISION))
        return {v: k for k, v in PRECISIONS.items()}[value]

    @precision.setter
    def precision(self, value):
        key = _lookup(PRECISIONS, value, "precision")
        _lib.call("fer_model_set", self._mutable(), MODEL_PRECISION, key)

    @property
    def int8_portable(self):
        """True: int8 inference runs the portable C kernel (as the
        environment variable FER_INT8_KERNEL=generic does), for tests."""
        return bool(self._setting(MODEL_INT8_PORTABLE))

    @int8_portable.setter
    def int8_portable(self, value):
        _lib.call("fer_model_set", self._mutable(), MODEL_INT8_PORTABLE,
                  1.0 if value else 0.0)

    @staticmethod
    def settings():
        """{name: (default, min, max)} of the model's keyed settings."""
        out = {}
        info = _lib.fn("fer_model_param_info")
        for key in (MODEL_PRECISION, MODEL_INT8_PORTABLE):
            name, d, lo, hi = c_str(), c_double(), c_double(), c_double()
            _lib.check(info(key, ctypes.byref(name), ctypes.byref(d),
                            ctypes.byref(lo), ctypes.byref(hi)))
            out[name.value.decode()] = (d.value, lo.value, hi.value)
        return out

    # -- class names, preprocessing, metadata ------------------------------
    @property
    def class_names(self):
        get = _lib.fn("fer_model_class_name")
        names = [get(self._h, i) for i in range(self.output_size)]
        return [n.decode("utf-8", "replace") if n is not None else str(i)
                for i, n in enumerate(names)]

    @class_names.setter
    def class_names(self, names):
        arr, keep = _buffers.strings_in(names)
        _lib.call("fer_model_set_class_names", self._h, arr, len(names))
        del keep

    @property
    def preprocessing(self):
        """(scale, mean, std): value = (pixel * scale - mean) / std."""
        s, m, d = c_float(), c_float(), c_float()
        _lib.fn("fer_model_get_preprocessing")(self._h, ctypes.byref(s),
                                               ctypes.byref(m), ctypes.byref(d))
        return s.value, m.value, d.value

    def set_preprocessing(self, scale=1 / 255, mean=0.0, std=1.0):
        _lib.call("fer_model_set_preprocessing", self._h, scale, mean, std)
        return self

    @property
    def image_normalization(self):
        """{"standardize": bool, "sharpness_limit": float}: the per-image
        normalisation applied after ``preprocessing`` (see fer/nn.h)."""
        flags, limit = ctypes.c_uint(), c_float()
        _lib.fn("fer_model_get_image_normalization")(self._h, ctypes.byref(flags),
                                                     ctypes.byref(limit))
        return {"standardize": bool(flags.value & NORM_STANDARDIZE),
                "sharpness_limit": limit.value}

    def set_image_normalization(self, standardize=False, sharpness_limit=0.0):
        """Each image to mean 0 / std 1 (``standardize``), and inputs sharper
        than ``sharpness_limit`` (``image_sharpness``) blurred down to it."""
        _lib.call("fer_model_set_image_normalization", self._h,
                  NORM_STANDARDIZE if standardize else 0, sharpness_limit)
        return self

    def preprocess(self, x):
        """Raw pixel values (N x C x H x W or C x H x W, 0..255) turned into
        what the model takes: a new float array (or list), the input left
        alone. The same transformation the library applies to images."""
        c, h, w = self.input_shape
        ptr, keep, count = _buffers.floats_in(x)
        if count == 0 or count % (c * h * w):
            raise _invalid("input holds %d values, not a multiple of the model "
                           "input %dx%dx%d" % (count, c, h, w))
        out, buf = _buffers.floats_out(count)
        ctypes.memmove(out, ptr, count * ctypes.sizeof(c_float))
        del keep
        _lib.call("fer_model_preprocess", self._h, out, count // (c * h * w))
        if _buffers.is_array(buf):
            shape = getattr(x, "shape", None)
            return buf.reshape(shape) if shape is not None else buf
        return list(buf)

    @property
    def metadata(self):
        """A dict copy of the key/value metadata (use set_metadata to change)."""
        out = {}
        at = _lib.fn("fer_model_metadata_at")
        for i in range(_lib.fn("fer_model_metadata_count")(self._h)):
            k, v = c_str(), c_str()
            _lib.check(at(self._h, i, ctypes.byref(k), ctypes.byref(v)))
            out[k.value.decode("utf-8", "replace")] = v.value.decode("utf-8", "replace")
        return out

    def set_metadata(self, key, value):
        """Set (or with ``None`` remove) one metadata entry."""
        _lib.call("fer_model_set_metadata", self._h, key.encode("utf-8"),
                  None if value is None else str(value).encode("utf-8"))
        return self

    def get_metadata(self, key, default=None):
        v = _lib.fn("fer_model_get_metadata")(self._h, key.encode("utf-8"))
        return default if v is None else v.decode("utf-8", "replace")

    # -- files -------------------------------------------------------------
    def save(self, path, float16=False):
        """Write the model file atomically (float16 halves the weights). A
        quantised model keeps its calibration (format version 4): loaded
        again, it can switch to ``precision = "int8"`` without ``quantize``."""
        _lib.call("fer_model_save", self._h, _lib.encode_path(path),
                  SAVE_FLOAT16 if float16 else 0)

    def to_bytes(self, float16=False):
        data, size = c_ptr(), c_size()
        _lib.call("fer_model_save_memory", self._h, SAVE_FLOAT16 if float16 else 0,
                  ctypes.byref(data), ctypes.byref(size))
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            _lib.fn("fer_free")(data)

    @staticmethod
    def format_version():
        return _lib.fn("fer_model_format_version")()

    def save_onnx(self, path):
        """Write the model as ONNX (opset Model.onnx_opset()) atomically. Its
        input is the model input after preprocess(); dropout is left out."""
        _lib.call("fer_model_save_onnx", self._h, _lib.encode_path(path))

    def to_onnx_bytes(self):
        data, size = c_ptr(), c_size()
        _lib.call("fer_model_save_onnx_memory", self._h, ctypes.byref(data),
                  ctypes.byref(size))
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            _lib.fn("fer_free")(data)

    @staticmethod
    def onnx_opset():
        return _lib.fn("fer_model_onnx_opset")()

    # -- inference ---------------------------------------------------------
    def _batch(self, x):
        """(pointer, keepalive, n) of an N x C x H x W (or C x H x W) batch."""
        c, h, w = self.input_shape
        ptr, keep, count = _buffers.floats_in(x)
        per = c * h * w
        if count == 0 or count % per:
            raise errors.InvalidArgumentError(
                "input holds %d floats, not a multiple of the model input %dx%dx%d"
                % (count, c, h, w), errors.SHAPE)
        return ptr, keep, count // per

    def predict_proba(self, x, batch_size=256, channel_order="RGB"):
        """Class probabilities (the model output).

        ``x``: one picture (any size; converted and normalised by the model's
        preprocessing) giving a K-vector: a libfer ``Image``, a path, encoded
        bytes, a PIL image or a numpy uint8 array H x W, H x W x 3 or x 4 in
        ``channel_order`` ("RGB", "BGR" for OpenCV); or already-normalised
        floats (N x C x H x W array or nested lists, or a ``Dataset``)
        giving N x K.
        """
        from .image import Image
        from .dataset import Dataset
        if _inputs.is_image_like(x) or _inputs.is_image_array(x):
            x = _inputs.to_image(x, channel_order, "Model.predict")
        if isinstance(x, Image):
            k = self.output_size
            ptr, buf = _buffers.floats_out(k)
            _lib.call("fer_model_predict_image", self._h, x._h, ptr, k, None)
            return _buffers.as_result(buf)
        if isinstance(x, Dataset):
            return self._predict_dataset(x, batch_size)
        ptr, keep, n = self._batch(x)
        out, buf = _buffers.floats_out(n * self.output_size)
        _lib.call("fer_model_predict", self._h, ptr, n, out)
        del keep
        return _buffers.as_result(buf, (n, self.output_size))

    def _predict_dataset(self, ds, batch_size):
        rows = []
        for x, _ in ds.batches(batch_size, model=self):
            part = self.predict_proba(x)
            rows.extend(part if not _buffers.is_array(part) else [part])
        if _buffers.np is not None:
            return _buffers.np.concatenate(rows) if rows else \
                _buffers.np.zeros((0, self.output_size), dtype=_buffers.np.float32)
        return rows

    def predict(self, x, batch_size=256, channel_order="RGB"):
        """For one picture (see ``predict_proba``): {"label", "index",
        "probabilities": {name: p}}. For a batch or ``Dataset``: the most
        probable class index of each."""
        probs = self.predict_proba(x, batch_size, channel_order)
        if not _buffers.is_array(probs) and (not probs or not isinstance(probs[0], list)) \
                or _buffers.is_array(probs) and probs.ndim == 1:
            plist = [float(p) for p in probs]
            top = max(range(len(plist)), key=lambda i: (plist[i], -i))
            names = self.class_names
            return {"label": names[top], "index": top,
                    "probabilities": dict(zip(names, plist))}
        if _buffers.is_array(probs):
            return probs.argmax(axis=1)
        return [max(range(len(r)), key=lambda i: (r[i], -i)) for r in probs]

    def predictor(self):
        """A ``Predictor``: preallocated scratch for fast repeated calls."""
        return Predictor(self)

    # -- training ----------------------------------------------------------
    @property
    def training(self):
        return bool(_lib.fn("fer_model_is_training")(self._h))

    @training.setter
    def training(self, on):
        _lib.call("fer_model_set_training", self._mutable(), int(bool(on)))

    def set_seed(self, seed):
        _lib.call("fer_model_set_seed", self._h, int(seed))
        return self

    def set_label_smoothing(self, smoothing):
        _lib.call("fer_model_set_label_smoothing", self._h, smoothing)
        return self

    def set_class_weights(self, weights=None):
        """Per-class loss weights, or None to clear."""
        if weights is None:
            _lib.call("fer_model_set_class_weights", self._h, None, 0)
            return self
        ptr, keep, n = _buffers.floats_in(weights)
        _lib.call("fer_model_set_class_weights", self._h, ptr, n)
        del keep
        return self

    def forward(self, x):
        """Raw forward pass in the current mode (N x K)."""
        ptr, keep, n = self._batch(x)
        out, buf = _buffers.floats_out(n * self.output_size)
        _lib.call("fer_model_forward", self._mutable(), ptr, n, out)
        del keep
        return _buffers.as_result(buf, (n, self.output_size))

    def evaluate_batch(self, x, y):
        """(mean loss, accuracy) of one batch in the current mode."""
        ptr, keep, n = self._batch(x)
        lptr, lkeep, ln = _buffers.ints_in(y)
        if ln != n:
            raise _invalid("%d inputs but %d labels" % (n, ln))
        loss, acc = c_float(), c_float()
        _lib.call("fer_model_evaluate", self._mutable(), ptr, lptr, n,
                  ctypes.byref(loss), ctypes.byref(acc))
        del keep, lkeep
        return loss.value, acc.value

    def train_step(self, optimizer, x, y):
        """One optimisation step on a batch; (loss, accuracy) before it."""
        ptr, keep, n = self._batch(x)
        lptr, lkeep, ln = _buffers.ints_in(y)
        if ln != n:
            raise _invalid("%d inputs but %d labels" % (n, ln))
        loss, acc = c_float(), c_float()
        _lib.call("fer_model_train_step", self._mutable(), optimizer._h, ptr, lptr, n,
                  ctypes.byref(loss), ctypes.byref(acc))
        optimizer._model = self
        del keep, lkeep
        return loss.value, acc.value

    def _soft(self, x, targets, sample_weights):
        """Pointers, keepalives and counts of a soft-target batch."""
        ptr, keep, n = self._batch(x)
        tptr, tkeep, tn = _buffers.floats_in(targets)
        wptr, wkeep = None, None
        if sample_weights is not None:
            wptr, wkeep, wn = _buffers.floats_in(sample_weights)
            if wn != n:
                raise _invalid("%d inputs but %d sample weights" % (n, wn))
        return ptr, tptr, tn, wptr, n, (keep, tkeep, wkeep)

    def train_step_soft(self, optimizer, x, targets, sample_weights=None):
        """One step against soft targets (n x classes, rows summing to 1),
        optionally weighted per image; (loss, accuracy) before it. The
        model's label smoothing and class weights do not apply."""
        ptr, tptr, tn, wptr, n, keep = self._soft(x, targets, sample_weights)
        loss, acc = c_float(), c_float()
        _lib.call("fer_model_train_step_soft", self._mutable(), optimizer._h, ptr,
                  tptr, tn, wptr, n, ctypes.byref(loss), ctypes.byref(acc))
        optimizer._model = self
        del keep
        return loss.value, acc.value

    # -- a step in two halves, and flat copies (data-parallel training) -----
    def compute_gradients(self, x, y):
        """Forward, loss and backward on a batch, no update: (loss, accuracy,
        weight), weight being the loss's denominator (the batch size without
        class weights). The gradient stays in the model (get_flat)."""
        ptr, keep, n = self._batch(x)
        lptr, lkeep, ln = _buffers.ints_in(y)
        if ln != n:
            raise _invalid("%d inputs but %d labels" % (n, ln))
        loss, acc, weight = c_float(), c_float(), c_double()
        _lib.call("fer_model_compute_gradients", self._mutable(), ptr, lptr, n,
                  ctypes.byref(loss), ctypes.byref(acc), ctypes.byref(weight))
        del keep, lkeep
        return loss.value, acc.value, weight.value

    def compute_gradients_soft(self, x, targets, sample_weights=None):
        """compute_gradients against soft targets (see train_step_soft):
        (loss, accuracy, weight), weight = the sum of the sample weights."""
        ptr, tptr, tn, wptr, n, keep = self._soft(x, targets, sample_weights)
        loss, acc, weight = c_float(), c_float(), c_double()
        _lib.call("fer_model_compute_gradients_soft", self._mutable(), ptr, tptr, tn,
                  wptr, n, ctypes.byref(loss), ctypes.byref(acc), ctypes.byref(weight))
        del keep
        return loss.value, acc.value, weight.value

    def apply_gradients(self, optimizer):
        """One step of `optimizer` from the computed (or set) gradient."""
        _lib.call("fer_model_apply_gradients", self._mutable(), optimizer._h)
        optimizer._model = self

    def get_flat(self, what="parameters"):
        """"parameters", "gradients" or "statistics" as one flat float32
        array in the documented layout (fer_flat_layout_version())."""
        name = "fer_model_get_" + _lookup(FLAT, what, "flat buffer")
        needed = c_size()
        status = _lib.fn(name)(self._h, None, 0, ctypes.byref(needed))
        if status not in (0, errors.BUFFER_TOO_SMALL):
            _lib.check(status)
        ptr, buf = _buffers.floats_out(needed.value)
        _lib.call(name, self._h, ptr, needed.value, None)
        return _buffers.as_result(buf)

    def set_flat(self, values, what="parameters"):
        """Replaces the parameters, the gradient or the statistics."""
        ptr, keep, n = _buffers.floats_in(values)
        _lib.call("fer_model_set_" + _lookup(FLAT, what, "flat buffer"), self._mutable(),
                  ptr, n)
        del keep

    def fit(self, x, y=None, **kwargs):
        """Train; see ``libfer.training.fit`` for the arguments."""
        from .training import fit
        return fit(self, x, y, **kwargs)

    def evaluate(self, x, y=None, batch_size=256):
        """{"loss", "accuracy"} over a data set or arrays (evaluation mode)."""
        from .training import evaluate
        return evaluate(self, x, y, batch_size=batch_size)

    def __repr__(self):
        if self.closed:
            return "<libfer.Model closed>"
        return "<libfer.Model %s -> %d, %d layers>" % (
            "x".join(map(str, self.input_shape)), self.output_size, len(self))


def image_sharpness(x, shape=None):
    """Sharpness of one image as the library measures it: the mean absolute
    difference of horizontally and vertically adjacent values over the
    image's standard deviation. ``x`` is C x H x W or H x W (numpy or
    nested lists), or flat values with ``shape=(C, H, W)``."""
    if shape is None:
        shape = getattr(x, "shape", None)
        if shape is None:
            dims, v = [], x
            while isinstance(v, (list, tuple)):
                dims.append(len(v))
                v = v[0] if v else None
            shape = tuple(dims)
    shape = tuple(int(d) for d in shape)
    if len(shape) == 2:
        shape = (1,) + shape
    if len(shape) != 3:
        raise _invalid("image_sharpness needs C x H x W or H x W, not %r" % (shape,))
    ptr, keep, count = _buffers.floats_in(x)
    if count != shape[0] * shape[1] * shape[2]:
        raise _invalid("%d values for shape %r" % (count, shape))
    value = _lib.fn("fer_image_sharpness")(ptr, *shape)
    del keep
    return value


class Predictor(Handle):
    """Scratch memory for repeated predictions with one model (one thread at
    a time). Keeps its model alive. If the model changes (training, new
    layers), the predictor rebuilds its scratch on its next call."""

    _free_name = "fer_predictor_free"
    _kind = "Predictor"

    def __init__(self, model):
        self.model = model
        self._ptr = None
        self._finalizer = None
        self._closed = False
        self._out_n = 0
        self._bind()
        model._predictors.add(self)
        self._run = _lib.fn("fer_predictor_run")
        self._run_image = _lib.fn("fer_predictor_run_image")
        # The hot path passes addresses as ints to a separately declared
        # function object: no pointer objects built per call.
        self._run_address = _lib.raw_function("fer_predictor_run", c_status, c_ptr,
                                              c_ptr, c_int, c_ptr)
        self._np = _buffers.np
        self._float32 = self._np.dtype("float32") if self._np is not None else None
        self._last_input = None  # the array of the previous call, and its address
        self._last_address = None

    def _bind(self):
        out = c_ptr()
        _lib.call("fer_predictor_create", self.model._h, ctypes.byref(out))
        Handle.__init__(self, out.value)
        c, h, w = self.model.input_shape
        self._per_sample = c * h * w
        self._k = self.model.output_size
        self._out_n = 0

    def _release(self):
        """Free the C predictor but stay usable (rebuilt on demand)."""
        Handle.close(self)
        self._last_input = None

    @property
    def _h(self):
        if self._closed:
            raise errors.MisuseError("this Predictor was closed", errors.MISUSE)
        if self._ptr is None:
            self._bind()
        return self._ptr

    @property
    def closed(self):
        return self._closed

    def close(self):
        Handle.close(self)
        self._closed = True

    def _out(self, n):
        """A reusable output buffer for n rows (no allocation per call)."""
        if self._out_n != n:
            self._outptr, self._outbuf = _buffers.floats_out(n * self._k)
            self._out_n = n
            self._last_input = None  # its batch size no longer matches
            if self._np is not None:
                self._out_address = self._outbuf.ctypes.data
                self._out_shaped = self._outbuf.reshape(n, self._k)
        return self._outptr, self._outbuf

    def predict_proba(self, x, channel_order="RGB"):
        """As ``Model.predict_proba`` for one picture or a float batch. The
        returned array is reused by the next call with the same batch size:
        copy it to keep it."""
        if x is self._last_input and self._ptr is not None and x.dtype is self._float32:
            # The same array as last time (a reused input buffer, refilled per
            # frame): its address and size cannot have changed while we hold it.
            status = self._run_address(self._ptr, self._last_address, self._out_n,
                                       self._out_address)
            if status:
                _lib.check(status)
            return self._out_shaped
        np = self._np
        if (self._ptr is not None and np is not None and type(x) is np.ndarray
                and (x.dtype is self._float32 or x.dtype == self._float32)
                and x.flags.c_contiguous):
            # Fast path: a contiguous float32 array, passed in place.
            n, rest = divmod(x.size, self._per_sample)
            if n > 0 and rest == 0:
                if n != self._out_n:
                    self._out(n)
                address = x.ctypes.data
                status = self._run_address(self._ptr, address, n, self._out_address)
                if status:
                    _lib.check(status)
                self._last_input, self._last_address = x, address
                return self._out_shaped
        from .image import Image
        h = self._h
        if _inputs.is_image_like(x) or _inputs.is_image_array(x):
            x = _inputs.to_image(x, channel_order, "Predictor.predict")
        if isinstance(x, Image):
            ptr, buf = self._out(1)
            _lib.check(self._run_image(h, x._h, ptr, self._k, None))
            return _buffers.as_result(buf)
        ptr, keep, n = self.model._batch(x)
        out, buf = self._out(n)
        _lib.check(self._run(h, ptr, n, out))
        return _buffers.as_result(buf, (n, self._k))

    def predict(self, image, channel_order="RGB"):
        """The top class of one picture (an Image, path, bytes, array or PIL
        image): {"label", "index", "probabilities"}."""
        probs = [float(p) for p in self.predict_proba(image, channel_order)]
        top = max(range(len(probs)), key=lambda i: (probs[i], -i))
        names = self.model.class_names
        return {"label": names[top], "index": top,
                "probabilities": dict(zip(names, probs))}


def flat_layout_version():
    """The layout version of Model.get_flat/set_flat (FER_FLAT_LAYOUT_VERSION)."""
    return _lib.fn("fer_flat_layout_version")()
