"""A text write that makes the pending bytes due hands them to the buffer at
once, without the lock, when the buffer takes them without a flush; with and
without the C speedups, the bytes and the results stay io's."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import pytest

import asyncfile
from asyncfile.io import _buffered, _text

#: 60 bytes a write, as a log line; 8192 // 60 writes fill the pending bytes.
LINE = "x" * 59 + "\n"


class SlowCalls:
    """Counts the calls that went past the fast path into a coroutine method."""

    def __init__(self) -> None:
        self.count = 0


@pytest.fixture(params=["speedups", "python"])
def slow_calls(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> SlowCalls:
    """With the C speedups, every entry into the Python ``write`` coroutine is
    counted (the C path declined); without them, every entry into the locked
    writes behind it (the Python fast path declined)."""
    calls = SlowCalls()
    if request.param == "speedups":
        if _buffered.FastPathMethod is None:
            pytest.skip("asyncfile._speedups is not built (no C compiler)")
        from asyncfile._speedups import write_plainly

        python_write = _text.TextIOWrapper.write.__func__  # type: ignore[attr-defined]

        async def counted_write(self: Any, text: str) -> int:
            calls.count += 1
            result: int = await python_write(self, text)
            return result

        monkeypatch.setattr(
            _text.TextIOWrapper,
            "write",
            _buffered.FastPathMethod(counted_write, write_plainly),
        )
    else:
        if _buffered.FastPathMethod is not None:
            python_write = _text.TextIOWrapper.write.__func__  # type: ignore[attr-defined]
            monkeypatch.setattr(_text.TextIOWrapper, "write", python_write)
        locked = _text.TextIOWrapper._write_encoded_locked
        full = _text.TextIOWrapper._write_text

        async def counted_locked(self: Any, data: bytes) -> None:
            calls.count += 1
            await locked(self, data)

        async def counted_full(self: Any, text: str) -> int:
            calls.count += 1
            return await full(self, text)

        text_class = _text.TextIOWrapper
        monkeypatch.setattr(text_class, "_write_encoded_locked", counted_locked)
        monkeypatch.setattr(text_class, "_write_text", counted_full)
    return calls


def _io_bytes(
    path: Path, encoding: str, texts: list[str], newline: str | None = None
) -> bytes:
    with open(path, "w", encoding=encoding, newline=newline) as g:
        for text in texts:
            g.write(text)
    return path.read_bytes()


async def test_due_pending_bytes_reach_the_buffer_without_the_slow_write(
    tmp_path: Path, slow_calls: SlowCalls
) -> None:
    """The 137th 60-byte write makes 8,220 bytes due, and a 128 KiB buffer
    takes them: no write of the first 2,000 (15 hand-ons) goes past the
    fast path, and the buffer holds what io's buffer would have been given."""
    path = tmp_path / "ours.txt"
    async with asyncfile.open(path, "w", encoding="utf-8", newline="") as f:
        for _ in range(2000):
            assert await f.write(LINE) == len(LINE)
        assert slow_calls.count == 0
        handed_on = len(LINE) * 2000 - len(f._pending)
        assert handed_on == len(LINE) * (2000 - 2000 % 137)
        assert f.buffer.tell() == handed_on
        assert path.stat().st_size == 0  # all still in the buffer
    texts = [LINE] * 2000
    assert path.read_bytes() == _io_bytes(tmp_path / "io.txt", "utf-8", texts, "")


async def test_a_buffer_that_must_flush_first_gets_them_from_the_slow_write(
    tmp_path: Path, slow_calls: SlowCalls
) -> None:
    """Once the buffer has no room, the write that makes the pending bytes due
    is the locked one (it writes the buffer out); the bytes stay io's."""
    path = tmp_path / "ours.txt"
    async with asyncfile.open(
        path, "w", buffering=16384, encoding="utf-8", newline=""
    ) as f:
        for _ in range(137 * 4):
            await f.write(LINE)
        # Four hand-ons of 8,220 bytes: the first fits the empty 16 KiB
        # buffer; each later one finds 8,220 bytes there, writes them out
        # first, and is buffered in their place.
        assert slow_calls.count == 3
        assert path.stat().st_size > 0
    texts = [LINE] * (137 * 4)
    assert path.read_bytes() == _io_bytes(tmp_path / "io.txt", "utf-8", texts, "")


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1", "ascii"])
async def test_writes_of_every_length_and_encoding_are_io_writes(
    tmp_path: Path, slow_calls: SlowCalls, encoding: str
) -> None:
    """Non-ASCII text (encoded before it is known to fit), lengths up to past
    the chunk size, and text that cannot be encoded: the bytes, results and
    errors are io's, and the file holds what io's holds."""
    special = "\u00e9" if encoding != "ascii" else "e"
    texts = [("y" * (i * 37 % 9000)) + (special * (i % 5)) + "\n" for i in range(400)]
    async with asyncfile.open(tmp_path / "ours", "w", encoding=encoding) as f:
        for text in texts:
            assert await f.write(text) == len(text)
        if encoding == "ascii":
            with pytest.raises(UnicodeEncodeError):
                await f.write("\u00e9" * 100)
    expected = _io_bytes(tmp_path / "theirs", encoding, texts)
    assert (tmp_path / "ours").read_bytes() == expected


async def test_a_write_waits_for_a_call_in_progress_to_hand_on(
    tmp_path: Path, slow_calls: SlowCalls
) -> None:
    """A write that would hand the pending bytes on while another task's call
    holds the file waits for that call (a hand-on meanwhile would put its
    bytes in the buffer under the other call's feet)."""
    path = tmp_path / "ours.txt"
    async with asyncfile.open(path, "w", encoding="utf-8", newline="") as f:
        for _ in range(136):
            await f.write(LINE)
        await f._lock.acquire()  # as a call in progress does
        due = asyncio.ensure_future(f.write("due\n" * 20))
        await asyncio.sleep(0.01)
        assert not due.done()
        assert f.buffer.tell() == 0
        f._lock.release()
        assert await due == 80
        assert slow_calls.count == 1
        assert f.buffer.tell() == len(LINE) * 136 + 80
    assert path.read_text(encoding="utf-8") == LINE * 136 + "due\n" * 20


async def test_a_write_after_the_raw_file_closed_raises_like_io(
    tmp_path: Path, slow_calls: SlowCalls
) -> None:
    """A write that would hand the pending bytes on, once the raw file below
    is closed, fails as io's does, and nothing reaches the file."""
    path = tmp_path / "ours.txt"
    f = await asyncfile.open(path, "w", encoding="utf-8", newline="")
    g = open(os.devnull, "w", encoding="utf-8", newline="")  # noqa: SIM115, ASYNC230
    for _ in range(136):
        await f.write(LINE)
        g.write(LINE)
    await f.buffer.raw.close()
    g.buffer.raw.close()
    with pytest.raises(ValueError, match="closed file") as theirs:
        g.write(LINE)
    with pytest.raises(ValueError, match="closed file") as ours:
        await f.write(LINE)
    assert str(ours.value) == str(theirs.value)
    assert path.read_bytes() == b""
    await f.close()  # nothing to do, as for io: the file below is closed
    g.close()
    assert f.closed
    assert g.closed
