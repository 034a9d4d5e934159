"""Images: load, save, convert, and exchange pixels with numpy or bytes."""

import ctypes
import io
import os

from . import _lib, errors
from ._handle import Handle
from ._lib import (c_int, c_ptr, c_size, c_status, c_str, c_uint, signature,
                   Rect)

try:  # numpy is optional: used zero-copy when present
    import numpy as _np
except ImportError:  # pragma: no cover - exercised on machines without numpy
    _np = None

# fer_pixel_format values (include/fer/image.h).
PIXEL_FORMATS = {"GRAY": 1, "GRAY8": 1, "RGB": 2, "RGB24": 2, "BGR": 3,
                 "BGR24": 3, "RGBA": 4, "RGBA32": 4, "BGRA": 5, "BGRA32": 5,
                 "I420": 6, "NV12": 7}
_BYTES_PER_PIXEL = {1: 1, 2: 3, 3: 3, 4: 4, 5: 4}
IMAGE_FORMATS = {None: 0, "auto": 0, "pnm": 1, "pgm": 1, "ppm": 1, "bmp": 2,
                 "png": 3, "jpeg": 4, "jpg": 4}
RESIZE_METHODS = {"bilinear": 1, "linear": 1, "area": 2}
DECODE_IGNORE_ORIENTATION = 1
DECODE_GRAY = 2

signature("fer_image_create", c_status, c_int, c_int, c_int, ctypes.POINTER(c_ptr))
signature("fer_image_from_pixels", c_status, c_ptr, c_int, c_int, c_size, c_int,
          ctypes.POINTER(c_ptr))
signature("fer_image_to_pixels", c_status, c_ptr, c_int, c_ptr, c_size, c_size)
signature("fer_image_clone", c_status, c_ptr, ctypes.POINTER(c_ptr))
signature("fer_image_free", None, c_ptr)
signature("fer_image_width", c_int, c_ptr)
signature("fer_image_height", c_int, c_ptr)
signature("fer_image_channels", c_int, c_ptr)
signature("fer_image_stride", c_size, c_ptr)
signature("fer_image_data", c_ptr, c_ptr)
signature("fer_image_orientation", c_int, c_ptr)
signature("fer_image_decode", c_status, c_ptr, c_size, c_uint, ctypes.POINTER(c_ptr))
signature("fer_image_load", c_status, c_str, c_uint, ctypes.POINTER(c_ptr))
signature("fer_image_encode", c_status, c_ptr, c_int, ctypes.POINTER(c_ptr),
          ctypes.POINTER(c_size))
signature("fer_image_save", c_status, c_ptr, c_str, c_int)
signature("fer_image_to_gray", c_status, c_ptr, ctypes.POINTER(c_ptr))
signature("fer_image_to_rgb", c_status, c_ptr, ctypes.POINTER(c_ptr))
signature("fer_image_crop", c_status, c_ptr, ctypes.POINTER(Rect), ctypes.POINTER(c_ptr))
signature("fer_image_resize", c_status, c_ptr, c_int, c_int, c_int, ctypes.POINTER(c_ptr))
signature("fer_image_flip_horizontal", c_status, c_ptr)
signature("fer_image_draw_rect", c_status, c_ptr, ctypes.POINTER(Rect), ctypes.c_uint32, c_int)
signature("fer_image_fill_rect", c_status, c_ptr, ctypes.POINTER(Rect), ctypes.c_uint32)
signature("fer_image_draw_text", c_status, c_ptr, c_int, c_int, c_str, c_int, ctypes.c_uint32)
signature("fer_image_max_side", c_int)
signature("fer_image_max_pixels", ctypes.c_long)
signature("fer_image_data_mutable", c_ptr, c_ptr)
signature("fer_image_from_yuv420", c_status, c_ptr, c_size, c_ptr, c_size, c_ptr, c_size,
          c_int, c_int, c_int, ctypes.POINTER(c_ptr))
signature("fer_image_text_size", None, c_str, c_int, ctypes.POINTER(c_int), ctypes.POINTER(c_int))


def _color(value):
    """0xRRGGBB from an int or an (r, g, b) tuple."""
    if isinstance(value, int):
        return value & 0xFFFFFF
    r, g, b = value
    return (int(r) << 16) | (int(g) << 8) | int(b)


def _pixel_format(name):
    try:
        return PIXEL_FORMATS[name.upper()]
    except (KeyError, AttributeError):
        raise errors.InvalidArgumentError(
            "unknown pixel format %r (use one of %s)"
            % (name, ", ".join(sorted(PIXEL_FORMATS))), errors.INVALID_ARGUMENT)


