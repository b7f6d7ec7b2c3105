"""A call rejected for its arguments rejects them before it touches the
file system: a file that exists keeps its bytes (and one that does not is
not created).  asyncfile.open's checks that io makes are compared with io in
test_file_basic.py (where io itself truncates before it fails, a bad
encoding or newline with mode "w", asyncfile does as io does)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import asyncfile
from asyncfile import AIOFile, LineReader, Reader, Writer, async_open

KEEP = b"keep these bytes\n"


async def _open_with(path: Path, **kwargs: Any) -> None:
    async with asyncfile.open(path, "w", encoding="utf-8", **kwargs):
        pass


async def _aiofile(path: Path, *args: Any, **kwargs: Any) -> None:
    async with AIOFile(path, *args, **kwargs):
        pass


async def _async_open(path: Path, *args: Any, **kwargs: Any) -> None:
    async with async_open(path, *args, **kwargs):
        pass


async def _on_open_file(path: Path, make: Callable[[AIOFile], Any]) -> None:
    async with AIOFile(path, "r+") as afp:
        helper = make(afp)
        if isinstance(helper, Writer):
            await helper("overwritten")
        else:
            async for _ in helper:
                pass


BAD_CALLS: dict[str, tuple[Callable[[Path], Any], type[Exception]]] = {
    "open(context=str)": (lambda p: _open_with(p, context="uring"), TypeError),
    "open(context=object)": (lambda p: _open_with(p, context=object()), TypeError),
    "AIOFile(w, encoding=bogus)": (
        lambda p: _aiofile(p, "w", encoding="no-such-codec"),
        LookupError,
    ),
    "AIOFile(w, encoding=rot13)": (
        lambda p: _aiofile(p, "w", encoding="rot13"),
        LookupError,
    ),
    "AIOFile(w+, encoding=5)": (lambda p: _aiofile(p, "w+", encoding=5), TypeError),
    "AIOFile(a, encoding=bogus)": (
        lambda p: _aiofile(p, "a", encoding="no-such-codec"),
        LookupError,
    ),
    "AIOFile(wb, context=5)": (lambda p: _aiofile(p, "wb", context=5), TypeError),
    "AIOFile(mode=rw)": (lambda p: _aiofile(p, "rw"), ValueError),
    "async_open(w, encoding=bogus)": (
        lambda p: _async_open(p, "w", encoding="no-such-codec"),
        LookupError,
    ),
    "async_open(w, bogus keyword)": (
        lambda p: _async_open(p, "w", no_such_argument=1),
        TypeError,
    ),
    "async_open(x+, context=str)": (
        lambda p: _async_open(p.with_suffix(".new"), "x+", context="thread"),
        TypeError,
    ),
    "Reader(chunk_size=0)": (
        lambda p: _on_open_file(p, lambda afp: Reader(afp, chunk_size=0)),
        ValueError,
    ),
    "Reader(offset=-1)": (
        lambda p: _on_open_file(p, lambda afp: Reader(afp, offset=-1)),
        ValueError,
    ),
    "LineReader(chunk_size=-4)": (
        lambda p: _on_open_file(p, lambda afp: LineReader(afp, chunk_size=-4)),
        ValueError,
    ),
    "Writer(offset=-1)": (
        lambda p: _on_open_file(p, lambda afp: Writer(afp, offset=-1)),
        ValueError,
    ),
}


@pytest.mark.parametrize("name", BAD_CALLS)
async def test_bad_arguments_leave_the_file_untouched(
    tmp_path: Path, name: str
) -> None:
    call, error = BAD_CALLS[name]
    path = tmp_path / "keep.txt"
    path.write_bytes(KEEP)
    with pytest.raises(error):
        await call(path)
    assert path.read_bytes() == KEEP
    assert os.listdir(tmp_path) == ["keep.txt"]


async def test_binary_aiofile_ignores_the_encoding_as_aiofile_does(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f"
    async with AIOFile(path, "wb", encoding="no-such-codec") as afp:
        await afp.write(b"bytes")
    assert path.read_bytes() == b"bytes"
