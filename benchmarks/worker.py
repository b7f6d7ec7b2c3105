"""The measured process: one case, one contender, one measurement.

``python -m benchmarks.worker list`` prints the contenders this interpreter can
run (and why others cannot). ``python -m benchmarks.worker run ...`` warms the
file (page-cached cases) and the contender up, checks the contender's data
against ``os.pread``, then times the case with the loop's heartbeat running;
a ``cold`` case drops the page cache right before every timed pass. A
``"file"`` case instead runs one untimed pass that checks every item, then
one timed pass whose tally (and, for writes, the file) must be exact. Either
prints one JSON object on a line starting with :data:`MARKER`; anything else
on stdout is ignored by the runner.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Awaitable, Coroutine, Sequence
from pathlib import Path
from typing import Any, TypeVar

from benchmarks.cases import CASES, Case, CoreHandle, IntoHandle, random_offsets
from benchmarks.contenders import (
    FAMILIES,
    Contender,
    discover,
    family_of,
    new_event_loop,
    split_loop,
)
from benchmarks.datafile import (
    await_page_reporting,
    drop_page_cache,
    warm,
    warm_tree,
)
from benchmarks.lag import Heartbeat, LagReport

T = TypeVar("T")

logger = logging.getLogger(__name__)

MARKER = "@@benchmark-result "
VERIFY_OPS = 64
MIN_OPS = 2000
MAX_OPS = 2_000_000
#: Added to --seed for the warm-up's offsets (+1 is the verification's), so
#: that no timed read finds a block the warm-up just read.
WARMUP_SEED = 2


async def _clocked(work: Awaitable[T]) -> tuple[T, float, LagReport]:
    """Await ``work`` with the heartbeat on: its value, seconds and lag."""
    gc.collect()
    heartbeat = Heartbeat(asyncio.get_running_loop())
    heartbeat.start()
    start = time.perf_counter()
    value = await work
    seconds = time.perf_counter() - start
    return value, seconds, heartbeat.stop()


def _result(ops: int, seconds: float, lag: LagReport) -> dict[str, Any]:
    return {
        "ops": ops,
        "seconds": seconds,
        "us_per_op": seconds / ops * 1e6,
        "ops_per_s": ops / seconds,
        "lag_max_ms": lag.max * 1e3,
        "lag_p99_ms": lag.p99 * 1e3,
        "beats": lag.beats,
        "own_lag_max_ms": None if lag.own_max is None else lag.own_max * 1e3,
        "kept_off_ms": None if lag.kept_off is None else lag.kept_off * 1e3,
    }


async def _warm_up(
    case: Case, handle: CoreHandle | IntoHandle, fd: int, seed: int, size: int
) -> None:
    """``case.warmup`` untimed reads, repeated until ``case.warmup_seconds``."""
    deadline = time.perf_counter() + case.warmup_seconds
    batch = 0
    while True:
        offsets = case.offsets(seed + WARMUP_SEED + batch, case.warmup, size)
        await case.run(handle, fd, case.lanes(offsets))
        batch += 1
        if time.perf_counter() >= deadline:
            return


async def _timed(
    case: Case, handle: CoreHandle | IntoHandle, fd: int, offs: list[int]
) -> dict[str, Any]:
    lanes = case.lanes(offs)
    if case.cold:
        drop_page_cache()
        await_page_reporting()
    nbytes, seconds, lag = await _clocked(case.run(handle, fd, lanes))
    if nbytes != len(offs) * case.block:
        raise AssertionError(f"read {nbytes} bytes, expected {len(offs) * case.block}")
    return _result(len(offs), seconds, lag)


def _round_ops(ops: float) -> int:
    """Clamp to [MIN_OPS, MAX_OPS] and keep two significant digits."""
    count = int(min(MAX_OPS, max(MIN_OPS, ops)))
    return round(count, 2 - len(str(count)))


async def _calibrate(
    case: Case,
    handle: CoreHandle | IntoHandle,
    fd: int,
    seed: int,
    size: int,
    target: float,
) -> tuple[int, dict[str, Any]]:
    """Operation count that makes one measurement last about ``target`` s."""
    count = MIN_OPS
    while True:
        trial = await _timed(case, handle, fd, case.offsets(seed, count, size))
        if trial["seconds"] >= target / 4 or count >= MAX_OPS:
            return _round_ops(count * target / trial["seconds"]), trial
        count = min(MAX_OPS, count * 4)


async def measure(
    case: Case, contender: Contender, path: Path, seed: int, ops: int, calibrate: float
) -> dict[str, Any]:
    """Warm up, verify, time ``ops`` reads and verify again.

    With ``calibrate`` > 0, time nothing that counts: return the ``ops`` that
    make one measurement last about ``calibrate`` seconds. The measured
    descriptor is opened with ``case.flags``; a ``direct`` case's expected
    bytes come from a second, buffered descriptor. A ``"file"`` case goes to
    :func:`measure_file`.
    """
    if case.work is not None:
        return await measure_file(case, contender, path, ops)
    size = warm(path) if case.cached else os.stat(path).st_size
    pages = size // case.block
    with contextlib.ExitStack() as descriptors:
        fd = _open(descriptors, path, case.flags)
        buffered = fd
        if case.direct:
            buffered = _open(descriptors, path, os.O_RDONLY | os.O_CLOEXEC)
        async with contender.open(case.api) as handle:
            check = random_offsets(seed + 1, VERIFY_OPS, pages, case.block)
            await case.verify(handle, fd, check, buffered)
            await _warm_up(case, handle, fd, seed, size)
            if calibrate > 0:
                count, trial = await _calibrate(case, handle, fd, seed, size, calibrate)
                result = {"ops": count, "calibration": trial}
            else:
                result = await _timed(case, handle, fd, case.offsets(seed, ops, size))
            await case.verify(handle, fd, check, buffered)
    return result


async def measure_file(
    case: Case, contender: Contender, path: Path, ops: int
) -> dict[str, Any]:
    """One checked untimed pass of ``case.work``, then one timed, checked pass.

    The untimed pass (which also warms the contender up) compares every item
    with plain blocking reads; the timed one must match their tally exactly.
    ``path`` is page-cached first, unless the case creates it (``data="none"``);
    a directory's entries, inodes and files are. A ``cold`` case drops the
    caches after the checked pass, right before the timed one.
    """
    work = case.work
    if work is None:
        raise TypeError(f"{case.name} is not a file-level case")
    if case.data in ("tree", "entries"):
        warm_tree(path)
    elif case.data != "none":
        warm(path)
    expected = work.expected(path, ops)
    async with contender.open(case.api) as handle:
        await work.verify(handle, path)
        if case.cold:
            drop_page_cache()
            await_page_reporting()
        tally, seconds, lag = await _clocked(work.run(handle, path))
        work.confirm(tally, expected, path)
    return _result(tally.items, seconds, lag)


def _open(descriptors: contextlib.ExitStack, path: Path, flags: int) -> int:
    """``os.open`` whose descriptor ``descriptors`` closes."""
    fd = os.open(path, flags)
    descriptors.callback(os.close, fd)
    return fd


def _list(family: str) -> dict[str, Any]:
    found = discover(family)
    return {
        "contenders": [
            {
                "name": c.name,
                "family": c.family,
                "apis": sorted(c.apis),
                "detail": c.detail,
            }
            for c in found.contenders
        ],
        "unavailable": [
            {"name": u.name, "reason": u.reason} for u in found.unavailable
        ],
        "versions": found.versions,
    }


def _run(args: argparse.Namespace) -> dict[str, Any]:
    case = CASES[args.case]
    family = family_of(args.contender)
    name, loop = split_loop(args.contender)
    contender = discover(family).find(name) if family in FAMILIES else None
    if contender is None:
        raise LookupError(f"contender {args.contender!r} is not available")
    if case.api not in contender.apis:
        raise LookupError(f"{contender.name} does not offer the {case.api!r} interface")
    coro = measure(
        case, contender, Path(args.file), args.seed, args.ops, args.calibrate
    )
    result = _run_on(loop, coro)
    return {"case": case.name, "contender": args.contender, **result}


def _run_on(loop_name: str, coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` on a new loop of the kind ``loop_name`` names."""
    loop = new_event_loop(loop_name)
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(coro)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker")
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="print one family's contenders")
    listing.add_argument("--family", required=True, choices=sorted(FAMILIES))
    run = commands.add_parser("run", help="time one case with one contender")
    run.add_argument("--case", required=True, choices=sorted(CASES))
    run.add_argument("--contender", required=True)
    run.add_argument("--file", required=True)
    run.add_argument("--seed", type=int, default=1)
    run.add_argument("--ops", type=int, default=MIN_OPS)
    run.add_argument("--calibrate", type=float, default=0.0, metavar="SECONDS")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    try:
        output = {
            "ok": True,
            **(_list(args.family) if args.command == "list" else _run(args)),
        }
        status = 0
    except Exception as exc:  # reported to the runner, not raised
        logger.exception("benchmark worker failed")
        lines = traceback.format_exception_only(type(exc), exc)
        output = {"ok": False, "error": lines[-1].strip()}
        status = 1
    sys.stdout.flush()
    print(MARKER + json.dumps(output), flush=True)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
