"""aiofile 3.12's public API, as adapters over asyncfile's own machinery.

For code written for aiofile: ``AIOFile``, ``Reader``, ``Writer``,
``LineReader``, ``async_open`` (``BinaryFileWrapper``, ``TextFileWrapper``),
``clone`` (``FileIOCloner``), and what ``aiofile.aio`` offers besides
(``DEFAULT_CONTEXT_STORE``, ``create_context``, ``get_default_context``,
``FileMode``, ``parse_mode``).  Nothing here does I/O of its own:

- :class:`AIOFile` is a positional handle.  Its descriptor is an
  :class:`asyncfile.FileIO` (opened on the executor given, or the loop's
  default one); ``read``, ``write``, ``fsync`` and ``fdsync`` are operations of
  the core context, with no position and no lock, so many can be in flight at
  once, as with aiofile.
- :class:`Reader`, :class:`Writer` and :class:`LineReader` walk an ``AIOFile``
  by offsets, as aiofile's do; text goes through incremental codecs.
- ``async_open`` gives a wrapper over the file objects of
  :func:`asyncfile.open`, opened on the ``AIOFile``'s descriptor: an
  unbuffered :class:`asyncfile.FileIO` for binary modes (each read and write
  is one positional operation, as with aiofile) and an
  :class:`asyncfile.TextIOWrapper` with ``newline="\\n"`` for text (no newline
  translation; lines end at ``"\\n"``, as with aiofile).  ``seek()`` and
  ``tell()`` stay plain: a seek takes effect at the next operation.  Every
  write reaches the file before it returns; ``flush()`` then syncs, as
  aiofile's does.  Each wrapper, and so each clone, has its own position.
  Text reads are buffered, as io's are: what another writer changes in a
  part already read ahead is seen after the next ``seek()``.

Where aiofile is wrong, these are right, and differ:

- Text is decoded incrementally: multi-byte characters and UTF-16/32 split
  across chunks (``Reader``, ``LineReader``, ``read(n)``) decode whole, and a
  BOM is written only at the start of the file.  (aiofile retried a few byte
  counts; with UTF-16 it returned the BOM as text for small chunks, decoded
  a big-endian file's later chunks as little-endian, repeated characters in
  ``read(n)``, and wrote a BOM with every write.)
- ``readline(size)`` returns at most ``size`` characters (bytes), up to and
  including the line's end, and moves the position past them only (aiofile
  could return text past the line's end and skipped what it had read ahead).
- ``LineReader`` and ``readline(newline=...)`` split at the separator given,
  whatever it is (aiofile only split at ``"\\n"``).
- ``async for`` over a wrapper reads the lines from its position onwards and
  moves it, as ``for`` over a file does (aiofile restarted at offset 0).
  ``iter_chunked`` reads ``read(chunk_size)`` chunks from the position, which
  it moves too.
- A text write after a read lands at the position the reads reached (io
  writes after its read-ahead), and a text write returns the number of
  characters written, as io's does (aiofile returned encoded bytes).
- An invalid mode raises ``ValueError`` (aiofile: a bare ``Exception``).
- Arguments are checked where they are given, before the file is opened
  (and so created or truncated): an unknown text encoding raises
  ``LookupError`` from ``AIOFile()`` or ``async_open()`` (aiofile truncated
  the file, then failed at the first read or write), a context that is not
  one ``TypeError``, and a negative ``offset`` or a ``chunk_size`` below 1
  ``ValueError`` from ``Reader``, ``Writer`` and ``LineReader`` (aiofile
  failed at the first read, or with a ``chunk_size`` of 0 read nothing).
- ``AIOFile.read()`` reads files whose size says 0 (``/proc``, ``/sys``)
  to their end (aiofile read nothing).
- ``AIOFile.close()`` closes the descriptor even when the final ``fdsync``
  fails, and then raises.  Closing a wrapper twice closes its ``AIOFile``
  once (aiofile counted a clone closed twice, closing the file under its
  source).
- ``AIOFile`` looks up its default context at each operation, in the running
  loop (aiofile took ``asyncio.get_event_loop()``'s in the constructor): one
  made by :func:`create_context` for that loop, else the loop's shared context
  (:func:`asyncfile.contexts.get_context`).
"""

