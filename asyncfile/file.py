"""Async file objects that behave like Python's built-in ``open()``.

``asyncfile.open(file, mode="r", buffering=-1, encoding=None, errors=None,
newline=None, closefd=True, opener=None, *, context=None)`` takes io.open's
arguments and gives what io.open gives, a :class:`FileIO`,
:class:`BufferedReader`, :class:`BufferedWriter`, :class:`BufferedRandom` or
:class:`TextIOWrapper`, with the same results, exceptions and bytes on disk
as the running Python's io, with one exception: on Python 3.10-3.12, a read
right after a write on a file opened for update (``"+"``), without a seek in
between (text reads, and ``read1()`` in binary), gives what 3.13's io gives
(see ``read1()`` below); every method that may touch the disk is a coroutine
(see :data:`COROUTINES`)::

    async with asyncfile.open("log.txt", encoding="utf-8") as f:
        async for line in f:
            ...
    f = await asyncfile.open("data.bin", "r+b")
    await f.seek(100)
    header = await f.read(16)
    await f.close()

``context`` picks the core context that serves the file (default: the one of
the running loop, from :func:`asyncfile.contexts.get_context`).

Beyond io: ``iter_chunked(size)``; ``pread(size, offset)``,
``preadinto(buffer, offset)`` and ``pwrite(data, offset)``, which leave the
position alone, flush pending writes first and read what the file holds;
``stat()`` (after flushing pending writes), ``fsync()`` and ``datasync()``
(flush, then sync).  ``flush()`` only empties the buffers; it never syncs.

``tell()`` is plain and never touches the disk: the raw file's position is
tracked in memory, buffered files add and subtract what they buffer, and text
files rebuild the decoder state from the last chunk read, exactly as io does,
so the cookie is the one io would return.  (io's text ``tell()`` flushes
first; this one counts the unwritten bytes instead, except in append mode:
see below.)

Append mode keeps the ``O_APPEND`` contract whatever other descriptors or
processes append between calls: each write goes to the end of the file as it
is then (``write(2)``, never at a remembered offset), and the position after
it is the kernel's, the end of these bytes, as with io.

The implementation ports io's C implementation of the running Python, down
to its shared read/write buffer, chunk sizes and cookie packing, so the
results, the exceptions with their messages and the moments bytes reach the
disk are io's (with the transfer sizes below).  Where Python versions differ
(3.13 converts the size of an unsupported read first and writes a whole
buffer's worth straight through; 3.10 accepts mode ``"U"``), the running
version's behaviour is followed, with one exception below.

Where io's behaviour and being asynchronous collide:

- ``open()`` checks its arguments at once, so a bad mode or type raises at the
  call and warnings point at the caller; the file is opened when the result
  is awaited or entered.  What io checks only after opening the file (the
  newline value, the encoding's name, unbuffered text) fails there too,
  after the file was created or truncated, as with io.  A ``context`` that is
  not a core context is a ``TypeError`` at the call.  Each ``await`` of the
  result opens the file anew; ``async with`` opens on entry and closes on exit.
  Asking the result for a file's attribute (a forgotten ``await``) raises
  :class:`NotOpenedError`, an ``AttributeError`` that says what to write.
- The coroutines run in asyncio's event loops (and uvloop's) only: awaited
  under trio or anyio's trio backend, they raise
  :class:`~asyncfile.contexts.AsyncioRequiredError`, a ``RuntimeError``,
  before anything touches the file system.
- io's text ``tell()`` flushes; this one counts what is pending instead.
  Nothing is written, the cookie is the same.  In append mode, where the
  place the pending text lands depends on what others append meanwhile,
  ``tell()`` (and ``seek(0, SEEK_CUR)``) writes it as io does, with blocking
  system calls (unless another call on the file is in flight; it then
  counts, as elsewhere).  Where io's answer depends on memory it reads out
  of bounds (``tell()`` after ``readlines(hint)`` stopped
  an iteration and a ``flush()`` re-enabled telling), this one raises
  ``OSError("can't reconstruct logical file position")``.
- Calls on one object are serialised: each coroutine runs alone, in call
  order (a method may use the object's other methods).
- Cancellation leaves each object consistent.  A write that has started
  completes (it may already be in the kernel) and the cancellation arrives
  at the caller's next suspension, at the latest before the next write
  starts (``close()`` still writes what was reported); it is the same one
  request for ``asyncio.timeout()``.  A write cancelled before its turn does
  nothing, except that a text write's encoded bytes stay pending and are
  written whole later.  A read that is cancelled puts back what it took, so
  the position is unchanged and the next read returns the same data.  On
  pipes the worker thread's read cannot be taken back: bytes it read after
  the cancellation are lost.
- An unclosed file is finalised as io's is when collected: it warns
  (``ResourceWarning``, if it owns its descriptor), writes what it still
  buffers (the binary buffer and the encoded text) with blocking system
  calls, as io does at that moment, and closes its descriptor; on the loop's
  thread, after the loop closed, and at interpreter exit alike.  Unlike io,
  a file in a reference cycle writes too (io may finalise its raw file
  first and lose the data).  A file collected in the middle of a call (its
  task dropped unfinished) writes nothing, since what that call had in the
  kernel is unknown.  As with io, a child made by ``fork()`` holds a copy
  of the buffers, which it writes too if it collects the file: flush before
  forking.
- ``async for`` over a text file disables ``tell()`` until the end of the
  file (or the next ``flush()``/``seek()``), as ``for`` does; so does
  ``readlines()``, which iterates.
- ``read1()`` on a ``BufferedRandom`` (and so text reads over one) flushes
  pending writes first, as io does since 3.13, on every version: io before
  3.13 returned stale bytes there and then wrote the pending bytes at the
  wrong place.
- On a text file, ``pread``/``preadinto``/``pwrite`` work on bytes of the
  underlying file (sizes and offsets in bytes; ``pwrite`` takes bytes): text
  has no positional meaning at a character offset.
- ``readline()`` on an unbuffered seekable file reads ahead with ``pread`` and
  moves past the line only (io reads one byte per system call).
- Transfers are larger, since each costs a trip through the kernel's queue:
  ``buffering=-1`` gives a file that writes Python 3.14's buffer size (the
  block size within 128 KiB to 8 MiB), so bytes reach the disk, and a full
  disk shows, as with 3.14's io; while ``tell()`` is disabled (iterating, or
  on a pipe) text is read in 64 KiB chunks, which shows only in the raw
  file's position.
- ``aiter()`` of a text file is an iterator over its lines (when the C
  speedups are built), not the file itself; like io's, it goes on after the
  end of the file if more text arrives.
"""

