"""A ChunkReader's hot state is declared: ``_speedups.ChunkReaderBase`` in C
and its twin ``PyChunkReaderBase`` (``__slots__``) without a compiler have the
same fields, a reader keeps them there, not in its ``__dict__``, and the C
chunk iterator serves cached chunks from them without running
``ChunkReader.__anext__``."""

from __future__ import annotations

import gc
import sys
import weakref
from pathlib import Path

import pytest
from test_file_declared_fields import declared

from asyncfile import ChunkReader, contexts
from asyncfile.io._raw import cached_reader_of
from asyncfile.streams import _chunks

#: The reader's declared fields that hold objects, and so may make cycles.
OBJECT_FIELDS = {
    "_cached_reader",
    "_pending",
    "chunk_size",
    "end",
    "_next",
    "_offset",
    "_held",
}

#: What the C chunk iterator reads and moves on the reader.
CHUNK_FIELDS = OBJECT_FIELDS | {"_fd", "_closed", "_busy", "_eof", "reuse_buffers"}

CHUNK = 4096
CHUNKS = 256


@pytest.fixture
def cached_file(tmp_path: Path) -> tuple[Path, bytes]:
    """``CHUNKS`` whole chunks and a short one, in the page cache."""
    data = bytes(range(256)) * (CHUNK // 256) * CHUNKS + b"tail"
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    assert path.read_bytes() == data  # cached
    return path, data


def test_both_builds_declare_the_same_fields() -> None:
    assert declared(_chunks.PyChunkReaderBase) == CHUNK_FIELDS
    speedups = sys.modules.get("asyncfile._speedups")
    if speedups is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    assert declared(speedups.ChunkReaderBase) == CHUNK_FIELDS
    assert _chunks.ChunkReaderBase is speedups.ChunkReaderBase


def test_no_class_attribute_hides_a_declared_field() -> None:
    """A name assigned in a class body would shadow the member: the
    instances' values would go nowhere the C iterator looks."""
    mro = ChunkReader.__mro__
    for cls in mro[: mro.index(_chunks.ChunkReaderBase)]:
        assert not CHUNK_FIELDS & set(vars(cls)), cls


def test_a_reader_before_init_has_no_descriptor() -> None:
    base = _chunks.ChunkReaderBase
    if base is _chunks.PyChunkReaderBase:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    reader = base()
    assert reader._fd == -1
    assert (reader._closed, reader._busy, reader._eof, reader.reuse_buffers) == (
        False,
        False,
        False,
        False,
    )
    assert reader._pending is None


async def test_a_reader_keeps_its_hot_state_in_the_declared_fields(
    cached_file: tuple[Path, bytes],
) -> None:
    path, data = cached_file
    reader = ChunkReader(path, chunk_size=CHUNK, start=10, end=9000)
    assert isinstance(reader, _chunks.ChunkReaderBase)
    assert not CHUNK_FIELDS & set(vars(reader))
    assert (reader._fd, reader._next, reader._offset, reader.end) == (-1, 10, 10, 9000)
    async with reader:
        assert reader._fd >= 0
        assert reader._fd == reader._opened.fd  # type: ignore[union-attr]
        assert await reader.read_chunk() == data[10 : 10 + CHUNK]
        assert reader._offset == 10 + CHUNK
        assert not CHUNK_FIELDS & set(vars(reader))
    assert (reader._fd, reader._closed) == (-1, True)


@pytest.mark.parametrize("field", sorted(OBJECT_FIELDS))
def test_a_cycle_through_a_declared_field_is_collected(
    cached_file: tuple[Path, bytes], field: str
) -> None:
    """The collector sees each object field (the C base's traverse visits
    it), so a reader that a field's value leads back to is freed."""
    path, _ = cached_file
    reader = ChunkReader(path)
    setattr(reader, field, [reader])
    gone = weakref.ref(reader)
    del reader
    gc.collect()
    assert gone() is None


def test_reuse_buffers_counts_as_its_bool(cached_file: tuple[Path, bytes]) -> None:
    path, _ = cached_file
    assert ChunkReader(path, reuse_buffers=1).reuse_buffers is True  # type: ignore[call-overload]
    assert ChunkReader(path, reuse_buffers=0).reuse_buffers is False  # type: ignore[call-overload]


@pytest.fixture
def anext_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Each run of ``ChunkReader.__anext__`` (the Python iterator), as one
    item of the list."""
    calls: list[int] = []
    anext = ChunkReader.__anext__

    async def counted(self: ChunkReader[bytes]) -> bytes:
        calls.append(1)
        return await anext(self)

    monkeypatch.setattr(ChunkReader, "__anext__", counted)
    return calls


async def test_cached_chunks_come_without_the_python_iterator(
    cached_file: tuple[Path, bytes], anext_calls: list[int]
) -> None:
    """With the C iterator, a chunk the page cache holds is read and handed
    out without running ``ChunkReader.__anext__``: only the first chunk
    (which opens the file) and the end (which closes it) run it."""
    if _chunks.Chunks is None:
        pytest.skip("asyncfile._speedups is not built (no C compiler)")
    if cached_reader_of(contexts.get_context()) is None:
        pytest.skip("this context has no cached reader: every read is awaited")
    path, data = cached_file
    async with ChunkReader(path, chunk_size=CHUNK) as reader:
        chunks = [chunk async for chunk in reader]
    assert b"".join(chunks) == data
    assert len(chunks) == CHUNKS + 1
    assert 0 < len(anext_calls) <= 3, len(anext_calls)


async def test_reused_buffers_take_the_python_iterator(
    cached_file: tuple[Path, bytes], anext_calls: list[int]
) -> None:
    """The C iterator hands out ``bytes`` alone: a reader of reused buffers
    gets every chunk (a ``memoryview``) from ``__anext__``."""
    path, data = cached_file
    async with ChunkReader(path, chunk_size=CHUNK, reuse_buffers=True) as reader:
        chunks = []
        async for view in reader:
            assert type(view) is memoryview
            chunks.append(bytes(view))
    assert b"".join(chunks) == data
    assert len(anext_calls) == CHUNKS + 2  # and the one that meets the end
