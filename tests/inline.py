"""What the native core completes inline, on the loop, without a turn."""

from __future__ import annotations

import os
from typing import Any


def resolve_cached_missing() -> str | None:
    """Why openat2(RESOLVE_CACHED) cannot answer here, or None if it can."""
    import ctypes

    from asyncfile.core import _aio

    if getattr(_aio, "PORTABLE", False):
        return "the portable build (macOS's) completes no stat or open inline"

    class OpenHow(ctypes.Structure):
        _fields_ = (
            ("flags", ctypes.c_uint64),
            ("mode", ctypes.c_uint64),
            ("resolve", ctypes.c_uint64),
        )

    libc = ctypes.CDLL(None, use_errno=True)
    how = OpenHow(os.O_PATH | os.O_CLOEXEC, 0, 0x20)  # RESOLVE_CACHED
    fd = libc.syscall(437, -100, b"/", ctypes.byref(how), ctypes.sizeof(how))
    if fd >= 0:
        os.close(fd)
        return None
    code = ctypes.get_errno()
    return f"openat2(RESOLVE_CACHED) fails here: {os.strerror(code)}"


def completes_without_suspending(call: Any) -> tuple[bool, Any]:
    """Step a core call once: (True, value) if it finished in that step."""
    try:
        call.send(None)
    except StopIteration as stop:
        return True, stop.value
    call.close()
    return False, None
