"""What every file object shares: io's argument conversions (with io's
messages) and ``IOBase``, the base of each layer's classes.

Adapted from CPython's Lib/_pyio.py (PSF License), as the layers above.
"""

from __future__ import annotations

import io
import operator
import sys
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, AnyStr, Generic

from ._locks import TaskLock, serialized

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Self

__all__ = (
    "DEFAULT_BUFFER_SIZE",
    "IOBase",
    "bytes_view",
    "c_int",
    "optional_size",
    "ssize",
    "to_offset",
    "writable_view",
)

DEFAULT_BUFFER_SIZE = io.DEFAULT_BUFFER_SIZE


# -- argument conversion, with io's messages ---------------------------------


_SSIZE_MAX = sys.maxsize
_OFF_MAX = 2**63 - 1


def optional_size(size: object) -> int:
    """A ``size`` argument that may be None (meaning -1), as io converts it."""
    if size is None:
        return -1
    try:
        value = operator.index(size)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"argument should be integer or None, not '{type(size).__name__}'"
        ) from None
    if not -_SSIZE_MAX - 1 <= value <= _SSIZE_MAX:
        raise OverflowError("cannot fit 'int' into an index-sized integer")
    return value


def ssize(value: object) -> int:
    """An integer argument io converts to a C ``Py_ssize_t``."""
    number = operator.index(value)  # type: ignore[arg-type]
    if not -_SSIZE_MAX - 1 <= number <= _SSIZE_MAX:
        raise OverflowError("Python int too large to convert to C ssize_t")
    return number


def c_int(value: object) -> int:
    """An integer argument io converts to a C ``int`` (``whence``)."""
    number = operator.index(value)  # type: ignore[arg-type]
    if not -(2**31) <= number < 2**31:
        raise OverflowError("Python int too large to convert to C int")
    return number


def to_offset(value: object, error: type[Exception]) -> int:
    """A file offset, as io converts it to a C ``off_t``: ``error`` (with
    io's message) if it does not fit."""
    number = operator.index(value)  # type: ignore[arg-type]
    if not -_OFF_MAX - 1 <= number <= _OFF_MAX:
        if error is ValueError:
            raise ValueError("cannot fit 'int' into an offset-sized integer")
        raise error(_OFF_T_OVERFLOW)
    return number


#: io's message for an offset beyond off_t: Windows converts to a C long long.
_OFF_T_OVERFLOW = (
    "int too big to convert"
    if sys.platform == "win32"
    else "Python int too large to convert to C long"
)


def bytes_view(data: object) -> memoryview:
    """A byte view of a bytes-like argument to ``write``."""
    try:
        view = memoryview(data)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(
            f"a bytes-like object is required, not '{type(data).__name__}'"
        ) from None
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


def writable_view(buffer: object, method: str) -> memoryview:
    """A byte view of the read-write buffer given to ``readinto``."""
    message = (
        f"{method}() argument must be read-write bytes-like object, "
        f"not {type(buffer).__name__}"
    )
    try:
        view = memoryview(buffer)  # type: ignore[arg-type]
    except TypeError:
        raise TypeError(message) from None
    if view.readonly:
        view.release()
        raise TypeError(message)
    return view if view.format == "B" and view.ndim == 1 else view.cast("B")


# -- what every file object shares ----------------------------------------------


class IOBase(Generic[AnyStr]):
    """What io.IOBase gives every file object, asynchronously: ``async with``,
    ``async for``, ``readlines``, ``writelines`` and ``iter_chunked``."""

    _lock: TaskLock

    @property
    def closed(self) -> bool:
        raise NotImplementedError

    def _checkClosed(self, message: str | None = None) -> None:
        if self.closed:
            raise ValueError(
                "I/O operation on closed file." if message is None else message
            )

    async def read(self, size: int | None = -1) -> AnyStr:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def _iter_next(self) -> AnyStr | None:
        """The next line for ``async for``, None at the end (called locked)."""
        raise NotImplementedError

    def _release_now(self) -> None:
        """Close the descriptor without I/O (from ``__del__``)."""

    async def __aenter__(self) -> Self:
        self._checkClosed()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def __aiter__(self) -> Self:
        self._checkClosed()
        return self

    @serialized
    async def __anext__(self) -> AnyStr:
        line = await self._iter_next()
        if line is None:
            raise StopAsyncIteration
        return line

    @serialized
    async def _next_line(self) -> AnyStr | None:
        """``__anext__`` for async generators, which cannot raise
        StopAsyncIteration: None at the end."""
        return await self._iter_next()

    @serialized
    async def readlines(self, hint: int | None = -1) -> list[AnyStr]:
        """Like ``io.IOBase.readlines``: the lines to the end of the file, or,
        with a positive ``hint``, lines until their total length exceeds it."""
        limit = optional_size(hint)
        self._checkClosed()
        lines: list[AnyStr] = []
        length = 0
        while True:
            line = await self._iter_next()
            if line is None:
                return lines
            lines.append(line)
            if limit > 0:
                if len(line) > limit - length:
                    return lines
                length += len(line)

    async def _writelines(
        self, lines: Iterable[Any], write: Callable[[Any], Awaitable[int]]
    ) -> None:
        self._checkClosed()
        for line in lines:
            await write(line)

    async def iter_chunked(
        self, size: int = DEFAULT_BUFFER_SIZE
    ) -> AsyncIterator[AnyStr]:
        """Yield ``read(size)`` results until the end of the file.

        Each chunk is one serialised ``read``; other calls may run between
        chunks.
        """
        size = operator.index(size)
        if size <= 0:
            raise ValueError("chunk size must be positive")
        while True:
            chunk = await self.read(size)
            if not chunk:
                return
            yield chunk

    #: True while a text file wraps this one (see ``AsyncFileIO._wrapped``).
    _wrapped = False

    def __del__(self) -> None:
        """Like io's finaliser: an unclosed file warns (``ResourceWarning``,
        unless it does not own its descriptor), writes what it still buffers
        with blocking system calls, as io does, and releases its descriptor.
        An error is reported as io reports it, as unraisable.  The outermost
        layer does it all, even where the cycle collector finalises the inner
        ones first (io then loses the data)."""
        try:
            if self._wrapped or self.closed:
                return
            warns = self._warns_unclosed()
        except Exception:  # partly built, or detached
            return
        try:
            if warns:
                warnings.warn(
                    f"unclosed file {self!r}",
                    ResourceWarning,
                    stacklevel=2,
                    source=self,
                )
        finally:
            try:
                self._flush_at_collection()
            finally:
                self._release_now()

    def _warns_unclosed(self) -> bool:
        return True

    def _flush_at_collection(self) -> None:
        """Write what is buffered, blocking, if no call was in flight (a file
        collected with its task, mid-call, writes nothing: what its call had
        in the kernel is unknown)."""
