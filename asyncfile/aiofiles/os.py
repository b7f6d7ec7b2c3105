"""aiofiles's ``os``: ``os``'s file system calls as coroutines with ``os``'s
arguments, results and exceptions, done by :mod:`asyncfile.os` (on the core
where it has the operation); each also accepts ``loop=`` and ``executor=``
(given an executor, the call runs there, as aiofiles runs it).  ``path`` is
:mod:`asyncfile.aiofiles.ospath`; ``wrap`` makes any blocking function such a
coroutine, run in the executor.

``scandir`` is aiofiles's: awaiting it gives ``os.scandir``'s iterator (for
a listing that streams without blocking, use :func:`asyncfile.os.scandir`).
``link``, ``sendfile`` and ``statvfs`` exist where ``os`` has them.
"""

from __future__ import annotations

import os as _blocking

from .. import os as _native
from . import ospath as path
from .base import on_core, wrap

__all__ = [
    "access",
    "getcwd",
    "listdir",
    "makedirs",
    "mkdir",
    "path",
    "readlink",
    "remove",
    "removedirs",
    "rename",
    "renames",
    "replace",
    "rmdir",
    "scandir",
    "stat",
    "symlink",
    "unlink",
    "wrap",
]

access = on_core(_native.access, _blocking.access)
getcwd = on_core(_native.getcwd, _blocking.getcwd)
listdir = on_core(_native.listdir, _blocking.listdir)
makedirs = on_core(_native.makedirs, _blocking.makedirs)
mkdir = on_core(_native.mkdir, _blocking.mkdir)
readlink = on_core(_native.readlink, _blocking.readlink)
remove = on_core(_native.remove, _blocking.remove)
removedirs = on_core(_native.removedirs, _blocking.removedirs)
rename = on_core(_native.rename, _blocking.rename)
renames = on_core(_native.renames, _blocking.renames)
replace = on_core(_native.replace, _blocking.replace)
rmdir = on_core(_native.rmdir, _blocking.rmdir)
scandir = wrap(_blocking.scandir)
stat = on_core(_native.stat, _blocking.stat)
symlink = on_core(_native.symlink, _blocking.symlink)
unlink = on_core(_native.unlink, _blocking.unlink)

if hasattr(_blocking, "link"):
    __all__ += ["link"]
    link = on_core(_native.link, _blocking.link)
if hasattr(_native, "sendfile"):
    __all__ += ["sendfile"]
    sendfile = on_core(_native.sendfile, _blocking.sendfile)
if hasattr(_native, "statvfs"):
    __all__ += ["statvfs"]
    statvfs = on_core(_native.statvfs, _blocking.statvfs)
