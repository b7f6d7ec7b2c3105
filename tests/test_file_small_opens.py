"""What opening a file by path learns once and does not ask again: the
position of a new descriptor (0, or the end in append mode), the size of a
small regular file for its first ``readall``, and that a regular file is no
terminal; and that ``readall`` still returns what the file holds when that
size has changed since."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import asyncfile
from asyncfile.contexts import get_context
from tests.platforms import PTY

DATA = bytes(range(256)) * 20  # 5 KiB


class CountingContext:
    """The running loop's core context, counting the reads it is asked for."""

    def __init__(self) -> None:
        self.context: Any = get_context()
        self.reads: list[tuple[int, int]] = []

    async def read(self, size: int, fd: int, offset: int) -> bytes:
        self.reads.append((size, offset))
        data: bytes = await self.context.read(size, fd, offset)
        return data

    def __getattr__(self, name: str) -> Any:
        if name == "cached_reader":  # no C shortcut past this counter
            raise AttributeError(name)
        return getattr(self.context, name)


@pytest.fixture
def fstats(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The descriptors os.fstat is asked about, in order."""
    asked: list[int] = []
    fstat = os.fstat

    def counted(fd: int) -> os.stat_result:
        asked.append(fd)
        return fstat(fd)

    monkeypatch.setattr(os, "fstat", counted)
    return asked


@pytest.mark.parametrize("buffering", [0, -1])
async def test_a_small_files_read_to_the_end_is_one_read_and_no_more_fstat(
    tmp_path: Path, fstats: list[int], buffering: int
) -> None:
    """The size the opener learned sizes the read, and a read that stops
    exactly there is the end: no second read to hear it (io makes one)."""
    path = tmp_path / "small"
    path.write_bytes(DATA)
    counting = CountingContext()
    async with asyncfile.open(path, "rb", buffering=buffering, context=counting) as f:  # type: ignore[call-overload]
        fd = f.fileno()
        # The opener's own, if any: the native core stats in its open.
        at_open = fstats.count(fd)
        assert at_open == (0 if get_context().filesystem() is not None else 1)
        assert await f.read() == DATA
        assert fstats.count(fd) == at_open
        assert counting.reads == [(len(DATA) + 1, 0)]
        assert f.tell() == len(DATA)
        # The size at open serves once: the next read to the end asks again.
        assert await f.read() == b""
        assert fstats.count(fd) == at_open + 1


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda path: path.write_bytes(DATA * 3), id="grew"),
        pytest.param(lambda path: path.write_bytes(DATA[:100]), id="shrank"),
        pytest.param(lambda path: path.write_bytes(b""), id="emptied"),
        pytest.param(
            lambda path: path.write_bytes(bytes(reversed(DATA))), id="same size"
        ),
    ],
)
@pytest.mark.parametrize("buffering", [0, -1])
async def test_a_read_to_the_end_returns_what_the_file_holds_after_it_changed(
    tmp_path: Path, change: Callable[[Path], object], buffering: int
) -> None:
    """The size learned at open is only a guess once the file changed: the
    read returns what io's returns now."""
    path = tmp_path / "changing"
    path.write_bytes(DATA)
    async with asyncfile.open(path, "rb", buffering=buffering) as f:  # type: ignore[call-overload]
        with open(path, "rb", buffering=buffering) as expected:  # noqa: ASYNC230 (io, to compare)
            change(path)
            assert await f.read() == expected.read()
            assert f.tell() == expected.tell()


async def test_a_read_after_a_partial_read_goes_on_from_the_position(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f"
    path.write_bytes(DATA)
    async with asyncfile.open(path, "rb", buffering=0) as f:
        assert await f.read(1000) == DATA[:1000]
        assert await f.read() == DATA[1000:]


@pytest.mark.parametrize("mode", ["rb", "r+b", "ab", "a+b", "wb"])
async def test_a_descriptor_opened_by_path_starts_where_ios_does(
    tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "f"
    path.write_bytes(DATA)
    with open(path, mode) as expected:  # noqa: ASYNC230 (io, to compare)
        expected_position = expected.tell()
    path.write_bytes(DATA)
    async with asyncfile.open(path, mode) as f:
        assert f.tell() == expected_position


async def test_an_openers_descriptor_starts_where_the_opener_left_it(
    tmp_path: Path,
) -> None:
    """Only a descriptor the open itself made is known to start at 0."""
    path = tmp_path / "f"
    path.write_bytes(DATA)

    def opener(name: str, flags: int) -> int:
        fd = os.open(name, flags)
        os.lseek(fd, 300, os.SEEK_SET)
        return fd

    with open(path, "rb", opener=opener) as expected:  # noqa: ASYNC230 (io, to compare)
        async with asyncfile.open(path, "rb", opener=opener) as f:
            assert f.tell() == expected.tell() == 300
            assert await f.read() == expected.read() == DATA[300:]


@PTY.mark
async def test_a_terminal_opened_by_path_is_line_buffered_as_with_io() -> None:
    """Regular files skip the terminal check; a character device still gets it."""
    leader, follower = os.openpty()
    try:
        name = os.ttyname(follower)
        with open(name, "w", encoding="utf-8") as expected:  # noqa: ASYNC230 (io, to compare)
            async with asyncfile.open(name, "w", encoding="utf-8") as f:
                assert f.line_buffering is expected.line_buffering is True
    finally:
        os.close(leader)
        os.close(follower)
