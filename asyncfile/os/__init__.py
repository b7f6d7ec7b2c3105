"""``os``'s filesystem calls as coroutines: ``await asyncfile.os.stat(p)``.

Each takes the arguments the running Python's ``os`` function of the same
name takes (``dir_fd``, ``follow_symlinks``, ``exist_ok``, ...) and returns
or raises what it does: ``OSError`` subclasses with ``errno``, ``filename``
and ``filename2``, ``ValueError`` for an embedded NUL, ``TypeError`` for a
wrong argument, ``NotImplementedError`` where the platform lacks an option.
None of them blocks the event loop: the core does the call where it has an
operation for it, a worker thread otherwise.

``scandir`` and ``walk`` stream (see :mod:`asyncfile.os._listing`);
``copyfile`` and ``rmtree`` are :mod:`asyncfile.shutil`'s, re-exported here.
``getcwd`` and the ``path`` module's ``abspath`` answer from the process's
memory without a worker thread. Names that touch no disk (``sep``,
``fspath``, ``DirEntry``, ``F_OK``, ...) are ``os``'s own.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Awaitable, Callable
from os import (
    F_OK,
    R_OK,
    W_OK,
    X_OK,
    DirEntry,
    PathLike,
    altsep,
    curdir,
    extsep,
    fsdecode,
    fsencode,
    fspath,
    linesep,
    name,
    pardir,
    pathsep,
    sep,
    stat_result,
)
from typing import Any, ParamSpec, TypeVar

from .. import _filesystem
from .._filesystem import _NOT_GIVEN, StrOrBytesPath, in_thread
from ..shutil import copyfile, rmtree
from . import path
from ._listing import ScandirIterator, scandir, walk

__all__ = [
    "F_OK",
    "R_OK",
    "W_OK",
    "X_OK",
    "DirEntry",
    "PathLike",
    "ScandirIterator",
    "access",
    "altsep",
    "chmod",
    "copyfile",
    "curdir",
    "extsep",
    "fsdecode",
    "fsencode",
    "fspath",
    "getcwd",
    "getcwdb",
    "linesep",
    "link",
    "listdir",
    "lstat",
    "makedirs",
    "mkdir",
    "name",
    "pardir",
    "path",
    "pathsep",
    "readlink",
    "remove",
    "removedirs",
    "rename",
    "renames",
    "replace",
    "rmdir",
    "rmtree",
    "scandir",
    "sep",
    "stat",
    "stat_result",
    "symlink",
    "truncate",
    "unlink",
    "utime",
    "walk",
    "wrap",
]

P = ParamSpec("P")
T = TypeVar("T")


def wrap(function: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """A coroutine function that runs ``function`` on a worker thread, for
    a blocking call this module lacks (as ``aiofiles.os.wrap``)."""

    @functools.wraps(function)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return await in_thread(function, *args, **kwargs)

    return run


def _a_path(path: object) -> bool:
    return isinstance(path, str | bytes | os.PathLike)


def _has_nul(path: object) -> bool:
    if isinstance(path, os.PathLike):
        path = path.__fspath__()
    if isinstance(path, str):
        return "\0" in path
    return isinstance(path, bytes) and b"\0" in path


def _raise_as_os_would(
    function: Callable[..., object], path: object, **options: Any
) -> None:
    """For a path ``os`` refuses before any system call (an embedded NUL),
    raise ``function``'s own ``ValueError``, worded with its name, where the
    call it is built on would word it with another's (``unlink``, ``stat``)."""
    if _has_nul(path):
        function(path, **options)


async def stat(
    path: StrOrBytesPath | int,
    *,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> os.stat_result:
    """Like ``os.stat``; ``path`` may be an open descriptor."""
    return await _filesystem.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)


async def lstat(path: StrOrBytesPath, *, dir_fd: int | None = None) -> os.stat_result:
    """Like ``os.lstat``: a symbolic link's own status."""
    if not _a_path(path):  # os.lstat's own TypeError: it takes no descriptor
        return await in_thread(os.lstat, path, dir_fd=dir_fd)
    _raise_as_os_would(os.lstat, path, dir_fd=dir_fd)
    return await _filesystem.stat(path, dir_fd=dir_fd, follow_symlinks=False)


async def rename(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
) -> None:
    """Like ``os.rename``."""
    await _filesystem.rename(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)


async def replace(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
) -> None:
    """Like ``os.replace``: an existing ``dst`` file is replaced."""
    await _filesystem.replace(src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)


async def renames(old: StrOrBytesPath, new: StrOrBytesPath) -> None:
    """Like ``os.renames``: the parents of ``new`` are made first, and the
    emptied parents of ``old`` are removed after."""
    head, tail = os.path.split(new)
    if head and tail and not await path.exists(head):
        await makedirs(head)
    await rename(old, new)
    head, tail = os.path.split(old)
    if head and tail:
        with contextlib.suppress(OSError):
            await removedirs(head)


async def remove(path: StrOrBytesPath, *, dir_fd: int | None = None) -> None:
    """Like ``os.remove``."""
    _raise_as_os_would(os.remove, path, dir_fd=dir_fd)
    await _filesystem.unlink(path, dir_fd=dir_fd)


async def unlink(path: StrOrBytesPath, *, dir_fd: int | None = None) -> None:
    """Like ``os.unlink``."""
    await _filesystem.unlink(path, dir_fd=dir_fd)


