"""Chunks of a file with read-ahead (re-exported by :mod:`asyncfile.streams`)."""

from __future__ import annotations

import operator
import os
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast, overload

from .. import file as _file
from ..contexts import get_context
from ..io._raw import cached_reader_of
from ._calls import InFlightCall

Chunks: type[AsyncIterator[Any]] | None
try:
    from .._speedups import Chunks
except ImportError:  # built without a C compiler
    Chunks = None

if TYPE_CHECKING:
    from typing_extensions import Self

    from ..core.asyncio_base import AsyncioContextBase

__all__ = ("ChunkReader",)

DEFAULT_CHUNK_SIZE = 256 * 1024
DEFAULT_DEPTH = 4

PathLike = str | bytes | os.PathLike[str] | os.PathLike[bytes]

#: What a ChunkReader hands out: ``bytes``, or ``memoryview`` with reuse_buffers.
ChunkT = TypeVar("ChunkT", bound="bytes | memoryview")
Source = PathLike | Any  # a path, or an open file object with fileno()


class _Opened:
    """A descriptor for positional reads: opened here (and closed here) from
    a path, or borrowed from an open file object."""

    __slots__ = ("_file", "fd", "name")

    def __init__(self, fd: int, name: object, file: Any | None) -> None:
        self.fd = fd
        self.name = name
        self._file = file

    @staticmethod
    def check(source: Source) -> None:
        """Raise what opening ``source`` would for its type or value (a path
        that is no path, a NUL in it), without touching the file system."""
        if isinstance(source, str | bytes | os.PathLike):
            if "\0" in os.fsdecode(source):
                raise ValueError("embedded null byte")
            return
        if getattr(source, "fileno", None) is None or isinstance(source, int | bool):
            raise TypeError(
                f"expected a path or an open file object, got {type(source).__name__}"
            )

    @classmethod
    async def open(cls, source: Source, mode: str) -> _Opened:
        cls.check(source)
        if isinstance(source, str | bytes | os.PathLike):
            raw = await _file.open(source, mode, buffering=0)
            return cls(raw.fileno(), raw.name, raw)
        return cls(source.fileno(), getattr(source, "name", None), None)

    async def close(self) -> None:
        file, self._file = self._file, None
        if file is not None:
            await file.close()


class PyChunkReaderBase:
    """The state of a ChunkReader that the C chunk iterator reads and moves,
    as ``__slots__``: the pure-Python twin of ``_speedups.ChunkReaderBase``,
    which declares the same fields in C (as ``Lib/_pyio.py`` twins ``_io``)."""

    __slots__ = (
        "_busy",
        "_cached_reader",
        "_closed",
        "_eof",
        "_fd",
        "_held",
        "_next",
        "_offset",
        "_pending",
        "chunk_size",
        "end",
        "reuse_buffers",
    )


if TYPE_CHECKING:
    from .._speedups import ChunkReaderBase
else:
    try:
        from .._speedups import ChunkReaderBase
    except ImportError:  # built without a compiler
        ChunkReaderBase = PyChunkReaderBase


