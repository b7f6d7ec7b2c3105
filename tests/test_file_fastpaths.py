"""Calls that complete without the lock (a line already decoded, text that fits
the pending bytes, a binary read the buffer or the page cache answers, a
reader's close) keep the guarantees of the locked ones: call order, nothing
lost, io's results, and errors once the file is closed."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import os
from pathlib import Path
from typing import Any

import pytest

import asyncfile
from asyncfile.io import _buffered, _text
from asyncfile.io._raw import AsyncFileIO

#: What text mode writes for "\n" by default, as io does on this system.
LINESEP = os.linesep.encode()

LINES = [f"line {i:05d} {'x' * (i % 70)}\n" for i in range(3000)]


@pytest.fixture(autouse=True, params=["speedups", "python"])
def speedups(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs with the C line iterator and the shortcuts of text
    writes and binary reads and writes, and without them."""
    if request.param == "python":
        monkeypatch.setattr(_text, "TextLines", None)
        if _buffered.FastPathMethod is not None:
            write = _text.TextIOWrapper.write.__func__  # type: ignore[attr-defined]
            monkeypatch.setattr(_text.TextIOWrapper, "write", write)
            read = _buffered.BufferedReader.read.__func__  # type: ignore[attr-defined]
            monkeypatch.setattr(_buffered.BufferedReader, "read", read)
            binary_write = _buffered.BufferedWriter.write.__func__  # type: ignore[attr-defined]
            monkeypatch.setattr(_buffered.BufferedWriter, "write", binary_write)
            close = _buffered.BufferedReader.close.__func__  # type: ignore[attr-defined]
            monkeypatch.setattr(_buffered.BufferedReader, "close", close)
    elif _text.TextLines is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "lines.txt"
    path.write_text("".join(LINES), encoding="utf-8")
    return path


async def test_two_loops_over_one_file_share_its_lines(text_file: Path) -> None:
    """Each line goes to exactly one of two concurrent ``async for`` loops,
    and each loop sees its lines in file order."""
    seen: dict[str, list[str]] = {"a": [], "b": []}
    async with asyncfile.open(text_file, encoding="utf-8") as f:

        async def consume(name: str) -> None:
            async for line in f:
                seen[name].append(line)
                if len(seen[name]) % 7 == 0:
                    await asyncio.sleep(0)

        await asyncio.gather(consume("a"), consume("b"))
    assert sorted(seen["a"] + seen["b"]) == sorted(LINES)
    for lines in seen.values():
        assert lines == sorted(lines, key=LINES.index)
    assert seen["a"]
    assert seen["b"]


async def test_reads_between_lines_continue_where_the_loop_stopped(
    text_file: Path,
) -> None:
    """``read(n)`` and ``readline()`` inside ``async for`` take the text after
    the last line handed out, as with io's ``next()``."""
    ours: list[str] = []
    async with asyncfile.open(text_file, encoding="utf-8") as f:
        async for line in f:
            ours.append(line)
            if len(ours) % 100 == 1:
                ours.append(await f.read(5))
                ours.append(await f.readline())
    assert ours == _io_lines_with_reads(text_file)


def _io_lines_with_reads(path: Path) -> list[str]:
    theirs: list[str] = []
    with open(path, encoding="utf-8") as g:
        for line in g:
            theirs.append(line)
            if len(theirs) % 100 == 1:
                theirs.append(g.read(5))
                theirs.append(g.readline())
    return theirs


async def test_a_loop_on_a_closed_file_raises_value_error(text_file: Path) -> None:
    f = await asyncfile.open(text_file, encoding="utf-8")
    lines = f.__aiter__()
    assert await lines.__anext__() == LINES[0]
    await f.close()
    with pytest.raises(ValueError, match="closed file"):
        await lines.__anext__()


async def test_a_loop_waits_for_a_call_in_progress(tmp_path: Path) -> None:
    """A line is not handed out while another task's call holds the file."""
    path = tmp_path / "f.txt"
    path.write_text("a\nb\nc\n", encoding="utf-8")
    order: list[str] = []
    async with asyncfile.open(path, "r+", encoding="utf-8") as f:
        lines = f.__aiter__()
        order.append(await lines.__anext__())
        await f._lock.acquire()  # as a call in progress does
        waiting = asyncio.ensure_future(lines.__anext__())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        order.append("released")
        f._lock.release()
        order.append(await waiting)
    assert order == ["a\n", "released", "b\n"]


