"""``os.path``'s calls that touch the disk, as coroutines.

Each returns or raises what the running Python's ``os.path`` function of the
same name does for the same argument: ``False`` (never an exception) from
``exists``, ``isfile``, ``isdir``, ``islink``, ``lexists`` and ``ismount``
for a missing path, a path with an embedded NUL, a path too long, a loop
of symbolic links or a directory it may not search; ``OSError`` (with
``errno`` and ``filename``) from ``getsize``, ``getmtime``, ``samefile``, ...

The functions that only compute on the string (``join``, ``basename``,
``split``, ``normpath``, ...) are ``os.path``'s own, re-exported plain:
they never touch the disk. ``abspath`` is a coroutine, as in aiofiles; it
asks the process for its working directory and no more.
"""

from __future__ import annotations

import os
import stat as _stat
import sys
from os.path import (
    altsep,
    basename,
    commonpath,
    commonprefix,
    curdir,
    defpath,
    devnull,
    dirname,
    extsep,
    isabs,
    join,
    normcase,
    normpath,
    pardir,
    pathsep,
    samestat,
    sep,
    split,
    splitdrive,
    splitext,
    supports_unicode_filenames,
)
from typing import Any

from .. import _filesystem
from .._filesystem import in_thread

__all__ = [
    "abspath",
    "altsep",
    "basename",
    "commonpath",
    "commonprefix",
    "curdir",
    "defpath",
    "devnull",
    "dirname",
    "exists",
    "extsep",
    "getatime",
    "getctime",
    "getmtime",
    "getsize",
    "isabs",
    "isdir",
    "isfile",
    "islink",
    "ismount",
    "join",
    "lexists",
    "normcase",
    "normpath",
    "pardir",
    "pathsep",
    "realpath",
    "samefile",
    "sameopenfile",
    "samestat",
    "sep",
    "split",
    "splitdrive",
    "splitext",
    "supports_unicode_filenames",
]

#: posixpath answers these with one ``stat``/``lstat`` that the core can
#: make; ntpath (Windows) asks the system its own way, so there the running
#: Python's function itself runs on a worker thread.
_STAT_BASED = os.name == "posix"


def _a_path(path: object) -> bool:
    return isinstance(path, str | bytes | os.PathLike)


async def _mode_or_none(path: Any, *, follow_symlinks: bool) -> int | None:
    """The path's ``st_mode``, or None where ``os.path`` answers ``False``."""
    try:
        result = await _filesystem.stat(path, follow_symlinks=follow_symlinks)
    except (OSError, ValueError):
        return None
    return result.st_mode


async def exists(path: Any) -> bool:
    """Like ``os.path.exists``: False for a broken symbolic link."""
    if _STAT_BASED and _a_path(path):
        return await _mode_or_none(path, follow_symlinks=True) is not None
    return await in_thread(os.path.exists, path)


async def lexists(path: Any) -> bool:
    """Like ``os.path.lexists``: True for a broken symbolic link."""
    if _STAT_BASED and _a_path(path):
        return await _mode_or_none(path, follow_symlinks=False) is not None
    return await in_thread(os.path.lexists, path)


async def isfile(path: Any) -> bool:
    """Like ``os.path.isfile`` (follows symbolic links)."""
    if _STAT_BASED and _a_path(path):
        mode = await _mode_or_none(path, follow_symlinks=True)
        return mode is not None and _stat.S_ISREG(mode)
    return await in_thread(os.path.isfile, path)


async def isdir(path: Any) -> bool:
    """Like ``os.path.isdir`` (follows symbolic links)."""
    if _STAT_BASED and _a_path(path):
        mode = await _mode_or_none(path, follow_symlinks=True)
        return mode is not None and _stat.S_ISDIR(mode)
    return await in_thread(os.path.isdir, path)


async def islink(path: Any) -> bool:
    """Like ``os.path.islink``."""
    if _STAT_BASED and _a_path(path):
        mode = await _mode_or_none(path, follow_symlinks=False)
        return mode is not None and _stat.S_ISLNK(mode)
    return await in_thread(os.path.islink, path)


async def ismount(path: Any) -> bool:
    """Like ``os.path.ismount``."""
    return await in_thread(os.path.ismount, path)


if sys.version_info >= (3, 12):
    __all__ += ["isjunction"]

    async def isjunction(path: Any) -> bool:
        """Like ``os.path.isjunction`` (Python 3.12 and newer)."""
        return await in_thread(os.path.isjunction, path)


async def getsize(filename: Any) -> int:
    """Like ``os.path.getsize``: ``OSError`` if it does not exist."""
    return (await _filesystem.stat(filename)).st_size


async def getmtime(filename: Any) -> float:
    """Like ``os.path.getmtime``."""
    return (await _filesystem.stat(filename)).st_mtime


async def getatime(filename: Any) -> float:
    """Like ``os.path.getatime``."""
    return (await _filesystem.stat(filename)).st_atime


async def getctime(filename: Any) -> float:
    """Like ``os.path.getctime``."""
    return (await _filesystem.stat(filename)).st_ctime


async def samefile(f1: Any, f2: Any) -> bool:
    """Like ``os.path.samefile``: ``OSError`` if either does not exist."""
    first = await _filesystem.stat(f1)
    second = await _filesystem.stat(f2)
    return samestat(first, second)


async def sameopenfile(fp1: int, fp2: int) -> bool:
    """Like ``os.path.sameopenfile``: two descriptors on the same file."""
    first = await _filesystem.stat(fp1)
    second = await _filesystem.stat(fp2)
    return samestat(first, second)


async def abspath(path: Any) -> Any:
    """Like ``os.path.abspath``."""
    # Only os.getcwd() is asked, which the kernel answers from memory.
    return os.path.abspath(path)  # noqa: ASYNC240


async def realpath(path: Any, **strict: Any) -> Any:
    """Like ``os.path.realpath(path, *, strict=False)`` (``strict`` as the
    running Python accepts it)."""
    return await in_thread(os.path.realpath, path, **strict)
