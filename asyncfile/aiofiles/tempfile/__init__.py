"""aiofiles's ``tempfile``: ``TemporaryFile``, ``NamedTemporaryFile``,
``SpooledTemporaryFile`` and ``TemporaryDirectory`` with ``tempfile``'s
arguments plus ``loop=`` and ``executor=``.  Await the result for the file (or
the directory object), or use it in ``async with``, which closes the file
(removing a named one, unless ``delete=False``) or removes the directory, and
gives the directory's name.  Errors in the arguments are raised there too.

What is made is :mod:`asyncfile.tempfile`'s, behind aiofiles's classes: the
files do their I/O on the core, as :func:`asyncfile.aiofiles.open`'s do, so
``loop`` and ``executor`` are not used; ``delete_on_close`` works on every
Python version.
"""

from __future__ import annotations

import asyncio
from functools import singledispatch
from io import BufferedRandom, BufferedReader, BufferedWriter, FileIO, TextIOBase
from typing import Any

from ... import file as _native_io
from ... import tempfile as _native
from ..base import AiofilesContextManager
from ..threadpool import wrap as _wrap_native
from ..threadpool.binary import AsyncBufferedIOBase, AsyncBufferedReader, AsyncFileIO
from ..threadpool.text import AsyncTextIOWrapper
from .temptypes import AsyncSpooledTemporaryFile, AsyncTemporaryDirectory

__all__ = [
    "NamedTemporaryFile",
    "SpooledTemporaryFile",
    "TemporaryDirectory",
    "TemporaryFile",
]


def NamedTemporaryFile(
    mode: str = "w+b",
    buffering: int = -1,
    encoding: str | None = None,
    newline: str | None = None,
    suffix: str | None = None,
    prefix: str | None = None,
    dir: Any = None,
    delete: bool = True,
    delete_on_close: bool = True,
    loop: asyncio.AbstractEventLoop | None = None,
    executor: Any = None,
) -> AiofilesContextManager:
    """``tempfile.NamedTemporaryFile``, asynchronously."""

    async def make() -> Any:
        wrapper = await _native.NamedTemporaryFile(
            mode,
            buffering,
            encoding,
            newline,
            suffix,
            prefix,
            dir,
            delete,
            delete_on_close=delete_on_close,
        )
        return _wrap_named(wrapper, loop, executor)

    return AiofilesContextManager(make())


def TemporaryFile(
    mode: str = "w+b",
    buffering: int = -1,
    encoding: str | None = None,
    newline: str | None = None,
    suffix: str | None = None,
    prefix: str | None = None,
    dir: Any = None,
    loop: asyncio.AbstractEventLoop | None = None,
    executor: Any = None,
) -> AiofilesContextManager:
    """``tempfile.TemporaryFile``, asynchronously."""

    async def make() -> Any:
        made = await _native.TemporaryFile(
            mode, buffering, encoding, newline, suffix, prefix, dir
        )
        # Where the system cannot make an unnamed file, tempfile (and so
        # asyncfile.tempfile) gives a named one.
        if isinstance(made, _native.TemporaryFileWrapper):
            return _wrap_named(made, loop, executor)
        return _wrap_native(made, loop=loop, executor=executor)

    return AiofilesContextManager(make())


def SpooledTemporaryFile(
    max_size: int = 0,
    mode: str = "w+b",
    buffering: int = -1,
    encoding: str | None = None,
    newline: str | None = None,
    suffix: str | None = None,
    prefix: str | None = None,
    dir: Any = None,
    loop: asyncio.AbstractEventLoop | None = None,
    executor: Any = None,
) -> AiofilesContextManager:
    """``tempfile.SpooledTemporaryFile``, asynchronously: in memory until it
    grows past ``max_size``."""

    async def make() -> AsyncSpooledTemporaryFile:
        spooled = _native.SpooledTemporaryFile(
            max_size, mode, buffering, encoding, newline, suffix, prefix, dir
        )
        return AsyncSpooledTemporaryFile(spooled, loop=loop, executor=executor)

    return AiofilesContextManager(make())


def TemporaryDirectory(
    suffix: str | None = None,
    prefix: str | None = None,
    dir: Any = None,
    loop: asyncio.AbstractEventLoop | None = None,
    executor: Any = None,
) -> AiofilesContextManager:
    """``tempfile.TemporaryDirectory``, asynchronously; ``async with`` gives
    its name, as ``with`` does."""

    async def make() -> AsyncTemporaryDirectory:
        directory = await _native.TemporaryDirectory(suffix, prefix, dir)
        return AsyncTemporaryDirectory(directory, loop=loop, executor=executor)

    return AiofilesContextManagerTempDir(make())


def _wrap_named(
    wrapper: _native.TemporaryFileWrapper,
    loop: asyncio.AbstractEventLoop | None,
    executor: Any,
) -> Any:
    """aiofiles's class for the file under ``wrapper``, over ``wrapper``
    (whose ``close()`` removes the file), with its ``delete`` and closer."""
    result = wrap(wrapper.file, wrapper, loop=loop, executor=executor)
    result.delete = wrapper.delete
    result._closer = wrapper._closer
    return result


class AiofilesContextManagerTempDir(AiofilesContextManager):
    """``async with`` gives the directory's name, as ``with`` does."""

    async def __aenter__(self) -> Any:
        self._obj = await self._coro
        return self._obj.name


@singledispatch
def wrap(base_io_obj: Any, file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    """Wrap a temporary file in the aiofiles class for the type of the io
    object under it; TypeError for a type nothing is registered for."""
    raise TypeError(f"Unsupported IO type: {base_io_obj}")


@wrap.register(TextIOBase)
@wrap.register(_native_io.TextIOWrapper)
def _(base_io_obj: Any, file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    return AsyncTextIOWrapper(file, loop=loop, executor=executor)


@wrap.register(BufferedWriter)
@wrap.register(_native_io.BufferedWriter)
def _(base_io_obj: Any, file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    return AsyncBufferedIOBase(file, loop=loop, executor=executor)


@wrap.register(BufferedReader)
@wrap.register(BufferedRandom)
@wrap.register(_native_io.BufferedReader)
@wrap.register(_native_io.BufferedRandom)
def _(base_io_obj: Any, file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    return AsyncBufferedReader(file, loop=loop, executor=executor)


@wrap.register(FileIO)
@wrap.register(_native_io.FileIO)
def _(base_io_obj: Any, file: Any, *, loop: Any = None, executor: Any = None) -> Any:
    return AsyncFileIO(file, loop=loop, executor=executor)