async def test_writes_during_a_flush_are_kept_in_order(tmp_path: Path) -> None:
    """A write made while a flush is writing the pending text waits for it,
    and lands after it (a write that skipped the wait would be dropped when
    the flush clears what it wrote)."""
    path = tmp_path / "out.txt"
    # A small buffer: the flush suspends while it hands the text on.
    async with asyncfile.open(path, "w", buffering=64, encoding="utf-8") as f:
        for i in range(200):
            await f.write(f"{i}\n")
        flushing = asyncio.ensure_future(f.flush())
        await asyncio.sleep(0)
        writes = [asyncio.ensure_future(f.write(f"late {i}\n")) for i in range(50)]
        await asyncio.gather(flushing, *writes)
    expected = "".join(f"{i}\n" for i in range(200))
    expected += "".join(f"late {i}\n" for i in range(50))
    assert path.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "ascii", "utf-16"])
async def test_many_small_writes_are_the_bytes_io_writes(
    tmp_path: Path, encoding: str
) -> None:
    text = ["plain\n", "é\n" if encoding != "ascii" else "e\n", "x" * 9000, "\n"]
    async with asyncfile.open(tmp_path / "ours", "w", encoding=encoding) as f:
        for i in range(3000):
            assert await f.write(text[i % len(text)]) == len(text[i % len(text)])
    _io_write(tmp_path / "theirs", encoding, [text[i % len(text)] for i in range(3000)])
    assert (tmp_path / "ours").read_bytes() == (tmp_path / "theirs").read_bytes()


async def test_a_write_that_cannot_be_encoded_raises_and_writes_nothing(
    tmp_path: Path,
) -> None:
    path = tmp_path / "out.txt"
    async with asyncfile.open(path, "w", encoding="ascii") as f:
        await f.write("before\n")
        with pytest.raises(UnicodeEncodeError):
            await f.write("caf\u00e9\n")
        await f.write("after\n")
    assert path.read_bytes() == b"before\nafter\n".replace(b"\n", LINESEP)


async def test_default_buffer_of_a_writer_is_at_least_128_kib(tmp_path: Path) -> None:
    """``buffering=-1`` gives a file that writes Python 3.14's size: the block
    size within 128 KiB to 8 MiB (each flush costs a trip through the kernel's
    queue); a reader keeps the running Python's io's (tests/test_python_versions.py)."""
    path = tmp_path / "f.bin"
    blksize = getattr(os.stat(tmp_path), "st_blksize", io.DEFAULT_BUFFER_SIZE)
    async with asyncfile.open(path, "wb") as f:
        assert f.buffer_size == max(min(blksize, 8 << 20), 128 << 10)
        await f.write(b"x" * (100 << 10))
        assert path.stat().st_size == 0  # still buffered
    assert path.stat().st_size == 100 << 10
    async with asyncfile.open(path, "wb", buffering=4096) as f:
        assert f.buffer_size == 4096


def _io_write(path: Path, encoding: str, texts: list[str]) -> None:
    with open(path, "w", encoding=encoding) as g:
        for text in texts:
            g.write(text)


@pytest.mark.parametrize("how", ["detach", "close buffer", "close raw"])
async def test_a_loop_fails_like_io_once_the_layers_below_go(
    text_file: Path, how: str
) -> None:
    f = await asyncfile.open(text_file, encoding="utf-8")
    g = open(text_file, encoding="utf-8")  # noqa: SIM115, ASYNC230
    lines = f.__aiter__()
    assert await lines.__anext__() == next(g) == LINES[0]
    if how == "detach":
        await (await f.detach()).close()
        g.detach().close()
    elif how == "close buffer":
        await f.buffer.close()
        g.buffer.close()
    else:
        await f.buffer.raw.close()
        g.buffer.raw.close()
    with pytest.raises(ValueError, match=r"closed|detached") as theirs:
        next(g)
    with pytest.raises(ValueError, match=r"closed|detached") as ours:
        await lines.__anext__()
    assert str(ours.value) == str(theirs.value)