from __future__ import annotations

import asyncio
import codecs
import io
import operator
import os
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Generator
from concurrent.futures import Executor
from typing import (
    IO,
    TYPE_CHECKING,
    Any,
    AnyStr,
    ClassVar,
    Generic,
    NamedTuple,
    TypeVar,
    Union,
    cast,
    overload,
)

from . import core
from .contexts import check_context, get_context, on_loop_close, running_loop
from .core._positional import OPEN_FLAGS
from .file import FileIO, OpenBinaryMode, OpenTextMode
from .file import open as open_file
from .io._cancellation import complete_despite_cancel, runs_to_the_end
from .io._locks import TaskLock, serialized
from .io._text import _lookup_text_encoding

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

    from .core.asyncio_base import AsyncioContextBase

__all__ = (
    "DEFAULT_CONTEXT_STORE",
    "AIOFile",
    "BinaryFileWrapper",
    "FileIOCloner",
    "FileIOWrapperBase",
    "FileMode",
    "LineReader",
    "Reader",
    "TextFileWrapper",
    "Writer",
    "async_open",
    "clone",
    "create_context",
    "get_default_context",
    "parse_mode",
)

PathType = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]
#: The chunk read where the size to read is not known: ahead of a separator
#: other than the file's own line end, and to the end of a file of size 0.
READ_AHEAD = io.DEFAULT_BUFFER_SIZE


# -- modes ---------------------------------------------------------------------


class FileMode(NamedTuple):
    """What a mode string asks for, and the ``os.open`` flags it means."""

    readable: bool
    writable: bool
    plus: bool
    appending: bool
    created: bool
    flags: int
    binary: bool


def parse_mode(mode: str) -> FileMode:
    """Parse a mode as ``open()`` does: exactly one of ``r``, ``w``, ``a``,
    ``x``, at most one ``+``, and ``b`` or ``t``; ``ValueError`` otherwise."""
    if not isinstance(mode, str):
        raise TypeError(f"mode must be str, not {type(mode).__name__}")
    if (
        set(mode) - set("rwax+bt")
        or len(set(mode)) < len(mode)
        or sum(letter in "rwax" for letter in mode) != 1
        or ("b" in mode and "t" in mode)
    ):
        raise ValueError(f"invalid mode: '{mode}'")
    plus = "+" in mode
    readable = "r" in mode or plus
    writable = "r" not in mode or plus
    flags = os.O_RDWR if readable and writable else os.O_WRONLY if writable else 0
    if "x" in mode:
        flags |= os.O_CREAT | os.O_EXCL
    elif "w" in mode:
        flags |= os.O_CREAT | os.O_TRUNC
    elif "a" in mode:
        flags |= os.O_CREAT | os.O_APPEND
    binary = "b" in mode
    if binary:
        flags |= getattr(os, "O_BINARY", 0)
    return FileMode(
        readable=readable,
        writable=writable,
        plus=plus,
        appending="a" in mode,
        created="x" in mode,
        flags=flags,
        binary=binary,
    )


def _descriptor_mode(mode: FileMode) -> str:
    """The mode for a file object on an open descriptor (no ``b`` or ``t``)."""
    letter = "a" if mode.appending else "r" if mode.readable else "w"
    return letter + ("+" if mode.readable and mode.writable else "")


# -- contexts --------------------------------------------------------------------

ContextStoreType = dict[int, "AsyncioContextBase"]
#: Contexts made by :func:`create_context`, by ``id()`` of their loop.  An
#: entry leaves when its loop is closed or collected, so an id is never
#: taken for a later loop's.
DEFAULT_CONTEXT_STORE: ContextStoreType = {}


def create_context(
    max_requests: int = core.AsyncioContext.MAX_REQUESTS_DEFAULT,
) -> AsyncioContextBase:
    """Make a context for ``asyncio.get_event_loop()``'s loop and make it
    the default of the ``AIOFile``\\ s used in that loop; it is closed when the
    loop closes."""
    loop = asyncio.get_event_loop()
    context: AsyncioContextBase = core.AsyncioContext(max_requests, loop=loop)
    on_loop_close(loop, _release_context_of)
    weakref.finalize(loop, _release_context, id(loop))
    DEFAULT_CONTEXT_STORE[id(loop)] = context
    return context


