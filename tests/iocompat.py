"""The built-in ``open()`` as asyncfile's file objects are compared with."""

from __future__ import annotations

import builtins
import os
from typing import Any

from asyncfile.file import _default_buffer_size


def io_open(file: Any, mode: str = "r", buffering: int = -1, **kwargs: Any) -> Any:
    """``open()``, where ``buffering=-1`` picks asyncfile's default size.

    For a file that writes that is Python 3.14's rule (the block size, within
    128 KiB to 8 MiB; older Pythons take the block size), so both sides read
    and write the same amounts at the same calls: a full disk, a failing range
    or a file changing under a reader then shows at the same call on both.
    """
    if buffering == -1:
        if isinstance(file, int):
            blksize = getattr(os.fstat(file), "st_blksize", 0)
        else:
            path = os.fspath(file)
            blksize = getattr(
                os.stat(path if os.path.exists(path) else os.path.dirname(path) or "."),
                "st_blksize",
                0,  # Windows has none
            )
        raw_mode = mode.replace("b", "").replace("t", "")
        buffering = _default_buffer_size(blksize if blksize > 1 else 8192, raw_mode)
    return builtins.open(file, mode, buffering, **kwargs)
