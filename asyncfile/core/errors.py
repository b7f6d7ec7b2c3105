"""The errors every backend raises.

An operation that the kernel fails raises :class:`AIOError`, or rather the subclass
that also derives from the built-in ``OSError`` subclass Python itself would raise for
that errno (``FileNotFoundError``, ``PermissionError``, ...).  Each carries ``errno``,
``strerror`` and the file descriptor as ``filename``.

``AIOError`` also derives from ``SystemError`` because caio raised ``SystemError`` for
failed operations: code written for caio keeps catching them.
"""

from __future__ import annotations

import errno as errno_codes
import os

__all__ = (
    "AIOError",
    "BufferTypeError",
    "QueueFullError",
    "error_from_errno",
    "error_from_oserror",
)


class AIOError(OSError, SystemError):
    """An asynchronous I/O operation failed; ``errno`` says why."""

    __module__ = "asyncfile.core"


def _specialise(base: type[OSError]) -> type[AIOError]:
    name = "AIO" + base.__name__
    cls = type(name, (base, AIOError), {"__module__": "asyncfile.core.errors"})
    cls.__doc__ = f"An asynchronous I/O operation failed with a {base.__name__}."
    return cls


# The OSError subclasses Python's own errno mapping (PEP 3151) can produce.
_SPECIALISED: dict[type[OSError], type[AIOError]] = {
    base: _specialise(base)
    for base in (
        BlockingIOError,
        ChildProcessError,
        BrokenPipeError,
        ConnectionAbortedError,
        ConnectionRefusedError,
        ConnectionResetError,
        FileExistsError,
        FileNotFoundError,
        InterruptedError,
        IsADirectoryError,
        NotADirectoryError,
        PermissionError,
        ProcessLookupError,
        TimeoutError,
    )
}


# Bound by name so that pickle finds them.
globals().update({cls.__name__: cls for cls in _SPECIALISED.values()})


def error_class(code: int) -> type[AIOError]:
    """The AIOError subclass for ``code``, matching Python's own errno mapping."""
    builtin = type(OSError(code, ""))
    return _SPECIALISED.get(builtin, AIOError)


def error_from_errno(code: int, fd: int | str | None = None) -> AIOError:
    """An :class:`AIOError` for ``code`` (a positive errno) on ``fd``."""
    if code <= 0:
        raise ValueError(f"errno must be positive, got {code}")
    cls = error_class(code)
    if fd is None:
        return cls(code, os.strerror(code))
    return cls(code, os.strerror(code), fd)


def error_from_oserror(exc: OSError, fd: int | str | None = None) -> AIOError:
    """``exc`` as the :class:`AIOError` for its errno on ``fd``; a Windows error
    keeps its ``winerror`` and Windows' message, as ``io`` shows them."""
    code = exc.errno
    if not code:
        raise ValueError(f"{exc!r} carries no errno")
    winerror = getattr(exc, "winerror", None)
    if winerror is None:
        return error_from_errno(code, fd)
    return error_class(code)(code, exc.strerror, fd, winerror)


def cancelled_error(fd: int | None = None) -> AIOError:
    """The error an operation completes with when it was cancelled before running."""
    return error_from_errno(errno_codes.ECANCELED, fd)


class BufferTypeError(TypeError, ValueError):
    """An argument is not a contiguous buffer of bytes.

    A ``TypeError`` as for ``os.pwrite``; also a ``ValueError``, which caio raised.
    """

    __module__ = "asyncfile.core"


class QueueFullError(RuntimeError, OverflowError):
    """``submit()`` found every request slot busy.

    The operations before the one refused were accepted and run; the refused
    one and those after it were not touched.  A ``RuntimeError`` as caio's
    thread and Python backends raise, and an ``OverflowError`` as its
    io_uring backend does.
    """

    __module__ = "asyncfile.core"
