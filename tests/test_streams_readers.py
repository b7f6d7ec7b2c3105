"""ChunkReader and LineStream: ranges, read-ahead, buffer reuse, lines."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from mounts import faultfs
from platforms import DIRECTORY_FDS

import asyncfile
from asyncfile import (
    ChunkReader,
    LineStream,
    LineTooLongError,
    contexts,
    core,
)
from asyncfile.core import python_aio_asyncio
from asyncfile.streams import _chunks

SIZE = 1_000_003


@pytest.fixture(params=["speedups", "python"])
def chunk_iterator(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> str:
    """``async for`` over a ChunkReader through the C iterator (which serves
    cached chunks itself), and through ``__anext__`` alone."""
    if request.param == "python":
        monkeypatch.setattr(_chunks, "Chunks", None)
    elif _chunks.Chunks is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    return str(request.param)


@pytest.fixture
def data_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = random.Random(5).randbytes(SIZE)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    return path, data


async def collect(reader: ChunkReader) -> list[bytes]:
    return [bytes(chunk) async for chunk in reader]


@pytest.mark.every_loop
@pytest.mark.parametrize("reuse", [False, True])
@pytest.mark.parametrize(
    ("start", "end", "chunk"),
    [(0, None, 65536), (123, 500_001, 4096), (SIZE - 5, None, 4096), (7, 7, 100)],
)
async def test_chunks_cover_exactly_the_range(
    data_file: tuple[Path, bytes],
    reuse: bool,
    start: int,
    end: int | None,
    chunk: int,
    chunk_iterator: str,
) -> None:
    path, data = data_file
    reader = ChunkReader(
        path, chunk_size=chunk, start=start, end=end, reuse_buffers=reuse
    )
    chunks = await collect(reader)
    assert b"".join(chunks) == data[start:end]
    assert all(len(c) == chunk for c in chunks[:-1])
    assert reader.closed


@pytest.mark.parametrize("reuse", [False, True])
async def test_chunks_of_a_file_on_a_slow_device_are_read_ahead(
    tmp_path: Path, reuse: bool
) -> None:
    """Reads that wait for the device keep ``depth`` in flight and deliver
    the same chunks as cached ones."""
    data = os.urandom(64 * 4096 + 5)
    with faultfs(tmp_path / "slow", read_delay=0.002) as mountpoint:
        path = mountpoint / "data.bin"
        path.write_bytes(data)
        depths = []
        chunks = []
        async with ChunkReader(
            path, chunk_size=4096, depth=3, reuse_buffers=reuse
        ) as r:
            async for chunk in r:
                chunks.append(bytes(chunk))
                depths.append(len(r._pending))
    assert b"".join(chunks) == data
    assert max(depths) == 3, "no read-ahead while the device was read"


async def test_end_beyond_the_file_stops_at_its_end(
    data_file: tuple[Path, bytes], chunk_iterator: str
) -> None:
    path, data = data_file
    chunks = await collect(ChunkReader(path, chunk_size=300_000, end=SIZE * 2))
    assert [len(c) for c in chunks] == [300_000, 300_000, 300_000, 100_003]
    assert b"".join(chunks) == data


@pytest.mark.every_loop
async def test_reused_buffers_are_few_and_chunks_valid_until_next(
    data_file: tuple[Path, bytes],
) -> None:
    path, data = data_file
    seen: set[int] = set()
    offset = 0
    async with ChunkReader(path, chunk_size=8192, depth=3, reuse_buffers=True) as r:
        async for view in r:
            assert isinstance(view, memoryview)
            seen.add(id(view.obj))
            # Valid now, even though the next reads are already done.
            assert view == data[offset : offset + len(view)]
            offset += len(view)
    assert offset == SIZE
    assert len(seen) <= 4  # depth + 1 buffers for 123 chunks


async def test_bytes_chunks_may_be_kept(data_file: tuple[Path, bytes]) -> None:
    path, data = data_file
    chunks = [c async for c in ChunkReader(path, chunk_size=50_000)]
    assert all(type(c) is bytes for c in chunks)
    assert b"".join(chunks) == data


async def test_file_object_source_is_borrowed(
    data_file: tuple[Path, bytes], chunk_iterator: str
) -> None:
    path, data = data_file
    async with asyncfile.open(path, "rb") as f:
        await f.seek(10)
        chunks = await collect(ChunkReader(f, chunk_size=4096, start=100, end=9000))
        assert b"".join(chunks) == data[100:9000]
        assert f.tell() == 10
        assert not f.closed
        assert await f.read(5) == data[10:15]


async def test_missing_path_raises_with_errno_and_path(tmp_path: Path) -> None:
    missing = tmp_path / "missing.bin"
    with pytest.raises(FileNotFoundError) as info:
        await ChunkReader(missing).read_chunk()
    assert info.value.errno == errno.ENOENT
    assert info.value.filename == str(missing)


class _Directory:
    """A source whose reads fail: a directory's descriptor (EISDIR)."""

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def fileno(self) -> int:
        return self._fd


