"""aiofile's names (asyncfile.aiofile): adapters with aiofile's behaviour on
real files, and the places where aiofile was wrong and these are right."""

from __future__ import annotations

import asyncio
import codecs
import concurrent.futures
import io
import os
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from platforms import DIRECTORY_OPEN_ERROR

import asyncfile
from asyncfile import aiofile
from asyncfile.aiofile import (
    AIOFile,
    BinaryFileWrapper,
    LineReader,
    Reader,
    TextFileWrapper,
    Writer,
    async_open,
    clone,
)
from asyncfile.contexts import get_context

# Every chunk boundary falls inside some character: 1 to 4 bytes in UTF-8,
# surrogate pairs in UTF-16.
TEXT = "a\u00e9\u20ac\U0001f4be line\nsecond \u0436\u4e16\n\U0001f3f4last"


def test_names_are_exported_from_asyncfile() -> None:
    for name in (
        "AIOFile",
        "BinaryFileWrapper",
        "FileIOCloner",
        "FileIOWrapperBase",
        "LineReader",
        "Reader",
        "TextFileWrapper",
        "Writer",
        "async_open",
        "clone",
    ):
        assert getattr(asyncfile, name) is getattr(aiofile, name)
        assert name in asyncfile.__all__


# -- AIOFile -----------------------------------------------------------------


async def test_aiofile_round_trip_at_offsets(tmp_path: Path, backend: Backend) -> None:
    path = tmp_path / "file"
    async with AIOFile(path, "wb+", context=get_context(backend.name)) as afp:
        assert await afp.write(b"hello", offset=0) == 5
        assert await afp.write(bytearray(b"world"), offset=10) == 5
        assert await afp.read(5, offset=10) == b"world"
        assert await afp.read(offset=3) == b"lo\0\0\0\0\0world"
        assert await afp.read() == b"hello\0\0\0\0\0world"
        assert await afp.read(4, offset=100) == b""
        await afp.fsync()
        await afp.fdsync()
    assert path.read_bytes() == b"hello\0\0\0\0\0world"


async def test_aiofile_reads_a_file_of_unknown_size_to_its_end() -> None:
    async with AIOFile("/proc/self/status", "r") as afp:
        status = await afp.read()
    assert status.startswith("Name:")
    assert status.endswith("\n")


async def test_aiofile_concurrent_positional_writes(tmp_path: Path) -> None:
    path = tmp_path / "file"
    async with AIOFile(path, "w+") as afp:
        await asyncio.gather(*(afp.write(f"{i:04}", i * 4) for i in range(200)))
        assert await afp.read() == "".join(f"{i:04}" for i in range(200))


async def test_aiofile_attributes_and_lifecycle(tmp_path: Path) -> None:
    path = tmp_path / "file"
    afp = AIOFile(path, "w", encoding="latin-1")
    assert (afp.name, afp.encoding, afp.closed) == (str(path), "latin-1", True)
    assert afp.mode.writable
    assert not afp.mode.readable
    assert not afp.mode.binary
    with pytest.raises(asyncio.InvalidStateError):
        afp.fileno()
    opened = await asyncio.gather(afp.open(), afp.open(), afp.open())
    assert [fd for fd in opened if fd is not None] == [afp.fileno()]
    assert not afp.closed
    assert afp.loop is asyncio.get_running_loop()
    assert await afp.write("\u00e9t\u00e9") == 3  # bytes, in latin-1
    await afp.close()
    await afp.close()
    assert afp.closed
    with pytest.raises(asyncio.InvalidStateError):
        await afp.open()
    assert path.read_bytes() == "\u00e9t\u00e9".encode("latin-1")


async def test_aiofile_truncate_and_empty_reads(tmp_path: Path) -> None:
    path = tmp_path / "file"
    async with AIOFile(path, "w+") as afp:
        await afp.write("hello")
        await afp.truncate(2)
        assert await afp.read() == "he"
        await afp.truncate()
        assert await afp.read() == ""
        assert await afp.write("") == 0


async def test_aiofile_checks(tmp_path: Path) -> None:
    path = tmp_path / "file"
    with pytest.raises(ValueError, match="invalid mode"):
        AIOFile(path, "rw")
    with pytest.raises(ValueError, match="invalid mode"):
        AIOFile(path, "r++")
    with pytest.raises(FileNotFoundError):
        await AIOFile(path / "missing", "r")
    async with AIOFile(path, "xb+") as afp:
        with pytest.raises(ValueError, match="bytes"):
            await afp.write("text")
        with pytest.raises(ValueError, match="size"):
            await afp.read(-2)
    async with AIOFile(path, "r") as afp:
        with pytest.raises(ValueError, match="str"):
            await afp.write(b"bytes")
    with pytest.raises(FileExistsError):
        await AIOFile(path, "x")
    with pytest.raises(DIRECTORY_OPEN_ERROR):
        await AIOFile(tmp_path, "r")


