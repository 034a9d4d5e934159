"""fit on the C training loop (fer/train.h): Python callbacks through the C
callback, stop requests, exceptions, resume from a state file against an
uninterrupted run, the built-in callbacks, class weights and the trainer's
own handle."""
import csv
import math

import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")


def blobs(n=240, seed=0):
    """Three classes of 6x6 images: a bright square in one of three places."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    x = rng.integers(0, 50, (n, 1, 6, 6)).astype(np.uint8)
    for label, (r, c) in enumerate([(0, 0), (0, 3), (3, 1)]):
        x[y == label, 0, r:r + 3, c:c + 3] += 170
    return x, y


def small_net(seed=3, dropout=False):
    m = libfer.Model((1, 6, 6))
    m.add_conv(4, 3).add_relu().add_max_pool(2).add_flatten()
    if dropout:
        m.add_dropout(0.3)
    m.add_dense(3).add_softmax()
    m.init_weights(seed=seed)
    m.class_names = ["a", "b", "c"]
    return m


def test_fit_reaches_high_accuracy_on_a_separable_problem():
    x, y = blobs()
    vx, vy = blobs(90, seed=1)
    m = small_net()
    assert m.evaluate(vx.astype(np.float32) / np.float32(255), vy)["accuracy"] < 0.6
    history = m.fit(x, y, epochs=8, batch_size=16, validation_data=(vx, vy),
                    learning_rate=0.02, seed=1)
    assert len(history["loss"]) == 8
    assert history["val_accuracy"][-1] >= 0.95
    predicted = m.predict(vx.astype(np.float32) / np.float32(255))
    assert (np.asarray(predicted) == vy).mean() >= 0.95


def test_callback_gets_each_epoch_metrics_and_stops_at_epoch_k():
    x, y = blobs()
    m = small_net()
    seen, batches = [], []

    class Recorder:
        def on_epoch_end(self, epoch, logs):
            seen.append(dict(logs))
            return epoch == 2  # stop after the third epoch

        def on_batch_end(self, batch, logs):
            batches.append((logs["epoch"], batch, logs["images"]))

    history = m.fit(x, y, epochs=10, batch_size=60, validation_split=0.25, callbacks=Recorder())
    assert [logs["epoch"] for logs in seen] == [0, 1, 2]
    assert len(history["loss"]) == 3
    for epoch, logs in enumerate(seen):
        assert set(logs) >= {"loss", "accuracy", "val_loss", "val_accuracy", "learning_rate",
                             "seconds", "images"}
        assert logs["loss"] == history["loss"][epoch]
        assert logs["val_accuracy"] == history["val_accuracy"][epoch]
        assert 0 <= logs["accuracy"] <= 1
    # 240 images, a quarter held out: 180 train in batches of 60.
    assert [b for e, b, _ in batches if e == 0] == [1, 2, 3]
    assert [n for e, _, n in batches if e == 0] == [60, 120, 180]
    assert seen[0]["images"] == 180


def test_an_exception_in_a_callback_stops_fit_and_propagates():
    x, y = blobs(60)
    m = small_net()
    calls = []

    class Boom(RuntimeError):
        pass

    def explode(epoch, logs):
        calls.append(epoch)
        if epoch == 1:
            raise Boom("callback failed at epoch %d" % epoch)

    with pytest.raises(Boom, match="epoch 1"):
        m.fit(x, y, epochs=5, batch_size=30, callbacks=[explode])
    assert calls == [0, 1]

    def explode_in_batch(batch, logs):
        raise KeyError("batch hook")

    class BatchBoom:
        def on_epoch_end(self, epoch, logs):
            return False
        on_batch_end = staticmethod(explode_in_batch)

    with pytest.raises(KeyError, match="batch hook"):
        m.fit(x, y, epochs=5, batch_size=30, callbacks=[BatchBoom()])
    # The model is still usable afterwards.
    assert m.fit(x, y, epochs=1, batch_size=30)["loss"]


def resumable_fit(state_path, stop_after=None, epochs=5):
    x, y = blobs(120)
    m = small_net(dropout=True)
    opt = libfer.Optimizer("adam", learning_rate=0.01)
    aug = libfer.Augment(seed=4, flip_prob=0.5)

    def stop(epoch, logs):
        return stop_after is not None and epoch + 1 == stop_after

    history = m.fit(x, y, epochs=epochs, batch_size=32, seed=11, threads=1, optimizer=opt,
                    augment=aug, validation_split=0.2, state_path=state_path, callbacks=stop)
    return m, history


def weights(model):
    return [model.get_tensor(i, which) for i, (kind, _) in enumerate(model.layers)
            if kind in ("conv", "dense") for which in ("weight", "bias")]


def test_resume_from_a_state_file_equals_an_uninterrupted_run(tmp_path):
    straight, straight_history = resumable_fit(None)
    state = tmp_path / "run.state"
    interrupted, history = resumable_fit(str(state), stop_after=2)
    assert len(history["loss"]) == 2 and state.exists()
    assert any(not np.array_equal(a, b) for a, b in zip(weights(interrupted),
                                                        weights(straight)))
    # A fresh model and optimizer: everything comes from the state file.
    resumed, resumed_history = resumable_fit(str(state))
    for a, b in zip(weights(resumed), weights(straight)):
        np.testing.assert_array_equal(a, b)
    assert resumed_history["loss"] == straight_history["loss"]
    assert resumed_history["val_accuracy"] == straight_history["val_accuracy"]

    libfer.validate_train_state(str(state))
    data = state.read_bytes()
    libfer.validate_train_state(data)
    broken = bytearray(data)
    broken[len(broken) // 2] ^= 0x40
    with pytest.raises(errors.LibferError):
        libfer.validate_train_state(bytes(broken))
    with pytest.raises(errors.LibferError):
        libfer.validate_train_state(data[:len(data) // 3])
    assert isinstance(libfer.train_state_version(), int) and libfer.train_state_version() > 0


def test_early_stopping_restores_the_best_epoch_and_checkpoint_keeps_it(tmp_path):
    x, y = blobs(150)
    vx, vy = blobs(40, seed=5)
    args = dict(batch_size=25, validation_data=(vx, vy), learning_rate=0.03, seed=2, threads=1)
    m = small_net()
    checkpoint = tmp_path / "best.fermodel"
    csv_path = tmp_path / "history.csv"
    history = m.fit(x, y, epochs=30, callbacks=[
        libfer.EarlyStopping(monitor="val_accuracy", patience=2, restore_best_weights=True),
        libfer.ModelCheckpoint(str(checkpoint), monitor="val_accuracy"),
        libfer.CSVLogger(str(csv_path))], **args)
    acc = history["val_accuracy"]
    best = acc.index(max(acc)) + 1  # first epoch reaching the best value, 1-based
    assert len(acc) == best + 2 < 30
    # The restored weights are those of a run stopped at the best epoch.
    reference = small_net()
    reference.fit(x, y, epochs=best, **args)
    for a, b in zip(weights(m), weights(reference)):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(weights(libfer.Model.load(str(checkpoint))), weights(reference)):
        np.testing.assert_array_equal(a, b)
    with open(csv_path) as f:
        rows = list(csv.DictReader(f))
    assert [int(r["epoch"]) for r in rows] == list(range(1, len(acc) + 1))
    assert [float(r["val_acc"]) for r in rows] == pytest.approx(acc, abs=1e-8)


def test_reduce_lr_on_plateau_follows_the_keras_rule():
    x, y = blobs(60)
    m = small_net()
    # A tiny rate leaves the loss flat (changes far below min_delta), so the
    # rate is cut every `patience` epochs after the first.
    history = m.fit(x, y, epochs=6, batch_size=30, optimizer=libfer.Optimizer("sgd"),
                    learning_rate=1e-9, callbacks=[libfer.ReduceLROnPlateau(
                        monitor="loss", factor=0.5, patience=2, min_lr=2e-10)])
    expected, lr, wait, best = [], 1e-9, 0, math.inf
    for loss in history["loss"]:
        expected.append(lr)
        if loss < best - 1e-4:
            best, wait = loss, 0
            continue
        wait += 1
        if wait >= 2:
            wait = 0
            lr = max(lr * 0.5, 2e-10) if lr > 2e-10 else lr
    assert history["learning_rate"] == pytest.approx(expected, rel=1e-6)
    assert history["learning_rate"][-1] < 1e-9


def test_balanced_class_weights_match_the_formula_and_reach_the_loss():
    x, y = blobs(90)
    keep = (y != 2) | (np.arange(len(y)) % 3 == 0)  # make class 2 rare
    x, y = x[keep], y[keep]
    ds = libfer.Dataset.from_arrays(x, y, class_names=["a", "b", "c"])
    counts = np.bincount(y, minlength=3)
    expected = len(y) / (3 * counts)
    np.testing.assert_allclose(libfer.balanced_class_weights(ds), expected, rtol=1e-6)

    def one_epoch(**kwargs):
        m = small_net()
        return m.fit(ds, epochs=1, batch_size=len(y), shuffle=False,
                     optimizer=libfer.Optimizer("sgd", learning_rate=0.1), **kwargs), m

    by_name, m1 = one_epoch(class_weight="balanced")
    by_dict, m2 = one_epoch(class_weight=dict(enumerate(expected.tolist())))
    plain, _ = one_epoch()
    assert by_name["loss"] == pytest.approx(by_dict["loss"], rel=1e-6)
    for a, b in zip(weights(m1), weights(m2)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)
    assert by_name["loss"] != pytest.approx(plain["loss"], rel=1e-4)
    with pytest.raises(errors.InvalidArgumentError):
        small_net().fit(ds, epochs=1, class_weight="heavy")
    with pytest.raises(errors.InvalidArgumentError):
        small_net().fit(ds, epochs=1, class_weight={7: 2.0})


def test_fit_refuses_floats_that_are_not_pixels():
    x, y = blobs(30)
    m = small_net()
    with pytest.raises(errors.InvalidArgumentError, match="8-bit"):
        m.fit(x.astype(np.float32) / 255 + 0.001, y, epochs=1)
    with pytest.raises(errors.LibferError):
        m.fit(x, y[:10], epochs=1)


def test_trainer_handle_settings_and_history():
    params = libfer.Trainer.params()
    assert params["epochs"][0] == 30 and params["batch_size"][0] == 64
    with libfer.Trainer(epochs=2, batch_size=20) as tr:
        assert tr["epochs"] == 2
        with pytest.raises(errors.NotFoundError):
            tr.set(speed=1)
        with pytest.raises(errors.InvalidArgumentError):
            tr.set(epochs=1.5)
        with pytest.raises(errors.NotFoundError):
            tr.set_path("log", "x")
        assert tr.best_epoch()[0] == 0 and tr.history() == []
        x, y = blobs(60)
        ds = libfer.Dataset.from_arrays(x, y, class_names=["a", "b", "c"])
        tr.set_class_weights([1, 1, 1]).set_class_weights(None)
        m = small_net()
        tr.fit(m, ds, ds)
        rows = tr.history()
        assert len(rows) == 2 and rows[1]["images"] == 60
        best_epoch, best = tr.best_epoch()
        accs = [r["val_accuracy"] for r in rows]
        assert best_epoch == accs.index(max(accs)) + 1 and best == max(accs)
        with pytest.raises(errors.InvalidArgumentError) as info:
            tr.fit(libfer.Model((1, 5, 5)).add_flatten().add_dense(3), ds)
        assert info.value.status == errors.SHAPE


def test_data_parallel_allreduce_is_called_and_alone_follows_the_plain_fit():
    """One process with an all-reduce (the sum over one process leaves the
    arrays as they are): the fit calls it with the weighted gradient and
    the batch's sums at every step and follows the plain fit; an exception
    in it cancels the fit."""
    x, y = blobs(60)
    ds = libfer.Dataset.from_arrays(x, y, class_names=["a", "b", "c"])
    plain = small_net()
    with libfer.Trainer(epochs=2, batch_size=20, shuffle=0) as tr:
        tr.fit(plain, ds)
    calls = []

    def alone(floats, doubles):
        calls.append((floats.dtype, doubles.dtype, floats.size, doubles.size))
    shared = small_net()
    with libfer.Trainer(epochs=2, batch_size=20, shuffle=0, shard_count=1) as tr:
        tr.set_allreduce(alone)
        tr.fit(shared, ds)
        assert tr.history()[-1]["images"] == 60
    n_params = plain.get_flat().size
    steps = [c for c in calls if c[2] == n_params and c[3] == 4]
    assert len(steps) == 6 and steps[0][:2] == (np.float32, np.float64)
    np.testing.assert_allclose(shared.get_flat(), plain.get_flat(), rtol=1e-5, atol=1e-6)

    def broken(floats, doubles):
        raise RuntimeError("network down")
    with libfer.Trainer(epochs=1, batch_size=20) as tr:
        tr.set_allreduce(broken)
        with pytest.raises(errors.CancelledError):
            tr.fit(small_net(), ds)
        tr.set_allreduce(None)
        tr.fit(small_net(), ds)
