"""O_DIRECT: aligned transfers go to the device; misaligned ones fail clearly."""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from backends import Backend
from mounts import file_system_type, skip_if_memory_backed

from asyncfile.core import aligned_buffer

BLOCK = 4096  # every file system here accepts it (STATX_DIOALIGN says 512 or less)


@pytest.fixture
def direct_fd(tmp_path: Path) -> Iterator[int]:
    """An O_DIRECT descriptor on an ext4 file holding 64 KiB of a known pattern."""
    path = tmp_path / "direct.bin"
    path.write_bytes(bytes(range(256)) * 256)
    try:
        descriptor = os.open(path, os.O_RDWR | os.O_DIRECT)
    except OSError as exc:  # pragma: no cover - depends on the file system
        pytest.skip(f"{tmp_path} refuses O_DIRECT: {exc}")
    yield descriptor
    os.close(descriptor)


def _pattern(offset: int, size: int) -> bytes:
    whole = bytes(range(256)) * 256
    return whole[offset : offset + size]


async def test_aligned_reads_and_writes_round_trip(
    aio: ModuleType, direct_fd: int
) -> None:
    async with aio.AsyncioContext() as context:
        assert await context.read(2 * BLOCK, direct_fd, BLOCK) == _pattern(
            BLOCK, 2 * BLOCK
        )
        target = aligned_buffer(BLOCK)
        assert await context.readinto(target, direct_fd, 3 * BLOCK) == BLOCK
        assert target[:] == _pattern(3 * BLOCK, BLOCK)
        source = aligned_buffer(2 * BLOCK)
        source[:] = b"D" * (2 * BLOCK)
        assert await context.write(source, direct_fd, 4 * BLOCK) == 2 * BLOCK
        assert await context.read(2 * BLOCK, direct_fd, 4 * BLOCK) == b"D" * (2 * BLOCK)
        # A read past the end of the file is short, as a buffered one is.
        assert await context.read(4 * BLOCK, direct_fd, 15 * BLOCK) == _pattern(
            15 * BLOCK, BLOCK
        )


@pytest.mark.parametrize(
    ("offset", "size"), [(1, BLOCK), (BLOCK, BLOCK + 1)], ids=["offset", "length"]
)
async def test_misaligned_offset_or_length_is_refused(
    backend: Backend,
    aio: ModuleType,
    direct_fd: int,
    offset: int,
    size: int,
    tmp_path: Path,
) -> None:
    _skip_where_the_kernel_accepts_anything(backend, tmp_path)
    async with aio.AsyncioContext() as context:
        with pytest.raises((ValueError, OSError)) as caught:
            await context.read(size, direct_fd, offset)
    _assert_refused(backend, caught.value)


async def test_misaligned_memory_is_refused(
    backend: Backend, aio: ModuleType, direct_fd: int, tmp_path: Path
) -> None:
    _skip_where_the_kernel_accepts_anything(backend, tmp_path)
    misaligned = memoryview(aligned_buffer(2 * BLOCK))[1 : BLOCK + 1]
    async with aio.AsyncioContext() as context:
        with pytest.raises((ValueError, OSError)) as caught:
            await context.write(misaligned, direct_fd, 0)
    _assert_refused(backend, caught.value)


async def test_descriptor_dropping_o_direct_within_a_turn_reads_misaligned(
    aio: ModuleType, direct_fd: int
) -> None:
    """The O_DIRECT answer a context keeps for one loop turn is asked again
    before it refuses anything: the descriptor may have changed since."""

    async def misaligned_once_buffered() -> bytes:
        flags = fcntl.fcntl(direct_fd, fcntl.F_GETFL)
        fcntl.fcntl(direct_fd, fcntl.F_SETFL, flags & ~os.O_DIRECT)
        return await context.read(BLOCK, direct_fd, 1)

    async with aio.AsyncioContext() as context:
        # Both start in the same loop turn, the aligned one first.
        aligned, misaligned = await asyncio.gather(
            context.read(BLOCK, direct_fd, 0), misaligned_once_buffered()
        )
    assert aligned == _pattern(0, BLOCK)
    assert misaligned == _pattern(1, BLOCK)


def _skip_where_the_kernel_accepts_anything(backend: Backend, tmp_path: Path) -> None:
    if not backend.native and file_system_type(tmp_path) == "btrfs":
        pytest.skip(
            "btrfs serves misaligned O_DIRECT through the page cache, and "
            "python_aio leaves the check to the kernel"
        )
    if not backend.native:
        skip_if_memory_backed(
            tmp_path,
            "the kernel accepts any alignment, and python_aio leaves "
            "the check to it (the native backends check it themselves)",
        )


def _assert_refused(backend: Backend, error: BaseException) -> None:
    if backend.native:
        # Checked before anything reaches the kernel, with what it needs.
        assert isinstance(error, ValueError), error
        assert "O_DIRECT" in str(error)
        assert "multiples of" in str(error)
    else:
        # python_aio cannot ask STATX_DIOALIGN: the kernel refuses instead.
        assert isinstance(error, OSError), error
        assert error.errno == errno.EINVAL


def test_aligned_buffer_is_page_aligned_and_zeroed() -> None:
    import ctypes

    buffer = aligned_buffer(10_000)
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    assert address % os.sysconf("SC_PAGE_SIZE") == 0
    assert len(buffer) == 10_000
    assert buffer[:] == bytes(10_000)
    with pytest.raises(ValueError, match="at least one byte"):
        aligned_buffer(0)
