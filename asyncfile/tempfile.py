"""Temporary files and directories as ``tempfile`` makes them, asynchronously.

The calls take ``tempfile``'s arguments and make what ``tempfile`` makes: the
same names (from ``tempfile``'s own random name sequence, so both draw from
one), the same flags (``O_EXCL``, ``O_NOFOLLOW``, ``O_TMPFILE`` where the
system has it), the same permissions (``0o600`` for files, ``0o700`` for
directories), the same exceptions; the files are asyncfile file objects, as
:func:`asyncfile.open` returns them::

    async with asyncfile.tempfile.NamedTemporaryFile("w+", suffix=".txt") as f:
        await f.write("hello")
        await f.seek(0)
        print(f.name, await f.read())
    # the file is gone

    async with asyncfile.tempfile.TemporaryDirectory() as path:
        ...  # a str, as tempfile's; the tree is removed on exit

``TemporaryFile()``, ``NamedTemporaryFile()`` and ``TemporaryDirectory()``
check their arguments at the call; awaiting the result creates the file or
directory and gives the object, ``async with`` creates it on entry and
cleans up on exit.  :class:`SpooledTemporaryFile` creates nothing until it
rolls over, so it is made at the call (awaiting it gives it back, so code
written for the others works with it too).  :func:`mkstemp`, :func:`mkdtemp`,
:func:`gettempdir` and :func:`gettempdirb` (which may look for a usable
directory on first use) are coroutines.  The default directory is
``tempfile``'s: set ``tempfile.tempdir`` to change both.

Cleanup: leaving ``async with`` removes what was made, also when the body
raised or was cancelled, and a cancellation that arrives during the cleanup
waits for it to finish; a file or directory is never left behind by a
cancelled creation either.  An object collected without cleanup is cleaned up
then, with blocking calls, as ``tempfile``'s finalisers do.

Where the running Python's ``tempfile`` differs from others, its behaviour is
followed (``mkdtemp()``'s absolute path since 3.12, a missing file at cleanup
ignored since 3.12, 3.14's ``ResourceWarning`` for an implicit cleanup, the
flags of ``O_TMPFILE``), except that ``delete_on_close`` (3.12) and the
methods that 3.11 gave ``SpooledTemporaryFile`` exist on every version.

Creating goes through :mod:`asyncfile`'s filesystem calls (the core's where
the kernel has them); a directory tree is removed by ``tempfile``'s own
removal (which makes read-only entries writable first) on a worker thread.
"""

from __future__ import annotations

import asyncio
import errno
import io
import os
import sys
import tempfile
import warnings
import weakref
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from . import _filesystem
from .file import NotOpenedError
from .file import open as _open
from .io._cancellation import complete_despite_cancel
from .io._locks import TaskLock, serialized

if TYPE_CHECKING:
    from types import TracebackType

    from typing_extensions import Buffer, Self

__all__ = (
    "TMP_MAX",
    "NamedTemporaryFile",
    "SpooledTemporaryFile",
    "TemporaryDirectory",
    "TemporaryFile",
    "gettempdir",
    "gettempdirb",
    "gettempprefix",
    "gettempprefixb",
    "mkdtemp",
    "mkstemp",
)

T = TypeVar("T")

TMP_MAX: Final = tempfile.TMP_MAX
gettempprefix = tempfile.gettempprefix
gettempprefixb = tempfile.gettempprefixb

# tempfile's own pieces, so that names, flags and argument checks are the
# running Python's.
_get_candidate_names: Callable[[], Any] = tempfile._get_candidate_names  # type: ignore[attr-defined]
_infer_return_type: Callable[..., type] = tempfile._infer_return_type  # type: ignore[attr-defined]
_sanitize_params: Callable[..., tuple[Any, Any, Any, type]] = tempfile._sanitize_params  # type: ignore[attr-defined]
_BIN_FLAGS: Final[int] = tempfile._bin_openflags  # type: ignore[attr-defined]
_TEXT_FLAGS: Final[int] = tempfile._text_openflags  # type: ignore[attr-defined]
_rmtree: Callable[..., None] = tempfile.TemporaryDirectory._rmtree  # type: ignore[attr-defined]