def get_default_context() -> AsyncioContextBase:
    """The context of an ``AIOFile`` made without one, in the running loop:
    the one :func:`create_context` made for the loop, if any, else the loop's
    shared context."""
    context = DEFAULT_CONTEXT_STORE.get(id(running_loop()))
    return context if context is not None else get_context()


def _release_context(loop_id: int) -> None:
    context = DEFAULT_CONTEXT_STORE.pop(loop_id, None)
    if context is not None:
        context.close()


def _release_context_of(loop: asyncio.AbstractEventLoop) -> None:
    _release_context(id(loop))


# -- the positional handle -----------------------------------------------------

#: What an ``AIOFile`` asks of its ``context`` up front: caio's ``write``,
#: which every use but a read-only one needs.  aiofile takes any object with
#: the methods a file's calls use (its own tests pass a mock with ``write``
#: and ``fdsync`` only), so the rest are looked up when called.
_CONTEXT_METHODS = ("write",)

_NOT_OPENED = (
    "AIOFile is not open: open it with 'await afp', 'await afp.open()' or "
    "'async with afp' (for async_open(): 'await async_open(...)' or "
    "'async with async_open(...) as afp')"
)


class AIOFile:
    """A file opened for positional I/O: ``read(size, offset)``,
    ``write(data, offset)``, with no position of its own.

    ``await`` it, call :meth:`open` or use ``async with`` to open the file;
    reads and writes may then run concurrently.  In text modes data is
    ``str``, encoded with ``encoding``; sizes and offsets count bytes.

    The arguments are checked here, before the file is opened (and so
    created or truncated): the mode (``ValueError``), in text modes the
    encoding (``LookupError``, as the codecs raise it; binary modes ignore it,
    as aiofile does), and the context (``TypeError``).
    """

    mode: FileMode

    def __init__(
        self,
        filename: PathType,
        mode: str = "r",
        encoding: str = "utf-8",
        context: AsyncioContextBase | None = None,
        executor: Executor | None = None,
    ) -> None:
        self.mode = parse_mode(mode)
        self._fname = os.fsdecode(filename)
        if not self.mode.binary:
            _lookup_text_encoding(encoding)
        check_context(context, *_CONTEXT_METHODS)
        self._encoding = encoding
        self._context = context
        self._executor = executor
        self._raw: FileIO | None = None
        self._borrowed: IO[Any] | None = None
        self._opening: asyncio.Future[int] | None = None
        self._clones = 0

    @classmethod
    def from_fp(cls, fp: IO[Any], **kwargs: Any) -> Self:
        """An ``AIOFile`` on an open file object, which stays its caller's:
        :meth:`close` leaves it open."""
        name = fp.name
        afp = cls(str(name) if isinstance(name, int) else name, fp.mode, **kwargs)
        afp._borrowed = fp
        return afp

    # -- queries ----------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._fname

    @property
    def encoding(self) -> str:
        return self._encoding

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The loop of the context serving this file."""
        return self._core().loop

    @property
    def closed(self) -> bool:
        """True until the file is opened, and after it is closed."""
        if self._borrowed is not None:
            return bool(self._borrowed.closed)
        return self._raw is None or self._raw.closed

    def fileno(self) -> int:
        """The descriptor; ``InvalidStateError`` before the file is opened,
        ``ValueError`` after it is closed."""
        if self._borrowed is not None:
            return self._borrowed.fileno()
        if self._raw is None:
            raise asyncio.InvalidStateError(_NOT_OPENED)
        return self._raw.fileno()

    def __repr__(self) -> str:
        return f"<AIOFile: {self._fname!r}>"

    # -- opening and closing ----------------------------------------------------

    async def open(self) -> int | None:
        """Open the file: the descriptor for the call that opened it, None for
        any other (concurrent calls open it once).  A closed ``AIOFile``
        cannot be reopened: ``InvalidStateError``."""
        running_loop()  # AsyncioRequiredError before anything is scheduled
        if self._raw is not None or self._borrowed is not None:
            if self.closed:
                raise asyncio.InvalidStateError("AIOFile closed")
            return None
        if self._opening is not None:
            await asyncio.shield(self._opening)
            return None
        opening = self._opening = asyncio.ensure_future(self._open())
        opening.add_done_callback(_retrieve_exception)
        return await asyncio.shield(opening)

    async def _open(self) -> int:
        try:
            loop = running_loop()
            flags = self.mode.flags | OPEN_FLAGS
            fd = await complete_despite_cancel(
                loop.run_in_executor(self._executor, os.open, self._fname, flags, 0o666)
            )
            try:
                self._raw = await open_file(
                    fd,
                    _descriptor_mode(self.mode) + "b",
                    buffering=0,
                    context=self._context,
                )
            except BaseException:
                os.close(fd)
                raise
            return fd
        finally:
            self._opening = None

    async def clone(self) -> Self:
        """This same object, with one more :meth:`close` needed to close it."""
        self._clones += 1
        return self

    @runs_to_the_end
    async def close(self) -> None:
        """Sync the data of a writable file (``fdsync``) and close it, once
        every clone is closed; idempotent.  A file from :meth:`from_fp` stays
        open."""
        raw = self._raw
        if raw is None or raw.closed:
            return
        if self._clones:
            self._clones -= 1
            return
        try:
            if self.mode.writable:
                await self.fdsync()
        finally:
            await raw.close()

    def __await__(self) -> Generator[Any, None, Self]:
        yield from self.open().__await__()
        return self

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- I/O ----------------------------------------------------------------------

    async def read(self, size: int = -1, offset: int = 0) -> bytes | str:
        """``size`` bytes at ``offset`` (fewer at the end of the file; all to
        the end if ``size`` is -1), decoded in text modes."""
        data = await self.read_bytes(size, offset)
        return data if self.mode.binary else self.decode_bytes(data)

    async def read_bytes(self, size: int = -1, offset: int = 0) -> bytes:
        """``size`` bytes at ``offset`` (all to the end of the file if -1:
        as many as its size says, or, where it says 0 as in ``/proc``, until
        a read finds nothing)."""
        if size < -1:
            raise ValueError(f"Unsupported value {size} for size")
        fd = self.fileno()
        if size == -1:
            end = os.fstat(fd).st_size
            if end == 0:
                return await self._read_to_end(fd, offset)
            size = max(end - offset, 0)
        if size == 0:
            return b""
        data: bytes = await self._core().read(size, fd, offset)
        return data

    async def _read_to_end(self, fd: int, offset: int) -> bytes:
        chunks = []
        while chunk := await self._core().read(READ_AHEAD, fd, offset):
            chunks.append(chunk)
            offset += len(chunk)
        return b"".join(chunks)

    async def write(self, data: str | Buffer, offset: int = 0) -> int:
        """Write ``data`` at ``offset`` (at the end in append mode); return
        the number of bytes written.  Text is encoded, with a BOM only at
        offset 0."""
        if self.mode.binary:
            if isinstance(data, str):
                raise ValueError("Data must be bytes in binary mode")
            return await self.write_bytes(data, offset)
        if not isinstance(data, str):
            raise ValueError("Data must be str in text mode")
        payload = _encode(data, self._encoding, offset == 0)
        return await self.write_bytes(payload, offset)

    async def write_bytes(self, data: Buffer, offset: int = 0) -> int:
        """Write all of ``data`` at ``offset``; return the number of bytes."""
        try:
            view = memoryview(data)
        except TypeError:
            raise ValueError("Data must be bytes in binary mode") from None
        size = view.nbytes
        if view.ndim != 1 or view.itemsize != 1:
            view = view.cast("B")
        written = 0
        while written < size:
            # The core writes everything; a partial count is a context's that
            # follows write(2) to the letter.
            count = await self._core().write(
                data if not written else view[written:],
                self.fileno(),
                offset + written,
            )
            if count == 0:
                raise RuntimeError("Write operation returned 0", self, offset, written)
            if count < 0:  # an error, from a context that returns -errno
                raise OSError(-count, os.strerror(-count), self._fname)
            written += count
        return written

    def encode_bytes(self, data: str) -> bytes:
        """``data`` encoded with the file's encoding, as aiofile does."""
        return data.encode(self._encoding)

    def decode_bytes(self, data: bytes) -> str:
        """``data`` decoded with the file's encoding, as aiofile does."""
        return data.decode(self._encoding)

    async def fsync(self) -> None:
        """Flush the file's data and metadata to the device."""
        await self._core().fsync(self.fileno())

    async def fdsync(self) -> None:
        """Flush the file's data to the device."""
        await self._core().fdsync(self.fileno())

    async def truncate(self, length: int = 0) -> None:
        """Cut or extend the file to ``length`` bytes."""
        loop = running_loop()
        await complete_despite_cancel(
            loop.run_in_executor(self._executor, os.ftruncate, self.fileno(), length)
        )

    def _core(self) -> AsyncioContextBase:
        return self._context if self._context is not None else get_default_context()