from __future__ import annotations

import functools
import operator
import os
import sys
import warnings
from collections.abc import Awaitable, Callable, Coroutine, Generator
from typing import TYPE_CHECKING, Any, Final, Generic, Literal, TypeVar, overload

from .contexts import check_context
from .io._buffered import (
    BufferedIOBase,
    BufferedRandom,
    BufferedReader,
    BufferedWriter,
)
from .io._raw import FileIO
from .io._text import TextIOWrapper

if TYPE_CHECKING:
    from types import TracebackType

    from .core.asyncio_base import AsyncioContextBase

__all__ = (
    "COROUTINES",
    "BufferedIOBase",
    "BufferedRandom",
    "BufferedReader",
    "BufferedWriter",
    "FileIO",
    "FileOpener",
    "NotOpenedError",
    "TextIOWrapper",
    "open",
)

#: The io method names that are coroutines here; every other name io's file
#: objects have stays plain.  Beyond io: ``pread``, ``preadinto``, ``pwrite``,
#: ``stat``, ``fsync`` and ``datasync`` are coroutines too.
COROUTINES: Final = frozenset(
    {
        "close",
        "detach",
        "flush",
        "peek",
        "read",
        "read1",
        "readall",
        "readinto",
        "readinto1",
        "readline",
        "readlines",
        "reconfigure",
        "seek",
        "truncate",
        "write",
        "writelines",
    }
)

F = TypeVar("F")
FileDescriptorOrPath = int | str | bytes | os.PathLike[str] | os.PathLike[bytes]
Opener = Callable[[str, int], int]