_WINDOWS: Final = os.name == "nt"
#: Where tempfile's TemporaryFile is its NamedTemporaryFile (no unlinking of
#: an open file there).
_NAMED_ONLY: Final = os.name != "posix" or sys.platform == "cygwin"
#: A file missing at cleanup is no error (3.12's rework of the closer).
_MISSING_OK_AT_CLEANUP: Final = sys.version_info >= (3, 12)
#: mkdtemp() returns an absolute path.
_MKDTEMP_ABSOLUTE: Final = sys.version_info >= (3, 12)
#: Collecting an unclosed named file warns, as the closer of 3.14 does.
_WARN_IMPLICIT_FILE_CLEANUP: Final = sys.version_info >= (3, 14)
#: Collecting an unclosed SpooledTemporaryFile warns (3.11).
_WARN_UNCLOSED_SPOOLED: Final = sys.version_info >= (3, 11)
#: O_TMPFILE is opened without O_EXCL, so the file may be linked later (3.15).
_TMPFILE_DROPS_EXCL: Final = sys.version_info >= (3, 15)


async def _to_the_end(operation: Coroutine[Any, Any, T]) -> T:
    """Run ``operation`` to its end whatever cancellation arrives meanwhile
    (it is delivered after): a creation's result is never lost, a cleanup
    never cut short."""
    return await complete_despite_cancel(asyncio.ensure_future(operation))


async def gettempdir() -> str:
    """``tempfile.gettempdir()``; the first call may probe candidate
    directories (creating and removing a file in each), on a worker thread."""
    if tempfile.tempdir is None:
        return await _filesystem.in_thread(tempfile.gettempdir)
    return tempfile.gettempdir()


async def gettempdirb() -> bytes:
    """``tempfile.gettempdirb()``, as :func:`gettempdir`."""
    if tempfile.tempdir is None:
        return await _filesystem.in_thread(tempfile.gettempdirb)
    return tempfile.gettempdirb()


async def _sanitized(prefix: Any, suffix: Any, dir: Any) -> tuple[Any, Any, Any, type]:
    """``tempfile._sanitize_params``, with the default directory found off
    the loop the first time."""
    if dir is None and tempfile.tempdir is None:
        await gettempdir()
    return _sanitize_params(prefix, suffix, dir)


def _names(output_type: type) -> Iterable[Any]:
    names = _get_candidate_names()
    return map(os.fsencode, names) if output_type is bytes else names


def _retry_on_windows(error: PermissionError, dir: Any, attempt: int) -> bool:
    """Whether a PermissionError for a candidate name means, as tempfile reads
    it on Windows, that the name is taken (a directory by that name)."""
    if not _WINDOWS or not os.path.isdir(dir):
        return False
    if sys.version_info >= (3, 14):
        return attempt < TMP_MAX - 1
    return os.access(dir, os.W_OK)


async def _create_file(
    dir: Any, prefix: Any, suffix: Any, flags: int, output_type: type
) -> tuple[int, Any]:
    """tempfile's ``_mkstemp_inner``: a new file under a fresh name, opened
    with ``flags`` and mode 0o600; ``(descriptor, absolute path)``."""
    dir = os.path.abspath(dir)  # noqa: ASYNC240 (a getcwd() at most)
    names = iter(_names(output_type))
    for attempt in range(TMP_MAX):
        path = os.path.join(dir, prefix + next(names) + suffix)
        sys.audit("tempfile.mkstemp", path)
        try:
            fd = await _to_the_end(_filesystem.open(path, flags, 0o600))
        except FileExistsError:
            continue
        except PermissionError as error:
            if _retry_on_windows(error, dir, attempt):
                continue
            raise
        return fd, path
    raise FileExistsError(errno.EEXIST, "No usable temporary file name found")


