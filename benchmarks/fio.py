"""``fio`` as a reference row: the same reads with no Python and no event loop.

A case with ``reference="fio"`` gets a ``fio`` row: fio itself (io_uring
engine, one job) reads the case's data file with the case's block size,
queue depth and ``O_DIRECT`` setting for ``--target`` seconds, read-only. Its
read IOPS become µs/op, so the row sits in the table beside the contenders
and takes its turn in the interleaved rounds; it has no loop, so no lag.

Guaranteed: a result comes only from a run that exited 0, reported no job
error and completed at least one read; otherwise the row fails with fio's
own message.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.cases import Case

NAME = "fio"
API = "fio"
"""The interface a case names in ``Case.reference`` to get this row."""
ENGINE = "io_uring"


def listing() -> dict[str, Any]:
    """The fio contender, or why it is unavailable, in a worker listing's shape."""
    executable = shutil.which("fio")
    if executable is None:
        unavailable = [{"name": NAME, "reason": "no fio executable on PATH"}]
        return {"contenders": [], "unavailable": unavailable, "versions": {}}
    try:
        done = subprocess.run(
            [executable, "--version"],
            check=True,
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        unavailable = [{"name": NAME, "reason": f"fio --version failed: {exc}"}]
        return {"contenders": [], "unavailable": unavailable, "versions": {}}
    version = done.stdout.strip().removeprefix("fio-")
    detail = (
        f"{executable} {version}, --ioengine={ENGINE} --numjobs=1, the case's "
        "block size, depth and O_DIRECT, time-based (reference: no Python, no loop)"
    )
    contender = {"name": NAME, "family": NAME, "apis": [API], "detail": detail}
    return {"contenders": [contender], "unavailable": [], "versions": {NAME: version}}


def command(case: Case, path: Path, seconds: float, seed: int) -> list[str]:
    """The fio command line for ``case`` on ``path``, running ``seconds``."""
    argv = [
        shutil.which("fio") or "fio",
        "--readonly",
        "--output-format=json",
        f"--name={case.name}",
        f"--filename={path}",
        f"--ioengine={ENGINE}",
        f"--direct={int(case.direct)}",
        f"--rw={'read' if case.sequential else 'randread'}",
        f"--bs={case.block}",
        f"--iodepth={case.depth}",
        "--numjobs=1",
        "--time_based",
        f"--runtime={max(1, round(seconds * 1000))}ms",
        "--norandommap",
        f"--randseed={seed}",
        # Leave the page cache alone: O_DIRECT does not use it, and the
        # buffered cases' warm file must stay warm.
        "--invalidate=0",
    ]
    if case.warmup_seconds > 0:
        # Untimed, as long as the Python contenders' warm-up.
        argv.append(f"--ramp_time={round(case.warmup_seconds * 1000)}ms")
    return argv


def measure(case: Case, path: Path, seconds: float, seed: int) -> dict[str, Any]:
    """Run fio once; return a result shaped like a worker's (no lag)."""
    argv = command(case, path, seconds, seed)
    try:
        done = subprocess.run(
            argv,
            check=False,
            capture_output=True,
            text=True,
            timeout=max(60.0, 20 * seconds),
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": "fio timed out"}
    except OSError as exc:
        return {"ok": False, "error": f"cannot run fio: {exc}"}
    try:
        job = _parse(done.stdout)["jobs"][0]
        read = job["read"]
        ops = int(read["total_ios"])
        seconds_run = float(read["runtime"]) / 1e3
        error = int(job.get("error", 0))
    except (ValueError, KeyError, IndexError, TypeError):
        job, ops, seconds_run, error = {}, 0, 0.0, 0
    if done.returncode != 0 or error or ops <= 0 or seconds_run <= 0:
        lines = (done.stderr or done.stdout).strip().splitlines()
        why = lines[-1] if lines else f"error {error}, {ops} reads"
        return {"ok": False, "error": f"fio exited with {done.returncode}: {why}"}
    return {
        "ok": True,
        "case": case.name,
        "contender": NAME,
        "ops": ops,
        "seconds": seconds_run,
        "us_per_op": seconds_run / ops * 1e6,
        "ops_per_s": ops / seconds_run,
        "lag_max_ms": None,
        "lag_p99_ms": None,
        "beats": None,
        "fio_iops": float(read["iops"]),
        "fio_clat_mean_us": float(read.get("clat_ns", {}).get("mean", 0.0)) / 1e3,
        "command": argv,
    }


def _parse(stdout: str) -> dict[str, Any]:
    """fio's JSON report (fio may print notes before it)."""
    start = stdout.find("{")
    if start < 0:
        raise ValueError("no JSON in fio output")
    report: dict[str, Any] = json.loads(stdout[start:])
    return report