class ChunkReader(ChunkReaderBase, Generic[ChunkT]):
    """Chunks of ``source`` from ``start`` to ``end`` with read-ahead.

    ``source`` is a path (opened ``"rb"``, closed by :meth:`aclose`) or an
    open asyncfile (or any) file object with ``fileno()`` (borrowed: neither
    its position nor its state changes).  Chunk ``i`` covers
    ``[start + i * chunk_size, min(end, start + (i + 1) * chunk_size))``; the
    last one is short, and so is the one where the file ends if it ends
    before ``end`` (``end=None``: read to the end of the file, as it is when
    the reads get there).

    While reads wait for the device, ``depth`` of them are in flight, so the
    next chunks are being read while the caller handles one.  Reads the page
    cache serves complete the moment they start (a copy on this thread that
    nothing could overlap), so those are made when a chunk is asked for:
    cached data streams without a task, a loop turn or a buffer in flight
    per chunk.  The reader switches between the two as reads go.

    With ``reuse_buffers=False`` (the default; any value counts as its
    ``bool``) every chunk is a new ``bytes`` the caller may keep.  With
    ``reuse_buffers=True`` chunks are
    ``memoryview`` s of at most ``depth + 1`` buffers allocated once: a chunk is
    valid only until the next one is requested, and steady-state streaming
    allocates nothing per chunk.  Memory stays at most ``chunk_size * (depth
    + 1)`` in either mode, besides what the caller keeps.  ``context``: the
    core context to read with (default: that of the loop running the first
    read; a reader serves one loop).

    A read error is raised at the chunk it concerns, after the ones before
    it; the reader is then closed.  A cancelled ``__anext__`` delivers
    nothing and loses nothing: the next call returns the same chunk.  Use as
    ``async with ChunkReader(...) as chunks: async for chunk in chunks``, or
    call :meth:`aclose` (iterating to the end closes it too).
    """

    # ChunkReaderBase's fields (declared there; annotated here, never
    # assigned in the class body, which would hide them).  _fd is the
    # descriptor of _opened, kept in step with it: -1 while none is open.
    _pending: deque[tuple[int, int, Any, InFlightCall[Any]]]

    @overload
    def __init__(
        self: ChunkReader[bytes],
        source: Source,
        *,
        chunk_size: int = ...,
        start: int = ...,
        end: int | None = ...,
        depth: int = ...,
        reuse_buffers: Literal[False] = ...,
        context: AsyncioContextBase | None = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: ChunkReader[memoryview],
        source: Source,
        *,
        chunk_size: int = ...,
        start: int = ...,
        end: int | None = ...,
        depth: int = ...,
        reuse_buffers: Literal[True],
        context: AsyncioContextBase | None = ...,
    ) -> None: ...
    @overload
    def __init__(
        self: ChunkReader[bytes | memoryview],
        source: Source,
        *,
        chunk_size: int = ...,
        start: int = ...,
        end: int | None = ...,
        depth: int = ...,
        reuse_buffers: bool,
        context: AsyncioContextBase | None = ...,
    ) -> None: ...
    def __init__(
        self,
        source: Source,
        *,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        start: int = 0,
        end: int | None = None,
        depth: int = DEFAULT_DEPTH,
        reuse_buffers: bool = False,
        context: AsyncioContextBase | None = None,
    ) -> None:
        chunk_size = operator.index(chunk_size)
        depth = operator.index(depth)
        start = operator.index(start)
        if end is not None:
            end = operator.index(end)
        _Opened.check(source)
        if chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, got {chunk_size}")
        if depth < 1:
            raise ValueError(f"depth must be at least 1, got {depth}")
        if start < 0:
            raise ValueError(f"start must not be negative, got {start}")
        if end is not None and end < start:
            raise ValueError(f"end ({end}) is before start ({start})")
        self._source = source
        self.chunk_size = chunk_size
        self.depth = depth
        self.start = start
        self.end = end
        self.reuse_buffers = bool(reuse_buffers)
        self._context = context
        #: The context's cached_reader(), once the context is known.
        self._cached_reader = None if context is None else cached_reader_of(context)
        self._opened: _Opened | None = None
        self._fd = -1
        self._closed = False
        self._ended = False  # closed by reaching the end, not by aclose()
        self._offset = start  # where the next chunk handed out starts
        self._next = start  # where the next read started will start
        self._eof = False  # a read came back short: start no more
        self._pending = deque()
        self._free: list[memoryview] = []
        self._held: memoryview | None = None  # the buffer the caller has
        self._busy = False
        self._ahead = False  # reads wait for the device: keep depth in flight

    @property
    def offset(self) -> int:
        """Where the next chunk starts (the end of the ones handed out)."""
        return self._offset

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> Self:
        await self._ensure_open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[ChunkT]:
        # The C iterator serves cached chunks without __anext__'s frames.
        if Chunks is None:
            return self
        return Chunks(self)  # type: ignore[call-arg]

    async def read_chunk(self) -> ChunkT | bytes:
        """The next chunk (``bytes``, or a ``memoryview`` with
        ``reuse_buffers``); empty at the end of the range (the reader is
        closed then)."""
        try:
            return await self.__anext__()
        except StopAsyncIteration:
            return b""

    async def __anext__(self) -> ChunkT:
        if self._closed:
            if self._ended:
                # Also after a call that reached the end was cancelled.
                raise StopAsyncIteration
            raise ValueError("I/O operation on closed ChunkReader")
        if self._busy:
            raise RuntimeError("a read is already running: one at a time")
        self._busy = True
        try:
            if self._opened is None:
                await self._ensure_open()
            self._release_held()
            pending = self._pending
            if not pending:
                try:
                    chunk = self._cached_chunk()
                except Exception:
                    await self.aclose()
                    raise
                if chunk is not None:
                    if not chunk:
                        self._ended = True
                        await self.aclose()
                        raise StopAsyncIteration
                    return chunk
                job = self._next_job()
                if job is None:
                    self._ended = True
                    await self.aclose()
                    raise StopAsyncIteration
                offset, size, buffer, coro = job
                try:
                    step = coro.send(None)
                except StopIteration as stop:  # a page-cache hit: no object kept
                    chunk = self._deliver(offset, size, buffer, stop.value)
                    if not chunk:
                        self._ended = True
                        await self.aclose()
                        raise StopAsyncIteration from None
                    return chunk
                except Exception:
                    await self.aclose()
                    raise
                pending.append((offset, size, buffer, InFlightCall.stepped(coro, step)))
            offset, size, buffer, call = pending[0]
            # Reads that wait for the device: keep depth of them in flight.
            self._ahead = not call.inline
            self._fill()
            try:
                value = call.value() if call.done else await call.result()
            except BaseException as exc:
                pending.popleft()
                self._abandon_all()
                if isinstance(exc, Exception):
                    await self.aclose()
                raise
            pending.popleft()
            chunk = self._deliver(offset, size, buffer, value)
            if not chunk:
                self._ended = True
                await self.aclose()
                raise StopAsyncIteration
            self._fill()
            return chunk
        finally:
            self._busy = False

    async def aclose(self) -> None:
        """Stop reading; close the file if this reader opened it. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._abandon_all()
        self._free.clear()
        self._held = None
        opened, self._opened = self._opened, None
        self._fd = -1
        if opened is not None:
            await opened.close()

    # -- internals ------------------------------------------------------------

    async def _ensure_open(self) -> None:
        if self._opened is None:
            if self._closed:
                raise ValueError("I/O operation on closed ChunkReader")
            opened = await _Opened.open(self._source, "rb")
            self._opened, self._fd = opened, opened.fd

    def _next_job(self) -> tuple[int, int, memoryview | None, Any] | None:
        """The next read of the range, not started: offset, size, buffer
        (``None`` for a ``bytes`` chunk) and the core call."""
        if self._eof:
            return None
        offset = self._next
        size = self._size_at(offset)
        if size <= 0:
            return None
        self._next = offset + size
        context = self._context
        if context is None:
            context = self._context = get_context()
            self._cached_reader = cached_reader_of(context)
        fd = self._fd
        assert fd >= 0, "read before the file was opened"
        if not self.reuse_buffers:
            return offset, size, None, context.read(size, fd, offset)
        buffer = (
            self._free.pop() if self._free else memoryview(bytearray(self.chunk_size))
        )
        return offset, size, buffer, context.readinto(buffer[:size], fd, offset)

    def _cached_chunk(self) -> ChunkT | None:
        """The next chunk if the page cache holds it now (read on this
        thread, as the core reads any cached chunk), else None with nothing
        started; chunks in reused buffers take the core's calls."""
        reader = self._cached_reader
        if reader is None or self.reuse_buffers or self._eof:
            return None
        offset = self._next
        size = self._size_at(offset)
        if size <= 0:
            return None
        assert self._fd >= 0, "read before the file was opened"
        data = reader(size, self._fd, offset)
        if data is None or data is False:
            return None  # False too: aread's call takes the loop turn
        self._next = offset + size
        return self._deliver(offset, size, None, data)

    def _size_at(self, offset: int) -> int:
        """The size of the chunk starting at ``offset`` (0 or less: none)."""
        end = self.end
        return self.chunk_size if end is None else min(self.chunk_size, end - offset)

    def _fill(self) -> None:
        """While reads wait for the device, start reads until ``depth`` are
        in flight (page-cache hits are read when asked for: they complete
        the moment they start, so nothing would overlap)."""
        pending = self._pending
        while self._ahead and len(pending) < self.depth:
            job = self._next_job()
            if job is None:
                return
            offset, size, buffer, coro = job
            pending.append((offset, size, buffer, InFlightCall(coro)))

    def _deliver(
        self, offset: int, size: int, buffer: memoryview | None, value: Any
    ) -> ChunkT:
        """Account for a completed read; the chunk to hand out."""
        if buffer is None:
            chunk, count = value, len(value)
        else:
            self._held = buffer
            chunk, count = buffer[:value], value
        self._offset = offset + count
        if count < size:
            self._eof = True
            self._abandon_all()
        # bytes without reuse_buffers, a memoryview with: what ChunkT says.
        return cast("ChunkT", chunk)

    def _release_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            self._free.append(held)

    def _abandon_all(self) -> None:
        """Forget every pending read; their buffers are not reused, since
        the kernel may still write into them."""
        pending, self._pending = self._pending, deque()
        for _offset, _size, _buffer, call in pending:
            call.abandon()
        self._next = self._offset

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"offset={self._offset}"
        return (
            f"<{type(self).__module__}.{type(self).__qualname__} "
            f"{self._source!r} {state}>"
        )
