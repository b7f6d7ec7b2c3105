"""A full disk (a 1 MiB tmpfs) under the write-behind writer and the log
handler: the error reaches the caller with ENOSPC, once, and the file holds
exactly the bytes the writer reports written, a prefix of what was given."""

from __future__ import annotations

import errno
import logging
from pathlib import Path

import pytest
from backends import Backend
from mounts import tmpfs

from asyncfile import AsyncFileHandler, WriteBehindWriter, contexts

KiB = 1024
MiB = 1024 * KiB
STREAM = bytes(range(251)) * (4 * MiB // 251 + 1)
CHUNK = 100_000


async def test_a_full_disk_fails_the_writer_at_the_next_call(
    backend: Backend, tmp_path: Path
) -> None:
    """A small buffer: the background error surfaces at a write or a flush."""
    context = contexts.get_context(backend.name)
    with tmpfs(tmp_path / "small", "1m") as directory:
        path = directory / "f"
        writer = WriteBehindWriter(path, buffer_size=64 * KiB, context=context)
        offset = 0
        with pytest.raises(OSError, match="No space left") as raised:  # noqa: PT012
            while offset < 4 * MiB:
                await writer.write(STREAM[offset : offset + CHUNK])
                offset += CHUNK
            await writer.flush()
        assert raised.value.errno == errno.ENOSPC
        with pytest.raises(OSError, match="No space left"):
            await writer.write(b"more")  # failed for good: never silently lost
        await writer.close()  # the error was seen: close does not repeat it
        on_disk = path.read_bytes()
    assert 0 < len(on_disk) <= MiB
    assert on_disk == STREAM[: len(on_disk)]
    assert writer.written == len(on_disk)


async def test_a_full_disk_fails_the_writer_at_close(
    backend: Backend, tmp_path: Path
) -> None:
    """A buffer larger than the disk: every write is accepted, and close()
    raises what the background writes met."""
    context = contexts.get_context(backend.name)
    with tmpfs(tmp_path / "small", "1m") as directory:
        path = directory / "f"
        writer = WriteBehindWriter(path, buffer_size=8 * MiB, context=context)
        for offset in range(0, 2 * MiB, CHUNK):
            await writer.write(STREAM[offset : offset + CHUNK])
        with pytest.raises(OSError, match="No space left") as raised:
            await writer.close()
        assert raised.value.errno == errno.ENOSPC
        assert writer.closed
        on_disk = path.read_bytes()
    assert 0 < len(on_disk) <= MiB
    assert on_disk == STREAM[: len(on_disk)]
    assert writer.written == len(on_disk)


async def test_a_full_disk_fails_the_log_handler_at_close(
    backend: Backend, tmp_path: Path
) -> None:
    """Records past a full disk are not written; closing the handler raises
    ENOSPC, and the file holds the records that fit, in order, as written."""
    contexts.get_context(backend.name)
    with tmpfs(tmp_path / "small", "1m") as directory:
        path = directory / "app.log"
        handler = AsyncFileHandler(path, max_buffer=4 * MiB)
        handler.setFormatter(logging.Formatter("%(message)s"))
        records = [f"record {i:06d} " + "x" * 180 for i in range(8000)]  # ~1.6 MB
        for message in records:
            handler.emit(logging.makeLogRecord({"msg": message}))
        with pytest.raises(OSError, match="No space left") as raised:
            await handler.aclose()
        assert raised.value.errno == errno.ENOSPC
        on_disk = path.read_bytes()
    written = "".join(message + "\n" for message in records).encode()
    assert 0 < len(on_disk) <= MiB
    assert on_disk == written[: len(on_disk)]
