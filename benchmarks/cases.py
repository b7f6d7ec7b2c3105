"""Benchmark cases: the work a measured process times, and how it checks it.

A case also says where its data comes from: the page cache (the default), the
device through an ``O_DIRECT`` descriptor (``direct``), or the device after
the page cache is dropped before every timed pass (``cold``).

A case names the *interface* it drives (``Case.api``). Every contender says
which interfaces it offers (see :mod:`benchmarks.contenders`); a contender is
run only on the cases whose ``api`` it offers.

``"core"``: caio-style positional reads, ``await ctx.read(nbytes, fd, offset)``
(:class:`CoreHandle`). ``"into"``: the same reads into memory the reader owns,
``await ctx.readinto(buffer, fd, offset)`` (:class:`IntoHandle`): each lane
reads into one page-aligned buffer of its own, as an ``O_DIRECT`` program (and
fio) does, so nothing is copied. ``"file"``: files opened by path and used
through their methods, ``asyncfile.open`` against aiofile, aiofiles, anyio and
the built-in ``open()`` (:class:`~benchmarks.filecases.FileHandle`); such a
case names its ``work`` (:mod:`benchmarks.filecases`), does a fixed amount of
it per measurement and reports each contender's total time too.
``"open"``, ``"stat"``, ``"scandir"``, ``"listdir"``, ``"copyfile"``: one
filesystem call each (:class:`~benchmarks.fscases.FsHandle`), timed the same
way over a fixed data set (:mod:`benchmarks.fscases`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import mmap
import os
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.filecases import FileWork, ReadChunks, ReadLines, WriteText
from benchmarks.fscases import DEPTH, CopyFile, ListDir, ReadFiles, ScanDir, StatFiles
from benchmarks.streamcases import LogRecords, ServeFile

PAGE = 4096
KiB = 1 << 10
MiB = 1 << 20
LINES = 200_000
STREAM_CHUNK = 256 * KiB
SERVE_CLIENTS = 2
"""Lines of the ``file-lines`` data file (``file-writes`` writes as many)."""
SMALL_FILES = 10_000
"""Files of the ``small-files`` and ``stat`` cases' directory (4 KiB each)."""
DIRECTORY_ENTRIES = 100_000
"""Entries of the ``scandir`` and ``listdir`` cases' directory."""

AsyncRead = Callable[[int, int, int], Awaitable[bytes]]
"""``read(nbytes, fd, offset)``: the caio ``AsyncioContext.read`` shape."""

BlockingPread = Callable[[int, int, int], bytes]
"""``pread(fd, nbytes, offset)``: the ``os.pread`` shape."""

AsyncReadinto = Callable[[mmap.mmap, int, int], Awaitable[int]]
"""``readinto(buffer, fd, offset)``: the ``AsyncioContext.readinto`` shape."""

BlockingPreadinto = Callable[[int, mmap.mmap, int], int]
"""``preadinto(fd, buffer, offset)``: ``os.preadv`` of one buffer."""


@dataclass(frozen=True)
class CoreHandle:
    """A contender's positional reader; exactly one of the two is set.

    ``blocking`` readers run on the loop thread without ever awaiting, so the
    heartbeat shows how long they hold the loop.
    """

    read: AsyncRead | None = None
    blocking: BlockingPread | None = None


@dataclass(frozen=True)
class IntoHandle:
    """A contender's positional reader into a given buffer; exactly one set."""

    readinto: AsyncReadinto | None = None
    blocking: BlockingPreadinto | None = None


@dataclass(frozen=True)
class Goal:
    """The target every contender of the ``subject`` family must meet.

    ``min_speed``: ops/s at least this fraction of ``speed_reference``'s
    (a contender name, e.g. ``fio``). ``max_slowdown``: median µs/op at most
    this multiple of ``speed_reference``'s. ``max_lag_ms``: worst heartbeat
    lag below this. Any may be unset; the report says met or missed per row.
    """

    subject: str = "asyncfile"
    speed_reference: str | None = None
    min_speed: float = 0.0
    max_slowdown: float | None = None
    max_lag_ms: float | None = None


