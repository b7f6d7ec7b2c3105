"""aiofiles's ``threadpool`` module: ``open``, ``wrap`` and the standard
streams.

``open()`` opens through :func:`asyncfile.open`, so reads and writes run on the
core rather than one thread hop per call, and wraps the file in aiofiles's
classes (which keep aiofiles's split of coroutine and plain methods).  Two
aiofiles habits keep working:

- ``wrap`` is a ``functools.singledispatch`` function keyed on the file's type,
  so a program can register its own (aiofiles's README registers
  ``mock.MagicMock``).  Blocking ``io`` objects are wrapped as aiofiles wraps
  them: their calls run in the executor.
- ``sync_open`` is the blocking opener aiofiles calls.  A program (or a test)
  that replaces it gets aiofiles's path: the replacement runs in the
  executor and its result goes through ``wrap``.

The standard streams are aiofiles's: each call goes to what ``sys.stdout``
(``sys.stderr``, ``sys.stdin``) is at that moment, in the executor, so their
output stays in order with ``print()``'s and follows a redirection
(``contextlib.redirect_stdout``, pytest's capture).  Reads of the
interpreter's own standard input are asyncfile's instead (see
:func:`_interpreters_stdin`).

``loop`` and ``executor`` are accepted everywhere aiofiles accepts them.  A
file from ``open()`` does its I/O on the running loop's core context, so they
are not used for it; they are used wherever a call runs in a thread.
"""

from __future__ import annotations

import asyncio
import builtins
import sys
from functools import partial, singledispatch
from io import (
    BufferedIOBase,
    BufferedRandom,
    BufferedReader,
    BufferedWriter,
    FileIO,
    TextIOBase,
)
from typing import Any

from ... import file as _native
from ..._stdio import standard_stream
from ..base import AiofilesContextManager
from .binary import (
    AsyncBufferedIOBase,
    AsyncBufferedReader,
    AsyncFileIO,
    AsyncIndirectBufferedIOBase,
)
from .text import AsyncTextIndirectIOWrapper, AsyncTextIOWrapper

__all__ = (
    "open",
    "stderr",
    "stderr_bytes",
    "stdin",
    "stdin_bytes",
    "stdout",
    "stdout_bytes",
)

sync_open = builtins.open


def open(
    file: Any,
    mode: str = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: Any = None,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    executor: Any = None,
) -> AiofilesContextManager:
    """aiofiles's ``open()``: the built-in ``open()``'s arguments, plus
    ``loop`` and ``executor``.  Await the result for the file, or use it in
    ``async with``; errors (a bad mode included) are raised there, as the
    built-in ``open()`` raises them."""
    return AiofilesContextManager(
        _open(
            file,
            mode=mode,
            buffering=buffering,
            encoding=encoding,
            errors=errors,
            newline=newline,
            closefd=closefd,
            opener=opener,
            loop=loop,
            executor=executor,
        )
    )


async def _open(
    file: Any,
    mode: str = "r",
    buffering: int = -1,
    encoding: str | None = None,
    errors: str | None = None,
    newline: str | None = None,
    closefd: bool = True,
    opener: Any = None,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
    executor: Any = None,
) -> Any:
    arguments = dict(
        mode=mode,
        buffering=buffering,
        encoding=encoding,
        errors=errors,
        newline=newline,
        closefd=closefd,
        opener=opener,
    )
    if sync_open is builtins.open:
        opened = await _native.open(file, **arguments)
    else:
        if loop is None:
            loop = asyncio.get_running_loop()
        opened = await loop.run_in_executor(
            executor, partial(sync_open, file, **arguments)
        )
    return wrap(opened, loop=loop, executor=executor)


@singledispatch
def wrap(file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    """Wrap a file object in the aiofiles class for its type; TypeError for a
    type nothing is registered for."""
    raise TypeError(f"Unsupported io type: {file}.")


@wrap.register(TextIOBase)
@wrap.register(_native.TextIOWrapper)
def _(file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    return AsyncTextIOWrapper(file, loop=loop, executor=executor)


@wrap.register(BufferedWriter)
@wrap.register(BufferedIOBase)
@wrap.register(_native.BufferedWriter)
def _(file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    return AsyncBufferedIOBase(file, loop=loop, executor=executor)


@wrap.register(BufferedReader)
@wrap.register(BufferedRandom)
@wrap.register(_native.BufferedReader)
@wrap.register(_native.BufferedRandom)
def _(file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    return AsyncBufferedReader(file, loop=loop, executor=executor)


@wrap.register(FileIO)
@wrap.register(_native.FileIO)
def _(file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    return AsyncFileIO(file, loop=loop, executor=executor)


def _interpreters_stdin(name: str) -> Any:
    """asyncfile's ``name`` (``stdin`` or ``stdin_bytes``) while ``sys.stdin``
    is the interpreter's own, else what ``sys.stdin`` now is (``.buffer`` for
    bytes), as aiofiles reads it: asyncfile's waits for input on the loop,
    so a cancelled read leaves no thread blocked behind it (which would keep
    the interpreter from exiting)."""
    if sys.stdin is not None and sys.stdin is sys.__stdin__:
        stream = standard_stream(name)
        if stream is not None:
            return stream
    return sys.stdin if name == "stdin" else sys.stdin.buffer


stdin = AsyncTextIndirectIOWrapper(
    "sys.stdin", None, None, indirect=partial(_interpreters_stdin, "stdin")
)
stdout = AsyncTextIndirectIOWrapper(
    "sys.stdout", None, None, indirect=lambda: sys.stdout
)
stderr = AsyncTextIndirectIOWrapper(
    "sys.stderr", None, None, indirect=lambda: sys.stderr
)
stdin_bytes = AsyncIndirectBufferedIOBase(
    "sys.stdin.buffer",
    None,
    None,
    indirect=partial(_interpreters_stdin, "stdin_bytes"),
)
stdout_bytes = AsyncIndirectBufferedIOBase(
    "sys.stdout.buffer", None, None, indirect=lambda: sys.stdout.buffer
)
stderr_bytes = AsyncIndirectBufferedIOBase(
    "sys.stderr.buffer", None, None, indirect=lambda: sys.stderr.buffer
)
