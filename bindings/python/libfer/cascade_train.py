"""Training Viola-Jones cascades (fer/cascade_train.h): positives are
window-sized crops of the object, negatives are whole images without it.

    cascade = libfer.train_cascade("faces/", "negatives.txt", window=(24, 24),
                                   stages=12, state_path="run.state")
    cascade.save_xml("my_cascade.xml")   # loads in cv2.CascadeClassifier
"""

import ctypes
import os

from . import _buffers, _lib, errors
from ._handle import Handle
from ._lib import c_double, c_int, c_ptr, c_size, c_status, c_str, c_uint8_p, signature
from .detect import Cascade, _gray_pixels

P = ctypes.POINTER

# fer_cascade_progress_fn
PROGRESS = ctypes.CFUNCTYPE(c_int, c_ptr, c_int, c_int, c_double, c_double, c_double,
                            c_double)

signature("fer_cascade_trainer_create", c_status, P(c_ptr))
signature("fer_cascade_trainer_free", None, c_ptr)
signature("fer_cascade_trainer_set", c_status, c_ptr, c_int, c_double)
signature("fer_cascade_trainer_get", c_status, c_ptr, c_int, P(c_double))
signature("fer_cascade_train_param_bounds", c_status, c_int, P(c_double), P(c_double),
          P(c_double))
signature("fer_cascade_train_param_name", c_str, c_int)
signature("fer_cascade_train_param_find", c_status, c_str, P(c_int))
signature("fer_cascade_trainer_add_positive", c_status, c_ptr, c_uint8_p, c_int, c_int,
          c_size, c_int)
signature("fer_cascade_trainer_add_negative", c_status, c_ptr, c_ptr)
signature("fer_cascade_trainer_positive_count", c_size, c_ptr)
signature("fer_cascade_trainer_negative_image_count", c_size, c_ptr)
signature("fer_cascade_trainer_set_progress", c_status, c_ptr, c_ptr, c_ptr)
signature("fer_cascade_trainer_set_state_file", c_status, c_ptr, c_str)
signature("fer_cascade_trainer_run", c_status, c_ptr, P(c_ptr))
signature("fer_cascade_trainer_message", c_str, c_ptr)

# Enum-valued settings by name (fer_cascade_boost, fer_cascade_feature_set;
# values are part of the ABI).
BOOSTS = {"discrete": 1, "real": 2, "gentle": 3}
FEATURE_SETS = {"haar": 1, "haar_upright": 1, "haar_all": 2, "lbp": 3}
_ENUMS = {"boost": BOOSTS, "feature_set": FEATURE_SETS}
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pnm")


class StageProgress:
    """What the trainer reports after each stage: ``stage`` (0-based),
    ``weak_count``, ``hit_rate`` and ``false_alarm`` on the stage's training
    samples, ``acceptance_ratio`` (the fraction of scanned negative windows
    the cascade before this stage accepted) and ``seconds``."""

    __slots__ = ("stage", "weak_count", "hit_rate", "false_alarm", "acceptance_ratio",
                 "seconds")

    def __init__(self, *values):
        for name, value in zip(self.__slots__, values):
            setattr(self, name, value)

    def __repr__(self):
        return ("StageProgress(stage=%d, weak_count=%d, hit_rate=%.4f, false_alarm=%.4f)"
                % (self.stage, self.weak_count, self.hit_rate, self.false_alarm))


def _image_files(folder):
    return [os.path.join(folder, name) for name in sorted(os.listdir(folder))
            if name.lower().endswith(_IMAGE_SUFFIXES)]


def _list_file(path):
    """Paths of an OpenCV-style list file (one per line, relative to it)."""
    base = os.path.dirname(os.path.abspath(path))
    with open(path) as f:
        lines = [line.strip() for line in f]
    return [os.path.join(base, line) for line in lines if line and not line.startswith("#")]


