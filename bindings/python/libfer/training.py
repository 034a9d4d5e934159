"""Training: ``fit`` runs the C training loop (fer/train.h) with Python
callbacks; ``evaluate`` measures a model on a data set.

``fit`` hands the whole loop to ``fer_trainer_fit``: shuffling, batches,
augmentation, validation, the Keras-style built-in callbacks and the
resumable state file all run in C. Python callbacks are called from C
through one ctypes function after every epoch (and batch, for objects with
``on_batch_end``).
"""

import math

from . import _buffers, errors
from .dataset import Dataset, epoch_order
from .optim import Optimizer, Schedule
from .trainer import CALLBACK, EVENT_EPOCH, Trainer, metric_key, metric_names


class StopTraining(Exception):
    """Raise from a callback to end ``fit`` after the current epoch."""


def _as_dataset(x, y, model):
    """A Dataset, or (x, y) float arrays already normalised, as a batch source."""
    if isinstance(x, Dataset):
        return x
    if y is None:
        raise errors.InvalidArgumentError("labels (y) are required with array inputs",
                                          errors.INVALID_ARGUMENT)
    return (x, y)


def _batches(source, model, batch_size, shuffle=False, seed=0, epoch=0, augment=None):
    if isinstance(source, Dataset):
        yield from source.batches(batch_size, shuffle=shuffle, seed=seed, epoch=epoch,
                                  augment=augment, model=model)
        return
    x, y = source
    n = len(y)
    order = epoch_order(n, seed, epoch) if shuffle else list(range(n))
    for start in range(0, n, batch_size):
        idx = order[start:start + batch_size]
        if _buffers.is_array(x):
            xb = x[idx]
        else:
            xb = [x[i] for i in idx]
        yb = [int(y[i]) for i in idx]
        yield xb, yb


def evaluate(model, x, y=None, batch_size=256):
    """{"loss", "accuracy", "count"} of ``model`` on a Dataset or on arrays
    (normalised floats N x C x H x W and labels), in evaluation mode."""
    source = _as_dataset(x, y, model)
    was_training = model.training
    model.training = False
    total_loss = total_correct = 0.0
    count = 0
    try:
        for xb, yb in _batches(source, model, batch_size):
            loss, acc = model.evaluate_batch(xb, yb)
            n = len(yb)
            total_loss += loss * n
            total_correct += acc * n
            count += n
    finally:
        model.training = was_training
    if count == 0:
        return {"loss": math.nan, "accuracy": math.nan, "count": 0}
    return {"loss": total_loss / count, "accuracy": total_correct / count, "count": count}


def _call(callback, epoch, logs):
    """True when the callback asks to stop (returns True or raises StopTraining)."""
    try:
        hook = getattr(callback, "on_epoch_end", callback)
        return bool(hook(epoch, logs))
    except StopTraining:
        return True


def _call_batch(callback, batch, logs):
    try:
        return bool(callback.on_batch_end(batch, logs))
    except StopTraining:
        return True


# -- built-in callbacks: settings of the C trainer, not Python code --------
class ReduceLROnPlateau:
    """Multiply the learning rate by ``factor`` after ``patience`` epochs
    without an improvement of ``monitor`` by more than ``min_delta``, down to
    ``min_lr`` (Keras' callback; runs in C)."""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, min_lr=0.0,
                 min_delta=1e-4):
        self.settings = {"plateau_monitor": metric_key(monitor), "plateau_factor": factor,
                         "plateau_patience": patience, "plateau_min_lr": min_lr,
                         "plateau_min_delta": min_delta}

    def configure(self, trainer):
        trainer.set(**self.settings)


class EarlyStopping:
    """Stop after ``patience`` epochs without an improvement of ``monitor``;
    with ``restore_best_weights`` the model ends with the best epoch's
    weights (Keras' callback; runs in C)."""

    def __init__(self, monitor="val_loss", patience=10, restore_best_weights=False):
        self.settings = {"early_stop_monitor": metric_key(monitor),
                         "early_stop_patience": patience,
                         "restore_best": int(bool(restore_best_weights))}

    def configure(self, trainer):
        trainer.set(**self.settings)


class ModelCheckpoint:
    """Save the model to ``path`` (libfer's model file) each time
    ``monitor`` reaches a new best: Keras' ``save_best_only=True``."""

    def __init__(self, path, monitor="val_accuracy"):
        self.path, self.monitor = path, metric_key(monitor)

    def configure(self, trainer):
        trainer.set(checkpoint_monitor=self.monitor)
        trainer.set_path("checkpoint", self.path)


class CSVLogger:
    """Write the history as CSV (epoch,loss,acc,val_loss,val_acc,lr,seconds)
    to ``path`` after every epoch."""

    def __init__(self, path):
        self.path = path

    def configure(self, trainer):
        trainer.set_path("history", self.path)


