"""The benchmarks' --loops: one contender on several event loops, in one run."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from backends import clean_env

from benchmarks.contenders import family_of, new_event_loop, on_loop, split_loop

ROOT = Path(__file__).resolve().parent.parent


def test_a_contender_name_carries_its_loop() -> None:
    name = "asyncfile[linux_aio]@uvloop"
    assert split_loop(name) == ("asyncfile[linux_aio]", "uvloop")
    assert split_loop("sync") == ("sync", "asyncio")
    assert on_loop("sync", "asyncio") == "sync"
    assert on_loop("before", "uvloop") == "before@uvloop"
    assert family_of(name) == "asyncfile"
    with pytest.raises(LookupError, match="unknown event loop 'trio'"):
        new_event_loop("trio")


def test_one_run_measures_each_contender_on_each_loop(tmp_path: Path) -> None:
    pytest.importorskip("uvloop", reason="uvloop is not installed")
    out = tmp_path / "out.json"
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks",
            "--case",
            "qd1",
            "--contender",
            "asyncfile",
            "--loops",
            "asyncio,uvloop",
            "--repeat",
            "1",
            "--target",
            "0.02",
            "--size-mib",
            "4",
            "--dir",
            str(tmp_path),
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    results = json.loads(out.read_text())["results"]
    assert {result["contender"] for result in results} == {
        "asyncfile",
        "asyncfile@uvloop",
    }
    assert re.search(r"^\| `asyncfile@uvloop` +\|", process.stdout, re.MULTILINE)
