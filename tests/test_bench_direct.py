"""Before the O_DIRECT case, the runner reads its whole data file once past
the page cache, so that fio and every contender find the same blocks near."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import time
from pathlib import Path

import pytest
from mounts import skip_if_memory_backed

from benchmarks import datafile, fio
from benchmarks.cases import CASES, CoreHandle
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

    def pread(fd: int, n: int, offset: int) -> bytes:
        warmed.append(offset)
        return os.pread(fd, n, offset)

    fd = os.open(path, os.O_RDONLY)
    try:
        started = time.perf_counter()
        asyncio.run(_warm_up(case, CoreHandle(blocking=pread), fd, 1, size))
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
