"""libfer: facial expression recognition, from Python.

A thin ctypes binding over the libfer C library: images, the CNN engine,
data sets, the Viola-Jones detector and the face analyzer. Only the
standard library is required; numpy is used (zero-copy) when installed.

    import libfer
    faces = libfer.analyze("photo.jpg")     # or an array, a PIL image, bytes
    print(faces[0].label, faces[0].box)
"""

from . import errors
from ._lib import load_library
from .errors import LibferError
from .image import Image
from .model import Model, Predictor, flat_layout_version, image_sharpness
from .optim import Optimizer, Schedule
from .dataset import (Augment, Dataset, Metrics, epoch_order, fer2013_class_names,
                      save_svg, training_curves_svg)
from .training import (CSVLogger, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau,
                       StopTraining, evaluate, fit)
from .trainer import Trainer, balanced_class_weights, train_state_version, validate_train_state
from .detect import Cascade, Detector
from .video import Tracker, Y4MReader, Y4MWriter
from .cascade_train import CascadeTrainer, StageProgress, train_cascade
from .analyze import (Analyzer, Face, Faces, analyze, annotate, expression_color,
                      has_default_cascade, has_default_model, to_fer)

__all__ = ["Analyzer", "Face", "Faces", "analyze", "annotate", "to_fer", "has_default_model", "has_default_cascade",
           "expression_color", "CascadeTrainer", "StageProgress", "train_cascade",
           "Cascade", "Detector", "Tracker", "Y4MReader", "Y4MWriter", "Image",
           "Model", "Predictor", "image_sharpness", "flat_layout_version", "Optimizer", "Schedule", "Dataset", "Augment",
           "Metrics", "StopTraining", "fit", "evaluate", "epoch_order",
           "Trainer", "ReduceLROnPlateau", "EarlyStopping", "ModelCheckpoint", "CSVLogger",
           "balanced_class_weights", "train_state_version", "validate_train_state",
           "fer2013_class_names", "training_curves_svg", "save_svg",
           "LibferError", "errors", "load_library", "version", "status_string",
           "last_error", "clear_error", "version_number",
           "has_openmp", "set_num_threads", "get_num_threads"]


def version():
    """The C library's version string."""
    from . import _lib
    return _lib.fn("fer_version")().decode()


def status_string(status):
    """The C name of a status code ("FER_ERR_FORMAT")."""
    from . import _lib
    return _lib.fn("fer_status_string")(int(status)).decode()


def last_error():
    """This thread's last libfer error message ("" when none)."""
    from . import _lib
    return _lib.last_error()


def clear_error():
    """Forget this thread's last error message."""
    from . import _lib
    _lib.fn("fer_clear_error")()


def version_number():
    """major * 10000 + minor * 100 + patch."""
    from . import _lib
    return _lib.fn("fer_version_number")()


def has_openmp():
    """True when the library was built with OpenMP."""
    from . import _lib
    return bool(_lib.fn("fer_has_openmp")())


def set_num_threads(n):
    """Threads for libfer's parallel loops (0 = the OpenMP default)."""
    from . import _lib
    _lib.call("fer_set_num_threads", int(n))


def get_num_threads():
    from . import _lib
    return _lib.fn("fer_get_num_threads")()
