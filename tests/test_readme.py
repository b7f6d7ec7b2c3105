"""The README's examples run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from backends import clean_env

README = Path(__file__).parents[1] / "README.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)


@pytest.mark.parametrize(
    "example", EXAMPLES, ids=[f"example{i}" for i in range(len(EXAMPLES))]
)
def test_readme_example_runs(example: str, tmp_path: Path) -> None:
    process = subprocess.run(
        [sys.executable, "-c", example],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert "Traceback" not in process.stderr


def test_ci_runs_the_readme_test_command_as_written() -> None:
    commands = re.findall(r"```sh\n(.*?)\n```", README.read_text(), re.DOTALL)
    assert len(commands) >= 2, "the README opens with two commands"
    ci = (README.parent / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci
