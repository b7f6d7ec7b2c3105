"""The O_DIRECT cases: before them the runner reads the whole data file once
past the page cache, so that fio and every contender find the same blocks
near; ``direct-qd64`` reads into each lane's own aligned buffer, as fio does."""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import dataclasses
import mmap
import os
import time
from pathlib import Path

import pytest
from mounts import skip_if_memory_backed

from benchmarks import datafile, fio
from benchmarks.cases import CASES, IntoHandle
from benchmarks.contenders import discover
from benchmarks.runner import Run
from benchmarks.worker import _warm_up


def _io_counts() -> dict[str, int]:
    """``rchar``: bytes this process's reads returned; ``read_bytes``: bytes it
    had the block layer read from a device."""
    try:
        text = Path("/proc/self/io").read_text()
    except OSError as exc:
        pytest.skip(f"no /proc/self/io (task I/O accounting) here: {exc}")
    return {
        name: int(value) for name, value in (ln.split(": ") for ln in text.splitlines())
    }


def test_reads_every_byte_with_o_direct(tmp_path: Path) -> None:
    skip_if_memory_backed(tmp_path, "O_DIRECT needs a block device")
    path = datafile.create(tmp_path, 3 * datafile.CHUNK + 8192, seed=1)
    size = path.stat().st_size  # every page cached by create()
    before = _io_counts()
    datafile.read_past_the_page_cache(path)
    after = _io_counts()
    returned = after["rchar"] - before["rchar"]  # and the bytes of /proc/self/io
    assert size <= returned < size + 4096
    assert after["read_bytes"] - before["read_bytes"] >= size, "served from the cache"


def test_warm_up_reads_other_blocks_for_its_time(tmp_path: Path) -> None:
    """The warm-up lasts the case's seconds, and no timed read repeats it."""
    case = dataclasses.replace(CASES["direct-qd64"], warmup=256, warmup_seconds=0.2)
    path = datafile.create(tmp_path, 1 << 20, seed=1)
    size = path.stat().st_size
    warmed: list[int] = []

    def preadinto(fd: int, buffer: mmap.mmap, offset: int) -> int:
        warmed.append(offset)
        return os.preadv(fd, [buffer], offset)

    fd = os.open(path, os.O_RDONLY)
    try:
        started = time.perf_counter()
        asyncio.run(_warm_up(case, IntoHandle(blocking=preadinto), fd, 1, size))
        elapsed = time.perf_counter() - started
    finally:
        os.close(fd)
    assert elapsed >= case.warmup_seconds
    assert len(warmed) % case.warmup == 0
    assert len(warmed) > case.warmup
    timed = case.offsets(1, len(warmed), size)
    assert sorted(warmed) != sorted(timed)
    assert warmed[: case.warmup] != timed[: case.warmup]


def test_fio_ramps_up_as_long_as_the_contenders_warm_up(tmp_path: Path) -> None:
    case = CASES["direct-qd64"]
    assert case.warmup_seconds > 0
    argv = fio.command(case, tmp_path / "data", 1.0, seed=1)
    assert f"--ramp_time={round(case.warmup_seconds * 1000)}ms" in argv
    unwarmed = dataclasses.replace(case, warmup_seconds=0.0)
    assert not any(
        a.startswith("--ramp_time") for a in fio.command(unwarmed, tmp_path, 1.0, 1)
    )


@pytest.mark.parametrize(
    ("repeat", "quick", "expected"), [(5, False, 12), (20, False, 20), (3, True, 3)]
)
def test_direct_case_runs_its_minimum_rounds(
    repeat: int, quick: bool, expected: int
) -> None:
    args = argparse.Namespace(contender=None, repeat=repeat, quick=quick, seed=1)
    listing: dict[str, object] = {"contenders": [], "unavailable": [], "versions": {}}
    run = Run(args, listing)
    assert run.rounds(CASES["direct-qd64"]) == expected
    assert run.rounds(CASES["qd64"]) == repeat


