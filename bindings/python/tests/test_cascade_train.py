"""Cascade training from Python on a tiny synthetic problem (16x16 windows:
a bright disk against noise, stripes and bright squares), the OpenCV XML
writer, and OpenCV reading that XML back."""
import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")

WIN = 16


def positive(rng):
    """Noisy mid-grey with a bright disk of radius 4-5 near the centre."""
    cy, cx = 7 + rng.integers(-1, 2, 2)
    r2 = 16 + rng.integers(0, 10)
    yy, xx = np.mgrid[0:WIN, 0:WIN]
    px = 70 + rng.integers(0, 40, (WIN, WIN))
    px[(yy - cy) ** 2 + (xx - cx) ** 2 <= r2] += 110
    return px.astype(np.uint8)


def negative(rng, kind, side=128):
    """Noise, stripes or bars, with bright squares and bars as near misses."""
    yy, xx = np.mgrid[0:side, 0:side]
    if kind == 0:
        img = rng.integers(0, 200, (side, side))
    elif kind == 1:
        img = np.where((xx // 3) % 2 == 1, 200, 40 + rng.integers(0, 30, (side, side)))
    else:
        img = np.where((yy // 3) % 2 == 1, 180 + rng.integers(0, 50, (side, side)), 60)
    for _ in range(40):
        h, w = rng.integers(6, 11), rng.integers(6, 11) * rng.integers(1, 3)
        y0, x0 = rng.integers(0, side - h), rng.integers(0, side - w)
        img[y0:y0 + h, x0:x0 + w] = 170 + rng.integers(0, 60, (h, w))
    return img.astype(np.uint8)


def samples(seed):
    rng = np.random.default_rng(seed)
    return ([positive(rng) for _ in range(300)],
            [negative(rng, i % 3) for i in range(12)])


SETTINGS = dict(window=(WIN, WIN), stages=3, max_features=1500, negatives=150,
                min_hit_rate=0.99, max_false_alarm=0.5, threads=1, seed=7)


@pytest.fixture(scope="module")
def trained():
    positives, negatives = samples(1)
    reports = []
    trainer = libfer.CascadeTrainer(progress=reports.append, **SETTINGS)
    trainer.add_positives(positives).add_negatives(negatives)
    assert trainer.positive_count == 300 and trainer.negative_image_count == 12
    cascade = trainer.run()
    return cascade, reports, trainer.message, positives


def accepts(detector, window):
    return len(detector.detect(window)) == 1


def test_training_separates_positives_from_negatives_as_reported(trained):
    cascade, reports, message, positives = trained
    assert cascade.stage_count == 3 and cascade.window_size == (WIN, WIN)
    assert [r.stage for r in reports] == [0, 1, 2] and "3" in message
    for r in reports:
        assert r.weak_count >= 1 and r.hit_rate >= 0.99 and r.false_alarm <= 0.5
    det = cascade.detector(raw=1)
    # Each stage trains on the positives the stages before it accept, and
    # reports its hit rate on them: the whole cascade keeps their product.
    kept = sum(accepts(det, p) for p in positives)
    expected = len(positives) * np.prod([r.hit_rate for r in reports])
    assert abs(kept - expected) <= 1
    # Held-out windows (a different random stream).
    held_pos, held_neg = samples(2)
    rng = np.random.default_rng(3)
    assert sum(accepts(det, p) for p in held_pos[:200]) >= 180
    windows = [img[y:y + WIN, x:x + WIN] for img in held_neg
               for y, x in rng.integers(0, 128 - WIN, (15, 2))]
    false_alarms = sum(accepts(det, np.ascontiguousarray(w)) for w in windows)
    # Three stages at most 0.5 false alarms each, with slack for held-out data.
    assert false_alarms <= 0.25 * len(windows)


def scene():
    """Background of the negative kind with three disks pasted in."""
    rng = np.random.default_rng(9)
    img = rng.integers(0, 200, (96, 160)).astype(np.uint8)
    for y, x in [(10, 20), (50, 70), (30, 120)]:
        img[y:y + WIN, x:x + WIN] = positive(rng)
    return img


def test_save_xml_round_trip_gives_the_same_detections(trained, tmp_path):
    cascade = trained[0]
    path = tmp_path / "tiny.xml"
    cascade.save_xml(str(path))
    text = path.read_text()
    assert text == cascade.to_xml() and "<cascade" in text
    loaded = libfer.Cascade.load(str(path))
    assert loaded.stage_count == cascade.stage_count
    img = scene()
    ours = cascade.detect(img, scale_factor=1.1, min_neighbors=3)
    assert len(ours) >= 1
    assert sorted(map(tuple, loaded.detect(img, scale_factor=1.1, min_neighbors=3))) == \
        sorted(map(tuple, ours))


def test_opencv_loads_the_xml_and_finds_the_same_boxes(trained, tmp_path):
    cv2 = pytest.importorskip("cv2")
    cascade = trained[0]
    path = tmp_path / "tiny.xml"
    cascade.save_xml(str(path))
    theirs = cv2.CascadeClassifier(str(path))
    assert not theirs.empty()
    img = scene()
    boxes = theirs.detectMultiScale(img, scaleFactor=1.1, minNeighbors=3)
    assert sorted(tuple(int(v) for v in b) for b in boxes) == \
        sorted(map(tuple, cascade.detect(img, scale_factor=1.1, min_neighbors=3)))


def test_lbp_training_from_python_and_opencv_reads_it(tmp_path):
    """feature_set="lbp" trains a multi-block LBP cascade: it separates
    held-out windows, and OpenCV loads its XML and finds the same boxes."""
    positives, negatives = samples(1)
    trainer = libfer.CascadeTrainer(feature_set="lbp", **SETTINGS)
    cascade = trainer.add_positives(positives).add_negatives(negatives).run()
    assert cascade.feature_type == "lbp" and cascade.stage_count == 3
    det = cascade.detector(raw=1)
    held_pos, held_neg = samples(2)
    assert sum(accepts(det, p) for p in held_pos[:200]) >= 180
    # windows cut from held-out negative images: 3 stages at a false-alarm
    # rate of at most 0.5 each keep about an eighth of them
    rng = np.random.default_rng(5)
    windows = []
    for _ in range(400):
        img = held_neg[rng.integers(0, len(held_neg))]
        y, x = rng.integers(0, img.shape[0] - WIN, 2)
        windows.append(np.ascontiguousarray(img[y:y + WIN, x:x + WIN]))
    assert sum(accepts(det, w) for w in windows) <= 50
    cv2 = pytest.importorskip("cv2")
    path = tmp_path / "lbp.xml"
    cascade.save_xml(str(path))
    theirs = cv2.CascadeClassifier(str(path))
    assert not theirs.empty()
    img = scene()
    ours = sorted(map(tuple, cascade.detect(img, scale_factor=1.1, min_neighbors=3)))
    boxes = theirs.detectMultiScale(img, scaleFactor=1.1, minNeighbors=3)
    assert ours and sorted(tuple(int(v) for v in b) for b in boxes) == ours


def test_stop_and_resume_from_the_state_file_equals_one_run(trained, tmp_path):
    positives, negatives = samples(1)
    state = tmp_path / "cascade.state"

    def stop_after_first(report):
        return report.stage == 0

    partial = libfer.train_cascade(positives, negatives, state_path=str(state),
                                   progress=stop_after_first, **SETTINGS)
    assert partial.stage_count == 1 and state.exists()
    resumed = libfer.train_cascade(positives, negatives, state_path=str(state), **SETTINGS)
    assert resumed.to_bytes() == trained[0].to_bytes()


def test_progress_exception_propagates_and_sources(tmp_path):
    positives, negatives = samples(1)

    def fail(report):
        raise ValueError("progress failed at stage %d" % report.stage)

    with pytest.raises(ValueError, match="stage 0"):
        libfer.train_cascade(positives[:60], negatives[:3], progress=fail, **SETTINGS)
    # Folders and list files of images.
    pos_dir, neg_dir = tmp_path / "pos", tmp_path / "neg"
    pos_dir.mkdir()
    neg_dir.mkdir()
    for i, p in enumerate(positives[:5]):
        libfer.Image.from_array(p).save(str(pos_dir / ("%d.png" % i)))
    for i, n in enumerate(negatives[:2]):
        libfer.Image.from_array(n).save(str(neg_dir / ("%d.pgm" % i)))
    (tmp_path / "bg.txt").write_text("neg/0.pgm\nneg/1.pgm\n")
    with libfer.CascadeTrainer(window=(WIN, WIN)) as trainer:
        trainer.add_positives(str(pos_dir)).add_negatives(str(tmp_path / "bg.txt"))
        assert (trainer.positive_count, trainer.negative_image_count) == (5, 2)
        trainer.add_negatives(str(neg_dir)).add_positive(libfer.Image.from_array(positives[5]),
                                                         mirror=True)
        assert (trainer.positive_count, trainer.negative_image_count) == (7, 4)


def test_settings_and_misuse():
    params = libfer.CascadeTrainer.params()
    assert params["stages"] == (20, 1, 100) and params["window_width"][0] == 24
    with libfer.CascadeTrainer(boost="real", feature_set="haar_all", stages=4) as tr:
        assert tr.get("boost") == 2 and tr.get("feature_set") == 2 and tr.get("stages") == 4
        with pytest.raises(errors.InvalidArgumentError):
            tr.set(stages=2.5)
        with pytest.raises(errors.InvalidArgumentError):
            tr.set(boost="ada")
        with pytest.raises(errors.NotFoundError):
            tr.set(depth=2)
        with pytest.raises(errors.InvalidArgumentError):
            tr.run()  # no samples
        with pytest.raises(errors.InvalidArgumentError):
            tr.add_negative(np.zeros((8, 8), np.uint8))  # smaller than the window
        with pytest.raises(errors.LibferIOError):
            tr.add_negatives("/nonexistent/folder")
