"""The asyncio adapter on asyncio's own loop and on uvloop."""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import os
import sys
import threading
import time
from types import ModuleType

import pytest
from backends import Backend

from asyncfile.core._positional import pread, pwrite

pytestmark = pytest.mark.every_loop


async def test_round_trip(aio: ModuleType, fd: int) -> None:
    async with aio.AsyncioContext() as context:
        assert await context.read(32, fd, 0) == b""
        assert await context.write(b"Hello world", fd, 0) == 11
        assert await context.read(32, fd, 0) == b"Hello world"
        assert await context.fsync(fd) is None
        assert await context.fdsync(fd) is None


async def test_many_concurrent_operations_land_where_asked(
    aio: ModuleType, fd: int
) -> None:
    chunks = [os.urandom(4096) for _ in range(256)]
    async with aio.AsyncioContext(max_requests=16) as context:
        written = await asyncio.gather(
            *(context.write(chunk, fd, 4096 * i) for i, chunk in enumerate(chunks))
        )
        assert written == [4096] * 256
        read = await asyncio.gather(
            *(context.read(4096, fd, 4096 * i) for i in range(256))
        )
    assert read == chunks
    digest = hashlib.sha256(b"".join(chunks)).hexdigest()
    assert hashlib.sha256(pread(fd, 4096 * 256, 0)).hexdigest() == digest


async def test_max_requests_is_backpressure_not_an_error(
    aio: ModuleType, fd: int
) -> None:
    async with aio.AsyncioContext(max_requests=1) as context:
        results = await asyncio.gather(
            *(context.write(bytes([i]) * 100, fd, 100 * i) for i in range(40))
        )
        assert results == [100] * 40
        assert context.max_requests == 1
    assert pread(fd, 4000, 0) == b"".join(bytes([i]) * 100 for i in range(40))


async def test_cancelled_calls_leave_the_context_usable(
    aio: ModuleType, fd: int
) -> None:
    pwrite(fd, os.urandom(1 << 20), 0)
    async with aio.AsyncioContext(max_requests=4) as context:
        for _ in range(20):
            tasks = [
                asyncio.ensure_future(context.read(65536, fd, 65536 * i))
                for i in range(16)
            ]
            done, pending = await asyncio.wait(
                tasks, return_when=asyncio.FIRST_COMPLETED
            )
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                index = tasks.index(task)
                assert task.result() == pread(fd, 65536, 65536 * index)
        assert await context.read(5, fd, 0) == pread(fd, 5, 0)


async def test_created_outside_a_loop_binds_to_the_first_running_one(
    aio: ModuleType, fd: int
) -> None:
    holder: list[object] = []
    thread = threading.Thread(target=lambda: holder.append(aio.AsyncioContext()))
    thread.start()
    thread.join()
    context = holder[0]
    try:
        assert await context.write(b"late", fd, 0) == 4  # type: ignore[attr-defined]
        assert context.loop is asyncio.get_running_loop()  # type: ignore[attr-defined]
    finally:
        context.close()  # type: ignore[attr-defined]


async def test_using_a_context_from_another_loop_is_an_error(
    aio: ModuleType, fd: int
) -> None:
    async with aio.AsyncioContext() as context:

        def other_loop() -> None:
            async def use() -> None:
                await context.read(1, fd, 0)

            with pytest.raises(RuntimeError, match="another event loop"):
                asyncio.run(use())

        await asyncio.to_thread(other_loop)


def test_a_context_outlives_its_closed_loop(aio: ModuleType, fd: int) -> None:
    context = aio.AsyncioContext()
    try:
        assert asyncio.run(context.write(b"first", fd, 0)) == 5
        # asyncio.run closed that loop: the next one is served instead.
        assert asyncio.run(context.read(5, fd, 0)) == b"first"
    finally:
        context.close()


def test_constructing_outside_a_loop_does_not_create_one(aio: ModuleType) -> None:
    context = aio.AsyncioContext()
    try:
        with pytest.raises(RuntimeError, match="running event loop"):
            _ = context.loop
    finally:
        context.close()


async def test_submit_rejects_foreign_objects(aio: ModuleType) -> None:
    async with aio.AsyncioContext() as context:
        with pytest.raises(ValueError, match="expected"):
            await context.submit(object())


async def test_a_woken_task_runs_in_its_own_context(aio: ModuleType, fd: int) -> None:
    """Completions wake their tasks from the context's reader callback: each in
    the task's contextvars.Context, as a scheduled wake-up would run."""
    lane: contextvars.ContextVar[int] = contextvars.ContextVar("lane")

    async def sync_as(index: int) -> list[int]:
        lane.set(index)
        seen = []
        for _ in range(8):
            await context.fsync(fd)  # never a page-cache hit: always suspends
            seen.append(lane.get())
        return seen

    async with aio.AsyncioContext() as context:
        seen = await asyncio.gather(*(sync_as(i) for i in range(16)))
    assert seen == [[i] * 8 for i in range(16)]