# -- from Python inputs to C data sets -------------------------------------
def _pixels_from_floats(model, x):
    """``x`` (normalised floats) as the 8-bit pixels the trainer stores,
    scaled by the model's preprocessing scale: (values, scale). Raises when
    ``x`` is not the normalisation of whole pixels, because the C loop
    trains from 8-bit images and would otherwise quantise silently."""
    scale, mean, std = model.preprocessing
    np = _buffers.np
    if np is not None:
        values = np.asarray(x, dtype=np.float64) * std + mean
        pixels = np.rint(values / scale)
        off = np.abs(pixels * scale - values) > 0.01 * scale
        bad = off | (pixels < 0) | (pixels > 255)
        if bad.any():
            raise errors.InvalidArgumentError(
                "fit trains from 8-bit images: element %d of x (%g) is not a pixel value "
                "under the model's preprocessing (scale %g, mean %g, std %g); pass uint8 "
                "images or a Dataset" % (int(np.argmax(bad.ravel())),
                                          float(np.asarray(x).ravel()[np.argmax(bad.ravel())]),
                                          scale, mean, std), errors.INVALID_ARGUMENT)
        return values.astype(np.float32), scale
    flat = _buffers._flatten(x)
    values = [v * std + mean for v in flat]
    for i, v in enumerate(values):
        p = round(v / scale)
        if abs(p * scale - v) > 0.01 * scale or not 0 <= p <= 255:
            raise errors.InvalidArgumentError(
                "fit trains from 8-bit images: element %d of x (%g) is not a pixel value "
                "under the model's preprocessing" % (i, flat[i]), errors.INVALID_ARGUMENT)
    shape = _buffers.shape_of(x)
    return _reshape(values, shape), scale


def _reshape(flat, shape):
    """Nested lists of ``shape`` from a flat list (no numpy)."""
    for size in reversed(shape[1:]):
        flat = [flat[i:i + size] for i in range(0, len(flat), size)]
    return flat


def _as_training_set(model, x, y, what):
    """A Dataset for the C trainer from a Dataset, uint8 images, or
    normalised floats (the model's preprocessing undone exactly)."""
    if isinstance(x, Dataset):
        return x
    if y is None:
        raise errors.InvalidArgumentError("labels (y) are required with array inputs (%s)"
                                          % what, errors.INVALID_ARGUMENT)
    names = model.class_names
    if _buffers.is_array(x) and x.dtype == _buffers.np.uint8:
        return Dataset.from_arrays(x, y, class_names=names)
    values, scale = _pixels_from_floats(model, x)
    return Dataset.from_arrays(values, y, class_names=names, scale=scale)


class _Bridge:
    """The one C callback of a fit call: runs the Python callbacks, turns
    their stop requests into the C stop return, and keeps any exception
    they raise to re-raise from ``fit`` (an exception must not cross C)."""

    def __init__(self, callbacks, verbose, has_validation):
        self.epoch_hooks = list(callbacks)
        self.batch_hooks = [cb for cb in callbacks if hasattr(cb, "on_batch_end")]
        self.verbose = verbose
        self.has_validation = has_validation
        self.names = metric_names()
        self.error = None
        self.stop_requested = False
        self.c_function = CALLBACK(self._from_c)

    def _logs(self, metrics, count):
        logs = {self.names[i]: metrics[i] for i in range(min(count, len(self.names)))}
        if not self.has_validation:
            logs.pop("val_loss", None)
            logs.pop("val_accuracy", None)
        return logs

    def _from_c(self, user, event, epoch, epochs, batch, batches, metrics, count):
        try:
            logs = self._logs(metrics, count)
            stop = False
            if event == EVENT_EPOCH:
                logs["epoch"] = epoch
                if self.verbose:
                    print("epoch %d/%d: " % (epoch + 1, epochs) + ", ".join(
                        "%s %.4g" % (k, v) for k, v in logs.items() if k != "epoch"))
                for cb in self.epoch_hooks:
                    stop = _call(cb, epoch, logs) or stop
            else:
                logs["epoch"] = epoch
                for cb in self.batch_hooks:
                    stop = _call_batch(cb, batch, logs) or stop
            self.stop_requested = self.stop_requested or stop
            return 1 if stop else 0
        except BaseException as exc:  # KeyboardInterrupt too: stop, re-raise in fit
            self.error = exc
            return 1


_HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "learning_rate")


def _history(trainer):
    rows = trainer.history()
    history = {key: [row[key] for row in rows] for key in _HISTORY_KEYS}
    return {k: v for k, v in history.items()
            if v and not all(isinstance(e, float) and math.isnan(e) for e in v)}


