"""aiofiles's ``tempfile``: ``TemporaryFile``, ``NamedTemporaryFile``,
``SpooledTemporaryFile`` and ``TemporaryDirectory`` with ``tempfile``'s
arguments plus ``loop=`` and ``executor=``.  Await the result for the file (or
the directory object), or use it in ``async with``, which closes the file
(removing a named one, unless ``delete=False``) or removes the directory, and
gives the directory's name.  Errors in the arguments are raised there too.

What is made is :mod:`asyncfile.tempfile`'s (files on the core, behind
aiofiles's classes; ``delete_on_close`` on every Python version).  Given an
``executor``, tempfile's blocking objects are made and used in it instead, as
aiofiles does (``delete_on_close`` then needs Python 3.12).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile as _sync
from functools import partial, singledispatch
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
    arguments: dict[str, Any] = dict(
        mode=mode,
        buffering=buffering,
        encoding=encoding,
        newline=newline,
        suffix=suffix,
        prefix=prefix,
        dir=dir,
        delete=delete,
    )
    if executor is None:
        arguments["delete_on_close"] = delete_on_close
        return AiofilesContextManager(
            _native_file(_native.NamedTemporaryFile, arguments, loop)
        )
    if sys.version_info >= (3, 12):
        arguments["delete_on_close"] = delete_on_close
    elif not delete_on_close:
        raise TypeError("delete_on_close needs Python 3.12 or newer")
    return AiofilesContextManager(
        _temporary_file(_sync.NamedTemporaryFile, arguments, loop, executor)
    )


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
    arguments: dict[str, Any] = dict(
        mode=mode,
        buffering=buffering,
        encoding=encoding,
        newline=newline,
        suffix=suffix,
        prefix=prefix,
        dir=dir,
    )
    if executor is None:
        return AiofilesContextManager(
            _native_file(_native.TemporaryFile, arguments, loop)
        )
    return AiofilesContextManager(
        _temporary_file(_sync.TemporaryFile, arguments, loop, executor)
    )


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
    """``tempfile.SpooledTemporaryFile``, asynchronously."""
    call = partial(
        _sync.SpooledTemporaryFile if executor else _native.SpooledTemporaryFile,
        max_size=max_size,
        mode=mode,
        buffering=buffering,
        encoding=encoding,
        newline=newline,
        suffix=suffix,
        prefix=prefix,
        dir=dir,
    )
    return AiofilesContextManager(_spooled(call, loop, executor))


def TemporaryDirectory(
    suffix: str | None = None,
    prefix: str | None = None,
    dir: Any = None,
    loop: asyncio.AbstractEventLoop | None = None,
    executor: Any = None,
) -> AiofilesContextManager:
    """``tempfile.TemporaryDirectory``, asynchronously; ``async with`` gives
    its name, as ``with`` does."""
    return AiofilesContextManagerTempDir(
        _temporary_directory(suffix, prefix, dir, loop, executor)
    )


async def _native_file(
    make: Any, arguments: dict[str, Any], loop: asyncio.AbstractEventLoop | None
) -> Any:
    made = await make(**arguments)
    if isinstance(made, _native.TemporaryFileWrapper):
        result = wrap(made.file, made, loop=loop)
        result.delete = made.delete
        result._closer = made._closer
        return result
    return _wrap_native(made, loop=loop)


async def _temporary_file(
    make: Any,
    arguments: dict[str, Any],
    loop: asyncio.AbstractEventLoop | None,
    executor: Any,
) -> Any:
    if loop is None:
        loop = asyncio.get_running_loop()
    made = await loop.run_in_executor(executor, partial(make, **arguments))
    if type(made) is _sync._TemporaryFileWrapper:
        result = wrap(made.file, made, loop=loop, executor=executor)
        if sys.version_info >= (3, 12):
            result._closer = made._closer
        else:
            result.delete = made.delete
        return result
    return wrap(made, made, loop=loop, executor=executor)


async def _spooled(
    call: Any, loop: asyncio.AbstractEventLoop | None, executor: Any
) -> AsyncSpooledTemporaryFile:
    if executor is None:
        # asyncfile's is made at the call, in memory: nothing touches the disk.
        return AsyncSpooledTemporaryFile(await call(), loop=loop, executor=None)
    if loop is None:
        loop = asyncio.get_running_loop()
    made = await loop.run_in_executor(executor, call)
    return AsyncSpooledTemporaryFile(made, loop=loop, executor=executor)


async def _temporary_directory(
    suffix: str | None,
    prefix: str | None,
    dir: Any,
    loop: asyncio.AbstractEventLoop | None,
    executor: Any,
) -> AsyncTemporaryDirectory:
    if executor is None:
        directory = await _native.TemporaryDirectory(suffix, prefix, dir)
        return AsyncTemporaryDirectory(directory, loop=loop, executor=None)
    if loop is None:
        loop = asyncio.get_running_loop()
    call = partial(_sync.TemporaryDirectory, suffix, prefix, dir)
    made = await loop.run_in_executor(executor, call)
    return AsyncTemporaryDirectory(made, loop=loop, executor=executor)


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