def _check_offset(offset: int) -> int:
    """A starting offset, as an int; ``ValueError`` if negative."""
    offset = operator.index(offset)
    if offset < 0:
        raise ValueError(f"offset must not be negative, not {offset}")
    return offset


def _retrieve_exception(future: asyncio.Future[Any]) -> None:
    """Mark an open that failed after its callers gave up as seen."""
    if not future.cancelled():
        future.exception()


def _encode(text: str, encoding: str, at_start: bool) -> bytes:
    """``text`` encoded, with the encoding's BOM (if any) only ``at_start``."""
    if at_start:
        return text.encode(encoding)
    encoder = codecs.getincrementalencoder(encoding)()
    encoder.setstate(0)  # what io does past the start: no BOM
    data: bytes = encoder.encode(text, True)
    return data


# -- sequential helpers over an AIOFile ---------------------------------------------


class Reader:
    """Chunks of an ``AIOFile`` from ``offset`` on, ``chunk_size`` bytes read
    at a time; ``async for`` ends at the end of the file.  In text modes a
    chunk is the text those bytes complete (never empty before the end)."""

    CHUNK_SIZE: ClassVar[int] = 32 * 1024

    def __init__(
        self, aio_file: AIOFile, offset: int = 0, chunk_size: int = CHUNK_SIZE
    ) -> None:
        self.file = aio_file
        self.encoding = aio_file.encoding
        self._offset = _check_offset(offset)
        self._chunk_size = operator.index(chunk_size)
        if self._chunk_size <= 0:
            raise ValueError(f"chunk_size must be positive, not {self._chunk_size}")
        self._decoder = (
            None
            if aio_file.mode.binary
            else codecs.getincrementaldecoder(self.encoding)()
        )
        self._lock = TaskLock()

    @property
    def offset(self) -> int:
        """Where the next chunk's bytes start."""
        return self._offset

    @serialized
    async def read_chunk(self) -> str | bytes:
        """The next chunk; empty at the end of the file."""
        while True:
            data = await self.file.read_bytes(self._chunk_size, self._offset)
            self._offset += len(data)
            if self._decoder is None:
                return data
            text: str = self._decoder.decode(data, not data)
            if text or not data:
                return text

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str | bytes:
        chunk = await self.read_chunk()
        if not chunk:
            raise StopAsyncIteration
        return chunk


