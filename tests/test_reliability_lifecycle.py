"""Lifecycles under stress: locks and cancellation, closing with operations
pending, descriptors closed under operations, loops closed with operations
pending, forked children using their parent's files, many loops at once."""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from backends import BACKENDS, Backend, clean_env
from platforms import ADVICE, FORK, PROC

import asyncfile
import asyncfile.core as core
from asyncfile import contexts
from asyncfile.io._locks import TaskLock


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


async def test_closing_a_file_with_calls_pending_lets_them_finish(
    backend: Backend, tmp_path: Path
) -> None:
    path = tmp_path / "f"
    data = os.urandom(1 << 20)
    path.write_bytes(data)
    context = contexts.get_context(backend.name)
    f = await asyncfile.open(path, "r+b", context=context)
    reads = [asyncio.ensure_future(f.read(1 << 16)) for _ in range(8)]
    write = asyncio.ensure_future(f.write(b"late"))
    closing = asyncio.ensure_future(f.close())
    again = asyncio.ensure_future(f.close())
    results = await asyncio.wait_for(asyncio.gather(*reads, write), 10)
    await asyncio.wait_for(asyncio.gather(closing, again), 10)
    assert b"".join(results[:8]) == data[: 8 << 16]  # in call order
    assert results[8] == 4
    assert f.closed
    with pytest.raises(ValueError, match="closed file"):
        await f.read(1)
    await f.close()
    assert path.read_bytes()[8 << 16 : (8 << 16) + 4] == b"late"


@ADVICE.mark
async def test_a_descriptor_closed_under_pending_reads(
    aio: ModuleType, tmp_path: Path
) -> None:
    """Each read returns the right bytes or fails with EBADF; none hangs."""
    path = tmp_path / "f"
    data = os.urandom(8 << 20)
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    async with aio.AsyncioContext() as context:
        tasks = [
            asyncio.ensure_future(context.read(4096, fd, i * 65536)) for i in range(128)
        ]
        await asyncio.sleep(0)
        os.close(fd)
        results = await asyncio.wait_for(
            asyncio.gather(*tasks, return_exceptions=True), 10
        )
    for index, result in enumerate(results):
        if isinstance(result, OSError):
            assert result.errno == errno.EBADF, result
        else:
            assert result == data[index * 65536 : index * 65536 + 4096]


LOOP_CLOSED_SCRIPT = """
import asyncio, gc, os, sys, threading
import asyncfile
from asyncfile import contexts

path = sys.argv[1]
WITH_FILE_CALL = sys.argv[2] == "file"
fd = os.open(path, os.O_RDWR)

def count():
    gc.collect()
    # A closed loop's default executor stops its threads without waiting.
    for thread in threading.enumerate():
        if thread.name.startswith("asyncio"):
            thread.join(10)
    return len(os.listdir("/proc/self/fd")), threading.active_count()

async def start():
    context = contexts.get_context()
    f = await asyncfile.open(path, "rb")
    tasks = [asyncio.ensure_future(context.read(4096, fd, i * 4096)) for i in range(64)]
    if WITH_FILE_CALL:
        tasks.append(asyncio.ensure_future(f.read()))
    tasks.append(asyncio.ensure_future(context.write(b"w", fd, 0)))
    await asyncio.sleep(0)
    return f, tasks

async def use():
    return await contexts.get_context().read(4, fd, 1)

asyncio.run(use())
before = count()
for _ in range(20):
    loop = asyncio.new_event_loop()
    f, tasks = loop.run_until_complete(start())
    loop.close()  # with the operations still pending
    asyncio.run(f.close())
    del f, tasks
after = count()
assert asyncio.run(use()) == b"0123"[1:] + b"4", "a later loop cannot read"
print("leak" if after != before else "ok", before, after)
"""


def _run_loop_closed_script(backend: Backend, path: Path, which: str) -> Any:
    path.write_bytes(b"0123456789" * 100_000)
    return subprocess.run(
        [sys.executable, "-c", LOOP_CLOSED_SCRIPT, str(path), which],
        env=clean_env(CAIO_IMPL=backend.name),
        capture_output=True,
        text=True,
        timeout=60,  # generous: the sanitizer build on a busy machine is slow
        check=False,
    )


def test_closing_a_file_whose_loop_closed_with_a_call_pending(tmp_path: Path) -> None:
    """The call's lock dies with its loop: close() in a later loop works."""
    process = _run_loop_closed_script(BACKENDS[0], tmp_path / "f", "file")
    assert process.returncode == 0, process.stderr[-3000:]


def test_closing_a_loop_with_operations_pending_leaks_nothing(
    backend: Backend, tmp_path: Path
) -> None:
    process = _run_loop_closed_script(backend, tmp_path / "f", "core")
    assert process.returncode == 0, process.stderr[-3000:]
    assert process.stdout.startswith("ok"), process.stdout


FORK_SCRIPT = """
import asyncio, os, sys
import asyncfile

async def parent():
    f = await asyncfile.open(sys.argv[1], "r+b")
    await f.write(b"parent ")
    await f.flush()
    return f

f = asyncio.run(parent())
pid = os.fork()
if pid == 0:
    async def child():
        assert await f.pread(7, 0) == b"parent "
        await f.pwrite(b"child", 100)
        await f.close()
    try:
        asyncio.run(child())
    except BaseException as exc:
        print("child failed:", repr(exc), flush=True)
        os._exit(1)
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, "the child failed"

async def after():
    assert await f.pread(5, 100) == b"child"
    await f.write(b"again")
    await f.close()
asyncio.run(after())
with open(sys.argv[1], "rb") as check:
    assert check.read(12) == b"parent again", "the parent's position moved"
print("ok")
"""


@FORK.mark
def test_a_forked_child_uses_its_parents_file_objects(
    backend: Backend, tmp_path: Path
) -> None:
    path = tmp_path / "shared"
    path.write_bytes(b"")
    process = subprocess.run(
        [sys.executable, "-c", FORK_SCRIPT, str(path)],
        env=clean_env(CAIO_IMPL=backend.name),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr[-3000:]
    assert process.stdout.strip() == "ok"


@PROC.mark
def test_many_loops_in_many_threads_at_once_leak_nothing(fd: int) -> None:
    """Eight threads each run 50 loops, each with its own contexts."""
    errors: list[BaseException] = []
    descriptors_before = len(os.listdir("/proc/self/fd"))

    def run(index: int) -> None:
        async def use(round_: int) -> None:
            for name in (n for n in core.BACKENDS if n not in core.unavailable):
                context = contexts.get_context(name)
                offset = (index * 50 + round_) * 8
                await context.write(offset.to_bytes(8, "big"), fd, offset)

        try:
            for round_ in range(50):
                asyncio.run(use(round_))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert len(os.listdir("/proc/self/fd")) == descriptors_before
    data = os.pread(fd, 400 * 8, 0)
    for offset in range(0, 400 * 8, 8):
        assert int.from_bytes(data[offset : offset + 8], "big") == offset
