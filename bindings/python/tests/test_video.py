"""Y4M writer/reader against a Y4M parser and BT.601 maths written here, and
the tracker's identity and smoothing rules."""
import pytest

import libfer
from libfer import errors

np = pytest.importorskip("numpy")


def parse_y4m(data):
    """(header tags, [frame bytes]) of a Y4M stream, parsed independently."""
    header, rest = data.split(b"\n", 1)
    tags = header.split(b" ")
    assert tags[0] == b"YUV4MPEG2"
    fields = {t[:1].decode(): t[1:].decode() for t in tags[1:]}
    w, h = int(fields["W"]), int(fields["H"])
    size = w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)
    frames = []
    while rest:
        line, rest = rest.split(b"\n", 1)
        assert line.startswith(b"FRAME")
        frames.append(rest[:size])
        rest = rest[size:]
    return fields, frames


def bt601_luma(rgb):
    r, g, b = [rgb[..., i].astype(np.float64) for i in range(3)]
    return 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255


def test_writer_and_reader(tmp_path):
    rng = np.random.default_rng(8)
    frames = [rng.integers(0, 256, (6, 10, 3), dtype=np.uint8) for _ in range(3)]
    path = tmp_path / "v.y4m"
    with libfer.Y4MWriter(str(path), 10, 6, frame_rate=(30000, 1001), aspect=(4, 3)) as writer:
        for f in frames:
            writer.write(libfer.Image.from_array(f))
        with pytest.raises(errors.MisuseError):
            writer.set_frame_rate(25)  # after the first frame
        with pytest.raises(errors.InvalidArgumentError):
            writer.write(libfer.Image.new(4, 4, 3))
    fields, raw = parse_y4m(path.read_bytes())
    assert fields["W"] == "10" and fields["H"] == "6" and fields["F"] == "30000:1001"
    assert fields["A"] == "4:3"
    assert len(raw) == 3
    for f, data in zip(frames, raw):
        y = np.frombuffer(data[:60], dtype=np.uint8).reshape(6, 10)
        assert np.abs(y.astype(float) - bt601_luma(f)).max() <= 1.0
    reader = libfer.Y4MReader(str(path))
    assert (reader.width, reader.height) == (10, 6)
    assert reader.frame_rate == (30000, 1001) and reader.colorspace == "420jpeg"
    assert reader.interlace == "progressive" and reader.aspect == (4, 3)
    images = list(reader)
    assert len(images) == 3 and reader.frame_count == 3
    assert images[0].shape == (6, 10, 3)
    gray_reader = libfer.Y4MReader(str(path), gray=True)
    assert gray_reader.next_frame()
    y, u, v = gray_reader.planes()
    assert y == raw[0][:60] and u == raw[0][60:75] and v == raw[0][75:90]
    gray = gray_reader.image().to_array()
    expect = (np.frombuffer(y, dtype=np.uint8).reshape(6, 10).astype(float) - 16) * 255 / 219
    assert np.abs(gray - np.clip(expect, 0, 255)).max() <= 1.0


def test_reader_errors(tmp_path):
    with pytest.raises(errors.LibferIOError):
        libfer.Y4MReader(str(tmp_path / "none.y4m"))
    bad = tmp_path / "bad.y4m"
    bad.write_bytes(b"NOTY4M W2 H2\n")
    with pytest.raises(errors.FileFormatError):
        libfer.Y4MReader(str(bad))
    cut = tmp_path / "cut.y4m"
    cut.write_bytes(b"YUV4MPEG2 W4 H4 F25:1\nFRAME\n" + b"\x80" * 10)
    reader = libfer.Y4MReader(str(cut))
    with pytest.raises(errors.FileFormatError) as info:
        reader.next_frame()
    assert info.value.status == errors.TRUNCATED
    with pytest.raises(errors.InvalidArgumentError):
        libfer.Y4MWriter(str(tmp_path / "x.y4m"), 0, 4)


def test_tracker_identity_and_smoothing():
    tracker = libfer.Tracker(num_classes=2, prob_smoothing=0.5)
    assert tracker.get("prob_smoothing") == 0.5
    assert "iou_threshold" in libfer.Tracker.params()
    first = tracker.update([(10, 10, 20, 20), (100, 10, 20, 20)], [[0.9, 0.1], [0.2, 0.8]])
    assert [t["id"] for t in first] == [1, 2]
    assert first[0]["top_class"] == 0 and first[1]["top_class"] == 1
    second = tracker.update([(102, 11, 20, 20), (11, 10, 20, 20)], [[0.0, 1.0], [0.1, 0.9]])
    assert [t["id"] for t in second] == [2, 1]
    # EMA with a = 0.5 from the first frame's probabilities.
    assert second[1]["probabilities"] == pytest.approx([0.5 * 0.9 + 0.5 * 0.1,
                                                        0.5 * 0.1 + 0.5 * 0.9])
    assert tracker.num_tracks == 2
    tracker.reset()
    assert tracker.num_tracks == 0
    assert tracker.update([(0, 0, 5, 5)], [0.5, 0.5])[0]["id"] == 1
    assert tracker.update([]) == []
    with pytest.raises(errors.InvalidArgumentError):
        tracker.update([(0, 0, 0, 5)], [0.5, 0.5])
    with pytest.raises(errors.InvalidArgumentError):
        tracker.update([(0, 0, 5, 5)])
    with pytest.raises(errors.NotFoundError):
        tracker.set(speed=1)
    tracker.close()
    with pytest.raises(errors.MisuseError):
        tracker.num_tracks


# Regression: start_track() once smoothed a new track's box from
# uninitialised memory (0 * NaN is NaN), so boxes came out wrong on a dirty heap.
def test_tracker_reports_input_boxes_without_box_smoothing():
    garbage = [bytearray(b"\xff" * 4096) for _ in range(64)]  # dirty the heap a little
    del garbage
    tracker = libfer.Tracker(num_classes=0)
    for _ in range(50):
        libfer.Tracker(num_classes=3).update([(1, 2, 3, 4)] * 8, [[0.1, 0.2, 0.7]] * 8)
    first = tracker.update([(10, 10, 20, 20), (100, 10, 20, 20)])
    second = tracker.update([(102, 11, 20, 20), (11, 10, 20, 20)])
    assert [t["box"] for t in first] == [(10, 10, 20, 20), (100, 10, 20, 20)]
    assert [t["box"] for t in second] == [(102, 11, 20, 20), (11, 10, 20, 20)]
    assert [t["top_class"] for t in second] == [-1, -1]
