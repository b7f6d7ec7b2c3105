"""``shutil.copyfile`` and ``shutil.rmtree`` as coroutines.

Same arguments, results and exceptions as the running Python's ``shutil``
(its own ``SameFileError`` and ``SpecialFileError`` classes, so ``except
shutil.SameFileError`` catches ours). ``copyfile`` copies in the kernel;
``rmtree`` walks with descriptors and never follows a symbolic link.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat as _stat
import sys
from collections.abc import Awaitable, Callable
from shutil import Error, SameFileError, SpecialFileError
from typing import Any, TypeVar

from . import _filesystem
from ._filesystem import in_thread

__all__ = ["Error", "SameFileError", "SpecialFileError", "copyfile", "rmtree"]

T = TypeVar("T")

#: Bytes one step of a copy moves: a cancelled copy stops within one step.
COPY_STEP = 8 << 20
#: The buffer of the copy's last resort (no in-kernel copy: Windows, macOS).
BUFFER_STEP = 1 << 20

_O_BINARY = getattr(os, "O_BINARY", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NOINHERIT = getattr(os, "O_NOINHERIT", 0)
_READ_FLAGS = os.O_RDONLY | _O_BINARY | _O_CLOEXEC | _O_NOINHERIT
_WRITE_FLAGS = (
    os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _O_BINARY | _O_CLOEXEC | _O_NOINHERIT
)


async def _finish_step(step: asyncio.Future[T]) -> T:
    """The result of a step on a worker thread. A cancelled caller still
    waits for the step to end (then is cancelled): the descriptors it uses
    must not close, and be reused, under it."""
    try:
        return await asyncio.shield(step)
    except asyncio.CancelledError:
        while not step.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([step])
        raise


def _copy_file_range_step(infd: int, outfd: int, offset: int) -> int:
    return os.copy_file_range(infd, outfd, COPY_STEP, offset, offset)


def _sendfile_step(infd: int, outfd: int, offset: int) -> int:
    return os.sendfile(outfd, infd, offset, COPY_STEP)


def _buffered_step(infd: int, outfd: int, offset: int, buffer: bytearray) -> int:
    view = memoryview(buffer)
    got = os.readv(infd, [view]) if hasattr(os, "readv") else _read_into(infd, view)
    done = 0
    while done < got:
        done += os.write(outfd, view[done:got])
    return got


def _read_into(fd: int, view: memoryview) -> int:
    data = os.read(fd, len(view))
    view[: len(data)] = data
    return len(data)


async def _copy_in_kernel(
    step: Callable[[int, int, int], int], infd: int, outfd: int
) -> int | None:
    """Copy with ``step`` until the end; the bytes copied, or None if this
    way cannot copy these files. As shutil, an error before the first byte
    (EXDEV, ENOSYS, EINVAL, ...: the kernel or file system does not do it)
    means trying the next way, except ENOSPC: the disk is full."""
    offset = 0
    while True:
        try:
            copied = await _finish_step(
                asyncio.ensure_future(in_thread(step, infd, outfd, offset))
            )
        except OSError as error:
            if offset == 0 and error.errno != errno.ENOSPC:
                return None
            raise
        if copied == 0:
            # copy_file_range says 0 at the start of /proc and /sys files
            return offset if offset else None
        offset += copied


async def _copy_data(infd: int, outfd: int) -> None:
    ways: list[Callable[[int, int, int], int]] = []
    if hasattr(os, "copy_file_range"):
        ways.append(_copy_file_range_step)
    if hasattr(os, "sendfile") and sys.platform.startswith("linux"):
        ways.append(_sendfile_step)
    for way in ways:
        if await _copy_in_kernel(way, infd, outfd) is not None:
            return
    buffer = bytearray(BUFFER_STEP)
    offset = 0
    while True:
        got = await _finish_step(
            asyncio.ensure_future(
                in_thread(_buffered_step, infd, outfd, offset, buffer)
            )
        )
        if got == 0:
            return
        offset += got


async def _stat_of(path: Any) -> os.stat_result:
    if isinstance(path, os.DirEntry):
        return await in_thread(path.stat)
    return await _filesystem.stat(path)


async def _samefile(src: Any, dst: Any) -> bool:
    if isinstance(src, os.DirEntry):
        try:
            return os.path.samestat(
                await in_thread(src.stat), await _filesystem.stat(dst)
            )
        except OSError:
            return False
    try:
        return os.path.samestat(
            await _filesystem.stat(src), await _filesystem.stat(dst)
        )
    except OSError:
        return False


async def _islink(path: Any) -> bool:
    if isinstance(path, os.DirEntry):
        return await in_thread(path.is_symlink)
    try:
        result = await _filesystem.stat(path, follow_symlinks=False)
    except (OSError, ValueError):
        return False
    return _stat.S_ISLNK(result.st_mode)


async def copyfile(src: Any, dst: Any, *, follow_symlinks: bool = True) -> Any:
    """Like ``shutil.copyfile``: ``src``'s bytes into ``dst`` (created or
    truncated), returning ``dst``.

    ``SameFileError`` if both name one file, ``SpecialFileError`` for a
    named pipe, ``IsADirectoryError`` for a directory, ``FileNotFoundError``
    (``Directory does not exist``) for ``dst`` in a missing directory. With
    ``follow_symlinks=False`` a symbolic link ``src`` is copied as a link.

    The bytes move in the kernel (``copy_file_range``, else ``sendfile``),
    never through Python objects, in steps of :data:`COPY_STEP`; only where
    the kernel offers neither (Windows, macOS) through one reused buffer.
    A cancelled copy stops between steps, with both files closed and
    ``dst`` holding the bytes copied so far, as ``shutil`` leaves it when
    interrupted.
    """
    sys.audit("shutil.copyfile", src, dst)
    if await _samefile(src, dst):
        raise SameFileError(f"{src!r} and {dst!r} are the same file")
    for name in (src, dst):
        try:
            result = await _stat_of(name)
        except OSError:
            continue  # most likely missing: open says what is wrong
        if _stat.S_ISFIFO(result.st_mode):
            shown = name.path if isinstance(name, os.DirEntry) else name
            raise SpecialFileError(f"`{shown}` is a named pipe")
    if not follow_symlinks and await _islink(src):
        target = await in_thread(os.readlink, src)
        await _filesystem.symlink(target, dst)
        return dst
    infd = await _open_fd(src, _READ_FLAGS)
    try:
        source = await _filesystem.stat(infd)
        if _stat.S_ISDIR(source.st_mode):  # io.open's check, after the open
            raise IsADirectoryError(
                errno.EISDIR, os.strerror(errno.EISDIR), os.fspath(src)
            )
        try:
            outfd = await _open_fd(dst, _WRITE_FLAGS, 0o666)
        except IsADirectoryError as error:
            if not await _exists(dst):
                raise FileNotFoundError(f"Directory does not exist: {dst}") from error
            raise
        try:
            try:
                await _copy_data(infd, outfd)
            except OSError as error:
                error.filename, error.filename2 = src, dst
                raise
        finally:
            await _close_even_if_cancelled(outfd)
    finally:
        await _close_even_if_cancelled(infd)
    return dst


async def _open_fd(
    path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None
) -> int:
    """``_filesystem.open``; if the caller is cancelled while the descriptor
    is being opened, it is closed once open, never leaked."""
    opening = asyncio.ensure_future(_filesystem.open(path, flags, mode, dir_fd=dir_fd))
    try:
        return await asyncio.shield(opening)
    except asyncio.CancelledError:
        opening.add_done_callback(_close_if_opened)
        raise


def _close_if_opened(opening: asyncio.Future[int]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        os.close(opening.result())  # just opened, nothing written: never blocks


async def _exists(path: Any) -> bool:
    try:
        await _filesystem.stat(path)
    except (OSError, ValueError):
        return False
    return True


async def _close_even_if_cancelled(fd: int) -> None:
    """Close ``fd``; a close interrupted by cancellation still happens."""
    closing = asyncio.ensure_future(_filesystem.close(fd))
    await _finish_step(closing)


# --- rmtree -------------------------------------------------------------------

#: Whether this system lets rmtree walk with descriptors, immune to symbolic
#: links swapped in during the walk (shutil.rmtree.avoids_symlink_attacks).
_USE_FD_FUNCTIONS = (
    {os.open, os.stat, os.unlink, os.rmdir} <= os.supports_dir_fd
    and os.scandir in os.supports_fd
    and os.stat in os.supports_follow_symlinks
)
#: 3.13 reports every error of the walk with the full path as its filename;
#: before, with the name it was given (relative to a directory descriptor),
#: but for a failed listing, and any exception (ValueError for a NUL too)
#: from the first lstat or open went to the handler.
_FULL_PATHS_IN_ERRORS = sys.version_info >= (3, 13)

OnExc = Callable[[Callable[..., Any], Any, BaseException], object]
OnError = Callable[[Callable[..., Any], Any, Any], object]


def _handler(
    ignore_errors: bool, onerror: OnError | None, onexc: OnExc | None
) -> OnExc:
    if ignore_errors:
        return lambda *args: None
    if onexc is not None:
        return onexc
    if onerror is not None:
        handler = onerror

        def call_onerror(
            func: Callable[..., Any], path: Any, exc: BaseException
        ) -> object:
            return handler(func, path, (type(exc), exc, exc.__traceback__))

        return call_onerror

    def reraise(func: Callable[..., Any], path: Any, exc: BaseException) -> object:
        raise exc

    return reraise


async def _rmtree(path: Any, onexc: OnExc, dir_fd: int | None) -> None:
    if not _USE_FD_FUNCTIONS:
        if dir_fd is not None:
            raise NotImplementedError("dir_fd unavailable on this platform")
        await _rmtree_by_name(path, onexc)
        return
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    # (func, dir fd, path, entry): see _rmtree_step; closes run last
    stack: list[tuple[Callable[..., Any], int | None, Any, os.DirEntry[str] | None]]
    stack = [(os.lstat, dir_fd, path, None)]
    try:
        while stack:
            await _rmtree_step(stack, onexc)
    finally:
        while stack:
            func, fd, name, _ = stack.pop()
            if func is os.close and fd is not None:
                try:
                    os.close(fd)  # a directory's: never blocks
                except OSError as error:
                    onexc(os.close, name, error)


async def _rmtree_step(
    stack: list[tuple[Callable[..., Any], int | None, Any, os.DirEntry[str] | None]],
    onexc: OnExc,
) -> None:
    """One step of shutil's descriptor-based walk: close a directory, remove
    one, or open one (refusing a symbolic link) and remove its files."""
    func, dirfd, path, entry = stack.pop()
    name = path if entry is None else entry.name
    try:
        if func is os.close:
            assert dirfd is not None
            await _filesystem.close(dirfd)
            return
        if func is os.rmdir:
            await _filesystem.rmdir(name, dir_fd=dirfd)
            return
        if entry is None:
            from .os import lstat

            before = await _top_level(os.lstat, path, onexc, lstat(name, dir_fd=dirfd))
            if before is None:
                return
        else:
            before = await in_thread(entry.stat, follow_symlinks=False)
        func = os.open
        opening = _open_fd(name, os.O_RDONLY | os.O_NONBLOCK | _O_CLOEXEC, dir_fd=dirfd)
        if entry is None:
            topfd = await _top_level(os.open, path, onexc, opening)
            if topfd is None:
                return
        else:
            topfd = await opening
        func = os.path.islink
        try:
            if not os.path.samestat(before, await _filesystem.stat(topfd)):
                # a symbolic link to a directory: refused, never followed
                raise OSError("Cannot call rmtree on a symbolic link")
            stack.append((os.rmdir, dirfd, path, entry))
        finally:
            stack.append((os.close, topfd, path, entry))
        func = os.scandir
        from .os._listing import scandir

        async with scandir(topfd) as listing:
            entries = [e async for e in listing]
        for child in entries:
            fullname = os.path.join(path, child.name)
            try:
                if child.is_dir(follow_symlinks=False):
                    stack.append((os.lstat, topfd, fullname, child))
                    continue
            except FileNotFoundError:
                continue
            except OSError:
                pass
            try:
                await _filesystem.unlink(child.name, dir_fd=topfd)
            except FileNotFoundError:
                continue
            except OSError as error:
                onexc(os.unlink, fullname, error)
    except FileNotFoundError as error:
        if entry is None or func is os.close:
            if _FULL_PATHS_IN_ERRORS or func is os.scandir:
                error.filename = path
            onexc(func, path, error)
    except OSError as error:
        if _FULL_PATHS_IN_ERRORS or func is os.scandir:
            error.filename = path
        onexc(func, path, error)


async def _top_level(
    func: Callable[..., Any], path: Any, onexc: OnExc, call: Awaitable[T]
) -> T | None:
    """The first lstat or open of a walk; before 3.13 any exception it
    raises goes to the handler (and the walk ends), as shutil did."""
    if _FULL_PATHS_IN_ERRORS:
        return await call
    try:
        return await call
    except Exception as error:
        onexc(func, path, error)
        return None


async def _rmtree_by_name(path: Any, onexc: OnExc) -> None:
    """shutil's walk for systems without descriptor-relative calls (Windows)."""
    try:
        result = await _filesystem.stat(path, follow_symlinks=False)
    except OSError as error:
        onexc(os.lstat, path, error)
        return
    try:
        if _stat.S_ISLNK(result.st_mode) or _is_junction(result):
            raise OSError("Cannot call rmtree on a symbolic link")
    except OSError as error:
        onexc(os.path.islink, path, error)
        return
    from .os._listing import walk

    def on_walk_error(error: OSError) -> None:
        if not isinstance(error, FileNotFoundError):
            onexc(os.scandir, error.filename, error)

    async for top, dirs, files in walk(path, topdown=False, onerror=on_walk_error):
        for dirname in dirs:
            full = os.path.join(top, dirname)
            try:
                if await _is_link_or_junction(full):
                    await _filesystem.unlink(full)  # the link, not its target
                else:
                    await _filesystem.rmdir(full)
            except FileNotFoundError:
                continue
            except OSError as error:
                onexc(os.rmdir, full, error)
        for filename in files:
            full = os.path.join(top, filename)
            try:
                await _filesystem.unlink(full)
            except FileNotFoundError:
                continue
            except OSError as error:
                onexc(os.unlink, full, error)
    try:
        await _filesystem.rmdir(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        onexc(os.rmdir, path, error)


def _is_junction(result: os.stat_result) -> bool:
    tag = getattr(result, "st_reparse_tag", 0)
    return bool(tag) and tag == getattr(_stat, "IO_REPARSE_TAG_MOUNT_POINT", -1)


async def _is_link_or_junction(path: Any) -> bool:
    try:
        result = await _filesystem.stat(path, follow_symlinks=False)
    except OSError:
        return False
    return _stat.S_ISLNK(result.st_mode) or _is_junction(result)


_RMTREE_DOC = """Like ``shutil.rmtree``: ``path`` and everything under it removed.

    Errors go to ``onexc(func, path, exception)`` (3.12 and newer) or
    ``onerror(func, path, exc_info)``, else are raised (none with
    ``ignore_errors``); ``func`` is the ``os`` function shutil names there
    (``os.unlink``, ``os.rmdir``, ``os.open``, ``os.lstat``, ``os.scandir``,
    ``os.path.islink``). A symbolic link is never followed: ``path`` itself
    being one is an error, and links inside are removed as links. Where the
    system allows, the walk holds a descriptor on each directory, so a link
    swapped in during the walk cannot send it elsewhere.

    Cancelled, it stops between two removals: what it removed is gone, the
    rest stays, and no descriptor is left open.
    """

if sys.version_info >= (3, 12):

    async def rmtree(
        path: Any,
        ignore_errors: bool = False,
        onerror: OnError | None = None,
        *,
        onexc: OnExc | None = None,
        dir_fd: int | None = None,
    ) -> None:
        sys.audit("shutil.rmtree", path, dir_fd)
        await _rmtree(path, _handler(ignore_errors, onerror, onexc), dir_fd)

elif sys.version_info >= (3, 11):

    async def rmtree(
        path: Any,
        ignore_errors: bool = False,
        onerror: OnError | None = None,
        *,
        dir_fd: int | None = None,
    ) -> None:
        sys.audit("shutil.rmtree", path, dir_fd)
        await _rmtree(path, _handler(ignore_errors, onerror, None), dir_fd)

else:

    async def rmtree(
        path: Any, ignore_errors: bool = False, onerror: OnError | None = None
    ) -> None:
        sys.audit("shutil.rmtree", path)
        await _rmtree(path, _handler(ignore_errors, onerror, None), None)


rmtree.__doc__ = _RMTREE_DOC
rmtree.avoids_symlink_attacks = _USE_FD_FUNCTIONS  # type: ignore[attr-defined]