@pytest.fixture
def directory(tmp_path: Path) -> Iterator[_Directory]:
    DIRECTORY_FDS.require()
    path = tmp_path / "dir"
    path.mkdir()
    fd = os.open(path, os.O_RDONLY)
    try:
        yield _Directory(fd)
    finally:
        os.close(fd)


async def test_read_error_is_raised_in_order_and_closes(directory: _Directory) -> None:
    reader = ChunkReader(directory)
    with pytest.raises(IsADirectoryError):
        await reader.read_chunk()
    assert reader.closed
    with pytest.raises(ValueError, match="closed"):
        await reader.read_chunk()


async def test_a_loop_meets_a_read_error_after_the_chunks_before_it(
    tmp_path: Path, directory: _Directory, chunk_iterator: str
) -> None:
    """``async for`` raises a read error where it happens and closes the
    reader; a file that shrinks under the loop ends it at the end of what was
    read: where the file now ends, or later when reads ahead (up to
    ``depth`` of them) were done before it shrank."""
    reader = ChunkReader(directory)
    with pytest.raises(IsADirectoryError):
        async for _chunk in reader:
            pass
    assert reader.closed
    data = os.urandom(10 * 4096)
    path = tmp_path / "shrinks.bin"
    path.write_bytes(data)
    got = []
    async with ChunkReader(path, chunk_size=4096, depth=4) as reader:
        async for chunk in reader:
            got.append(chunk)
            if len(got) == 3:
                os.truncate(path, 5 * 4096 + 10)
        read = b"".join(got)
        assert reader.offset == len(read)
    assert read == data[: len(read)]
    assert 5 * 4096 + 10 <= len(read) <= (3 + 4) * 4096
    assert reader.closed


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"chunk_size": 0}, "chunk_size"),
        ({"depth": 0}, "depth"),
        ({"start": -1}, "start"),
        ({"start": 10, "end": 5}, "before start"),
    ],
)
def test_bad_arguments(kwargs: dict[str, int], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChunkReader("x", **kwargs)


def test_not_a_source() -> None:
    async def main() -> None:
        await ChunkReader(3.5).read_chunk()  # type: ignore[arg-type]

    with pytest.raises(TypeError, match="path or an open file object"):
        asyncio.run(main())


@pytest.mark.every_loop
async def test_cancelled_read_loses_nothing(tmp_path: Path) -> None:
    """On the thread backend every read suspends, so cancellation lands on a
    pending read; the next call returns that same chunk."""
    data = random.Random(1).randbytes(64 * 4096)
    path = tmp_path / "d.bin"
    path.write_bytes(data)
    async with python_aio_asyncio.AsyncioContext() as ctx:
        reader = ChunkReader(path, chunk_size=4096, depth=4, context=ctx)
        got = bytearray()
        cancelled = 0
        for attempt in range(1000):
            task = asyncio.ensure_future(reader.read_chunk())
            if attempt % 3 == 0:
                await asyncio.sleep(0)
                task.cancel()
            try:
                chunk = await task
            except asyncio.CancelledError:
                cancelled += 1
                continue
            if not chunk:
                break
            got += chunk
        await reader.aclose()
        assert bytes(got) == data
        assert cancelled > 0


# -- lines ----------------------------------------------------------------------

TEXT = "".join(f"line {i} é€𝄞{'x' * (i % 50)}\n" for i in range(3000)) + "tail"


@pytest.mark.every_loop
@pytest.mark.parametrize("chunk", [7, 4096])
async def test_text_lines_match_splitlines(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "t.txt"
    path.write_text(TEXT, encoding="utf-8", newline="\n")
    stream = LineStream(path, encoding="utf-8", chunk_size=chunk)
    lines = [line async for line in stream]
    assert lines == TEXT.splitlines(keepends=True)
    assert stream.closed


@pytest.mark.parametrize("separator", [b"\r\n", b"<sep>", b"\x00"])
async def test_binary_multi_char_separators(tmp_path: Path, separator: bytes) -> None:
    records = [f"rec{i}".encode() * (i % 7) for i in range(500)]
    payload = separator.join(records)
    path = tmp_path / "r.bin"
    path.write_bytes(payload)
    # A chunk size that splits separators across chunks.
    async with LineStream(path, separator=separator, chunk_size=3) as stream:
        lines = [line async for line in stream]
    expected = [r + separator for r in records[:-1]]
    if records[-1]:
        expected.append(records[-1])
    assert lines == expected


async def test_readlines_batches_with_hint(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_text(TEXT, encoding="utf-8", newline="\n")
    stream = LineStream(path, chunk_size=1024)
    batches = []
    while batch := await stream.readlines(2000):
        batches.append(batch)
        assert sum(map(len, batch)) >= 2000 or batch[-1] == b"tail"
    lines = [line for batch in batches for line in batch]
    assert lines == TEXT.encode().splitlines(keepends=True)
    assert await stream.readlines() == []


async def test_long_line_raises_without_reading_everything(tmp_path: Path) -> None:
    path = tmp_path / "long.txt"
    path.write_bytes(b"short\n" + b"x" * 5_000_000 + b"\nafter\n")
    stream = LineStream(path, max_line_length=1000, chunk_size=4096)
    assert await stream.readline() == b"short\n"
    with pytest.raises(LineTooLongError, match=r"line 2 .* max_line_length=1000") as e:
        await stream.readline()
    assert e.value.line_number == 2
    assert stream._chunks.offset < 20_000  # stopped early
    await stream.aclose()


async def test_a_line_exactly_at_the_limit_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "t.txt"
    path.write_bytes(b"a" * 9 + b"\n" + b"b" * 10)
    lines = [line async for line in LineStream(path, max_line_length=10)]
    assert lines == [b"a" * 9 + b"\n", b"b" * 10]
    with pytest.raises(LineTooLongError):
        _ = [line async for line in LineStream(path, max_line_length=9)]


def test_separator_type_must_match_mode() -> None:
    with pytest.raises(TypeError):
        LineStream("x", separator="\n")  # type: ignore[call-overload]
    with pytest.raises(TypeError):
        LineStream("x", encoding="utf-8", separator=b"\n")  # type: ignore[call-overload]
    with pytest.raises(ValueError, match="empty"):
        LineStream("x", separator=b"")


@pytest.mark.every_loop
@pytest.mark.parametrize("reuse", [False, True])
async def test_streaming_a_cached_file_gives_the_loop_turns(
    tmp_path: Path, chunk_iterator: str, reuse: bool
) -> None:
    """Page-cache hits complete inline, but the loop still runs between them:
    a 1 ms ticker keeps ticking while 128 MiB stream by (again and again for
    0.1 s: one pass may take only a few ms)."""
    path = tmp_path / "big.bin"
    path.write_bytes(os.urandom(1 << 20) * 128)
    path.read_bytes()  # cached
    loop = asyncio.get_running_loop()
    streaming = False
    gaps: list[float] = []  # between ticks while chunks stream

    async def tick() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.001)
            now = loop.time()
            if streaming:
                gaps.append(now - last)
            last = now

    ticker = asyncio.ensure_future(tick())
    await asyncio.sleep(0.01)
    started = loop.time()
    while loop.time() - started < 0.1:
        total = 0
        async with ChunkReader(path, reuse_buffers=reuse) as chunks:
            streaming = True
            async for chunk in chunks:
                total += len(chunk)
            streaming = False
        assert total == 128 << 20
    ticker.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await ticker
    assert len(gaps) >= 10, gaps
    # Nearly every turn comes within a few ms; a rare late one is the host's
    # (this shared VM stalls now and then for tens of ms, whatever runs).
    gaps.sort()
    assert gaps[len(gaps) * 9 // 10] < 0.02, gaps


async def test_one_read_at_a_time(data_file: tuple[Path, bytes]) -> None:
    path, _ = data_file
    async with (
        python_aio_asyncio.AsyncioContext() as ctx,  # reads suspend
        ChunkReader(path, context=ctx) as reader,
    ):
        first = asyncio.ensure_future(reader.read_chunk())
        with pytest.raises(RuntimeError, match="already running"):
            await asyncio.gather(first, reader.read_chunk())
        assert len(await first) == 256 * 1024


async def test_read_ahead_widens_to_depth_when_reads_wait(
    data_file: tuple[Path, bytes],
) -> None:
    """Reads that wait for the device (every read, on the thread backend)
    keep depth in flight; page-cache hits are read when asked for."""
    path, data = data_file
    async with (
        python_aio_asyncio.AsyncioContext() as ctx,
        ChunkReader(path, chunk_size=4096, depth=5, context=ctx) as r,
    ):
        assert await r.read_chunk() == data[:4096]
        assert len(r._pending) == 5
    if core.thread_aio is None:
        pytest.skip(f"no native backend here: {core.unavailable}")
    # A native context completes page-cache hits inline (whatever CAIO_IMPL says).
    cached = contexts.get_context("thread")
    async with ChunkReader(path, chunk_size=4096, depth=5, context=cached) as r:
        assert await r.read_chunk() == data[:4096]
        assert len(r._pending) == 0


async def test_a_reader_that_reached_the_end_keeps_answering_the_end(
    tmp_path: Path,
) -> None:
    # It closes itself there; a call after that (for one, after a call that
    # reached the end was cancelled while closing) said "closed ChunkReader".
    path = tmp_path / "d.bin"
    path.write_bytes(b"x" * 10000)
    reader = ChunkReader(path, chunk_size=4096)
    chunks = [chunk async for chunk in reader]
    assert b"".join(chunks) == b"x" * 10000
    assert await reader.read_chunk() == b""
    assert [chunk async for chunk in reader] == []
    await reader.aclose()
    closed = ChunkReader(path, chunk_size=4096)
    await closed.aclose()
    with pytest.raises(ValueError, match="closed ChunkReader"):
        await closed.read_chunk()
