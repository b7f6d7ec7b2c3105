"""asyncfile.open opens and closes through the core: no default executor on the
native backends, built-in open's exceptions, O_CLOEXEC, opener= on a thread,
and no descriptor left behind by a cancelled open."""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from mounts import file_system_type
from platforms import PROC

import asyncfile
from asyncfile.contexts import close_contexts


class CountingExecutor(concurrent.futures.ThreadPoolExecutor):
    """A default executor that records what it is asked to run."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.calls: list[Any] = []

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        self.calls.append(fn)
        return super().submit(fn, *args, **kwargs)


async def test_open_read_close_use_no_default_executor_on_native_backends(
    selected: Backend, tmp_path: Path
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"payload")
    executor = CountingExecutor()
    asyncio.get_running_loop().set_default_executor(executor)
    for mode in ("rb", "r", "r+b", "wb", "xb"):
        target = tmp_path / f"new-{mode}" if "x" in mode else path
        async with asyncfile.open(target, mode) as file:
            assert not os.get_inheritable(file.fileno())
            if mode in ("rb", "r"):
                assert await file.read() in (b"payload", "payload")
    if selected.native:
        assert executor.calls == []
    else:
        assert executor.calls, "the python backend opens on threads"
    close_contexts()


@pytest.mark.parametrize(
    ("make", "mode"),
    [
        (lambda root: root / "missing", "rb"),
        (lambda root: root / "dir", "wb"),
        (lambda root: root / "file" / "below", "rb"),
        (lambda root: root / "file", "xb"),
        (lambda root: root / ("n" * 300), "rb"),
        (lambda root: os.fsencode(root / "missing"), "rb"),
        (lambda root: str(root / "missing"), "r"),
    ],
)
async def test_open_raises_what_open_raises(
    selected: Backend, tmp_path: Path, make: Any, mode: str
) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_bytes(b"x")
    target = make(tmp_path)
    with pytest.raises(OSError) as expected:  # noqa: PT011 (compared below)
        open(target, mode).close()  # noqa: ASYNC230 (the reference, on purpose)
    with pytest.raises(OSError) as actual:  # noqa: PT011
        async with asyncfile.open(target, mode):
            pass
    assert type(actual.value) is type(expected.value)
    assert actual.value.args == expected.value.args
    assert actual.value.filename == expected.value.filename
    close_contexts()


async def test_opener_runs_on_a_thread_as_io_calls_it(
    selected: Backend, tmp_path: Path
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"through the opener")
    seen: list[tuple[object, int]] = []

    def opener(name: str, flags: int) -> int:
        seen.append((name, threading.get_ident()))
        return os.open(name, flags)

    async with asyncfile.open(path, "rb", opener=opener) as file:
        assert await file.read() == b"through the opener"
    assert seen[0][0] == str(path)
    assert seen[0][1] != threading.get_ident()
    close_contexts()


@PROC.mark
@pytest.mark.parametrize("mode", ["rb", "ab"])
async def test_a_cancelled_open_leaves_no_descriptor(
    selected: Backend, tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"x" * 100)

    async def open_and_close() -> None:
        file = await asyncfile.open(path, mode)
        await file.close()

    await open_and_close()  # the context and its wake-up exist before counting
    before = set(os.listdir("/proc/self/fd"))
    cancelled = 0
    for _ in range(100):
        task = asyncio.ensure_future(open_and_close())
        await asyncio.sleep(0)
        cancelled += task.cancel()
        await asyncio.wait([task])
    await asyncio.sleep(0.3)  # what the pool or threads still run finishes
    # The native core opens a cached file to read, and closes it, on the
    # loop: nothing to cancel.  An open that may create goes to the pool, or
    # to io_uring, which on a memory-backed file system may complete it (and
    # the close) at submission, within the task's first step.
    memory_backed = file_system_type(tmp_path) in ("tmpfs", "ramfs")
    assert (
        cancelled > 0
        or (mode == "rb" and selected.native)
        or (selected.name == "uring" and memory_backed)
    )
    assert set(os.listdir("/proc/self/fd")) == before
    close_contexts()
