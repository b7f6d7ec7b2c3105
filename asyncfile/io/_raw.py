"""The raw layer, ``io.FileIO``'s contract with coroutines: ``AsyncFileIO``,
whose methods take no lock (the layers above call them holding the file's
lock), and ``FileIO``, what ``open(..., buffering=0)`` returns: the same with
io's argument checks, each call under the file's lock.

Reads and writes of a seekable file are positional operations of the core
context serving the running loop, so the file's position is tracked here rather
than in the kernel: ``tell()`` needs no system call.  The kernel's offset is
read when an open descriptor is wrapped and written back when it is released
(``closefd=False``), so code sharing the descriptor sees what ``io`` would show.
In append mode writes are ``write(2)`` calls on a worker thread: the kernel
puts the bytes at the end of the file as it is then, whatever other writers
appended, and the position afterwards is the descriptor's offset.
Pipes, FIFOs, sockets, terminals and other unseekable files are read and
written at the core's offset -1, the descriptor's current position; a read
starts only once the loop sees input (see ``_readiness``).

What a cancelled call leaves behind: a read reports nothing and moves nothing;
a write runs to completion and reports its count, and the cancellation is
delivered at the task's next suspension, so the position always matches what
was reported.
"""

from __future__ import annotations

import errno
import functools
import io
import os
import sys
import warnings
from collections.abc import Iterable
from stat import S_ISCHR, S_ISDIR, S_ISREG
from typing import TYPE_CHECKING, Any

from .. import _filesystem
from .._readiness import wait_readable
from ..contexts import get_context, running_loop
from ..core._positional import OPEN_FLAGS, pwrite
from ._base import (
    DEFAULT_BUFFER_SIZE,
    IOBase,
    bytes_view,
    c_int,
    optional_size,
    to_offset,
    writable_view,
)
from ._cancellation import complete_despite_cancel
from ._locks import TaskLock, serialized

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

    from ..core.asyncio_base import AsyncioContextBase, CachedReader

__all__ = ("AsyncFileIO", "FileIO")


@functools.cache
def _io_mode_of_w_plus() -> str:
    """What the running Python's ``FileIO.mode`` says for a file opened
    ``"w+"``: ``"rb+"`` before 3.15, ``"wb+"`` since.  io is asked (once, on
    a pipe it opens nothing on) rather than the version."""
    read_end, write_end = os.pipe()
    try:
        with io.FileIO(read_end, "w+", closefd=False) as probe:
            return probe.mode
    finally:
        os.close(read_end)
        os.close(write_end)


class PyRawFileBase:
    """The state of a raw file that its fast paths read and move, as
    ``__slots__``: the pure-Python twin of ``_speedups.RawFileBase``, which
    declares the same fields in C (as ``Lib/_pyio.py`` twins ``_io``)."""

    __slots__ = (
        "_cached_reader",
        "_closed",
        "_fd",
        "_lock",
        "_position",
        "_readable",
        "_size_hint",
    )


if TYPE_CHECKING:
    from .._speedups import RawFileBase
else:
    try:
        from .._speedups import RawFileBase
    except ImportError:  # built without a compiler
        RawFileBase = PyRawFileBase


