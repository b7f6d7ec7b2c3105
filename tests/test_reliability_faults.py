"""Faults from real file systems: a full disk and failing reads and writes.

A full disk is a 1 MiB tmpfs; failing I/O is tests/faultfs.py, a FUSE file
system that answers EIO for chosen byte ranges.  Each error must reach the
caller as an OSError with its errno at the call that can report it, the file
must hold exactly what was reported written, and the next operations must work.
File objects are compared with io's on an identical second file system.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from backends import Backend, run_to_completion
from iocompat import io_open
from mounts import faultfs, tmpfs

import asyncfile
from asyncfile import contexts, core
from asyncfile.core import python_aio_asyncio

KiB = 1024
MiB = 1024 * KiB
#: Bytes that show where each one belongs: a misplaced chunk cannot match.
PATTERN = bytes(range(251)) * (4 * MiB // 251 + 1)


def _builtin_class(exc: BaseException) -> str:
    """The built-in class an ``except`` clause would see: the core's errors are
    AIOError subclasses of exactly the OSError subclass io raises."""
    return next(c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins")


async def _outcome(call: Callable[[], Awaitable[Any]]) -> tuple[Any, ...]:
    try:
        return ("ok", await call())
    except OSError as exc:
        return ("error", _builtin_class(exc), exc.errno)


def _sync_outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", call())
    except OSError as exc:
        return ("error", _builtin_class(exc), exc.errno)


# -- the core ----------------------------------------------------------------


@pytest.mark.parametrize("chunk", [4 * KiB, 100_000], ids=["4KiB", "100kB"])
async def test_a_full_disk_fails_with_enospc_and_keeps_what_was_reported(
    aio: ModuleType, tmp_path: Path, chunk: int
) -> None:
    with tmpfs(tmp_path / "full", "1m") as directory:
        fd = os.open(directory / "data.bin", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            reported = 0
            async with aio.AsyncioContext() as context:
                with pytest.raises(OSError, match="No space left") as caught:  # noqa: PT012
                    while reported < 4 * MiB:
                        payload = PATTERN[reported : reported + chunk]
                        written = await context.write(payload, fd, reported)
                        assert 0 < written <= chunk
                        reported += written
                assert caught.value.errno == errno.ENOSPC
                assert 0 < reported <= MiB
                assert os.fstat(fd).st_size == reported
                assert await context.read(2 * MiB, fd, 0) == PATTERN[:reported]
                # Space freed, the same context writes again.
                os.ftruncate(fd, 0)
                assert await context.write(b"room again", fd, 0) == 10
                assert await context.fsync(fd) is None
            assert os.pread(fd, 64, 0) == b"room again"
        finally:
            os.close(fd)


async def test_one_write_larger_than_the_disk_reports_what_fit(
    aio: ModuleType, tmp_path: Path
) -> None:
    with tmpfs(tmp_path / "full", "1m") as directory:
        fd = os.open(directory / "data.bin", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            async with aio.AsyncioContext() as context:
                outcome = await _outcome(
                    lambda: context.write(PATTERN[: 3 * MiB], fd, 0)
                )
            size = os.fstat(fd).st_size
            if outcome[0] == "ok":  # a short write: what fit, and it is on disk
                assert 0 < outcome[1] < 3 * MiB
                assert size == outcome[1]
            else:  # nothing reported, so nothing may be there
                assert outcome[2] == errno.ENOSPC
                assert size == 0
            assert os.pread(fd, 3 * MiB, 0) == PATTERN[:size]
        finally:
            os.close(fd)


async def test_python_aio_reports_a_short_write_instead_of_the_enospc_after_it(
    tmp_path: Path,
) -> None:
    """python_aio looped over short writes and raised the loop's ENOSPC, so the
    bytes the first pwrite put on disk were never reported."""
    with tmpfs(tmp_path / "full", "1m") as directory:
        fd = os.open(directory / "data.bin", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            async with python_aio_asyncio.AsyncioContext() as context:
                assert await context.write(PATTERN[: MiB - 100], fd, 0) == MiB - 100
                assert await context.write(PATTERN[:1000], fd, MiB - 100) == 100
            assert os.fstat(fd).st_size == MiB
        finally:
            os.close(fd)


# -- file objects against io --------------------------------------------------


async def _fill_with_io(path: Path, mode: str, buffering: int, chunk: Any) -> list:
    outcomes = []
    encoding = None if "b" in mode else "latin-1"
    f = io_open(path, mode, buffering=buffering, encoding=encoding)
    for _ in range(15):
        outcomes.append(_sync_outcome(lambda: f.write(chunk)))
    outcomes.append(_sync_outcome(f.flush))
    outcomes.append(_sync_outcome(f.close))
    outcomes.append(("closed", f.closed))
    return outcomes


async def _fill_with_asyncfile(
    path: Path, mode: str, buffering: int, chunk: Any, context: Any
) -> list:
    outcomes = []
    encoding = None if "b" in mode else "latin-1"
    f = await asyncfile.open(
        path, mode, buffering=buffering, encoding=encoding, context=context
    )
    for _ in range(15):
        outcomes.append(await _outcome(lambda: f.write(chunk)))
    outcomes.append(await _outcome(f.flush))
    outcomes.append(await _outcome(f.close))
    outcomes.append(("closed", f.closed))
    return outcomes


@pytest.mark.parametrize(
    ("mode", "buffering"),
    [("wb", 0), ("wb", -1), ("wb", 300_000), ("w", -1), ("ab", -1)],
    ids=["raw", "buffered", "big-buffer", "text", "append"],
)
async def test_a_full_disk_fails_file_objects_as_it_fails_io(
    backend: Backend, tmp_path: Path, mode: str, buffering: int
) -> None:
    chunk: Any = PATTERN[:100_000]
    if "b" not in mode:
        chunk = chunk.decode("latin-1")
    context = contexts.get_context(backend.name)
    with (
        tmpfs(tmp_path / "io", "1m") as io_dir,
        tmpfs(tmp_path / "ours", "1m") as our_dir,
    ):
        expected = await _fill_with_io(io_dir / "f", mode, buffering, chunk)
        actual = await _fill_with_asyncfile(
            our_dir / "f", mode, buffering, chunk, context
        )
        assert actual == expected
        assert ("error", "OSError", errno.ENOSPC) in actual
        on_disk = (our_dir / "f").read_bytes()
        assert on_disk == (io_dir / "f").read_bytes()
        stream = PATTERN[:100_000] * 15
        assert on_disk == stream[: len(on_disk)]
        if buffering == 0:  # raw: every byte reported written, and no other
            reported = sum(o[1] for o in actual[:15] if o[0] == "ok")
            assert on_disk == stream[:reported]


# -- failing reads and writes (FUSE) -------------------------------------------

BAD_READ = (64 * KiB, 68 * KiB)
BAD_WRITE = (300 * KiB, 300 * KiB + 1)


async def test_eio_reaches_the_caller_and_later_operations_work(
    aio: ModuleType, tmp_path: Path
) -> None:
    with faultfs(
        tmp_path / "fuse", bad_reads=[BAD_READ], bad_writes=[BAD_WRITE], bad_fsync=True
    ) as directory:
        fd = os.open(directory / "data.bin", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            async with aio.AsyncioContext() as context:
                assert await context.write(PATTERN[: 128 * KiB], fd, 0) == 128 * KiB
                for _ in range(2):  # a failure leaves nothing behind
                    with pytest.raises(OSError, match="Input/output error") as caught:
                        await context.read(4 * KiB, fd, 62 * KiB)
                    assert caught.value.errno == errno.EIO
                    assert caught.value.filename == fd
                    with pytest.raises(OSError, match="Input/output error") as caught:
                        await context.write(b"x" * 100, fd, 300 * KiB - 50)
                    assert caught.value.errno == errno.EIO
                    with pytest.raises(OSError, match="Input/output error") as caught:
                        await context.fsync(fd)
                    assert caught.value.errno == errno.EIO
                    assert await context.read(4 * KiB, fd, 0) == PATTERN[: 4 * KiB]
                    assert (
                        await context.read(4 * KiB, fd, 70 * KiB)
                        == PATTERN[70 * KiB : 74 * KiB]
                    )
                    assert await context.write(b"after", fd, 128 * KiB) == 5
                buffer = bytearray(8 * KiB)
                with pytest.raises(OSError, match="Input/output error") as caught:
                    await context.readinto(buffer, fd, 60 * KiB)
                assert caught.value.errno == errno.EIO
            assert os.fstat(fd).st_size == 128 * KiB + 5
        finally:
            os.close(fd)


#: (offset, size) of reads; None reads to the end of the file (through BAD_READ).
OFFSETS_AND_SIZES = ((0, 100), (60 * KiB, 8 * KiB), (70 * KiB, 100), (0, None))


@pytest.mark.parametrize(
    "flags", [0, getattr(os, "O_DIRECT", 0)], ids=["buffered", "O_DIRECT"]
)
async def test_reads_that_stop_at_the_end_of_a_fuse_file_report_its_length(
    aio: ModuleType, tmp_path: Path, flags: int
) -> None:
    """A FUSE file that bypasses the page cache: io_uring's own read there says
    a read that stops at the end of the file got more bytes than it did."""
    size = 3 * 4096 + 5
    with faultfs(tmp_path / "fuse") as directory:
        path = directory / "data.bin"
        path.write_bytes(PATTERN[:size])
        fd = os.open(path, os.O_RDONLY | flags)
        try:
            async with aio.AsyncioContext() as context:
                last_page = 3 * 4096
                assert (
                    await context.read(4096, fd, last_page) == PATTERN[last_page:size]
                )
                assert await context.read(8192, fd, 4096) == PATTERN[4096 : 3 * 4096]
                assert await context.read(8192, fd, 8192) == PATTERN[8192:size]
                assert await context.read(4096, fd, 4 * 4096) == b""
                buffer = core.aligned_buffer(8192)  # O_DIRECT's alignment
                assert await context.readinto(buffer, fd, 8192) == 4096 + 5
                assert bytes(buffer[: 4096 + 5]) == PATTERN[8192:size]
        finally:
            os.close(fd)


def test_raw_reads_that_stop_at_the_end_of_a_fuse_file_report_its_length(
    backend: Backend, tmp_path: Path
) -> None:
    """caio's own API (an Operation submitted to a Context), where no read is
    tried on the loop first, reads a FUSE file's end right too."""
    size = 4096 + 5
    with faultfs(tmp_path / "fuse") as directory:
        path = directory / "data.bin"
        path.write_bytes(PATTERN[:size])
        fd = os.open(path, os.O_RDONLY)
        context = backend.module.Context()
        try:
            at_end = backend.module.Operation.read(4096, fd, 4096)
            across = backend.module.Operation.read(8192, fd, 0)
            run_to_completion(context, at_end, across)
            assert at_end.get_value() == PATTERN[4096:size]
            assert across.get_value() == PATTERN[:size]
        finally:
            context.close()
            os.close(fd)


