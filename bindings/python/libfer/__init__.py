"""libfer: facial expression recognition, from Python.

A thin ctypes binding over the libfer C library: images, the CNN engine,
data sets, the Viola-Jones detector and the face analyzer. Only the
standard library is required; numpy is used (zero-copy) when installed.

    import libfer
    img = libfer.Image.load("photo.jpg")
"""

from . import errors
from ._lib import load_library
from .errors import LibferError
from .image import Image

__all__ = ["Image", "LibferError", "errors", "load_library", "version",
           "set_num_threads", "get_num_threads"]


def version():
    """The C library's version string."""
    from . import _lib
    return _lib.fn("fer_version")().decode()


def set_num_threads(n):
    """Threads for libfer's parallel loops (0 = the OpenMP default)."""
    from . import _lib
    _lib.call("fer_set_num_threads", int(n))


def get_num_threads():
    from . import _lib
    return _lib.fn("fer_get_num_threads")()