class Writer:
    """Writes an ``AIOFile`` from ``offset`` on: ``await writer(data)``
    writes ``data`` (``str`` is encoded) after what it wrote before."""

    def __init__(self, aio_file: AIOFile, offset: int = 0) -> None:
        self._file = aio_file
        self._offset = _check_offset(offset)
        self._encoder: codecs.IncrementalEncoder | None = None
        self._lock = TaskLock()

    @property
    def offset(self) -> int:
        """Where the next write goes."""
        return self._offset

    @serialized
    async def __call__(self, data: str | Buffer) -> None:
        if isinstance(data, str):
            if self._encoder is None:
                self._encoder = codecs.getincrementalencoder(self._file.encoding)()
                if self._offset:
                    self._encoder.setstate(0)  # no BOM past the start
            data = self._encoder.encode(data)
        count = await complete_despite_cancel(
            self._file.write_bytes(data, self._offset)
        )
        self._offset += count


class LineReader:
    """Lines of an ``AIOFile`` from ``offset`` on, each up to and including
    ``line_sep`` (the last one may lack it), read ``chunk_size`` bytes at a
    time.  In binary modes a ``str`` separator is encoded."""

    CHUNK_SIZE: ClassVar[int] = 4096

    def __init__(
        self,
        aio_file: AIOFile,
        offset: int = 0,
        chunk_size: int = CHUNK_SIZE,
        line_sep: str | bytes = "\n",
    ) -> None:
        self._reader = Reader(aio_file, chunk_size=chunk_size, offset=offset)
        self.linesep: str | bytes
        if not aio_file.mode.binary:
            if not isinstance(line_sep, str):
                raise TypeError("line_sep must be str in text mode")
            self.linesep = line_sep
            self._buffer: str | bytes = ""
        else:
            self.linesep = (
                _encode(line_sep, aio_file.encoding, False)
                if isinstance(line_sep, str)
                else bytes(line_sep)
            )
            self._buffer = b""
        if not self.linesep:
            raise ValueError("line_sep must not be empty")
        self._lock = TaskLock()

    @serialized
    async def readline(self) -> str | bytes:
        """The next line; empty at the end of the file."""
        buffer: Any = self._buffer
        sep: Any = self.linesep
        end = buffer.find(sep)
        if end >= 0:
            end += len(sep)
            self._buffer = buffer[end:]
            return cast("str | bytes", buffer[:end])
        empty = buffer[:0]
        parts = [buffer]
        keep = len(sep) - 1  # a separator may start in what was read before
        tail = buffer[len(buffer) - keep :] if keep else empty
        while True:
            chunk: Any = await self._reader.read_chunk()
            if not chunk:
                self._buffer = empty
                return cast("str | bytes", empty.join(parts))
            window = tail + chunk
            end = window.find(sep)
            if end >= 0:
                end += len(sep) - len(tail)
                parts.append(chunk[:end])
                self._buffer = chunk[end:]
                return cast("str | bytes", empty.join(parts))
            parts.append(chunk)
            tail = window[len(window) - keep :] if keep else empty

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> str | bytes:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line