@dataclass(frozen=True)
class Case:
    """Aligned reads of ``block`` bytes with ``depth`` reads in flight.

    ``depth`` lanes (tasks) each await their reads one after another; lane
    ``i`` gets offsets ``i, i + depth, ...`` of the shared sequence, so the
    total work is the same at every depth.

    Offsets are random (with repeats) over the whole data file, and the
    runner calibrates how many to time; a ``sequential`` case instead reads
    the whole file once, in order, per measurement. The data file holds at
    least ``min_mib`` MiB (more if ``--size-mib`` asks for more).

    ``direct``: the measured descriptor is opened ``O_RDONLY | O_DIRECT`` and
    verification compares with ``os.pread`` of a separate buffered one.
    ``cold``: the page cache is dropped right before every timed pass. Both
    need a file system on a block device. ``reference`` names an external
    tool that runs the same I/O as an extra row (see :mod:`benchmarks.fio`).

    A ``"file"`` case (``api``) does its ``work`` once per measurement,
    through a file it opens by path: no offsets, lanes or calibration.
    ``data`` says what that path is: ``"random"``, the seeded data file of
    ``file_size``; ``"lines"``, a seeded UTF-8 text file of ``count`` lines;
    ``"none"``, a path in the run's directory that each pass creates;
    ``"tree"``, a directory of ``count`` seeded files of ``block`` bytes;
    ``"entries"``, a directory of ``count`` empty files.
    ``count`` fixes the operations per measurement (0: the data file's size
    in ``block`` units, for a ``sequential`` case).

    Before timing, a worker reads ``warmup`` blocks, and more batches of as
    many until ``warmup_seconds`` have passed; fio's ``--ramp_time`` is
    ``warmup_seconds`` too. ``min_repeat``: rounds this case runs at least,
    whatever ``--repeat`` asks (not with ``--quick``). ``opt_in``: left out
    of the default run (no ``--case``); it runs when named.
    """

    name: str
    title: str
    depth: int
    block: int = PAGE
    api: str = "core"
    min_mib: int = 0
    direct: bool = False
    cold: bool = False
    sequential: bool = False
    warmup: int = 2048
    warmup_seconds: float = 0.0
    min_repeat: int = 0
    reference: str | None = None
    goal: Goal | None = None
    work: FileWork[Any] | None = None
    data: str = "random"
    count: int = 0
    opt_in: bool = False

    @property
    def cached(self) -> bool:
        """Whether the timed reads are served by the page cache."""
        return not (self.direct or self.cold)

    @property
    def flags(self) -> int:
        """``os.open`` flags of the measured descriptor."""
        return os.O_RDONLY | os.O_CLOEXEC | (os.O_DIRECT if self.direct else 0)

    def file_size(self, size_mib: int) -> int:
        """Bytes of the data file this case reads, given ``--size-mib``."""
        return max(self.min_mib, size_mib) * MiB

    def fixed_ops(self, size: int) -> int | None:
        """Operations per measurement if the case fixes them (else calibrated).

        ``count`` if set; a ``sequential`` case reads its ``size``-byte file
        once, a ``block`` at a time.
        """
        if self.count:
            return self.count
        if self.sequential:
            return size // self.block
        return None

    def serves(self, apis: set[str] | frozenset[str]) -> bool:
        """Whether a contender offering ``apis`` gets a row in this case."""
        return self.api in apis or (
            self.reference is not None and self.reference in apis
        )

    def offsets(self, seed: int, count: int, size: int) -> list[int]:
        """``count`` offsets into a ``size``-byte file, in the order read.

        Random: ``block``-aligned, seeded; a longer list extends a shorter.
        Sequential: ``0, block, 2 * block, ...`` (``count`` at most the
        blocks in the file).
        """
        pages = size // self.block
        if not self.sequential:
            return random_offsets(seed, count, pages, self.block)
        if count > pages:
            raise ValueError(f"{count} sequential reads overrun {pages} blocks")
        return list(range(0, count * self.block, self.block))

    def lanes(self, offsets: Sequence[int]) -> list[Sequence[int]]:
        """Split ``offsets`` among the lanes (done before timing)."""
        if self.depth == 1:
            return [offsets]
        return [offsets[i :: self.depth] for i in range(self.depth)]

    async def run(
        self, handle: CoreHandle | IntoHandle, fd: int, lanes: list[Sequence[int]]
    ) -> int:
        """Do every read of ``lanes``; return the number of bytes read."""
        size = self.block
        lane_coros: list[Awaitable[int]]
        if isinstance(handle, IntoHandle):
            if handle.blocking is not None:
                preadinto = handle.blocking
                return sum(
                    [_blocking_into_lane(preadinto, fd, ln, size) for ln in lanes]
                )
            readinto = handle.readinto
            if readinto is None:
                raise TypeError("IntoHandle has neither readinto nor blocking")
            lane_coros = [_async_into_lane(readinto, fd, ln, size) for ln in lanes]
        else:
            if handle.blocking is not None:
                pread = handle.blocking
                return sum([_blocking_lane(pread, fd, ln, size) for ln in lanes])
            read = handle.read
            if read is None:
                raise TypeError("CoreHandle has neither read nor blocking")
            lane_coros = [_async_lane(read, fd, ln, size) for ln in lanes]
        if len(lane_coros) == 1:
            return await lane_coros[0]
        return sum(await asyncio.gather(*lane_coros))

    async def verify(
        self,
        handle: CoreHandle | IntoHandle,
        fd: int,
        offsets: Sequence[int],
        buffered_fd: int | None = None,
    ) -> None:
        """Compare reads at ``offsets`` (all in flight at once) to ``os.pread``.

        The expected bytes come from ``os.pread`` of ``buffered_fd`` (default
        ``fd``). Raises ``AssertionError`` naming the first offset that
        differs, so a contender returning wrong or short data cannot post a
        time; a contender's own error (e.g. ``EINVAL`` from an unaligned
        ``O_DIRECT`` buffer) propagates. An ``IntoHandle`` reads each offset
        into a new aligned buffer.
        """
        got: Sequence[bytes]
        if isinstance(handle, IntoHandle):
            got = await asyncio.gather(
                *(_read_into_new_buffer(handle, fd, self.block, o) for o in offsets)
            )
        elif handle.blocking is not None:
            got = [handle.blocking(fd, self.block, off) for off in offsets]
        elif handle.read is not None:
            read = handle.read
            got = await asyncio.gather(*(read(self.block, fd, o) for o in offsets))
        else:
            raise TypeError("CoreHandle has neither read nor blocking")
        for offset, data in zip(offsets, got, strict=True):
            expected = os.pread(
                fd if buffered_fd is None else buffered_fd, self.block, offset
            )
            if bytes(data) != expected:
                raise AssertionError(
                    f"read({self.block}, fd, {offset}) returned {len(data)} bytes "
                    f"that differ from os.pread"
                )


