"""Core calls started at once, awaited later: read-ahead without a task each.

A core call (``ctx.readinto(...)``) is a coroutine whose first step starts the
operation; a page-cache hit completes in that very step.  :class:`InFlightCall`
takes that step at construction, so a chunk reader can have ``depth`` reads
in flight and still pay nothing for the ones the page cache serves: no task,
no future, no loop turn.  A call that suspends is resumed when its future is
done, in the order the reader consumes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any, Generic, TypeVar

__all__ = ("InFlightCall",)

T = TypeVar("T")
_PENDING: Any = object()


class InFlightCall(Generic[T]):
    """A core call whose operation is already started, without a task.

    Guarantees: the call's first step runs in the constructor (or ran in the
    caller, see :meth:`stepped`), so its operation is under way before anyone
    awaits it, and a page-cache hit has completed already (:attr:`inline`;
    also :attr:`done`, unless the call still wants to give the loop a turn).
    :meth:`result` returns exactly what awaiting the call would have
    returned, or raises what it would have raised; cancelling :meth:`result`
    cancels the call.  :meth:`abandon` stops waiting: the call is cancelled,
    and a buffer it holds must not be reused (the kernel may still write
    into it).
    """

    __slots__ = ("_coro", "_error", "_value", "_yielded", "inline")

    def __init__(self, call: Awaitable[T], yielded: Any = _PENDING) -> None:
        self._coro: Any = call  # a coroutine: send, throw, close
        self._value: T = _PENDING
        self._error: BaseException | None = None
        self._yielded: Any = None
        if yielded is _PENDING:
            self._step()
        else:
            self._yielded = yielded
        #: Whether the first step completed the operation (a page-cache hit),
        #: even if the call still wants to give the loop a turn.
        self.inline = self.done or self._yielded is None

    @classmethod
    def stepped(cls, call: Awaitable[T], yielded: Any) -> InFlightCall[T]:
        """A call whose first step the caller took, and which yielded
        ``yielded`` (it did not return)."""
        return cls(call, yielded)

    @property
    def done(self) -> bool:
        """Whether the value (or the error) is known without awaiting."""
        return self._value is not _PENDING or self._error is not None

    def _step(self) -> None:
        try:
            self._yielded = self._coro.send(None)
        except StopIteration as stop:
            self._value = stop.value
        except BaseException as exc:  # kept for result(), raised there
            self._error = exc

    def value(self) -> T:
        """The value of a call that is :attr:`done` (or raise its error)."""
        if self._error is not None:
            error, self._error = self._error, None
            self._value = None  # type: ignore[assignment]
            raise error
        return self._value

    async def result(self) -> T:
        """The call's value, or its exception; waits for it if needed.

        A cancellation while waiting cancels the call (as awaiting it would)
        and propagates.
        """
        while not self.done:
            yielded = self._yielded
            if yielded is None:
                await asyncio.sleep(0)
            else:
                # The call yielded it to a task as blocking; we await it instead.
                yielded._asyncio_future_blocking = False
                try:
                    await yielded
                except asyncio.CancelledError:
                    if not yielded.done():
                        yielded.cancel()
                except Exception:
                    pass  # the call raises it itself when resumed
            self._step()
        return self.value()

    def abandon(self) -> None:
        """Stop waiting: a call not yet finished is cancelled (its operation
        may still complete in the kernel, into the buffer it holds)."""
        if self.done:
            return
        with contextlib.suppress(BaseException):  # nobody waits for it any more
            self._coro.throw(asyncio.CancelledError())
        self._error = asyncio.CancelledError()
        self._coro.close()