# -- file-like wrappers ----------------------------------------------------------------


class FileIOWrapperBase(ABC, Generic[AnyStr]):
    """A file-like view of an ``AIOFile`` with a position of its own.

    I/O goes through a file object of :func:`asyncfile.open` on the
    ``AIOFile``'s descriptor, made at the first operation; ``seek`` and
    ``tell`` are plain, and a seek is made at the next operation.  Calls are
    serialised.
    """

    #: The line end ``readline`` looks for by default.
    _NEWLINE: ClassVar[Any]
    #: Whether the file object reads ahead, so writes must first go back to
    #: the position the reads reached.
    _READS_AHEAD: ClassVar[bool] = False

    def __init__(self, afp: AIOFile, *, offset: int = 0) -> None:
        self.file = afp
        self._lock = TaskLock()
        self._io: Any = None
        # Append mode starts at the end, where the file object starts.
        self._seek_to: int | None = None if afp.mode.appending else offset
        self._resync = False
        self._closed = False

    @abstractmethod
    async def _open_io(self, fd: int, context: AsyncioContextBase) -> Any:
        """A file object of :func:`asyncfile.open` on ``fd``, not owning it."""

    async def _file_io(self) -> Any:
        """The file object, at this wrapper's position (called locked)."""
        if self._closed or self.file.closed:
            afp = self.file
            if not self._closed and afp._raw is None and afp._borrowed is None:
                raise ValueError(f"I/O operation on closed file. {_NOT_OPENED}")
            raise ValueError("I/O operation on closed file.")
        file_io = self._io
        if file_io is None:
            file_io = self._io = await self._open_io(
                self.file.fileno(), self.file._core()
            )
        if self._seek_to is not None:
            await file_io.seek(self._seek_to)
            self._seek_to = None
            self._resync = False
        return file_io

    # -- position ----------------------------------------------------------------

    def seek(self, offset: int) -> None:
        """Move to ``offset`` (bytes; in text modes, a ``tell()`` value) at
        the next operation."""
        offset = operator.index(offset)
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        self._seek_to = offset

    def tell(self) -> int:
        """The position: bytes from the start (in text modes, io's ``tell()``
        cookie, which is the byte offset whenever the decoder holds nothing)."""
        if self._seek_to is not None:
            return self._seek_to
        if self._io is not None:
            position: int = self._io.tell()
            return position
        try:  # append mode, before the first operation: the end of the file
            if not self.file.closed:
                return os.fstat(self.file.fileno()).st_size
            return os.stat(self.file.name).st_size
        except FileNotFoundError:
            return 0

    @property
    def closed(self) -> bool:
        return self._closed or self.file.closed

    # -- I/O ------------------------------------------------------------------------

    @serialized
    async def read(self, length: int = -1) -> AnyStr:
        """Like the file object's ``read``: ``length`` bytes (characters),
        fewer only at the end; all to the end if negative."""
        file_io = await self._file_io()
        data: AnyStr = await file_io.read(length)
        self._resync = self._READS_AHEAD
        return data

    @serialized
    async def write(self, data: AnyStr) -> int:
        """Write ``data`` at the position; it is in the file on return."""
        file_io = await self._file_io()
        if self._resync:
            await file_io.seek(file_io.tell())
            self._resync = False
        count: int = await file_io.write(data)
        await file_io.flush()
        return count

    @serialized
    async def readline(self, size: int = -1, newline: AnyStr | None = None) -> AnyStr:
        """The next line, up to and including ``newline`` (default
        ``"\\n"``), at most ``size`` bytes (characters) if ``size`` >= 0."""
        size = operator.index(size)
        file_io = await self._file_io()
        if newline is None or newline == self._NEWLINE:
            line: AnyStr = await file_io.readline(size)
        else:
            line = await self._readline_until(file_io, size, newline)
        self._resync = self._READS_AHEAD
        return line

    async def _readline_until(self, file_io: Any, size: int, sep: AnyStr) -> AnyStr:
        """Read ahead to the separator, then read exactly the line."""
        if not sep:
            raise ValueError("newline must not be empty")
        start = file_io.tell()
        keep = len(sep) - 1
        tail = sep[:0]
        length = 0
        while size < 0 or length < size:
            want = READ_AHEAD if size < 0 else min(READ_AHEAD, size - length)
            chunk: AnyStr = await file_io.read(want)
            if not chunk:
                break
            window = tail + chunk
            end = window.find(sep)
            if end >= 0:
                length += end + len(sep) - len(tail)
                break
            length += len(chunk)
            tail = window[len(window) - keep :] if keep else sep[:0]
        if size >= 0:
            length = min(length, size)
        await file_io.seek(start)
        line: AnyStr = await file_io.read(length)
        return line

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> AnyStr:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line

    def iter_chunked(
        self, chunk_size: int = Reader.CHUNK_SIZE
    ) -> AsyncIterator[AnyStr]:
        """``read(chunk_size)`` results from the position to the end."""
        chunk_size = operator.index(chunk_size)
        if chunk_size <= 0:
            raise ValueError("chunk size must be positive")
        return self._chunks(chunk_size)

    async def _chunks(self, chunk_size: int) -> AsyncIterator[AnyStr]:
        while chunk := await self.read(chunk_size):
            yield chunk

    @serialized
    async def flush(self, sync_metadata: bool = False) -> None:
        """Sync the file: its data (``fdsync``), or also its metadata
        (``fsync``) with ``sync_metadata``."""
        if self._io is not None and not self._closed:
            await self._io.flush()
        if sync_metadata:
            await self.file.fsync()
        else:
            await self.file.fdsync()

    @runs_to_the_end
    async def close(self) -> None:
        """Close this wrapper and its ``AIOFile`` (see ``AIOFile.close``);
        closing it again does nothing, so a clone is counted once."""
        await self._lock.acquire()
        try:
            if self._closed or (self._io is None and self.file.closed):
                return
            self._closed = True
            file_io, self._io = self._io, None
            try:
                if file_io is not None:
                    await file_io.close()
            finally:
                await self.file.close()
        finally:
            self._lock.release()

    def __await__(self) -> Generator[Any, None, Self]:
        yield from self.file.__await__()
        return self

    async def __aenter__(self) -> Self:
        await self.file.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