async def mkstemp(
    suffix: Any = None, prefix: Any = None, dir: Any = None, text: bool = False
) -> tuple[int, Any]:
    """``tempfile.mkstemp()``: a new file only its owner may read and write,
    and ``(descriptor, absolute path)``; str or bytes as the arguments are.
    The caller closes and removes it."""
    prefix, suffix, dir, output_type = await _sanitized(prefix, suffix, dir)
    flags = _TEXT_FLAGS if text else _BIN_FLAGS
    return await _create_file(dir, prefix, suffix, flags, output_type)


async def mkdtemp(suffix: Any = None, prefix: Any = None, dir: Any = None) -> Any:
    """``tempfile.mkdtemp()``: a new directory only its owner may use, and
    its path (absolute since Python 3.12, as tempfile's).  The caller
    removes it."""
    prefix, suffix, dir, output_type = await _sanitized(prefix, suffix, dir)
    names = iter(_names(output_type))
    for attempt in range(TMP_MAX):
        path = os.path.join(dir, prefix + next(names) + suffix)
        sys.audit("tempfile.mkdtemp", path)
        try:
            await _to_the_end(_filesystem.mkdir(path, 0o700))
        except FileExistsError:
            continue
        except PermissionError as error:
            if _retry_on_windows(error, dir, attempt):
                continue
            raise
        if _MKDTEMP_ABSOLUTE:
            return os.path.abspath(path)  # noqa: ASYNC240 (a getcwd() at most)
        return path
    raise FileExistsError(errno.EEXIST, "No usable temporary directory name found")


# -- what the creating calls return -------------------------------------------------

F = TypeVar("F")


class Creation(Generic[F]):
    """What :func:`TemporaryFile` and :func:`NamedTemporaryFile` return:
    awaiting it creates the file and gives it; ``async with`` creates it on
    entry and, on exit, closes it and removes what was made."""

    __slots__ = ("_create", "_entered", "_what")

    def __init__(self, create: Callable[[], Coroutine[Any, Any, F]], what: str):
        self._create = create
        self._what = what
        self._entered: F | None = None

    def __await__(self) -> Generator[Any, None, F]:
        return self._create().__await__()

    async def __aenter__(self) -> F:
        if self._entered is not None:
            raise RuntimeError("the file exists already: enter it once")
        made = await self._create()
        try:
            await _aenter(made)
        except BaseException:
            await _to_the_end(_aexit(made, *sys.exc_info()))
            raise
        self._entered = made
        return made

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        made, self._entered = self._entered, None
        if made is not None:
            await _aexit(made, exc_type, exc, traceback)

    def __getattr__(self, name: str) -> Any:
        message = f"{type(self).__name__!r} object has no attribute {name!r}"
        if not name.startswith("__"):
            message += (
                f": asyncfile.tempfile.{self._what}() returns a creation, not "
                f"the file; get the file with 'f = await {self._what}(...)' "
                f"or 'async with {self._what}(...) as f:'"
            )
            raise NotOpenedError(message, name=name, obj=self)
        raise AttributeError(message, name=name, obj=self)

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__qualname__} {self._what}>"


async def _aenter(made: Any) -> Any:
    return await made.__aenter__()


async def _aexit(made: Any, *exc_info: Any) -> Any:
    return await made.__aexit__(*exc_info)


def _text_encoding(encoding: str | None, stacklevel: int) -> str:
    """``io.text_encoding()``: the encoding tempfile gives io for text."""
    if encoding is not None:
        return encoding
    if sys.flags.warn_default_encoding:
        warnings.warn(
            "'encoding' argument not specified", EncodingWarning, stacklevel=stacklevel
        )
    return "utf-8" if sys.flags.utf8_mode else "locale"


