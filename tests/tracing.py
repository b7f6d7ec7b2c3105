"""System calls a child Python makes, seen by strace."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def calls_between_marks(
    child: str, argument: Path, mark: str, tmp_path: Path, system_call: str
) -> tuple[str, list[str]]:
    """Run ``child`` (Python source taking ``argument``) under strace: its
    output, and the ``system_call`` lines it made between its writes of
    ``<<mark`` and ``mark>>`` (to /dev/null, say)."""
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed: the system calls are unseen")
    log = tmp_path / "strace.log"
    trace = ["-f", "-qq", "-e", f"trace={system_call},write", "-o", str(log)]
    done = subprocess.run(
        [strace, *trace, sys.executable, "-c", textwrap.dedent(child), str(argument)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls = log.read_text()
    between = calls[calls.index(f"<<{mark}") : calls.index(f"{mark}>>")]
    return done.stdout.strip(), [
        line for line in between.splitlines() if f"{system_call}(" in line
    ]