OpenTextModeUpdating = Literal[
    "r+", "+r", "rt+", "r+t", "+rt", "tr+", "t+r", "+tr",
    "w+", "+w", "wt+", "w+t", "+wt", "tw+", "t+w", "+tw",
    "a+", "+a", "at+", "a+t", "+at", "ta+", "t+a", "+ta",
    "x+", "+x", "xt+", "x+t", "+xt", "tx+", "t+x", "+tx",
]  # fmt: skip
OpenTextModeWriting = Literal["w", "wt", "tw", "a", "at", "ta", "x", "xt", "tx"]
OpenTextModeReading = Literal["r", "rt", "tr"]
OpenTextMode = OpenTextModeUpdating | OpenTextModeWriting | OpenTextModeReading
OpenBinaryModeUpdating = Literal[
    "rb+", "r+b", "+rb", "br+", "b+r", "+br",
    "wb+", "w+b", "+wb", "bw+", "b+w", "+bw",
    "ab+", "a+b", "+ab", "ba+", "b+a", "+ba",
    "xb+", "x+b", "+xb", "bx+", "b+x", "+bx",
]  # fmt: skip
OpenBinaryModeWriting = Literal["wb", "bw", "ab", "ba", "xb", "bx"]
OpenBinaryModeReading = Literal["rb", "br"]
OpenBinaryMode = OpenBinaryModeUpdating | OpenBinaryModeReading | OpenBinaryModeWriting


class NotOpenedError(AttributeError):
    """A file object's attribute asked of what :func:`open` returns, which
    is not the file yet: the message says how to get the file.  An
    ``AttributeError``, so ``hasattr`` and ``getattr`` with a default work."""


class FileOpener(Generic[F]):
    """What :func:`open` returns: awaiting it opens the file and gives it;
    ``async with`` opens it on entry and closes it on exit.  Asking it for
    a file object's attribute (``read``, ``write``, ``name``...) raises
    :class:`NotOpenedError`, which says so."""

    __slots__ = ("_arguments", "_file", "_open")

    def __init__(
        self, open_file: Callable[..., Coroutine[Any, Any, F]], *arguments: Any
    ) -> None:
        self._open = open_file
        self._arguments = arguments
        self._file: F | None = None

    def __await__(self) -> Generator[Any, None, F]:
        return self._open(*self._arguments).__await__()

    async def __aenter__(self) -> F:
        if self._file is not None:
            raise RuntimeError("the file is open already: enter it once")
        self._file = await self._open(*self._arguments)
        return self._file

    def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> Awaitable[None]:
        # The file's own close() is what ``async with`` awaits: no frame of
        # this opener's stands between (its value, None, raises nothing on).
        file, self._file = self._file, None
        if file is None:
            return _nothing_to_close()
        close: Awaitable[None] = file.close()  # type: ignore[attr-defined]
        return close

    def __getattr__(self, name: str) -> Any:
        message = f"{type(self).__name__!r} object has no attribute {name!r}"
        if name in _FILE_ATTRIBUTES:
            message += (
                ": asyncfile.open() returns an opener, not the file; get the "
                "file with 'f = await asyncfile.open(...)' or "
                "'async with asyncfile.open(...) as f:'"
            )
            raise NotOpenedError(message, name=name, obj=self)
        raise AttributeError(message, name=name, obj=self)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__}>"


@overload
def open(
    file: FileDescriptorOrPath,
    mode: OpenTextMode = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: Opener | None = None,
    *,
    context: AsyncioContextBase | None = None,
) -> FileOpener[TextIOWrapper]: ...
@overload
def open(
    file: FileDescriptorOrPath,
    mode: OpenBinaryMode,
    buffering: Literal[0],
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: Opener | None = None,
    *,
    context: AsyncioContextBase | None = None,
) -> FileOpener[FileIO]: ...
@overload
def open(
    file: FileDescriptorOrPath,
    mode: OpenBinaryModeUpdating,
    buffering: Literal[-1, 1] = -1,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: Opener | None = None,
    *,
    context: AsyncioContextBase | None = None,
) -> FileOpener[BufferedRandom]: ...
@overload
def open(
    file: FileDescriptorOrPath,
    mode: OpenBinaryModeWriting,
    buffering: Literal[-1, 1] = -1,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: Opener | None = None,
    *,
    context: AsyncioContextBase | None = None,
) -> FileOpener[BufferedWriter]: ...
@overload
def open(
    file: FileDescriptorOrPath,
    mode: OpenBinaryModeReading,
    buffering: Literal[-1, 1] = -1,
    encoding: None = None,
    errors: None = None,
    newline: None = None,
    closefd: bool = True,
    opener: Opener | None = None,
    *,
    context: AsyncioContextBase | None = None,
) -> FileOpener[BufferedReader]: ...
@overload
def open(
    file: FileDescriptorOrPath,
    mode: str,
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: Opener | None = None,
    *,
    context: AsyncioContextBase | None = None,
) -> FileOpener[Any]: ...


