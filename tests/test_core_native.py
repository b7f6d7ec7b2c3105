"""What the native core promises beyond caio's API, on ext4 and on tmpfs.

Inline completion of page-cache hits, the loop's turn once the inline budget is
spent, one submission per loop turn, buffers held until completion, big reads
in steps on the pool (python_aio's threads too), the pool growing with depth,
the GIL released while waiting, fork, and resources freed by close() or by the
garbage collector.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import gc
import hashlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from backends import ONLY_BACKEND, Backend, run_to_completion
from mounts import skip_if_memory_backed

import asyncfile.core as core

KiB = 1024
SHM = Path("/dev/shm")


@pytest.fixture(params=["ext4", "tmpfs"])
def filesystem_dir(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """A fresh directory on ext4 (the default file system here) or on tmpfs."""
    if request.param == "ext4":
        yield tmp_path
        return
    if not SHM.is_dir():
        pytest.skip("no tmpfs at /dev/shm on this machine")
    directory = SHM / f"asyncfile-{os.getpid()}-{tmp_path.name}"
    directory.mkdir()
    try:
        yield directory
    finally:
        for child in directory.iterdir():
            child.unlink()
        directory.rmdir()


@pytest.fixture
def cached_fd(filesystem_dir: Path) -> Iterator[int]:
    """A descriptor on a 4 MiB file whose pages are all in memory."""
    path = filesystem_dir / "cached.bin"
    path.write_bytes(os.urandom(4096 * KiB))
    descriptor = os.open(path, os.O_RDWR)
    os.pread(descriptor, 4096 * KiB, 0)  # every page cached
    yield descriptor
    os.close(descriptor)


@pytest.fixture
def native_aio(native_backend: Backend) -> ModuleType:
    return native_backend.asyncio_module


async def _loop_turns_during(awaitable_factory: object, count: int) -> tuple[int, list]:
    """Await ``count`` calls; return how many loop turns ran meanwhile."""
    turns = 0
    running = True

    def tick() -> None:
        nonlocal turns
        if running:
            turns += 1
            loop.call_soon(tick)

    loop = asyncio.get_running_loop()
    loop.call_soon(tick)
    results = [await awaitable_factory() for _ in range(count)]  # type: ignore[operator]
    running = False
    return turns, results


async def test_the_methods_take_keywords_and_a_priority(
    native_aio: ModuleType, fd: int
) -> None:
    async with native_aio.AsyncioContext() as context:
        assert await context.write(payload=b"abcdef", fd=fd, offset=0) == 6
        assert await context.read(3, fd, 1, 0) == b"bcd"
        assert await context.read(nbytes=2, fd=fd) == b"ab"
        target = bytearray(3)
        assert await context.readinto(target, fd, offset=3, priority=1) == 3
        assert target == b"def"
        with pytest.raises(TypeError):
            context.read(3, fd, 0, 0, 0)
        with pytest.raises(TypeError):
            context.read(3, fd, size=3)


async def test_calls_the_c_methods_cannot_start_go_to_python(
    native_aio: ModuleType, fd: int
) -> None:
    os.pwrite(fd, b"0123456789", 0)
    context = native_aio.AsyncioContext()
    deferred: list[str] = []
    for name in ("_read", "_readinto", "_write"):
        method = getattr(context, name)

        def spy(*args: object, _method: object = method, **kwargs: object) -> object:
            deferred.append(f"{_method.__name__}{args}{kwargs}")  # type: ignore[attr-defined]
            return _method(*args, **kwargs)  # type: ignore[operator]

        setattr(context, name, spy)
    try:
        # Serving the running loop, called positionally: started in C.
        assert await context.read(4, fd, 0) == b"0123"
        assert await context.write(b"ab", fd, 0, 0) == 2
        assert await context.readinto(bytearray(2), fd, 8) == 2
        assert deferred == []
        # Keywords: Python decides.
        assert await context.read(2, fd=fd, offset=2) == b"23"
        assert deferred == [f"_read(2,){{'fd': {fd}, 'offset': 2}}"]
        context.close()
        with pytest.raises(RuntimeError, match="closed"):
            await context.write(b"x", fd, 0)
        assert len(deferred) == 2
    finally:
        context.close()
    with pytest.raises(TypeError, match="native context"):
        context._native = object()


async def test_a_page_cache_hit_completes_without_a_loop_turn(
    native_aio: ModuleType, cached_fd: int
) -> None:
    async with native_aio.AsyncioContext() as context:
        turns, results = await _loop_turns_during(
            lambda: context.read(4 * KiB, cached_fd, 8 * KiB), 1
        )
        assert results == [os.pread(cached_fd, 4 * KiB, 8 * KiB)]
        assert turns == 0, "a cached 4 KiB read went through the event loop"


async def test_big_reads_leave_the_loop_thread(
    native_aio: ModuleType, cached_fd: int
) -> None:
    # Copying megabytes on the loop thread would stall it: they go elsewhere.
    async with native_aio.AsyncioContext() as context:
        turns, results = await _loop_turns_during(
            lambda: context.read(2048 * KiB, cached_fd, 0), 1
        )
        assert results == [os.pread(cached_fd, 2048 * KiB, 0)]
        assert turns >= 1


def _system_calls(kind: str) -> int:
    """This process's read (``syscr``) or write (``syscw``) system calls so far,
    all threads counted."""
    try:
        text = Path("/proc/self/io").read_text()
    except OSError as exc:
        pytest.skip(f"no /proc/self/io (task I/O accounting) here: {exc}")
    counts = dict(line.split(": ") for line in text.splitlines())
    return int(counts[kind])


@pytest.mark.parametrize("operation", ["read", "readinto"])
def test_a_worker_reads_a_big_range_in_steps(
    backend: Backend, filesystem_dir: Path, operation: str
) -> None:
    # One big copy would hold whatever CPU the worker runs on, the loop's too.
    # Every backend reads a range this big on its pool, io_uring's included.
    aio = backend.module
    path = filesystem_dir / "big.bin"
    data = os.urandom(9 * 1024 * KiB + 12345)  # past one 8 MiB advice window
    path.write_bytes(data)
    offset = 1000
    size = len(data)  # runs past the end of the file
    descriptor = os.open(path, os.O_RDONLY)
    context = aio.Context()
    try:
        target = bytearray(size)
        if operation == "read":
            op = aio.Operation.read(size, descriptor, offset)
        else:
            op = aio.Operation.readinto(target, descriptor, offset)
        before = _system_calls("syscr")
        run_to_completion(context, op)
        calls = _system_calls("syscr") - before
        value = op.get_value()
        got = value if operation == "read" else bytes(target[:value])
        assert got == data[offset:]
        steps = (len(data) - offset) // (128 * KiB)
        assert calls >= steps, f"{calls} read calls for {steps} steps of 128 KiB"
    finally:
        context.close()
        os.close(descriptor)


STRACE_WILLNEED = re.compile(r"fadvise64\(\d+, (\d+), (\d+), POSIX_FADV_WILLNEED\)")


def test_a_worker_advises_and_yields_a_step_at_a_time(
    backend: Backend, tmp_path: Path
) -> None:
    """A big read's read-ahead advice goes a step at a time too, and between
    two steps the worker offers its CPU (``sched_yield``): the loop's thread,
    woken on that CPU, need not wait for the worker's time slice to end."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed: the worker's system calls are unseen")
    path = tmp_path / "big.bin"
    data = os.urandom(3 * 1024 * KiB + 777)
    path.write_bytes(data)
    log = tmp_path / "strace.log"
    child = textwrap.dedent(
        f"""
        import asyncio, hashlib, os, sys
        from {backend.asyncio_module.__name__} import AsyncioContext

        async def main():
            fd = os.open(sys.argv[1], os.O_RDONLY)
            async with AsyncioContext() as context:
                data = await context.read({len(data)}, fd, 0)
            print(hashlib.sha256(data).hexdigest())

        asyncio.run(main())
        """
    )
    trace = ["-f", "-qq", "-e", "trace=fadvise64,sched_yield", "-o", str(log)]
    done = subprocess.run(
        [strace, *trace, sys.executable, "-c", child, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == hashlib.sha256(data).hexdigest()
    calls = log.read_text()
    advised = [(int(o), int(n)) for o, n in STRACE_WILLNEED.findall(calls)]
    assert advised, calls[-2000:]
    assert all(length <= 128 * KiB for _, length in advised), advised
    assert sorted(advised) == [
        (o, min(128 * KiB, len(data) - o)) for o in range(0, len(data), 128 * KiB)
    ]
    steps = -(-len(data) // (128 * KiB))
    assert calls.count("sched_yield()") >= steps - 1


def test_a_worker_writes_a_big_buffer_at_once(
    backend: Backend, filesystem_dir: Path
) -> None:
    # Steps could let another writer land between two of them.
    aio = backend.module
    path = filesystem_dir / "written.bin"
    data = os.urandom(4096 * KiB)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    context = aio.Context()
    try:
        op = aio.Operation.write(data, descriptor, 0)
        before = _system_calls("syscw")
        run_to_completion(context, op)
        calls = _system_calls("syscw") - before
        assert op.get_value() == len(data)
        assert path.read_bytes() == data
        # Steps of 128 KiB would take 32; valgrind adds writes of its own.
        assert calls < 32, f"{calls} write calls for one 4 MiB write"
    finally:
        context.close()
        os.close(descriptor)


def test_waiting_on_the_ring_sees_the_pools_completions(cached_fd: int) -> None:
    # A big read goes to the pool, whose completions do not end a wait on the
    # ring: the wait must look at the pool too, not sleep out its timeout.
    if ONLY_BACKEND not in (None, "uring"):
        pytest.skip(f"the matrix runs {ONLY_BACKEND} only")
    linux_uring = core.linux_uring
    if linux_uring is None:
        pytest.skip(f"linux_uring is unavailable here: {core.unavailable}")
    context = linux_uring.Context()
    try:
        op = linux_uring.Operation.read(2048 * KiB, cached_fd, 0)
        assert context.submit(op) == 1
        started = time.monotonic()
        assert context.process_events(min_requests=1, timeout=5) == 1
        assert time.monotonic() - started < 2.5, "the wait slept out its timeout"
        assert op.get_value() == os.pread(cached_fd, 2048 * KiB, 0)
    finally:
        context.close()


@pytest.mark.parametrize("ending", ["cancel", "close"])
def test_reads_queued_in_the_pool_are_cancelled_whole(
    native_backend: Backend, cached_fd: int, ending: str
) -> None:
    aio = native_backend.module
    context = aio.Context(max_requests=16, pool_size=1)
    size = 1024 * KiB
    targets = [bytearray(size) for _ in range(12)]
    operations = [aio.Operation.readinto(t, cached_fd, 0) for t in targets]
    try:
        assert context.submit(*operations) == len(operations)
        if ending == "cancel":
            context.cancel(*operations[4:])
            deadline = time.monotonic() + 10
            while any(op.result == 0 and not op.error for op in operations):
                assert time.monotonic() < deadline, "an operation never completed"
                if hasattr(context, "process_events"):
                    context.process_events(min_requests=0, timeout=0.01)
                else:
                    time.sleep(0.001)
    finally:
        context.close()
    expected = os.pread(cached_fd, size, 0)
    cancelled = 0
    for target, op in zip(targets, operations, strict=True):
        if op.error:
            assert op.error == errno.ECANCELED
            cancelled += 1
        else:
            assert op.get_value() == size
            assert bytes(target) == expected
    assert cancelled > 0, "one worker ran twelve 1 MiB reads before any ending"


async def test_a_stream_of_hits_still_gives_the_loop_turns(
    native_aio: ModuleType, cached_fd: int
) -> None:
    # Thousands of inline completions take far more than the 1 ms budget.
    async with native_aio.AsyncioContext() as context:
        turns, results = await _loop_turns_during(
            lambda: context.read(4 * KiB, cached_fd, 0), 20_000
        )
    assert all(len(data) == 4 * KiB for data in results)
    assert turns >= 3, f"the loop ran only {turns} times in 20 000 awaits"


async def test_cached_reader_answers_from_the_page_cache_or_says_none(
    native_aio: ModuleType, cached_fd: int
) -> None:
    """What ``read`` would give, at once, only for a running loop's own
    context; None (never a wait) for what it cannot answer now."""
    size = os.fstat(cached_fd).st_size
    async with native_aio.AsyncioContext() as context:
        read_cached = context.cached_reader()
        assert read_cached(4 * KiB, cached_fd, 8 * KiB) == os.pread(
            cached_fd, 4 * KiB, 8 * KiB
        )
        assert read_cached(8 * KiB, cached_fd, size - 100) == os.pread(
            cached_fd, 100, size - 100
        )
        assert read_cached(4 * KiB, cached_fd, size) == b""
        # Copies that would hold the loop too long are not answered here.
        assert read_cached(1024 * KiB, cached_fd, 0) is None
        with pytest.raises(OSError, match="Bad file descriptor") as bad_fd:
            read_cached(4 * KiB, 10_000, 0)
        assert bad_fd.value.errno == errno.EBADF
        assert "10000" in str(bad_fd.value)

        def from_another_loop() -> object:
            async def read() -> object:
                return read_cached(4 * KiB, cached_fd, 0)

            return asyncio.run(read())

        assert await asyncio.to_thread(from_another_loop) is None
    assert read_cached(4 * KiB, cached_fd, 0) is None  # closed


async def test_cached_reader_says_false_until_the_loop_has_run(
    native_aio: ModuleType, cached_fd: int
) -> None:
    """Once inline copies have held the loop for its budget (1 ms) in one
    turn, the reader answers False, not None: the bytes are there, but only
    after the loop has run; one turn later it answers again."""
    async with native_aio.AsyncioContext() as context:
        read_cached = context.cached_reader()
        expected = os.pread(cached_fd, 64 * KiB, 0)
        answers = []
        started = time.monotonic()
        while time.monotonic() - started < 0.5:
            answer = read_cached(64 * KiB, cached_fd, 0)
            answers.append(answer)
            if answer is False:
                break
        assert answers[-1] is False, "the budget never ran out in 0.5 s"
        assert all(answer == expected for answer in answers[:-1])
        assert read_cached(64 * KiB, cached_fd, 0) is False
        await asyncio.sleep(0)
        assert read_cached(64 * KiB, cached_fd, 0) == expected


async def test_cached_reader_leaves_direct_reads_to_the_kernel(
    native_aio: ModuleType, direct_fd: int
) -> None:
    async with native_aio.AsyncioContext() as context:
        read_cached = context.cached_reader()
        assert read_cached(4 * KiB, direct_fd, 0) is None


async def test_cached_reader_declines_a_descriptor_that_turned_direct(
    native_aio: ModuleType, tmp_path: Path
) -> None:
    """The answer "no O_DIRECT" holds for a loop turn; a descriptor given
    O_DIRECT within it makes a misaligned read answer None, not fail, and
    the next turn asks the kernel again."""
    skip_if_memory_backed(tmp_path, "O_DIRECT needs a device")
    path = tmp_path / "turned.bin"
    data = os.urandom(64 * KiB)
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        async with native_aio.AsyncioContext() as context:
            read_cached = context.cached_reader()
            assert read_cached(100, fd, 0) == data[:100]
            flags = fcntl.fcntl(fd, fcntl.F_GETFL)
            fcntl.fcntl(fd, fcntl.F_SETFL, flags | os.O_DIRECT)
            assert read_cached(100, fd, 1) is None  # same turn: EINVAL, no error
            await asyncio.sleep(0)
            assert read_cached(4 * KiB, fd, 0) is None  # asked again: direct
    finally:
        os.close(fd)


async def test_writes_land_on_both_file_systems(
    native_aio: ModuleType, cached_fd: int
) -> None:
    async with native_aio.AsyncioContext() as context:
        writes = [
            context.write(bytes([i]) * (8 * KiB), cached_fd, i * 8 * KiB)
            for i in range(64)
        ]
        assert await asyncio.gather(*writes) == [8 * KiB] * 64
        await context.fdsync(cached_fd)
    for i in range(64):
        assert os.pread(cached_fd, 8 * KiB, i * 8 * KiB) == bytes([i]) * (8 * KiB)


@pytest.fixture
def direct_fd(tmp_path: Path) -> Iterator[int]:
    """An O_DIRECT descriptor on an 8 MiB ext4 file: every read goes to the
    kernel's queue (buffered misses go to the pool on linux_aio)."""
    path = tmp_path / "cold.bin"
    path.write_bytes(os.urandom(8192 * KiB))
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECT)
    yield descriptor
    os.close(descriptor)


SUBMIT_BATCH_MAX = 8  # core.h: a turn's operations go to the kernel in batches


async def test_one_loop_turn_submits_in_batches(tmp_path: Path) -> None:
    """The first operation of a turn goes at once, the others in batches of
    eight and the rest at the turn's end: a few system calls for many
    operations, and the kernel starts on the first ones early."""
    if core.linux_uring is None:
        pytest.skip(f"linux_uring is unavailable here: {core.unavailable}")
    skip_if_memory_backed(tmp_path, "buffered writes complete inline there")
    path = tmp_path / "written.bin"
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        async with core.linux_uring_asyncio.AsyncioContext() as context:
            native = context.context
            before = native.submit_calls
            # Buffered writes never complete inline: each goes to the ring.
            written = await asyncio.gather(
                *(
                    context.write(bytes([i]) * 4096, descriptor, i * 4096)
                    for i in range(33)
                )
            )
            # 1 at once, then 8, 8, 8 and 8 as the batches fill: 5 submissions.
            assert native.submit_calls - before == 1 + 32 // SUBMIT_BATCH_MAX
            lone_before = native.submit_calls
            await context.write(b"x" * 4096, descriptor, 33 * 4096)
            assert native.submit_calls - lone_before == 1
    finally:
        os.close(descriptor)
    assert written == [4096] * 33
    assert path.read_bytes() == b"".join(bytes([i]) * 4096 for i in range(33)) + (
        b"x" * 4096
    )


@pytest.mark.parametrize("module_name", ["linux_uring", "linux_aio"])
async def test_o_direct_reads_go_to_the_kernel_one_by_one(
    module_name: str, direct_fd: int, tmp_path: Path
) -> None:
    """An O_DIRECT read waits for the device, which starts it sooner when it
    is handed over at once (batches of eight measured ~6% fewer reads per
    second at 64 in flight): each is its own submission, as fio makes them."""
    if getattr(core, module_name) is None:
        pytest.skip(f"{module_name} is unavailable here: {core.unavailable}")
    skip_if_memory_backed(tmp_path, "O_DIRECT reads never reach the kernel's queue")
    aio = getattr(core, module_name + "_asyncio")
    async with aio.AsyncioContext() as context:
        native = context.context
        before = native.submit_calls
        offsets = [i * 128 * KiB for i in range(33)]
        results = await asyncio.gather(
            *(context.read(4 * KiB, direct_fd, offset) for offset in offsets)
        )
        assert native.submit_calls - before == len(offsets)
    expected = (tmp_path / "cold.bin").read_bytes()
    for offset, data in zip(offsets, results, strict=True):
        assert data == expected[offset : offset + 4 * KiB]


def test_buffers_stay_exported_until_completion(
    polled_backend: Backend, fd: int
) -> None:
    # The kernel writes into the caller's memory: it must not move meanwhile.
    context = polled_backend.module.Context()
    try:
        target = bytearray(64 * KiB)
        os.pwrite(fd, b"z" * (64 * KiB), 0)
        operation = polled_backend.module.Operation.readinto(target, fd, 0)
        assert context.submit(operation) == 1
        with pytest.raises(BufferError):
            target.extend(b"more")
        while context.process_events(min_requests=1, timeout=1) == 0:
            pass
        assert operation.get_value() == 64 * KiB
        target.extend(b"more")  # released
        assert bytes(target[: 64 * KiB]) == b"z" * (64 * KiB)
    finally:
        context.close()


def test_the_pool_grows_with_depth_not_cpu_count(fd: int, tmp_path: Path) -> None:
    thread_aio = core.thread_aio
    if thread_aio is None:
        pytest.skip(f"thread_aio is unavailable here: {core.unavailable}")
    # The depth is fsyncs of dirty data, which wait for the device; where none
    # waits, one worker may finish each before the next arrives (seen on tmpfs
    # with the machine loaded), and the pool rightly stays at one thread.
    skip_if_memory_backed(tmp_path, "fsync waits for nothing there")
    context = thread_aio.Context(max_requests=64, pool_size=6)
    try:
        for i in range(8):  # one at a time: one thread is enough
            run_to_completion(context, thread_aio.Operation.write(b"x", fd, i))
        assert context.pool_threads == 1
        operations = []
        for _ in range(48):
            os.pwrite(fd, os.urandom(256 * KiB), 0)  # dirty data to flush
            operations.append(thread_aio.Operation.fsync(fd))
        run_to_completion(context, *operations)
        assert 1 < context.pool_threads <= 6
    finally:
        context.close()
    assert context.pool_threads == 0


def test_waiting_for_completions_releases_the_gil(polled_backend: Backend) -> None:
    context = polled_backend.module.Context()
    counted = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal counted
        while not stop.is_set():
            counted += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        before = counted
        assert context.process_events(min_requests=1, timeout=0.3) == 0
        during = counted - before
    finally:
        stop.set()
        counter.join()
        context.close()
    # Holding the GIL for 0.3 s would let the counter run only at the switch
    # interval's edges; released, it counts all the while.
    assert during > 100_000, during


def _descriptors() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


def test_close_and_garbage_collection_free_kernel_resources(
    native_backend: Backend, fd: int
) -> None:
    before = _descriptors()
    context = native_backend.module.Context()
    run_to_completion(context, native_backend.module.Operation.write(b"x", fd, 0))
    assert _descriptors() - before, "a context holds at least an eventfd"
    context.close()
    assert _descriptors() == before

    forgotten = native_backend.module.Context()
    run_to_completion(forgotten, native_backend.module.Operation.write(b"y", fd, 0))
    del forgotten
    gc.collect()
    assert _descriptors() == before


FORK_SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    import asyncfile.core.{module} as raw
    import asyncfile.core.{module}_asyncio as aio

    path = sys.argv[1]
    fd = os.open(path, os.O_RDWR)
    expected = os.pread(fd, 1 << 20, 0)

    def run(context, operation):
        done = []
        operation.set_callback(done.append)
        assert context.submit(operation) == 1
        while not done:
            if hasattr(context, "process_events"):
                context.process_events(min_requests=1, timeout=0.01)
        return operation.get_value()

    raw_context = raw.Context()
    assert run(raw_context, raw.Operation.read(4096, fd, 0)) == expected[:4096]
    asyncio_context = aio.AsyncioContext()

    async def use(tag):
        data = await asyncio_context.read(1 << 20, fd, 0)
        assert data == expected, tag
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        assert await asyncio_context.read(4096, fd, 8192) == expected[8192:12288], tag
        await asyncio_context.write(tag.encode(), fd, (1 << 20) + (tag == "child") * 8)

    asyncio.run(use("parent"))
    pid = os.fork()
    if pid == 0:
        try:
            data = run(raw_context, raw.Operation.read(4096, fd, 4096))
            assert data == expected[4096:8192]
            asyncio.run(use("child"))
        except BaseException as exc:
            print("child failed:", repr(exc), flush=True)
            os._exit(1)
        os._exit(0)
    asyncio.run(use("parent"))
    assert run(raw_context, raw.Operation.read(4096, fd, 4096)) == expected[4096:8192]
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the child failed"
    assert os.pread(fd, 13, 1 << 20) == b"parent\\0\\0child"
    asyncio_context.close()
    raw_context.close()
    print("ok")
    """
)


def test_a_forked_child_rebuilds_its_context(
    native_backend: Backend, tmp_path: Path
) -> None:
    path = tmp_path / "shared.bin"
    path.write_bytes(os.urandom(1 << 20))
    script = FORK_SCRIPT.format(module=native_backend.module_name)
    process = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stdout.strip() == "ok"
