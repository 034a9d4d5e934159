"""Data sets, augmentation, metrics and charts against numpy/PIL references."""
import json

import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")

NAMES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def csv_text(rows):
    """A FER2013 CSV written here (not by libfer): rows of (label, pixels, usage)."""
    lines = ["emotion,pixels,Usage"]
    for label, pixels, usage in rows:
        lines.append("%d,%s,%s" % (label, " ".join(map(str, pixels.ravel())), usage))
    return "\n".join(lines) + "\n"


def random_rows(n, seed=0):
    rng = np.random.default_rng(seed)
    return [(int(rng.integers(0, 7)), rng.integers(0, 256, (48, 48), dtype=np.uint8),
             "Training" if i % 3 else "PublicTest") for i in range(n)]


def test_fer2013_csv_parse_and_file(tmp_path):
    rows = random_rows(9)
    text = csv_text(rows)
    train = libfer.Dataset.parse_fer2013_csv(text, usage="Training")
    kept = [r for r in rows if r[2] == "Training"]
    assert len(train) == len(kept) and train.shape == (1, 48, 48)
    assert train.class_names == NAMES == libfer.fer2013_class_names()
    assert train.labels == [r[0] for r in kept]
    for i, (label, pixels, _) in enumerate(kept):
        assert train.pixels(i) == pixels.tobytes()
        assert train[i] == (pixels.tobytes(), label)
    np.testing.assert_allclose(train.sample(0, scale=1 / 255),
                               kept[0][1].reshape(1, 48, 48) / 255, rtol=1e-6)
    path = tmp_path / "f.csv"
    path.write_text(text)
    everything = libfer.Dataset.from_fer2013_csv(str(path), usage="all")
    assert len(everything) == 9
    public = libfer.Dataset.from_fer2013_csv(str(path), usage="PublicTest")
    assert len(public) == 3
    counts = everything.class_counts()
    for k, name in enumerate(NAMES):
        assert counts[name] == sum(1 for r in rows if r[0] == k)
    with pytest.raises(IndexError):
        train.pixels(len(train))


def test_csv_errors(tmp_path):
    with pytest.raises(errors.LibferIOError) as info:
        libfer.Dataset.from_fer2013_csv(str(tmp_path / "none.csv"))
    assert "none.csv" in str(info.value)
    bad = "emotion,pixels,Usage\n3,1 2 3,Training\n"
    with pytest.raises(errors.FileFormatError) as info:
        libfer.Dataset.parse_fer2013_csv(bad)
    assert ":2" in str(info.value)
    ok = csv_text(random_rows(2))
    skipped = libfer.Dataset.parse_fer2013_csv(ok + "3,1 2 3,Training\n", skip_bad=True)
    assert len(skipped) == 2 and skipped.skipped == 1
    with pytest.raises(errors.NotFoundError):
        libfer.Dataset.parse_fer2013_csv("emotion,Usage\n1,Training\n")
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Dataset.parse_fer2013_csv(ok, usage="Sometimes")


def test_from_folder_maps_by_name(tmp_path):
    PIL = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(4)
    expect = {}
    for cls in ("happy", "sad"):
        (tmp_path / cls).mkdir()
        for j in range(2):
            pixels = rng.integers(0, 256, (48, 48), dtype=np.uint8)
            PIL.fromarray(pixels).save(str(tmp_path / cls / ("%d.png" % j)))
            expect[(cls, j)] = pixels
    ds = libfer.Dataset.from_folder(str(tmp_path), class_names=NAMES)
    assert len(ds) == 4 and ds.class_names == NAMES
    assert ds.labels == [3, 3, 4, 4]  # happy then sad, by name, not position
    assert ds.pixels(2) == expect[("sad", 0)].tobytes()
    own = libfer.Dataset.from_folder(str(tmp_path))
    assert own.class_names == ["happy", "sad"] and own.labels == [0, 0, 1, 1]
    small = libfer.Dataset.from_folder(str(tmp_path), size=(24, 24), channels=3)
    assert small.shape == (3, 24, 24)
    ref = expect[("happy", 0)].astype(np.float64).reshape(24, 2, 24, 2).mean(axis=(1, 3))
    got = np.frombuffer(small.pixels(0), dtype=np.uint8).reshape(3, 24, 24)
    assert np.abs(got[0].astype(int) - ref).max() <= 1
    (tmp_path / "unknown").mkdir()
    with pytest.raises(errors.NotFoundError) as info:
        libfer.Dataset.from_folder(str(tmp_path), class_names=NAMES)
    assert "unknown" in str(info.value)
    skipping = libfer.Dataset.from_folder(str(tmp_path), class_names=NAMES,
                                          skip_unknown_classes=True)
    assert skipping.skipped_folders == 1


