"""The buffered layer: io's BufferedReader, BufferedWriter and
BufferedRandom, with coroutines for every call that touches the disk, over
:mod:`._raw`'s files.

Adapted from CPython's Lib/_pyio.py (PSF License), following the C
implementation (Modules/_io/bufferedio.c) wherever the two differ, since that
is what ``open()`` returns: one buffer shared by reads and writes with C's
bookkeeping (so ``read1``, ``peek`` and ``readinto1`` return what io returns
after any mix of calls, and bytes reach the raw file at the same moments),
block-aligned raw reads, and io's argument checks and error messages.  Raw
reads return new bytes that are then copied into the buffer, never reads into
the buffer itself: a cancelled read may still complete in the kernel.

Every public coroutine of one object runs under the
:class:`~asyncfile.io._locks.TaskLock` of its file: the raw file's, which the
buffered and text files over it share, so calls on any layer of one file never
interleave.  The lock is taken once, by the public method a call enters; the
layers below are called through their unlocked methods (``AsyncFileIO``'s for
the raw file, the ``_``-prefixed twins of the buffered file's coroutines).

Cancellation.  A buffered call that is cancelled leaves the object as if the
call had not been made, or as if it had completed:

- raw writes complete despite the cancellation (they may already be in the
  kernel) and are then accounted for, so nothing is written twice or lost;
- bytes a read took from the buffer or the raw file before it failed or was
  cancelled are put back into the buffer, so the position stays where it was
  and the next read returns them (io, on an error, loses them);
- ``write`` either returns (its bytes are buffered or written) or, when it is
  cancelled while waiting for the lock, raises having done nothing.
"""

from __future__ import annotations

import collections.abc
import io
import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, NoReturn

from ..contexts import running_loop
from ._base import (
    DEFAULT_BUFFER_SIZE,
    IOBase,
    bytes_view,
    c_int,
    optional_size,
    ssize,
    to_offset,
    writable_view,
)
from ._cancellation import runs_to_the_end
from ._locks import serialized
from ._raw import AsyncFileIO, FileIO

FastPathMethod: Any
try:
    from .._speedups import FastPathCall, FastPathMethod, read_at_once, start_close
except ImportError:  # built without a C compiler
    FastPathMethod = None
else:
    # What a FastPathMethod returns behaves as the coroutine it stands for.
    collections.abc.Coroutine.register(FastPathCall)

if TYPE_CHECKING:
    from typing_extensions import Buffer


__all__ = (
    "DEFAULT_BUFFER_SIZE",
    "BufferedIOBase",
    "BufferedRandom",
    "BufferedReader",
    "BufferedWriter",
)

UnsupportedOperation = io.UnsupportedOperation

#: The ``whence`` values ``seek`` accepts, as io checks them.
VALID_SEEK_FLAGS = frozenset(
    {os.SEEK_SET, os.SEEK_CUR, os.SEEK_END}
    | ({os.SEEK_HOLE, os.SEEK_DATA} if hasattr(os, "SEEK_HOLE") else set())
)


#: Python 3.13 changed io in ways one can see: BufferedIOBase converts the
#: size of an unsupported read before refusing it, and a buffered write of a
#: whole buffer's worth goes straight to the raw file.
_CONVERTS_FIRST = _WRITES_FULL_BUFFERS = sys.version_info >= (3, 13)


# -- buffered layers --------------------------------------------------------------