class _Handover:
    """The opener given to :func:`asyncfile.open`: it hands over the
    descriptor a creation made (and notes that the file object now owns it)."""

    __slots__ = ("fd", "taken")

    def __init__(self) -> None:
        self.fd = -1
        self.taken = False

    def __call__(self, path: object, flags: int) -> int:
        self.taken = True
        return self.fd


def _open_checked(
    mode: str,
    buffering: int,
    encoding: str | None,
    newline: str | None,
    errors: str | None,
    handover: _Handover,
) -> Any:
    """asyncfile.open's checks of the arguments, now; what it returns opens
    the descriptor the creation hands over."""
    if "b" not in mode:
        encoding = _text_encoding(encoding, 4)
    return _open(
        "",
        mode,
        buffering,
        encoding=encoding,
        errors=errors,
        newline=newline,
        opener=handover,
    )


async def _wrap(opening: Any, handover: _Handover, fd: int, name: Any) -> Any:
    """The file object over ``fd``, named ``name``; on failure the
    descriptor is closed (by the file object if it took it)."""
    handover.fd = fd
    try:
        file = await opening
    except BaseException:
        if not handover.taken:
            await _to_the_end(_filesystem.close(fd))
        raise
    raw = getattr(file, "buffer", file)
    raw = getattr(raw, "raw", raw)
    raw.name = name
    return file


# -- NamedTemporaryFile ------------------------------------------------------------


class _Closer:
    """tempfile's ``_TemporaryFileCloser``: closes the file and, if it is to
    be deleted, removes it, once; on collection too."""

    cleanup_called = False
    close_called = False

    def __init__(
        self,
        file: Any,
        name: Any,
        delete: bool,
        delete_on_close: bool,
        warn_message: str,
    ) -> None:
        self.file = file
        self.name = name
        self.delete = delete
        self.delete_on_close = delete_on_close
        self.warn_message = warn_message

    @property
    def _removes(self) -> bool:
        # Windows deletes an O_TEMPORARY file itself when it is closed.
        return self.delete and not (_WINDOWS and self.delete_on_close)

    async def cleanup(self) -> None:
        if self.cleanup_called:
            return
        self.cleanup_called = True
        try:
            if not self.close_called:
                self.close_called = True
                await self.file.close()
        finally:
            if self._removes:
                await _to_the_end(self._unlink())

    async def _unlink(self) -> None:
        try:
            await _filesystem.unlink(self.name)
        except FileNotFoundError:
            if not _MISSING_OK_AT_CLEANUP:
                raise

    async def close(self) -> None:
        if self.close_called:
            return
        self.close_called = True
        try:
            await self.file.close()
        finally:
            if self.delete and self.delete_on_close:
                await self.cleanup()

    def __del__(self, unlink: Callable[[Any], None] = os.unlink) -> None:
        if self.cleanup_called:
            return
        self.cleanup_called = True
        close_called, self.close_called = self.close_called, True
        try:
            if not close_called:
                _close_at_collection(self.file)
        finally:
            if self._removes:
                try:
                    unlink(self.name)
                except FileNotFoundError:
                    if not _MISSING_OK_AT_CLEANUP:
                        raise
        if not close_called and _WARN_IMPLICIT_FILE_CLEANUP:
            warnings.warn(self.warn_message, ResourceWarning, stacklevel=2)


def _close_at_collection(file: Any) -> None:
    """Close an asyncfile file object now, with blocking calls, as its own
    finaliser would (what it buffers is written), but without its warning."""
    if file.closed:
        return
    try:
        file._flush_at_collection()
    finally:
        file._release_now()


