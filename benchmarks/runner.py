"""Orchestration: pick contenders, interleave fresh-process runs, print tables.

For each case: one calibration run per contender (not counted) fixes the
operation count that makes its measurement last about ``--target`` seconds
(a ``sequential`` case reads its whole file instead, and a ``"file"`` case
does its fixed work: no calibration; the ``fio`` reference is time-based:
none either); then ``--repeat`` rounds (or the case's ``min_repeat``) each
run every contender once, in a seeded shuffled order rotated by one place per
round, every run in a new ``python -m benchmarks.worker`` process (``fio``:
an ``fio`` process). A contender whose run fails (error, wrong data, crash,
timeout) is dropped from that case and listed as failed. A case whose
storage needs cannot be met here (a block device for ``direct`` and ``cold``
cases, a writable ``drop_caches`` for ``cold`` ones) is skipped, with why.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from benchmarks import datafile, fio, report
from benchmarks.cases import CASES, Case, MiB
from benchmarks.contenders import FAMILIES, LOOPS, family_of, on_loop, split_loop
from benchmarks.fscases import FS_APIS
from benchmarks.worker import MARKER

ROOT = Path(__file__).resolve().parent.parent
COLD = (
    "; `sync` and `echo 3 > /proc/sys/vm/drop_caches` (page cache, dentries and "
    "inodes) right before the timed pass, after the checked one, starting right "
    "after the next free page reporting pass where the kernel counts them"
)
FILE_TIMEOUT = 600.0
"""Seconds a worker of a ``"file"`` case may take (its work is not scaled)."""


def worker(arguments: Sequence[str], timeout: float) -> dict[str, Any]:
    """Run ``python -m benchmarks.worker ARGUMENTS``; return its JSON result."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), env.get("PYTHONPATH")])
    )
    command = [sys.executable, "-m", "benchmarks.worker", *arguments]
    try:
        done = subprocess.run(
            command,
            check=False,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timed out after {timeout:.0f} s"}
    for line in reversed(done.stdout.splitlines()):
        if line.startswith(MARKER):
            result: dict[str, Any] = json.loads(line[len(MARKER) :])
            return result
    tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
    code = str(done.returncode)
    with contextlib.suppress(ValueError):
        code = signal.Signals(-done.returncode).name
    return {"ok": False, "error": f"worker exited with {code}: {tail}"}


def list_contenders() -> dict[str, Any]:
    """Every family's contenders, each family listed by a worker of its own."""
    listing: dict[str, Any] = {"contenders": [], "unavailable": [], "versions": {}}
    for family in FAMILIES:
        found = worker(["list", "--family", family], timeout=120)
        if not found["ok"]:
            found = {"unavailable": [{"name": family, "reason": found["error"]}]}
        listing["contenders"] += found.get("contenders", [])
        listing["unavailable"] += found["unavailable"]
        listing["versions"].update(found.get("versions", {}))
    reference = fio.listing()
    for key in ("contenders", "unavailable"):
        listing[key] += reference[key]
    listing["versions"].update(reference["versions"])
    return listing


def plural(unit: str) -> str:
    """``line`` -> ``lines``, ``entry`` -> ``entries``; ``MiB`` stays."""
    if unit[-1:].isupper():
        return unit
    if unit.endswith("y"):
        return unit[:-1] + "ies"
    return unit + "s"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Run:
    """One invocation: its options, contenders, data file and results."""

    def __init__(self, args: argparse.Namespace, listing: dict[str, Any]):
        self.args = args
        self.details = {c["name"]: c["detail"] for c in listing["contenders"]}
        self.apis = {c["name"]: set(c["apis"]) for c in listing["contenders"]}
        self.versions: dict[str, str] = listing["versions"]
        self.skipped: dict[str, str] = {}
        self.skipped_cases: dict[str, str] = {}
        self.data: dict[str, dict[str, Any]] = {}
        self.storage = "unknown"
        self.contenders = self._select(listing)
        self.results: list[dict[str, Any]] = []
        self.failed: dict[str, dict[str, str]] = {}
        self.summary: dict[str, list[dict[str, Any]]] = {}
        self.rng = random.Random(args.seed)

    def _select(self, listing: dict[str, Any]) -> list[str]:
        reasons = {u["name"]: u["reason"] for u in listing["unavailable"]}
        if not self.args.contender:
            self.skipped.update(reasons)
            return self._on_loops(list(self.details))
        chosen = []
        for name in self.args.contender:
            family = family_of(name)
            if split_loop(name)[0] in self.details:
                chosen.append(name)
            elif name in reasons or family in reasons:
                self.skipped[name] = reasons.get(name) or reasons[family]
            else:
                same = [n for n in self.details if family_of(n) == family]
                known = f"{family} offers: {', '.join(same)}" if same else "unknown"
                self.skipped[name] = f"not available here ({known})"
        return self._on_loops(chosen)

    def _on_loops(self, names: list[str]) -> list[str]:
        """Each of ``names`` on each loop of ``--loops`` (a name that says its
        loop, ``NAME@uvloop``, on that one only), the loops of one contender
        side by side."""
        missing = {
            loop: f"{loop} is not installed"
            for loop in LOOPS
            if loop != "asyncio" and importlib.util.find_spec(loop) is None
        }
        placed = []
        for name in names:
            base, loop = split_loop(name)
            if base == fio.NAME:  # no event loop
                placed.append(name)
                continue
            loops = self.args.loops if "@" not in name else [loop]
            for each in loops:
                named = on_loop(base, each)
                if each in missing:
                    self.skipped[named] = missing[each]
                    continue
                if named != base:
                    self.details[named] = f"{self.details[base]}; on {LOOPS[each]}"
                    self.apis[named] = self.apis[base]
                placed.append(named)
        return placed

    def _measure(
        self, case: Case, name: str, path: Path, extra: list[str]
    ) -> dict[str, Any]:
        if name == fio.NAME:
            return fio.measure(case, path, self.args.target, self.args.seed)
        arguments = ["run", "--case", case.name, "--contender", name]
        arguments += ["--file", str(path), "--seed", str(self.args.seed), *extra]
        timeout = max(60.0, 40 * self.args.target)
        if case.work is not None:
            # Fixed work, two passes: thread-per-call peers take 10+ s a pass.
            timeout = max(timeout, FILE_TIMEOUT)
        return worker(arguments, timeout=timeout)

    def run_case(self, case: Case, path: Path) -> list[report.Row]:
        """Calibrate, run the interleaved rounds, and reduce to table rows."""
        names = [n for n in self.contenders if case.serves(self.apis[n])]
        failed = self.failed.setdefault(case.name, {})
        size = path.stat().st_size if path.exists() else 0
        self.data[case.name] = {"path": str(path), "bytes": size}
        if case.direct:
            datafile.read_past_the_page_cache(path)
        fixed = case.fixed_ops(size)
        if fixed is not None:
            ops = dict.fromkeys(names, fixed)
        else:
            ops = self._calibrate(case, names, path, failed)
        order = [n for n in names if n in ops]
        self.rng.shuffle(order)
        results = []
        rounds = self.rounds(case)
        for rep in range(rounds):
            shift = rep % len(order) if order else 0
            rotated = order[shift:] + order[:shift]
            for position, name in enumerate(n for n in rotated if n not in failed):
                tag = f"[{case.name} {rep + 1}/{rounds}] {name}"
                result = self._measure(case, name, path, ["--ops", str(ops[name])])
                if not result["ok"]:
                    failed[name] = result["error"]
                    progress(f"{tag}: FAILED: {result['error']}")
                    continue
                result.update(round=rep, position=position)
                results.append(result)
                cost, lag = result["us_per_op"], result["lag_max_ms"]
                own = result.get("own_lag_max_ms")
                lag_text = "n/a" if lag is None else f"{lag:.1f} ms"
                if own is not None:
                    lag_text += f" (own {own:.1f} ms)"
                progress(f"{tag}: {cost:.2f} µs/op, worst lag {lag_text}")
        self.results += results
        kept = [r for r in results if r["contender"] not in failed]
        rows = report.summarise(kept, order=names)
        self.summary[case.name] = [
            {**dataclasses.asdict(row), "ops_per_s": row.ops_per_s} for row in rows
        ]
        return rows

    def rounds(self, case: Case) -> int:
        """Interleaved rounds of ``case``: ``--repeat``, or the case's minimum."""
        if self.args.quick:
            return int(self.args.repeat)
        return max(int(self.args.repeat), case.min_repeat)

    def _calibrate(
        self, case: Case, names: list[str], path: Path, failed: dict[str, str]
    ) -> dict[str, int]:
        """Operations per measurement for each contender (a run not counted).

        ``fio`` is time-based and needs no count (0 stands in).
        """
        ops = {}
        for name in names:
            if name == fio.NAME:
                ops[name] = 0
                continue
            progress(f"[{case.name} calibrate] {name}")
            target = ["--calibrate", str(self.args.target)]
            result = self._measure(case, name, path, target)
            if result["ok"]:
                ops[name] = int(result["ops"])
            else:
                failed[name] = result["error"]
                progress(f"[{case.name} calibrate] {name}: FAILED: {result['error']}")
        return ops

    def unsupported(
        self, case: Case, directory: Path, probe: bool = True
    ) -> str | None:
        """Why ``case`` cannot run with its data in ``directory``, or ``None``.

        With ``probe``, a ``cold`` case's check really drops the page cache.
        """
        problem = None
        if not case.cached:
            problem = datafile.storage_problem(directory)
        if problem is None and case.cold:
            problem = datafile.drop_caches_problem(probe)
        return problem

    def skip_case(self, case: Case, reason: str) -> None:
        self.skipped_cases[case.name] = reason
        progress(f"[{case.name}] skipped: {reason}")

    def data_note(self, case: Case) -> str:
        """Where the case's data comes from, in one sentence or two."""
        size = self.data.get(case.name, {}).get("bytes")
        size = case.file_size(self.args.size_mib) if size is None else size
        if case.work is not None:
            return self._file_note(case, size)
        text = f"Data: {size >> 20:,} MiB on {self.storage}"
        if case.direct:
            text += ", read through an O_DIRECT descriptor (no page cache)"
        if case.cold:
            text += (
                "; `sync` and `echo 3 > /proc/sys/vm/drop_caches` before every pass"
                ", which starts right after the next free page reporting pass"
                " where the kernel counts them"
            )
        if case.sequential:
            reads = size // case.block
            text += (
                f"; one pass in order per measurement ({reads:,} reads, no calibration)"
            )
        elif not case.cached:
            text += f"; ~{self.args.target:g} s per measurement"
        else:
            text += "; page-cached"
        text += "."
        if case.reference == fio.API:
            text += (
                f" `{fio.NAME}` is fio itself on the same file (io_uring, "
                f"--direct={int(case.direct)}, depth {case.depth}, "
                f"bs {case.block}, {self.args.target:g} s): no Python, no loop."
            )
        return text

    def _file_note(self, case: Case, size: int) -> str:
        """A ``"file"`` case's data and the work of one measurement."""
        work = case.work
        if work is None:
            raise TypeError(f"{case.name} is not a file-level case")
        if case.data == "none":
            data = f"Data: a new file on {self.storage}"
        elif case.data == "tree":
            data = (
                f"Data: one directory of {case.count:,} files of {case.block:,} "
                f"seeded random bytes on {self.storage}"
            )
            data += COLD if case.cold else ", page-cached"
        elif case.data == "entries":
            data = (
                f"Data: one directory of {case.count:,} empty files on "
                f"{self.storage}, its entries and inodes cached"
            )
        elif case.data == "lines":
            data = (
                f"Data: a {size / MiB:.1f} MiB UTF-8 text file of {case.count:,} "
                f"seeded ASCII lines ({size / max(1, case.count):.0f} bytes on "
                f"average) on {self.storage}, page-cached"
            )
        else:
            data = f"Data: {size >> 20:,} MiB of random bytes on {self.storage}, "
            data += "page-cached"
        ops = case.fixed_ops(size)
        whole = "first call to last" if case.api in FS_APIS else "open to close"
        return (
            f"{data}. Each measurement times one pass ({ops:,} {plural(work.unit)}, "
            f"no calibration): {work.describe()}. µs/op is per {work.unit}; "
            f"total is the whole pass, {whole}."
        )

    def section(self, case: Case, rows: list[report.Row]) -> str:
        lines = [f"### {case.name}: {case.title}", ""]
        skipped = self.skipped_cases.get(case.name)
        if skipped is not None:
            return "\n".join([*lines, f"(skipped: {skipped})"])
        lines += [self.data_note(case), ""]
        block = case.block if case.sequential else None
        total = bool(case.count) or case.sequential
        table = report.table(rows, self.args.baseline, block, total) if rows else None
        lines.append(table or "(no results)")
        notes = [f"- skipped `{n}`: {r}" for n, r in self.skipped.items()]
        notes += [
            f"- failed `{n}`: {r}" for n, r in self.failed.get(case.name, {}).items()
        ]
        notes += self._not_served(case)
        if rows and not any(row.contender == self.args.baseline for row in rows):
            notes.append(f"- baseline `{self.args.baseline}` has no result here")
        if case.goal is not None:
            subject = case.goal.subject
            subjects = [
                n
                for n in self.contenders
                if family_of(n) == subject and case.serves(self.apis[n])
            ]
            notes += report.goal_notes(case.goal, rows, subjects)
        return "\n".join([*lines, "", *notes] if notes else lines)

    def _not_served(self, case: Case) -> list[str]:
        """A line per set of cases where the contenders ``case`` skips do run."""
        by_cases: dict[tuple[str, ...], list[str]] = {}
        for name in self.contenders:
            if not case.serves(self.apis[name]):
                cases = (c.name for c in CASES.values() if c.serves(self.apis[name]))
                by_cases.setdefault(tuple(cases), []).append(f"`{name}`")
        lines = []
        for elsewhere, names in by_cases.items():
            rows = "a row" if len(names) == 1 else "rows"
            where = f" ({rows} in {', '.join(elsewhere)} only)" if elsewhere else ""
            lines.append(f"- n/a {', '.join(names)}: no {case.api!r} interface{where}")
        return lines

    def preamble(self, storage: str) -> str:
        self.storage = storage
        a = self.args
        method = (
            f"Data: seeded random data on {storage}; {a.size_mib} MiB and "
            f"page-cached unless a case says otherwise. {a.repeat} interleaved "
            "repetitions (or the case's minimum), each in a fresh process, "
            f"~{a.target:g} s each unless a case says otherwise. µs/op = wall "
            "time / operations; ops/s = "
            f"1e6 / median; ratio = median / median of `{a.baseline}`; worst lag = "
            "the largest delay of a 1 ms heartbeat on the loop, over all repetitions; "
            "own lag = the same, less the time other processes (or the hypervisor) "
            "kept the loop's thread off the CPU while it could have run."
        )
        return f"{report.header(self.versions)}\n\n{method}"

    def case_notes(self, directory: Path) -> str:
        """Every case, and whether it can run with its data in ``directory``."""
        lines = ["Cases:"]
        for case in CASES.values():
            problem = self.unsupported(case, directory, probe=False)
            status = f"cannot run here: {problem}" if problem else "can run here"
            if case.opt_in:
                status += "; opt-in: runs only when named with --case"
            lines.append(f"- `{case.name}`: {case.title} ({status})")
        return "\n".join(lines)

    def contender_notes(self) -> str:
        lines = ["Contenders:"]
        lines += [f"- `{name}`: {self.details[name]}" for name in self.contenders]
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "header": report.header(self.versions),
            "versions": self.versions,
            "options": {k: v for k, v in vars(self.args).items() if k != "json"},
            "filesystem": self.storage,
            "data": self.data,
            "contenders": {n: self.details[n] for n in self.contenders},
            "skipped": self.skipped,
            "skipped_cases": self.skipped_cases,
            "failed": self.failed,
            "summary": self.summary,
            "results": self.results,
        }
