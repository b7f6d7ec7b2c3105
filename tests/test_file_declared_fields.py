"""The raw and buffered layers' hot state is declared: ``_speedups.RawFileBase``
and ``BufferedFileBase`` in C, and ``PyRawFileBase`` and ``PyBufferedFileBase``
(``__slots__``) without a compiler, have the same fields, and a file keeps them
there, not in its ``__dict__``, so the C fast paths read what the Python layers
write."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import asyncfile
from asyncfile import _bufferedio, _fileio

#: What the fast paths of every layer read and move on the raw file.
HOT_FIELDS = {
    "_fd",
    "_position",
    "_size_hint",
    "_lock",
    "_cached_reader",
    "_closed",
    "_readable",
}


#: What the buffered layer's fast paths read and move.
BUFFERED_FIELDS = {"_raw", "_buf", "buffer_size", "_pos", "_read_end"}


def declared(cls: type) -> set[str]:
    return {
        name
        for name, value in vars(cls).items()
        if isinstance(value, types.MemberDescriptorType)
    }


def test_both_builds_declare_the_same_fields() -> None:
    assert declared(_fileio.PyRawFileBase) == HOT_FIELDS
    speedups = sys.modules.get("asyncfile._speedups")
    if speedups is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    assert declared(speedups.RawFileBase) == HOT_FIELDS
    assert _fileio.RawFileBase is speedups.RawFileBase


def test_both_builds_declare_the_same_buffered_fields() -> None:
    assert declared(_bufferedio.PyBufferedFileBase) == BUFFERED_FIELDS
    speedups = sys.modules.get("asyncfile._speedups")
    if speedups is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    assert declared(speedups.BufferedFileBase) == BUFFERED_FIELDS
    assert _bufferedio.BufferedFileBase is speedups.BufferedFileBase


@pytest.mark.parametrize("mode", ["rb", "wb", "r+b"])
async def test_a_buffered_file_keeps_its_hot_state_in_the_declared_fields(
    tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    async with asyncfile.open(path, mode) as f:
        assert isinstance(f, _bufferedio.BufferedFileBase)
        assert not BUFFERED_FIELDS & set(vars(f))
        assert f._raw is f.raw
        assert f.buffer_size > 0
        if "r" in mode:
            assert await f.read(3) == b"012"
            assert f._read_end == 10  # the read-ahead: the whole small file
            assert f._pos == 3
    assert f._buf is None  # closed


async def test_a_raw_file_keeps_its_hot_state_in_the_declared_fields(
    tmp_path: Path,
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    async with asyncfile.open(path, "rb", buffering=0) as f:
        assert isinstance(f, _fileio.RawFileBase)
        assert not HOT_FIELDS & set(vars(f))
        assert await f.read(4) == b"0123"
        assert (f._position, f._closed, f._readable) == (4, False, True)
        assert f._fd == f.fileno()
    assert f._closed is True


def test_a_raw_file_without_a_descriptor_says_so() -> None:
    """Before ``__init__`` runs, the C base has no descriptor (-1), so a
    finaliser closes nothing."""
    base = _fileio.RawFileBase
    if base is _fileio.PyRawFileBase:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    raw = base()
    assert raw._fd == -1
    assert raw._position is None
    assert raw._size_hint is None
    with pytest.raises(AttributeError):
        raw._lock  # noqa: B018
