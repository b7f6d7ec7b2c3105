"""The lock that serialises a file object's calls, and writes that cancellation
cannot tear."""

from __future__ import annotations

import asyncio

import pytest

from asyncfile._tasks import TaskLock, complete_despite_cancel, serialized


class Recorder:
    def __init__(self) -> None:
        self._lock = TaskLock()
        self.log: list[str] = []

    @serialized
    async def step(self, name: str, pauses: int = 3) -> str:
        self.log.append(f"{name}:start")
        for _ in range(pauses):
            await asyncio.sleep(0)
        self.log.append(f"{name}:end")
        return name

    @serialized
    async def outer(self) -> str:
        return await self.step("inner", 1)  # re-enters the lock it holds


async def test_calls_run_one_at_a_time_in_call_order() -> None:
    recorder = Recorder()
    results = await asyncio.gather(*(recorder.step(str(i)) for i in range(5)))
    assert results == [str(i) for i in range(5)]
    assert recorder.log == [
        f"{i}:{edge}" for i in range(5) for edge in ("start", "end")
    ]


async def test_a_method_may_call_another_of_the_same_object() -> None:
    recorder = Recorder()
    assert await asyncio.wait_for(recorder.outer(), 1) == "inner"


async def test_a_cancelled_waiter_does_not_block_the_next() -> None:
    recorder = Recorder()
    first = asyncio.ensure_future(recorder.step("first"))
    waiting = asyncio.ensure_future(recorder.step("cancelled"))
    last = asyncio.ensure_future(recorder.step("last"))
    await asyncio.sleep(0)
    waiting.cancel()
    assert await asyncio.wait_for(asyncio.gather(first, last), 1) == ["first", "last"]
    assert "cancelled:start" not in recorder.log


async def test_cancelled_right_when_handed_the_lock_passes_it_on() -> None:
    recorder = Recorder()
    first = asyncio.ensure_future(recorder.step("first", pauses=1))
    second = asyncio.ensure_future(recorder.step("second"))
    third = asyncio.ensure_future(recorder.step("third"))
    await asyncio.sleep(0)
    await first  # hands the lock to `second`, which has not resumed yet
    second.cancel()
    assert await asyncio.wait_for(third, 1) == "third"
    with pytest.raises(asyncio.CancelledError):
        await second


async def test_an_operation_completes_and_reports_despite_cancel() -> None:
    finished: list[int] = []

    async def slow_write() -> int:
        for _ in range(5):
            await asyncio.sleep(0)
        finished.append(42)
        return 42

    reported: list[int] = []

    async def caller() -> None:
        reported.append(await complete_despite_cancel(slow_write()))
        await asyncio.sleep(0)  # the cancellation lands here
        reported.append(-1)

    task = asyncio.ensure_future(caller())
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == [42]
    assert reported == [42]


async def test_errors_of_the_operation_propagate() -> None:
    async def failing() -> None:
        raise OSError(5, "Input/output error")

    with pytest.raises(OSError, match="Input/output"):
        await complete_despite_cancel(failing())