class BufferedIOBase(IOBase[bytes]):
    """What io.BufferedIOBase gives: the operations a subclass does not offer
    raise ``io.UnsupportedOperation``, as io's do."""

    async def read(self, size: int | None = -1) -> bytes:
        """Like ``io.BufferedIOBase.read``: unsupported on this object."""
        if _CONVERTS_FIRST:
            c_int(size)
        raise UnsupportedOperation("read")

    async def read1(self, size: int = -1) -> bytes:
        """Like ``io.BufferedIOBase.read1``: unsupported on this object."""
        if _CONVERTS_FIRST:
            c_int(size)
        raise UnsupportedOperation("read1")

    # The unlocked twins the text layer calls (it holds the file's lock).

    async def _read(self, size: int | None = -1) -> bytes:
        return await BufferedIOBase.read(self, size)

    async def _read1(self, size: int = -1) -> bytes:
        return await BufferedIOBase.read1(self, size)

    async def _write(self, data: Buffer) -> int:
        return await BufferedIOBase.write(self, data)

    async def readinto(self, buffer: Buffer) -> int:
        """Like ``io.BufferedIOBase.readinto``."""
        return await self._readinto_by_read(buffer, read1=False)

    async def readinto1(self, buffer: Buffer) -> int:
        """Like ``io.BufferedIOBase.readinto1``."""
        return await self._readinto_by_read(buffer, read1=True)

    async def _readinto_by_read(self, buffer: Buffer, read1: bool) -> int:
        with writable_view(buffer, "readinto1" if read1 else "readinto") as view:
            data = await (self.read1 if read1 else self.read)(len(view))
            view[: len(data)] = data
            return len(data)

    async def readline(self, size: int | None = -1) -> bytes:
        """Like ``io.IOBase.readline``."""
        limit = optional_size(size)
        line = bytearray()
        while limit < 0 or len(line) < limit:
            byte = await self.read(1)
            if not byte:
                break
            line += byte
            if byte == b"\n":
                break
        return bytes(line)

    async def _iter_next(self) -> bytes | None:
        return await self.readline() or None

    async def write(self, data: Buffer) -> int:
        """Like ``io.BufferedIOBase.write``: unsupported on this object."""
        raise UnsupportedOperation("write")

    async def writelines(self, lines: Iterable[Buffer]) -> None:
        """Like ``io.IOBase.writelines``: ``write`` each item, in order."""
        await self._writelines(lines, self.write)

    async def detach(self) -> AsyncFileIO:
        raise UnsupportedOperation("detach")

    def _unread(self, data: bytes) -> None:
        """Put back ``data``, the bytes just before the position."""
        raise UnsupportedOperation("read")


class PyBufferedFileBase:
    """The state of a buffered file that its fast paths read and move, as
    ``__slots__``: the pure-Python twin of ``_speedups.BufferedFileBase``,
    which declares the same fields in C."""

    __slots__ = ("_buf", "_pos", "_raw", "_read_end", "buffer_size")


if TYPE_CHECKING:
    from .._speedups import BufferedFileBase
else:
    try:
        from .._speedups import BufferedFileBase
    except ImportError:  # built without a compiler
        BufferedFileBase = PyBufferedFileBase


