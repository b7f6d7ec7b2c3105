"""One lock per file: the text, buffered and raw layers of one file share the
raw file's lock, a call takes it once (at the layer it enters), and a call on
any layer waits for a call in progress on any other."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

import asyncfile
from asyncfile.io import _buffered, _locks, _text

DATA = bytes(range(256)) * 64  # 16 KiB
TEXT = "".join(f"line {i:04d}\n" for i in range(2000))


@pytest.fixture(params=["speedups", "python"])
def speedups(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """With the C shortcuts of text writes and binary reads, and without."""
    if request.param == "python":
        monkeypatch.setattr(_text, "TextLines", None)
        if _buffered.FastPathMethod is not None:
            for cls, name in (
                (_text.TextIOWrapper, "write"),
                (_buffered.BufferedReader, "read"),
                (_buffered.BufferedWriter, "write"),
            ):
                monkeypatch.setattr(cls, name, getattr(cls, name).__func__)
    elif _text.TextLines is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    return str(request.param)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    path = tmp_path / "data.bin"
    path.write_bytes(DATA)
    return path


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "lines.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


@pytest.mark.parametrize("mode", ["rb", "r+b", "wb", "ab", "r", "r+", "w", "a"])
async def test_every_layer_of_a_file_shares_the_raw_files_lock(
    tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"")
    encoding = None if "b" in mode else "utf-8"
    async with asyncfile.open(path, mode, encoding=encoding) as f:
        layers: list[Any] = [f]
        while hasattr(layers[-1], "buffer") or hasattr(layers[-1], "raw"):
            below = layers[-1]
            layers.append(below.buffer if hasattr(below, "buffer") else below.raw)
        assert len(layers) == (2 if "b" in mode else 3)
        assert all(layer._lock is f._lock for layer in layers)


#: Binary reads that go past the buffer to the raw file, on a fresh file.
BINARY_READS: dict[str, Callable[[Any], Awaitable[object]]] = {
    "read()": lambda f: f.read(),
    "read(100)": lambda f: f.read(100),
    "read(16384)": lambda f: f.read(16384),
    "read1(100)": lambda f: f.read1(100),
    "peek()": lambda f: f.peek(),
    "readline()": lambda f: f.readline(),
    "readinto(bytearray(100))": lambda f: f.readinto(bytearray(100)),
    "pread(100, 50)": lambda f: f.pread(100, 50),
    "seek(5000) then read(10)": lambda f: f.read(10),
}


@pytest.mark.parametrize("call", list(BINARY_READS))
async def test_a_buffered_read_to_the_raw_file_takes_one_lock_once(
    data_file: Path,
    call: str,
    speedups: str,
    acquisitions: list[_locks.TaskLock],
) -> None:
    """Before, a buffered read that reached the raw file took the buffered
    file's lock and then the raw file's."""
    async with asyncfile.open(data_file, "rb") as f:
        if call.startswith("seek"):
            await f.seek(5000)
        acquisitions.clear()
        result = await BINARY_READS[call](f)
        assert result
        assert acquisitions in ([], [f._lock])  # [] where a C shortcut served it
        if call in ("read(100)", "read1(100)", "peek()", "readline()"):
            assert acquisitions == [f._lock]  # these always run the Python call


@pytest.mark.parametrize(
    "call",
    ["read()", "read(100)", "readline()", "async for", "write", "seek", "flush"],
)
async def test_a_text_call_takes_one_lock_once(
    text_file: Path,
    call: str,
    speedups: str,
    acquisitions: list[_locks.TaskLock],
) -> None:
    """Before, a text read that reached the disk took three locks: the text
    file's, the buffer's and the raw file's."""
    async with asyncfile.open(text_file, "r+", encoding="utf-8") as f:
        acquisitions.clear()
        if call == "read()":
            assert await f.read() == TEXT
        elif call == "read(100)":
            assert await f.read(100) == TEXT[:100]
        elif call == "readline()":
            assert await f.readline() == "line 0000\n"
        elif call == "async for":
            async for line in f:
                assert line == "line 0000\n"
                break
        elif call == "write":
            assert await f.write("x" * 20000) == 20000  # past the pending limit
        elif call == "seek":
            await f.seek(0, 2)
        else:
            await f.write("abc")
            acquisitions.clear()
            await f.flush()
        assert acquisitions == [f._lock]


async def test_a_call_on_one_layer_waits_for_a_call_on_another(
    data_file: Path, speedups: str
) -> None:
    """A call in progress on the raw file holds off the text file's and the
    buffer's calls, their C shortcuts included, and they then run in call
    order.  Before, each layer had its own lock: they ran at once."""
    order: list[str] = []
    async with asyncfile.open(data_file, "r+", encoding="latin-1") as f:
        raw = f.buffer.raw
        await raw._lock.acquire()  # as a call in progress on the raw file does

        async def call(name: str, operation: Awaitable[object]) -> None:
            await operation
            order.append(name)

        waiting = [
            asyncio.ensure_future(call("text write", f.write("a"))),
            asyncio.ensure_future(call("buffer read", f.buffer.read(4096))),
            asyncio.ensure_future(call("text read", f.read(1))),
            asyncio.ensure_future(call("raw read", raw.read(1))),
        ]
        await asyncio.sleep(0.02)
        assert not any(task.done() for task in waiting)
        order.append("released")
        raw._lock.release()
        await asyncio.gather(*waiting)
    assert order == ["released", "text write", "buffer read", "text read", "raw read"]


async def test_concurrent_calls_on_two_layers_keep_the_file_consistent(
    data_file: Path, speedups: str
) -> None:
    """Tasks reading one file through its buffer (``read`` and ``read1``, which
    go to the raw file in turn) while others read the raw file positionally:
    the calls run one at a time, each taking the bytes after the last one's
    (the pieces, in the order the calls returned, are the file), and the
    positional reads see the file as it is."""
    pieces: list[bytes] = []
    async with asyncfile.open(data_file, "rb") as f:
        raw = f.raw

        async def reader(size: int, read1: bool) -> None:
            while True:
                chunk = await (f.read1(size) if read1 else f.read(size))
                # Still in the step the call returned in: no other call ran.
                pieces.append(chunk)
                assert f.tell() == sum(map(len, pieces))
                if not chunk:
                    return
                await asyncio.sleep(0)

        async def positional() -> None:
            for offset in range(0, len(DATA), 1000):
                assert await raw.pread(10, offset) == DATA[offset : offset + 10]

        await asyncio.gather(
            reader(97, False), reader(211, True), reader(4096, False), positional()
        )
    assert b"".join(pieces) == DATA