async def test_aiofile_opens_and_truncates_on_its_executor(tmp_path: Path) -> None:
    path = tmp_path / "file"
    calls = []

    class CountingExecutor(concurrent.futures.ThreadPoolExecutor):
        def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            calls.append(fn)
            return super().submit(fn, *args, **kwargs)

    with CountingExecutor(1) as executor:
        async with AIOFile(path, "w", executor=executor) as afp:
            await afp.truncate(10)
    assert len(calls) == 2
    assert path.stat().st_size == 10


async def test_aiofile_text_writes_a_bom_at_the_start_only(tmp_path: Path) -> None:
    path = tmp_path / "file"
    async with AIOFile(path, "w+", encoding="utf-16") as afp:
        first = await afp.write("ab")
        await afp.write("cd", offset=first)
        assert await afp.read() == "abcd"
    assert path.read_bytes() == "abcd".encode("utf-16")


async def test_aiofile_from_fp_leaves_the_file_open(tmp_path: Path) -> None:
    path = tmp_path / "file"
    with open(path, "wb+") as fp:  # noqa: ASYNC230 (a built-in file to wrap)
        afp = AIOFile.from_fp(fp)
        assert await afp.open() is None
        await afp.write(b"data")
        await afp.close()
        assert not fp.closed
        assert fp.read() == b"data"


# -- Reader, Writer, LineReader ------------------------------------------------


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 16, 10**6])
async def test_reader_binary_chunks_from_an_offset(
    tmp_path: Path, chunk_size: int
) -> None:
    path = tmp_path / "file"
    payload = os.urandom(100)
    path.write_bytes(payload)
    async with AIOFile(path, "rb") as afp:
        reader = Reader(afp, offset=7, chunk_size=chunk_size)
        chunks = [chunk async for chunk in reader]
    assert all(len(chunk) == chunk_size for chunk in chunks[:-1])
    assert b"".join(chunks) == payload[7:]
    assert reader.offset == 100


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-16-be", "utf-32"])
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 7])
async def test_reader_decodes_characters_split_across_chunks(
    tmp_path: Path, encoding: str, chunk_size: int
) -> None:
    path = tmp_path / "file"
    path.write_bytes(TEXT.encode(encoding))
    async with AIOFile(path, "r", encoding=encoding) as afp:
        chunks = [chunk async for chunk in Reader(afp, chunk_size=chunk_size)]
    assert all(chunks)
    assert "".join(chunks) == TEXT


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 8])
async def test_utf16_big_endian_bom_regression(tmp_path: Path, chunk_size: int) -> None:
    """aiofile decoded the chunks after the first as little-endian, and its
    wrapper's read(n) repeated characters."""
    path = tmp_path / "file"
    path.write_bytes(codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"))
    async with AIOFile(path, "r", encoding="utf-16") as afp:
        chunks = [chunk async for chunk in Reader(afp, chunk_size=chunk_size)]
        assert "".join(chunks) == TEXT
        wrapper = TextFileWrapper(afp)
        parts = []
        while part := await wrapper.read(chunk_size):
            parts.append(part)
        assert "".join(parts) == TEXT


async def test_reader_fails_on_a_truncated_character(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes("ab\u20ac".encode()[:-1])
    async with AIOFile(path, "r") as afp:
        reader = Reader(afp, chunk_size=2)
        assert await reader.read_chunk() == "ab"
        with pytest.raises(UnicodeDecodeError):
            await reader.read_chunk()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-8-sig"])
async def test_writer_appends_after_itself_with_one_bom(
    tmp_path: Path, encoding: str
) -> None:
    path = tmp_path / "file"
    async with AIOFile(path, "w", encoding=encoding) as afp:
        writer = Writer(afp)
        for part in ("\u00e9", "\U0001f4be", "x\n"):
            await writer(part)
        assert writer.offset == len(("\u00e9\U0001f4bex\n").encode(encoding))
    assert path.read_text(encoding=encoding) == "\u00e9\U0001f4bex\n"


async def test_writer_from_an_offset_mixes_text_and_bytes(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"0123456789")
    async with AIOFile(path, "r+b", encoding="utf-16-le") as afp:
        writer = Writer(afp, offset=2)
        await writer(b"AB")
        await writer("C")
    assert path.read_bytes() == b"01ABC\x006789"


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4096])
@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
async def test_line_reader_text(tmp_path: Path, chunk_size: int, encoding: str) -> None:
    path = tmp_path / "file"
    path.write_bytes(TEXT.encode(encoding))
    async with AIOFile(path, "r", encoding=encoding) as afp:
        lines = [line async for line in LineReader(afp, chunk_size=chunk_size)]
    assert lines == TEXT.splitlines(keepends=True)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4096])
