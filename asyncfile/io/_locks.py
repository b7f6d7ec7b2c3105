"""The lock of a file object stack: its calls run one at a time.

:func:`serialized` makes the coroutine methods of one file object run one at a
time, in call order; a method may call another of the same object (the lock
is re-entrant for the task holding it).  What a cancelled call leaves behind
is :mod:`._cancellation`'s.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from ..contexts import asyncio_required, running_loop_or_none

__all__ = ("TaskLock", "current_task", "serialized")

T = TypeVar("T")
P = ParamSpec("P")


if sys.version_info >= (3, 12):
    # RuntimeError where no asyncio loop runs (TaskLock.try_acquire says more).
    from asyncio import current_task
else:  # asyncio's own current_task() is a Python function before 3.12
    from asyncio.tasks import _current_tasks  # type: ignore[attr-defined]

    def current_task() -> asyncio.Task[Any] | None:
        """The running task; AsyncioRequiredError where no asyncio loop runs."""
        loop = running_loop_or_none()
        if loop is None:
            raise asyncio_required()
        task: asyncio.Task[Any] | None = _current_tasks.get(loop)
        return task


class TaskLock:
    """A FIFO lock that the task holding it may take again.

    ``idle`` is true when no task holds it or waits for it: a method that
    then completes without suspending may skip taking it, since no other task
    can run before it returns.
    """

    __slots__ = ("_depth", "_owner", "_waiters")

    def __init__(self) -> None:
        #: The task holding the lock, or the waiter it was handed to until
        #: that waiter's task resumes; None when free.
        self._owner: asyncio.Future[Any] | None = None
        self._depth = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def idle(self) -> bool:
        # A waiter left while the lock is free was cancelled: it does not count.
        return self._owner is None

    def try_acquire(self) -> bool:
        """Take the lock without waiting if it is free or already this task's.
        :class:`~asyncfile.contexts.AsyncioRequiredError` where no asyncio
        loop runs (every serialised call starts here)."""
        try:
            task = current_task()
        except RuntimeError:
            raise asyncio_required() from None
        owner = self._owner
        if owner is None and not self._waiters:
            self._owner, self._depth = task, 1
            return True
        if owner is task:
            self._depth += 1
            return True
        if owner is not None and owner.get_loop().is_closed():
            # Its holder's loop closed under it: nothing can ever release it.
            self._waiters = deque(w for w in self._waiters if _alive(w))
            self._owner, self._depth = None, 0
            return self.try_acquire()
        return False

    async def acquire(self) -> None:
        if self.try_acquire():
            return
        task = current_task()
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release_to_next()  # it was handed to us: pass it on
            elif waiter in self._waiters:  # a release may have dropped it already
                self._waiters.remove(waiter)
            raise
        self._owner, self._depth = task, 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0:
            self._release_to_next()

    def _release_to_next(self) -> None:
        self._owner = None
        while self._waiters:
            waiter = self._waiters.popleft()
            if _alive(waiter):
                # Its task takes over when it resumes: the waiter holds it until then.
                self._owner = waiter
                waiter.set_result(None)
                return


def _alive(waiter: asyncio.Future[Any]) -> bool:
    """A waiter that can still be woken: not done, its loop not closed."""
    return not waiter.done() and not waiter.get_loop().is_closed()


class _HasLock(Protocol):
    _lock: TaskLock


S = TypeVar("S", bound=_HasLock)


def serialized(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """Run the coroutine method under the object's ``_lock``."""

    @functools.wraps(method)
    async def locked(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        lock = self._lock
        if not lock.try_acquire():
            await lock.acquire()
        try:
            return await method(self, *args, **kwargs)
        finally:
            lock.release()

    return locked
