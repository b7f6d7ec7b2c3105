"""The asyncio adapter: awaitable reads and writes over any backend's Context."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from . import forks
from .abstract import AbstractContext, AbstractOperation

if TYPE_CHECKING:
    from typing_extensions import Buffer, Self

__all__ = ("AsyncioContextBase", "CachedReader")

CachedReader = Callable[[int, int, int], "bytes | Literal[False] | None"]
"""``cached_reader()``'s function: ``(nbytes, fd, offset)`` to the bytes,
False (ask again after a loop turn) or None (await ``read``)."""


class AsyncioContextBase:
    """Awaitable operations on one event loop.

    The context binds to the loop given, or else to the loop running when it is
    created or first used; using it from another loop raises ``RuntimeError``,
    unless the bound loop is closed (then it serves the running one).
    At most ``max_requests`` operations are in flight: more wait their turn.
    After :meth:`close`, every call raises ``RuntimeError`` at once, and the
    operations still pending complete with an error.
    """

    MAX_REQUESTS_DEFAULT: ClassVar[int] = 512
    CONTEXT_CLASS: ClassVar[type[AbstractContext]]
    OPERATION_CLASS: ClassVar[type[AbstractOperation]]

    def __init__(
        self,
        max_requests: int | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        **context_options: Any,
    ) -> None:
        self._closed = True
        max_requests = max_requests or self.MAX_REQUESTS_DEFAULT
        if loop is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._generation = forks.generation()
        self._max_requests = max_requests
        self._in_flight = 0
        self._slot_waiters: deque[asyncio.Future[None]] = deque()
        self.context = self._create_context(max_requests, **context_options)
        self._closed = False
        if loop is not None:
            self._loop = loop
            self._on_bound(loop)

    def _create_context(self, max_requests: int, **options: Any) -> AbstractContext:
        return self.CONTEXT_CLASS(max_requests=max_requests, **options)  # type: ignore[call-arg]

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The event loop this context serves (the running one, once used)."""
        return self._bind_loop()

    @property
    def max_requests(self) -> int:
        return self._max_requests

    @property
    def closed(self) -> bool:
        return self._closed

    async def __aenter__(self) -> Self:
        self._bind_loop()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the backend's resources at once; pending operations fail."""
        if self._closed:
            return
        self._closed = True
        waiters, self._slot_waiters = self._slot_waiters, deque()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(RuntimeError("AsyncioContext is closed"))
        self.context.close()

    def read(
        self, nbytes: int, fd: int, offset: int = 0, priority: int = 0
    ) -> Awaitable[bytes]:
        """Read up to ``nbytes`` at ``offset``; fewer only at end of file."""
        return self.submit(self.OPERATION_CLASS.read(nbytes, fd, offset, priority))  # type: ignore[return-value]

    def cached_reader(self) -> CachedReader | None:
        """A function ``(nbytes, fd, offset)`` that returns what ``read`` would
        give if the page cache has it and the running loop may take it now;
        False when the loop must run first (then ask again after a loop
        turn, e.g. ``await asyncio.sleep(0)``); else None (then ``read`` must
        be awaited).  It answers only while this context serves the running
        loop.  None when the backend has no such function (only the native
        ones read without a thread)."""
        return None

    def filesystem(self) -> Any:
        """The native context that runs filesystem calls for the running loop
        (its ``aopenat``, ``astat``, ... methods), or None when this backend
        has none (the python backend: ``os`` on threads serves then)."""
        return None

    def readinto(
        self, buffer: Buffer, fd: int, offset: int = 0, priority: int = 0
    ) -> Awaitable[int]:
        """Fill ``buffer`` from ``offset``; the count is short only at end of file."""
        return self.submit(  # type: ignore[return-value]
            self.OPERATION_CLASS.readinto(buffer, fd, offset, priority)
        )

    def write(
        self, payload: Buffer, fd: int, offset: int = 0, priority: int = 0
    ) -> Awaitable[int]:
        """Write all of ``payload`` at ``offset``; return the count written."""
        return self.submit(  # type: ignore[return-value]
            self.OPERATION_CLASS.write(payload, fd, offset, priority)
        )

    def fsync(self, fd: int) -> Awaitable[None]:
        """Flush ``fd``'s data and metadata to the device."""
        return self.submit(self.OPERATION_CLASS.fsync(fd))  # type: ignore[return-value]

    def fdsync(self, fd: int) -> Awaitable[None]:
        """Flush ``fd``'s data to the device."""
        return self.submit(self.OPERATION_CLASS.fdsync(fd))  # type: ignore[return-value]

    async def submit(self, op: AbstractOperation) -> bytes | int | None:
        """Run ``op`` and return its value; a cancelled wait cancels the operation
        if it has not started (otherwise it completes in the background)."""
        if not isinstance(op, self.OPERATION_CLASS):
            raise ValueError(
                f"{self.OPERATION_CLASS.__qualname__} expected, got {op!r}"
            )
        loop = self._bind_loop()
        self._check_open()
        while self._in_flight >= self._max_requests:
            await self._wait_for_slot(loop)
        future: asyncio.Future[None] = loop.create_future()
        op.set_callback(self._completion_callback(loop, future))
        self._in_flight += 1
        try:
            self.context.submit(op)
        except BaseException:
            self._release_slot()
            raise
        try:
            await future
        except asyncio.CancelledError:
            if not self._closed:
                self.context.cancel(op)
            raise
        return op.get_value()

    def _completion_callback(
        self, loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]
    ) -> Any:
        """The callback the backend calls, from any thread, when ``op`` is done."""

        def on_done_in_loop() -> None:
            self._release_slot()
            if not future.done():
                future.set_result(None)

        def on_done(result: int) -> None:
            # A closed loop raises RuntimeError: nobody is waiting any more.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(on_done_in_loop)

        return on_done

    async def _wait_for_slot(self, loop: asyncio.AbstractEventLoop) -> None:
        waiter: asyncio.Future[None] = loop.create_future()
        self._slot_waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake_next_waiter()
            raise
        finally:
            if waiter in self._slot_waiters:
                self._slot_waiters.remove(waiter)
        self._check_open()

    def _release_slot(self) -> None:
        self._in_flight -= 1
        self._wake_next_waiter()

    def _wake_next_waiter(self) -> None:
        while self._slot_waiters and self._in_flight < self._max_requests:
            waiter = self._slot_waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def serves_running_loop(self) -> bool:
        """Whether the context is open, made (or rebuilt) after the last fork,
        and bound to the event loop running now in this thread.  The native
        backends answer in C (the same rules, for their C paths too)."""
        return (
            not self._closed
            and self._generation == forks.generation()
            and self._loop is not None
            and self._loop is asyncio._get_running_loop()
        )

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        running = asyncio._get_running_loop()
        if running is None:
            if self._loop is None:
                raise RuntimeError("AsyncioContext needs a running event loop or loop=")
            return self._loop
        generation = forks.generation()
        if running is self._loop and self._generation == generation:
            return running
        if self._generation != generation:
            # A forked child never uses its parent's loop: serve the child's.
            self._generation = generation
            self._forget_loop()
        elif self._loop is not None and self._loop.is_closed():
            # Nothing can wait on a closed loop any more: serve the running one.
            self._forget_loop()
        if self._loop is None:
            self._loop = running
            self._on_bound(running)
        elif running is not self._loop:
            raise RuntimeError("AsyncioContext is bound to another event loop")
        return running

    def _forget_loop(self) -> None:
        """Drop the bound loop and what waited on it (it will never run again)."""
        self._loop = None
        self._in_flight = 0
        self._slot_waiters.clear()

    def _on_bound(self, loop: asyncio.AbstractEventLoop) -> None:
        """Called when the context starts serving ``loop``."""

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("AsyncioContext is closed")

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._in_flight} in flight"
        return f"<{type(self).__module__}.{type(self).__qualname__} {state}>"