def open(
    file: FileDescriptorOrPath,
    mode: str = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: Opener | None = None,
    *,
    context: AsyncioContextBase | None = None,
) -> FileOpener[Any]:
    """Like the built-in ``open()``: same arguments, same checks, and the
    same kind of file, with coroutines for I/O.  ``await`` the result for the
    file, or use it in ``async with``.  See the module's documentation."""
    # Each check is asked in full only where the quick look finds something
    # other than the common values (a str, the defaults): open() is called
    # once per file, and a small file costs little more than this.
    if type(mode) is not str:
        _check_type("mode", mode, none_ok=False)
    if type(buffering) is not int:
        buffering = operator.index(buffering)
    if encoding is not None or errors is not None or newline is not None:
        _check_type("encoding", encoding)
        _check_type("errors", errors)
        _check_type("newline", newline)
    if context is not None:
        check_context(context, *_CONTEXT_METHODS)
    if closefd is not True:
        closefd = bool(closefd if _CLOSEFD_TAKES_ANY else operator.index(closefd))
    if type(file) is str:
        pass
    elif not isinstance(file, int):
        file = os.fspath(file)
    elif isinstance(file, bool) and sys.version_info >= (3, 13):
        warnings.warn("bool is used as a file descriptor", RuntimeWarning, stacklevel=2)
        file = int(file)

    # Mode "U" warns on every call: its parse is not remembered.
    raw_mode, binary = (_parsed_mode if "U" in mode else _remembered_mode)(mode)
    if binary and encoding is not None:
        raise ValueError("binary mode doesn't take an encoding argument")
    if binary and errors is not None:
        raise ValueError("binary mode doesn't take an errors argument")
    if binary and newline is not None:
        raise ValueError("binary mode doesn't take a newline argument")
    if binary and buffering == 1:
        warnings.warn(
            "line buffering (buffering=1) isn't supported in binary mode, "
            "the default buffer size will be used",
            RuntimeWarning,
            stacklevel=2,
        )
    if raw_mode in ("", "+"):
        raise ValueError(
            "Must have exactly one of create/read/write/append mode "
            "and at most one plus"
        )
    if not binary and encoding is None:
        # io.text_encoding(), warning at the caller
        encoding = "utf-8" if sys.flags.utf8_mode else "locale"
        if sys.flags.warn_default_encoding:
            warnings.warn(
                "'encoding' argument not specified", EncodingWarning, stacklevel=2
            )

    return FileOpener(
        _open_file,
        file,
        mode,
        raw_mode,
        buffering,
        binary,
        encoding,
        errors,
        newline,
        closefd,
        opener,
        context,
    )


async def _open_file(
    file: FileDescriptorOrPath,
    mode: str,
    raw_mode: str,
    buffering: int,
    binary: bool,
    encoding: str | None,
    errors: str | None,
    newline: str | None,
    closefd: bool,
    opener: Opener | None,
    context: AsyncioContextBase | None,
) -> Any:
    """:func:`open`'s file, its arguments checked."""
    raw = await FileIO.open(file, raw_mode, closefd, opener, context=context)
    try:
        return _wrap(raw, mode, raw_mode, buffering, binary, encoding, errors, newline)
    except BaseException:
        await raw.close()
        raise


#: What the file objects ask of the ``context`` given to :func:`open`.
#: Checked when ``context=`` is given: a core context writes, so an object
#: without ``write`` (a backend's name, a loop) is a mistake.  Other methods
#: are looked up when a call needs them, as aiofile (whose own tests pass a
#: mock of caio's context with only the methods they use) does.
_CONTEXT_METHODS: Final = ("write",)


#: From 3.13, io takes any object as ``closefd`` (its truth); before, an int.
_CLOSEFD_TAKES_ANY: Final = sys.version_info >= (3, 13)


def _check_type(argument: str, value: object, none_ok: bool = True) -> None:
    if isinstance(value, str) or (none_ok and value is None):
        return
    expected = "str or None" if none_ok else "str"
    raise TypeError(
        f"open() argument '{argument}' must be {expected}, not {type(value).__name__}"
    )


def _parsed_mode(mode: str) -> tuple[str, bool]:
    """(the raw file's mode, binary) for ``mode``, with io's errors for what
    no other argument makes valid; the raw mode has none of create, read,
    write and append when ``mode`` has none (io refuses that after checking
    the other arguments)."""
    creating, reading, writing, appending, updating, text, binary = _parse_mode(mode)
    if text and binary:
        raise ValueError("can't have text and binary mode at once")
    if creating + reading + writing + appending > 1:
        raise ValueError("must have exactly one of create/read/write/append mode")
    raw_mode = (
        ("x" if creating else "")
        + ("r" if reading else "")
        + ("w" if writing else "")
        + ("a" if appending else "")
        + ("+" if updating else "")
    )
    return raw_mode, binary


