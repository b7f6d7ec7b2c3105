"""Offset -1: reads and writes at the descriptor's current position, for pipes,
FIFOs and sockets, on every backend.

A read there is one ``read(2)``: it gives what the pipe holds once it holds
something, and never completes on the loop while the pipe is empty.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from backends import Backend, run_to_completion
from platforms import FIFO, LINUX, POSIX_IO, PTY

pytestmark = POSIX_IO.mark

CURRENT_POSITIONS = [-1, 2**64 - 1]


@pytest.fixture
def pipe() -> Iterator[tuple[int, int]]:
    read_end, write_end = os.pipe()
    yield read_end, write_end
    os.close(read_end)
    os.close(write_end)


@pytest.mark.parametrize("offset", CURRENT_POSITIONS)
def test_operation_offset_minus_one_means_the_current_position(
    backend: Backend, offset: int
) -> None:
    operation = backend.module.Operation.read(1, 0, offset)
    assert operation.offset == -1


@pytest.mark.parametrize("offset", CURRENT_POSITIONS)
async def test_pipe_read_waits_for_data_without_blocking_the_loop(
    aio: ModuleType, pipe: tuple[int, int], offset: int
) -> None:
    read_end, write_end = pipe
    async with aio.AsyncioContext() as context:
        reading = asyncio.ensure_future(context.read(100, read_end, offset))
        beats = 0
        for _ in range(5):
            await asyncio.sleep(0.01)
            beats += 1
        assert not reading.done(), "an empty pipe's read completed"
        assert beats == 5
        os.write(write_end, b"hello")
        # One read(2): what the pipe holds, not the 100 bytes asked for.
        assert await asyncio.wait_for(reading, 10) == b"hello"


async def test_pipe_read_of_what_is_there_completes_short(
    aio: ModuleType, pipe: tuple[int, int]
) -> None:
    read_end, write_end = pipe
    os.write(write_end, b"abc")
    async with aio.AsyncioContext() as context:
        assert await context.read(1 << 20, read_end, -1) == b"abc"
        os.write(write_end, b"defgh")
        buffer = bytearray(4)
        assert await context.readinto(buffer, read_end, -1) == 4
        assert buffer == b"defg"
        assert await context.read(10, read_end, -1) == b"h"


async def test_pipe_write_at_the_current_position(
    aio: ModuleType, pipe: tuple[int, int]
) -> None:
    read_end, write_end = pipe
    async with aio.AsyncioContext() as context:
        assert await context.write(b"x" * 1000, write_end, -1) == 1000
        assert await context.write(memoryview(b"yz"), write_end, 2**64 - 1) == 2
    assert os.read(read_end, 2000) == b"x" * 1000 + b"yz"


async def test_pipe_write_larger_than_the_pipe_waits_for_the_reader(
    aio: ModuleType, pipe: tuple[int, int]
) -> None:
    read_end, write_end = pipe
    payload = os.urandom(1 << 20)
    received = bytearray()

    async with aio.AsyncioContext() as context:
        writing = asyncio.ensure_future(context.write(payload, write_end, -1))
        while len(received) < len(payload):
            chunk = await context.read(1 << 16, read_end, -1)
            assert chunk, "end of file before the writer finished"
            received += chunk
        assert await asyncio.wait_for(writing, 10) == len(payload)
    assert received == payload


async def test_pipe_end_of_file_reads_empty(aio: ModuleType) -> None:
    read_end, write_end = os.pipe()
    os.close(write_end)
    try:
        async with aio.AsyncioContext() as context:
            assert await context.read(10, read_end, -1) == b""
    finally:
        os.close(read_end)


@FIFO.mark
async def test_fifo_read_and_write(aio: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    # O_RDWR opens a FIFO without waiting for the other end (Linux).
    reader = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    writer = os.open(path, os.O_WRONLY)
    os.set_blocking(reader, True)
    try:
        async with aio.AsyncioContext() as context:
            reading = asyncio.ensure_future(context.read(64, reader, -1))
            await asyncio.sleep(0.05)
            assert not reading.done()
            assert await context.write(b"through the fifo", writer, -1) == 16
            assert await asyncio.wait_for(reading, 10) == b"through the fifo"
    finally:
        os.close(reader)
        os.close(writer)


async def test_socketpair_read_and_write(aio: ModuleType) -> None:
    left, right = socket.socketpair()
    try:
        async with aio.AsyncioContext() as context:
            reading = asyncio.ensure_future(context.read(64, right.fileno(), -1))
            await asyncio.sleep(0.05)
            assert not reading.done()
            assert await context.write(b"ping", left.fileno(), -1) == 4
            assert await asyncio.wait_for(reading, 10) == b"ping"
    finally:
        left.close()
        right.close()


async def test_regular_file_at_the_current_position_moves_it(
    aio: ModuleType, tmp_path: Path
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"0123456789")
    fd = os.open(path, os.O_RDWR)
    try:
        async with aio.AsyncioContext() as context:
            assert await context.read(4, fd, -1) == b"0123"
            assert os.lseek(fd, 0, os.SEEK_CUR) == 4
            assert await context.write(b"ab", fd, -1) == 2
            assert os.lseek(fd, 0, os.SEEK_CUR) == 6
    finally:
        os.close(fd)
    assert path.read_bytes() == b"0123ab6789"


async def test_closing_with_a_pipe_read_pending_does_not_hang(
    aio: ModuleType, pipe: tuple[int, int]
) -> None:
    read_end, _write_end = pipe
    context = aio.AsyncioContext()
    reading = asyncio.ensure_future(context.read(10, read_end, -1))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    context.close()
    assert time.monotonic() - started < 2
    with pytest.raises((OSError, RuntimeError, asyncio.CancelledError)):
        await asyncio.wait_for(reading, 5)


def test_raw_context_reads_a_pipe_once_written(
    backend: Backend, pipe: tuple[int, int]
) -> None:
    read_end, write_end = pipe
    module = backend.module
    context = module.Context(max_requests=4)
    try:
        operation = module.Operation.read(64, read_end, 2**64 - 1)
        os.write(write_end, b"raw")
        run_to_completion(context, operation)
        assert operation.get_value() == b"raw"
    finally:
        context.close()


@LINUX.mark
def test_uring_pipe_write_stays_in_flight_until_the_reader_drains(
    pipe: tuple[int, int],
) -> None:
    """The shape of caio's own tests: a write at 2**64-1 to a full pipe is in
    the ring, not failed, until the pipe is drained."""
    import fcntl

    import asyncfile.core as core

    if core.linux_uring is None:
        pytest.skip(f"io_uring is unavailable here: {core.unavailable['uring']}")
    read_end, write_end = pipe
    fcntl.fcntl(write_end, 1031, 4096)  # F_SETPIPE_SZ
    os.write(write_end, b"f" * 4096)
    context = core.linux_uring.Context(max_requests=8)
    called: list[int] = []
    try:
        operation = core.linux_uring.Operation.write(b"x", write_end, 2**64 - 1)
        operation.set_callback(called.append)
        assert context.submit(operation) == 1
        context.flush()
        assert context.process_events(timeout=0.05) == 0
        assert not called
        os.read(read_end, 8192)
        assert context.process_events(min_requests=1, timeout=5) == 1
        assert called == [1]
        assert operation.get_value() == 1
    finally:
        context.close()
    assert os.read(read_end, 10) == b"x"


@PTY.mark
async def test_terminal_write_larger_than_its_buffer_leaves_the_loop_running(
    aio: ModuleType,
) -> None:
    # On io_uring the terminal used to take the write inside io_uring_enter,
    # on the loop's thread, and wait there for a reader that never came.
    controller, terminal = os.openpty()
    try:
        async with aio.AsyncioContext() as context:
            writing = asyncio.ensure_future(context.write(b"x" * 200_000, terminal, -1))
            beats = 0
            for _ in range(5):
                await asyncio.sleep(0.01)
                beats += 1
            assert beats == 5
            assert not writing.done(), "200 kB fit in a terminal's buffer"
            # Read exactly what was written: a read after the last byte would
            # wait forever, and the write may complete only after that read.
            received = 0
            while received < 200_000:
                received += len(await asyncio.to_thread(os.read, controller, 65536))
            assert await writing == 200_000
    finally:
        os.close(controller)
        os.close(terminal)


@PTY.mark
async def test_terminal_read_waits_for_input_without_blocking_the_loop(
    aio: ModuleType,
) -> None:
    controller, terminal = os.openpty()
    try:
        async with aio.AsyncioContext() as context:
            reading = asyncio.ensure_future(context.read(100, terminal, -1))
            for _ in range(5):
                await asyncio.sleep(0.01)
            assert not reading.done(), "a read of a silent terminal completed"
            os.write(controller, b"typed\n")
            assert await asyncio.wait_for(reading, 10) == b"typed\n"
    finally:
        os.close(controller)
        os.close(terminal)
