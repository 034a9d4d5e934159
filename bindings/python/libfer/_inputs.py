"""What the front-door functions accept as an image, turned into a
``libfer.Image``.

One function, ``to_image``, so that ``analyze``, ``Analyzer.analyze``,
``Model.predict``, ``Cascade.detect``, ``annotate`` and the video writer
all take the same things and fail with the same messages.
"""

import os

from . import errors

try:  # numpy is optional
    import numpy as _np
except ImportError:  # pragma: no cover - exercised on machines without numpy
    _np = None

ACCEPTED = ("a file path (str or os.PathLike), encoded file bytes (bytes, bytearray, "
            "memoryview), a numpy uint8 array (H x W gray, H x W x 3 or H x W x 4; "
            "channel_order=\"RGB\" by default, \"BGR\" for OpenCV), a PIL image, "
            "or a libfer.Image")

CHANNEL_ORDERS = ("RGB", "BGR")


def _check_order(channel_order):
    order = str(channel_order).upper()
    if order not in CHANNEL_ORDERS:
        raise errors.InvalidArgumentError(
            "channel_order must be \"RGB\" or \"BGR\", not %r" % (channel_order,),
            errors.INVALID_ARGUMENT)
    return order


def is_pil_image(value):
    """True for a PIL image, without importing PIL."""
    for cls in type(value).__mro__:
        if cls.__name__ == "Image" and cls.__module__ == "PIL.Image":
            return True
    return False


def is_image_array(value):
    """True for a numpy array that reads as one picture: uint8, H x W or
    H x W x 1/3/4 (a float N x C x H x W batch is not one)."""
    return (_np is not None and isinstance(value, _np.ndarray) and value.dtype == _np.uint8
            and (value.ndim == 2 or (value.ndim == 3 and value.shape[2] in (1, 3, 4))))


def is_image_like(value):
    """True for anything ``to_image`` takes, other than a numpy array."""
    from .image import Image
    return (isinstance(value, (Image, str, bytes, bytearray, memoryview, os.PathLike))
            or is_pil_image(value))


def _from_array(array, channel_order, what):
    if array.dtype != _np.uint8:
        raise errors.UnsupportedInputError(
            "%s takes uint8 pixel arrays, not %s; convert first, e.g. "
            "(a * 255).round().astype(numpy.uint8) for floats in 0..1" % (what, array.dtype),
            errors.INVALID_ARGUMENT)
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4))):
        raise errors.InvalidArgumentError(
            "%s takes an H x W, H x W x 1, H x W x 3 or H x W x 4 array, not shape %s"
            % (what, array.shape), errors.INVALID_ARGUMENT)
    from .image import Image
    if array.ndim == 3 and array.shape[2] == 4:
        return Image.from_array(array, channel_order + "A")
    return Image.from_array(array, channel_order)  # gray arrays ignore the order


def _from_pil(picture):
    from .image import Image
    mode = picture.mode
    if mode in ("1", "I", "I;16", "F", "LA"):
        picture, mode = picture.convert("L"), "L"
    elif mode not in ("L", "RGB", "RGBA"):
        picture, mode = picture.convert("RGB"), "RGB"
    fmt = {"L": "GRAY", "RGB": "RGB", "RGBA": "RGBA"}[mode]
    width, height = picture.size
    return Image.from_bytes(picture.tobytes(), width, height, fmt)


def to_image(value, channel_order="RGB", what="this function"):
    """A ``libfer.Image`` for ``value`` (see ``ACCEPTED``): the object
    itself for an Image, else a new one. ``channel_order`` applies to 3- and
    4-channel numpy arrays only. Raises ``UnsupportedInputError`` (a TypeError) for anything
    else, and
    ``LibferError`` naming the file for a file that cannot be read."""
    from .image import Image
    order = _check_order(channel_order)
    if isinstance(value, Image):
        return value
    if isinstance(value, (str, os.PathLike)):
        return Image.load(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        if not len(value):
            raise errors.InvalidArgumentError(
                "%s was given empty bytes; it takes the bytes of a PNG, JPEG, BMP "
                "or PNM file" % what, errors.INVALID_ARGUMENT)
        return Image.decode(value)
    if _np is not None and isinstance(value, _np.ndarray):
        return _from_array(value, order, what)
    if is_pil_image(value):
        return _from_pil(value)
    if value is None:
        hint = " (cv2.imread and VideoCapture.read give None when they fail)"
    else:
        hint = ""
    raise errors.UnsupportedInputError(
        "%s takes %s; got %s%s" % (what, ACCEPTED, type(value).__name__, hint),
        errors.INVALID_ARGUMENT)