_remembered_mode = functools.lru_cache(maxsize=64)(_parsed_mode)


def _parse_mode(mode: str) -> tuple[bool, bool, bool, bool, bool, bool, bool]:
    """(creating, reading, writing, appending, updating, text, binary), with
    io's errors for letters it does not know or repeated ones."""
    allowed = "xrwa+tbU" if sys.version_info < (3, 11) else "xrwa+tb"
    if set(mode) - set(allowed) or len(set(mode)) < len(mode):
        raise ValueError(f"invalid mode: '{mode}'")
    creating, reading, writing = "x" in mode, "r" in mode, "w" in mode
    appending, updating = "a" in mode, "+" in mode
    if "U" in mode:  # Python 3.10 only
        if creating or writing or appending or updating:
            raise ValueError("mode U cannot be combined with 'x', 'w', 'a', or '+'")
        warnings.warn("'U' mode is deprecated", DeprecationWarning, stacklevel=4)
        reading = True
    return creating, reading, writing, appending, updating, "t" in mode, "b" in mode


#: The smallest and largest buffers ``buffering=-1`` gives a file that writes,
#: and on Python 3.14 and later every file: 3.14's io makes this choice for
#: every file; it matters more here, where each flush costs a trip through the
#: kernel's queue rather than one system call.
_MIN_DEFAULT_BUFFER = 128 * 1024
_MAX_DEFAULT_BUFFER = 8 * 1024 * 1024

#: Whether the running Python's ``open()`` sizes a default buffer within
#: ``_MIN_DEFAULT_BUFFER`` and ``_MAX_DEFAULT_BUFFER`` rather than to the block size.
_IO_BOUNDS_DEFAULT_BUFFER: Final = sys.version_info >= (3, 14)


def _default_buffer_size(blksize: int, raw_mode: str) -> int:
    """``buffering=-1``: a reader's buffer is the running Python's io's (the
    block size before 3.14, the block size within 128 KiB to 8 MiB since), so
    its read-ahead, and with it what ``read1()`` and ``peek()`` return, is
    io's; large reads skip it anyway.  A file that writes gets Python 3.14's
    size on every version."""
    reader = "r" in raw_mode and "+" not in raw_mode
    if reader and not _IO_BOUNDS_DEFAULT_BUFFER:
        return blksize
    return max(min(blksize, _MAX_DEFAULT_BUFFER), _MIN_DEFAULT_BUFFER)


def _wrap(
    raw: FileIO,
    mode: str,
    raw_mode: str,
    buffering: int,
    binary: bool,
    encoding: str | None,
    errors: str | None,
    newline: str | None,
) -> FileIO | BufferedIOBase | TextIOWrapper:
    """io.open's second half: buffer the raw file, then wrap it in text."""
    line_buffering = False
    if buffering == 1 or (buffering < 0 and raw._may_be_tty and raw.isatty()):
        buffering = -1
        line_buffering = True
    if buffering < 0:
        buffering = _default_buffer_size(raw._blksize, raw_mode)
    if buffering == 0:
        if binary:
            return raw
        raise ValueError("can't have unbuffered text I/O")
    buffer: BufferedReader | BufferedWriter | BufferedRandom
    if "+" in raw_mode:
        buffer = BufferedRandom(raw, buffering)
    elif "r" in raw_mode:
        buffer = BufferedReader(raw, buffering)
    else:
        buffer = BufferedWriter(raw, buffering)
    if binary:
        return buffer
    text = TextIOWrapper(buffer, encoding, errors, newline, line_buffering)
    text.mode = mode
    return text


async def _nothing_to_close() -> None:
    """The exit of an opener whose file was never opened, or closed already."""


#: What a file object has that an opener does not: the names a forgotten
#: ``await`` asks the opener for.
_FILE_ATTRIBUTES: Final = (
    frozenset(
        name
        for cls in (FileIO, BufferedRandom, TextIOWrapper)
        for name in dir(cls)
        if not name.startswith("_") or name in ("__aiter__", "__anext__")
    )
    - frozenset(dir(FileOpener))
    - {"open"}
)

for _cls in (
    FileIO,
    BufferedIOBase,
    BufferedReader,
    BufferedWriter,
    BufferedRandom,
    TextIOWrapper,
):
    _cls.__module__ = "asyncfile"
del _cls