class BinaryFileWrapper(FileIOWrapperBase[bytes]):
    """What ``async_open`` returns for binary modes: reads and writes are
    those of an unbuffered :class:`asyncfile.FileIO`."""

    _NEWLINE = b"\n"

    def __init__(self, afp: AIOFile) -> None:
        if not afp.mode.binary:
            raise ValueError("Expected file in binary mode")
        super().__init__(afp)

    async def _open_io(self, fd: int, context: AsyncioContextBase) -> Any:
        mode = _descriptor_mode(self.file.mode) + "b"
        return await open_file(fd, mode, buffering=0, closefd=False, context=context)


class TextFileWrapper(FileIOWrapperBase[str]):
    """What ``async_open`` returns for text modes: reads and writes are those
    of an :class:`asyncfile.TextIOWrapper` with ``newline="\\n"``."""

    _NEWLINE = "\n"
    _READS_AHEAD = True

    def __init__(self, afp: AIOFile) -> None:
        if afp.mode.binary:
            raise ValueError("Expected file in text mode")
        super().__init__(afp)
        self.encoding = afp.encoding

    async def _open_io(self, fd: int, context: AsyncioContextBase) -> Any:
        return await open_file(
            fd,
            _descriptor_mode(self.file.mode),
            encoding=self.encoding,
            newline="\n",
            closefd=False,
            context=context,
        )


