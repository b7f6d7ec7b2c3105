"""Lifecycles under stress: locks and cancellation, closing with operations
pending, descriptors closed under operations, loops closed with operations
pending, forked children using their parent's files, many loops at once."""

from __future__ import annotations

import asyncio

from asyncfile._tasks import TaskLock


async def test_task_lock_waiter_cancelled_then_dropped_by_a_release() -> None:
    """A waiter cancelled and then skipped by a release in the same loop turn
    was removed twice: acquire raised ValueError instead of CancelledError
    (found by scripts/soak)."""
    lock = TaskLock()
    await lock.acquire()
    first = asyncio.ensure_future(lock.acquire())
    second = asyncio.ensure_future(lock.acquire())
    await asyncio.sleep(0)
    first.cancel()
    lock.release()  # before `first` runs: drops its cancelled waiter
    await asyncio.wait([first, second])
    assert first.cancelled()
    assert second.result() is None
    lock.release()
    await asyncio.wait_for(lock.acquire(), 1)
