"""The standard streams as asyncfile file objects.

``asyncfile.stdin``, ``asyncfile.stdout`` and ``asyncfile.stderr`` are text
files over descriptors 0, 1 and 2, and ``asyncfile.stdin_bytes``,
``stdout_bytes`` and ``stderr_bytes`` their binary layers (``stdout.buffer``
is ``stdout_bytes``, as ``sys.stdout.buffer`` is ``sys.stdout``'s):

- One of each per process, made when first asked for, usable from any
  event loop (one at a time: calls are serialised as on any file object).
  ``None`` where the descriptor is not open, as ``sys.stdin`` is then.
- They never close the descriptor (``closefd=False``): ``close()`` only
  makes the object unusable, and ``sys.stdin`` and friends keep working.
- Encoding, errors, line buffering and write-through are those of
  ``sys.__stdin__``, ``sys.__stdout__`` and ``sys.__stderr__`` (the streams
  the interpreter made, not a replacement such as pytest's capture); the
  newline is the interpreter's too (``"\\n"``, and universal newlines for
  stdin on Windows).  ``name`` is ``"<stdin>"``, ``mode`` ``"r"`` or ``"w"``.
- They read and write at the descriptor's own offset, as the interpreter's
  streams do, even where it is redirected to a file: what they write lands
  in order with what ``print()`` flushes and what other processes sharing
  the descriptor write.  So they do not seek: ``seekable()`` is false,
  ``tell()`` and ``seek()`` fail as on a pipe.
- Reading waits for input without a thread and without stalling the loop:
  a read that is cancelled (``asyncio.wait_for``) leaves nothing behind.
- They have their own buffers, apart from ``sys.stdout``'s: flush one before
  writing through the other if the order matters (``stderr`` and a terminal
  ``stdout`` are line-buffered, as ``sys``'s).  What ``stdout`` and
  ``stderr`` still buffer at interpreter exit is written then.
"""

from __future__ import annotations

import atexit
import errno
import io
import os
import sys
import threading
from typing import Any, Final

from .io._buffered import BufferedReader, BufferedWriter
from .io._raw import FileIO
from .io._text import TextIOWrapper

__all__ = ("NAMES", "standard_stream")

#: The attributes of ``asyncfile`` that are standard streams.
NAMES: Final = frozenset(
    {"stdin", "stdout", "stderr", "stdin_bytes", "stdout_bytes", "stderr_bytes"}
)

_DESCRIPTORS: Final = {"stdin": 0, "stdout": 1, "stderr": 2}

_made: dict[str, TextIOWrapper | None] = {}
_making = threading.Lock()


def standard_stream(name: str) -> Any:
    """The stream ``name`` (one of :data:`NAMES`), made on first use."""
    base = name.removesuffix("_bytes")
    with _making:
        if base not in _made:
            _made[base] = _make(base)
    text = _made[base]
    if text is None or base == name:
        return text
    return text.buffer


def _make(base: str) -> TextIOWrapper | None:
    fd = _DESCRIPTORS[base]
    writing = base != "stdin"
    try:
        status = os.fstat(fd)
    except OSError as error:
        if error.errno == errno.EBADF:
            return None
        raise
    blksize = getattr(status, "st_blksize", 0)
    # No position of its own (position=None): I/O at the descriptor's
    # offset, shared with print() and other processes.
    raw = FileIO(
        fd,
        f"<{base}>",
        "w" if writing else "r",
        closefd=False,
        blksize=blksize if blksize > 1 else io.DEFAULT_BUFFER_SIZE,
        position=None,
        context=None,
    )
    original = getattr(sys, f"__{base}__", None)
    encoding = getattr(original, "encoding", None) or (
        "utf-8" if sys.flags.utf8_mode else "locale"
    )
    errors = getattr(original, "errors", None) or (
        "backslashreplace" if base == "stderr" else "strict"
    )
    line_buffering = getattr(
        original, "line_buffering", base == "stderr" or raw.isatty()
    )
    write_through = getattr(original, "write_through", False)
    # The interpreter's: on Windows universal newlines in, os.linesep out.
    newline = None if sys.platform == "win32" else "\n"
    buffer = (BufferedWriter if writing else BufferedReader)(
        raw, io.DEFAULT_BUFFER_SIZE
    )
    text = TextIOWrapper(
        buffer,
        encoding,
        errors,
        newline,
        line_buffering=bool(line_buffering),
        write_through=bool(write_through),
    )
    text.mode = "w" if writing else "r"
    if writing:
        atexit.register(_flush_at_exit, text)
    return text


def _flush_at_exit(text: TextIOWrapper) -> None:
    """Write what the stream still buffers, as the interpreter flushes
    ``sys.stdout`` at exit (blocking, like it)."""
    if not text.closed:
        text._flush_at_collection()
