"""Training from Python: one step against hand-derived gradients, fit(),
callbacks, schedules, evaluate."""
import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")


def linear_model(seed=0):
    m = libfer.Model((4, 1, 1)).add_flatten().add_dense(3)
    rng = np.random.default_rng(seed)
    w, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    m.set_tensor(1, w)
    m.set_tensor(1, b, "bias")
    return m, w, b


def test_split_batch_gradients_through_the_flat_api():
    """Two halves' gradients (against numpy's softmax regression gradient),
    combined by their weights and applied, give the full batch's SGD step."""
    assert libfer.flat_layout_version() == 1
    rng = np.random.default_rng(4)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0, 2, 2, 1])
    full, w, b = linear_model(3)
    split, _, _ = linear_model(3)
    # flat parameters: the dense weight [3][4] then its bias
    np.testing.assert_array_equal(split.get_flat(), np.concatenate([w.ravel(), b]).astype(np.float32))
    assert split.get_flat("statistics").size == 0
    grads, weights = [], []
    for half in (slice(0, 4), slice(4, 8)):
        loss, acc, weight = split.compute_gradients(x[half].reshape(4, 4, 1, 1), y[half])
        logits = x[half].astype(np.float64) @ w.T + b
        p = np.exp(logits - logits.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        delta = (p - np.eye(3)[y[half]]) / 4
        g = split.get_flat("gradients")
        np.testing.assert_allclose(g, np.concatenate([(delta.T @ x[half]).ravel(), delta.sum(axis=0)]),
                                   rtol=1e-5, atol=1e-6)
        grads.append(g)
        weights.append(weight)
    assert weights == [4.0, 4.0]
    split.set_flat((grads[0] * weights[0] + grads[1] * weights[1]) / sum(weights), "gradients")
    split.apply_gradients(libfer.Optimizer("sgd", learning_rate=0.1))
    full.train_step(libfer.Optimizer("sgd", learning_rate=0.1), x.reshape(8, 4, 1, 1), y)
    np.testing.assert_allclose(split.get_flat(), full.get_flat(), rtol=1e-6, atol=1e-7)
    with pytest.raises(errors.MisuseError):
        split.apply_gradients(libfer.Optimizer("sgd"))  # used up
    split.set_flat(full.get_flat())
    np.testing.assert_array_equal(split.get_flat(), full.get_flat())
    with pytest.raises(errors.InvalidArgumentError):
        split.set_flat(np.zeros(3, np.float32), "statistics")
    with pytest.raises(errors.InvalidArgumentError):
        split.get_flat("moments")


def test_sgd_step_matches_softmax_cross_entropy_gradient():
    m, w, b = linear_model()
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    y = np.array([0, 2, 1, 1, 0])
    logits = x.astype(np.float64) @ w.T + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    expect_loss = -np.log(p[np.arange(5), y]).mean()
    delta = (p - np.eye(3)[y]) / 5  # d mean loss / d logits
    opt = libfer.Optimizer("sgd", learning_rate=0.1)
    loss, acc = m.train_step(opt, x.reshape(5, 4, 1, 1), y)
    assert loss == pytest.approx(expect_loss, rel=1e-5)
    assert acc == pytest.approx((logits.argmax(axis=1) == y).mean())
    np.testing.assert_allclose(m.get_tensor(1).reshape(3, 4), w - 0.1 * delta.T @ x,
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(m.get_tensor(1, "bias"), b - 0.1 * delta.sum(axis=0),
                               rtol=1e-5, atol=1e-6)
    assert opt.steps == 1
    m.training = False
    l2, a2 = m.evaluate_batch(x.reshape(5, 4, 1, 1), y)
    assert l2 < loss
    assert m.forward(x.reshape(5, 4, 1, 1)).shape == (5, 3)


def test_optimizer_and_schedule_parameters():
    opt = libfer.Optimizer("adamw", learning_rate=0.01)
    assert opt.learning_rate == pytest.approx(0.01)
    assert opt["weight_decay"] == pytest.approx(0.01)
    opt["beta1"] = 0.8
    assert opt.get("beta1") == pytest.approx(0.8)
    assert set(libfer.Optimizer.params()) >= {"learning_rate", "momentum", "clip_norm"}
    with pytest.raises(errors.InvalidArgumentError) as info:
        opt.set(learning_rate=-1)
    assert info.value.status == errors.INVALID_ARGUMENT
    with pytest.raises(errors.NotFoundError):
        opt.set(speed=3)
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Optimizer("rmsprop")
    sched = libfer.Schedule("step", step_size=1, gamma=0.5)
    assert sched["gamma"] == 0.5
    sched.step(opt)
    assert opt.learning_rate == pytest.approx(0.005)
    sched.step(opt)
    assert opt.learning_rate == pytest.approx(0.0025)
    cosine = libfer.Schedule("cosine", t_max=2, min_lr=0)
    sgd = libfer.Optimizer("sgd", learning_rate=1.0)
    cosine.step(sgd)
    assert sgd.learning_rate == pytest.approx(0.5)
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Schedule("exponential")
    assert "patience" in libfer.Schedule.params()


def toy_data(n=64, seed=2):
    """Class 0: bright top row; class 1: bright bottom row (2 x 2 images)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = rng.integers(0, 60, (n, 1, 2, 2)).astype(np.uint8)
    x[y == 0, 0, 0, :] += 180
    x[y == 1, 0, 1, :] += 180
    return x, y


def toy_model():
    m = libfer.Model((1, 2, 2)).add_flatten().add_dense(2).add_softmax()
    m.init_weights(seed=4)
    m.class_names = ["top", "bottom"]
    return m


def test_fit_learns_and_callbacks_see_every_epoch():
    x, y = toy_data()
    vx, vy = toy_data(32, seed=3)
    m = toy_model()
    seen = []
    history = m.fit(x / np.float32(255), y, epochs=15, batch_size=16,
                    validation_data=(vx / np.float32(255), vy),
                    callbacks=[lambda epoch, logs: seen.append((epoch, dict(logs)))],
                    optimizer="adam", learning_rate=0.05, seed=1)
    assert [e for e, _ in seen] == list(range(15))
    assert len(history["loss"]) == 15 and len(history["val_accuracy"]) == 15
    assert history["loss"][-1] < history["loss"][0]
    assert history["val_accuracy"][-1] == 1.0
    assert seen[3][1]["loss"] == history["loss"][3]
    result = m.evaluate(vx / np.float32(255), vy)
    assert result["accuracy"] == 1.0 and result["count"] == 32
    assert result["loss"] == pytest.approx(history["val_loss"][-1], rel=1e-5)
    assert list(m.predict(vx / np.float32(255))) == list(vy)


def test_fit_stops_on_request():
    x, y = toy_data()
    m = toy_model()

    class StopAfterTwo:
        def on_epoch_end(self, epoch, logs):
            return epoch == 1

    history = m.fit(x / np.float32(255), y, epochs=10, callbacks=[StopAfterTwo()])
    assert len(history["loss"]) == 2

    def raise_stop(epoch, logs):
        raise libfer.StopTraining()

    assert len(m.fit(x / np.float32(255), y, epochs=10, callbacks=raise_stop)["loss"]) == 1


def test_fit_on_dataset_equals_fit_on_arrays():
    """A Dataset goes through the model's preprocessing and the same epoch
    order as float arrays: the two runs end with the same weights."""
    x, y = toy_data()
    ds = libfer.Dataset.from_arrays(x, y, class_names=["top", "bottom"])
    a, b = toy_model(), toy_model()
    ha = a.fit(ds, epochs=3, batch_size=10, optimizer=libfer.Optimizer("sgd", learning_rate=0.1),
               seed=7, validation_data=ds)
    hb = b.fit(x.astype(np.float32) / np.float32(255), y, epochs=3, batch_size=10,
               optimizer=libfer.Optimizer("sgd", learning_rate=0.1), seed=7)
    np.testing.assert_allclose(a.get_tensor(1), b.get_tensor(1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ha["loss"], hb["loss"], rtol=1e-5)
    assert a.evaluate(ds)["accuracy"] == pytest.approx(ha["val_accuracy"][-1])
    probs = a.predict_proba(ds)
    assert probs.shape == (len(ds), 2)
    np.testing.assert_allclose(probs, a.predict_proba(x / np.float32(255)), rtol=1e-5)
    svg = libfer.training_curves_svg(ha, title="toy")
    assert "toy" in svg


def test_fit_with_schedule_augment_and_loss_options():
    x, y = toy_data()
    ds = libfer.Dataset.from_arrays(x, y)
    m = toy_model()
    opt = libfer.Optimizer("sgd", learning_rate=0.2, momentum=0.9)
    sched = libfer.Schedule("step", step_size=1, gamma=0.5)
    history = m.fit(ds, epochs=3, optimizer=opt, schedule=sched, seed=3,
                    label_smoothing=0.1, class_weight={0: 1.0, 1: 2.0},
                    augment=libfer.Augment(seed=2, flip_prob=0.5))
    assert history["learning_rate"] == pytest.approx([0.2, 0.1, 0.05])
    m.set_label_smoothing(0.1).set_class_weights([1.0, 2.0]).set_seed(3)
    m.set_class_weights(None)
    with pytest.raises(errors.InvalidArgumentError):
        m.set_label_smoothing(1.5)
    with pytest.raises(errors.InvalidArgumentError):
        m.fit(x / np.float32(255), None)
    with pytest.raises(errors.InvalidArgumentError):
        m.train_step(opt, x / np.float32(255), y[:3])
    bad = y.copy()
    bad[0] = 5
    with pytest.raises(errors.InvalidArgumentError):
        m.train_step(opt, x / np.float32(255), bad)
