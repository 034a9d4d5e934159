"""Optimisers and learning-rate schedules (fer/nn.h), set by keyword."""

import ctypes

from . import _lib, errors
from ._handle import Handle
from ._lib import c_double, c_int, c_ptr, c_status, c_str, signature

P = ctypes.POINTER

signature("fer_optimizer_create", c_status, c_int, P(c_ptr))
signature("fer_optimizer_free", None, c_ptr)
signature("fer_optimizer_set", c_status, c_ptr, c_int, c_double)
signature("fer_optimizer_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_optimizer_param_info", c_status, c_int, P(c_str), P(c_double),
          P(c_double), P(c_double))
signature("fer_optimizer_steps", ctypes.c_long, c_ptr)
signature("fer_schedule_create", c_status, c_int, P(c_ptr))
signature("fer_schedule_free", None, c_ptr)
signature("fer_schedule_set", c_status, c_ptr, c_int, c_double)
signature("fer_schedule_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_schedule_param_info", c_status, c_int, P(c_str), P(c_double),
          P(c_double), P(c_double))
signature("fer_schedule_step", c_status, c_ptr, c_ptr, c_double)

OPTIMIZERS = {"sgd": 1, "adam": 2, "adamw": 3}
SCHEDULES = {"step": 1, "cosine": 2, "plateau": 3}


def _param_table(info_name):
    """{name: key} read from the library's own parameter table (the keys are
    small consecutive integers; libfer answers an error past the last)."""
    table = {}
    info = _lib.fn(info_name)
    for key in range(1, 64):
        name = c_str()
        if info(key, ctypes.byref(name), None, None, None) != 0:
            break
        table[name.value.decode()] = key
    return table


class _Keyed(Handle):
    """A handle configured through keyed double parameters."""

    _prefix = None  # "fer_optimizer" or "fer_schedule"

    @classmethod
    def params(cls):
        """{name: (default, min, max)} of every parameter."""
        out = {}
        info = _lib.fn(cls._prefix + "_param_info")
        for name, key in cls._keys().items():
            d, lo, hi = c_double(), c_double(), c_double()
            _lib.check(info(key, None, ctypes.byref(d), ctypes.byref(lo), ctypes.byref(hi)))
            out[name] = (d.value, lo.value, hi.value)
        return out

    @classmethod
    def _keys(cls):
        if "_table" not in cls.__dict__:
            cls._table = _param_table(cls._prefix + "_param_info")
        return cls._table

    def _key(self, name):
        try:
            return self._keys()[name]
        except KeyError:
            raise errors.NotFoundError(
                "%s has no parameter %r (known: %s)"
                % (self._kind, name, ", ".join(sorted(self._keys()))), errors.NOT_FOUND)

    def set(self, **params):
        """Set parameters by name, e.g. ``set(learning_rate=1e-3)``."""
        for name, value in params.items():
            _lib.call(self._prefix + "_set", self._h, self._key(name), float(value))
        return self

    def get(self, name):
        value = c_double()
        _lib.call(self._prefix + "_get", self._h, self._key(name), ctypes.byref(value))
        return value.value

    def __getitem__(self, name):
        return self.get(name)

    def __setitem__(self, name, value):
        self.set(**{name: value})


class Optimizer(_Keyed):
    """``Optimizer("adam", learning_rate=1e-3, weight_decay=0)``; kinds sgd,
    adam, adamw. Binds to the first model it steps; one thread at a time."""

    _free_name = "fer_optimizer_free"
    _kind = "Optimizer"
    _prefix = "fer_optimizer"

    def __init__(self, kind="adam", **params):
        kind_id = OPTIMIZERS.get(str(kind).lower())
        if kind_id is None:
            raise errors.InvalidArgumentError(
                "unknown optimizer %r (sgd, adam or adamw)" % (kind,), errors.INVALID_ARGUMENT)
        out = c_ptr()
        _lib.call("fer_optimizer_create", kind_id, ctypes.byref(out))
        Handle.__init__(self, out.value)
        self.kind = str(kind).lower()
        self._model = None  # the model it is bound to, kept alive
        self.set(**params)

    @property
    def steps(self):
        return _lib.fn("fer_optimizer_steps")(self._h)

    @property
    def learning_rate(self):
        return self.get("learning_rate")


class Schedule(_Keyed):
    """``Schedule("cosine", t_max=30)``; kinds step, cosine, plateau. Call
    ``step(optimizer, metric)`` once per epoch."""

    _free_name = "fer_schedule_free"
    _kind = "Schedule"
    _prefix = "fer_schedule"

    def __init__(self, kind="step", **params):
        kind_id = SCHEDULES.get(str(kind).lower())
        if kind_id is None:
            raise errors.InvalidArgumentError(
                "unknown schedule %r (step, cosine or plateau)" % (kind,),
                errors.INVALID_ARGUMENT)
        out = c_ptr()
        _lib.call("fer_schedule_create", kind_id, ctypes.byref(out))
        Handle.__init__(self, out.value)
        self.kind = str(kind).lower()
        self.set(**params)

    def step(self, optimizer, metric=0.0):
        _lib.call("fer_schedule_step", self._h, optimizer._h, float(metric))
