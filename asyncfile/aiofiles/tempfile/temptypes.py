"""aiofiles's wrappers of ``tempfile.SpooledTemporaryFile`` and
``tempfile.TemporaryDirectory``."""

from __future__ import annotations

import asyncio
from functools import partial
from typing import Any

from ..base import AsyncBase, is_native
from ..threadpool.utils import (
    cond_delegate_to_executor,
    delegate_to_executor,
    proxy_property_directly,
)

__all__ = ("AsyncSpooledTemporaryFile", "AsyncTemporaryDirectory")


@delegate_to_executor("fileno", "rollover")
@cond_delegate_to_executor(
    "close",
    "flush",
    "isatty",
    "read",
    "readline",
    "readlines",
    "seek",
    "tell",
    "truncate",
)
@proxy_property_directly("closed", "encoding", "mode", "name", "newlines")
class AsyncSpooledTemporaryFile(AsyncBase):
    """A spooled temporary file: in memory until it grows past
    ``max_size``, then on disk.  Over :class:`asyncfile.tempfile.
    SpooledTemporaryFile` every call is that object's; over tempfile's
    blocking one, calls on disk run in the executor, as aiofiles runs them."""

    async def _check(self) -> None:
        if self._file._rolled:
            return
        max_size = self._file._max_size
        if max_size and self._file.tell() > max_size:
            await self.rollover()  # type: ignore[attr-defined]

    async def write(self, s: Any) -> Any:
        """Write ``s``; rolls over to disk past ``max_size``."""
        if is_native(self._file):
            return await self._file.write(s)
        if self._file._rolled:
            call = partial(self._file.write, s)
            return await self._loop.run_in_executor(self._executor, call)
        written = self._file._file.write(s)
        await self._check()
        return written

    async def writelines(self, iterable: Any) -> None:
        """Write each item of ``iterable``; rolls over to disk past
        ``max_size``."""
        if is_native(self._file):
            return await self._file.writelines(iterable)  # type: ignore[no-any-return]
        if self._file._rolled:
            call = partial(self._file.writelines, iterable)
            return await self._loop.run_in_executor(self._executor, call)
        self._file._file.writelines(iterable)
        await self._check()


@delegate_to_executor("cleanup")
@proxy_property_directly("name")
class AsyncTemporaryDirectory:
    """A temporary directory (:class:`asyncfile.tempfile.TemporaryDirectory`,
    or tempfile's, whose ``cleanup()`` then runs in the executor); ``await
    close()`` (or ``cleanup()``) removes it with what it holds."""

    def __init__(
        self, file: Any, loop: asyncio.AbstractEventLoop | None, executor: Any
    ) -> None:
        self._file = file
        self._loop = loop
        self._executor = executor

    async def close(self) -> None:
        """Remove the directory and what it holds."""
        await self.cleanup()  # type: ignore[attr-defined]
