"""Finding and loading the libfer shared library, and calling into it.

Every C function the package uses is declared once in ``_SIGNATURES`` with
its ``argtypes`` and ``restype``; ``call()`` checks the returned status and
raises the matching exception with ``fer_last_error()``'s message.
"""

import ctypes
import ctypes.util
import glob
import os
import threading

from . import errors

_ENV_VAR = "LIBFER_LIBRARY"
_lock = threading.Lock()
_lib = None
_searched = []


def _candidates(explicit=None):
    """Yield (description, path) pairs in the documented search order."""
    if explicit:
        yield "explicit path", explicit
    env = os.environ.get(_ENV_VAR)
    if env:
        yield "$" + _ENV_VAR, env
    here = os.path.dirname(os.path.abspath(__file__))
    # Installed layout: the library next to the package (or one level up).
    for folder in (here, os.path.dirname(here)):
        for path in sorted(glob.glob(os.path.join(folder, "libfer.so*"))):
            yield "next to the package", path
    # Installed by meson (-Dpython=enabled): _config.py records where the
    # library went, relative to the package first so that a DESTDIR or a
    # moved prefix still works.
    for how, folder in _installed_libdirs(here):
        for path in sorted(glob.glob(os.path.join(folder, "libfer.so.*"))):
            yield how, path
    # A checkout: bindings/python/libfer -> the repository root's build dirs.
    root = os.path.dirname(os.path.dirname(os.path.dirname(here)))
    for build in sorted(glob.glob(os.path.join(root, "build*"))):
        for path in sorted(glob.glob(os.path.join(build, "lib", "libfer.so.*"))):
            yield "meson build dir", path
    found = ctypes.util.find_library("fer")
    yield "system loader", found or "libfer.so.0"


def _installed_libdirs(here):
    try:
        from . import _config
    except ImportError:  # a checkout or a pip install: no meson record
        return []
    relative = os.path.normpath(os.path.join(here, _config.LIBDIR_FROM_PACKAGE))
    return [("meson install libdir", relative),
            ("meson install libdir", _config.LIBDIR)]


def load_library(path=None):
    """Load libfer (once) and return the ctypes handle.

    Search order: ``path``, ``$LIBFER_LIBRARY``, next to this package, the
    libdir recorded by a meson install (``_config.py``), the meson build
    folders of a checkout, then the system loader. Raises
    ``LibraryNotFoundError`` listing every place tried.
    """
    global _lib
    with _lock:
        if _lib is not None and path is None:
            return _lib
        tried = []
        for how, candidate in _candidates(path):
            try:
                lib = ctypes.CDLL(candidate)
                lib.fer_version  # a libfer, not some other libfer.so
            except (OSError, AttributeError) as exc:
                tried.append("%s: %s (%s)" % (how, candidate, exc))
                if how in ("explicit path", "$" + _ENV_VAR):
                    # A library the caller named must not be silently
                    # replaced by another one found further down the list.
                    raise errors.LibraryNotFoundError(
                        "cannot load the libfer named by the %s: %s" % (how, tried[-1]))
                continue
            _declare(lib)
            _lib = lib
            _searched[:] = tried
            return lib
        raise errors.LibraryNotFoundError(
            "libfer shared library not found; tried:\n  " + "\n  ".join(tried)
            + "\nSet %s to the path of libfer.so." % _ENV_VAR)


# C types used in signatures.
c_status = ctypes.c_int
c_ptr = ctypes.c_void_p
c_size = ctypes.c_size_t
c_str = ctypes.c_char_p
c_int = ctypes.c_int
c_uint = ctypes.c_uint
c_float = ctypes.c_float
c_double = ctypes.c_double
c_float_p = ctypes.POINTER(ctypes.c_float)
c_int32_p = ctypes.POINTER(ctypes.c_int32)
c_uint8_p = ctypes.POINTER(ctypes.c_uint8)


class Rect(ctypes.Structure):
    """The frozen public ``fer_rect``."""
    _fields_ = [("x", ctypes.c_int32), ("y", ctypes.c_int32),
                ("width", ctypes.c_int32), ("height", ctypes.c_int32)]


_SIGNATURES = {}


def signature(name, restype, *argtypes):
    """Declare a C function: used by each wrapper module at import time."""
    _SIGNATURES[name] = (restype, list(argtypes))


# Core.
signature("fer_status_string", c_str, c_int)
signature("fer_last_error", c_str)
signature("fer_clear_error", None)
signature("fer_version", c_str)
signature("fer_version_number", c_int)
signature("fer_set_num_threads", c_status, c_int)
signature("fer_get_num_threads", c_int)
signature("fer_has_openmp", c_int)
signature("fer_free", None, c_ptr)


def _declare(lib):
    for name, (restype, argtypes) in _SIGNATURES.items():
        fn = getattr(lib, name, None)
        if fn is None:
            continue  # an older library; calling it raises a clear error
        fn.restype = restype
        fn.argtypes = argtypes


def fn(name):
    """The declared C function ``name``."""
    lib = load_library()
    if name not in _SIGNATURES:
        raise errors.LibferError("libfer binding bug: %s is not declared" % name)
    f = getattr(lib, name, None)
    if f is None:
        raise errors.LibferError("this libfer build has no %s" % name)
    return f


def raw_function(name, restype, *argtypes):
    """A second, separately declared function object for ``name``, for hot
    paths that pass plain addresses (ints) instead of typed pointers."""
    f = load_library()[name]  # indexing makes a new object; attributes are cached
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


def last_error():
    msg = fn("fer_last_error")()
    return msg.decode("utf-8", "replace") if msg else ""


def check(status, what=""):
    """Raise the exception for a non-zero ``fer_status``."""
    if status != 0:
        raise errors.from_status(status, last_error() or what)
    return status


def call(name, *args):
    """Call a status-returning C function and raise on failure."""
    return check(fn(name)(*args), name)


def encode_path(path):
    return os.fsencode(path)
