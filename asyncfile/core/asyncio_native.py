"""The asyncio adapter for the native backends.

The native context completes page-cache hits on the spot and returns an
awaitable that does not suspend the task (giving the loop a turn once its
inline budget is spent); the rest complete through the eventfd, registered
once with the loop's ``add_reader``.  ``read``, ``readinto`` and ``write`` are
C methods (``_aio.AsyncioMethods``) that start the operation at once while the
context serves the running loop, and call ``_read``, ``_readinto`` or
``_write`` here for anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from . import forks
from ._aio import AsyncioMethods
from .abstract import AbstractContext
from .asyncio_base import AsyncioContextBase, CachedReader

if TYPE_CHECKING:
    from typing_extensions import Buffer

__all__ = ("NativeAsyncioContext",)


class NativeAsyncioContext(AsyncioMethods, AsyncioContextBase):
    """Awaitable operations on a native context, served by one event loop."""

    def __init__(
        self,
        max_requests: int | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        deferred: bool = False,
        **context_options: Any,
    ) -> None:
        # caio's opt-in batching; here submissions batch by themselves.
        self.deferred = deferred
        self._reader_fd = -1
        super().__init__(max_requests, loop, **context_options)

    def _create_context(self, max_requests: int, **options: Any) -> AbstractContext:
        context = self._new_native_context(max_requests, **options)
        self._native = context
        return context

    def _new_native_context(self, max_requests: int, **options: Any) -> AbstractContext:
        return super()._create_context(max_requests, **options)

    def _on_bound(self, loop: asyncio.AbstractEventLoop) -> None:
        native = self._native
        native.bind(loop)
        self._reader_fd = native.fileno
        loop.add_reader(self._reader_fd, native.on_ready)

    def _serving(self) -> Any:
        """The native context, serving the running loop; None outside a loop."""
        native = self._native
        if native.serves_running_loop():
            return native
        if self._closed:
            raise RuntimeError("AsyncioContext is closed")
        if asyncio._get_running_loop() is None:
            return None
        self._bind_loop()  # rebinds in a forked child or after the loop closed
        return self._native

    async def _when_awaited(self, method: str, *args: Any) -> Any:
        """A call made outside any loop: bind and start it once awaited."""
        return await getattr(self._serving(), method)(*args)

    def _read(
        self, nbytes: int, fd: int, offset: int = 0, priority: int = 0
    ) -> Awaitable[bytes]:
        native = self._serving()
        if native is None:
            return self._when_awaited("aread", nbytes, fd, offset)
        result: Awaitable[bytes] = native.aread(nbytes, fd, offset)
        return result

    def filesystem(self) -> Any:
        return self._serving()

    def cached_reader(self) -> CachedReader | None:
        reader: CachedReader = self._native.read_cached
        return reader

    def _readinto(
        self, buffer: Buffer, fd: int, offset: int = 0, priority: int = 0
    ) -> Awaitable[int]:
        native = self._serving()
        if native is None:
            return self._when_awaited("areadinto", buffer, fd, offset)
        result: Awaitable[int] = native.areadinto(buffer, fd, offset)
        return result

    def _write(
        self, payload: Buffer, fd: int, offset: int = 0, priority: int = 0
    ) -> Awaitable[int]:
        native = self._serving()
        if native is None:
            return self._when_awaited("awrite", payload, fd, offset)
        result: Awaitable[int] = native.awrite(payload, fd, offset)
        return result

    def fsync(self, fd: int) -> Awaitable[None]:
        native = self._serving()
        if native is None:
            return self._when_awaited("afsync", fd)
        result: Awaitable[None] = native.afsync(fd)
        return result

    def fdsync(self, fd: int) -> Awaitable[None]:
        native = self._serving()
        if native is None:
            return self._when_awaited("afdsync", fd)
        result: Awaitable[None] = native.afdsync(fd)
        return result

    def close(self) -> None:
        if self._closed:
            return
        loop = self._loop
        if (
            self._reader_fd >= 0
            and loop is not None
            and not loop.is_closed()
            and self._generation == forks.generation()
        ):
            with contextlib.suppress(Exception):
                loop.remove_reader(self._reader_fd)
        self._reader_fd = -1
        super().close()