def random_offsets(seed: int, count: int, pages: int, block: int) -> list[int]:
    """``count`` random ``block``-aligned offsets below ``pages * block``."""
    rng = random.Random(seed)
    return [page * block for page in rng.choices(range(pages), k=count)]


async def _async_lane(
    read: AsyncRead, fd: int, offsets: Sequence[int], size: int
) -> int:
    total = 0
    for offset in offsets:
        total += len(await read(size, fd, offset))
    return total


def _blocking_lane(
    pread: BlockingPread, fd: int, offsets: Sequence[int], size: int
) -> int:
    total = 0
    for offset in offsets:
        total += len(pread(fd, size, offset))
    return total


async def _async_into_lane(
    readinto: AsyncReadinto, fd: int, offsets: Sequence[int], size: int
) -> int:
    buffer = mmap.mmap(-1, size)  # page-aligned, as O_DIRECT needs
    total = 0
    for offset in offsets:
        total += await readinto(buffer, fd, offset)
    return total


def _blocking_into_lane(
    preadinto: BlockingPreadinto, fd: int, offsets: Sequence[int], size: int
) -> int:
    buffer = mmap.mmap(-1, size)
    total = 0
    for offset in offsets:
        total += preadinto(fd, buffer, offset)
    return total


async def _read_into_new_buffer(
    handle: IntoHandle, fd: int, size: int, offset: int
) -> bytes:
    """The bytes ``handle`` reads at ``offset`` into a new aligned buffer."""
    buffer = mmap.mmap(-1, size)
    if handle.readinto is not None:
        count = await handle.readinto(buffer, fd, offset)
    elif handle.blocking is not None:
        count = handle.blocking(fd, buffer, offset)
    else:
        raise TypeError("IntoHandle has neither readinto nor blocking")
    return buffer[:count]


DIRECT_QD64 = Case(
    "direct-qd64",
    "4 KiB random O_DIRECT reads into aligned buffers, 64 in flight",
    api="into",
    depth=64,
    min_mib=1024,
    direct=True,
    # By time, not count, so that every contender (6k to 90k reads a
    # second) and fio warm up alike.
    warmup=4096,
    warmup_seconds=0.25,
    # The device's speed drifts by 10-15% within seconds: two full
    # rotations of the contenders, each in every position twice.
    min_repeat=12,
    reference="fio",
    goal=Goal(speed_reference="fio", min_speed=0.9),
)
"""Reads into each lane's own buffer, as fio does: the device against fio."""

SMALL_FILES_CASE = Case(
    "small-files",
    f"{SMALL_FILES:,} files of 4 KiB opened, read and closed, {DEPTH} in flight",
    depth=DEPTH,
    api="open",
    work=ReadFiles(DEPTH),
    data="tree",
    count=SMALL_FILES,
    goal=Goal(speed_reference="sync", max_slowdown=1.5, max_lag_ms=5.0),
)
"""A small file read whole: a template, a JSON document, a static asset."""

STAT_CASE = dataclasses.replace(
    SMALL_FILES_CASE,
    name="stat",
    title=f"stat of {SMALL_FILES:,} files, {DEPTH} in flight",
    api="stat",
    work=StatFiles(DEPTH),
    goal=Goal(speed_reference="sync", max_slowdown=3.0, max_lag_ms=5.0),
)

