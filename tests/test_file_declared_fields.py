"""The raw layer's hot state is declared: ``_speedups.RawFileBase`` in C and
``_fileio.PyRawFileBase`` (``__slots__``) without a compiler have the same
fields, and a raw file keeps them there, not in its ``__dict__``, so the C
fast paths read what the Python layer writes."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import asyncfile
from asyncfile import _fileio

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
