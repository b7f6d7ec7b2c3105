"""The pieces aiofiles 25.1's modules share: ``wrap``, the wrapper bases and
the awaitable context manager that ``open()`` returns.

A wrapper's ``_file`` is either an asyncfile file object (what
:func:`asyncfile.aiofiles.open` gives: its I/O runs on the core, no thread per
call) or any blocking file-like object (what ``threadpool.wrap()`` and the
standard streams are given, and what a replaced ``threadpool.sync_open``
returns: its calls run in the executor, as aiofiles runs them).
"""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Awaitable, Callable, Coroutine, Generator
from functools import partial, wraps
from types import TracebackType
from typing import Any, TypeVar

from .. import tempfile as _tempfile
from ..io._base import IOBase
from ..io._buffered import BufferedRandom, BufferedReader
from ..io._raw import FileIO

__all__ = (
    "NATIVE_TYPES",
    "AiofilesContextManager",
    "AsyncBase",
    "AsyncIndirectBase",
    "is_native",
    "on_core",
    "wrap",
)

T = TypeVar("T")


def wrap(func: Callable[..., T]) -> Callable[..., Coroutine[Any, Any, T]]:
    """Like aiofiles's ``wrap``: a coroutine function that runs ``func`` in
    ``executor`` (default: the loop's) and accepts ``loop=`` and
    ``executor=`` besides ``func``'s own arguments."""

    @wraps(func)
    async def run(
        *args: Any,
        loop: asyncio.AbstractEventLoop | None = None,
        executor: Any = None,
        **kwargs: Any,
    ) -> T:
        if loop is None:
            loop = asyncio.get_running_loop()
        return await loop.run_in_executor(executor, partial(func, *args, **kwargs))

    return run


def on_core(
    native: Callable[..., Coroutine[Any, Any, T]], blocking: Callable[..., T]
) -> Callable[..., Coroutine[Any, Any, T]]:
    """aiofiles's calling convention over one of asyncfile's coroutines
    (``native``): ``loop=`` and ``executor=`` are accepted; with an
    ``executor``, ``blocking`` runs there, as aiofiles runs it; without one,
    ``native`` does the call (on the core where it can)."""
    threaded = wrap(blocking)

    @wraps(native)
    async def call(
        *args: Any,
        loop: asyncio.AbstractEventLoop | None = None,
        executor: Any = None,
        **kwargs: Any,
    ) -> T:
        if executor is not None:
            return await threaded(*args, loop=loop, executor=executor, **kwargs)
        return await native(*args, **kwargs)

    return call


#: asyncfile's objects that wrappers here may hold: their methods that touch
#: the disk are coroutines, and ``async with`` is theirs.
NATIVE_TYPES = (
    IOBase,
    _tempfile.TemporaryFileWrapper,
    _tempfile.SpooledTemporaryFile,
    _tempfile.TemporaryDirectory,
)


def is_native(file: object) -> bool:
    """True for asyncfile's objects (:data:`NATIVE_TYPES`)."""
    return isinstance(file, NATIVE_TYPES)


class AsyncBase:
    """aiofiles's ``AsyncBase``: holds the file, the loop and the executor;
    ``async for`` reads lines with ``readline()`` until an empty one."""

    def __init__(
        self,
        file: Any,
        loop: asyncio.AbstractEventLoop | None,
        executor: Any,
    ) -> None:
        self._file = file
        self._executor = executor
        self._ref_loop = loop

    @property
    def _loop(self) -> asyncio.AbstractEventLoop:
        return self._ref_loop or asyncio.get_running_loop()

    def __aiter__(self) -> AsyncBase:
        return self

    def __repr__(self) -> str:
        return super().__repr__() + " wrapping " + repr(self._file)

    async def __anext__(self) -> Any:
        line = await self.readline()  # type: ignore[attr-defined]
        if line:
            return line
        raise StopAsyncIteration


class AsyncIndirectBase(AsyncBase):
    """aiofiles's ``AsyncIndirectBase``: the file is looked up at each call
    (``indirect()``), so ``sys.stdout`` replaced later is the one written."""

    def __init__(
        self,
        name: str,
        loop: asyncio.AbstractEventLoop | None,
        executor: Any,
        indirect: Callable[[], Any],
    ) -> None:
        self._indirect = indirect
        self._name = name
        super().__init__(None, loop, executor)

    @property
    def _file(self) -> Any:
        return self._indirect()

    @_file.setter
    def _file(self, value: Any) -> None:
        pass  # the file is always the one indirect() names


class AiofilesContextManager(Awaitable[Any]):
    """What aiofiles's ``open()`` returns: await it for the file, or use it
    in ``async with`` (which closes the file on exit).  ``_obj`` is the file
    once opened, as aiofiles has it."""

    __slots__ = ("_coro", "_obj")

    def __init__(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._coro = coro
        self._obj: Any = None

    def __await__(self) -> Generator[Any, None, Any]:
        if self._obj is None:
            self._obj = yield from self._coro.__await__()
        return self._obj

    async def __aenter__(self) -> Any:
        return await self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        file = self._obj._file
        if is_native(file):
            await file.__aexit__(exc_type, exc, traceback)
        else:
            # The blocking file's own __exit__, in the default executor, as
            # aiofiles runs it.
            await asyncio.get_running_loop().run_in_executor(
                None, file.__exit__, exc_type, exc, traceback
            )
        self._obj = None


# -- detach(): aiofiles hands back io's blocking objects ------------------------


def complete_now(coroutine: Coroutine[Any, Any, T], what: str) -> T:
    """Run ``coroutine`` to its end without the loop: for the calls aiofiles
    makes plain (``detach()``), which complete without waiting once nothing
    is pending.  Raises RuntimeError if it would have to wait (another call
    on the file is in flight)."""
    try:
        coroutine.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coroutine.close()
    raise RuntimeError(f"{what}() while another call on the file is in flight")


def blocking_raw(raw: FileIO, position: int | None) -> io.FileIO:
    """An ``io.FileIO`` on ``raw``'s descriptor (a duplicate if ``raw`` owns
    it), at ``position``; ``raw`` is closed without I/O."""
    fd = raw.fileno()
    if raw.closefd:
        fd = os.dup(fd)
    name, mode = raw.name, raw.mode
    # The descriptor without I/O, as the finaliser releases it: detach() is
    # plain, and the duplicate keeps the open file.
    raw._release_now()
    try:
        if position is not None:
            os.lseek(fd, position, os.SEEK_SET)
        blocking = io.FileIO(fd, mode, closefd=True)
    except BaseException:
        os.close(fd)
        raise
    blocking.name = name
    return blocking


def detach_native(file: Any) -> Any:
    """``detach()`` of an asyncfile buffered or text file, as io's does it
    and aiofiles (which calls io's) returns it: pending writes are written
    with blocking system calls, and the layer below comes back as io's
    blocking object (``io.FileIO`` for a buffered file, an ``io.Buffered*``
    for a text file), at the file's logical position."""
    # io writes pending data inside detach(), blocking; so does this, with
    # the blocking flush the file objects use where io blocks.
    file._flush_at_collection()
    inner = complete_now(file.detach(), "detach")
    if isinstance(inner, FileIO):
        return blocking_raw(inner, inner.tell() if inner.seekable() else None)
    position = inner.tell() if inner.seekable() else None
    raw = complete_now(inner.detach(), "detach")
    blocking = blocking_raw(raw, position)
    if isinstance(inner, BufferedRandom):
        return io.BufferedRandom(blocking)
    if isinstance(inner, BufferedReader):
        return io.BufferedReader(blocking)
    return io.BufferedWriter(blocking)
