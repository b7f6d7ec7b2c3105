"""The benchmark heartbeat's own lag: time other processes took is not the
contender's, but everything the contender's process did or waited for is."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable

import pytest

from benchmarks.lag import SCHEDSTAT, Heartbeat, _Clocks, _kept_off

needs_schedstat = pytest.mark.skipif(
    not os.path.exists(SCHEDSTAT), reason="no per-thread run-queue wait here"
)


def clocks(
    wall: float,
    thread_cpu: float,
    process_cpu: float | None = None,
    waited: float | None = 0.0,
    sleeps: int = 0,
) -> _Clocks:
    process = thread_cpu if process_cpu is None else process_cpu
    return _Clocks(wall, thread_cpu, process, waited, sleeps)


def test_a_thread_that_never_slept_lost_all_but_its_cpu_time() -> None:
    # Run-queue wait and steal alike: the counter only shows the former.
    assert _kept_off(clocks(0, 0), clocks(5, 1, waited=1)) == pytest.approx(4)


def test_the_process_s_other_threads_cpu_is_the_contender_s() -> None:
    before, after = clocks(0, 0), clocks(5, 1, process_cpu=4, waited=4)
    assert _kept_off(before, after) == pytest.approx(1)
    assert _kept_off(before, clocks(5, 1, process_cpu=9)) == 0


def test_a_thread_that_slept_lost_only_its_run_queue_wait() -> None:
    after = clocks(5, 1, waited=0.5, sleeps=1)
    assert _kept_off(clocks(0, 0), after) == pytest.approx(0.5)


def test_no_run_queue_counter_means_no_own_lag() -> None:
    assert _kept_off(clocks(0, 0, waited=None), clocks(5, 1, waited=None)) is None


async def stalled(stall: Callable[[], None]) -> tuple[float, float]:
    """The worst lag and own lag of a heartbeat across ``stall()``."""
    heartbeat = Heartbeat(asyncio.get_running_loop())
    heartbeat.start()
    await asyncio.sleep(0.005)
    stall()
    report = heartbeat.stop()
    assert report.own_max is not None
    return report.max, report.own_max


def spin(cpu: float) -> None:
    end = time.thread_time() + cpu
    while time.thread_time() < end:
        pass


@needs_schedstat
async def test_a_loop_held_by_its_own_work_shows_in_the_own_lag() -> None:
    lag, own = await stalled(lambda: spin(0.03))
    assert own >= 0.03 - 0.002
    assert own <= lag


@needs_schedstat
async def test_a_blocking_call_on_the_loop_shows_in_the_own_lag() -> None:
    lag, own = await stalled(lambda: time.sleep(0.06))
    assert own >= 0.04  # whatever the run queue took after the sleep
    assert own <= lag