async def test_a_loop_goes_on_when_the_file_grows(tmp_path: Path) -> None:
    """Like io's iterator, the same one yields lines appended after it ended."""
    path = tmp_path / "growing.txt"
    path.write_text("first\n", encoding="utf-8")
    async with asyncfile.open(path, encoding="utf-8") as f:
        lines = f.__aiter__()
        assert await lines.__anext__() == "first\n"
        with pytest.raises(StopAsyncIteration):
            await lines.__anext__()
        with path.open("a", encoding="utf-8") as appender:
            appender.write("second\nthird\n")
        assert [line async for line in lines] == ["second\n", "third\n"]


async def test_write_errors_surface_when_awaited(tmp_path: Path) -> None:
    """As with any coroutine, a bad write raises when awaited, not when called."""
    async with asyncfile.open(tmp_path / "f.txt", "w", encoding="ascii") as f:
        not_text = f.write(b"bytes")  # type: ignore[arg-type]
        unencodable = f.write("\u00e9")
        with pytest.raises(TypeError, match="must be str, not bytes"):
            await not_text
        with pytest.raises(UnicodeEncodeError):
            await unencodable
        assert await f.write(text="by keyword\n") == 11  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="closed file"):
        await f.write("after close\n")
    assert (tmp_path / "f.txt").read_bytes() == b"by keyword" + LINESEP


async def test_writes_take_effect_in_the_order_their_tasks_run(tmp_path: Path) -> None:
    """A write that must wait and a plain one after it, each in its own task:
    the plain one does not overtake (calls start when their task runs, as
    coroutines do, not when they are made)."""
    path = tmp_path / "order.txt"
    async with asyncfile.open(path, "w", encoding="utf-8") as f:
        first = asyncio.ensure_future(f.write("x" * 10_000 + "\n"))
        second = asyncio.ensure_future(f.write("y\n"))
        assert await asyncio.gather(first, second) == [10_001, 2]
        skipped = asyncio.ensure_future(f.write("never\n"))
        skipped.cancel()  # before its task ever ran: nothing is written
        with pytest.raises(asyncio.CancelledError):
            await skipped
    assert path.read_text(encoding="utf-8") == "x" * 10_000 + "\ny\n"


async def test_a_write_call_is_a_coroutine(tmp_path: Path) -> None:
    async with asyncfile.open(tmp_path / "f.txt", "w", encoding="utf-8") as f:
        call = f.write("abc")
        assert asyncio.iscoroutine(call)
        call.close()  # never awaited: nothing happens, no warning
        assert await f.write("def") == 3
    assert (tmp_path / "f.txt").read_text(encoding="utf-8") == "def"


@pytest.mark.parametrize("buffering", [7, 4096, -1])
async def test_reads_leave_io_read_ahead_for_read1_and_peek(
    tmp_path: Path, buffering: int
) -> None:
    """Only whole blocks skip the buffer (io's rule), so what read1() and
    peek() return after a read is what io's buffer holds."""
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 64)
    sizes = [4, 8192, 3, 4096 * 3, 100]
    ours = []
    async with asyncfile.open(path, "rb", buffering=buffering) as f:
        for size in sizes:
            ours += [await f.read(size), await f.peek(), await f.read1(-1)]
    theirs = []
    with path.open("rb", buffering=buffering) as g:
        for size in sizes:
            theirs += [g.read(size), g.peek(), g.read1(-1)]
    assert ours == theirs


@pytest.mark.parametrize("mode", ["rb", "r+b"])
@pytest.mark.parametrize("buffering", [4096, 65536, -1])
async def test_binary_reads_are_io_reads(
    tmp_path: Path, buffering: int, mode: str
) -> None:
    """Whole blocks, buffered bytes and the short end of the file, in every
    mix, give what io gives, and leave the same position."""
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(5 * 65536 + 1234))
    sizes = [65536, 4096, 100, 65536, 8192, 1, 65536 * 2, 65536, 65536, 10]
    async with asyncfile.open(path, mode, buffering=buffering) as f:
        ours = [(await f.read(size), f.tell()) for size in sizes]
    with path.open(mode, buffering=buffering) as g:
        theirs = [(g.read(size), g.tell()) for size in sizes]
    assert ours == theirs