class _BufferedBase(BufferedFileBase, BufferedIOBase):
    """A buffered file over a raw one: the state and the operations that
    BufferedReader, BufferedWriter and BufferedRandom share.

    One buffer serves reads and writes, as in io's C implementation, with
    its bookkeeping: ``_pos`` is the position in the buffer, ``_raw_pos``
    where the raw file's position falls in it (-1: unknown), ``_read_end``
    the end of the bytes read into it (-1: none), ``_write_pos`` and
    ``_write_end`` the bytes waiting to be written (``_write_end`` -1: none).
    """

    #: Whether the class reads, and writes (the C implementation's flags).
    _reads: ClassVar[bool] = False
    _writes: ClassVar[bool] = False

    # _raw (None once detached), _buf (None once closed), buffer_size, _pos
    # and _read_end are BufferedFileBase's fields.

    def __init__(self, raw: AsyncFileIO, buffer_size: int = DEFAULT_BUFFER_SIZE):
        # The raw file's lock: one lock serialises the whole stack.
        self._lock = raw._lock
        self._raw = raw
        buffer_size = ssize(buffer_size)
        if buffer_size <= 0:
            raise ValueError("buffer size must be strictly positive")
        self.buffer_size = buffer_size
        self._buf = bytearray(buffer_size)
        self._pos = 0
        self._raw_pos = 0
        self._read_end = -1
        self._write_pos = 0
        self._write_end = -1
        raw._wrapped = True

    # -- plain queries ----------------------------------------------------

    @property
    def raw(self) -> AsyncFileIO:
        """The raw file underneath."""
        if self._raw is None:
            raise ValueError("raw stream has been detached")
        return self._raw

    @property
    def closed(self) -> bool:
        raw = self._raw
        if raw is None:
            raise ValueError("raw stream has been detached")
        return raw.closed

    @property
    def name(self) -> str | bytes | int:
        return self.raw.name

    @property
    def mode(self) -> str:
        return self.raw.mode

    def fileno(self) -> int:
        """The file descriptor (the raw file's)."""
        return self.raw.fileno()

    def isatty(self) -> bool:
        """Whether the file is a terminal (the raw file's answer)."""
        return self.raw.isatty()

    def seekable(self) -> bool:
        """Whether ``seek`` and ``tell`` work (the raw file's answer)."""
        return self.raw.seekable()

    def readable(self) -> bool:
        """Whether the object reads: False unless it is a reader."""
        return False

    def writable(self) -> bool:
        """Whether the object writes: False unless it is a writer."""
        return False

    def tell(self) -> int:
        """The position: the raw file's, corrected by what is buffered.
        Plain: no I/O is needed."""
        return max(self.raw.tell() - self._raw_offset(), 0)

    def _tell_flushed(self, pending: int = 0) -> int:
        """The position ``tell()`` would give after writing ``pending`` more
        bytes and flushing, without doing either.  In append mode the
        pending bytes land at the end, so that asks the file's size."""
        raw = self.raw
        buffered = self._write_end - self._write_pos if self._valid_write() else 0
        if (pending or buffered) and "a" in raw.mode:
            return os.fstat(raw.fileno()).st_size + buffered + pending
        return self.tell() + pending

    def __repr__(self) -> str:
        cls = f"{type(self).__module__}.{type(self).__qualname__}"
        try:
            name = self.name
        except ValueError:
            return f"<{cls}>"
        return f"<{cls} name={name!r}>"

    def __getstate__(self) -> NoReturn:
        raise TypeError(f"cannot pickle {type(self).__name__!r} object")

    # -- the buffer's bookkeeping (C's macros) ------------------------------------

    @property
    def _buffer(self) -> bytearray:
        if self._buf is None:
            raise ValueError("I/O operation on closed file.")
        return self._buf

    def _valid_read(self) -> bool:
        return self._reads and self._read_end != -1

    def _valid_write(self) -> bool:
        return self._writes and self._write_end != -1

    def _readahead(self) -> int:
        return self._read_end - self._pos if self._valid_read() else 0

    def _raw_offset(self) -> int:
        """How far the raw file's position is ahead of the position."""
        if (self._valid_read() or self._valid_write()) and self._raw_pos >= 0:
            return self._raw_pos - self._pos
        return 0

    def _adjust_position(self, position: int) -> None:
        self._pos = position
        if self._valid_read() and self._read_end < position:
            self._read_end = position

    def _reset_read_buf(self) -> None:
        self._read_end = -1

    def _reset_write_buf(self) -> None:
        self._write_pos = 0
        self._write_end = -1

    def _is_closed(self) -> bool:
        return self._buf is None or self.raw.closed

    def _check_closed(self, message: str) -> None:
        """io's check: a closed file may still hand out what it buffered."""
        if self._is_closed() and self._readahead() == 0:
            raise ValueError(message)

    def _take(self, count: int) -> bytes:
        """The next ``count`` buffered bytes, consumed."""
        start = self._pos
        self._pos += count
        with memoryview(self._buffer) as view:
            return bytes(view[start : start + count])

    def _install(self, data: bytes) -> None:
        """Make ``data`` the read-ahead, ending at the raw file's position."""
        buffer = bytearray(max(len(data), self.buffer_size))
        buffer[: len(data)] = data
        self._buf = buffer
        self._pos = 0
        self._read_end = self._raw_pos = len(data)
        self._reset_write_buf()

    def _restore(self, consumed: list[bytes]) -> None:
        """Undo a read that failed or was cancelled after it emptied the
        buffer: ``consumed`` are the bytes it took before the buffer was last
        refilled, the buffer holds the rest."""
        tail = bytes(self._buffer[: self._read_end]) if self._valid_read() else b""
        self._install(b"".join(consumed) + tail)

    def _unread(self, data: bytes) -> None:
        if data:
            ahead = self._readahead()
            self._install(data + self._take(ahead))

    # -- raw I/O under the lock -------------------------------------------------

    async def _fill_buffer(self) -> int:
        """One raw read into the buffer after its read-ahead; 0 at the end."""
        start = self._read_end if self._valid_read() else 0
        length = self.buffer_size - start
        data = await AsyncFileIO.read(self.raw, length) if length > 0 else b""
        count = len(data)
        if count:
            self._buffer[start : start + count] = data
            self._read_end = self._raw_pos = start + count
        return count

    async def _raw_write(self, data: Buffer) -> int:
        # The raw layer completes a started write despite cancellation.
        return await AsyncFileIO.write(self.raw, data)

    async def _flush_unlocked(self) -> None:
        """Write the pending bytes out.  Each raw write completes despite
        cancellation and is then accounted for, so no byte goes twice."""
        if not self._valid_write() or self._write_pos == self._write_end:
            self._reset_write_buf()
            return
        rewind = self._raw_offset() + (self._pos - self._write_pos)
        if rewind:
            await AsyncFileIO.seek(self.raw, -rewind, os.SEEK_CUR)
            self._raw_pos -= rewind
        while self._write_pos < self._write_end:
            with memoryview(self._buffer) as view:
                chunk = view[self._write_pos : self._write_end]
                try:
                    count = await self._raw_write(chunk)
                finally:
                    chunk.release()
            self._write_pos += count
            self._raw_pos = self._write_pos
        self._reset_write_buf()

    def _flush_now(self, more: bytes = b"") -> None:
        """``_flush_and_rewind()`` with blocking system calls, then ``more``
        written at the position: for the moments io blocks too (a text
        ``tell()`` in append mode, collection).  Only while no call is in
        flight."""
        pending = self._valid_write() and self._write_pos < self._write_end
        if not pending and not more:
            return  # nothing to write: the read-ahead stays
        raw = self.raw
        seekable = raw._position is not None
        position = self.tell() if seekable else 0
        if pending:
            with memoryview(self._buffer) as view:
                raw._write_now(
                    view[self._write_pos : self._write_end],
                    position - self._pos + self._write_pos,
                )
        if more:
            raw._write_now(more, position)
        self._reset_write_buf()
        self._reset_read_buf()
        self._raw_pos = -1
        if seekable and not raw._appending:
            raw._position = position + len(more)

    async def _flush_and_rewind(self) -> None:
        """Flush, and drop the read-ahead (moving the raw file back)."""
        await self._flush_unlocked()
        if self._reads:
            try:
                await AsyncFileIO.seek(self.raw, -self._raw_offset(), os.SEEK_CUR)
            finally:
                self._reset_read_buf()

    async def _start_reading(self) -> list[bytes]:
        """Take all the read-ahead and flush pending writes, before reading
        past the buffer; the buffer is then empty.  Returns what was taken."""
        ahead = self._readahead()
        consumed = [self._take(ahead)] if ahead else []
        if self._writes:
            try:
                await self._flush_and_rewind()
            except BaseException:
                self._pos -= ahead
                raise
        self._reset_read_buf()
        return consumed

    # -- coroutines -------------------------------------------------------

    @serialized
    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Like ``io.BufferedReader.seek``: a target inside the buffer moves
        within it without I/O; otherwise pending writes are flushed and the
        raw file moves."""
        return await self._seek(offset, whence)

    async def _seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        whence = c_int(whence)
        if whence not in VALID_SEEK_FLAGS:
            raise ValueError(f"whence value {whence} unsupported")
        self._check_closed("seek of closed file")
        raw = self.raw
        if not raw.seekable():
            raise UnsupportedOperation("File or stream is not seekable.")
        target = to_offset(offset, ValueError)
        if self._reads and whence in (os.SEEK_SET, os.SEEK_CUR):
            current = raw.tell()
            avail = self._readahead()
            if avail > 0:
                move = target
                if whence == os.SEEK_SET:
                    move -= current - self._raw_offset()
                if -self._pos <= move <= avail:
                    self._pos += move
                    return max(current - avail + move, 0)
        if self._writes:
            await self._flush_unlocked()
        if whence == os.SEEK_CUR:
            target -= self._raw_offset()
        position = await AsyncFileIO.seek(raw, target, whence)
        self._raw_pos = -1
        if self._reads:
            self._reset_read_buf()
        return position

    @serialized
    async def truncate(self, size: int | None = None) -> int:
        """Like ``io.BufferedWriter.truncate``: flushes, then cuts or extends
        the file to ``size`` (default: the position); completes even if
        cancelled.  The position does not move."""
        return await self._truncate(size)

    async def _truncate(self, size: int | None = None) -> int:
        self._check_closed("truncate of closed file")
        if not self._writes:
            raise UnsupportedOperation("truncate")
        await self._flush_and_rewind()
        return await AsyncFileIO.truncate(self.raw, size)

    @serialized
    async def flush(self) -> None:
        """Like io: write out what is buffered (no fsync)."""
        await self._flush()

    async def _flush(self) -> None:
        if not self._writes:
            # The raw file buffers nothing: its flush (io's too) only checks
            # that it is open.
            if self.raw.closed:
                raise ValueError("I/O operation on closed file.")
            return
        self._check_closed("flush of closed file")
        await self._flush_and_rewind()

    async def close(self) -> None:
        """Flush, then close the raw file even if the flush failed; idempotent."""
        raw = self._raw
        if not self._writes and raw is not None and raw._undisturbed():
            # A reader has nothing to write out, and no call is in flight or
            # waiting: closing the raw file is all there is to it, once it is
            # sure to run in asyncio (the lock would have asked first).
            running_loop()
            self._buf = None
            self._read_end = self._pos = 0
            await AsyncFileIO.close(raw)
        else:
            await self._close_in_turn()

    @serialized
    @runs_to_the_end
    async def _close_in_turn(self) -> None:
        await self._close()

    async def _close(self) -> None:
        raw = self.raw
        if raw.closed:
            return
        try:
            if self._writes:  # a reader's flush only checks what was checked
                await self._flush()
        finally:
            try:
                await AsyncFileIO.close(raw)
            finally:
                self._buf = None
                self._read_end = self._pos = 0

    @serialized
    async def detach(self) -> AsyncFileIO:
        """Flush and return the raw file; this object is unusable afterwards."""
        await self._flush()
        raw = self.raw
        self._raw = None
        raw._wrapped = False
        return raw

    # -- beyond io --------------------------------------------------------

    async def _before_positional(self) -> None:
        self._checkClosed()
        if self._writes:
            await self._flush_unlocked()

    @serialized
    async def pread(self, size: int, offset: int) -> bytes:
        """Read up to ``size`` bytes at byte ``offset`` without moving the
        position.  Pending writes are flushed first; the bytes come from the
        file, not from the buffer."""
        return await self._pread(size, offset)

    async def _pread(self, size: int, offset: int) -> bytes:
        await self._before_positional()
        return await AsyncFileIO.pread(self.raw, size, offset)

    @serialized
    async def preadinto(self, buffer: Buffer, offset: int) -> int:
        """Fill ``buffer`` from byte ``offset`` without moving the position;
        like :meth:`pread`."""
        return await self._preadinto(buffer, offset)

    async def _preadinto(self, buffer: Buffer, offset: int) -> int:
        await self._before_positional()
        return await AsyncFileIO.preadinto(self.raw, buffer, offset)

    @serialized
    async def pwrite(self, data: Buffer, offset: int) -> int:
        """Write all of ``data`` at byte ``offset`` (at the end in append
        mode) without moving the position.  Pending writes are flushed first;
        read-ahead is dropped, so later reads see the new bytes.  Completes
        even if cancelled."""
        return await self._pwrite(data, offset)

    async def _pwrite(self, data: Buffer, offset: int) -> int:
        with bytes_view(data):
            pass
        await self._before_positional()
        count = await AsyncFileIO.pwrite(self.raw, data, offset)
        await self._flush_and_rewind()
        return count

    @serialized
    async def stat(self) -> os.stat_result:
        """``os.fstat`` of the file, after flushing pending writes (so the size
        counts every byte written through this object)."""
        return await self._stat()

    async def _stat(self) -> os.stat_result:
        await self._before_positional()
        return await AsyncFileIO.stat(self.raw)

    @serialized
    async def fsync(self) -> None:
        """Flush pending writes, then the file's data and metadata to the
        device."""
        await self._fsync()

    async def _fsync(self) -> None:
        await self._before_positional()
        await AsyncFileIO.fsync(self.raw)

    @serialized
    async def datasync(self) -> None:
        """Flush pending writes, then the file's data to the device."""
        await self._datasync()

    async def _datasync(self) -> None:
        await self._before_positional()
        await AsyncFileIO.datasync(self.raw)

    # -- finalisation -----------------------------------------------------------

    def __del__(self) -> None:
        try:
            raw = self._raw
        except AttributeError:  # partly built
            raw = None
        # Closed, the common case: nothing to write or release.
        if raw is None or not raw._closed:
            super().__del__()

    def _warns_unclosed(self) -> bool:
        return self.raw.closefd

    def _flush_at_collection(self) -> None:
        if self._lock.idle and self._writes:
            self._flush_now()

    def _release_now(self) -> None:
        raw = self._raw
        if isinstance(raw, FileIO):
            raw._release_now()


