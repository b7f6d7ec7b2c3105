"""The O_DIRECT flag, asked once a loop turn: a descriptor that changes
within the turn is still read right."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from backends import Backend
from tracing import calls_between_marks

BLOCK = 4096
PATTERN = bytes(range(256)) * 64  # 16 KiB


@pytest.fixture
def direct_path(tmp_path: Path) -> Path:
    """A file of PATTERN on a file system that takes O_DIRECT."""
    path = tmp_path / "direct.bin"
    path.write_bytes(PATTERN)
    try:
        os.close(os.open(path, os.O_RDONLY | os.O_DIRECT))
    except OSError as exc:  # pragma: no cover - depends on the file system
        pytest.skip(f"{tmp_path} refuses O_DIRECT: {exc}")
    return path


@pytest.fixture
def buffered_fd(tmp_path: Path) -> Iterator[int]:
    """A descriptor without O_DIRECT on a page-cached file of other bytes."""
    path = tmp_path / "buffered.bin"
    path.write_bytes(b"b" * len(PATTERN))
    descriptor = os.open(path, os.O_RDWR)
    yield descriptor
    os.close(descriptor)


async def test_descriptor_reopened_with_o_direct_in_the_turn_is_read_right(
    backend: Backend, aio: ModuleType, direct_path: Path, buffered_fd: int
) -> None:
    """The number read without O_DIRECT is closed and reused, with O_DIRECT,
    before the loop turns: the turn's answer for that number is stale, and
    a read into memory the device cannot take must still come back right
    (not EINVAL), and a misaligned readinto do what it would at once: fail
    where the file system needs alignment, read where it does not."""
    async with aio.AsyncioContext() as context:
        assert await context.read(BLOCK, buffered_fd, 0) == b"b" * BLOCK
        direct = os.open(direct_path, os.O_RDWR | os.O_DIRECT)
        try:
            os.dup2(direct, buffered_fd)
        finally:
            os.close(direct)
        assert await context.read(BLOCK, buffered_fd, BLOCK) == PATTERN[BLOCK:][:BLOCK]
        assert await context.read(2 * BLOCK, buffered_fd, 0) == PATTERN[: 2 * BLOCK]
        if backend.native:  # python_aio leaves the check to the kernel
            misaligned = memoryview(bytearray(BLOCK + 1))[1:]
            outcome: object
            try:
                outcome = await context.readinto(misaligned, buffered_fd, 0)
            except ValueError as exc:
                outcome = exc
            if isinstance(outcome, ValueError):  # the file system needs alignment
                assert "O_DIRECT on descriptor" in str(outcome)
            else:  # one that takes any alignment (tmpfs) reads
                assert (outcome, bytes(misaligned)) == (BLOCK, PATTERN[:BLOCK])


async def test_descriptor_given_o_direct_in_the_turn_is_read_right(
    aio: ModuleType, direct_path: Path
) -> None:
    """fcntl(F_SETFL) adds O_DIRECT to a descriptor just read without it."""
    fd = os.open(direct_path, os.O_RDONLY)
    try:
        async with aio.AsyncioContext() as context:
            assert await context.read(BLOCK, fd, 0) == PATTERN[:BLOCK]
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_DIRECT)
            for offset in range(0, len(PATTERN), BLOCK):
                got = await context.read(BLOCK, fd, offset)
                assert got == PATTERN[offset:][:BLOCK]
    finally:
        os.close(fd)


async def test_descriptor_losing_o_direct_in_the_turn_reads_unaligned(
    aio: ModuleType, direct_path: Path
) -> None:
    """The other way: once O_DIRECT is gone, an unaligned read is a buffered
    read again, not a ValueError."""
    fd = os.open(direct_path, os.O_RDONLY | os.O_DIRECT)
    try:
        async with aio.AsyncioContext() as context:
            assert await context.read(BLOCK, fd, 0) == PATTERN[:BLOCK]
            fcntl.fcntl(
                fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_DIRECT
            )
            assert await context.read(100, fd, 7) == PATTERN[7:107]
    finally:
        os.close(fd)


def test_reads_in_one_turn_ask_for_the_flags_once(
    native_backend: Backend, tmp_path: Path
) -> None:
    """Cached reads on one descriptor, one after another in one loop turn,
    ask the kernel for its flags (fcntl F_GETFL) once, not once a read."""
    path = tmp_path / "f.bin"
    path.write_bytes(PATTERN)
    child = f"""
        import asyncio, os, sys
        from {native_backend.asyncio_module.__name__} import AsyncioContext

        fd = os.open(sys.argv[1], os.O_RDONLY)
        os.pread(fd, {len(PATTERN)}, 0)

        async def main():
            async with AsyncioContext() as context:
                await context.read(16, fd, 0)
                await asyncio.sleep(0)
                null = os.open(os.devnull, os.O_WRONLY)
                os.write(null, b"<<reads")
                sizes = [len(await context.read(64, fd, 64 * i)) for i in range(100)]
                os.write(null, b"reads>>")
            print(sum(sizes))

        asyncio.run(main())
        """
    output, calls = calls_between_marks(child, path, "reads", tmp_path, "fcntl")
    assert output == str(64 * 100)
    flag_queries = [line for line in calls if "F_GETFL" in line]
    # One a loop turn; a slow build (sanitizers) may spend the inline budget
    # and let the loop turn a few times.
    assert 1 <= len(flag_queries) <= 25, flag_queries