class TemporaryFileWrapper:
    """What :func:`NamedTemporaryFile` gives: tempfile's wrapper around an
    asyncfile file object (``file``) and its path (``name``).  Every other
    attribute is the file's; ``close()`` (a coroutine) closes it and, with
    ``delete`` and ``delete_on_close``, removes it; leaving ``async with``
    closes it and, with ``delete``, removes it."""

    def __init__(
        self, file: Any, name: Any, delete: bool = True, delete_on_close: bool = True
    ) -> None:
        self.file = file
        self.name = name
        self.delete = delete
        self._closer = _Closer(
            file,
            name,
            delete,
            delete_on_close,
            warn_message=f"Implicitly cleaning up {self!r}",
        )

    def __repr__(self) -> str:
        file = self.__dict__["file"]
        return f"<{type(self).__name__} {file=}>"

    def __getattr__(self, name: str) -> Any:
        # A method taken from the wrapper keeps the closer alive, so the
        # file is not removed while the method is in use (as tempfile's).
        attribute = getattr(self.__dict__["file"], name)
        if callable(attribute):
            method = attribute

            def keeping_the_file(*args: Any, **kwargs: Any) -> Any:
                return method(*args, **kwargs)

            keeping_the_file._closer = self._closer  # type: ignore[attr-defined]
            keeping_the_file.__name__ = getattr(method, "__name__", name)
            keeping_the_file.__doc__ = getattr(method, "__doc__", None)
            return keeping_the_file
        return attribute

    async def close(self) -> None:
        """Close the file; remove it if ``delete`` and ``delete_on_close``."""
        await self._closer.close()

    async def __aenter__(self) -> Self:
        await self.file.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            await self.file.__aexit__(exc_type, exc, traceback)
        finally:
            await self._closer.cleanup()

    async def __aiter__(self) -> AsyncIterator[Any]:
        async for line in self.file:
            yield line


def NamedTemporaryFile(
    mode: str = "w+b",
    buffering: int = -1,
    encoding: str | None = None,
    newline: str | None = None,
    suffix: Any = None,
    prefix: Any = None,
    dir: Any = None,
    delete: bool = True,
    *,
    errors: str | None = None,
    delete_on_close: bool = True,
) -> Creation[TemporaryFileWrapper]:
    """``tempfile.NamedTemporaryFile()``: a file created as :func:`mkstemp`
    creates it, in a :class:`TemporaryFileWrapper`.  With ``delete`` it is
    removed on ``close()`` (``delete_on_close``) or else when ``async with``
    exits or the wrapper is collected; on Windows with both, the system
    deletes it when closed (``O_TEMPORARY``), as with tempfile."""
    _infer_return_type(prefix, suffix, dir)
    flags = _BIN_FLAGS
    if _WINDOWS and delete and delete_on_close:
        flags |= os.O_TEMPORARY  # type: ignore[attr-defined,unused-ignore]
    handover = _Handover()
    opening = _open_checked(mode, buffering, encoding, newline, errors, handover)

    async def create() -> TemporaryFileWrapper:
        nonlocal dir
        sanitized_prefix, sanitized_suffix, dir, output_type = await _sanitized(
            prefix, suffix, dir
        )
        fd, name = await _create_file(
            dir, sanitized_prefix, sanitized_suffix, flags, output_type
        )
        try:
            file = await _wrap(opening, handover, fd, name)
        except BaseException:
            if not (_WINDOWS and delete and delete_on_close):
                await _to_the_end(_filesystem.unlink(name))
            raise
        return TemporaryFileWrapper(file, name, delete, delete_on_close)

    return Creation(create, "NamedTemporaryFile")


class _TmpfileSupport:
    """Whether O_TMPFILE can work here: False once the kernel showed it
    cannot (tempfile's ``_O_TMPFILE_WORKS``)."""

    works = hasattr(os, "O_TMPFILE")


