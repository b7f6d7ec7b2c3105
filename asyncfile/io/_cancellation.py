"""Writes that cancellation cannot tear.

:func:`complete_despite_cancel` lets an operation that may already be in the
kernel finish, reports its result, and delivers the cancellation at the task's
next suspension instead; :func:`runs_to_the_end` lets ``close()`` write what
was reported written before that cancellation arrives.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sys
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from ._locks import current_task

__all__ = ("complete_despite_cancel", "runs_to_the_end")

T = TypeVar("T")
P = ParamSpec("P")


_held_back: weakref.WeakSet[asyncio.Task[Any]] = weakref.WeakSet()
"""Tasks whose cancellation an operation held back, and that may not have
received it yet."""

_closing: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "asyncfile_closing", default=False
)
"""True while a :func:`runs_to_the_end` method runs."""


async def complete_despite_cancel(operation: Awaitable[T]) -> T:
    """Await ``operation`` to the end even if the caller is cancelled meanwhile.

    The result is returned as usual; a cancellation that arrived is delivered
    again at the caller's next suspension (or when its task ends), so the
    caller's state always reflects an operation that either did not start or
    completed.  It still counts as the one request it was, for
    ``asyncio.timeout()`` and task groups, and the next such operation does not
    start before it is delivered (except inside :func:`runs_to_the_end`).
    """
    if _held_back and not _closing.get() and not asyncio.isfuture(operation):
        # A future (an executor job) runs already: it is waited out below.
        await _take_held_back_cancel(operation)
    despite_cancel = getattr(operation, "despite_cancel", None)
    if despite_cancel is not None:
        # The core's own calls hold a cancellation back themselves: no task,
        # no shield, and no loop turns for them.
        call = despite_cancel()
        result: T = await call
        _deliver_later(call.deferred_cancel)
        return result
    future = asyncio.ensure_future(operation)
    held_back: asyncio.CancelledError | None = None
    while True:
        try:
            result = await asyncio.shield(future)
            break
        except asyncio.CancelledError as cancellation:
            if future.cancelled():
                raise  # the operation itself was cancelled (its loop is closing)
            held_back = held_back or cancellation
    _deliver_later(held_back)
    return result


async def _take_held_back_cancel(operation: Awaitable[Any]) -> None:
    """Let a cancellation held back for this task arrive before ``operation``
    (not started yet) starts; it is then closed, never awaited."""
    task = current_task()
    if task is None or task not in _held_back:
        return
    _held_back.discard(task)
    try:
        await asyncio.sleep(0)  # where the held-back cancellation arrives
    except BaseException:
        close = getattr(operation, "close", None)
        if close is not None:
            close()  # no "never awaited" warning
        raise


def runs_to_the_end(
    method: Callable[P, Coroutine[Any, Any, T]],
) -> Callable[P, Coroutine[Any, Any, T]]:
    """For ``close()``: the operations it makes start even if a cancellation
    that an earlier one held back has not reached the task yet, so that what
    was reported written is written; the cancellation arrives after."""

    @functools.wraps(method)
    async def to_the_end(*args: P.args, **kwargs: P.kwargs) -> T:
        token = _closing.set(True)
        try:
            return await method(*args, **kwargs)
        finally:
            _closing.reset(token)

    return to_the_end


def _deliver_later(cancellation: BaseException | None) -> None:
    """Cancel the running task again with ``cancellation``'s message, as the
    same request (it was counted when it was made)."""
    if cancellation is None:
        return
    task = current_task()
    if task is None:
        return
    if sys.version_info >= (3, 11):
        task.uncancel()
    task.cancel(cancellation.args[0] if cancellation.args else None)
    _held_back.add(task)