def _io_session(path: Path) -> list:
    outcomes = []
    f = io_open(path, "r+b")
    for offset, size in OFFSETS_AND_SIZES:
        outcomes.append(_sync_outcome(lambda o=offset: f.seek(o)))
        outcomes.append(_sync_outcome(lambda s=size: f.read(s)))
        outcomes.append(("tell", f.tell()))
    outcomes.append(_sync_outcome(lambda: f.seek(300 * KiB - 10)))
    outcomes.append(_sync_outcome(lambda: f.write(b"y" * 20)))
    outcomes.append(_sync_outcome(f.flush))
    outcomes.append(_sync_outcome(f.close))
    outcomes.append(("closed", f.closed))
    return outcomes


async def _asyncfile_session(path: Path, context: Any) -> list:
    outcomes = []
    f = await asyncfile.open(path, "r+b", context=context)
    for offset, size in OFFSETS_AND_SIZES:
        outcomes.append(await _outcome(lambda o=offset: f.seek(o)))
        outcomes.append(await _outcome(lambda s=size: f.read(s)))
        outcomes.append(("tell", f.tell()))
    outcomes.append(await _outcome(lambda: f.seek(300 * KiB - 10)))
    outcomes.append(await _outcome(lambda: f.write(b"y" * 20)))
    outcomes.append(await _outcome(f.flush))
    outcomes.append(await _outcome(f.close))
    outcomes.append(("closed", f.closed))
    return outcomes


async def test_eio_in_file_objects_as_in_io(backend: Backend, tmp_path: Path) -> None:
    context = contexts.get_context(backend.name)
    with faultfs(
        tmp_path / "fuse", bad_reads=[BAD_READ], bad_writes=[BAD_WRITE]
    ) as directory:
        for name in ("io", "ours"):
            with open(directory / name, "wb") as f:  # noqa: ASYNC230
                f.write(PATTERN[: 256 * KiB])
        expected = _io_session(directory / "io")
        actual = await _asyncfile_session(directory / "ours", context)
        assert actual == expected
        assert ("error", "OSError", errno.EIO) in actual
        theirs = os.open(directory / "io", os.O_RDONLY)
        ours = os.open(directory / "ours", os.O_RDONLY)
        try:  # everything but the range that cannot be read
            for start, end in ((0, BAD_READ[0]), (BAD_READ[1], 400 * KiB)):
                expected_bytes = os.pread(theirs, end - start, start)
                assert os.pread(ours, end - start, start) == expected_bytes
        finally:
            os.close(theirs)
            os.close(ours)