def _class_weights(trainer, class_weight, num_classes):
    if class_weight is None:
        return
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise errors.InvalidArgumentError(
                "class_weight must be a dict, a list or \"balanced\", not %r" % class_weight,
                errors.INVALID_ARGUMENT)
        trainer.set(balanced_weights=1)
        return
    if isinstance(class_weight, dict):
        weights = [1.0] * num_classes
        for label, weight in class_weight.items():
            if not 0 <= int(label) < num_classes:
                raise errors.InvalidArgumentError(
                    "class_weight names class %r; the model has %d classes"
                    % (label, num_classes), errors.INVALID_ARGUMENT)
            weights[int(label)] = float(weight)
        class_weight = weights
    trainer.set_class_weights(class_weight)


def fit(model, x, y=None, epochs=10, batch_size=64, validation_data=None,
        validation_split=0.0, shuffle=True, seed=0, class_weight=None,
        label_smoothing=0.0, optimizer="adam", learning_rate=None, schedule=None,
        callbacks=(), augment=None, state_path=None, history_csv=None, threads=0,
        verbose=False):
    """Train ``model`` with the C training loop; returns the history dict of
    per-epoch lists (loss, accuracy, val_loss, val_accuracy, learning_rate).

    ``x``: a Dataset (its bytes are normalised with the model's
    preprocessing), uint8 images N x C x H x W with labels ``y``, or those
    images already normalised as floats (they must be exactly that: the
    loop trains from 8-bit pixels). ``validation_data``: a Dataset or an
    (x, y) pair; else ``validation_split`` holds out a seeded stratified
    fraction of ``x``. ``shuffle`` and ``seed`` fix the epoch order, the
    split and dropout. ``class_weight``: {class: weight}, a list, or
    "balanced" (n / (K n_c)). ``label_smoothing`` in [0, 1).
    ``optimizer``: a name or an ``Optimizer`` (``learning_rate`` sets its
    rate); ``schedule``: a ``Schedule`` stepped each epoch with the plateau
    monitor (validation loss, or training loss without validation).
    ``augment``: an ``Augment``. ``threads``: 0 keeps the library setting.

    ``callbacks``: callables ``f(epoch, logs)`` or objects with
    ``on_epoch_end(epoch, logs)`` (and optionally ``on_batch_end(batch,
    logs)``), called after each epoch with that epoch's metrics; returning
    True or raising ``StopTraining`` stops training after it. Any other
    exception stops training and is re-raised here. The built-ins
    ``ReduceLROnPlateau``, ``EarlyStopping``, ``ModelCheckpoint`` and
    ``CSVLogger`` configure the C loop instead of running Python code.

    ``state_path``: the training state is written there after every epoch;
    when the file exists, fit resumes after its last epoch (with the same
    data, settings and thread count the result equals an uninterrupted
    run). ``history_csv``: the per-epoch CSV. The returned history covers
    all epochs, those of a resumed state included.
    """
    train = _as_training_set(model, x, y, "x")
    validation = None
    if validation_data is not None:
        if isinstance(validation_data, Dataset):
            validation = validation_data
        else:
            vx, vy = validation_data
            validation = _as_training_set(model, vx, vy, "validation_data")
    if isinstance(optimizer, str):
        optimizer = Optimizer(optimizer)
    if learning_rate is not None:
        optimizer.set(learning_rate=learning_rate)
    if isinstance(schedule, str):
        schedule = Schedule(schedule)
    if callable(callbacks) or hasattr(callbacks, "on_epoch_end") or hasattr(callbacks,
                                                                            "configure"):
        callbacks = [callbacks]
    callbacks = list(callbacks)
    built_in = [cb for cb in callbacks if hasattr(cb, "configure")]
    python_callbacks = [cb for cb in callbacks if not hasattr(cb, "configure")]
    with Trainer(epochs=epochs, batch_size=batch_size, shuffle=int(bool(shuffle)),
                 seed=seed, threads=threads, validation_fraction=validation_split,
                 label_smoothing=label_smoothing) as trainer:
        _class_weights(trainer, class_weight, model.output_size)
        trainer.set_optimizer(optimizer).set_schedule(schedule).set_augment(augment)
        for cb in built_in:
            cb.configure(trainer)
        if state_path is not None:
            trainer.set_path("state", state_path)
        if history_csv is not None:
            trainer.set_path("history", history_csv)
        has_validation = validation is not None or validation_split > 0
        bridge = _Bridge(python_callbacks, verbose, has_validation)
        trainer.set_callback(bridge.c_function)
        try:
            trainer.fit(model, train, validation)
        except errors.CancelledError:
            if bridge.error is None and not bridge.stop_requested:
                raise
        if bridge.error is not None:
            error, bridge.error = bridge.error, None
            raise error
        return _history(trainer)
