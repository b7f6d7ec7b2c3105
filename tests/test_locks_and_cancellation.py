"""The lock that serialises a file object's calls, and writes that cancellation
cannot tear."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from mounts import skip_if_memory_backed
from platforms import PROC

from asyncfile import contexts
from asyncfile.core._positional import pread
from asyncfile.file import open as aopen
from asyncfile.io._cancellation import complete_despite_cancel
from asyncfile.io._locks import TaskLock, serialized


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


async def test_a_core_call_holds_a_cancellation_back_until_it_completes(
    native_backend: Backend, tmp_path: Path
) -> None:
    skip_if_memory_backed(tmp_path, "a write there may complete before any cancel")
    context = native_backend.asyncio_module.AsyncioContext()
    data = os.urandom(64 << 20)
    fd = os.open(tmp_path / "f", os.O_RDWR | os.O_CREAT)
    outcome: list[object] = []

    async def writer() -> None:
        call = context.write(data, fd, 0).despite_cancel()
        outcome.append(await call)
        outcome.append(call.deferred_cancel)

    try:
        task = asyncio.create_task(writer())
        await asyncio.sleep(0)  # the write starts and waits for the kernel
        assert not task.done(), "the write completed before it could be cancelled"
        task.cancel("stop")
        await task  # the call swallowed the cancellation: the caller delivers it
        count, held_back = outcome
        assert count == len(data)
        assert isinstance(held_back, asyncio.CancelledError)
        assert held_back.args == ("stop",)
        assert pread(fd, len(data), 0) == data
    finally:
        os.close(fd)
        context.close()


async def test_a_cancelled_writer_stops_before_its_next_write(
    backend: Backend, tmp_path: Path
) -> None:
    skip_if_memory_backed(tmp_path, "its writes may never suspend")
    context = contexts.get_context(backend.name)
    chunk = b"x" * (1 << 20)
    written = 0

    async def writer() -> None:
        nonlocal written
        async with await aopen(tmp_path / "f", "wb", 0, context=context) as f:
            for _ in range(200):
                await f.write(chunk)
                written += 1

    task = asyncio.create_task(writer())
    for _ in range(10_000):
        if written >= 3:
            break
        await asyncio.sleep(0)
    assert not task.done()
    task.cancel()
    at_cancel = written
    with pytest.raises(asyncio.CancelledError):
        await task
    # The write under way completes and is reported; none starts after it.
    assert written in (at_cancel, at_cancel + 1)
    assert (tmp_path / "f").stat().st_size == written * len(chunk)


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout() is 3.11's")
async def test_a_timeout_during_a_write_is_a_timeout_error(
    backend: Backend, tmp_path: Path
) -> None:
    context = contexts.get_context(backend.name)
    data = os.urandom(64 << 20)
    reported: list[int] = []

    async def write_then_wait(f: Any) -> None:
        async with asyncio.timeout(0.001):  # type: ignore[attr-defined]
            reported.append(await f.write(data))
            await asyncio.sleep(10)

    async with await aopen(tmp_path / "f", "wb", 0, context=context) as f:
        with pytest.raises(TimeoutError):
            await write_then_wait(f)
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
    assert reported == [len(data)]
    assert (tmp_path / "f").read_bytes() == data


async def test_close_writes_what_was_reported_despite_a_held_back_cancel(
    backend: Backend, tmp_path: Path
) -> None:
    skip_if_memory_backed(tmp_path, "its writes may never suspend")
    context = contexts.get_context(backend.name)
    path = tmp_path / "f"
    body, tail = os.urandom(64 << 20), b"tail"
    in_body = asyncio.Event()
    reported: list[bytes] = []

    async def writer() -> None:
        f = await aopen(path, "wb", context=context)
        try:
            in_body.set()
            await f.write(body)  # straight to the file: cancelled meanwhile
            reported.append(body)
            await f.write(tail)  # only fills the buffer
            reported.append(tail)
        finally:
            await f.close()  # its flush starts although the cancel is pending

    task = asyncio.create_task(writer())
    await in_body.wait()
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert reported == [body, tail]
    assert path.read_bytes() == body + tail


async def test_an_open_meeting_a_held_back_cancel_leaves_no_descriptor(
    backend: Backend, tmp_path: Path
) -> None:
    skip_if_memory_backed(tmp_path, "its writes may never suspend")
    context = contexts.get_context(backend.name)
    in_write = asyncio.Event()
    opened: list[Any] = []
    before = set(os.listdir("/proc/self/fd")) if PROC.present else None

    async def writer() -> None:
        async with await aopen(tmp_path / "a", "wb", 0, context=context) as f:
            in_write.set()
            await f.write(os.urandom(64 << 20))  # cancelled meanwhile
            # The held-back cancellation lands at the open or after it: an
            # open it interrupts closes the descriptor it made (the core's
            # request, or the thread's, once done); one it does not is
            # handed over.
            opened.append(await aopen(tmp_path / "b", "wb", context=context))
            await asyncio.sleep(10)

    task = asyncio.create_task(writer())
    await in_write.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for file in opened:
        await file.close()
    if before is None:
        return
    # A pool's or thread's open or close still under way ends soon.
    for _ in range(100):
        left = set(os.listdir("/proc/self/fd")) - before
        if not left:
            break
        await asyncio.sleep(0.05)
    assert not left, [_target(fd) for fd in left]


def _target(fd: str) -> str:
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError as exc:
        return str(exc)
