"""Positional I/O on every platform (asyncfile.core._positional), and what Windows
adds: ReadFile/WriteFile at an OVERLAPPED offset, the descriptor's position kept,
offsets past 4 GiB, Windows' errors as io maps them, text newlines as io writes them.

These run on Linux and, through scripts/test-windows, on the Windows CPython.
"""

from __future__ import annotations

import asyncio
import errno
import os
import random
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from platforms import WINDOWS, Capability

import asyncfile
from asyncfile.core import _positional, python_aio_asyncio

FILE_SIZE = 1 << 20


@pytest.fixture
def data_fd(tmp_path: Path) -> Iterator[tuple[int, bytes]]:
    """A read-write descriptor on a file of random bytes, and those bytes."""
    content = random.Random(18).randbytes(FILE_SIZE)
    path = tmp_path / "data.bin"
    path.write_bytes(content)
    fd = os.open(path, os.O_RDWR | _positional.OPEN_FLAGS)
    yield fd, content
    os.close(fd)


def test_concurrent_positional_reads_from_many_threads_read_the_right_bytes(
    data_fd: tuple[int, bytes],
) -> None:
    fd, content = data_fd
    os.lseek(fd, 12345, os.SEEK_SET)
    failures: list[str] = []
    start = threading.Barrier(8)

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        start.wait()
        for _ in range(300):
            offset = rng.randrange(FILE_SIZE + 100)
            size = rng.randrange(1, 70000)
            if rng.random() < 0.5:
                got = _positional.pread(fd, size, offset)
            else:
                buffer = bytearray(size)
                with memoryview(buffer) as view:
                    count = _positional.preadinto(fd, view, offset)
                got = bytes(buffer[:count])
            if got != content[offset : offset + size]:
                failures.append(f"{size} bytes at {offset}: wrong bytes")

    threads = [threading.Thread(target=reader, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, failures[:5]
    # As after pread(2): positional calls leave the descriptor's position alone.
    assert os.lseek(fd, 0, os.SEEK_CUR) == 12345


async def test_concurrent_reads_through_the_python_backend(
    data_fd: tuple[int, bytes],
) -> None:
    fd, content = data_fd
    rng = random.Random(7)
    requests = [(rng.randrange(FILE_SIZE), rng.randrange(1, 200000)) for _ in range(64)]
    async with python_aio_asyncio.AsyncioContext(max_requests=64) as context:
        results = await asyncio.gather(
            *(context.read(size, fd, offset) for offset, size in requests)
        )
    for (offset, size), got in zip(requests, results, strict=True):
        assert got == content[offset : offset + size]
    assert os.lseek(fd, 0, os.SEEK_CUR) == 0


def test_positional_writes_leave_the_position_and_land_where_asked(
    data_fd: tuple[int, bytes],
) -> None:
    fd, _ = data_fd
    os.lseek(fd, 100, os.SEEK_SET)
    with memoryview(b"hello") as view:
        assert _positional.pwrite(fd, view, 5000) == 5
    with memoryview(bytearray(b"world")) as view:
        assert _positional.pwrite(fd, view[1:], 6000) == 4
    assert os.lseek(fd, 0, os.SEEK_CUR) == 100
    assert _positional.pread(fd, 5, 5000) == b"hello"
    assert _positional.pread(fd, 4, 6000) == b"orld"
    assert _positional.pread(fd, 10, FILE_SIZE) == b""  # at the end: nothing
    assert _positional.pread(fd, 10, FILE_SIZE + 10) == b""  # past it: nothing too


def _free_bytes(path: Path) -> int:
    return shutil.disk_usage(path).free


def test_write_past_4_gib_lands_where_asked(tmp_path: Path) -> None:
    """The offset's high half reaches the file system, not just its low 32 bits."""
    path = tmp_path / "sparse.bin"
    offset = (4 << 30) + 4096 + 17
    fd = os.open(path, os.O_RDWR | os.O_CREAT | _positional.OPEN_FLAGS, 0o600)
    try:
        try:
            with memoryview(b"far away") as view:
                written = _positional.pwrite(fd, view, offset)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EFBIG, errno.EINVAL):
                pytest.skip(f"this file system takes no 4 GiB sparse file: {exc}")
            raise
        assert written == 8
        assert os.fstat(fd).st_size == offset + 8
        assert _positional.pread(fd, 8, offset) == b"far away"
        # Where a 32-bit offset would have put it: still a hole.
        assert _positional.pread(fd, 8, offset & 0xFFFFFFFF) == bytes(8)
    finally:
        os.close(fd)


def test_reading_a_write_only_descriptor_fails_as_os_read_does(tmp_path: Path) -> None:
    path = tmp_path / "w.bin"
    path.write_bytes(b"abc")
    fd = os.open(path, os.O_WRONLY | _positional.OPEN_FLAGS)
    try:
        bad_fd = os.strerror(errno.EBADF)
        with pytest.raises(OSError, match=bad_fd) as expected:
            os.read(fd, 3)
        with pytest.raises(OSError, match=bad_fd) as got:
            _positional.pread(fd, 3, 0)
        assert type(got.value) is type(expected.value)
        assert got.value.errno == expected.value.errno == errno.EBADF
    finally:
        os.close(fd)


NEWLINES = (None, "", "\n", "\r", "\r\n")
TEXT = "one\ntwo\r\nthree\rfour\n\nfive"


@pytest.mark.parametrize("newline", NEWLINES)
async def test_text_newline_translation_is_io_s(
    tmp_path: Path, newline: str | None
) -> None:
    """Written and read back as io does on this system (on Windows, newline=None
    writes os.linesep, "\\r\\n")."""
    with open(tmp_path / "io.txt", "w", newline=newline) as f:  # noqa: ASYNC230
        f.write(TEXT)
    async with asyncfile.open(tmp_path / "af.txt", "w", newline=newline) as af:
        await af.write(TEXT)
    on_disk = (tmp_path / "io.txt").read_bytes()
    assert (tmp_path / "af.txt").read_bytes() == on_disk
    if WINDOWS and newline is None:
        assert b"one\r\ntwo\r\r\n" in on_disk
    for read_newline in NEWLINES:
        with open(tmp_path / "io.txt", newline=read_newline) as f:  # noqa: ASYNC230
            expected = (f.read(), f.newlines)
        async with asyncfile.open(tmp_path / "af.txt", newline=read_newline) as af:
            assert (await af.read(), af.newlines) == expected


SHARING = Capability(WINDOWS, "share modes are Windows'")


@SHARING.mark
async def test_sharing_violation_is_io_s_permission_error(tmp_path: Path) -> None:
    import _winapi

    path = tmp_path / "held.bin"
    path.write_bytes(b"held")
    # Opened with no sharing: every other open of the file is refused.
    handle = _winapi.CreateFile(
        str(path), _winapi.GENERIC_READ, 0, 0, _winapi.OPEN_EXISTING, 0, 0
    )
    try:
        with pytest.raises(PermissionError) as expected:
            open(path, "rb")  # noqa: ASYNC230, SIM115 (the reference)
        with pytest.raises(PermissionError) as got:
            await asyncfile.open(path, "rb")
    finally:
        _winapi.CloseHandle(handle)
    assert type(got.value) is type(expected.value) is PermissionError
    assert got.value.errno == expected.value.errno == errno.EACCES
    assert got.value.filename == expected.value.filename


@SHARING.mark
async def test_lock_violation_is_io_s_permission_error(tmp_path: Path) -> None:
    import msvcrt

    path = tmp_path / "locked.bin"
    path.write_bytes(b"x" * 100)
    with open(path, "r+b") as holder:  # noqa: ASYNC230
        msvcrt.locking(holder.fileno(), msvcrt.LK_NBLCK, 50)
        try:
            with open(path, "rb", buffering=0) as reader:  # noqa: ASYNC230
                try:
                    reader.read(10)
                except OSError as exc:
                    expected: OSError = exc
                else:
                    pytest.skip(
                        "this Windows (wine) does not enforce byte-range locks on "
                        "reads: io reads the locked range too"
                    )
            async with asyncfile.open(path, "rb", buffering=0) as af:
                with pytest.raises(PermissionError) as got:
                    await af.read(10)
        finally:
            holder.seek(0)
            msvcrt.locking(holder.fileno(), msvcrt.LK_UNLCK, 50)
    assert type(got.value) is type(expected)
    assert got.value.errno == expected.errno == errno.EACCES