async def mkdir(
    path: StrOrBytesPath, mode: int = 0o777, *, dir_fd: int | None = None
) -> None:
    """Like ``os.mkdir``."""
    await _filesystem.mkdir(path, mode, dir_fd=dir_fd)


async def makedirs(
    name: StrOrBytesPath, mode: int = 0o777, exist_ok: bool = False
) -> None:
    """Like ``os.makedirs``: the missing parents too; ``FileExistsError``
    for an existing leaf unless ``exist_ok`` and it is a directory."""
    head, tail = os.path.split(name)
    if not tail:
        head, tail = os.path.split(head)
    if head and tail and not await path.exists(head):
        with contextlib.suppress(FileExistsError):  # made meanwhile elsewhere
            await makedirs(head, exist_ok=exist_ok)
        here = curdir.encode("ascii") if isinstance(tail, bytes) else curdir
        if tail == here:  # xxx/newdir/. exists once xxx/newdir does
            return
    try:
        await mkdir(name, mode)
    except OSError:
        if not exist_ok or not await path.isdir(name):
            raise


async def rmdir(path: StrOrBytesPath, *, dir_fd: int | None = None) -> None:
    """Like ``os.rmdir``."""
    await _filesystem.rmdir(path, dir_fd=dir_fd)


async def removedirs(name: StrOrBytesPath) -> None:
    """Like ``os.removedirs``: the leaf, then each parent while it is empty."""
    await rmdir(name)
    head, tail = os.path.split(name)
    if not tail:
        head, tail = os.path.split(head)
    while head and tail:
        try:
            await rmdir(head)
        except OSError:
            break
        head, tail = os.path.split(head)


async def link(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> None:
    """Like ``os.link``."""
    await _filesystem.link(
        src,
        dst,
        src_dir_fd=src_dir_fd,
        dst_dir_fd=dst_dir_fd,
        follow_symlinks=follow_symlinks,
    )


async def symlink(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    target_is_directory: bool = False,
    *,
    dir_fd: int | None = None,
) -> None:
    """Like ``os.symlink``."""
    await _filesystem.symlink(src, dst, target_is_directory, dir_fd=dir_fd)


async def readlink(path: Any, *, dir_fd: int | None = None) -> Any:
    """Like ``os.readlink``: ``str`` for a ``str`` path, ``bytes`` for bytes."""
    return await _filesystem.readlink(path, dir_fd=dir_fd)


async def listdir(path: Any = None) -> list[Any]:
    """Like ``os.listdir``: every name, in the directory's order (read on
    the core's pool a few hundred names at a time on Linux's native
    backends, so that no loop turn builds the whole list)."""
    return await _filesystem.listdir(path)


async def access(
    path: StrOrBytesPath | int,
    mode: int,
    *,
    dir_fd: int | None = None,
    effective_ids: bool = False,
    follow_symlinks: bool = True,
) -> bool:
    """Like ``os.access``."""
    return await _filesystem.access(
        path,  # type: ignore[arg-type]  # os's own TypeError for a descriptor
        mode,
        dir_fd=dir_fd,
        effective_ids=effective_ids,
        follow_symlinks=follow_symlinks,
    )


async def getcwd() -> str:
    """Like ``os.getcwd`` (answered from the process's memory)."""
    return os.getcwd()


async def getcwdb() -> bytes:
    """Like ``os.getcwdb``."""
    return os.getcwdb()


async def truncate(path: StrOrBytesPath | int, length: int) -> None:
    """Like ``os.truncate``; ``path`` may be an open descriptor."""
    await _filesystem.truncate(path, length)


async def chmod(
    path: StrOrBytesPath | int,
    mode: int,
    *,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> None:
    """Like ``os.chmod``."""
    await _filesystem.chmod(path, mode, dir_fd=dir_fd, follow_symlinks=follow_symlinks)


async def utime(
    path: StrOrBytesPath | int,
    times: tuple[int, int] | tuple[float, float] | None = None,
    *,
    ns: tuple[int, int] = _NOT_GIVEN,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> None:
    """Like ``os.utime``: ``times`` in seconds or ``ns`` in nanoseconds
    (not both), else now."""
    await _filesystem.utime(
        path, times, ns=ns, dir_fd=dir_fd, follow_symlinks=follow_symlinks
    )


if sys.platform != "win32":
    __all__ += ["sendfile", "statvfs"]

    async def statvfs(path: StrOrBytesPath | int) -> os.statvfs_result:
        """Like ``os.statvfs`` (absent on Windows, as there)."""
        result: os.statvfs_result = await _filesystem.statvfs(path)
        return result

    async def sendfile(
        out_fd: int, in_fd: int, offset: int | None, count: int, **bsd: Any
    ) -> int:
        """Like ``os.sendfile`` (absent on Windows, as there); the BSDs' and
        macOS's ``headers``, ``trailers`` and ``flags`` where they have them.
        To a non-blocking socket it raises ``BlockingIOError`` as ``os``
        does."""
        if bsd:
            return await in_thread(os.sendfile, out_fd, in_fd, offset, count, **bsd)
        return await _filesystem.sendfile(out_fd, in_fd, offset, count)


if hasattr(os, "posix_fallocate"):
    __all__ += ["posix_fallocate"]

    async def posix_fallocate(fd: int, offset: int, length: int) -> None:
        """Like ``os.posix_fallocate`` (only where ``os`` has it: not on macOS
        or Windows): the blocks of ``offset`` to ``offset + length`` allocated,
        the file extended to cover them."""
        await _filesystem.posix_fallocate(fd, offset, length)
