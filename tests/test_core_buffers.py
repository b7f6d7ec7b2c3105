"""Buffers in, bytes out, and 64-bit offsets and sizes."""

from __future__ import annotations

import array
import mmap
import os
from pathlib import Path
from types import ModuleType

import pytest

from asyncfile.core import BufferTypeError
from asyncfile.core._positional import pread, pwrite

GiB = 2**30


@pytest.mark.parametrize(
    "make",
    [
        bytes,
        bytearray,
        memoryview,
        lambda data: memoryview(bytearray(b"??" + data + b"??"))[2:-2],
        lambda data: array.array("B", data),
    ],
    ids=["bytes", "bytearray", "memoryview", "memoryview-slice", "array"],
)
async def test_write_takes_any_contiguous_buffer(
    aio: ModuleType, fd: int, make: object
) -> None:
    payload = os.urandom(10_000)
    async with aio.AsyncioContext() as context:
        assert await context.write(make(payload), fd, 3) == len(payload)  # type: ignore[operator]
        assert await context.read(len(payload), fd, 3) == payload
    assert pread(fd, len(payload) + 3, 0) == b"\0\0\0" + payload


async def test_write_from_mmap_and_wide_items(aio: ModuleType, fd: int) -> None:
    words = array.array("i", range(1000))
    with mmap.mmap(-1, 8192) as mapped:
        mapped[:] = os.urandom(8192)
        async with aio.AsyncioContext() as context:
            assert await context.write(mapped, fd, 0) == 8192
            assert await context.write(words, fd, 8192) == words.itemsize * 1000
        assert pread(fd, 8192, 0) == mapped[:]
    assert pread(fd, 4000, 8192) == words.tobytes()


async def test_write_rejects_non_contiguous_views(aio: ModuleType, fd: int) -> None:
    async with aio.AsyncioContext() as context:
        with pytest.raises(BufferTypeError, match="contiguous"):
            await context.write(memoryview(b"abcdef")[::2], fd, 0)
    assert os.fstat(fd).st_size == 0


async def test_read_returns_bytes_short_only_at_eof(aio: ModuleType, fd: int) -> None:
    pwrite(fd, b"0123456789", 0)
    async with aio.AsyncioContext() as context:
        assert await context.read(4, fd, 2) == b"2345"
        assert await context.read(100, fd, 5) == b"56789"
        assert await context.read(100, fd, 10) == b""
        assert await context.read(0, fd, 0) == b""
        value = await context.read(3, fd, 0)
    assert type(value) is bytes


async def test_readinto_fills_the_callers_buffer(aio: ModuleType, fd: int) -> None:
    data = os.urandom(65536)
    pwrite(fd, data, 0)
    target = bytearray(70000)
    window = memoryview(target)[100:20100]
    with mmap.mmap(-1, 4096) as mapped:
        async with aio.AsyncioContext() as context:
            assert await context.readinto(window, fd, 1000) == 20000
            assert await context.readinto(mapped, fd, 65536 - 96) == 96
        assert mapped[:96] == data[-96:]
    assert target[100:20100] == data[1000:21000]
    assert target[:100] == bytes(100), "readinto wrote outside its window"


async def test_readinto_rejects_read_only_buffers(aio: ModuleType, fd: int) -> None:
    async with aio.AsyncioContext() as context:
        with pytest.raises(BufferTypeError, match="writable"):
            await context.readinto(b"immutable", fd, 0)


async def test_offsets_past_4_gib_in_a_sparse_file(aio: ModuleType, fd: int) -> None:
    far = 5 * GiB + 12345
    async with aio.AsyncioContext() as context:
        assert await context.write(b"far away", fd, far) == 8
        assert os.fstat(fd).st_size == far + 8
        assert await context.read(8, fd, far) == b"far away"
        assert await context.read(16, fd, far - 8) == bytes(8) + b"far away"
        assert await context.read(4, fd, 4 * GiB) == bytes(4)
        assert await context.read(1, fd, far + 8) == b""
    assert pread(fd, 8, far) == b"far away"


@pytest.mark.parametrize("size", [2 * GiB + 4099], ids=["2GiB+"])
async def test_transfers_over_2_gib_are_exact(
    aio: ModuleType, tmp_path: Path, size: int
) -> None:
    pattern = bytes(range(251))  # a prime length: a misplaced chunk shows
    payload = (pattern * (size // len(pattern) + 1))[:size]
    path = tmp_path / "big.bin"  # tmp_path_factory on tmpfs would need 2 GiB of RAM
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        async with aio.AsyncioContext() as context:
            assert await context.write(payload, descriptor, 7) == size
            data = await context.read(size + 100, descriptor, 7)
            assert len(data) == size
            assert data == payload
            del data
            target = bytearray(size)
            assert await context.readinto(target, descriptor, 7) == size
            assert target == payload
    finally:
        os.close(descriptor)
        # pytest keeps the last runs' temporary directories: 2 GiB per
        # backend left there filled the disk over a few runs.
        path.unlink()