def _buffer_address(data, writable=False):
    """(address, keepalive, nbytes) of a bytes-like or contiguous array."""
    if _np is not None and isinstance(data, _np.ndarray):
        if not data.flags["C_CONTIGUOUS"]:
            data = _np.ascontiguousarray(data)
        if data.dtype != _np.uint8:
            raise errors.InvalidArgumentError(
                "pixel arrays must be uint8, not %s" % data.dtype,
                errors.INVALID_ARGUMENT)
        return data.ctypes.data, data, data.nbytes
    if isinstance(data, (bytes,)) and not writable:
        buf = ctypes.create_string_buffer(data, len(data))
        return ctypes.addressof(buf), buf, len(data)
    view = memoryview(data)
    if view.readonly:
        if writable:
            raise errors.InvalidArgumentError("buffer is read-only", errors.INVALID_ARGUMENT)
        copy = ctypes.create_string_buffer(view.tobytes(), view.nbytes)
        return ctypes.addressof(copy), copy, view.nbytes
    arr = (ctypes.c_char * view.nbytes).from_buffer(view)
    return ctypes.addressof(arr), (arr, view), view.nbytes


def _is_jpeg(path, image_format):
    if image_format is not None:
        return image_format.lower() in ("jpeg", "jpg")
    return os.path.splitext(os.fsdecode(path))[1].lower() in (".jpg", ".jpeg")


