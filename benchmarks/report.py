"""Summaries and markdown: one table per case, one header line per run.

A row without a heartbeat (the ``fio`` reference has no event loop) shows
``n/a`` for its lag and never counts as meeting a lag goal. Lag goals are
judged on the worst lag; the own lag (less the time other processes kept the
loop's thread off the CPU, see :mod:`benchmarks.lag`) is shown beside it.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchmarks.cases import Goal


@dataclass(frozen=True)
class Row:
    """One contender's repetitions of one case, reduced."""

    contender: str
    reps: int
    ops: int
    median_us: float
    min_us: float
    max_us: float
    worst_lag_ms: float | None
    worst_own_lag_ms: float | None = None

    @property
    def ops_per_s(self) -> float:
        return 1e6 / self.median_us


def summarise(results: Iterable[Mapping[str, Any]], order: Sequence[str]) -> list[Row]:
    """Reduce per-measurement results of one case to a row per contender."""
    by_contender: dict[str, list[Mapping[str, Any]]] = {}
    for result in results:
        by_contender.setdefault(result["contender"], []).append(result)
    rows = []
    for name in order:
        reps = by_contender.get(name)
        if not reps:
            continue
        costs = [r["us_per_op"] for r in reps]
        lags = [r["lag_max_ms"] for r in reps if r.get("lag_max_ms") is not None]
        own = [r["own_lag_max_ms"] for r in reps if r.get("own_lag_max_ms") is not None]
        rows.append(
            Row(
                contender=name,
                reps=len(reps),
                ops=int(statistics.median(r["ops"] for r in reps)),
                median_us=statistics.median(costs),
                min_us=min(costs),
                max_us=max(costs),
                worst_lag_ms=max(lags) if lags else None,
                worst_own_lag_ms=max(own) if own and len(own) == len(reps) else None,
            )
        )
    return rows


def _us(value: float) -> str:
    if value < 10:
        return f"{value:.2f}"
    if value < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def _ratio(value: float) -> str:
    return f"{value:.2f}x" if value < 10 else f"{value:.1f}x"


def _ms(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def table(
    rows: Sequence[Row], baseline: str, block: int | None = None, total: bool = False
) -> str:
    """A markdown table, columns padded so it also reads well in a terminal.

    With ``block`` (bytes per operation), a MB/s column (1e6 bytes/s, from the
    median) follows ops/s. With ``total`` (cases of fixed work), a column of
    the median time of the whole measurement (ms) follows the µs/op ones.
    """
    base = next((r for r in rows if r.contender == baseline), None)
    header = [
        "contender",
        "µs/op (median)",
        "min-max µs/op",
        *(["total ms (median)"] if total else []),
        "ops/s",
        *(["MB/s"] if block else []),
        f"vs {baseline}",
        "worst lag (ms)",
        "own lag (ms)",
        "ops x reps",
    ]
    body = [
        [
            f"`{row.contender}`",
            _us(row.median_us),
            f"{_us(row.min_us)}-{_us(row.max_us)}",
            *([_us(row.median_us * row.ops / 1e3)] if total else []),
            f"{row.ops_per_s:,.0f}",
            *([f"{block / row.median_us:,.0f}"] if block else []),
            _ratio(row.median_us / base.median_us) if base else "-",
            _ms(row.worst_lag_ms),
            _ms(row.worst_own_lag_ms),
            f"{row.ops:,} x {row.reps}",
        ]
        for row in rows
    ]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    rule = ["-" * (w - 1) + (":" if i else "-") for i, w in enumerate(widths)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    return "\n".join(line(cells) for cells in [header, rule, *body])


def goal_notes(goal: Goal, rows: Sequence[Row], subjects: Sequence[str]) -> list[str]:
    """One markdown bullet per part of ``goal``: each subject's value, met or not.

    ``subjects`` are the contenders the goal is about (the case's ``asyncfile``
    ones); one without a row (it failed) is listed as ``no result``; with no
    subjects at all (none serves the case), one line says so.
    """
    if not subjects:
        return [f"- goals: no `{goal.subject}` contender serves this case here"]
    by_name = {row.contender: row for row in rows}
    notes = []
    reference = goal.speed_reference
    ref = None if reference is None else by_name.get(reference)
    if reference is not None and goal.min_speed:
        want = f"ops/s at least {goal.min_speed:.2f}x `{reference}`'s"
        if ref is None:
            verdicts = [f"no `{reference}` result"]
        else:
            verdicts = [
                _speed(name, by_name.get(name), ref, goal.min_speed)
                for name in subjects
            ]
        notes.append(f"- goal, {want}: " + ", ".join(verdicts))
    if reference is not None and goal.max_slowdown is not None:
        want = f"µs/op at most {goal.max_slowdown:g}x `{reference}`'s"
        if ref is None:
            verdicts = [f"no `{reference}` result"]
        else:
            verdicts = [
                _slowdown(name, by_name.get(name), ref, goal.max_slowdown)
                for name in subjects
            ]
        notes.append(f"- goal, {want}: " + ", ".join(verdicts))
    if goal.max_lag_ms is not None:
        want = f"worst lag under {goal.max_lag_ms:g} ms"
        verdicts = [_lag(name, by_name.get(name), goal.max_lag_ms) for name in subjects]
        notes.append(f"- goal, {want}: " + ", ".join(verdicts))
    return notes


def _speed(name: str, row: Row | None, ref: Row, minimum: float) -> str:
    if row is None:
        return f"`{name}` no result"
    speed = ref.median_us / row.median_us
    return f"`{name}` {_ratio(speed)} {'met' if speed >= minimum else 'MISSED'}"


def _slowdown(name: str, row: Row | None, ref: Row, limit: float) -> str:
    if row is None:
        return f"`{name}` no result"
    ratio = row.median_us / ref.median_us
    return f"`{name}` {_ratio(ratio)} {'met' if ratio <= limit else 'MISSED'}"


def _lag(name: str, row: Row | None, limit: float) -> str:
    if row is None:
        return f"`{name}` no result"
    lag = row.worst_lag_ms
    if lag is None:
        return f"`{name}` no lag measured"
    verdict = f"`{name}` {_ms(lag)} ms {'met' if lag < limit else 'MISSED'}"
    own = row.worst_own_lag_ms
    if own is not None and lag >= limit:
        verdict += f" (own lag {_ms(own)} ms)"
    return verdict


def header(versions: Mapping[str, str]) -> str:
    """Date, Python, kernel, CPU count and peer versions, on one line."""
    now = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    python = f"{platform.python_implementation()} {platform.python_version()}"
    kernel = f"{platform.system()} {platform.release()} {platform.machine()}"
    peers = " · ".join(
        f"{name} {version}" for name, version in sorted(versions.items())
    )
    impl = os.environ.get("CAIO_IMPL")
    parts = [now, python, kernel, f"{os.cpu_count()} CPUs", peers]
    if impl:
        parts.append(f"CAIO_IMPL={impl}")
    return "asyncfile benchmarks · " + " · ".join(p for p in parts if p)