class BufferedReader(_BufferedBase):
    """A buffered reader over a raw file, like ``io.BufferedReader``."""

    _reads = True

    def __init__(self, raw: AsyncFileIO, buffer_size: int = DEFAULT_BUFFER_SIZE):
        if not raw.readable():
            raise UnsupportedOperation("File or stream is not readable.")
        _BufferedBase.__init__(self, raw, buffer_size)

    def readable(self) -> bool:
        """Whether the raw file reads (True once constructed)."""
        return self.raw.readable()

    @serialized
    async def read(self, size: int | None = -1) -> bytes:
        """Like ``io.BufferedReader.read``: ``size`` bytes, fewer only at the
        end of the file; all to the end if ``size`` is negative or None."""
        return await self._read(size)

    async def _read(self, size: int | None = -1) -> bytes:
        n = optional_size(size)
        if n < -1:
            raise ValueError("read length must be non-negative or -1")
        self._check_closed("read of closed file")
        if n == -1:
            return await self._read_all()
        ahead = self._readahead()
        if n <= ahead:
            return self._take(n)
        if ahead == 0 and not self._writes and n % self.buffer_size == 0:
            # _read_generic when nothing is buffered or pending and n is whole
            # blocks: one raw read straight into the result.
            self._reset_read_buf()
            data = await AsyncFileIO.read(self.raw, n)
            if len(data) == n or not data:
                return data
            self._install(data)  # short: what came is the read-ahead
        return await self._read_generic(n)

    async def _read_all(self) -> bytes:
        consumed = await self._start_reading()
        try:
            data = await AsyncFileIO.readall(self.raw)
        except BaseException:
            self._restore(consumed)
            raise
        return b"".join([*consumed, data]) if consumed else data

    async def _read_generic(self, n: int) -> bytes:
        consumed = await self._start_reading()
        remaining = n - sum(map(len, consumed))
        tail: list[bytes] = []
        raw = self.raw
        try:
            # Whole blocks go straight to the result, the rest via the buffer.
            while (block := self.buffer_size * (remaining // self.buffer_size)) > 0:
                data = await AsyncFileIO.read(raw, block)
                if not data:
                    return b"".join(consumed)
                consumed.append(data)
                remaining -= len(data)
            self._pos = self._raw_pos = self._read_end = 0
            while remaining > 0 and self._read_end < self.buffer_size:
                count = await self._fill_buffer()
                if not count:
                    break
                take = min(count, remaining)
                tail.append(self._take(take))
                remaining -= take
        except BaseException:
            self._restore(consumed)
            raise
        return b"".join(consumed + tail)

    @serialized
    async def read1(self, size: int = -1) -> bytes:
        """Like ``io.BufferedReader.read1``: buffered bytes if there are any,
        else one raw read of up to ``size`` bytes (default: the buffer
        size)."""
        return await self._read1(size)

    async def _read1(self, size: int = -1) -> bytes:
        n = ssize(size)
        if n < 0:
            n = self.buffer_size
        self._check_closed("read of closed file")
        if n == 0:
            return b""
        ahead = self._readahead()
        if ahead > 0:
            return self._take(min(ahead, n))
        if self._writes:
            await self._flush_and_rewind()
        self._reset_read_buf()
        return await AsyncFileIO.read(self.raw, n)

    @serialized
    async def peek(self, size: int = 0) -> bytes:
        """Like ``io.BufferedReader.peek``: the buffered bytes after the
        position (``size`` is ignored), filling the buffer with one raw read
        if it is empty.  The position does not move."""
        ssize(size)
        self._check_closed("peek of closed file")
        if self._writes:
            await self._flush_and_rewind()
        ahead = self._readahead()
        if ahead > 0:
            return bytes(self._buffer[self._pos : self._read_end])
        self._reset_read_buf()
        count = await self._fill_buffer()
        self._pos = 0
        return bytes(self._buffer[:count])

    @serialized
    async def readinto(self, buffer: Buffer) -> int:
        """Like ``io.BufferedReader.readinto``: fill ``buffer``, short only at
        the end of the file."""
        return await self._readinto(buffer, read1=False)

    @serialized
    async def readinto1(self, buffer: Buffer) -> int:
        """Like ``io.BufferedReader.readinto1``: at most one raw read."""
        return await self._readinto(buffer, read1=True)

    async def _readinto(self, buffer: Buffer, read1: bool) -> int:
        with writable_view(buffer, "readinto1" if read1 else "readinto") as view:
            self._check_closed("readinto of closed file")
            total = len(view)
            ahead = self._readahead()
            if ahead > 0 and ahead >= total:
                view[:] = self._take(total)
                return total
            consumed = await self._start_reading()
            written = len(consumed[0]) if consumed else 0
            view[:written] = b"".join(consumed)
            self._pos = 0
            direct = written
            try:
                remaining = total - written
                while remaining > 0:
                    if remaining > self.buffer_size:
                        count = await AsyncFileIO.readinto(self.raw, view[written:])
                        direct = written + count
                    elif not (read1 and written):
                        count = await self._fill_buffer()
                        if count:
                            count = min(count, remaining)
                            view[written : written + count] = self._take(count)
                            written += count
                            remaining -= count
                            continue
                    else:
                        count = 0
                    if not count:
                        break
                    written += count
                    remaining -= count
                    if read1:
                        break
            except BaseException:
                self._restore([bytes(view[:direct])])
                raise
            return written

    @serialized
    async def readline(self, size: int | None = -1) -> bytes:
        """Like ``io.BufferedReader.readline``: up to and including the next
        ``b"\\n"``, at most ``size`` bytes."""
        return await self._readline(optional_size(size))

    async def _iter_next(self) -> bytes | None:
        return await self._readline(-1) or None

    async def _readline(self, limit: int) -> bytes:
        self._check_closed("readline of closed file")
        n = self._readahead()
        if 0 <= limit < n:
            n = limit
        buf = self._buffer
        end = buf.find(b"\n", self._pos, self._pos + n) + 1
        if end:
            return self._take(end - self._pos)
        if n == limit:
            return self._take(n)
        consumed = await self._start_reading()
        if limit >= 0:
            limit -= n
        try:
            while True:
                self._reset_read_buf()
                count = await self._fill_buffer()
                if not count:
                    break
                if 0 <= limit < count:
                    count = limit
                buf = self._buffer
                end = buf.find(b"\n", 0, count) + 1
                if end or count == limit:
                    self._pos = 0
                    consumed.append(self._take(end or count))
                    break
                consumed.append(bytes(buf[:count]))
                if limit >= 0:
                    limit -= count
        except BaseException:
            self._restore(consumed)
            raise
        return b"".join(consumed)


class BufferedWriter(_BufferedBase):
    """A buffered writer over a raw file, like ``io.BufferedWriter``.

    A write that fits in the buffer is only buffered; one that does not
    flushes the buffer and then buffers the data or, if it is larger than
    the buffer, writes it straight through, as io does.
    """

    _writes = True

    def __init__(self, raw: AsyncFileIO, buffer_size: int = DEFAULT_BUFFER_SIZE):
        if not raw.writable():
            raise UnsupportedOperation("File or stream is not writable.")
        super().__init__(raw, buffer_size)

    def writable(self) -> bool:
        """Whether the raw file writes (True once constructed)."""
        return self.raw.writable()

    @serialized
    async def write(self, data: Buffer) -> int:
        """Like ``io.BufferedWriter.write``: takes all of ``data`` and returns
        its length.  Raw writes it starts complete even if the call is
        cancelled; cancelled while waiting its turn, it does nothing."""
        return await self._write(data)

    async def _write(self, data: Buffer) -> int:
        with bytes_view(data) as view:
            if self._is_closed():
                raise ValueError("write to closed file")
            length = view.nbytes
            if self._buffer_in_place(view):
                return length
            await self._flush_unlocked()
            offset = self._raw_offset()
            if offset:
                await AsyncFileIO.seek(self.raw, -offset, os.SEEK_CUR)
                self._raw_pos -= offset
            written = 0
            while length - written > self.buffer_size - _WRITES_FULL_BUFFERS:
                written += await self._raw_write(view[written:])
            if self._reads:
                self._reset_read_buf()
            remaining = length - written
            self._buffer[:remaining] = view[written:]
            self._write_pos = 0
            self._write_end = remaining
            self._adjust_position(remaining)
            self._raw_pos = 0
            return length

    def _write_at_once(self, data: Buffer) -> int | None:
        """``write(data)``'s result when the data fits in the buffer and no
        other call holds or waits for the file (so none can run before it
        returns); None when ``write`` must run."""
        raw = self._raw
        if raw is None or not raw._undisturbed():
            return None  # write() waits, or raises what io raises first
        with bytes_view(data) as view:
            if self._buf is None:
                return None
            return view.nbytes if self._buffer_in_place(view) else None

    def _buffer_in_place(self, view: memoryview) -> bool:
        """Copy ``view`` into the buffer if it fits without a flush, as io
        does; false, and nothing copied, if it does not."""
        # Every 8 KiB of small text writes comes here: the bookkeeping
        # helpers (_valid_read, _valid_write, _adjust_position) are spelled
        # out, since their frames cost more than the copy.
        length = view.nbytes
        reading = self._reads and self._read_end != -1
        writing = self._writes and self._write_end != -1
        if not reading and not writing:
            self._pos = self._raw_pos = 0
        start = self._pos
        end = start + length
        size = self.buffer_size
        if end > size or (_WRITES_FULL_BUFFERS and length >= size):
            return False
        self._buffer[start:end] = view
        if not writing or self._write_pos > start:
            self._write_pos = start
        self._pos = end
        if reading and self._read_end < end:
            self._read_end = end
        if self._write_end < end:
            self._write_end = end
        return True


class BufferedRandom(BufferedWriter, BufferedReader):
    """A buffered reader and writer over a seekable raw file, like
    ``io.BufferedRandom``: reads and writes share the buffer."""

    def __init__(self, raw: AsyncFileIO, buffer_size: int = DEFAULT_BUFFER_SIZE):
        if not raw.seekable():
            raise UnsupportedOperation("File or stream is not seekable.")
        if not raw.readable():
            raise UnsupportedOperation("File or stream is not readable.")
        if not raw.writable():
            raise UnsupportedOperation("File or stream is not writable.")
        _BufferedBase.__init__(self, raw, buffer_size)


if FastPathMethod is not None:
    BufferedReader.read = FastPathMethod(BufferedReader.read, read_at_once, -1)  # type: ignore[method-assign]
    BufferedReader.close = FastPathMethod(BufferedReader.close, start_close)  # type: ignore[method-assign]
    BufferedWriter.write = FastPathMethod(  # type: ignore[method-assign]
        BufferedWriter.write, BufferedWriter._write_at_once
    )
