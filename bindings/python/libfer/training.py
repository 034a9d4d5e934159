"""The training loop from Python: ``fit`` and ``evaluate``.

Until the C training loop (fer/train.h) lands, ``fit`` drives
``fer_model_train_step`` over batches made by ``fer_dataset_make_batch``:
the same order (``fer_epoch_order``) and augmentation draws the C loop uses.
"""

import math

from . import _buffers, errors
from .dataset import Dataset, epoch_order
from .optim import Optimizer, Schedule


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
                                  augment=augment, preprocessing=model.preprocessing)
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


def fit(model, x, y=None, epochs=10, batch_size=64, validation_data=None,
        callbacks=(), optimizer="adam", learning_rate=None, schedule=None,
        augment=None, shuffle=True, seed=0, verbose=False):
    """Train ``model`` and return the history dict of per-epoch lists
    (loss, accuracy, val_loss, val_accuracy, learning_rate).

    ``x``: a Dataset (its bytes are normalised with the model's
    preprocessing), or normalised floats N x C x H x W with labels ``y``.
    ``validation_data``: a Dataset or an (x, y) pair. ``callbacks``: callables
    ``f(epoch, logs)`` (or objects with ``on_epoch_end(epoch, logs)``) run
    after each epoch with that epoch's metrics; returning True or raising
    ``StopTraining`` stops. ``optimizer``: a name or an ``Optimizer``;
    ``schedule``: a ``Schedule`` stepped each epoch with the validation loss
    (or training loss). ``augment``: an ``Augment`` for Dataset inputs.
    """
    source = _as_dataset(x, y, model)
    val = None
    if validation_data is not None:
        val = validation_data if isinstance(validation_data, Dataset) else tuple(validation_data)
    if isinstance(optimizer, str):
        optimizer = Optimizer(optimizer)
    if learning_rate is not None:
        optimizer.set(learning_rate=learning_rate)
    if isinstance(schedule, str):
        schedule = Schedule(schedule)
    if callable(callbacks) or hasattr(callbacks, "on_epoch_end"):
        callbacks = [callbacks]
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": [],
               "learning_rate": []}
    for epoch in range(epochs):
        lr = optimizer.learning_rate
        total_loss = total_correct = 0.0
        count = 0
        for xb, yb in _batches(source, model, batch_size, shuffle, seed, epoch, augment):
            loss, acc = model.train_step(optimizer, xb, yb)
            n = len(yb)
            total_loss += loss * n
            total_correct += acc * n
            count += n
        logs = {"epoch": epoch, "loss": total_loss / max(count, 1),
                "accuracy": total_correct / max(count, 1), "learning_rate": lr}
        if val is not None:
            result = evaluate(model, val, None, batch_size) if isinstance(val, Dataset) \
                else evaluate(model, val[0], val[1], batch_size)
            logs["val_loss"] = result["loss"]
            logs["val_accuracy"] = result["accuracy"]
        for key in history:
            if key in logs:
                history[key].append(logs[key])
        if verbose:
            print("epoch %d: " % (epoch + 1) + ", ".join(
                "%s %.4f" % (k, v) for k, v in logs.items() if k != "epoch"))
        if schedule is not None:
            schedule.step(optimizer, logs.get("val_loss", logs["loss"]))
        stop = False
        for cb in callbacks:
            stop = _call(cb, epoch, logs) or stop
        if stop:
            break
    return {k: v for k, v in history.items() if v}