def TemporaryFile(
    mode: str = "w+b",
    buffering: int = -1,
    encoding: str | None = None,
    newline: str | None = None,
    suffix: Any = None,
    prefix: Any = None,
    dir: Any = None,
    *,
    errors: str | None = None,
) -> Creation[Any]:
    """``tempfile.TemporaryFile()``: an asyncfile file object on a file with
    no name (``O_TMPFILE`` where the system has it, else created as
    :func:`mkstemp` creates it and removed at once); its ``name`` is the
    descriptor.  On Windows it is :func:`NamedTemporaryFile`, as tempfile's."""
    if _NAMED_ONLY:
        return NamedTemporaryFile(
            mode, buffering, encoding, newline, suffix, prefix, dir, errors=errors
        )
    _infer_return_type(prefix, suffix, dir)
    handover = _Handover()
    opening = _open_checked(mode, buffering, encoding, newline, errors, handover)

    async def create() -> Any:
        sanitized_prefix, sanitized_suffix, directory, output_type = await _sanitized(
            prefix, suffix, dir
        )
        fd = await _open_tmpfile(directory)
        if fd is None:
            fd, name = await _create_file(
                directory, sanitized_prefix, sanitized_suffix, _BIN_FLAGS, output_type
            )
            try:
                await _to_the_end(_filesystem.unlink(name))
            except BaseException:
                await _to_the_end(_filesystem.close(fd))
                raise
        return await _wrap(opening, handover, fd, fd)

    return Creation(create, "TemporaryFile")


async def _open_tmpfile(directory: Any) -> int | None:
    """A descriptor on an unnamed file in ``directory`` (``O_TMPFILE``), or
    None where that cannot work (tempfile's first attempt)."""
    if not _TmpfileSupport.works:
        return None
    flags = (_BIN_FLAGS | os.O_TMPFILE) & ~os.O_CREAT
    if _TMPFILE_DROPS_EXCL:
        flags &= ~os.O_EXCL
    try:
        return await _to_the_end(_filesystem.open(directory, flags, 0o600))
    except IsADirectoryError:
        # A kernel before 3.11 reads O_TMPFILE as O_DIRECTORY.
        _TmpfileSupport.works = False
    except OSError:
        pass  # this file system has no O_TMPFILE
    return None


# -- SpooledTemporaryFile ---------------------------------------------------------


