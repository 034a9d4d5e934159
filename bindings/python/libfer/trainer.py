"""The C training loop (fer/train.h): a ``Trainer`` handle with keyed
settings, the per-epoch history it keeps, and the training-state file
helpers. ``Model.fit`` (training.py) is built on it; use ``Trainer``
directly for settings that ``fit`` does not name.
"""

import ctypes

from . import _buffers, _lib, errors
from ._lib import c_double, c_float_p, c_int, c_ptr, c_size, c_status, c_str, signature
from .optim import _Keyed

P = ctypes.POINTER
c_long = ctypes.c_long

# The user callback of fer_trainer_fit (fer_train_callback).
CALLBACK = ctypes.CFUNCTYPE(c_int, c_ptr, c_int, c_int, c_int, c_long, c_long,
                            P(c_double), c_int)

signature("fer_train_metric_count", c_int)
signature("fer_train_metric_name", c_str, c_int)
signature("fer_trainer_create", c_status, P(c_ptr))
signature("fer_trainer_free", None, c_ptr)
signature("fer_trainer_set", c_status, c_ptr, c_int, c_double)
signature("fer_trainer_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_trainer_param_info", c_status, c_int, P(c_str), P(c_double), P(c_double),
          P(c_double))
signature("fer_trainer_param_find", c_status, c_str, P(c_int))
signature("fer_trainer_set_path", c_status, c_ptr, c_int, c_str)
signature("fer_trainer_set_optimizer", c_status, c_ptr, c_ptr)
signature("fer_trainer_set_schedule", c_status, c_ptr, c_ptr)
signature("fer_trainer_set_augment", c_status, c_ptr, c_ptr)
signature("fer_trainer_set_teacher", c_status, c_ptr, c_ptr)
signature("fer_trainer_set_class_weights", c_status, c_ptr, c_float_p, c_int)
signature("fer_trainer_set_callback", c_status, c_ptr, c_ptr, c_ptr)
# The all-reduce of a data-parallel fit (fer_train_allreduce).
ALLREDUCE = ctypes.CFUNCTYPE(c_int, c_ptr, P(ctypes.c_float), c_size, P(c_double), c_size)
signature("fer_trainer_set_allreduce", c_status, c_ptr, c_ptr, c_ptr)
signature("fer_dataset_balanced_weights", c_status, c_ptr, c_float_p, c_int)
signature("fer_trainer_fit", c_status, c_ptr, c_ptr, c_ptr, c_ptr)
signature("fer_trainer_history_count", c_int, c_ptr)
signature("fer_trainer_history_get", c_status, c_ptr, c_int, P(c_double), c_int)
signature("fer_trainer_best_epoch", c_int, c_ptr, P(c_double))
signature("fer_train_state_validate", c_status, c_ptr, c_size)
signature("fer_train_state_version", c_int)

# fer_train_path and fer_train_event values (include/fer/train.h; ABI).
PATHS = {"state": 1, "checkpoint": 2, "history": 3}
EVENT_BATCH, EVENT_EPOCH = 1, 2

# Python names of the C metric slots: the C names ("acc", "lr") are the
# history CSV's columns; the Python history keeps the names fit always used.
_PYTHON_NAMES = {"acc": "accuracy", "val_acc": "val_accuracy", "lr": "learning_rate"}


def metric_names():
    """The Python names of the trainer's metrics, in the C slot order
    (loss, accuracy, val_loss, val_accuracy, learning_rate, seconds, images)."""
    name_of = _lib.fn("fer_train_metric_name")
    names = []
    for slot in range(_lib.fn("fer_train_metric_count")()):
        c_name = name_of(slot).decode()
        names.append(_PYTHON_NAMES.get(c_name, c_name))
    return names


def metric_key(name):
    """The fer_train_metric value of a monitor name ("val_loss", "accuracy";
    the CSV spellings "acc", "val_acc", "lr" work too)."""
    names = metric_names()
    for slot, python_name in enumerate(names):
        if name == python_name or _PYTHON_NAMES.get(name) == python_name:
            return slot
    raise errors.NotFoundError("no training metric %r (known: %s)"
                               % (name, ", ".join(names)), errors.NOT_FOUND)


def train_state_version():
    """The training-state file format version this libfer reads and writes."""
    return _lib.fn("fer_train_state_version")()


def validate_train_state(data):
    """Check a training-state file's bytes (or a path) without training:
    returns None when well-formed, else raises the loader's error."""
    if isinstance(data, str) or hasattr(data, "__fspath__"):
        with open(data, "rb") as f:
            data = f.read()
    ptr, keep, n = _buffers.bytes_in(data)
    _lib.call("fer_train_state_validate", ptr, n)
    del keep


def balanced_class_weights(dataset):
    """scikit-learn's "balanced" weights n / (K n_c) of a Dataset (0 for an
    absent class), as the trainer computes them."""
    k = dataset.num_classes
    ptr, buf = _buffers.floats_out(max(k, 1))
    _lib.call("fer_dataset_balanced_weights", dataset._h, ptr, k)
    return [float(v) for v in buf[:k]]


