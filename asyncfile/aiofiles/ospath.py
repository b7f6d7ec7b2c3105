"""aiofiles's ``ospath`` (also ``aiofiles.os.path``): ``os.path``'s queries as
coroutines with ``os.path``'s results (``False`` where ``os.path`` answers
``False``), done by :mod:`asyncfile.os.path`; each also accepts ``loop=`` and
``executor=`` (given an executor, the call runs there, as aiofiles runs it).
"""

from __future__ import annotations

from os import path as _blocking

from ..os import path as _native
from .base import on_core

__all__ = [
    "abspath",
    "exists",
    "getatime",
    "getctime",
    "getmtime",
    "getsize",
    "isdir",
    "isfile",
    "islink",
    "ismount",
    "samefile",
    "sameopenfile",
]

abspath = on_core(_native.abspath, _blocking.abspath)
getatime = on_core(_native.getatime, _blocking.getatime)
getctime = on_core(_native.getctime, _blocking.getctime)
getmtime = on_core(_native.getmtime, _blocking.getmtime)
getsize = on_core(_native.getsize, _blocking.getsize)
exists = on_core(_native.exists, _blocking.exists)
isdir = on_core(_native.isdir, _blocking.isdir)
isfile = on_core(_native.isfile, _blocking.isfile)
islink = on_core(_native.islink, _blocking.islink)
ismount = on_core(_native.ismount, _blocking.ismount)
samefile = on_core(_native.samefile, _blocking.samefile)
sameopenfile = on_core(_native.sameopenfile, _blocking.sameopenfile)
