"""Exceptions: one class per family of ``fer_status`` codes.

Every exception carries the C status (``.status``, ``.status_name``) and
the library's detail message from ``fer_last_error()``.
"""

# Values of include/fer/core.h's fer_status (part of the ABI, append-only).
OK = 0
INVALID_ARGUMENT = 1
OUT_OF_MEMORY = 2
IO = 3
FORMAT = 4
UNSUPPORTED = 5
TRUNCATED = 6
CHECKSUM = 7
VERSION = 8
TOO_LARGE = 9
BUFFER_TOO_SMALL = 10
MISUSE = 11
SHAPE = 12
CANCELLED = 13
NOT_FOUND = 14
INTERNAL = 15

_NAMES = {
    0: "FER_OK", 1: "FER_ERR_INVALID_ARGUMENT", 2: "FER_ERR_OUT_OF_MEMORY",
    3: "FER_ERR_IO", 4: "FER_ERR_FORMAT", 5: "FER_ERR_UNSUPPORTED",
    6: "FER_ERR_TRUNCATED", 7: "FER_ERR_CHECKSUM", 8: "FER_ERR_VERSION",
    9: "FER_ERR_TOO_LARGE", 10: "FER_ERR_BUFFER_TOO_SMALL",
    11: "FER_ERR_MISUSE", 12: "FER_ERR_SHAPE", 13: "FER_ERR_CANCELLED",
    14: "FER_ERR_NOT_FOUND", 15: "FER_ERR_INTERNAL",
}


class LibferError(Exception):
    """Base class of every libfer exception."""

    def __init__(self, message, status=None):
        super().__init__(message)
        self.status = status
        self.status_name = _NAMES.get(status, "FER_ERR_UNKNOWN") if status is not None else None


class LibraryNotFoundError(LibferError, OSError):
    """The shared library could not be found or loaded."""


class InvalidArgumentError(LibferError, ValueError):
    """A parameter is outside its documented range (also SHAPE, BUFFER_TOO_SMALL)."""


class UnsupportedInputError(InvalidArgumentError, TypeError):
    """An image argument of a kind the function does not take (a list, None,
    a float array, ...). Both a ``TypeError`` and an ``InvalidArgumentError``;
    the message lists what is accepted."""


class FileFormatError(LibferError, ValueError):
    """Input is malformed, corrupt, truncated, of a newer version, or unsupported."""


class LibferIOError(LibferError, OSError):
    """A file could not be opened, read or written."""


class ResourceError(LibferError, MemoryError):
    """Out of memory, or a size beyond libfer's limits."""


class NotFoundError(LibferError, KeyError):
    """A named thing (class, key, layer) is unknown."""

    def __str__(self):  # KeyError would quote the message
        return self.args[0] if self.args else ""


class MisuseError(LibferError, RuntimeError):
    """A freed or NULL handle, or a call out of order."""


class CancelledError(LibferError):
    """A user callback asked to stop."""


class InternalError(LibferError, RuntimeError):
    """A bug in libfer."""


_FAMILY = {
    INVALID_ARGUMENT: InvalidArgumentError,
    SHAPE: InvalidArgumentError,
    BUFFER_TOO_SMALL: InvalidArgumentError,
    OUT_OF_MEMORY: ResourceError,
    TOO_LARGE: ResourceError,
    IO: LibferIOError,
    FORMAT: FileFormatError,
    UNSUPPORTED: FileFormatError,
    TRUNCATED: FileFormatError,
    CHECKSUM: FileFormatError,
    VERSION: FileFormatError,
    MISUSE: MisuseError,
    CANCELLED: CancelledError,
    NOT_FOUND: NotFoundError,
    INTERNAL: InternalError,
}


def from_status(status, message):
    cls = _FAMILY.get(status, LibferError)
    return cls("%s: %s" % (_NAMES.get(status, "FER_ERR_UNKNOWN"), message), status)