async def test_line_reader_splits_at_any_separator(
    tmp_path: Path, chunk_size: int
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"one\r\ntwo\nstill two\r\n\r\nlast\r")
    async with AIOFile(path, "rb") as afp:
        reader = LineReader(afp, chunk_size=chunk_size, line_sep="\r\n")
        lines = [line async for line in reader]
        assert lines == [b"one\r\n", b"two\nstill two\r\n", b"\r\n", b"last\r"]
        reader = LineReader(afp, offset=5, chunk_size=chunk_size, line_sep=b"two")
        assert [line async for line in reader] == [
            b"two",
            b"\nstill two",
            b"\r\n\r\nlast\r",
        ]
    with pytest.raises(ValueError, match="empty"):
        LineReader(afp, line_sep="")


# -- async_open: file-like wrappers --------------------------------------------------


async def test_async_open_text(tmp_path: Path) -> None:
    path = tmp_path / "file"
    async with async_open(path, "w+") as afp:
        assert isinstance(afp, TextFileWrapper)
        assert await afp.write(TEXT) == len(TEXT)
        assert afp.tell() == len(TEXT.encode())
        afp.seek(0)
        assert await afp.read(3) == TEXT[:3]
        assert afp.tell() == len(TEXT[:3].encode())
        assert await afp.readline() == TEXT.splitlines(keepends=True)[0][3:]
        assert [line async for line in afp] == TEXT.splitlines(keepends=True)[1:]
        afp.seek(0)
        assert "".join([chunk async for chunk in afp.iter_chunked(4)]) == TEXT
        await afp.flush(sync_metadata=True)
    assert afp.closed
    assert path.read_text(encoding="utf-8") == TEXT


async def test_async_open_binary(tmp_path: Path) -> None:
    path = tmp_path / "file"
    async with async_open(path, "wb+") as afp:
        assert isinstance(afp, BinaryFileWrapper)
        assert await afp.write(b"line 1\nline 2\nrest") == 18
        afp.seek(5)
        assert await afp.read(3) == b"1\nl"
        assert afp.tell() == 8
        assert [line async for line in afp] == [b"ine 2\n", b"rest"]
        afp.seek(0)
        assert [chunk async for chunk in afp.iter_chunked(7)] == [
            b"line 1\n",
            b"line 2\n",
            b"rest",
        ]
        await afp.flush()


async def test_async_open_readline_size_keeps_the_rest_regression(
    tmp_path: Path,
) -> None:
    """aiofile returned up to ``size`` bytes past the line's end and skipped
    the rest of what it had read ahead."""
    path = tmp_path / "file"
    path.write_bytes(b"ab\ncdefgh\nij")
    for mode, convert in (("rb", bytes), ("r", bytes.decode)):
        async with async_open(path, mode) as afp:
            assert await afp.readline(5) == convert(b"ab\n")
            assert await afp.readline(5) == convert(b"cdefg")
            assert await afp.readline(5) == convert(b"h\n")
            assert await afp.readline(5) == convert(b"ij")
            assert await afp.readline(5) == convert(b"")


