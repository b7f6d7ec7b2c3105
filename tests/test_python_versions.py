"""What changes from one CPython to the next: asyncfile follows the running
Python's io where io changed (3.14's error wording and read-ahead size), and
each place where the C code leans on CPython or asyncio beyond their public
API keeps its fast path on the versions it is built for (3.10 to 3.14)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

import asyncfile
from asyncfile import _textio

KiB = 1024


async def test_non_text_codec_error_is_worded_as_the_running_io_words_it(
    tmp_path: Path,
) -> None:
    """3.14's io words it differently from 3.13's; open() and reconfigure()
    both give the running Python's words."""
    path = tmp_path / "f.txt"
    with pytest.raises(LookupError) as theirs:
        io.TextIOWrapper(io.BytesIO(), encoding="rot13")
    with pytest.raises(LookupError) as ours:
        await asyncfile.open(path, "w", encoding="rot13")
    assert ours.value.args == theirs.value.args
    with path.open("w", encoding="utf-8") as g, pytest.raises(LookupError) as io_again:
        g.reconfigure(encoding="rot13")
    async with asyncfile.open(path, "w", encoding="utf-8") as f:
        with pytest.raises(LookupError) as ours_again:
            await f.reconfigure(encoding="rot13")
        assert f.encoding == "utf-8"
    assert ours_again.value.args == io_again.value.args


async def test_default_read_buffer_is_the_running_ios(tmp_path: Path) -> None:
    """``buffering=-1`` on a reader reads ahead as far as the running
    Python's io: the block size before 3.14, at least 128 KiB since."""
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(16 * 1024 * KiB))
    with path.open("rb") as g:
        g.read(1)
        io_read_ahead = g.raw.tell()
    assert io_read_ahead < path.stat().st_size  # a buffer's worth, not the file
    async with asyncfile.open(path, "rb") as f:
        assert f.buffer_size == io_read_ahead
        await f.read(1)
        assert f.raw.tell() == io_read_ahead


def test_the_text_encoding_lookup_is_ios() -> None:
    """An unknown codec and a non-text codec fail as io fails."""
    for name in ("bogus", "rot13", "hex"):
        with pytest.raises(LookupError) as theirs:
            io.TextIOWrapper(io.BytesIO(), encoding=name)
        with pytest.raises(LookupError) as ours:
            _textio._lookup_text_encoding(name)
        assert ours.value.args == theirs.value.args
    assert _textio._lookup_text_encoding("utf-8").name == "utf-8"