class AsyncFileIO(RawFileBase):
    """A raw binary file: ``io.FileIO``'s methods, the I/O ones as coroutines.

    Build it with :meth:`open`; ``tell()``, ``readable()``, ``writable()``,
    ``seekable()``, ``isatty()`` and ``fileno()`` stay plain.
    """

    # _fd, _position, _size_hint (the size of a small regular file when it
    # was opened, for the first ``readall``; None: ask the file), _lock,
    # _cached_reader, _closed and _readable are RawFileBase's fields.

    #: False where the file's type rules a terminal out (not a character
    #: device): ``open()`` then asks no ``isatty`` for its line buffering.
    _may_be_tty = True
    #: True while a buffered file wraps this one: that file's finaliser then
    #: writes its buffer and releases this one (in whatever order the cycle
    #: collector finalises them).
    _wrapped = False

    def __init__(
        self,
        fd: int,
        name: str | bytes | int,
        mode: str,
        *,
        closefd: bool,
        blksize: int,
        position: int | None,
        context: AsyncioContextBase | None,
    ) -> None:
        self._fd = fd
        self._size_hint = None
        self.name = name
        self._created = "x" in mode
        self._appending = "a" in mode
        self._truncating = "w" in mode
        self._readable = "r" in mode or "+" in mode
        self._writable = "r" not in mode or "+" in mode
        self._closefd = closefd
        self._blksize = blksize
        self._position = position  # None: not seekable
        self._context = context
        self._core_context: AsyncioContextBase | None = None
        #: The cached_reader() of the context given, else of the one _core()
        #: last found; it answers None once that context no longer serves.
        self._cached_reader = None if context is None else cached_reader_of(context)
        self._closed = False
        #: The lock of the whole file: the public FileIO's calls, and those of
        #: the buffered and text files over this one, which share it.  This
        #: layer's own methods never take it.
        self._lock = TaskLock()

    @classmethod
    async def open(
        cls,
        file: str | bytes | os.PathLike[str] | os.PathLike[bytes] | int,
        mode: str = "r",
        closefd: bool = True,
        opener: Any = None,
        *,
        context: AsyncioContextBase | None = None,
    ) -> Self:
        """Open ``file`` as ``io.FileIO(file, mode, closefd, opener)`` would.

        A path is opened by the core (``_filesystem.open_file``: on the loop
        when the caches hold the file and the open writes nothing, as io_uring
        would at submission, else on the native pool; on the python backend a
        thread), never blocking the loop.  With an ``opener``,
        ``opener(path, flags)`` is called on a thread, as io calls it, since
        it may block.  A caller cancelled while the file opens gets
        ``CancelledError`` and no descriptor is left open.
        """
        if isinstance(file, float):
            raise TypeError("integer argument expected, got float")
        if not isinstance(mode, str):
            raise TypeError(f"invalid mode: {mode}")
        flags = _checked_open_flags(mode)
        if isinstance(file, int):
            running_loop()  # as a path's open would, outside asyncio
            if file < 0:
                raise ValueError("negative file descriptor")
            fd, owned = file, False
        else:
            if not closefd:
                raise ValueError("Cannot use closefd=False with file name")
            file = os.fspath(file)
            if opener is None:
                serving = get_context() if context is None else context
                fd, *status = await _filesystem.open_file(file, flags, context=serving)
                try:
                    opened = cls._wrap(fd, file, mode, closefd, context, status)
                except BaseException:
                    os.close(fd)
                    raise
                # The context that opened it reads it: its cached reader is
                # then known to the C fast paths from the first read on.
                if context is None:
                    opened._core_context = serving
                    opened._cached_reader = cached_reader_of(serving)
                return opened
            else:
                # The opener cannot be stopped: a cancelled open still
                # completes, and the cancellation lands once the file object
                # owns the fd.
                fd = await complete_despite_cancel(
                    running_loop().run_in_executor(
                        None, _open_path, file, flags, opener
                    )
                )
            owned = True
        try:
            return cls._wrap(fd, file, mode, closefd, context)
        except BaseException:
            if owned:
                os.close(fd)
            raise

    @classmethod
    def _wrap(
        cls,
        fd: int,
        name: str | bytes | int,
        mode: str,
        closefd: bool,
        context: AsyncioContextBase | None,
        opened: list[Any] | None = None,
    ) -> Self:
        """The file object for ``fd``; ``opened``: this call's ``open`` has
        just opened it by path (without an opener), and this is what
        ``_filesystem.open_file`` told of it, less the descriptor."""
        status = _filesystem.file_status(fd) if opened is None else opened
        st_mode, blksize, size = status
        if S_ISDIR(st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), name)
        regular = S_ISREG(st_mode)
        position: int | None
        if opened is not None and regular and "a" not in mode:
            position = 0  # where open(2) leaves a new descriptor of a file
        else:
            try:
                position = os.lseek(fd, 0, os.SEEK_END if "a" in mode else os.SEEK_CUR)
            except OSError as exc:
                if exc.errno not in _UNSEEKABLE:
                    raise
                position = None
        file = cls(
            fd,
            name,
            mode,
            closefd=closefd,
            # Windows reports no block size: io then takes its default too.
            blksize=blksize if blksize > 1 else DEFAULT_BUFFER_SIZE,
            position=position,
            context=context,
        )
        if regular and size <= _SIZE_HINT_MAX:
            file._size_hint = size
        file._may_be_tty = S_ISCHR(st_mode)
        return file

    # -- queries ----------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def closefd(self) -> bool:
        """True if the file descriptor will be closed by close()."""
        return self._closefd

    @property
    def mode(self) -> str:
        if self._created:
            return "xb+" if self._readable else "xb"
        if self._appending:
            return "ab+" if self._readable else "ab"
        if self._readable and self._writable and self._truncating:
            return _io_mode_of_w_plus()
        if self._readable:
            return "rb+" if self._writable else "rb"
        return "wb"

    def fileno(self) -> int:
        """The file descriptor; ``ValueError`` once closed, as io's."""
        self._check_closed()
        return self._fd

    def readable(self) -> bool:
        """Whether the file was opened for reading."""
        self._check_closed()
        return self._readable

    def writable(self) -> bool:
        """Whether the file was opened for writing (or appending)."""
        self._check_closed()
        return self._writable

    def seekable(self) -> bool:
        """Whether ``seek`` and ``tell`` work (not on a pipe or socket)."""
        self._check_closed()
        return self._position is not None

    def isatty(self) -> bool:
        """Whether the file is a terminal."""
        self._check_closed()
        return os.isatty(self._fd)

    def tell(self) -> int:
        """The position; tracked here, so no system call is made (but on an
        unseekable file, whose error is the system's own, as io's)."""
        self._check_closed()
        if self._position is None:
            os.lseek(self._fd, 0, os.SEEK_CUR)
            raise OSError(errno.ESPIPE, os.strerror(errno.ESPIPE))
        return self._position

    def _undisturbed(self) -> bool:
        """Whether a call on this file, or on a buffered or text file over
        it, may skip the file's lock: no call holds or waits for the lock (so
        none can run before a call that completes without suspending
        returns), and the file is open.  The one rule every layer's fast path
        asks; ``raw_undisturbed`` in ``_speedups.c`` is its twin."""
        return self._lock._owner is None and not self._closed

    # -- I/O --------------------------------------------------------------

    async def read(self, size: int | None = -1) -> bytes:
        """Read at most ``size`` bytes (all to end of file if negative or None)."""
        self._check_readable()
        if size is None or size < 0:
            return await self.readall()
        if self._position is None:
            return await self._read_stream(size)
        data: bytes = await self._core().read(size, self._fd, self._position)
        self._position += len(data)
        return data

    async def readall(self) -> bytes:
        """Read until end of file: one read where the size is known, more where
        it is not (pipes, /proc)."""
        self._check_closed()
        if not self._readable:
            # io's readall() checks no mode: read(2) itself refuses.
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))
        chunk_size = DEFAULT_BUFFER_SIZE
        # The file's size (-1: unknown): a read that stops short exactly
        # there is the end of the file, as the next read would say.
        size = -1
        start = self._position
        if start is not None:
            hint, self._size_hint = self._size_hint, None  # it serves once
            size = os.fstat(self._fd).st_size if hint is None else hint
            if size >= start:
                chunk_size = size - start + 1
        chunks = []
        total = 0
        while True:
            if total >= chunk_size:
                chunk_size = total + max(total, DEFAULT_BUFFER_SIZE)
            if start is None:
                chunk = await self._read_stream(chunk_size - total)
            else:
                chunk = await self._core().read(
                    chunk_size - total, self._fd, start + total
                )
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
            if total < chunk_size and start is not None and start + total == size:
                break
        # Only now: a cancelled readall reported nothing and moved nothing.
        if self._position is not None:
            self._position += total
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def readinto(self, buffer: Buffer) -> int:
        """Fill ``buffer`` from the position; the count is short only at end of file."""
        self._check_readable()
        if self._position is None:
            await wait_readable(self._fd)
            read: int = await self._core().readinto(buffer, self._fd, CURRENT_POSITION)
            return read
        count: int = await self._core().readinto(buffer, self._fd, self._position)
        self._position += count
        return count

    async def write(self, data: Buffer) -> int:
        """Write all of ``data`` at the position (at the end in append mode)."""
        self._check_writable()
        if self._position is None:
            written: int = await complete_despite_cancel(
                self._core().write(data, self._fd, CURRENT_POSITION)
            )
            return written
        if self._appending:
            # write(2), not a positional write: the kernel puts the bytes at
            # the end as it is then, whatever other writers appended, and
            # leaves the descriptor's offset after them, which is the position.
            count, self._position = await complete_despite_cancel(
                _filesystem.in_thread(_append_all, self._fd, data, self._position)
            )
            return count
        count = await complete_despite_cancel(
            self._core().write(data, self._fd, self._position)
        )
        self._position += count
        return count

    def _write_now(self, data: Buffer, offset: int) -> None:
        """Write all of ``data`` at ``offset`` (at the end in append mode, and
        where the descriptor is on an unseekable file) with blocking system
        calls, for the moments io blocks too; the position is then the end of
        the bytes written.  Not for use while a call is in flight."""
        if self._position is None:
            _write_all(self._fd, data)
        elif self._appending:
            _count, self._position = _append_all(self._fd, data, self._position)
        else:
            self._position = offset + _pwrite_all(self._fd, data, offset)

    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the position, as ``lseek`` would (which checks it)."""
        if isinstance(offset, float):
            raise TypeError("'float' object cannot be interpreted as an integer")
        self._check_closed()
        offset = offset.__index__()
        if self._position is None:
            os.lseek(self._fd, offset, whence)  # fails as io's seek fails here
            raise OSError(errno.ESPIPE, os.strerror(errno.ESPIPE))
        if whence == os.SEEK_CUR:
            offset, whence = self._position + offset, os.SEEK_SET
        # The kernel checks the target (negative, past the file system's
        # largest size) and answers SEEK_END, SEEK_DATA and SEEK_HOLE.
        target = os.lseek(self._fd, offset, whence)
        self._position = target
        return target

    async def truncate(self, size: int | None = None) -> int:
        """Cut or extend the file to ``size`` (default: the position); the
        position does not move."""
        self._check_writable()
        if size is None:
            size = self.tell()
        await complete_despite_cancel(_filesystem.ftruncate(self._fd, size))
        return size

    async def flush(self) -> None:
        """Nothing is buffered at this layer; fails only on a closed file."""
        self._check_closed()

    async def close(self) -> None:
        """Release the descriptor (close it if ``closefd``, through the core:
        close(2) may wait, for a network file system's flush); idempotent.
        The descriptor is closed even if the caller is cancelled meanwhile."""
        if self._closed:
            return
        self._closed = True
        if self._closefd:
            await _filesystem.close(self._fd, context=self._context)
        elif self._position is not None:
            os.lseek(self._fd, self._position, os.SEEK_SET)

    # -- positional, beyond io ------------------------------------------------

    async def pread(self, size: int, offset: int) -> bytes:
        """Read up to ``size`` bytes at ``offset``; the position does not move."""
        self._check_readable()
        self._check_positional()
        data: bytes = await self._core().read(size, self._fd, offset)
        return data

    async def preadinto(self, buffer: Buffer, offset: int) -> int:
        """Fill ``buffer`` from ``offset``; the position does not move."""
        self._check_readable()
        self._check_positional()
        count: int = await self._core().readinto(buffer, self._fd, offset)
        return count

    async def pwrite(self, data: Buffer, offset: int) -> int:
        """Write all of ``data`` at ``offset``; the position does not move."""
        self._check_writable()
        self._check_positional()
        count: int = await complete_despite_cancel(
            self._core().write(data, self._fd, offset)
        )
        return count

    async def stat(self) -> os.stat_result:
        """``os.fstat`` of the descriptor."""
        self._check_closed()
        return os.fstat(self._fd)

    async def fsync(self) -> None:
        """Flush the file's data and metadata to the device."""
        self._check_closed()
        await self._core().fsync(self._fd)

    async def datasync(self) -> None:
        """Flush the file's data to the device."""
        self._check_closed()
        await self._core().fdsync(self._fd)

    # -- helpers --------------------------------------------------------------

    def _core(self) -> AsyncioContextBase:
        """The context given to ``open()``, else the running loop's."""
        if self._context is not None:
            return self._context
        # One context serves a loop until it closes (with the loop, at exit
        # or in a forked child): remember it while it serves the running one.
        context = self._core_context
        if context is not None and context.serves_running_loop():
            return context
        context = get_context()
        self._core_context = context
        self._cached_reader = cached_reader_of(context)
        return context

    async def _read_stream(self, size: int) -> bytes:
        """One read of an unseekable file at its current position, started
        once there is input: a cancelled read takes nothing and leaves no
        worker waiting for input that may never come."""
        await wait_readable(self._fd)
        data: bytes = await self._core().read(size, self._fd, CURRENT_POSITION)
        return data

    def _check_closed(self) -> None:
        if self._closed:
            raise ValueError("I/O operation on closed file")

    def _check_readable(self) -> None:
        self._check_closed()
        if not self._readable:
            raise io.UnsupportedOperation("File not open for reading")

    def _check_writable(self) -> None:
        self._check_closed()
        if not self._writable:
            raise io.UnsupportedOperation("File not open for writing")

    def _check_positional(self) -> None:
        if self._position is None:
            raise io.UnsupportedOperation("positional I/O on an unseekable file")

    def __repr__(self) -> str:
        name = f"{type(self).__module__}.{type(self).__qualname__}"
        if self._closed:
            return f"<{name} [closed]>"
        return f"<{name} name={self.name!r} mode={self.mode!r} closefd={self._closefd}>"

    def __del__(self) -> None:
        if self._wrapped:
            return
        if self._fd >= 0 and self._closefd and not self._closed:
            warnings.warn(
                f"unclosed file {self!r}", ResourceWarning, stacklevel=2, source=self
            )
            self._closed = True
            os.close(self._fd)


#: The core's offset for "the descriptor's current position" (pipes, sockets).
CURRENT_POSITION = -1

#: lseek's errno for a descriptor without positions (a pipe): the C runtime on
#: Windows answers EINVAL where POSIX says ESPIPE.
_UNSEEKABLE = (
    (errno.ESPIPE, errno.EINVAL) if sys.platform == "win32" else (errno.ESPIPE,)
)


def cached_reader_of(context: AsyncioContextBase) -> CachedReader | None:
    """``context.cached_reader()``; None for a context without one (caio's,
    or any other that speaks only caio's API)."""
    method = getattr(context, "cached_reader", None)
    return None if method is None else method()


#: The largest size the opener remembers for ``readall``: a file truncated
#: since costs at most this much memory in vain.
_SIZE_HINT_MAX = 1024 * 1024


@functools.lru_cache(maxsize=64)
def _checked_open_flags(mode: str) -> int:
    """The ``open(2)`` flags of a raw ``mode``, checked as io checks it."""
    if not set(mode) <= set("xrwab+"):
        raise ValueError(f"invalid mode: {mode}")
    if sum(c in "rwax" for c in mode) != 1 or mode.count("+") > 1:
        raise ValueError(
            "Must have exactly one of create/read/write/append "
            "mode and at most one plus"
        )
    return _open_flags(mode)


def _open_flags(mode: str) -> int:
    if "x" in mode:
        flags = os.O_EXCL | os.O_CREAT
    elif "r" in mode:
        flags = 0
    elif "w" in mode:
        flags = os.O_CREAT | os.O_TRUNC
    else:
        flags = os.O_APPEND | os.O_CREAT
    readable = "r" in mode or "+" in mode
    writable = "r" not in mode or "+" in mode
    if readable and writable:
        flags |= os.O_RDWR
    elif readable:
        flags |= os.O_RDONLY
    else:
        flags |= os.O_WRONLY
    return flags | OPEN_FLAGS


def _open_path(path: str | bytes, flags: int, opener: Any) -> int:
    if opener is None:
        return os.open(path, flags, 0o666)
    fd = opener(path, flags)
    if not isinstance(fd, int):
        raise TypeError("expected integer from opener")
    if fd < 0:
        raise ValueError(f"opener returned {fd}")
    return fd


def _write_all(fd: int, data: Buffer) -> int:
    with memoryview(data) as view, view.cast("B") as octets:
        done = 0
        while done < octets.nbytes:
            done += os.write(fd, octets[done:])
        return done


def _pwrite_all(fd: int, data: Buffer, offset: int) -> int:
    with memoryview(data) as view, view.cast("B") as octets:
        done = 0
        while done < octets.nbytes:
            done += pwrite(fd, octets[done:], offset + done)
        return done


def _append_all(fd: int, data: Buffer, position: int) -> tuple[int, int]:
    """Append all of ``data`` to an ``O_APPEND`` file: the count, and the
    position after it: the descriptor's offset (the end of these bytes,
    wherever other writers' bytes put them), or ``position`` when there were
    no bytes, since write(2) of nothing leaves the offset alone."""
    count = _write_all(fd, data)
    if count == 0:
        if sys.platform != "win32":
            return 0, position
        # io's write asks the C runtime even for no bytes, and Windows' moves
        # an append-mode descriptor to the end before it looks at the count.
        os.write(fd, b"")
    return count, os.lseek(fd, 0, os.SEEK_CUR)


# -- the public raw file: AsyncFileIO with io's checks, under the file's lock -----


class FileIO(AsyncFileIO, IOBase[bytes]):
    """A raw binary file, like ``io.FileIO``: what ``open(..., buffering=0)``
    returns.

    Every read and write is one call to the kernel.  ``readline`` on a
    seekable file reads ahead with ``pread`` and moves the position past the
    line only; on a pipe it reads one byte at a time, as io does.
    """

    @serialized
    async def read(self, size: int | None = -1) -> bytes:
        """Like ``io.FileIO.read``: at most ``size`` bytes, one system call
        (all to the end of the file if ``size`` is negative or None)."""
        return await super().read(optional_size(size))

    @serialized
    async def readall(self) -> bytes:
        """Like ``io.FileIO.readall``.  If cancelled, the position is left
        where it was."""
        return await super().readall()

    @serialized
    async def readinto(self, buffer: Buffer) -> int:
        """Like ``io.FileIO.readinto``."""
        with writable_view(buffer, "readinto"):
            pass
        return await super().readinto(buffer)

    @serialized
    async def readline(self, size: int | None = -1) -> bytes:
        """Like ``io.FileIO.readline``: up to and including the next ``b"\\n"``,
        at most ``size`` bytes."""
        return await self._readline(optional_size(size))

    async def _readline(self, limit: int) -> bytes:
        if self._position is None:
            return await self._readline_bytewise(limit)
        start = self._position
        chunks: list[bytes] = []
        total = 0
        while limit < 0 or total < limit:
            want = DEFAULT_BUFFER_SIZE if limit < 0 else limit - total
            data = await super().pread(min(want, DEFAULT_BUFFER_SIZE), start + total)
            if not data:
                break
            end = data.find(b"\n") + 1
            if end:
                data = data[:end]
            chunks.append(data)
            total += len(data)
            if end:
                break
        self._position = start + total
        return b"".join(chunks)

    async def _readline_bytewise(self, limit: int) -> bytes:
        line = bytearray()
        while limit < 0 or len(line) < limit:
            byte = await super().read(1)
            if not byte:
                break
            line += byte
            if byte == b"\n":
                break
        return bytes(line)

    async def _iter_next(self) -> bytes | None:
        return await self._readline(-1) or None

    @serialized
    async def write(self, data: Buffer) -> int:
        """Like ``io.FileIO.write``, but always writes all of ``data``.  Once
        started, the write completes even if the call is cancelled."""
        with bytes_view(data):
            pass  # io's TypeError for what is not a buffer
        return await super().write(data)

    async def writelines(self, lines: Iterable[Buffer]) -> None:
        """Like ``io.IOBase.writelines``: ``write`` each item, in order."""
        await self._writelines(lines, self.write)

    @serialized
    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Like ``io.FileIO.seek``; no I/O is done (the position is tracked
        here), except asking the file's size for ``SEEK_END``."""
        offset = to_offset(offset, OverflowError)
        return await super().seek(offset, c_int(whence))

    @serialized
    async def truncate(self, size: int | None = None) -> int:
        """Like ``io.FileIO.truncate``; completes even if cancelled."""
        return await super().truncate(size)

    @serialized
    async def flush(self) -> None:
        """Nothing is buffered here; fails only on a closed file, like io."""
        self._checkClosed()

    @serialized
    async def close(self) -> None:
        """Like ``io.FileIO.close``; idempotent."""
        await super().close()

    @serialized
    async def pread(self, size: int, offset: int) -> bytes:
        """Read up to ``size`` bytes at ``offset``; the position does not move."""
        return await super().pread(size, offset)

    @serialized
    async def preadinto(self, buffer: Buffer, offset: int) -> int:
        """Fill ``buffer`` from ``offset``; the position does not move."""
        return await super().preadinto(buffer, offset)

    @serialized
    async def pwrite(self, data: Buffer, offset: int) -> int:
        """Write all of ``data`` at ``offset`` (at the end in append mode: the
        kernel ignores the offset of an ``O_APPEND`` file); the position does
        not move.  Completes even if cancelled."""
        return await super().pwrite(data, offset)

    @serialized
    async def stat(self) -> os.stat_result:
        """``os.fstat`` of the descriptor."""
        return await super().stat()

    @serialized
    async def fsync(self) -> None:
        """Flush the file's data and metadata to the device."""
        await super().fsync()

    @serialized
    async def datasync(self) -> None:
        """Flush the file's data to the device."""
        await super().datasync()

    def _release_now(self) -> None:
        if not self._closed:
            self._closed = True
            if self._closefd:
                os.close(self._fd)

    __del__ = AsyncFileIO.__del__