async def test_completions_ready_at_once_leave_the_loop_its_turns(
    backend: Backend, aio: ModuleType, fd: int
) -> None:
    """Completions that are all ready at once wake their tasks for about a
    millisecond at a time: a callback the loop has ready runs between them.
    (A woken task that calls again may bring more completions in; delivering
    until none was left held the loop 23 ms in a cold stat of 10,000 files.)"""
    if not backend.native:
        pytest.skip(
            "the python backend's threads hand each completion to the loop with "
            "call_soon_threadsafe: asyncio runs every one that is ready in a turn"
        )
    loop = asyncio.get_running_loop()
    events: list[str] = []
    finished = False

    def tick() -> None:
        events.append("tick")
        if not finished:
            loop.call_soon(tick)

    async def sync_then_work() -> None:
        await context.fsync(fd)  # never a page-cache hit: always suspends
        events.append("woken")
        busy_until = time.perf_counter() + 0.0005
        while time.perf_counter() < busy_until:
            pass

    async with aio.AsyncioContext() as context:
        tasks = [asyncio.ensure_future(sync_then_work()) for _ in range(40)]
        await asyncio.sleep(0)  # each task has submitted its fsync
        # Held on purpose: they all complete while the loop waits.
        time.sleep(0.2)  # noqa: ASYNC251
        loop.call_soon(tick)
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=30)
        finished = True
    runs = "".join("w" if event == "woken" else " " for event in events).split()
    assert len(events) - events.count("tick") == 40
    # About two tasks fit in each millisecond; before, all 40 ran in one go.
    assert max(map(len, runs)) <= 8, [len(run) for run in runs]


async def test_calls_waiting_for_a_slot_start_as_slots_free(
    aio: ModuleType, fd: int
) -> None:
    """A call that found every slot taken starts once one frees, whichever
    loop callback delivers the completion that frees it: reads of cached
    pages that wait behind fsyncs complete at once when they start, more than
    one turn's budget can deliver, and the rest are delivered at the end of
    the turn.  (The calls still waiting were started only by the reader
    callback: with nothing left in flight to wake it, they waited forever.)"""
    pwrite(fd, b"x" * 4096, 0)

    async def read_then_work() -> bytes:
        data: bytes = await context.read(4096, fd, 0)
        busy_until = time.perf_counter() + 0.0005
        while time.perf_counter() < busy_until:
            pass
        return data

    async with aio.AsyncioContext(max_requests=4) as context:
        syncs = [asyncio.ensure_future(context.fsync(fd)) for _ in range(4)]
        reads = [asyncio.ensure_future(read_then_work()) for _ in range(40)]
        done = await asyncio.wait_for(asyncio.gather(*syncs, *reads), timeout=30)
    assert done == [None] * 4 + [b"x" * 4096] * 40


async def test_a_task_woken_by_a_completion_may_close_the_context(
    aio: ModuleType, fd: int
) -> None:
    async with aio.AsyncioContext() as context:

        async def sync_then_close() -> None:
            await context.fsync(fd)
            context.close()

        outcomes = await asyncio.gather(
            *(context.fsync(fd) for _ in range(8)),
            sync_then_close(),
            *(context.fsync(fd) for _ in range(8)),
            return_exceptions=True,
        )
    # Each finished, or saw the context closed under it; none hangs or leaks.
    for outcome in outcomes:
        assert outcome is None or isinstance(outcome, (OSError, RuntimeError)), outcome
    assert context.closed


async def test_cancelling_a_waiting_task_carries_the_message(
    aio: ModuleType, fd: int
) -> None:
    async def wait_on_a_future() -> None:
        await asyncio.get_running_loop().create_future()

    async with aio.AsyncioContext() as context:
        tasks = [
            asyncio.ensure_future(waiting)
            for waiting in (context.fsync(fd), wait_on_a_future())
        ]
        await asyncio.sleep(0)  # the tasks start and wait
        errors = []
        for task in tasks:
            task.cancel("enough")
            with pytest.raises(asyncio.CancelledError) as caught:
                await task
            errors.append(caught.value.args)
        # As for an asyncio.Future: the message, from Python 3.11 on.
        assert errors[0] == errors[1]
        assert errors[0] == ("enough",) or sys.version_info < (3, 11)
        assert await context.fsync(fd) is None


async def test_a_pending_native_call_waits_on_a_future(
    native_backend: Backend, fd: int
) -> None:
    """What a native call yields speaks asyncio's future protocol: Task,
    gather, wait and code that awaits it directly all rely on it."""
    async with native_backend.asyncio_module.AsyncioContext() as context:
        call = context.fsync(fd)  # never a page-cache hit: always suspends
        waiter = call.send(None)
        assert asyncio.isfuture(waiter)
        assert waiter.get_loop() is asyncio.get_running_loop()
        assert not waiter.done()
        with pytest.raises(asyncio.InvalidStateError):
            waiter.result()
        with pytest.raises(TypeError):
            waiter.add_done_callback()
        with pytest.raises(TypeError):
            waiter.add_done_callback(print, print)
        with pytest.raises(TypeError):
            waiter.add_done_callback(print, loop=None)
        seen: list[object] = []
        waiter.add_done_callback(seen.append)
        waiter.add_done_callback(seen.append, context=contextvars.copy_context())
        waiter.add_done_callback(print)
        assert waiter.remove_done_callback(print) == 1
        waiter._asyncio_future_blocking = False
        assert await waiter is None  # as `await future` gives its result
        await asyncio.sleep(0)  # callbacks of a settled waiter run soon after
        assert seen == [waiter, waiter]
        assert waiter.exception() is None
        with pytest.raises(StopIteration):
            call.send(None)  # the call returns the waiter's value
