"""Threads calling predict at once give the single-threaded results."""
import threading

import pytest

import libfer

np = pytest.importorskip("numpy")


def test_concurrent_predict_matches_single_thread():
    model = libfer.Model.from_text("input 1x24x24\nconv 8 3x3 same\nrelu\nmax 2x2/2\n"
                                   "conv 8 3x3 same\nrelu\ngap\nflatten\ndense 7\nsoftmax\n")
    model.init_weights(seed=11)
    rng = np.random.default_rng(12)
    images = [libfer.Image.from_array(rng.integers(0, 256, (30 + i, 40), dtype=np.uint8))
              for i in range(8)]
    batch = rng.random((4, 1, 24, 24), dtype=np.float32)
    expect_images = [model.predict_proba(img).copy() for img in images]
    expect_batch = model.predict_proba(batch).copy()
    failures = []

    def work(index):
        predictor = model.predictor()  # one per thread, as the C API asks
        for round_ in range(15):
            img = images[(index + round_) % len(images)]
            want = expect_images[(index + round_) % len(images)]
            if not np.array_equal(model.predict_proba(img), want):
                failures.append(("model", index, round_))
            if not np.array_equal(predictor.predict_proba(img), want):
                failures.append(("predictor", index, round_))
            if not np.array_equal(model.predict_proba(batch), expect_batch):
                failures.append(("batch", index, round_))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