def test_every_contender_with_readinto_serves_the_direct_case() -> None:
    found = discover("asyncfile")
    assert found.contenders, "no asyncfile contender"
    assert all("into" in c.apis and "core" in c.apis for c in found.contenders)
    sync = discover("sync").find("sync")
    assert sync is not None
    assert "into" in sync.apis
    assert CASES["direct-qd64"].api == "into"
    assert CASES["direct-qd64-bytes"].api == "core"


def test_a_context_without_readinto_has_no_into_interface() -> None:
    caio = pytest.importorskip("caio", reason="caio (a benchmark extra) not installed")
    assert not hasattr(caio.AsyncioContext, "readinto")
    found = discover("caio")
    assert found.contenders
    assert all(c.apis == {"core"} for c in found.contenders)


@pytest.mark.parametrize("name", ["asyncfile", "asyncfile[linux_aio]", "sync"])
def test_lanes_read_the_device_into_buffers_of_their_own(
    tmp_path: Path, name: str
) -> None:
    """Every lane reads into one page-aligned buffer of its own (the async
    lanes' buffers all live at once, so no two share one), and the case
    counts exactly the bytes the reads returned."""
    skip_if_memory_backed(tmp_path, "O_DIRECT needs a block device")
    case = dataclasses.replace(CASES["direct-qd64"], depth=8)
    path = datafile.create(tmp_path, 1 << 20, seed=3)
    size = path.stat().st_size
    family = "sync" if name == "sync" else "asyncfile"
    contender = discover(family).find(name)
    if contender is None:
        pytest.skip(f"contender {name} is not available here")
    buffers: dict[int, list[int]] = {}
    lanes = case.lanes(case.offsets(1, 200, size))

    async def run() -> int:
        async with contender.open("into") as handle:
            assert isinstance(handle, IntoHandle)
            traced = _traced(handle, buffers)
            fd = os.open(path, case.flags)
            buffered = os.open(path, os.O_RDONLY)
            try:
                await case.verify(traced, fd, case.offsets(2, 16, size), buffered)
                buffers.clear()
                return await case.run(traced, fd, lanes)
            finally:
                os.close(fd)
                os.close(buffered)

    assert asyncio.run(run()) == 200 * case.block
    if name == "sync":  # one lane after another: an address may come back
        read = sorted(o for offsets in buffers.values() for o in offsets)
        assert read == sorted(o for lane in lanes for o in lane)
    else:
        assert len(buffers) == case.depth
        assert sorted(map(sorted, buffers.values())) == sorted(map(sorted, lanes))


def _traced(handle: IntoHandle, buffers: dict[int, list[int]]) -> IntoHandle:
    """``handle``, recording which offsets each buffer (by address) received."""

    def record(buffer: mmap.mmap, offset: int) -> None:
        address = _address(buffer)
        assert address % mmap.PAGESIZE == 0
        buffers.setdefault(address, []).append(offset)

    if handle.blocking is not None:
        blocking = handle.blocking

        def preadinto(fd: int, buffer: mmap.mmap, offset: int) -> int:
            record(buffer, offset)
            return blocking(fd, buffer, offset)

        return IntoHandle(blocking=preadinto)
    readinto = handle.readinto
    assert readinto is not None

    async def traced_readinto(buffer: mmap.mmap, fd: int, offset: int) -> int:
        record(buffer, offset)
        return await readinto(buffer, fd, offset)

    return IntoHandle(readinto=traced_readinto)


def _address(buffer: mmap.mmap) -> int:
    return ctypes.addressof(ctypes.c_char.from_buffer(buffer))


def test_verification_catches_wrong_bytes_read_into_the_buffer(tmp_path: Path) -> None:
    path = datafile.create(tmp_path, 1 << 16, seed=4)
    case = CASES["direct-qd64"]

    async def shifted(buffer: mmap.mmap, fd: int, offset: int) -> int:
        return os.preadv(fd, [buffer], offset + 1)

    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(AssertionError, match=r"differ from os\.pread"):
            asyncio.run(case.verify(IntoHandle(readinto=shifted), fd, [0, 4096]))
    finally:
        os.close(fd)