def _write_atomic(path, data):
    """Write ``data`` to a temporary file next to ``path``, then rename it,
    as the library writes its own files."""
    path = os.fsdecode(path)
    temp = "%s.tmp.%d" % (path, os.getpid())
    try:
        with open(temp, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except OSError as exc:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise errors.LibferIOError("%s: cannot write: %s" % (path, exc.strerror or exc),
                                   errors.IO)


class Image(Handle):
    """An 8-bit image with 1 (gray) or 3 (RGB) channels."""

    _free_name = "fer_image_free"
    _kind = "Image"

    # -- construction ------------------------------------------------------
    @classmethod
    def _wrap(cls, ptr):
        return cls(ptr)

    @classmethod
    def new(cls, width, height, channels=3):
        out = c_ptr()
        _lib.call("fer_image_create", width, height, channels, ctypes.byref(out))
        return cls(out.value)

    @classmethod
    def load(cls, path, gray=False, ignore_orientation=False):
        """Decode a PNM, BMP, PNG or JPEG file."""
        flags = (DECODE_GRAY if gray else 0) | (
            DECODE_IGNORE_ORIENTATION if ignore_orientation else 0)
        out = c_ptr()
        _lib.call("fer_image_load", _lib.encode_path(path), flags, ctypes.byref(out))
        return cls(out.value)

    @classmethod
    def decode(cls, data, gray=False, ignore_orientation=False):
        """Decode an in-memory file (bytes-like)."""
        flags = (DECODE_GRAY if gray else 0) | (
            DECODE_IGNORE_ORIENTATION if ignore_orientation else 0)
        addr, keep, n = _buffer_address(data)
        out = c_ptr()
        _lib.call("fer_image_decode", addr, n, flags, ctypes.byref(out))
        del keep
        return cls(out.value)

    @classmethod
    def from_bytes(cls, data, width, height, pixel_format="GRAY", stride=0):
        """Copy pixels from any bytes-like object in ``pixel_format``."""
        fmt = _pixel_format(pixel_format)
        addr, keep, n = _buffer_address(data)
        bpp = _BYTES_PER_PIXEL.get(fmt, 1)
        row = stride or width * bpp
        need = row * height if fmt not in (6, 7) else row * height * 3 // 2
        if n < need:
            raise errors.InvalidArgumentError(
                "pixel buffer holds %d bytes, %dx%d %s needs %d"
                % (n, width, height, pixel_format, need), errors.INVALID_ARGUMENT)
        out = c_ptr()
        _lib.call("fer_image_from_pixels", addr, width, height, stride, fmt,
                  ctypes.byref(out))
        del keep
        return cls(out.value)

    @classmethod
    def from_array(cls, array, channel_order="RGB"):
        """From a numpy array: H x W (gray) or H x W x 3/4 in ``channel_order``
        ("RGB", "BGR" as OpenCV holds images, "RGBA", "BGRA")."""
        if _np is None:
            raise errors.LibferError("numpy is not installed; use Image.from_bytes")
        arr = _np.asarray(array)
        if arr.dtype != _np.uint8:
            raise errors.InvalidArgumentError(
                "arrays must be uint8, not %s" % arr.dtype, errors.INVALID_ARGUMENT)
        if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] == 1):
            fmt = "GRAY"
        elif arr.ndim == 3 and arr.shape[2] in (3, 4):
            fmt = channel_order.upper()
            if len(fmt) != arr.shape[2]:
                raise errors.InvalidArgumentError(
                    "channel_order %r does not fit %d channels"
                    % (channel_order, arr.shape[2]), errors.INVALID_ARGUMENT)
        else:
            raise errors.InvalidArgumentError(
                "expected H x W or H x W x 3/4, got shape %s" % (arr.shape,),
                errors.INVALID_ARGUMENT)
        height, width = arr.shape[:2]
        stride = arr.strides[0] if arr.flags["C_CONTIGUOUS"] else 0
        return cls.from_bytes(_np.ascontiguousarray(arr), width, height, fmt, stride)

    @classmethod
    def from_yuv420(cls, y, u, v, width, height, y_stride=0, u_stride=0, v_stride=0,
                    nv12=False):
        """From separate BT.601 4:2:0 planes (bytes-like or arrays); for NV12
        pass the interleaved UV plane as ``u`` and None as ``v``."""
        planes = [_buffer_address(p) if p is not None else (None, None, 0) for p in (y, u, v)]
        out = c_ptr()
        _lib.call("fer_image_from_yuv420", planes[0][0], y_stride, planes[1][0], u_stride,
                  planes[2][0], v_stride, width, height,
                  PIXEL_FORMATS["NV12" if nv12 else "I420"], ctypes.byref(out))
        del planes
        return cls(out.value)

    @staticmethod
    def limits():
        """{"max_side", "max_pixels"}: larger images are refused."""
        return {"max_side": _lib.fn("fer_image_max_side")(),
                "max_pixels": _lib.fn("fer_image_max_pixels")()}

    # -- properties --------------------------------------------------------
    @property
    def width(self):
        return _lib.fn("fer_image_width")(self._h)

    @property
    def height(self):
        return _lib.fn("fer_image_height")(self._h)

    @property
    def channels(self):
        return _lib.fn("fer_image_channels")(self._h)

    @property
    def shape(self):
        """(height, width) or (height, width, 3), as numpy would give."""
        c = self.channels
        return (self.height, self.width) if c == 1 else (self.height, self.width, c)

    @property
    def stride(self):
        """Bytes between rows of the image's own memory."""
        return _lib.fn("fer_image_stride")(self._h)

    def raw(self):
        """The image's own memory as bytes (rows of ``stride`` bytes)."""
        h = self._h
        return ctypes.string_at(_lib.fn("fer_image_data")(h), self.stride * self.height)

    def write_pixels(self, data):
        """Overwrite the pixels in place from tightly packed rows in the
        image's own layout (gray, or R,G,B): bytes-like or a uint8 array."""
        addr, keep, n = _buffer_address(data)
        w, h, c = self.width, self.height, self.channels
        if n != w * h * c:
            raise errors.InvalidArgumentError(
                "%d bytes given for a %dx%dx%d image" % (n, w, h, c), errors.INVALID_ARGUMENT)
        dst = _lib.fn("fer_image_data_mutable")(self._h)
        stride = self.stride
        for row in range(h):
            ctypes.memmove(dst + row * stride, addr + row * w * c, w * c)
        del keep
        return self

    @property
    def orientation(self):
        """The EXIF orientation found in the file (1..8)."""
        return _lib.fn("fer_image_orientation")(self._h)

    def __repr__(self):
        if self.closed:
            return "<libfer.Image closed>"
        return "<libfer.Image %dx%d, %d channel%s>" % (
            self.width, self.height, self.channels, "" if self.channels == 1 else "s")

    # -- pixels out --------------------------------------------------------
    def to_bytes(self, pixel_format=None):
        """Pixels as bytes, tightly packed, in ``pixel_format`` (default: the
        image's own, GRAY or RGB)."""
        fmt = _pixel_format(pixel_format or ("GRAY" if self.channels == 1 else "RGB"))
        w, h = self.width, self.height
        if fmt in (6, 7):
            size = w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2)
            stride = w
        else:
            stride = w * _BYTES_PER_PIXEL[fmt]
            size = stride * h
        buf = ctypes.create_string_buffer(size)
        _lib.call("fer_image_to_pixels", self._h, fmt, buf, stride, size)
        return buf.raw

    def to_array(self, channel_order="RGB"):
        """A new numpy array: H x W for gray, H x W x 3 (or 4) otherwise."""
        if _np is None:
            raise errors.LibferError("numpy is not installed; use to_bytes()")
        if self.channels == 1 and channel_order.upper() in ("RGB", "BGR"):
            channel_order = "GRAY"
        fmt = channel_order.upper()
        data = self.to_bytes(fmt)
        arr = _np.frombuffer(data, dtype=_np.uint8)
        if fmt in ("GRAY", "GRAY8"):
            return arr.reshape(self.height, self.width).copy()
        return arr.reshape(self.height, self.width, len(fmt)).copy()

    def __array__(self, dtype=None, copy=None):
        """``numpy.asarray(image)``: as ``to_array()`` (RGB or gray)."""
        arr = self.to_array()
        return arr if dtype is None else arr.astype(dtype)

    def to_pil(self):
        """A new PIL image (mode "L" or "RGB"); needs Pillow."""
        from PIL import Image as PILImage
        mode = "L" if self.channels == 1 else "RGB"
        return PILImage.frombytes(mode, (self.width, self.height), self.to_bytes())

    def _repr_png_(self):
        """Jupyter shows the image itself."""
        return None if self.closed else self.encode("png")

    # -- files -------------------------------------------------------------
    def save(self, path, image_format=None, quality=90):
        """Write atomically; the format follows the extension by default
        (.png, .bmp, .pgm/.ppm, .jpg/.jpeg). libfer itself writes PNG, BMP
        and PNM; JPEG goes through Pillow (``quality`` 1..95) when it is
        installed."""
        if _is_jpeg(path, image_format):
            _write_atomic(path, self.encode("jpeg", quality))
            return
        _lib.call("fer_image_save", self._h, _lib.encode_path(path),
                  IMAGE_FORMATS[image_format and image_format.lower()])

    def encode(self, image_format="png", quality=90):
        """The bytes of a PNG (default), BMP, PNM or, through Pillow, JPEG
        file of the image."""
        if image_format.lower() in ("jpeg", "jpg"):
            return self._encode_jpeg(quality)
        data = c_ptr()
        size = c_size()
        _lib.call("fer_image_encode", self._h, IMAGE_FORMATS[image_format.lower()],
                  ctypes.byref(data), ctypes.byref(size))
        try:
            return ctypes.string_at(data.value, size.value)
        finally:
            _lib.fn("fer_free")(data)

    def _encode_jpeg(self, quality):
        try:
            import PIL.Image  # noqa: F401
        except ImportError:
            raise errors.FileFormatError(
                "libfer decodes JPEG but does not encode it; saving JPEG needs Pillow "
                "(Debian package python3-pil), or save as .png", errors.UNSUPPORTED)
        out = io.BytesIO()
        self.to_pil().save(out, "JPEG", quality=int(quality))
        return out.getvalue()

    # -- operations --------------------------------------------------------
    def _new_from(self, name, *args):
        out = c_ptr()
        _lib.call(name, self._h, *args, ctypes.byref(out))
        return Image(out.value)

    def copy(self):
        return self._new_from("fer_image_clone")

    def to_gray(self):
        return self._new_from("fer_image_to_gray")

    def to_rgb(self):
        return self._new_from("fer_image_to_rgb")

    def crop(self, x, y, width, height):
        rect = Rect(x, y, width, height)
        return self._new_from("fer_image_crop", ctypes.byref(rect))

    def resize(self, width, height, method="area"):
        try:
            m = RESIZE_METHODS[method]
        except KeyError:
            raise errors.InvalidArgumentError(
                "unknown resize method %r (bilinear or area)" % (method,),
                errors.INVALID_ARGUMENT)
        return self._new_from("fer_image_resize", width, height, m)

    def flip_horizontal(self):
        """Mirror in place; returns self."""
        _lib.call("fer_image_flip_horizontal", self._h)
        return self

    def draw_rect(self, box, color=(0, 255, 0), thickness=2):
        rect = Rect(*[int(v) for v in box])
        _lib.call("fer_image_draw_rect", self._h, ctypes.byref(rect), _color(color), thickness)
        return self

    def fill_rect(self, box, color):
        rect = Rect(*[int(v) for v in box])
        _lib.call("fer_image_fill_rect", self._h, ctypes.byref(rect), _color(color))
        return self

    def draw_text(self, x, y, text, scale=2, color=(255, 255, 255)):
        _lib.call("fer_image_draw_text", self._h, int(x), int(y),
                  text.encode("ascii", "replace"), scale, _color(color))
        return self

    @staticmethod
    def text_size(text, scale=2):
        w, h = c_int(), c_int()
        _lib.fn("fer_image_text_size")(text.encode("ascii", "replace"), scale,
                                       ctypes.byref(w), ctypes.byref(h))
        return w.value, h.value