class SpooledTemporaryFile:
    """``tempfile.SpooledTemporaryFile``: in memory (``io.BytesIO``, or a
    text wrapper over one) until more than ``max_size`` is written or
    :meth:`rollover` is awaited, then a :func:`TemporaryFile`.

    The methods are those of both forms: the ones that may do I/O
    (``read``, ``write``, ``seek``, ``flush``, ``close``, ``fileno``, which
    rolls over first, ...) are coroutines; ``tell()``, ``readable()``,
    ``writable()``, ``seekable()``, ``isatty()`` and the attributes stay
    plain.  ``_rolled`` says whether it is on disk, as tempfile's.  Calls
    are serialised, so none lands in memory while a rollover copies it."""

    _rolled = False

    def __init__(
        self,
        max_size: int = 0,
        mode: str = "w+b",
        buffering: int = -1,
        encoding: str | None = None,
        newline: str | None = None,
        suffix: Any = None,
        prefix: Any = None,
        dir: Any = None,
        *,
        errors: str | None = None,
    ) -> None:
        self._file: Any
        if "b" in mode:
            self._file = io.BytesIO()
        else:
            encoding = _text_encoding(encoding, 3)
            self._file = io.TextIOWrapper(
                io.BytesIO(), encoding=encoding, errors=errors, newline=newline
            )
        self._max_size = max_size
        self._rolled = False
        self._TemporaryFileArgs = {
            "mode": mode,
            "buffering": buffering,
            "suffix": suffix,
            "prefix": prefix,
            "encoding": encoding,
            "newline": newline,
            "dir": dir,
            "errors": errors,
        }
        self._lock = TaskLock()

    def __await__(self) -> Generator[Any, None, Self]:
        async def itself() -> Self:
            return self

        return itself().__await__()

    async def _call(self, name: str, *args: Any) -> Any:
        result = getattr(self._file, name)(*args)
        return await result if self._rolled else result

    async def _check(self) -> None:
        if self._rolled:
            return
        if self._max_size and self._file.tell() > self._max_size:
            await self.rollover()

    @serialized
    async def rollover(self) -> None:
        """Move the content to a :func:`TemporaryFile` (at the same position);
        nothing changes if that fails or is cancelled."""
        if self._rolled:
            return
        memory = self._file
        newfile = await TemporaryFile(**self._TemporaryFileArgs)
        try:
            position = memory.tell()
            if hasattr(newfile, "buffer"):
                memory.flush()
                await newfile.buffer.write(memory.buffer.getvalue())
            else:
                await newfile.write(memory.getvalue())
            await newfile.seek(position, 0)
        except BaseException:
            await _to_the_end(newfile.close())
            raise
        self._file = newfile
        del self._TemporaryFileArgs
        self._rolled = True
        memory.close()

    # -- plain queries --------------------------------------------------------

    @property
    def closed(self) -> bool:
        return bool(self._file.closed)

    @property
    def encoding(self) -> str:
        return str(self._file.encoding)

    @property
    def errors(self) -> str | None:
        errors: str | None = self._file.errors
        return errors

    @property
    def mode(self) -> str:
        try:
            return str(self._file.mode)
        except AttributeError:
            return str(self._TemporaryFileArgs["mode"])

    @property
    def name(self) -> Any:
        try:
            return self._file.name
        except AttributeError:
            return None

    @property
    def newlines(self) -> Any:
        return self._file.newlines

    def tell(self) -> int:
        """The position, in memory or in the file."""
        return int(self._file.tell())

    def isatty(self) -> bool:
        """False: neither memory nor a temporary file is a terminal."""
        return bool(self._file.isatty())

    def readable(self) -> bool:
        """Whether the mode allows reading."""
        return bool(self._file.readable())

    def writable(self) -> bool:
        """Whether the mode allows writing."""
        return bool(self._file.writable())

    def seekable(self) -> bool:
        """True: memory and temporary files both seek."""
        return bool(self._file.seekable())

    # -- coroutines -----------------------------------------------------------

    @serialized
    async def fileno(self) -> int:
        """Roll over (a descriptor needs a file), then the descriptor."""
        await self.rollover()
        return int(self._file.fileno())

    @serialized
    async def read(self, size: int | None = -1) -> Any:
        """Up to ``size`` bytes or characters (all, by default) from the position."""
        return await self._call("read", size)

    @serialized
    async def read1(self, size: int = -1) -> Any:
        """Up to ``size`` bytes with at most one read of the file below."""
        return await self._call("read1", size)

    @serialized
    async def readinto(self, buffer: Buffer) -> int:
        """Fill ``buffer`` from the position; the count."""
        return int(await self._call("readinto", buffer))

    @serialized
    async def readinto1(self, buffer: Buffer) -> int:
        """Fill ``buffer`` with at most one read of the file below; the count."""
        return int(await self._call("readinto1", buffer))

    @serialized
    async def readline(self, size: int | None = -1) -> Any:
        """The next line (at most ``size`` long)."""
        return await self._call("readline", size)

    @serialized
    async def readlines(self, hint: int | None = -1) -> list[Any]:
        """The remaining lines (stopping once ``hint`` is passed)."""
        lines: list[Any] = await self._call("readlines", hint)
        return lines

    @serialized
    async def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        """Move the position as ``io`` does; the new position."""
        return int(await self._call("seek", offset, whence))

    @serialized
    async def flush(self) -> None:
        """Write what is buffered to the file (nothing to do in memory)."""
        await self._call("flush")

    @serialized
    async def write(self, data: Any) -> int:
        """Write ``data``; past ``max_size`` the data moves to a file on disk."""
        written = await self._call("write", data)
        await self._check()
        return int(written)

    @serialized
    async def writelines(self, lines: Iterable[Any]) -> None:
        """Write the lines; past ``max_size`` it rolls over and writes the
        rest to the file (as 3.13's tempfile does, on every version)."""
        if self._max_size == 0 or self._rolled:
            await self._call("writelines", lines)
            return
        rest = iter(lines)
        for line in rest:
            await self.write(line)
            if self._rolled:
                await self._file.writelines(rest)
                return

    @serialized
    async def truncate(self, size: int | None = None) -> int:
        """Like tempfile's: truncating to more than ``max_size`` rolls over."""
        if size is None:
            return int(await self._call("truncate"))
        if size > self._max_size:
            await self.rollover()
        return int(await self._call("truncate", size))

    @serialized
    async def detach(self) -> Any:
        """The underlying buffer of a text file, as ``io`` detaches it."""
        return await self._call("detach")

    @serialized
    async def close(self) -> None:
        """Close the file, in memory or on disk."""
        await self._call("close")

    async def __aenter__(self) -> Self:
        if self.closed:
            raise ValueError("Cannot enter context with closed file")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await _to_the_end(self.close())

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Any:
        line = await self.readline()
        if not line:
            raise StopAsyncIteration
        return line

    def __del__(self) -> None:
        try:
            file = self._file
        except AttributeError:  # partly built
            return
        if file.closed:
            return
        if _WARN_UNCLOSED_SPOOLED:
            warnings.warn(
                f"Unclosed file {self!r}", ResourceWarning, stacklevel=2, source=self
            )
        if self._rolled:
            _close_at_collection(file)
        else:
            file.close()