class Trainer(_Keyed):
    """A ``fer_trainer``: ``Trainer(epochs=5, batch_size=32)``, then
    ``fit(model, train, validation)``. Keys and their bounds: ``params()``.
    Objects given to it (optimizer, schedule, augment) are kept alive by the
    trainer. One thread at a time."""

    _free_name = "fer_trainer_free"
    _kind = "Trainer"
    _prefix = "fer_trainer"

    def __init__(self, **params):
        out = c_ptr()
        _lib.call("fer_trainer_create", ctypes.byref(out))
        _Keyed.__init__(self, out.value)
        self._borrowed = {}  # objects the C trainer points to, kept alive here
        self.set(**params)

    def _key(self, name):
        key = c_int()
        status = _lib.fn("fer_trainer_param_find")(str(name).encode(), ctypes.byref(key))
        if status == errors.NOT_FOUND:
            raise errors.NotFoundError("Trainer has no parameter %r (known: %s)"
                                       % (name, ", ".join(sorted(self._keys()))),
                                       errors.NOT_FOUND)
        _lib.check(status, "fer_trainer_param_find")
        return key.value

    def _borrow(self, what, setter, obj):
        _lib.call(setter, self._h, None if obj is None else obj._h)
        self._borrowed[what] = obj

    def set_optimizer(self, optimizer):
        """The ``Optimizer`` to train with (None: the trainer's own Adam)."""
        self._borrow("optimizer", "fer_trainer_set_optimizer", optimizer)
        return self

    def set_schedule(self, schedule):
        """A ``Schedule`` stepped after every epoch with the plateau monitor."""
        self._borrow("schedule", "fer_trainer_set_schedule", schedule)
        return self

    def set_augment(self, augment):
        """An ``Augment`` applied to training batches (None: none)."""
        self._borrow("augment", "fer_trainer_set_augment", augment)
        return self

    def set_teacher(self, teacher):
        """A ``Model`` to distil from (None: none): targets become
        (1 - distill_weight) label + distill_weight softmax(log p / T),
        p the teacher's outputs, T = distill_temperature. Mixup is the
        ``mixup`` key (alpha; 0 = off)."""
        self._borrow("teacher", "fer_trainer_set_teacher", teacher)
        return self

    def set_class_weights(self, weights):
        """Explicit per-class loss weights, or None to clear."""
        if weights is None:
            _lib.call("fer_trainer_set_class_weights", self._h, None, 0)
            return self
        ptr, keep, n = _buffers.floats_in(weights)
        _lib.call("fer_trainer_set_class_weights", self._h, ptr, n)
        del keep
        return self

    def set_path(self, which, path):
        """Set the "state", "checkpoint" or "history" file (None: off)."""
        if which not in PATHS:
            raise errors.NotFoundError("no trainer path %r (state, checkpoint, history)"
                                       % (which,), errors.NOT_FOUND)
        _lib.call("fer_trainer_set_path", self._h, PATHS[which],
                  None if path is None else _lib.encode_path(path))
        return self

    def set_callback(self, callback):
        """A ``CALLBACK`` (ctypes function) or None. The caller keeps it
        alive for as long as the trainer may call it; ``fit`` does that."""
        _lib.call("fer_trainer_set_callback", self._h,
                  None if callback is None else ctypes.cast(callback, c_ptr), None)
        self._borrowed["callback"] = callback
        return self

    def set_allreduce(self, allreduce):
        """Data-parallel fit: ``allreduce(floats, doubles)`` gets two numpy
        arrays (float32, float64; views of the trainer's buffers) and must
        replace each by its element-wise sum over all processes, for
        example with mpi4py's ``comm.Allreduce(MPI.IN_PLACE, a)``. Set the
        ``shard_count`` and ``shard_index`` keys too (include/fer/train.h).
        None turns it off. An exception in it stops the fit."""
        if allreduce is None:
            _lib.call("fer_trainer_set_allreduce", self._h, None, None)
            self._borrowed["allreduce"] = None
            return self
        import numpy as np

        def trampoline(_user, floats, nf, doubles, nd):
            try:
                f = np.ctypeslib.as_array(floats, (nf,)) if nf else np.zeros(0, np.float32)
                d = np.ctypeslib.as_array(doubles, (nd,)) if nd else np.zeros(0)
                allreduce(f, d)
                return 0
            except BaseException:  # noqa: BLE001 - reported as a cancelled fit
                return 1
        c_fn = ALLREDUCE(trampoline)
        _lib.call("fer_trainer_set_allreduce", self._h, ctypes.cast(c_fn, c_ptr), None)
        self._borrowed["allreduce"] = c_fn
        return self

    def fit(self, model, train, validation=None):
        """Train ``model`` on the Dataset ``train`` (validating on
        ``validation``). Raises CancelledError when the callback stopped it."""
        # The optimizer binds to the model it steps: keep that model alive.
        if self._borrowed.get("optimizer") is not None:
            self._borrowed["optimizer"]._model = model
        _lib.call("fer_trainer_fit", self._h, model._mutable(), train._h,
                  None if validation is None else validation._h)

    def history(self):
        """[{metric name: value}] for every epoch recorded so far (a resumed
        run includes the epochs of the state file)."""
        names = metric_names()
        row = (c_double * len(names))()
        get = _lib.fn("fer_trainer_history_get")
        out = []
        for epoch in range(_lib.fn("fer_trainer_history_count")(self._h)):
            _lib.check(get(self._h, epoch, row, len(names)), "fer_trainer_history_get")
            out.append(dict(zip(names, row)))
        return out

    def best_epoch(self):
        """(1-based epoch, value) of the best checkpoint-monitor value so
        far, or (0, nan) before any epoch."""
        value = c_double()
        epoch = _lib.fn("fer_trainer_best_epoch")(self._h, ctypes.byref(value))
        return epoch, value.value if epoch else float("nan")