async def test_a_binary_read_waits_for_a_call_in_progress(tmp_path: Path) -> None:
    """A read the page cache could answer still waits while another task's
    call holds the file, and then reads after what that call read."""
    path = tmp_path / "f.bin"
    path.write_bytes(bytes(range(256)) * 1024)
    async with asyncfile.open(path, "rb", buffering=4096) as f:
        assert await f.read(4096) == path.read_bytes()[:4096]
        await f._lock.acquire()  # as a call in progress does
        waiting = asyncio.ensure_future(f.read(4096))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        f._buf[:4096] = bytes(4096)  # what the call holding the file read
        f._pos, f._read_end = 0, 4096
        f.raw._position = 8192
        f._lock.release()
        assert await waiting == bytes(4096)
        assert await f.read(4096) == path.read_bytes()[8192:12288]


async def test_a_binary_read_after_close_raises_value_error(tmp_path: Path) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 65536)
    f = await asyncfile.open(path, "rb")
    assert await f.read(4096) == b"x" * 4096
    await f.close()
    with pytest.raises(ValueError, match="closed file"):
        await f.read(4096)


async def test_closing_a_reader_closes_its_descriptor_as_io_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file, the raw file and the descriptor are closed, once; the raw
    file's own close runs only where the shortcut is not installed."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 10_000)
    raw_closes = []
    raw_close = AsyncFileIO.close

    async def counted_close(raw: AsyncFileIO) -> None:
        raw_closes.append(raw)
        await raw_close(raw)

    monkeypatch.setattr(AsyncFileIO, "close", counted_close)
    async with asyncfile.open(path, "rb") as f:
        assert await f.read() == b"x" * 10_000
        fd = f.fileno()
    assert f.closed
    assert f.raw.closed
    assert f._buf is None
    assert not descriptor_is_open(fd)
    shortcuts = _text.TextLines is not None  # the fixture's "speedups"
    assert len(raw_closes) == (0 if shortcuts else 1)
    await f.close()  # idempotent
    with pytest.raises(ValueError, match="closed file"):
        await f.read(1)


async def test_a_reader_whose_descriptor_went_fails_to_close_as_io_does(
    tmp_path: Path,
) -> None:
    """``close`` of a file whose descriptor someone else closed: io raises
    ``OSError`` (EBADF) and the file is closed all the same."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    theirs = io_close_error(path)
    f = await asyncfile.open(path, "rb")
    os.close(f.fileno())
    with pytest.raises(OSError, match="Bad file descriptor") as caught:
        await f.close()
    assert type(caught.value) is type(theirs)
    assert (caught.value.errno, caught.value.filename) == (
        theirs.errno,
        theirs.filename,
    )
    assert f.closed


def io_close_error(path: Path) -> OSError:
    """What io's close of ``path``'s file raises once its descriptor went."""
    theirs = open(path, "rb")  # noqa: SIM115
    os.close(theirs.fileno())
    with pytest.raises(OSError, match="Bad file descriptor") as caught:
        theirs.close()
    assert theirs.closed
    return caught.value


def descriptor_is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError as exc:
        if exc.errno != errno.EBADF:
            raise
        return False
    return True


async def test_a_close_waits_for_a_call_in_progress(tmp_path: Path) -> None:
    """A reader's close waits while another task's call holds the file."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    f = await asyncfile.open(path, "rb")
    await f._lock.acquire()  # as a call in progress does
    closing = asyncio.ensure_future(f.close())
    await asyncio.sleep(0.01)
    assert not closing.done()
    assert not f.closed
    assert descriptor_is_open(f.fileno())
    f._lock.release()
    await closing
    assert f.closed