def _sources(items, what):
    """A folder, a list file, or an iterable of arrays, Images and paths."""
    if isinstance(items, (str, bytes, os.PathLike)):
        path = os.fsdecode(items)
        if os.path.isdir(path):
            return _image_files(path)
        if os.path.isfile(path):
            return _list_file(path)
        raise errors.LibferIOError("%s: %s is neither a folder nor a list file"
                                   % (what, path), errors.IO)
    return items


class CascadeTrainer(Handle):
    """A ``fer_cascade_trainer``. Settings by keyword (``params()`` lists
    them with their bounds): ``window=(w, h)``, ``stages``,
    ``min_hit_rate``, ``max_false_alarm``, ``boost`` ("gentle", "real",
    "discrete"), ``tree_depth``, ``feature_set`` ("haar", "haar_all", "lbp"),
    ``negatives``, ``positives``, ``max_weak``, ``max_features``,
    ``position_step``, ``buffer_mb``, ``threads``, ``seed``. One thread at a
    time."""

    _free_name = "fer_cascade_trainer_free"
    _kind = "CascadeTrainer"

    def __init__(self, state_path=None, progress=None, **settings):
        out = c_ptr()
        _lib.call("fer_cascade_trainer_create", ctypes.byref(out))
        Handle.__init__(self, out.value)
        self._progress = None
        self._error = None
        self._stop_requested = False
        self._c_progress = PROGRESS(self._from_c)  # alive as long as the trainer
        self.set(**settings)
        if state_path is not None:
            self.set_state_file(state_path)
        self.set_progress(progress)

    # -- settings ----------------------------------------------------------
    @staticmethod
    def params():
        """{name: (default, min, max)} of every setting."""
        out, key = {}, 1
        name_of = _lib.fn("fer_cascade_train_param_name")
        while name_of(key) is not None:
            lo, hi, default = c_double(), c_double(), c_double()
            _lib.call("fer_cascade_train_param_bounds", key, ctypes.byref(lo),
                      ctypes.byref(hi), ctypes.byref(default))
            out[name_of(key).decode()] = (default.value, lo.value, hi.value)
            key += 1
        return out

    @staticmethod
    def _key(name):
        key = c_int()
        status = _lib.fn("fer_cascade_train_param_find")(str(name).encode(),
                                                        ctypes.byref(key))
        if status == errors.NOT_FOUND:
            raise errors.NotFoundError(
                "the cascade trainer has no setting %r (known: %s)"
                % (name, ", ".join(sorted(CascadeTrainer.params()))), errors.NOT_FOUND)
        _lib.check(status, "fer_cascade_train_param_find")
        return key.value

    def set(self, **settings):
        """Set settings by name; ``window=(w, h)`` sets both window sides."""
        window = settings.pop("window", None)
        if window is not None:
            settings["window_width"], settings["window_height"] = window
        for name, value in settings.items():
            if name in _ENUMS and isinstance(value, str):
                if value.lower() not in _ENUMS[name]:
                    raise errors.InvalidArgumentError(
                        "%s must be one of %s, not %r"
                        % (name, ", ".join(sorted(_ENUMS[name])), value),
                        errors.INVALID_ARGUMENT)
                value = _ENUMS[name][value.lower()]
            _lib.call("fer_cascade_trainer_set", self._h, self._key(name), float(value))
        return self

    def get(self, name):
        value = c_double()
        _lib.call("fer_cascade_trainer_get", self._h, self._key(name), ctypes.byref(value))
        return value.value

    def set_state_file(self, path):
        """Write the cascade so far to ``path`` after every stage, and
        continue from it when it exists (None: no state file)."""
        _lib.call("fer_cascade_trainer_set_state_file", self._h,
                  None if path is None else _lib.encode_path(path))
        return self

    def set_progress(self, progress):
        """``progress(StageProgress)`` after every stage; returning True or
        raising StopTraining ends training with the stages so far."""
        self._progress = progress
        _lib.call("fer_cascade_trainer_set_progress", self._h,
                  None if progress is None else ctypes.cast(self._c_progress, c_ptr), None)
        return self

    def _from_c(self, user, *values):
        from .training import StopTraining
        try:
            stop = bool(self._progress(StageProgress(*values)))
        except StopTraining:
            stop = True
        except BaseException as exc:  # must not cross C: re-raised by run()
            self._error = exc
            return 1
        self._stop_requested = self._stop_requested or stop
        return 1 if stop else 0

    # -- samples -----------------------------------------------------------
    def add_positive(self, crop, mirror=False):
        """One object crop (an Image, an H x W uint8 array or an image
        path), resized to the window; ``mirror`` adds its mirror image too."""
        from .image import Image
        if isinstance(crop, (str, os.PathLike)):
            crop = Image.load(crop, gray=True)
        if isinstance(crop, Image):
            gray = crop if crop.channels == 1 else crop.to_gray()
            data = gray.to_bytes()
            ptr, keep, _ = _buffers.bytes_in(data)
            width, height, stride = gray.width, gray.height, gray.width
        else:
            ptr, width, height, stride, keep = _gray_pixels(crop)
        _lib.call("fer_cascade_trainer_add_positive", self._h, ptr, width, height, stride,
                  int(bool(mirror)))
        del keep
        return self

    def add_positives(self, crops, mirror=False):
        """Crops from a folder of images, a list file, or an iterable."""
        for crop in _sources(crops, "positives"):
            self.add_positive(crop, mirror)
        return self

    def add_negative(self, image):
        """One image without the object: an Image, a uint8 array (H x W or
        H x W x 3, RGB) or an image path."""
        from .image import Image
        if isinstance(image, (str, os.PathLike)):
            image = Image.load(image, gray=True)
        elif not isinstance(image, Image):
            image = Image.from_array(image)
        _lib.call("fer_cascade_trainer_add_negative", self._h, image._h)
        return self

    def add_negatives(self, images):
        """Negatives from a folder, an OpenCV-style list file (bg.txt), or an
        iterable of Images, arrays or paths."""
        for image in _sources(images, "negatives"):
            self.add_negative(image)
        return self

    @property
    def positive_count(self):
        """Positives kept (windows too flat for the detector are dropped)."""
        return _lib.fn("fer_cascade_trainer_positive_count")(self._h)

    @property
    def negative_image_count(self):
        return _lib.fn("fer_cascade_trainer_negative_image_count")(self._h)

    # -- training ----------------------------------------------------------
    def run(self):
        """Train and return the ``Cascade``. When the progress callback asks
        to stop, the cascade of the stages finished so far is returned; an
        exception raised by the callback is re-raised here."""
        out = c_ptr()
        self._error, self._stop_requested = None, False
        status = _lib.fn("fer_cascade_trainer_run")(self._h, ctypes.byref(out))
        cascade = Cascade(out.value) if out.value else None
        if self._error is not None:
            error, self._error = self._error, None
            if cascade is not None:
                cascade.close()
            raise error
        if status == errors.CANCELLED and self._stop_requested and cascade is not None:
            return cascade
        if status != 0 and cascade is not None:
            cascade.close()
        _lib.check(status, "fer_cascade_trainer_run")
        return cascade

    @property
    def message(self):
        """Why the last run ended ("3 stages trained", "negatives ran out...")."""
        text = _lib.fn("fer_cascade_trainer_message")(self._h)
        return text.decode("utf-8", "replace") if text else ""


def train_cascade(positive_crops, negative_images, mirror=False, state_path=None,
                  progress=None, **settings):
    """Train a cascade in one call: ``positive_crops`` and
    ``negative_images`` as ``CascadeTrainer.add_positives`` and
    ``add_negatives`` take them (a folder, a list file or an iterable),
    settings by keyword (see ``CascadeTrainer``; ``negatives`` and
    ``positives`` there are the per-stage sample counts). Returns the
    ``Cascade``."""
    with CascadeTrainer(state_path=state_path, progress=progress, **settings) as trainer:
        trainer.add_positives(positive_crops, mirror)
        trainer.add_negatives(negative_images)
        return trainer.run()
