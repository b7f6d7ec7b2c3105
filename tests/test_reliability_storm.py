"""Cancellation storms: many operations on many files, cancelled at random points.

Afterwards the bytes on disk are what the callers were told, every block whole,
and nothing is left behind: no descriptor or thread (the no_leaks fixture), no
future still pending, no request slot still taken.  ASYNCFILE_STORM_OPS
changes the number of core operations (default 100,000 per backend).
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from backends import Backend

import asyncfile
from asyncfile import contexts
from asyncfile.core._positional import pread

CORE_OPS = int(os.environ.get("ASYNCFILE_STORM_OPS", "100000"))
FILE_OPS = CORE_OPS // 5
FILES = 32
BLOCK = 256
BATCH = 1000
SEED = int(os.environ.get("ASYNCFILE_STORM_SEED", "20261126"))


def _block(file: int, index: int) -> bytes:
    tag = b"<%d:%d>" % (file, index)
    return (tag * (BLOCK // len(tag) + 1))[:BLOCK]


def _cancel_at_random(
    rng: random.Random, loop: asyncio.AbstractEventLoop, task: asyncio.Task[Any]
) -> None:
    """Cancel before it starts, after one loop turn, or a little later."""
    how = rng.randrange(4)
    if how == 0:
        task.cancel()
    elif how == 1:
        loop.call_soon(task.cancel)
    elif how == 2:
        loop.call_later(rng.random() / 10_000, task.cancel)
    # how == 3: left alone, so that a cancelled task's neighbours run too


def _pending_futures() -> list[asyncio.Future[Any]]:
    gc.collect()
    current = asyncio.current_task()
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, asyncio.Future)
        and not o.done()
        and o is not current
        and not _is_proactor_self_reading(o)
    ]


def _is_proactor_self_reading(future: asyncio.Future[Any]) -> bool:
    """Windows' proactor loop always waits on its own wake-up pipe."""
    return any(
        getattr(callback, "__name__", "") == "_loop_self_reading"
        for callback, _ in getattr(future, "_callbacks", ())
    )


async def test_a_core_cancellation_storm_loses_and_tears_nothing(
    aio: ModuleType, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    fds = [
        os.open(tmp_path / f"f{i}", os.O_RDWR | os.O_CREAT, 0o600) for i in range(FILES)
    ]
    written = [0] * FILES  # blocks handed out per file
    reported: set[tuple[int, int]] = set()
    readable: list[tuple[int, int]] = []  # reported, in a list to choose from
    cancelled_writes: set[tuple[int, int]] = set()
    reads_checked = 0
    try:
        async with aio.AsyncioContext(max_requests=256) as context:
            for _ in range(CORE_OPS // BATCH):
                tasks: list[tuple[str, int, int, asyncio.Task[Any]]] = []
                for _ in range(BATCH):
                    file = rng.randrange(FILES)
                    if readable and rng.random() < 0.3:
                        file, index = rng.choice(readable)
                        call = context.read(BLOCK, fds[file], index * BLOCK)
                        kind = "read"
                    else:
                        index = written[file]
                        written[file] += 1
                        call = context.write(
                            _block(file, index), fds[file], index * BLOCK
                        )
                        kind = "write"
                    task = asyncio.ensure_future(call)
                    if rng.random() < 0.3:
                        _cancel_at_random(rng, loop, task)
                    tasks.append((kind, file, index, task))
                await asyncio.wait([t for *_, t in tasks])
                for kind, file, index, task in tasks:
                    if task.cancelled():
                        if kind == "write":
                            cancelled_writes.add((file, index))
                        continue
                    result = task.result()  # no error but cancellation
                    if kind == "write":
                        assert result == BLOCK
                        reported.add((file, index))
                        readable.append((file, index))
                    else:
                        assert result == _block(file, index), (SEED, file, index)
                        reads_checked += 1
            assert context._in_flight == 0
            assert not context._slot_waiters
        assert not _pending_futures()
        for file, fd in enumerate(fds):
            data = pread(fd, written[file] * BLOCK, 0)
            for index in range(written[file]):
                block = data[index * BLOCK : (index + 1) * BLOCK]
                if (file, index) in reported:
                    assert block == _block(file, index), (SEED, file, index)
                else:  # cancelled: it either happened whole or not at all
                    assert (file, index) in cancelled_writes
                    assert block in (_block(file, index), bytes(len(block)), b"")
    finally:
        for fd in fds:
            os.close(fd)
    assert len(cancelled_writes) > CORE_OPS // 20
    assert reads_checked > CORE_OPS // 10


def _records(data: bytes) -> list[int]:
    """The indices of the records in ``data``; fails on a torn record."""
    indices = []
    for record in data.split(b"\n")[:-1]:
        number, _, filler = record.partition(b":")
        index = int(number)
        assert filler == b"." * (index % 97), f"torn record {index}"
        indices.append(index)
    assert data.endswith(b"\n") or not data
    return indices


@pytest.mark.parametrize(
    ("mode", "buffering"),
    [("ab", 0), ("wb", -1), ("w", -1)],
    ids=["raw", "buf", "text"],
)
async def test_a_file_object_storm_keeps_every_reported_write(
    backend: Backend, tmp_path: Path, mode: str, buffering: int
) -> None:
    """Writes to file objects cancelled at random: the file holds every write
    that returned, in call order, whole; a cancelled one is there whole or not
    at all; the position is the file's size."""
    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    context = contexts.get_context(backend.name)
    encoding = None if "b" in mode else "ascii"
    files = [
        await asyncfile.open(
            tmp_path / f"f{i}",
            mode,
            buffering,
            encoding=encoding,
            newline=None if encoding is None else "\n",  # records end in b"\n"
            context=context,
        )
        for i in range(8)
    ]
    reported: list[set[int]] = [set() for _ in files]
    cancelled: list[set[int]] = [set() for _ in files]
    try:
        for batch in range(FILE_OPS // BATCH):
            tasks = []
            for number in range(BATCH):
                index = batch * BATCH + number
                which = rng.randrange(len(files))
                record = b"%d:%s\n" % (index, b"." * (index % 97))
                data: Any = record if encoding is None else record.decode()
                task = asyncio.ensure_future(files[which].write(data))
                if rng.random() < 0.3:
                    _cancel_at_random(rng, loop, task)
                tasks.append((which, index, task))
            await asyncio.wait([t for *_, t in tasks])
            for which, index, task in tasks:
                if task.cancelled():
                    cancelled[which].add(index)
                else:
                    assert task.result() == len(b"%d:" % index) + index % 97 + 1
                    reported[which].add(index)
        for f in files:
            await f.flush()
            assert f.tell() == os.fstat(f.fileno()).st_size
    finally:
        for f in files:
            await f.close()
    assert not _pending_futures()
    for which in range(len(files)):
        indices = _records((tmp_path / f"f{which}").read_bytes())
        assert indices == sorted(indices), "records out of call order"
        assert reported[which] <= set(indices), "a reported write is missing"
        assert set(indices) - reported[which] <= cancelled[which]
    assert sum(map(len, cancelled)) > FILE_OPS // 20
