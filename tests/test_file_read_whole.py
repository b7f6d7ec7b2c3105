"""``await f.read()`` of a buffered binary file: the whole rest of the file, as
io's ``read()`` gives it, whether the file kept the size it had when it was
opened, grew or shrank since.  With the C speedups, a page-cached file's read
completes without the file's lock (the fast path fires); without them, the
Python read takes it once."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

import asyncfile
from asyncfile.io import _buffered, _locks

DATA = os.urandom(10_000)


@pytest.fixture(params=["speedups", "python"])
def build(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """With BufferedReader.read's C fast path, and without it."""
    if _buffered.FastPathMethod is None:
        if request.param == "speedups":
            pytest.skip("asyncfile._speedups is not built (no C compiler)")
    elif request.param == "python":
        read = _buffered.BufferedReader.read.__func__  # type: ignore[attr-defined]
        monkeypatch.setattr(_buffered.BufferedReader, "read", read)
    return str(request.param)


def append(path: Path, data: bytes) -> None:
    """Another writer appends to the file (blocking, as another process would)."""
    with open(path, "ab") as f:
        f.write(data)


def io_read(path: Path, before: int = 0) -> tuple[bytes, bytes]:
    with open(path, "rb") as f:
        return f.read(before), f.read()


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 4097, 10_000])
@pytest.mark.parametrize("argument", ["none given", "-1", "None"])
async def test_read_whole_is_ios_and_the_fast_path_fires(
    tmp_path: Path,
    build: str,
    acquisitions: list[_locks.TaskLock],
    size: int,
    argument: str,
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA[:size])
    async with asyncfile.open(path, "rb") as f:
        acquisitions.clear()
        if argument == "none given":
            data = await f.read()
        else:
            data = await f.read(None if argument == "None" else -1)
        taken = len(acquisitions)
        # The fast path reads through the native core's cached reader; the
        # python backend (CAIO_IMPL=python) has none, and its read takes the lock.
        fast = build == "speedups" and f.raw._cached_reader is not None
        assert f.tell() == size
        assert await f.read() == b""
    assert data == io_read(path)[1]
    assert taken == (0 if fast else 1)


@pytest.mark.parametrize("before", [1, 4096, 9_999, 10_000, 12_000])
async def test_read_whole_after_a_read_or_seek_is_ios(
    tmp_path: Path, build: str, before: int
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    async with asyncfile.open(path, "rb") as f:
        if before > len(DATA):
            await f.seek(before)
            first = b""
        else:
            first = await f.read(before)
        rest = await f.read()
        position = f.tell()
    expected_first, expected_rest = io_read(path, min(before, len(DATA)))
    assert first == (expected_first if before <= len(DATA) else b"")
    assert rest == (expected_rest if before <= len(DATA) else b"")
    assert position == max(before, len(DATA))


@pytest.mark.parametrize("change", [-4096, -1, 1, 4096, 100_000])
async def test_read_whole_sees_a_file_that_changed_size_since_it_was_opened(
    tmp_path: Path, build: str, change: int
) -> None:
    """The opener's size only sizes the read: a file that grew or shrank
    between open and read reads as io reads it then, to its new end."""
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    async with asyncfile.open(path, "rb") as f:
        if change > 0:
            append(path, os.urandom(change))
        else:
            os.truncate(path, len(DATA) + change)
        data = await f.read()
        assert await f.read() == b""
        assert f.tell() == len(DATA) + change
    assert data == io_read(path)[1]


async def test_read_whole_of_a_file_sized_once(tmp_path: Path, build: str) -> None:
    """The opener's size serves the first read to the end only: after a
    file grows, a second read() still finds what was appended."""
    path = tmp_path / "f.bin"
    path.write_bytes(DATA[:100])
    async with asyncfile.open(path, "rb") as f:
        assert await f.read() == DATA[:100]
        append(path, DATA[100:300])
        assert await f.read() == DATA[100:300]
        assert await f.read() == b""


async def test_read_whole_of_an_update_file_is_ios(tmp_path: Path, build: str) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(DATA)
    async with asyncfile.open(path, "r+b") as f:
        assert await f.read(10) == DATA[:10]
        assert await f.read() == DATA[10:]
    expected = io.BytesIO(DATA)
    expected.read(10)
    assert expected.read() == DATA[10:]
