"""Each layer's hot state is declared: ``_speedups.RawFileBase``,
``BufferedFileBase`` and ``TextFileBase`` in C, and their ``Py...`` twins
(``__slots__``) without a compiler, have the same fields, and a file keeps them
there, not in its ``__dict__``, so the C fast paths read what the Python layers
write, and fire where they exist to."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import pytest

import asyncfile
from asyncfile.io import _buffered, _raw, _text

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


#: What the text layer's fast paths (lines, plain writes) read and move.
TEXT_FIELDS = {
    "_buffer",
    "_pending",
    "_decoded_chars",
    "_decoded_chars_used",
    "_plain_readnl",
    "_plain_writes",
    "_telling",
}


def declared(cls: type) -> set[str]:
    return {
        name
        for name, value in vars(cls).items()
        if isinstance(value, types.MemberDescriptorType)
    }


@pytest.mark.parametrize(
    ("module", "layer", "fields"),
    [
        (_raw, "RawFileBase", HOT_FIELDS),
        (_buffered, "BufferedFileBase", BUFFERED_FIELDS),
        (_text, "TextFileBase", TEXT_FIELDS),
    ],
    ids=["raw", "buffered", "text"],
)
def test_both_builds_declare_the_same_fields(
    module: types.ModuleType, layer: str, fields: set[str]
) -> None:
    assert declared(getattr(module, "Py" + layer)) == fields
    speedups = sys.modules.get("asyncfile._speedups")
    if speedups is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    assert declared(getattr(speedups, layer)) == fields
    assert getattr(module, layer) is getattr(speedups, layer)


@pytest.mark.parametrize("mode", ["rb", "wb", "r+b"])
async def test_a_buffered_file_keeps_its_hot_state_in_the_declared_fields(
    tmp_path: Path, mode: str
) -> None:
    path = tmp_path / "f.bin"
    path.write_bytes(b"0123456789")
    async with asyncfile.open(path, mode) as f:
        assert isinstance(f, _buffered.BufferedFileBase)
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
        assert isinstance(f, _raw.RawFileBase)
        assert not HOT_FIELDS & set(vars(f))
        assert await f.read(4) == b"0123"
        assert (f._position, f._closed, f._readable) == (4, False, True)
        assert f._fd == f.fileno()
    assert f._closed is True


def test_a_raw_file_without_a_descriptor_says_so() -> None:
    """Before ``__init__`` runs, the C base has no descriptor (-1), so a
    finaliser closes nothing."""
    base = _raw.RawFileBase
    if base is _raw.PyRawFileBase:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    raw = base()
    assert raw._fd == -1
    assert raw._position is None
    assert raw._size_hint is None
    with pytest.raises(AttributeError):
        raw._lock  # noqa: B018


async def test_lines_of_decoded_text_come_without_the_python_iterator(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the C line iterator, a line already decoded is handed out
    without running ``TextIOWrapper.__anext__``: only a line that needs
    more text decoded runs it (a few times for the whole file)."""
    if _text.TextLines is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    lines = [f"line {i:05d} {'x' * (i % 50)}\n" for i in range(3000)]
    path = tmp_path / "lines.txt"
    path.write_text("".join(lines), encoding="utf-8")
    calls = 0
    anext = _text.TextIOWrapper.__anext__

    async def counted(self: _text.TextIOWrapper) -> str:
        nonlocal calls
        calls += 1
        return await anext(self)

    monkeypatch.setattr(_text.TextIOWrapper, "__anext__", counted)
    async with asyncfile.open(path, encoding="utf-8") as f:
        assert not TEXT_FIELDS & set(vars(f))
        seen = [line async for line in f]
    assert seen == lines
    assert 0 < calls < len(lines) // 20


async def test_a_plain_text_write_keeps_the_text_fields(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    # newline="": no translation, so the write is a plain one on every system
    # (Windows' default turns "\n" into "\r\n", which takes the full path).
    async with asyncfile.open(path, "w", encoding="utf-8", newline="") as f:
        assert await f.write("héllo\n") == 6
        assert bytes(f._pending) == "héllo\n".encode()
        assert f._plain_writes is not None
        assert not TEXT_FIELDS & set(vars(f))
    assert path.read_bytes() == "héllo\n".encode()
