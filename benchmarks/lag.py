"""Event loop heartbeat: how late does a 1 ms timer fire while a case runs?

A callback chain on the measured loop asks to run every ``period`` seconds
(``loop.call_at``) and records how late each call actually was. A case that
never lets the loop run (synchronous reads, or an await that always completes
inline) delays the pending beat until it ends; :meth:`Heartbeat.stop` counts
that final, still-pending delay too, so a stall is reported even when no beat
fired during it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

PERIOD = 0.001


@dataclass(frozen=True)
class LagReport:
    """Lateness of the heartbeat over one measured interval, in seconds."""

    max: float
    p99: float
    beats: int


class Heartbeat:
    """A timer on ``loop`` that wakes every ``period`` s and records its lag.

    Lag is ``actual - scheduled`` of each wake-up (never negative); the next
    wake-up is scheduled ``period`` after the actual one, so one long stall
    counts once rather than as a burst of catch-up beats.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, period: float = PERIOD):
        self._loop = loop
        self._period = period
        self._due = 0.0
        self._lags: list[float] = []
        self._handle: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start beating; the first beat is due one period from now."""
        if self._handle is not None:
            raise RuntimeError("heartbeat already running")
        self._lags = []
        self._schedule(self._loop.time())

    def stop(self) -> LagReport:
        """Stop beating and report, counting a beat that is overdue now."""
        if self._handle is None:
            raise RuntimeError("heartbeat not running")
        self._handle.cancel()
        self._handle = None
        beats = len(self._lags)
        overdue = self._loop.time() - self._due
        ordered = sorted([*self._lags, max(0.0, overdue)])
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        return LagReport(max=ordered[-1], p99=p99, beats=beats)

    def _schedule(self, now: float) -> None:
        self._due = now + self._period
        self._handle = self._loop.call_at(self._due, self._beat)

    def _beat(self) -> None:
        now = self._loop.time()
        # asyncio may run a timer up to one clock resolution early.
        self._lags.append(max(0.0, now - self._due))
        self._schedule(now)
