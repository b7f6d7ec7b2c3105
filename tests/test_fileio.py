"""AsyncFileIO, the raw layer: io.FileIO's answers, from coroutines."""

from __future__ import annotations

import asyncio
import errno
import io
import os
from pathlib import Path

import pytest
from platforms import DIRECTORY_OPEN_ERROR

from asyncfile.io._raw import AsyncFileIO

MODES = ["r", "r+", "w", "w+", "a", "a+", "x", "x+", "rb", "ab+"]


@pytest.mark.parametrize("mode", MODES)
async def test_modes_match_filelike_io(tmp_path: Path, mode: str) -> None:
    ours_path, theirs_path = tmp_path / "ours", tmp_path / "theirs"
    if "x" not in mode:
        ours_path.write_bytes(b"0123456789")
        theirs_path.write_bytes(b"0123456789")
    ours = await AsyncFileIO.open(ours_path, mode)
    theirs = io.FileIO(theirs_path, mode)
    try:
        assert ours.mode == theirs.mode
        assert (ours.readable(), ours.writable(), ours.seekable()) == (
            theirs.readable(),
            theirs.writable(),
            theirs.seekable(),
        )
        assert ours.tell() == theirs.tell()
        if ours.readable():
            assert await ours.read(4) == theirs.read(4)
            assert ours.tell() == theirs.tell()
        if ours.writable():
            assert await ours.write(b"abc") == theirs.write(b"abc")
            assert ours.tell() == theirs.tell()
            assert await ours.seek(-2, os.SEEK_END) == theirs.seek(-2, os.SEEK_END)
            assert await ours.write(b"XYZ") == theirs.write(b"XYZ")
            assert await ours.truncate(5) == theirs.truncate(5)
            assert ours.tell() == theirs.tell()
        if ours.readable():
            assert await ours.seek(0) == theirs.seek(0)
            assert await ours.read() == theirs.read()
            buffer, expected = bytearray(3), bytearray(3)
            await ours.seek(1)
            theirs.seek(1)
            assert await ours.readinto(buffer) == theirs.readinto(expected)
            assert buffer == expected
    finally:
        await ours.close()
        theirs.close()
    assert ours_path.read_bytes() == theirs_path.read_bytes()


async def test_errors_match_io(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    with pytest.raises(FileNotFoundError) as caught:
        await AsyncFileIO.open(missing, "r")
    assert caught.value.filename == str(missing)
    (tmp_path / "exists").write_bytes(b"")
    with pytest.raises(FileExistsError):
        await AsyncFileIO.open(tmp_path / "exists", "x")
    with pytest.raises(DIRECTORY_OPEN_ERROR) as directory:
        await AsyncFileIO.open(tmp_path, "r")
    assert directory.value.filename == str(tmp_path)  # as io: the path, fspath'd
    for bad in ("rw", "q", "r++", ""):
        with pytest.raises(ValueError, match="mode"):
            await AsyncFileIO.open(tmp_path / "exists", bad)
    with pytest.raises(ValueError, match="closefd=False"):
        await AsyncFileIO.open(tmp_path / "exists", "r", closefd=False)

    write_only = await AsyncFileIO.open(tmp_path / "exists", "w")
    with pytest.raises(io.UnsupportedOperation, match="reading"):
        await write_only.read(1)
    await write_only.close()
    with pytest.raises(ValueError, match="closed file"):
        await write_only.write(b"x")
    reader = await AsyncFileIO.open(tmp_path / "exists", "r")
    with pytest.raises(OSError, match="Invalid argument") as negative:
        await reader.seek(-1)
    assert negative.value.errno == errno.EINVAL
    await reader.close()


async def test_a_shared_descriptor_keeps_the_kernel_offset_in_step(
    tmp_path: Path,
) -> None:
    path = tmp_path / "shared"
    path.write_bytes(b"abcdefgh")
    fd = os.open(path, os.O_RDWR)
    try:
        os.lseek(fd, 2, os.SEEK_SET)
        raw = await AsyncFileIO.open(fd, "r+", closefd=False)
        assert raw.tell() == 2  # starts where the descriptor was
        assert await raw.read(3) == b"cde"
        await raw.close()
        assert os.lseek(fd, 0, os.SEEK_CUR) == 5  # and leaves it where io would
        assert os.read(fd, 10) == b"fgh"
    finally:
        os.close(fd)


async def test_append_writes_land_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "log"
    path.write_bytes(b"start")
    raw = await AsyncFileIO.open(path, "a+")
    assert raw.tell() == 5
    await raw.seek(0)
    await raw.write(b"-more")  # O_APPEND: at the end whatever the position
    assert raw.tell() == 10
    await raw.close()
    assert path.read_bytes() == b"start-more"


async def test_pipes_are_unseekable_and_read_to_the_end() -> None:
    read_end, write_end = os.pipe()
    reader = await AsyncFileIO.open(read_end, "r")
    writer = await AsyncFileIO.open(write_end, "w")
    try:
        assert not reader.seekable()
        reference = io.FileIO(read_end, "r", closefd=False)
        with pytest.raises(OSError) as expected:  # noqa: PT011 (the reference)
            reference.tell()
        reference.close()
        with pytest.raises(OSError, match=expected.value.strerror) as caught:
            reader.tell()
        # ESPIPE on POSIX; the Windows C runtime says EINVAL.
        assert caught.value.errno == expected.value.errno
        with pytest.raises(io.UnsupportedOperation):
            await reader.pread(1, 0)

        async def produce() -> None:
            for i in range(20):
                await writer.write(bytes([65 + i]) * 1000)
            await writer.close()

        producer = asyncio.ensure_future(produce())
        data = await reader.readall()
        await producer
        assert data == b"".join(bytes([65 + i]) * 1000 for i in range(20))
    finally:
        await reader.close()
        await writer.close()


async def test_proc_files_read_to_the_end() -> None:
    raw = await AsyncFileIO.open("/proc/self/status", "r")
    try:
        data = await raw.readall()
    finally:
        await raw.close()
    assert data.startswith(b"Name:")
    assert b"VmRSS" in data


async def test_positional_calls_leave_the_position_alone(tmp_path: Path) -> None:
    path = tmp_path / "p"
    path.write_bytes(b"0123456789")
    raw = await AsyncFileIO.open(path, "r+")
    try:
        await raw.seek(3)
        assert await raw.pread(4, 5) == b"5678"
        assert await raw.pwrite(b"AB", 0) == 2
        target = bytearray(2)
        assert await raw.preadinto(target, 0) == 2
        assert target == b"AB"
        assert raw.tell() == 3
        await raw.fsync()
        await raw.datasync()
        assert (await raw.stat()).st_size == 10
    finally:
        await raw.close()


async def test_an_unclosed_file_warns_and_closes(tmp_path: Path) -> None:
    raw = await AsyncFileIO.open(tmp_path / "leak", "w")
    fd = raw.fileno()
    with pytest.warns(ResourceWarning, match="unclosed file"):
        del raw  # the last reference: collected at once
    with pytest.raises(OSError) as closed:  # noqa: PT011 (Windows words it its way)
        os.fstat(fd)
    assert closed.value.errno == errno.EBADF
