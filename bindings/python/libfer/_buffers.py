"""Passing arrays to C: numpy zero-copy when possible, ctypes copies otherwise.

Every helper returns the pointer together with the object that owns the
memory; the caller keeps that object alive for the duration of the C call.
"""

import ctypes

from . import errors

try:  # numpy is optional
    import numpy as np
except ImportError:  # pragma: no cover - exercised on machines without numpy
    np = None


def _invalid(message):
    return errors.InvalidArgumentError(message, errors.INVALID_ARGUMENT)


def _flatten(values):
    """A flat list of numbers from nested lists/tuples (no numpy)."""
    out = []
    stack = [values]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def is_array(value):
    return np is not None and isinstance(value, np.ndarray)


def floats_in(values, ctype=ctypes.c_float, dtype="float32"):
    """(pointer, keepalive, count) for read-only numbers given to C.

    A C-contiguous numpy array of the right dtype is passed in place; other
    arrays are converted once; lists, tuples and buffers are copied into a
    ctypes array.
    """
    if np is not None and not isinstance(values, (bytes, bytearray, memoryview)):
        if not isinstance(values, np.ndarray) and not isinstance(values, (list, tuple)):
            values = np.asarray(values)
        if isinstance(values, np.ndarray):
            arr = np.ascontiguousarray(values, dtype=dtype)
            return arr.ctypes.data_as(ctypes.POINTER(ctype)), arr, arr.size
    if isinstance(values, (bytes, bytearray, memoryview)):
        view = memoryview(values).cast("B")
        flat = list(view)
    else:
        flat = _flatten(values)
    arr = (ctype * len(flat))(*flat)
    return ctypes.cast(arr, ctypes.POINTER(ctype)), arr, len(flat)


def ints_in(values):
    return floats_in(values, ctypes.c_int32, "int32")


def u32_in(values):
    return floats_in(values, ctypes.c_uint32, "uint32")


def bytes_in(values):
    """(pointer, keepalive, count) of uint8 data (bytes, arrays, lists)."""
    if isinstance(values, (bytes, bytearray, memoryview)):
        view = memoryview(values)
        if view.readonly or not view.c_contiguous:
            buf = ctypes.create_string_buffer(view.tobytes(), view.nbytes)
        else:
            buf = (ctypes.c_char * view.nbytes).from_buffer(view)
        return ctypes.cast(buf, ctypes.POINTER(ctypes.c_uint8)), (buf, view), view.nbytes
    if is_array(values) and values.dtype != np.uint8:
        raise _invalid("pixel arrays must be uint8, not %s" % values.dtype)
    return floats_in(values, ctypes.c_uint8, "uint8")


def floats_out(count):
    """(pointer, buffer): room for ``count`` float32 values."""
    if np is not None:
        arr = np.empty(count, dtype=np.float32)
        return arr.ctypes.data_as(ctypes.POINTER(ctypes.c_float)), arr
    arr = (ctypes.c_float * count)()
    return ctypes.cast(arr, ctypes.POINTER(ctypes.c_float)), arr


def as_result(buf, shape=None):
    """A numpy array (reshaped) when numpy is present, else nested lists."""
    if np is not None and isinstance(buf, np.ndarray):
        return buf.reshape(shape) if shape else buf
    flat = list(buf)
    if not shape or len(shape) == 1:
        return flat
    rows, cols = shape[0], len(flat) // shape[0]
    return [flat[i * cols:(i + 1) * cols] for i in range(rows)]


def shape_of(values):
    """The shape of an array or of nested lists."""
    if is_array(values):
        return values.shape
    shape = []
    while isinstance(values, (list, tuple)):
        shape.append(len(values))
        if not values:
            break
        values = values[0]
    return tuple(shape)


def strings_in(names):
    """(char** array, keepalive) for a list of str."""
    encoded = [str(n).encode("utf-8") for n in names]
    arr = (ctypes.c_char_p * len(encoded))(*encoded)
    return arr, encoded
