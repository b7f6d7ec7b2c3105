"""Filesystem calls on the running loop's context, with ``os``'s signatures.

Every coroutine here takes the arguments of the ``os`` function it is named
after and returns or raises exactly what that function would (``OSError``
subclasses with ``errno``, ``filename`` and ``filename2``). The layers above
(``asyncfile.open``, ``asyncfile.os``, ``asyncfile.tempfile``) build on these
and never call the blocking ``os`` functions on the loop themselves.

Paths are ``str``, ``bytes`` or path-like objects, as ``os`` accepts them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from .contexts import running_loop

T = TypeVar("T")

StrOrBytesPath = str | bytes | os.PathLike[str] | os.PathLike[bytes]


async def in_thread(function: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """``function(*args, **kwargs)`` run where it cannot stall the loop.

    For the calls the core has no operation for (listing a directory,
    ``chmod``, ``utime``, ...).
    """
    loop = running_loop()
    if kwargs:
        return await loop.run_in_executor(None, lambda: function(*args, **kwargs))
    return await loop.run_in_executor(None, function, *args)


async def open(
    path: StrOrBytesPath, flags: int, mode: int = 0o777, *, dir_fd: int | None = None
) -> int:
    """``os.open(path, flags, mode, dir_fd=dir_fd)``: a new descriptor."""
    return await in_thread(os.open, path, flags, mode, dir_fd=dir_fd)


async def close(fd: int) -> None:
    """``os.close(fd)``."""
    await in_thread(os.close, fd)


async def stat(
    path: StrOrBytesPath | int,
    *,
    dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> os.stat_result:
    """``os.stat(path, dir_fd=dir_fd, follow_symlinks=follow_symlinks)``;
    ``path`` may be an open descriptor."""
    return await in_thread(
        os.stat, path, dir_fd=dir_fd, follow_symlinks=follow_symlinks
    )


async def rename(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
) -> None:
    """``os.rename(src, dst, ...)``."""
    await in_thread(os.rename, src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)


async def replace(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
) -> None:
    """``os.replace(src, dst, ...)``."""
    await in_thread(os.replace, src, dst, src_dir_fd=src_dir_fd, dst_dir_fd=dst_dir_fd)


async def unlink(path: StrOrBytesPath, *, dir_fd: int | None = None) -> None:
    """``os.unlink(path, dir_fd=dir_fd)``."""
    await in_thread(os.unlink, path, dir_fd=dir_fd)


async def rmdir(path: StrOrBytesPath, *, dir_fd: int | None = None) -> None:
    """``os.rmdir(path, dir_fd=dir_fd)``."""
    await in_thread(os.rmdir, path, dir_fd=dir_fd)


async def mkdir(
    path: StrOrBytesPath, mode: int = 0o777, *, dir_fd: int | None = None
) -> None:
    """``os.mkdir(path, mode, dir_fd=dir_fd)``."""
    await in_thread(os.mkdir, path, mode, dir_fd=dir_fd)


async def link(
    src: StrOrBytesPath,
    dst: StrOrBytesPath,
    *,
    src_dir_fd: int | None = None,
    dst_dir_fd: int | None = None,
    follow_symlinks: bool = True,
) -> None:
    """``os.link(src, dst, ...)``."""
    await in_thread(
        os.link,
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
    """``os.symlink(src, dst, target_is_directory, dir_fd=dir_fd)``."""
    await in_thread(os.symlink, src, dst, target_is_directory, dir_fd=dir_fd)


async def truncate(path: StrOrBytesPath | int, length: int) -> None:
    """``os.truncate(path, length)``; ``path`` may be an open descriptor."""
    await in_thread(os.truncate, path, length)