async def test_a_reader_cancelled_while_it_closes_is_closed(tmp_path: Path) -> None:
    """The descriptor is closed even when the task closing it is cancelled
    at once: its caller gave it up by calling."""
    path = tmp_path / "f.bin"
    path.write_bytes(b"x" * 100)
    f = await asyncfile.open(path, "rb")
    fd = f.fileno()
    closing = asyncio.ensure_future(f.close())
    await asyncio.sleep(0)
    closing.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await closing
    for _ in range(100):
        if not descriptor_is_open(fd):
            break
        await asyncio.sleep(0.01)
    else:
        pytest.fail("the descriptor stayed open")
    assert f.closed


def test_a_reader_closed_outside_asyncio_says_asyncio_is_needed(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"x")

    async def opened() -> Any:
        return await asyncfile.open(path, "rb")

    f = asyncio.run(opened())
    closing = f.close()
    with pytest.raises(asyncfile.AsyncioRequiredError):
        closing.send(None)
    assert not f.raw.closed
    f.raw._release_now()


async def test_binary_reads_follow_a_file_shared_with_another_loop(
    tmp_path: Path,
) -> None:
    """A file used in one event loop and then another reads through each
    loop's own context, with the position carried over."""
    path = tmp_path / "f.bin"
    data = os.urandom(8 * 4096)
    path.write_bytes(data)
    f = await asyncfile.open(path, "rb", buffering=4096)
    assert await f.read(4096) == data[:4096]

    def in_another_loop() -> bytes:
        async def read() -> bytes:
            return await f.read(8192)

        return asyncio.run(read())

    assert await asyncio.to_thread(in_another_loop) == data[4096:12288]
    assert await f.read(4096) == data[12288:16384]
    await f.close()


@pytest.mark.parametrize("mode", ["wb", "w+b", "ab"])
async def test_binary_writes_are_io_writes(tmp_path: Path, mode: str) -> None:
    """Writes that fit the buffer, ones that fill it and ones larger than it,
    mixed with seeks and reads where the mode allows, leave io's bytes and
    positions."""
    sizes = [60, 4000, 100, 5000, 9000, 1, 4096, 30000, 7]
    results = []
    for path, opener in ((tmp_path / "ours", "ours"), (tmp_path / "theirs", "io")):
        path.write_bytes(b"-" * 100)
        seen: list[object] = []
        if opener == "ours":
            async with asyncfile.open(path, mode, buffering=8192) as f:
                for i, size in enumerate(sizes):
                    seen.append(await f.write(bytes([i]) * size))
                    seen.append(f.tell())
                    if "+" in mode and i == 4:
                        seen.append(await f.seek(50))
                        seen.append(await f.read(10))
        else:
            with path.open(mode, buffering=8192) as g:
                for i, size in enumerate(sizes):
                    seen.append(g.write(bytes([i]) * size))
                    seen.append(g.tell())
                    if "+" in mode and i == 4:
                        seen.append(g.seek(50))
                        seen.append(g.read(10))
        results.append((seen, path.read_bytes()))
    assert results[0] == results[1]


async def test_a_binary_write_waits_for_a_call_in_progress(tmp_path: Path) -> None:
    """A write that would only be buffered still waits while another task's
    call holds the file, and lands after what that call wrote."""
    path = tmp_path / "f.bin"
    async with asyncfile.open(path, "wb", buffering=4096) as f:
        await f.write(b"a")
        await f._lock.acquire()  # as a call in progress does
        waiting = asyncio.ensure_future(f.write(b"c"))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        assert f._buffer_in_place(memoryview(b"b"))  # what the holder wrote
        f._lock.release()
        assert await waiting == 1
    assert path.read_bytes() == b"abc"


async def test_a_binary_write_to_a_closed_file_raises_value_error(
    tmp_path: Path,
) -> None:
    f = await asyncfile.open(tmp_path / "f.bin", "wb")
    await f.write(b"kept")
    await f.close()
    with pytest.raises(ValueError, match="closed file"):
        await f.write(b"lost")
    with pytest.raises(TypeError):
        await f.write("text")  # type: ignore[arg-type]
    assert (tmp_path / "f.bin").read_bytes() == b"kept"