@overload
def async_open(
    file_specifier: PathType, mode: OpenBinaryMode, *args: Any, **kwargs: Any
) -> BinaryFileWrapper: ...
@overload
def async_open(
    file_specifier: PathType, mode: OpenTextMode = "r", *args: Any, **kwargs: Any
) -> TextFileWrapper: ...
@overload
def async_open(
    file_specifier: PathType | IO[Any], mode: str = "r", *args: Any, **kwargs: Any
) -> BinaryFileWrapper | TextFileWrapper: ...


def async_open(
    file_specifier: PathType | IO[Any], mode: str = "r", *args: Any, **kwargs: Any
) -> BinaryFileWrapper | TextFileWrapper:
    """A file-like wrapper of ``AIOFile(file_specifier, mode, *args,
    **kwargs)``, or of ``AIOFile.from_fp(file_specifier, **kwargs)`` for an
    open file object; ``await`` it or use ``async with`` to open the file."""
    if isinstance(file_specifier, (str, bytes, os.PathLike)):
        afp = AIOFile(file_specifier, mode, *args, **kwargs)
    else:
        if args:
            raise ValueError("Arguments denied when IO[Any] opening.")
        afp = AIOFile.from_fp(file_specifier, **kwargs)
    if afp.mode.binary:
        return BinaryFileWrapper(afp)
    return TextFileWrapper(afp)


W = TypeVar("W", bound=FileIOWrapperBase[Any])


class FileIOCloner(Generic[W]):
    """What :func:`clone` returns: ``await`` it for the clone, or use
    ``async with`` to close the clone on exit."""

    def __init__(self, file: W) -> None:
        self.source_afp = file
        self.cloned_afp: W | None = None

    async def _clone(self) -> W:
        if self.cloned_afp is None:
            afp = await self.source_afp.file.clone()
            self.cloned_afp = type(self.source_afp)(afp)
        return self.cloned_afp

    def __await__(self) -> Generator[Any, None, W]:
        return self._clone().__await__()

    async def __aenter__(self) -> W:
        return await self._clone()

    async def __aexit__(self, *exc_info: object) -> None:
        if self.cloned_afp is not None:
            await self.cloned_afp.close()


def clone(afp: W) -> FileIOCloner[W]:
    """A second wrapper of the same open file, with its own position from
    the start (the end in append mode); the file closes when the source and
    every clone are closed."""
    return FileIOCloner(afp)


for _name in (
    "AIOFile",
    "BinaryFileWrapper",
    "FileIOCloner",
    "FileIOWrapperBase",
    "LineReader",
    "Reader",
    "TextFileWrapper",
    "Writer",
    "async_open",
    "clone",
):
    globals()[_name].__module__ = "asyncfile"
del _name