async def test_async_open_readline_with_a_separator(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_text("a;\u20acb;;c", encoding="utf-8")
    async with async_open(path, "r") as afp:
        assert await afp.readline(newline=";") == "a;"
        assert await afp.readline(newline=";") == "\u20acb;"
        assert await afp.readline(newline=";") == ";"
        assert await afp.readline(1, newline=";") == "c"
        assert await afp.readline(newline=";") == ""
    async with async_open(path, "rb") as afp:
        assert await afp.readline(newline=b"b;;") == "a;\u20acb;;".encode()
        assert await afp.read() == b"c"


async def test_async_open_text_write_after_readline_lands_at_the_position(
    tmp_path: Path,
) -> None:
    """io writes text after its read-ahead; aiofile (and this) at the position."""
    path = tmp_path / "file"
    path.write_text("one\ntwo\nthree\n", encoding="utf-8", newline="\n")
    async with async_open(path, "r+") as afp:
        assert await afp.readline() == "one\n"
        await afp.write("TWO")
        assert await afp.readline() == "\n"
    assert path.read_text(encoding="utf-8") == "one\nTWO\nthree\n"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32", "utf-8-sig"])
async def test_async_open_text_with_a_bom(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "file"
    async with async_open(path, "w+", encoding=encoding) as afp:
        await afp.write(TEXT[:10])
        await afp.write(TEXT[10:])
        afp.seek(0)
        assert await afp.read() == TEXT
    assert path.read_bytes() == TEXT.encode(encoding)
    async with async_open(path, "r", encoding=encoding) as afp:
        lines = [line async for line in afp]
    assert lines == TEXT.splitlines(keepends=True)


async def test_async_open_append(tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"start\n")
    afp = async_open(path, "a+")
    assert afp.tell() == 6
    await afp
    assert afp.tell() == 6
    assert await afp.read() == ""
    await afp.write("more\n")
    afp.seek(0)
    assert await afp.read() == "start\nmore\n"
    await afp.close()
    with pytest.raises(ValueError, match="closed"):
        await afp.read()


async def test_async_open_an_open_file_object(tmp_path: Path) -> None:
    path = tmp_path / "file"
    with open(path, "w+", encoding="utf-8") as fp:  # noqa: ASYNC230 (to wrap)
        async with async_open(fp) as afp:
            assert isinstance(afp, TextFileWrapper)
            await afp.write("text\n")
            afp.seek(0)
            assert await afp.read() == "text\n"
        assert not fp.closed
    with open(path, "rb") as fp:  # noqa: ASYNC230 (a built-in file to wrap)
        afp = async_open(fp)
        assert isinstance(afp, BinaryFileWrapper)
        with pytest.raises(ValueError, match="Arguments denied"):
            async_open(fp, "rb", "utf-8")


async def test_wrappers_check_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "file"
    with pytest.raises(ValueError, match="binary"):
        BinaryFileWrapper(AIOFile(path, "w"))
    with pytest.raises(ValueError, match="text"):
        TextFileWrapper(AIOFile(path, "wb"))
    async with async_open(path, "w") as afp:
        with pytest.raises(io.UnsupportedOperation):
            await afp.read()


# -- clone --------------------------------------------------------------------------


async def test_clone_has_its_own_position_and_keeps_the_file_open(
    tmp_path: Path,
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"0123456789")
    async with async_open(path, "rb") as afp:
        assert await afp.read(4) == b"0123"
        async with clone(afp) as first:
            second = await clone(afp)
            assert await first.read(2) == b"01"
            assert await second.read(3) == b"012"
            assert await afp.read(2) == b"45"
            await second.close()
            assert second.closed
            assert not afp.closed
            assert await first.read() == b"23456789"
        assert not afp.file.closed
        assert await afp.read() == b"6789"
    assert afp.file.closed


async def test_clones_read_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "file"
    payload = os.urandom(300_000)
    path.write_bytes(payload)

    async def read_all(wrapper: BinaryFileWrapper) -> bytes:
        return b"".join([chunk async for chunk in wrapper.iter_chunked(4096)])

    async with async_open(path, "rb") as source:
        clones = [await clone(source) for _ in range(4)]
        results = await asyncio.gather(*(read_all(c) for c in clones))
        for copy in clones:
            await copy.close()
    assert results == [payload] * 4


async def test_closing_a_clone_twice_counts_once_regression(tmp_path: Path) -> None:
    """aiofile's cloner closed its clone again on exit, closing the source's
    file under it."""
    path = tmp_path / "file"
    path.write_bytes(b"data")
    async with async_open(path, "rb") as afp:
        async with clone(afp) as copy:
            await copy.close()
        assert await afp.read() == b"data"
    assert afp.file.closed


# -- contexts -------------------------------------------------------------------------


def test_create_context_serves_the_loop_and_closes_with_it(tmp_path: Path) -> None:
    path = tmp_path / "file"
    loop = asyncio.new_event_loop()

    async def main() -> Any:
        context = aiofile.create_context()
        assert aiofile.get_default_context() is context
        async with AIOFile(path, "w+") as afp:
            await afp.write("data")
            assert await afp.read() == "data"
        return context

    try:
        context = loop.run_until_complete(main())
        assert aiofile.DEFAULT_CONTEXT_STORE[id(loop)] is context
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
    assert context.closed
    assert id(loop) not in aiofile.DEFAULT_CONTEXT_STORE


async def test_default_context_is_the_loops() -> None:
    assert aiofile.get_default_context() is get_context()


def test_text_encoding_helper_matches_io() -> None:
    """What a positional text write past the start encodes: io's bytes."""
    for encoding in ("utf-16", "utf-32", "utf-8-sig", "utf-8"):
        stream = io.BytesIO()
        text = io.TextIOWrapper(stream, encoding=encoding)
        text.write("x")
        text.flush()
        start = stream.tell()
        text.write("\u20ac")
        text.flush()
        assert aiofile._encode("\u20ac", encoding, False) == stream.getvalue()[start:]