# -- TemporaryDirectory -------------------------------------------------------------


class TemporaryDirectory:
    """``tempfile.TemporaryDirectory``: awaiting it creates the directory (as
    :func:`mkdtemp`) and gives this object, whose ``name`` is the path;
    ``async with`` creates it and gives the path, and on exit removes the
    tree (unless ``delete`` is false).  :meth:`cleanup` removes it at any
    time.  With ``ignore_cleanup_errors``, what cannot be removed is left
    without an error.  Collected without cleanup, it removes the tree then
    (blocking) and warns, as tempfile's does."""

    name: Any

    def __init__(
        self,
        suffix: Any = None,
        prefix: Any = None,
        dir: Any = None,
        ignore_cleanup_errors: bool = False,
        *,
        delete: bool = True,
    ) -> None:
        _infer_return_type(prefix, suffix, dir)
        self._arguments = (suffix, prefix, dir)
        self._ignore_cleanup_errors = ignore_cleanup_errors
        self._delete = delete
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def __repr__(self) -> str:
        name = self.__dict__.get("name", "(not created yet)")
        return f"<{type(self).__name__} {name!r}>"

    def __await__(self) -> Generator[Any, None, Self]:
        return self._create().__await__()

    async def _create(self) -> Self:
        if self._finalizer is None:
            self.name = await mkdtemp(*self._arguments)
            self._finalizer = weakref.finalize(
                self,
                _cleanup_at_collection,
                self.name,
                f"Implicitly cleaning up {self!r}",
                self._ignore_cleanup_errors,
                self._delete,
            )
        return self

    async def __aenter__(self) -> Any:
        await self._create()
        return self.name

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._delete:
            await self.cleanup()

    async def cleanup(self) -> None:
        """Remove the directory and everything in it (on a worker thread,
        tempfile's removal, which makes read-only entries removable); a
        cancellation waits for it to finish."""
        if self._finalizer is None:
            return
        await _to_the_end(
            _filesystem.in_thread(
                _remove_tree,
                self.name,
                self._finalizer.detach() is not None,
                self._ignore_cleanup_errors,
            )
        )


def _remove_tree(name: Any, first_cleanup: bool, ignore_errors: bool) -> None:
    if first_cleanup or os.path.exists(name):
        _rmtree(name, ignore_errors=ignore_errors)


def _cleanup_at_collection(
    name: Any, warn_message: str, ignore_errors: bool, delete: bool
) -> None:
    if delete:
        _rmtree(name, ignore_errors=ignore_errors)
        warnings.warn(warn_message, ResourceWarning, stacklevel=2)
