"""Soft targets through the binding: Model.train_step_soft /
compute_gradients_soft against the integer path fed smoothed one-hot
targets, bad targets refused, and the trainer's mixup and distillation
settings (Trainer.set_teacher): a student distilled with weight 1 moves
toward its teacher."""
import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")

from test_fit_trainer import blobs  # noqa: E402  (three classes of 6x6 images)


def net(seed=3, width=4):
    m = libfer.Model((1, 6, 6))
    m.add_conv(width, 3).add_tanh().add_flatten().add_dense(3).add_softmax()
    m.init_weights(seed=seed)
    return m


def test_soft_step_with_smoothed_one_hot_is_the_integer_step():
    x, y = blobs(16)
    x = x.astype(np.float32) / np.float32(255)
    s, w = 0.1, np.array([0.5, 2.0, 1.0], dtype=np.float32)
    targets = ((1 - s) * np.eye(3)[y] + s / 3).astype(np.float32)
    hard, soft = net(), net()
    hard.set_label_smoothing(s)
    hard.set_class_weights(w)
    lh, ah, wh = hard.compute_gradients(x, y)
    ls, as_, ws = soft.compute_gradients_soft(x, targets, w[y])
    assert ls == pytest.approx(lh, rel=1e-6) and as_ == ah
    assert ws == pytest.approx(wh, rel=1e-6) and wh == pytest.approx(w[y].sum())
    gh, gs = hard.get_flat("gradients"), soft.get_flat("gradients")
    assert np.abs(gh - gs).max() <= 1e-5 * np.abs(gh).max()
    # Unsmoothed targets are another loss: the comparison can fail.
    lo, _, _ = soft.compute_gradients_soft(x, np.eye(3, dtype=np.float32)[y], w[y])
    assert abs(lo - lh) > 1e-3
    opt = libfer.Optimizer("sgd", learning_rate=0.1)
    loss, acc = soft.train_step_soft(opt, x, targets)
    assert np.isfinite(loss) and 0 <= acc <= 1


def test_bad_soft_targets_are_refused():
    x, y = blobs(4)
    x = x.astype(np.float32) / np.float32(255)
    m = net()
    t = np.full((4, 3), 1 / 3, dtype=np.float32)
    t[2, 0] = 0.5
    with pytest.raises(errors.InvalidArgumentError) as info:
        m.compute_gradients_soft(x, t)
    assert "image 2" in str(info.value)
    with pytest.raises(errors.LibferError) as info:
        m.compute_gradients_soft(x, np.full((4, 2), 0.5, dtype=np.float32))
    assert info.value.status == errors.SHAPE
    with pytest.raises(errors.InvalidArgumentError):
        m.compute_gradients_soft(x, np.full((4, 3), 1 / 3, dtype=np.float32), [1, 1, -1, 1])


def cross_entropy(teacher, student, x):
    p, q = np.asarray(teacher.predict_proba(x)), np.asarray(student.predict_proba(x))
    return float(-(p * np.log(q)).sum(axis=1).mean())


def test_trainer_distils_toward_its_teacher_with_mixup():
    x, y = blobs()
    ds = libfer.Dataset.from_arrays(x, y, class_names=["a", "b", "c"])
    xf = x.astype(np.float32) / np.float32(255)
    teacher, student = net(seed=29, width=6), net(seed=5)
    floor = cross_entropy(teacher, teacher, xf)
    before = cross_entropy(teacher, student, xf) - floor
    with libfer.Trainer(epochs=15, batch_size=16, seed=1, mixup=0.2, distill_weight=1.0,
                        distill_temperature=1.0) as tr:
        assert tr["mixup"] == pytest.approx(0.2)
        with pytest.raises(errors.InvalidArgumentError):
            tr.set(distill_temperature=0)
        tr.set_optimizer(libfer.Optimizer("sgd", learning_rate=0.1))
        tr.set_teacher(teacher)
        tr.fit(student, ds)
        tr.set_teacher(None)
    after = cross_entropy(teacher, student, xf) - floor
    assert after < 0.5 * before, (before, after)


def test_trainer_refuses_a_teacher_of_another_shape():
    x, y = blobs(30)
    ds = libfer.Dataset.from_arrays(x, y, class_names=["a", "b", "c"])
    other = libfer.Model((1, 6, 6)).add_flatten().add_dense(4).add_softmax()
    other.init_weights(seed=1)
    with libfer.Trainer(epochs=1) as tr:
        tr.set_teacher(other)
        with pytest.raises(errors.LibferError) as info:
            tr.fit(net(), ds)
        assert info.value.status == errors.SHAPE
