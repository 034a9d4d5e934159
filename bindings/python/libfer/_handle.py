"""Ownership of C handles by Python objects."""

import weakref

from . import _lib, errors


def _release(free_name, ptr):
    try:
        _lib.fn(free_name)(ptr)
    except Exception:  # interpreter shutdown: nothing sensible to do
        pass


def _keep_nothing():
    """The finalizer of a borrowed handle: the owner frees it."""


class Handle:
    """A Python object that owns one libfer handle.

    The handle is freed exactly once: by ``close()``, by leaving a ``with``
    block, or by the garbage collector. Using the object after that raises
    ``MisuseError`` instead of passing a dangling pointer to C.
    """

    _free_name = None  # the C function that frees this kind of handle
    _kind = "handle"

    def __init__(self, ptr):
        if not ptr:
            raise errors.InternalError("libfer returned a NULL %s" % self._kind)
        self._ptr = ptr
        self._finalizer = weakref.finalize(self, _release, self._free_name, ptr)

    def _init_borrowed(self, ptr, owner):
        """Wrap a handle that ``owner`` owns (a C getter's borrowed
        pointer): it is never freed here, and ``owner`` stays alive while
        this object lives. ``owner`` closes it (``_owner_closed``) before
        freeing the handle."""
        if not ptr:
            raise errors.InternalError("libfer returned a NULL %s" % self._kind)
        self._ptr = ptr
        self._owner = owner
        self._finalizer = weakref.finalize(self, _keep_nothing)

    def _owner_closed(self):
        """The owner is freeing the handle: this wrapper becomes closed."""
        self.close()

    @property
    def _h(self):
        """The C pointer; raises MisuseError once the handle is closed."""
        if self._ptr is None:
            raise errors.MisuseError("this %s was closed" % self._kind,
                                     errors.MISUSE)
        return self._ptr

    @property
    def closed(self):
        return self._ptr is None

    def close(self):
        """Free the C handle now (idempotent)."""
        if self._ptr is not None:
            self._finalizer()
            self._ptr = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False
