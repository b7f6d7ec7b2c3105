"""The cold case starts its pass right after a free page reporting pass, where
the kernel counts them, and never waits where it does not."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from benchmarks import datafile


@pytest.fixture
def passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    counter = tmp_path / "passes"
    counter.write_text("41\n")
    monkeypatch.setattr(datafile, "REPORTING_PASSES", counter)
    return counter


def test_returns_once_a_reporting_pass_ends(passes: Path) -> None:
    ended = threading.Timer(0.05, passes.write_text, args=("42\n",))
    started = time.monotonic()
    ended.start()
    try:
        assert datafile.await_page_reporting(timeout=5.0)
    finally:
        ended.cancel()
    assert 0.05 <= time.monotonic() - started < 1.0


def test_gives_up_after_the_timeout_when_no_pass_runs(passes: Path) -> None:
    started = time.monotonic()
    assert not datafile.await_page_reporting(timeout=0.1)
    assert time.monotonic() - started >= 0.1


def test_does_not_wait_where_the_kernel_counts_no_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datafile, "REPORTING_PASSES", tmp_path / "absent")
    started = time.monotonic()
    assert not datafile.await_page_reporting(timeout=5.0)
    assert time.monotonic() - started < 0.5
