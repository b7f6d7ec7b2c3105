"""WriteBehindWriter: coalescing, backpressure, errors never lost, close."""

from __future__ import annotations

import asyncio
import errno
import os
from pathlib import Path

import pytest
from platforms import LINUX

import asyncfile
from asyncfile import FsyncPolicy, WriteBehindWriter
from asyncfile.core import python_aio_asyncio


@pytest.mark.every_loop
async def test_everything_written_in_order(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    expected = b"".join(f"{i:06d}\n".encode() for i in range(50_000))
    async with WriteBehindWriter(path, buffer_size=64 * 1024) as writer:
        for i in range(50_000):
            assert await writer.write(f"{i:06d}\n".encode()) == 7
        assert writer.buffered + writer.written == len(expected)
    assert path.read_bytes() == expected
    assert writer.closed
    assert writer.buffered == 0


async def test_flush_means_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    async with WriteBehindWriter(path) as writer:
        await writer.write(b"abc")
        await writer.write(bytearray(b"def"))
        await writer.flush()
        assert path.read_bytes() == b"abcdef"
        assert writer.buffered == 0


async def test_small_writes_coalesce(tmp_path: Path) -> None:
    """Writes made while the drain waits for its turn become one write."""
    path = tmp_path / "out.bin"
    async with WriteBehindWriter(path, buffer_size=1 << 20) as writer:
        for _ in range(1000):
            await writer.write(b"x" * 10)
        assert writer.written == 0  # nothing yielded yet: all still buffered
        await writer.flush()
        assert writer.written == 10_000
    assert path.stat().st_size == 10_000


@pytest.mark.every_loop
async def test_backpressure_bounds_the_buffer(tmp_path: Path) -> None:
    """On the thread backend every write suspends; the buffer never holds
    more than buffer_size, and write waits for room."""
    path = tmp_path / "out.bin"
    async with python_aio_asyncio.AsyncioContext() as ctx:
        writer = WriteBehindWriter(path, buffer_size=10_000, context=ctx)
        waited = 0
        peak = 0
        for i in range(300):
            before = asyncio.get_running_loop().time()
            await writer.write(bytes([i % 256]) * 1000)
            peak = max(peak, writer.buffered)
            waited += asyncio.get_running_loop().time() > before
        await writer.close()
    assert peak <= 10_000
    assert waited > 0
    assert path.read_bytes() == b"".join(bytes([i % 256]) * 1000 for i in range(300))


async def test_a_write_larger_than_the_buffer(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    async with WriteBehindWriter(path, buffer_size=1000) as writer:
        await writer.write(b"a" * 10)
        await writer.write(b"b" * 5000)
        await writer.write(b"c")
    assert path.read_bytes() == b"a" * 10 + b"b" * 5000 + b"c"


async def test_append_mode_and_file_object(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    path.write_bytes(b"head:")
    async with WriteBehindWriter(path, "ab") as writer:
        await writer.write(b"tail")
    assert path.read_bytes() == b"head:tail"
    async with asyncfile.open(path, "r+b") as f:
        await f.seek(2)
        async with WriteBehindWriter(f) as writer:
            await writer.write(b"XY")
        assert not f.closed
        assert f.tell() == 2
    assert path.read_bytes() == b"heXY:tail"


@LINUX.mark
@pytest.mark.every_loop
async def test_background_error_is_raised_and_never_lost(tmp_path: Path) -> None:
    """A full device (/dev/full) fails the background write: the next write
    raises it, and so does flush; close raises it only if nobody saw it."""
    writer = WriteBehindWriter("/dev/full")
    await writer.write(b"x" * 100)
    for _ in range(500):  # until the background write has failed
        if writer._error is not None:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(OSError, match="space") as info:
        await writer.write(b"more")
    assert info.value.errno == errno.ENOSPC
    with pytest.raises(OSError, match="space"):
        await writer.flush()
    await writer.close()  # already reported: close is quiet

    writer = WriteBehindWriter("/dev/full")
    await writer.write(b"x")
    with pytest.raises(OSError, match="space") as info:
        await writer.close()
    assert info.value.errno == errno.ENOSPC


async def test_open_errors_carry_errno_and_path(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "dir.bin"
    with pytest.raises(FileNotFoundError) as info:
        await WriteBehindWriter(missing).write(b"x")
    assert info.value.filename == str(missing)
    existing = tmp_path / "x.bin"
    existing.write_bytes(b"")
    with pytest.raises(FileExistsError):
        await WriteBehindWriter(existing, "xb").open()


@pytest.mark.every_loop
async def test_close_completes_despite_cancellation(tmp_path: Path) -> None:
    path = tmp_path / "out.bin"
    async with python_aio_asyncio.AsyncioContext() as ctx:
        writer = WriteBehindWriter(path, buffer_size=1 << 20, context=ctx)
        for _ in range(200):
            await writer.write(b"z" * 4096)
        task = asyncio.ensure_future(writer.close())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert writer.closed
    assert path.stat().st_size == 200 * 4096


async def test_writes_after_close_raise(tmp_path: Path) -> None:
    writer = WriteBehindWriter(tmp_path / "o.bin")
    await writer.close()
    with pytest.raises(ValueError, match="closed"):
        await writer.write(b"x")
    with pytest.raises(ValueError, match="closed"):
        await writer.flush()


async def test_fsync_every_bytes_and_on_close(tmp_path: Path) -> None:
    path = tmp_path / "o.bin"
    policy = FsyncPolicy(on_close=True, every_bytes=1000)
    async with WriteBehindWriter(path, fsync=policy) as writer:
        for _ in range(10):
            await writer.write(b"y" * 500)
            await writer.flush()
            assert writer._unsynced < 1000
    assert path.stat().st_size == 5000


async def test_fsync_every_seconds_syncs_when_idle(tmp_path: Path) -> None:
    path = tmp_path / "o.bin"
    async with WriteBehindWriter(path, fsync=FsyncPolicy(every_seconds=0.05)) as writer:
        await writer.write(b"q" * 10)
        await writer.flush()
        assert writer._unsynced == 10
        await asyncio.sleep(0.2)
        assert writer._unsynced == 0


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"buffer_size": 0}, ValueError),
        ({"mode": "rb"}, ValueError),
        ({"fsync": "sometimes"}, ValueError),
    ],
)
def test_bad_arguments(kwargs: dict[str, object], error: type[Exception]) -> None:
    with pytest.raises(error):
        WriteBehindWriter("x", **kwargs)  # type: ignore[arg-type]


def test_fsync_policy_checks() -> None:
    with pytest.raises(ValueError, match="every_bytes"):
        FsyncPolicy(every_bytes=0)
    with pytest.raises(ValueError, match="every_seconds"):
        FsyncPolicy(every_seconds=-1)


def test_writer_repr_names_public_module(tmp_path: Path) -> None:
    assert repr(WriteBehindWriter(tmp_path)).startswith("<asyncfile.WriteBehindWriter")
    assert os.path.exists(tmp_path)


async def test_first_writes_from_many_tasks_open_once(tmp_path: Path) -> None:
    path = tmp_path / "o.bin"
    writer = WriteBehindWriter(path)
    await asyncio.gather(*(writer.write(bytes([65 + i])) for i in range(10)))
    await writer.close()
    assert sorted(path.read_bytes()) == list(range(65, 75))
