"""Event loop heartbeat: how late does a 1 ms timer fire while a case runs?

A callback chain on the measured loop asks to run every ``period`` seconds
(``loop.call_at``) and records how late each call actually was. A case that
never lets the loop run (synchronous reads, or an await that always completes
inline) delays the pending beat until it ends; :meth:`Heartbeat.stop` counts
that final, still-pending delay too, so a stall is reported even when no beat
fired during it.

On a shared machine a beat is also late when the loop's thread could have run
but was kept off its CPU by other processes, or by the hypervisor (steal).
Each beat therefore also gets an *own* lag: its lag less the time, since the
beat before, that the loop's thread was kept off the CPU by someone other than
the measured process (see :func:`_kept_off`). Lateness caused by the
contender's own threads (a listener thread, an executor, the kernel's io_uring
workers) is not subtracted.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import time
from dataclasses import dataclass

PERIOD = 0.001
SCHEDSTAT = "/proc/thread-self/schedstat"
"""Linux: the calling thread's CPU time, run-queue wait (ns) and time slices."""


@dataclass(frozen=True)
class LagReport:
    """Lateness of the heartbeat over one measured interval, in seconds.

    ``own_max``: the worst own lag (``None`` where the run-queue wait cannot
    be read); ``kept_off``: the total time other processes or the hypervisor
    kept the loop's thread off the CPU while it could have run.
    """

    max: float
    p99: float
    beats: int
    own_max: float | None = None
    kept_off: float | None = None


@dataclass(frozen=True)
class _Clocks:
    """The loop thread's clocks at one beat (seconds; ``waited`` None if unknown)."""

    wall: float
    thread_cpu: float
    process_cpu: float
    waited: float | None
    sleeps: int

    @classmethod
    def read(cls, schedstat: int) -> _Clocks:
        waited = None
        if schedstat >= 0:
            waited = int(os.pread(schedstat, 128, 0).split()[1]) / 1e9
        return cls(
            wall=time.perf_counter(),
            thread_cpu=time.thread_time(),
            process_cpu=time.process_time(),
            waited=waited,
            sleeps=resource.getrusage(resource.RUSAGE_THREAD).ru_nvcsw,
        )


def _kept_off(before: _Clocks, after: _Clocks) -> float | None:
    """Time between two readings that the loop's thread could have run but
    did not, for reasons outside the measured process.

    If the thread never slept in between, everything but its own CPU time
    was taken from it (run-queue wait, and steal, which no per-thread counter
    shows); if it slept, only the run-queue wait is known. Either way the CPU
    time of the process's other threads is deducted: they may have held this
    CPU, and their work is the contender's.
    """
    if before.waited is None or after.waited is None:
        return None
    if after.sleeps == before.sleeps:
        off = (after.wall - before.wall) - (after.thread_cpu - before.thread_cpu)
    else:
        off = after.waited - before.waited
    others = (after.process_cpu - before.process_cpu) - (
        after.thread_cpu - before.thread_cpu
    )
    return max(0.0, off - max(0.0, others))


class Heartbeat:
    """A timer on ``loop`` that wakes every ``period`` s and records its lag.

    Lag is ``actual - scheduled`` of each wake-up (never negative); the next
    wake-up is scheduled ``period`` after the actual one, so one long stall
    counts once rather than as a burst of catch-up beats. Start, beats and
    stop must run on the loop's thread (they read its clocks).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, period: float = PERIOD):
        self._loop = loop
        self._period = period
        self._due = 0.0
        self._lags: list[float] = []
        self._own: list[float] = []
        self._kept_off = 0.0
        self._schedstat = -1
        self._clocks: _Clocks | None = None
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start beating; the first beat is due one period from now."""
        if self._handle is not None:
            raise RuntimeError("heartbeat already running")
        self._lags = []
        self._own = []
        self._kept_off = 0.0
        with contextlib.suppress(OSError):
            self._schedstat = os.open(SCHEDSTAT, os.O_RDONLY | os.O_CLOEXEC)
        self._clocks = _Clocks.read(self._schedstat)
        self._schedule(self._loop.time())

    def stop(self) -> LagReport:
        """Stop beating and report, counting a beat that is overdue now."""
        if self._handle is None:
            raise RuntimeError("heartbeat not running")
        self._handle.cancel()
        self._handle = None
        beats = len(self._lags)
        self._record(max(0.0, self._loop.time() - self._due))
        if self._schedstat >= 0:
            os.close(self._schedstat)
            self._schedstat = -1
        ordered = sorted(self._lags)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        measured = len(self._own) == len(self._lags)
        return LagReport(
            max=ordered[-1],
            p99=p99,
            beats=beats,
            own_max=max(self._own) if measured else None,
            kept_off=self._kept_off if measured else None,
        )

    def _schedule(self, now: float) -> None:
        self._due = now + self._period
        self._handle = self._loop.call_at(self._due, self._beat)

    def _record(self, lag: float) -> None:
        self._lags.append(lag)
        clocks = _Clocks.read(self._schedstat)
        assert self._clocks is not None
        kept_off = _kept_off(self._clocks, clocks)
        self._clocks = clocks
        if kept_off is not None:
            self._kept_off += kept_off
            self._own.append(max(0.0, lag - kept_off))

    def _beat(self) -> None:
        now = self._loop.time()
        # asyncio may run a timer up to one clock resolution early.
        self._record(max(0.0, now - self._due))
        self._schedule(now)