def test_arrays_split_subset_concat_batches():
    rng = np.random.default_rng(5)
    x = rng.integers(0, 256, (20, 1, 4, 5), dtype=np.uint8)
    y = np.arange(20) % 4
    ds = libfer.Dataset.from_arrays(x, y, class_names=["a", "b", "c", "d"])
    assert len(ds) == 20 and ds.shape == (1, 4, 5) and ds.labels == y.tolist()
    floats = libfer.Dataset.from_arrays(x[:, 0] / 255.0, list(y))  # N x H x W floats
    assert floats.pixels(7) == x[7].tobytes() and floats.class_names == ["0", "1", "2", "3"]
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Dataset.from_arrays(x[:, 0] / 255.0 + 0.5, y)  # values past 255
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Dataset.from_arrays(x, y[:3])
    listed = libfer.Dataset.from_arrays(x[:2].tolist(), [0, 1], num_classes=4)
    assert listed.pixels(1) == x[1].tobytes()
    train, val = ds.split(0.4, seed=1, stratified=True)  # 2 of each class's 5
    assert len(val) == 8 and len(train) == 12
    assert sorted(val.labels) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert sorted(train.labels + val.labels) == sorted(y.tolist())
    sub = ds.subset([3, 3, 0])
    assert sub.labels == [3, 3, 0] and sub.pixels(2) == x[0].tobytes()
    with pytest.raises(errors.InvalidArgumentError):
        ds.subset([99])
    both = ds + sub
    assert len(both) == 23 and both.labels[20:] == [3, 3, 0]
    bx, by = ds.make_batch([4, 1], scale=0.5)
    np.testing.assert_allclose(bx, x[[4, 1]] * 0.5)
    assert by.tolist() == [0, 1]
    order = libfer.epoch_order(20, seed=3, epoch=2)
    assert sorted(order) == list(range(20)) and order == libfer.epoch_order(20, 3, 2)
    assert order != libfer.epoch_order(20, 3, 3)
    seen = []
    for xb, yb in ds.batches(batch_size=6, shuffle=True, seed=3, epoch=2,
                             preprocessing=(1 / 255, 0.5, 0.5)):
        seen.extend(yb.tolist())
        assert xb.dtype == np.float32
    assert seen == [int(y[i]) for i in order]
    all_x, all_y = ds.to_arrays()
    np.testing.assert_allclose(all_x, x / 255, rtol=1e-6)
    assert "20 samples" in repr(ds)


def test_augment_flip_against_numpy():
    rng = np.random.default_rng(6)
    img = rng.integers(0, 256, (1, 5, 7), dtype=np.uint8)
    aug = libfer.Augment(seed=1, flip_prob=1.0)
    assert aug.get("flip_prob") == 1.0
    out = aug.apply(img, (1, 5, 7), epoch=0, index=0, scale=1.0)
    np.testing.assert_array_equal(out, img[:, :, ::-1].astype(np.float32))
    # Nothing changes with every probability at 0.
    plain = libfer.Augment(seed=1)
    np.testing.assert_array_equal(plain.apply(img.tobytes(), (1, 5, 7)), img.astype(np.float32))
    ds = libfer.Dataset.from_arrays(img[None], [0])
    bx, _ = ds.make_batch([0], augment=aug, scale=1.0)
    np.testing.assert_array_equal(bx[0], img[:, :, ::-1])
    params = libfer.Augment.params()
    assert params["flip_prob"] == (0.0, 0.0, 1.0)
    with pytest.raises(errors.NotFoundError):
        aug.set(wobble=1)
    with pytest.raises(errors.InvalidArgumentError) as info:
        aug.set(flip_prob=2)
    assert "flip_prob" in str(info.value)


def test_metrics_against_numpy(tmp_path):
    rng = np.random.default_rng(7)
    probs = rng.random((50, 3)).astype(np.float32)
    probs /= probs.sum(axis=1, keepdims=True)
    labels = rng.integers(0, 3, 50)
    m = libfer.Metrics(["x", "y", "z"])
    m.add_probs(probs, labels)
    pred = probs.argmax(axis=1)
    assert m.count == 50 and m.class_names == ["x", "y", "z"]
    assert m.accuracy == pytest.approx((pred == labels).mean())
    expect_loss = -np.log(probs[np.arange(50), labels].astype(np.float64)).mean()
    assert m.loss == pytest.approx(expect_loss, rel=1e-5)
    confusion = np.zeros((3, 3), dtype=int)
    for t, p in zip(labels, pred):
        confusion[t, p] += 1
    assert m.confusion() == confusion.tolist()
    f1s = []
    for k in range(3):
        tp = confusion[k, k]
        precision = tp / confusion[:, k].sum()
        recall = tp / confusion[k].sum()
        f1s.append(2 * precision * recall / (precision + recall))
        stats = m.class_stats(k)
        assert stats["precision"] == pytest.approx(precision)
        assert stats["recall"] == pytest.approx(recall)
        assert stats["support"] == confusion[k].sum()
    assert m.class_stats("z") == m.class_stats(2)
    assert m.macro_f1 == pytest.approx(np.mean(f1s))
    report = json.loads(m.report("json"))
    assert report is not None
    assert "x" in m.report("text") and m.report("csv").count("\n") >= 4
    m.save(str(tmp_path / "r.csv"), "csv")
    assert (tmp_path / "r.csv").read_text() == m.report("csv")
    svg = m.confusion_svg(title="test")
    assert "<svg" in svg and "test" in svg
    m.reset()
    assert m.count == 0
    m.add_classes([0, 1, 2], [0, 1, 1])
    assert m.accuracy == pytest.approx(2 / 3)
    with pytest.raises(errors.InvalidArgumentError):
        m.add_classes([0], [5])
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Metrics(0)
    with pytest.raises(errors.InvalidArgumentError):
        m.report("yaml")


def test_training_curves_chart(tmp_path):
    history = {"loss": [1.0, 0.8, 0.7], "val_loss": [1.1, 0.9],
               "accuracy": [0.3, 0.5, 0.6]}
    svg = libfer.training_curves_svg(history, title="run 1")
    assert svg.lstrip().startswith("<") and "run 1" in svg
    path = tmp_path / "c.svg"
    libfer.save_svg(svg, str(path))
    assert path.read_text() == svg
    with pytest.raises(errors.InvalidArgumentError):
        libfer.training_curves_svg({})
    with pytest.raises(errors.LibferIOError):
        libfer.save_svg(svg, str(tmp_path / "no" / "such" / "dir.svg"))


def test_handle_closed():
    ds = libfer.Dataset.from_arrays(np.zeros((1, 2, 2), dtype=np.uint8), [0])
    ds.close()
    with pytest.raises(errors.MisuseError):
        len(ds)