SCANDIR_CASE = Case(
    "scandir",
    f"scandir of a directory of {DIRECTORY_ENTRIES:,} entries",
    depth=1,
    api="scandir",
    work=ScanDir(),
    data="entries",
    count=DIRECTORY_ENTRIES,
    goal=Goal(max_lag_ms=5.0),
)

LISTDIR_CASE = dataclasses.replace(
    SCANDIR_CASE,
    name="listdir",
    title=f"listdir of a directory of {DIRECTORY_ENTRIES:,} entries",
    api="listdir",
    work=ListDir(),
)

CASES: dict[str, Case] = {
    case.name: case
    for case in (
        Case("qd1", "4 KiB random reads, one at a time", depth=1),
        Case("qd64", "4 KiB random reads, 64 in flight", depth=64),
        DIRECT_QD64,
        dataclasses.replace(
            DIRECT_QD64,
            name="direct-qd64-bytes",
            title="4 KiB random O_DIRECT reads into new bytes (read), 64 in flight",
            api="core",
            goal=None,
        ),
        Case(
            "cold-seq",
            "1 MiB sequential reads of a cold file, one at a time",
            depth=1,
            block=MiB,
            min_mib=512,
            cold=True,
            sequential=True,
            warmup=8,
            goal=Goal(max_lag_ms=5.0),
        ),
        Case(
            "file-chunks",
            "a whole file in 64 KiB reads, binary",
            depth=1,
            block=64 * KiB,
            api="file",
            sequential=True,
            work=ReadChunks(64 * KiB),
            goal=Goal(speed_reference="sync", max_slowdown=1.15, max_lag_ms=5.0),
        ),
        Case(
            "file-lines",
            f"{LINES:,} text lines of ~60 bytes, async for",
            depth=1,
            api="file",
            work=ReadLines(),
            data="lines",
            count=LINES,
            goal=Goal(speed_reference="sync", max_slowdown=3.0, max_lag_ms=5.0),
        ),
        Case(
            "file-writes",
            f"{LINES:,} awaited 60-byte text writes to a new file, then close",
            depth=1,
            api="file",
            work=WriteText(LINES),
            data="none",
            count=LINES,
            goal=Goal(speed_reference="sync", max_slowdown=3.0, max_lag_ms=5.0),
        ),
        SMALL_FILES_CASE,
        dataclasses.replace(
            SMALL_FILES_CASE,
            name="small-files-cold",
            title=f"{SMALL_FILES:,} files of 4 KiB opened, read and closed, "
            f"{DEPTH} in flight, caches dropped",
            cold=True,
            opt_in=True,
            goal=Goal(max_lag_ms=5.0),
        ),
        STAT_CASE,
        dataclasses.replace(
            STAT_CASE,
            name="stat-cold",
            title=f"stat of {SMALL_FILES:,} files, {DEPTH} in flight, caches dropped",
            cold=True,
            opt_in=True,
            goal=Goal(max_lag_ms=5.0),
        ),
        SCANDIR_CASE,
        dataclasses.replace(
            SCANDIR_CASE,
            name="scandir-cold",
            title=f"scandir of a directory of {DIRECTORY_ENTRIES:,} entries, "
            "caches dropped",
            cold=True,
            opt_in=True,
        ),
        LISTDIR_CASE,
        dataclasses.replace(
            LISTDIR_CASE,
            name="listdir-cold",
            title=f"listdir of a directory of {DIRECTORY_ENTRIES:,} entries, "
            "caches dropped",
            cold=True,
            opt_in=True,
        ),
        Case(
            "copyfile",
            "a 1 GiB file copied to a new file",
            depth=1,
            block=MiB,
            api="copyfile",
            min_mib=1024,
            sequential=True,
            work=CopyFile(),
            goal=Goal(max_lag_ms=5.0),
        ),
        Case(
            "stream",
            "a 1 GiB file streamed in 256 KiB chunks with read-ahead",
            depth=1,
            block=STREAM_CHUNK,
            api="stream",
            min_mib=1024,
            sequential=True,
            warmup=8,
            work=ReadChunks(STREAM_CHUNK),
            goal=Goal(speed_reference="sync", max_slowdown=1.1, max_lag_ms=5.0),
        ),
        Case(
            "serve",
            f"a 1 GiB file served over aiohttp to {SERVE_CLIENTS} curl clients",
            depth=1,
            block=MiB,
            api="serve",
            min_mib=1024,
            sequential=True,
            count=1024 * SERVE_CLIENTS,
            work=ServeFile(SERVE_CLIENTS, STREAM_CHUNK),
            goal=Goal(max_lag_ms=5.0),
        ),
        Case(
            "log",
            f"{LINES:,} log records through a handler, from the loop",
            depth=1,
            api="log",
            data="none",
            count=LINES,
            work=LogRecords(LINES),
            goal=Goal(speed_reference="sync", min_speed=0.5, max_lag_ms=2.0),
        ),
    )
}
