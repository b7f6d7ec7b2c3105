"""close(): resources go at once, later calls fail at once, nothing hangs."""

from __future__ import annotations

import asyncio
import errno
import gc
import os
import threading
import weakref
from pathlib import Path
from types import ModuleType

import pytest
from backends import Backend, run_to_completion
from mounts import skip_if_memory_backed
from platforms import ADVICE

from asyncfile.core import AIOError, python_aio
from asyncfile.core._positional import pread, pwrite


def test_submit_after_close_raises(backend: Backend, fd: int) -> None:
    context = backend.module.Context()
    context.close()
    context.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        context.submit(backend.module.Operation.write(b"x", fd, 0))
    assert os.fstat(fd).st_size == 0


def test_python_close_fails_unstarted_operations_and_finishes_running_ones(
    fd: int,
) -> None:
    # python_aio runs callbacks on its worker, so one can hold the worker busy.
    context = python_aio.Context(max_requests=64, pool_size=1)
    release = threading.Event()
    started = threading.Event()
    outcomes: list[int] = []

    def block(result: int) -> None:
        started.set()
        release.wait(5)

    first = python_aio.Operation.write(b"first", fd, 0)
    first.set_callback(block)
    queued = [python_aio.Operation.write(b"later", fd, 5 * i) for i in range(1, 20)]
    for operation in queued:
        operation.set_callback(outcomes.append)
    context.submit(first, *queued)
    assert started.wait(5)
    closer = threading.Thread(target=context.close)
    closer.start()
    release.set()
    closer.join(5)
    assert not closer.is_alive(), "close() hung"
    assert first.get_value() == 5
    assert pread(fd, 5, 0) == b"first"
    assert outcomes == [-errno.ECANCELED] * len(queued)
    for operation in queued:
        with pytest.raises(AIOError) as caught:
            operation.get_value()
        assert caught.value.errno == errno.ECANCELED
    assert os.fstat(fd).st_size == 5, "a cancelled write reached the file"


def test_close_leaves_every_operation_done_or_cancelled_never_torn(
    backend: Backend, fd: int
) -> None:
    context = backend.module.Context(max_requests=256)
    operations = [
        backend.module.Operation.write(bytes([i + 1]) * 4096, fd, 4096 * i)
        for i in range(200)
    ]
    assert context.submit(*operations) == 200
    context.close()
    for index, operation in enumerate(operations):
        on_disk = pread(fd, 4096, 4096 * index)
        if operation.error:
            assert operation.error == errno.ECANCELED
            assert on_disk in (b"", bytes(4096)), f"cancelled write {index} landed"
        else:
            assert operation.get_value() == 4096
            assert on_disk == bytes([index + 1]) * 4096


def test_garbage_collected_context_releases_its_threads(
    backend: Backend, fd: int
) -> None:
    context = backend.module.Context()
    run_to_completion(context, backend.module.Operation.write(b"x", fd, 0))
    reference = weakref.ref(context)
    del context
    gc.collect()
    assert reference() is None
    # the no_leaks fixture fails the test if a worker thread survives


async def test_asyncio_context_close_is_immediate_for_later_calls(
    aio: ModuleType, fd: int
) -> None:
    context = aio.AsyncioContext()
    assert await context.write(b"abc", fd, 0) == 3
    context.close()
    context.close()
    assert context.closed
    for call in (
        lambda: context.read(1, fd, 0),
        lambda: context.write(b"x", fd, 0),
        lambda: context.fsync(fd),
    ):
        with pytest.raises(RuntimeError, match="closed"):
            await asyncio.wait_for(call(), 1)


@ADVICE.mark
async def test_pending_calls_fail_rather_than_hang_on_close(
    aio: ModuleType, fd: int, tmp_path: Path
) -> None:
    skip_if_memory_backed(tmp_path, "every read completes before close()")
    stride = 16 * 1024
    # Enough reads that a fast disk cannot serve them all in one loop turn:
    # the close() below must find some still queued.
    count = 400
    pwrite(fd, os.urandom(count * stride), 0)
    # Out of the page cache, and no read-ahead bringing pages back, so that no
    # read can finish inline before close().
    os.fdatasync(fd)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_RANDOM)
    context = aio.AsyncioContext(max_requests=2)
    tasks = [
        asyncio.ensure_future(context.read(4096, fd, stride * i)) for i in range(count)
    ]
    await asyncio.sleep(0)
    context.close()
    results = await asyncio.wait_for(
        asyncio.gather(*tasks, return_exceptions=True), timeout=5
    )
    failures = [r for r in results if isinstance(r, BaseException)]
    successes = [r for r in results if isinstance(r, bytes)]
    assert failures, "close() let every queued call run"
    assert len(failures) + len(successes) == count
    for failure in failures:
        assert isinstance(failure, RuntimeError | OSError), failure
        if isinstance(failure, OSError):
            assert failure.errno == errno.ECANCELED
    for index, data in enumerate(results):
        if isinstance(data, bytes):
            assert data == pread(fd, 4096, stride * index)
