"""Filesystem calls on the running loop's context, with ``os``'s signatures.

Every coroutine here takes the arguments of the ``os`` function it is named
after and returns or raises exactly what that function would (``OSError``
subclasses with ``errno``, ``filename`` and ``filename2``). The layers above
(``asyncfile.open``, ``asyncfile.os``, ``asyncfile.tempfile``) build on these
and never call the blocking ``os`` functions on the loop themselves.

Paths are ``str``, ``bytes`` or path-like objects, as ``os`` accepts them.

Where they run: on the native backends, as requests of the core (io_uring's
own operations where the running kernel has them, else the native pool's
threads, which never take the GIL; an open or close that io_uring answers from
the caches completes without the loop waiting a turn, and ``open_file`` opens a
file the caches hold on the loop on every native backend); on the python backend
(and Windows), ``os``'s function on a thread of the loop's default executor.
Arguments only ``os`` can judge (a wrong type, an embedded NUL, an unusual
combination) go to ``os``'s function on a thread too, so that it raises what it
raises.  Descriptors opened here are not inheritable (``O_CLOEXEC``), as
``os.open`` makes them; an open whose caller was cancelled meanwhile closes the
descriptor it made.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import math
import operator
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, NamedTuple, TypeVar

from .contexts import get_context, running_loop

T = TypeVar("T")

StrOrBytesPath = str | bytes | os.PathLike[str] | os.PathLike[bytes]

#: Whether os.link follows a symlink ``src`` when no directory descriptor is
#: given: from 3.14 it asks linkat(AT_SYMLINK_FOLLOW), as documented; before,
#: it called link(2), which follows on macOS, not on Linux.
_LINK_FOLLOWS = sys.version_info >= (3, 14) or not sys.platform.startswith("linux")


def _core(context: Any = None) -> Any:
    """The native context serving the running loop (``context``'s, if it is
    given and has one), or None (python backend)."""
    if context is None:
        return get_context().filesystem()
    filesystem = getattr(context, "filesystem", None)
    if filesystem is not None:
        return filesystem()
    return get_context().filesystem()


#: What ``os.fsencode`` encodes with: calling ``str.encode`` with them
#: directly saves its Python frame on every call that passes a path.
_FS_ENCODING: Final = sys.getfilesystemencoding()
_FS_ERRORS: Final = sys.getfilesystemencodeerrors()


def _encoded(path: object) -> bytes | None:
    """``path`` as ``os`` passes it to the kernel, or None where ``os`` itself
    must judge it (not a path, an embedded NUL, unencodable, empty: io_uring
    refuses an empty path before it looks at the other path of a rename or
    link, where the system call reports the other path's error first)."""
    if type(path) is not str and isinstance(path, os.PathLike):
        path = path.__fspath__()
    if isinstance(path, str):
        try:
            path = path.encode(_FS_ENCODING, _FS_ERRORS)
        except UnicodeError:
            return None
    # ``0 in path`` finds a NUL byte ten times faster than ``b"\0" in path``.
    if not isinstance(path, bytes) or not path or 0 in path:
        return None
    return path


def _dir_fd(dir_fd: object) -> int | None:
    """A directory descriptor for the core (None: the current directory), or
    None for one ``os`` must judge."""
    if dir_fd is None:
        return _at().FDCWD
    return dir_fd if type(dir_fd) is int else None


def _os_error(
    exc: OSError, filename: object = None, filename2: object = None
) -> OSError:
    """The error ``os`` raises for ``exc``'s errno, naming what it names."""
    code = exc.errno
    assert code is not None
    # os names a path-like object by what its __fspath__ gave.
    if isinstance(filename, os.PathLike):
        filename = filename.__fspath__()
    if isinstance(filename2, os.PathLike):
        filename2 = filename2.__fspath__()
    if filename is None:
        return OSError(code, os.strerror(code))
    if filename2 is None:
        return OSError(code, os.strerror(code), filename)
    return OSError(code, os.strerror(code), filename, None, filename2)


async def in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` run where it cannot stall the loop.

    For the calls the core has no operation for (``scandir``'s entries, which
    only ``os.scandir`` makes; ``chmod`` without following symlinks; any
    call on the python backend), and arguments only ``os`` can judge.
    """
    loop = running_loop()
    if kwargs:
        return await loop.run_in_executor(None, lambda: function(*args, **kwargs))
    return await loop.run_in_executor(None, function, *args)


async def open(
    path: StrOrBytesPath,
    flags: int,
    mode: int = 0o777,
    *,
    dir_fd: int | None = None,
    context: Any = None,
) -> int:
    """``os.open(path, flags, mode, dir_fd=dir_fd)``: a new descriptor;
    ``context``: the core context to open it on (default: the loop's)."""
    core = _core(context)
    encoded, at = _encoded(path), _dir_fd(dir_fd)
    if (
        core is None
        or encoded is None
        or at is None
        or type(flags) is not int
        or type(mode) is not int
        or not 0 <= mode <= 0xFFFFFFFF
    ):
        return await _open_in_thread(
            functools.partial(os.open, path, flags, mode, dir_fd=dir_fd), int
        )
    try:
        fd: int = await core.aopenat(at, encoded, flags, mode)
    except OSError as exc:
        error = _os_error(exc, path)
    else:
        return fd
    raise error


#: What a file object asks of a descriptor it opens: (fd, st_mode,
#: st_blksize, st_size), st_blksize 0 where the system reports none (Windows).
OpenedFile = tuple[int, int, int, int]


async def open_file(
    path: str | bytes, flags: int, *, context: Any = None
) -> OpenedFile:
    """``os.open(path, flags, 0o666)`` and what a file object asks of
    ``os.fstat`` on the new descriptor, as :data:`OpenedFile`.  Errors and
    cancellation as :func:`open`'s.  The native core opens a file the caches
    hold on the loop, in one step with its stat."""
    core = _core(context)
    encoded = _encoded(path)
    if core is None or encoded is None or type(flags) is not int:
        return await _open_in_thread(
            functools.partial(_open_and_stat, path, flags), operator.itemgetter(0)
        )
    try:
        opened: OpenedFile = await core.aopen_file(_at().FDCWD, encoded, flags, 0o666)
    except OSError as exc:
        error = _os_error(exc, path)
    else:
        return opened
    raise error


def file_status(fd: int) -> tuple[int, int, int]:
    """:data:`OpenedFile` less the descriptor, from ``os.fstat(fd)``."""
    status = os.fstat(fd)
    return status.st_mode, getattr(status, "st_blksize", 0), status.st_size


def _open_and_stat(path: str | bytes, flags: int) -> OpenedFile:
    fd = os.open(path, flags, 0o666)
    try:
        return (fd, *file_status(fd))
    except BaseException:
        os.close(fd)
        raise


async def _open_in_thread(open_call: Callable[[], T], fd_of: Callable[[T], int]) -> T:
    """``open_call()`` on a thread; a caller cancelled meanwhile leaves no
    descriptor behind: the thread's (``fd_of`` its result) is closed once it
    has it."""
    opening = running_loop().run_in_executor(None, open_call)
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(functools.partial(_close_unclaimed, fd_of))
        raise


def _close_unclaimed(fd_of: Callable[[T], int], opening: asyncio.Future[T]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        os.close(fd_of(opening.result()))


async def close(fd: int, *, context: Any = None) -> None:
    """``os.close(fd)``.  The descriptor is closed even if the caller is
    cancelled meanwhile: it gave the descriptor up by calling.  ``context``:
    the core context to close it on (default: the loop's)."""
    core = _core(context)
    if core is None or type(fd) is not int or fd < 0:
        return await asyncio.shield(running_loop().run_in_executor(None, os.close, fd))
    try:
        await core.aclose(fd)
    except OSError as exc:
        error = _os_error(exc)
    else:
        return
    raise error


async def stat(
    path: StrOrBytesPath | int,
    *,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> os.stat_result:
    """``os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)``;
    ``path`` may be an open descriptor."""
    core = _core()
    if core is not None and type(path) is str and dir_fd is None and "\0" not in path:
        # The common call, without the general checks below.
        flags = 0 if follow_symlinks else _at().SYMLINK_NOFOLLOW
        try:
            result: os.stat_result = await core.astat(
                _at().FDCWD, path.encode(_FS_ENCODING, _FS_ERRORS), flags
            )
        except OSError as exc:
            error = _os_error(exc, path)
        else:
            return result
        raise error
    if core is not None and type(path) is int and path >= 0:
        if dir_fd is None and follow_symlinks is True:
            return await _stat(core, path, None, 0, path)
    elif core is not None:
        encoded, at = _encoded(path), _dir_fd(dir_fd)
        if encoded is not None and at is not None:
            flags = 0 if follow_symlinks else _at().SYMLINK_NOFOLLOW
            return await _stat(core, at, encoded, flags, path)
    return await in_thread(
        os.stat, path, dir_fd=dir_fd, follow_symlinks=follow_symlinks
    )


async def _stat(
    core: Any, at: int, encoded: bytes | None, flags: int, path: object
) -> os.stat_result:
    try:
        result: os.stat_result = await core.astat(at, encoded, flags)
    except OSError as exc:
        error = _os_error(exc, path)
    else:
        return result
    raise error


async def lstat(path: StrOrBytesPath, *, dir_fd: int | None = None) -> os.stat_result:
    """``os.lstat(path, dir_fd=dir_fd)``."""
    if _encoded(path) is None:
        return await in_thread(os.lstat, path, dir_fd=dir_fd)  # os's error
    return await stat(path, dir_fd=dir_fd, follow_symlinks=False)


async def fstat(fd: int) -> os.stat_result:
    """``os.fstat(fd)``."""
    core = _core()
    if core is None or type(fd) is not int or fd < 0:
        return await in_thread(os.fstat, fd)
    return await _stat(core, fd, None, 0, None)


async def _two_paths(
    method: str,
    fallback: Callable[..., None],
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    src_dir_fd: int | None,
    dst_dir_fd: int | None,
    *extra: int,
) -> None:
    core = _core()
    src_at, dst_at = _dir_fd(src_dir_fd), _dir_fd(dst_dir_fd)
    encoded_src, encoded_dst = _encoded(src), _encoded(dst)
    if (
        core is None
        or src_at is None
        or dst_at is None
        or encoded_src is None
        or encoded_dst is None
    ):
        await in_thread(fallback)
        return
    try:
        await getattr(core, method)(src_at, encoded_src, dst_at, encoded_dst, *extra)
    except OSError as exc:
        error = _os_error(exc, src, dst)
    else:
        return
    raise error


async def rename(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
) -> None:
    """``os.rename(src, dst, ...)``."""
    await _two_paths(
        "arenameat",
        lambda: os.rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd),
        src,
        dst,
        src_dir_fd,
        dst_dir_fd,
    )


async def replace(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
) -> None:
    """``os.replace(src, dst, ...)`` (rename(2), as ``os.rename``, on POSIX)."""
    await _two_paths(
        "arenameat",
        lambda: os.replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd),
        src,
        dst,
        src_dir_fd,
        dst_dir_fd,
    )


async def _one_path(
    method: str, fallback: Callable[[], None], path: object, dir_fd: object, *extra: int
) -> None:
    core = _core()
    encoded, at = _encoded(path), _dir_fd(dir_fd)
    if core is None or encoded is None or at is None:
        await in_thread(fallback)
        return
    try:
        await getattr(core, method)(at, encoded, *extra)
    except OSError as exc:
        error = _os_error(exc, path)
    else:
        return
    raise error


async def unlink(path: StrOrBytesPath, *, dir_fd: int | None = None) -> None:
    """``os.unlink(path, dir_fd=dir_fd)``."""
    await _one_path(
        "aunlinkat", lambda: os.unlink(path, dir_fd=dir_fd), path, dir_fd, 0
    )


async def rmdir(path: StrOrBytesPath, *, dir_fd: int | None = None) -> None:
    """``os.rmdir(path, dir_fd=dir_fd)``."""
    await _one_path(
        "aunlinkat",
        lambda: os.rmdir(path, dir_fd=dir_fd),
        path,
        dir_fd,
        _at().REMOVEDIR,
    )


async def mkdir(
    path: StrOrBytesPath, mode: int = 0o777, *, dir_fd: int | None = None
) -> None:
    """``os.mkdir(path, mode, dir_fd=dir_fd)``."""
    if type(mode) is not int or not 0 <= mode <= 0xFFFFFFFF:
        await in_thread(os.mkdir, path, mode, dir_fd=dir_fd)
        return
    await _one_path(
        "amkdirat", lambda: os.mkdir(path, mode, dir_fd=dir_fd), path, dir_fd, mode
    )


async def link(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> None:
    """``os.link(src, dst, ...)``: like the running Python's, follows a
    symlink ``src`` by default from 3.14, and before only where link(2) does
    (macOS) or a directory descriptor is given."""
    if follow_symlinks is True:
        given = src_dir_fd is not None or dst_dir_fd is not None
        flags = _at().SYMLINK_FOLLOW if given or _LINK_FOLLOWS else 0
    else:
        flags = 0
    await _two_paths(
        "alinkat",
        lambda: os.link(
            src,
            dst,
            src_dir_fd=src_dir_fd,
            dst_dir_fd=dst_dir_fd,
            follow_symlinks=follow_symlinks,
        ),
        src,
        dst,
        src_dir_fd,
        dst_dir_fd,
        flags,
    )


async def symlink(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    target_is_directory: bool = False,
    *,
    dir_fd: int | None = None,
) -> None:
    """``os.symlink(src, dst, target_is_directory, dir_fd=dir_fd)``."""
    core = _core()
    encoded_src, encoded_dst, at = _encoded(src), _encoded(dst), _dir_fd(dir_fd)
    if core is None or encoded_src is None or encoded_dst is None or at is None:
        await in_thread(os.symlink, src, dst, target_is_directory, dir_fd=dir_fd)
        return
    try:
        await core.asymlinkat(encoded_src, at, encoded_dst)
    except OSError as exc:
        error = _os_error(exc, src, dst)
    else:
        return
    raise error


async def truncate(path: StrOrBytesPath | int, length: int) -> None:
    """``os.truncate(path, length)``; ``path`` may be an open descriptor."""
    core = _core()
    if core is None or not _is_offset(length):
        await in_thread(os.truncate, path, length)
    elif type(path) is int:
        await ftruncate(path, length)
    else:
        encoded = _encoded(path)
        if encoded is None:
            await in_thread(os.truncate, path, length)
            return
        try:
            await core.atruncate(encoded, length)
        except OSError as exc:
            error = _os_error(exc, path)
        else:
            return
        raise error


async def ftruncate(fd: int, length: int) -> None:
    """``os.ftruncate(fd, length)``."""
    core = _core()
    if core is None or not _is_descriptor(fd) or not _is_offset(length):
        await in_thread(os.ftruncate, fd, length)
        return
    try:
        await core.aftruncate(fd, length)
    except OSError as exc:
        error = _os_error(exc)
    else:
        return
    raise error


async def posix_fallocate(fd: int, offset: int, length: int, /) -> None:
    """``os.posix_fallocate(fd, offset, length)`` (where ``os`` has it):
    fallocate(2) on the ring where the kernel has it; where the file system
    cannot (``EOPNOTSUPP``), ``os.posix_fallocate``, which writes zeros."""
    core = _core()
    valid = type(fd) is int and fd >= 0 and type(offset) is int and offset >= 0
    if core is None or not valid or type(length) is not int or length <= 0:
        await in_thread(os.posix_fallocate, fd, offset, length)
        return
    try:
        await core.afallocate(fd, offset, length)
    except OSError as exc:
        error = _os_error(exc)
    else:
        return
    if error.errno == errno.EOPNOTSUPP:
        await in_thread(os.posix_fallocate, fd, offset, length)
        return
    raise error


async def readlink(path: Any, *, dir_fd: int | None = None) -> Any:
    """``os.readlink(path, dir_fd=dir_fd)``: ``bytes`` for a ``bytes`` path
    (or a path-like giving bytes), else ``str``."""
    core = _core()
    encoded, at = _encoded(path), _dir_fd(dir_fd)
    if core is None or encoded is None or at is None:
        return await in_thread(os.readlink, path, dir_fd=dir_fd)
    try:
        target: bytes = await core.areadlinkat(at, encoded)
    except OSError as exc:
        error = _os_error(exc, path)
    else:
        given = path.__fspath__() if isinstance(path, os.PathLike) else path
        return target if isinstance(given, bytes) else os.fsdecode(target)
    raise error


async def access(
    path: StrOrBytesPath,
    mode: int,
    *,
    dir_fd: int | None = None,
    effective_ids: bool = False,
    follow_symlinks: bool = True,
) -> bool:
    """``os.access(path, mode, ...)``: whether faccessat(2) grants it."""
    core = _core()
    encoded, at = _encoded(path), _dir_fd(dir_fd)
    if (
        core is None
        or encoded is None
        or at is None
        or type(mode) is not int
        or not _C_INT_MIN <= mode <= _C_INT_MAX
    ):
        return await in_thread(
            os.access,
            path,
            mode,
            dir_fd=dir_fd,
            effective_ids=effective_ids,
            follow_symlinks=follow_symlinks,
        )
    flags = (0 if follow_symlinks else _at().SYMLINK_NOFOLLOW) | (
        _at().EACCESS if effective_ids else 0
    )
    try:
        await core.afaccessat(at, encoded, mode, flags)
    except OSError:
        return False
    return True


async def chmod(
    path: StrOrBytesPath | int,
    mode: int,
    *,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> None:
    """``os.chmod(path, mode, ...)``; ``path`` may be an open descriptor.
    Without following symlinks it runs ``os.chmod`` on a thread, which
    knows what the platform can do there."""
    core = _core()
    usable = type(mode) is int and 0 <= mode <= _C_INT_MAX and follow_symlinks is True
    if core is not None and usable and type(path) is int and path >= 0:
        if dir_fd is None:
            await _path_call(core.afchmodat(path, None, mode, 0), path)
            return
    elif core is not None and usable:
        encoded, at = _encoded(path), _dir_fd(dir_fd)
        if encoded is not None and at is not None:
            await _path_call(core.afchmodat(at, encoded, mode, 0), path)
            return
    await in_thread(
        os.chmod, path, mode, dir_fd=dir_fd, follow_symlinks=follow_symlinks
    )


async def _path_call(call: Awaitable[None], path: object) -> None:
    """Await a core call that names ``path`` in its error as ``os`` would."""
    try:
        await call
    except OSError as exc:
        error = _os_error(exc, path)
    else:
        return
    raise error


_NS_PER_S = 1_000_000_000


def _timespec(seconds: object) -> tuple[int, int] | None:
    """``seconds`` (int or float) as os.utime rounds it (toward minus
    infinity), or None for a value ``os`` must judge."""
    if type(seconds) is int:
        return seconds, 0
    if type(seconds) is not float or not math.isfinite(seconds):
        return None
    fraction, whole = math.modf(seconds)
    nanoseconds = math.floor(fraction * 1e9)
    if nanoseconds >= _NS_PER_S:
        nanoseconds -= _NS_PER_S
        whole += 1.0
    elif nanoseconds < 0:
        nanoseconds += _NS_PER_S
        whole -= 1.0
    return int(whole), nanoseconds


def _utime_times(times: object, ns: object) -> object:
    """utimensat(2)'s two timespecs for ``times`` or ``ns`` (None: now), or
    ``_JUDGE`` where ``os`` must judge the arguments."""
    if ns is _NOT_GIVEN:
        if times is None:
            return None
        if type(times) is not tuple or len(times) != 2:
            return _JUDGE
        pair = (_timespec(times[0]), _timespec(times[1]))
        return _JUDGE if None in pair else pair
    if times is not None or type(ns) is not tuple or len(ns) != 2:
        return _JUDGE
    if type(ns[0]) is not int or type(ns[1]) is not int:
        return _JUDGE
    return divmod(ns[0], _NS_PER_S), divmod(ns[1], _NS_PER_S)


#: os.utime names the path (or descriptor) in its errors from 3.13 on;
#: before, it names none. (os.chmod and os.statvfs name a descriptor too.)
_UTIME_NAMES_PATH = sys.version_info >= (3, 13)
_NOT_GIVEN: Any = object()
_JUDGE: Any = object()
_C_INT_MIN, _C_INT_MAX = -(2**31), 2**31 - 1
_OFF_T_MAX = 2**63 - 1


def _is_descriptor(fd: object) -> bool:
    """Whether ``fd`` can name an open descriptor (else ``os`` judges it)."""
    return type(fd) is int and 0 <= fd <= _C_INT_MAX


def _is_offset(value: object) -> bool:
    """Whether the kernel takes ``value`` as a size or an offset (an
    ``off_t``; else ``os`` judges it: OverflowError past it)."""
    return type(value) is int and 0 <= value <= _OFF_T_MAX


_TIME_MIN, _TIME_MAX = -(2**63), 2**63 - 1


async def utime(
    path: StrOrBytesPath | int,
    times: tuple[int, int] | tuple[float, float] | None = None,
    *,
    ns: tuple[int, int] = _NOT_GIVEN,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> None:
    """``os.utime(path, times, ns=ns, ...)``; ``path`` may be an open
    descriptor."""
    core = _core()
    pair = _utime_times(times, ns)
    if core is not None and pair is not _JUDGE and _in_time_range(pair):
        flags = 0 if follow_symlinks else _at().SYMLINK_NOFOLLOW
        named: object = path if _UTIME_NAMES_PATH else None
        if type(path) is int and path >= 0:
            if dir_fd is None and follow_symlinks is True:
                await _path_call(core.autimensat(path, None, pair, 0), named)
                return
        else:
            encoded, at = _encoded(path), _dir_fd(dir_fd)
            if encoded is not None and at is not None and type(follow_symlinks) is bool:
                await _path_call(core.autimensat(at, encoded, pair, flags), named)
                return
    options: dict[str, Any] = {"dir_fd": dir_fd, "follow_symlinks": follow_symlinks}
    if ns is not _NOT_GIVEN:
        options["ns"] = ns
    await in_thread(os.utime, path, times, **options)


def _in_time_range(pair: Any) -> bool:
    return pair is None or all(_TIME_MIN <= seconds <= _TIME_MAX for seconds, _ in pair)


async def statvfs(path: StrOrBytesPath | int) -> Any:
    """``os.statvfs(path)``; ``path`` may be an open descriptor."""
    core = _core()
    if core is not None and type(path) is int and path >= 0:
        return await _statvfs(core.astatvfs(path, None), path)
    encoded = _encoded(path)
    if core is None or encoded is None or type(path) is int:
        return await in_thread(os.statvfs, path)
    return await _statvfs(core.astatvfs(_at().FDCWD, encoded), path)


async def _statvfs(call: Awaitable[Any], path: object) -> Any:
    try:
        result = await call
    except OSError as exc:
        error = _os_error(exc, path)
    else:
        return result
    raise error


async def listdir(path: Any = None) -> list[Any]:
    """``os.listdir(path)``: every name but ``.`` and ``..``, in the
    directory's order; ``bytes`` for a ``bytes`` path, else ``str``.

    On the native backends of Linux the directory is read with getdents64 on
    the core's pool, a few hundred names a loop turn; elsewhere (the python
    backend, macOS, a descriptor ``path``) ``os.listdir`` runs on a thread.
    """
    core = _core()
    encoded = None if path is None else _encoded(path)
    if core is None or not _at().GETDENTS or (path is not None and encoded is None):
        return await in_thread(os.listdir, path)
    given = path.__fspath__() if isinstance(path, os.PathLike) else path
    as_str = not isinstance(given, bytes)
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NONBLOCK
    try:
        fd: int = await core.aopenat(_at().FDCWD, encoded or b".", flags, 0)
    except OSError as exc:
        error = _os_error(exc, "." if path is None else path)
    else:
        try:
            return await _read_names(core, fd, as_str, "." if path is None else path)
        finally:
            await asyncio.shield(core.aclose(fd))
    raise error


#: How long (seconds) a listing reads on without giving the loop a turn: the
#: core wakes the awaiting task from its completion callback, and the pool
#: answers a cached directory's next read before that callback ends, so a
#: large directory would otherwise be read whole inside one callback.
LISTING_BUDGET = 0.001


async def _read_names(core: Any, fd: int, as_str: bool, path: object) -> list[Any]:
    names: list[Any] = []
    turn_started = time.monotonic()
    while True:
        try:
            batch: list[Any] | None = await core.agetdents(fd, as_str)
        except OSError as exc:
            error = _os_error(exc, path)
            break
        if batch is None:
            return names
        names += batch
        if time.monotonic() - turn_started > LISTING_BUDGET:
            await asyncio.sleep(0)
            turn_started = time.monotonic()
    raise error


async def sendfile(out_fd: int, in_fd: int, offset: int | None, count: int) -> int:
    """``os.sendfile(out_fd, in_fd, offset, count)`` (Linux's form): the
    count sent, on the core's pool on Linux's native backends; elsewhere
    ``os.sendfile`` on a thread. To a non-blocking socket it raises
    ``BlockingIOError`` as ``os`` does."""
    core = _core()
    usable = (
        core is not None
        and _at().SENDFILE
        and type(out_fd) is int
        and type(in_fd) is int
        and out_fd >= 0
        and in_fd >= 0
        and (offset is None or (type(offset) is int and 0 <= offset < 2**63))
        and type(count) is int
        and 0 <= count < 2**63
    )
    if not usable:
        result: int = await in_thread(os.sendfile, out_fd, in_fd, offset, count)
        return result
    try:
        sent: int = await core.asendfile(out_fd, in_fd, offset, count)
    except OSError as exc:
        error = _os_error(exc)
    else:
        return sent
    raise error


@functools.cache
def _at() -> _AtFlags:
    """The native core's AT_* constants."""
    from .core.probes import native_core

    native = native_core()
    if isinstance(native, str):
        # No native core (Windows): no call reaches one; any values do.
        return _AtFlags(-100, 0x200, 0x100, 0x400, 0x200, 0, 0)
    return _AtFlags(
        native.AT_FDCWD,
        native.AT_REMOVEDIR,
        native.AT_SYMLINK_NOFOLLOW,
        native.AT_SYMLINK_FOLLOW,
        native.AT_EACCESS,
        native.GETDENTS,
        native.GETDENTS and sys.platform.startswith("linux"),
    )


class _AtFlags(NamedTuple):
    FDCWD: int
    REMOVEDIR: int
    SYMLINK_NOFOLLOW: int
    SYMLINK_FOLLOW: int
    EACCESS: int
    GETDENTS: int  # 1 where the core can list directories (Linux)
    SENDFILE: int  # where the core has Linux's sendfile
