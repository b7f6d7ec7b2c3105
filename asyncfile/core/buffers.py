"""Checks shared by every backend for the buffers and numbers operations take."""

from __future__ import annotations

import mmap
import operator
from typing import TYPE_CHECKING

from .errors import BufferTypeError

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = (
    "MAX_OFFSET",
    "OFFSET_CURRENT",
    "aligned_buffer",
    "byte_view",
    "check_fd",
    "check_offset",
    "check_size",
)

#: Offsets and sizes are 64-bit signed values in the kernel's interfaces.
MAX_OFFSET = 2**63 - 1


def aligned_buffer(nbytes: int) -> mmap.mmap:
    """A zero-filled, writable buffer of ``nbytes`` that starts on a page boundary.

    That satisfies the memory alignment O_DIRECT asks for on every Linux file
    system (``STATX_DIOALIGN`` reports at most a page); offsets and lengths must
    still be multiples of the file's own alignment.
    """
    if nbytes <= 0:
        raise ValueError(f"an aligned buffer holds at least one byte, not {nbytes}")
    return mmap.mmap(-1, nbytes)


def byte_view(buffer: Buffer, *, writable: bool = False) -> memoryview:
    """A flat, byte-format view of a C-contiguous buffer, or BufferTypeError."""
    try:
        view = memoryview(buffer)
    except TypeError:
        kind = "writable buffer" if writable else "bytes-like object"
        raise BufferTypeError(
            f"a {kind} is required, not {type(buffer).__name__!r}"
        ) from None
    if not view.c_contiguous:
        view.release()
        raise BufferTypeError("the buffer must be C-contiguous")
    if writable and view.readonly:
        view.release()
        raise BufferTypeError(
            f"a writable buffer is required, not {type(buffer).__name__!r}"
        )
    if view.format != "B" or view.ndim != 1:
        return view.cast("B")
    return view


def check_fd(fd: int) -> int:
    """``fd`` as an int; a negative descriptor is a ValueError."""
    fd = operator.index(fd)
    if fd < 0:
        raise ValueError(f"file descriptor cannot be negative: {fd}")
    return fd


#: The offset that means the descriptor's current position (pipes, FIFOs,
#: sockets, terminals): a read there is one ``read(2)``, a write ``write(2)``.
#: 2**64-1, io_uring's spelling of -1, means it too.
OFFSET_CURRENT = -1


def check_offset(offset: int) -> int:
    """``offset`` as an int in the kernel's 64-bit range, or
    :data:`OFFSET_CURRENT` for -1 and 2**64-1; else ValueError."""
    offset = operator.index(offset)
    if offset in (OFFSET_CURRENT, 2**64 - 1):
        return OFFSET_CURRENT
    if not 0 <= offset <= MAX_OFFSET:
        raise ValueError(
            f"offset must be in [0, 2**63) or -1 (the current position), got {offset}"
        )
    return offset


def check_size(nbytes: int) -> int:
    """``nbytes`` as an int in the kernel's 64-bit range, else ValueError."""
    nbytes = operator.index(nbytes)
    if not 0 <= nbytes <= MAX_OFFSET:
        raise ValueError(f"size must be in [0, 2**63), got {nbytes}")
    return nbytes
