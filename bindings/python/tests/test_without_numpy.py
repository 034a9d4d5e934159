"""Everything works without numpy: bytes, bytearray, memoryview and lists.

Runs in a subprocess where ``import numpy`` fails."""
import os
import subprocess
import sys

PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r'''
import sys
sys.modules["numpy"] = None  # import numpy now raises ImportError
import libfer
from libfer import errors

img = libfer.Image.from_bytes(bytearray(range(12)), 4, 3, "GRAY")
assert img.to_bytes() == bytes(range(12))
assert libfer.Image.from_bytes(memoryview(bytes(36)), 4, 3, "RGB").channels == 3
try:
    img.to_array()
except libfer.LibferError as e:
    assert "numpy" in str(e)
else:
    raise AssertionError("to_array without numpy")

m = libfer.Model((1, 2, 2)).add_flatten().add_dense(2).add_softmax()
m.init_weights(seed=1)
probs = m.predict_proba([[[[0.1, 0.2], [0.3, 0.4]]]])
assert isinstance(probs, list) and len(probs) == 1 and abs(sum(probs[0]) - 1) < 1e-5
assert m.predict([[[[0.1, 0.2], [0.3, 0.4]]]]) == [max(range(2), key=lambda i: probs[0][i])]
w = m.get_tensor(1)
assert isinstance(w, list) and len(w) == 8
p = m.predictor()
assert abs(p.predict_proba([0.1, 0.2, 0.3, 0.4])[0][0] - probs[0][0]) < 1e-6
face = libfer.Image.from_bytes(bytes(range(0, 250, 10))[:16], 4, 4, "GRAY")
assert set(m.predict(face)["probabilities"]) == {"0", "1"} or len(m.predict(face)["probabilities"]) == 2

x = [[[[200, 210], [10, 20]]], [[[10, 20], [200, 210]]]] * 8
y = [0, 1] * 8
ds = libfer.Dataset.from_arrays(x, y, class_names=["top", "bottom"])
assert len(ds) == 16 and ds.pixels(1) == bytes([10, 20, 200, 210])
bx, by = ds.make_batch([0, 1], scale=1.0)
assert bx == [200.0, 210.0, 10.0, 20.0, 10.0, 20.0, 200.0, 210.0] and by == [0, 1]
history = m.fit(ds, epochs=30, batch_size=4, optimizer="sgd", learning_rate=0.5)
assert history["loss"][-1] < history["loss"][0]
assert m.evaluate(ds)["accuracy"] == 1.0
floats = [[[[v / 255 for v in row] for row in img_] for img_ in s] for s in x]
assert m.fit(floats, y, epochs=1)["loss"]
seen = []
assert len(m.fit(ds, epochs=5, callbacks=lambda e, logs: seen.append(e) or e == 1)["loss"]) == 2
assert seen == [0, 1]

trainer = libfer.CascadeTrainer(window=(8, 8))
trainer.add_positive(libfer.Image.from_bytes(bytes(range(0, 256, 4)), 8, 8, "GRAY"), mirror=True)
trainer.add_negative(libfer.Image.from_bytes(bytes(range(256)) * 4, 32, 32, "GRAY"))
assert (trainer.positive_count, trainer.negative_image_count) == (2, 1)
assert len(libfer.expression_color("happy")) == 3

met = libfer.Metrics(["a", "b"])
met.add_probs([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]], [0, 1, 1])
assert abs(met.accuracy - 2 / 3) < 1e-9 and met.confusion() == [[1, 0], [1, 1]]
aug = libfer.Augment(flip_prob=1)
assert aug.apply(bytes([1, 2, 3]), (1, 1, 3)) == [3.0, 2.0, 1.0]
assert libfer.Model.from_bytes(m.to_bytes()).to_text() == m.to_text()

# The front door: a path, bytes or a PIL image; results convert and draw.
import os, tempfile
photo = "/usr/lib/python3/dist-packages/skimage/data/astronaut.png"
if os.path.isfile(photo) and libfer.has_default_model() and libfer.has_default_cascade():
    faces = libfer.analyze(photo)
    assert len(faces) == 1 and faces[0].label in faces[0].probabilities
    with open(photo, "rb") as f:
        assert [g.box for g in libfer.analyze(f.read())] == [faces[0].box]
    assert libfer.to_fer(faces)[0]["box"] == list(faces[0].box)
    drawn = libfer.annotate(photo, faces)
    with tempfile.TemporaryDirectory() as tmp:
        drawn.save(os.path.join(tmp, "a.png"))
        assert libfer.Image.load(os.path.join(tmp, "a.png")).to_bytes() == drawn.to_bytes()
    assert faces._repr_png_().startswith(b"\x89PNG") and "<svg" in faces._repr_svg_()
    try:
        from PIL import Image as PILImage
    except ImportError:
        pass
    else:
        assert [g.box for g in libfer.analyze(PILImage.open(photo))] == [faces[0].box]
try:
    libfer.analyze([1, 2, 3])
except TypeError as e:
    assert "file path" in str(e)
else:
    raise AssertionError("a list was taken")
print("OK")
'''


def test_everything_without_numpy():
    env = dict(os.environ, PYTHONPATH=PACKAGE_ROOT, PYTHONDONTWRITEBYTECODE="1")
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "OK", result.stderr
