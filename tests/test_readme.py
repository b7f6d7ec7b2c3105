"""The README's examples run as written and print what the README says.

Every ```python block is followed by a ```text block with its exact standard
output.  Where a line is legitimately machine-dependent (a timing, a backend
name), ``...`` in the text block stands for any text within that line; keep
that rare.  Each block runs in a fresh directory, then a second time in the
same one, so an example that depends on what an earlier run left behind
(a log file appended to, a file that already exists) fails here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from backends import clean_env
from platforms import LOOP_SIGNALS

ROOT = Path(__file__).parents[1]
README = ROOT / "README.md"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


class Example(NamedTuple):
    line: int
    code: str
    output: str | None


def fenced_blocks(text: str) -> list[tuple[int, str, str]]:
    """``(line number, language, body)`` of every fenced block, in order."""
    return [
        (text.count("\n", 0, match.start()) + 1, match.group(1), match.group(2))
        for match in FENCE.finditer(text)
    ]


def python_examples(text: str) -> list[Example]:
    blocks = fenced_blocks(text)
    examples = []
    for index, (line, language, body) in enumerate(blocks):
        if language != "python":
            continue
        following = blocks[index + 1] if index + 1 < len(blocks) else None
        output = following[2] if following and following[1] == "text" else None
        examples.append(Example(line, body, output))
    return examples


def output_matches(documented: str, printed: str) -> bool:
    """Exactly equal, but for ``...``, which matches any text within a line."""
    pattern = ".*?".join(map(re.escape, documented.split("...")))
    return re.fullmatch(pattern, printed) is not None


EXAMPLES = python_examples(README.read_text())


def run_example(code: str, cwd: Path) -> str:
    process = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert process.stderr == "", process.stderr
    return process.stdout


def _example_param(example: Example) -> Any:
    """The example, skipped where the system lacks what its code calls."""
    marks = [LOOP_SIGNALS.mark] if "add_signal_handler" in example.code else []
    return pytest.param(example, marks=marks, id=f"line{example.line}")


@pytest.mark.parametrize("example", [_example_param(e) for e in EXAMPLES])
def test_readme_example_prints_its_documented_output_on_every_run(
    example: Example, tmp_path: Path
) -> None:
    assert example.output is not None, (
        f"README.md line {example.line}: a ```python block must be followed by "
        "a ```text block with what it prints"
    )
    for run in ("first run", "second run in the same directory"):
        printed = run_example(example.code, tmp_path)
        assert output_matches(example.output, printed), (
            f"README.md line {example.line}, {run}: printed\n{printed}"
            f"instead of\n{example.output}"
        )


def test_the_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 3


@pytest.mark.parametrize(
    ("documented", "printed", "matches"),
    [
        ("a\nb\n", "a\nb\n", True),
        ("a\nb\n", "a\nb\nb\n", False),
        ("a\n", "", False),
        ("backend: ...\n", "backend: uring\n", True),
        ("backend: ...\n", "backend: uring\nmore\n", False),
        ("took ... ms (...)\n", "took 1.5 ms (thread)\n", True),
    ],
)
def test_documented_output_patterns(
    documented: str, printed: str, matches: bool
) -> None:
    assert output_matches(documented, printed) is matches


def test_ci_runs_the_readme_test_command_as_written() -> None:
    commands = re.findall(r"```sh\n(.*?)\n```", README.read_text(), re.DOTALL)
    assert len(commands) >= 2, "the README opens with two commands"
    ci = (README.parent / ".ci" / "run").read_text().splitlines()
    assert commands[1] in ci


def test_every_script_the_readme_names_exists() -> None:
    """The Development table's commands are run by hand (``.ci/run`` runs
    them too): at least the programs they name must be there."""
    for script in sorted(set(re.findall(r"\bscripts/[\w.-]+", README.read_text()))):
        path = ROOT / script
        assert path.is_file(), script
        if "." not in path.name:
            assert os.access(path, os.X_OK), f"{script} is not executable"
