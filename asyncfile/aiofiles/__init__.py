"""A drop-in for aiofiles 25.1: ``from asyncfile import aiofiles`` (or
``import asyncfile.aiofiles as aiofiles``) and nothing else changes.

``open`` (``loop=`` and ``executor=`` accepted), ``os`` (with ``os.path``),
``ospath``, ``tempfile``, ``threadpool`` (``open``, ``wrap``, the wrapper
classes of ``threadpool.binary`` and ``threadpool.text``), ``stdin``,
``stdout``, ``stderr`` and their ``_bytes`` forms, with aiofiles's names and
its split of coroutine and plain methods (``tell()``, ``seekable()``,
``writable()``, ``isatty()`` are coroutines; ``fileno()`` is plain, and so is
``readable()`` on binary files, which text files make a coroutine).

The files ``open()`` gives are asyncfile's own (:func:`asyncfile.open`) behind
aiofiles's classes, so their reads and writes run on the core: results,
exceptions and bytes on disk are the built-in ``open()``'s.  ``os`` and
``ospath`` call :mod:`asyncfile.os` and :mod:`asyncfile.os.path`, ``tempfile``
makes :mod:`asyncfile.tempfile`'s objects.  Where it differs from aiofiles:

- ``loop`` and ``executor`` are not used by the files of ``open()`` and
  ``tempfile``: their I/O runs on the running loop's core context.  An
  ``executor`` given to an ``os`` or ``ospath`` call makes it aiofiles's: the
  blocking call runs there.  The standard streams and ``wrap()`` of a
  blocking file run their calls in the executor, as aiofiles does.
- ``detach()`` is plain, as aiofiles's, and returns io's blocking object for
  the layer below (``io.FileIO``, or an ``io.Buffered*`` for a text file) at
  the file's position; pending writes are written first, blocking, as io's
  ``detach()`` (which aiofiles calls on the loop) writes them.
- ``raw`` and ``buffer`` are asyncfile's objects of the layer below, whose
  I/O methods are coroutines.
- ``stdin`` and ``stdin_bytes`` read the interpreter's own standard input
  with :data:`asyncfile.stdin` (``stdin_bytes``), which waits for input on
  the loop: a cancelled read leaves no thread blocked, so the program can
  exit (aiofiles's thread waits for input that may never come).  A replaced
  ``sys.stdin`` is read as aiofiles reads it.  ``stdout`` and ``stderr``
  write to what ``sys.stdout`` and ``sys.stderr`` are at each call, as
  aiofiles's do, keeping the order of ``print()``'s output.
"""

from __future__ import annotations

from . import os, ospath, tempfile, threadpool
from .threadpool import (
    open,
    stderr,
    stderr_bytes,
    stdin,
    stdin_bytes,
    stdout,
    stdout_bytes,
)

__all__ = [
    "open",
    "os",
    "ospath",
    "stderr",
    "stderr_bytes",
    "stdin",
    "stdin_bytes",
    "stdout",
    "stdout_bytes",
    "tempfile",
    "threadpool",
]
