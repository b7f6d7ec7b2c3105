"""What a user reads (docs, README, docstrings and comments, examples, the
benchmarks' README) speaks of the project alone: no references to issue
trackers' numbers, planning documents or work sessions a user never sees."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: Everything a user of the package or of its checkout reads.
USER_FACING = [
    ROOT / "README.md",
    ROOT / "benchmarks" / "README.md",
    *sorted((ROOT / "docs").rglob("*.md")),
    *sorted((ROOT / "examples").rglob("*.py")),
    *sorted((ROOT / "benchmarks").glob("*.py")),
    *sorted((ROOT / "scripts").iterdir()),
    *sorted(
        path
        for path in (ROOT / "asyncfile").rglob("*")
        if path.suffix in {".py", ".pyi", ".c", ".h"}
    ),
]

#: References that mean nothing outside the project's own bookkeeping.
PRIVATE_REFERENCES = re.compile(
    r"\bissues?\s*#?\d+"  # "issue 5", "issue #3"
    r"|\bthe issue\b"
    r"|\b(?:DESIGN|STYLE|BRIEF)\.md\b"
    r"|\b(?:shared|helpers)/"
    r"|\b(?:work|coding|agent) sessions?\b"
    r"|\bcoordinator\b",
    re.IGNORECASE,
)


def test_there_is_something_to_check() -> None:
    names = {path.name for path in USER_FACING}
    assert {"README.md", "streams.md", "_speedups.c", "cli.py"} <= names


@pytest.mark.parametrize("path", USER_FACING, ids=lambda p: str(p.relative_to(ROOT)))
def test_user_facing_text_has_no_private_references(path: Path) -> None:
    if not path.is_file():
        pytest.skip(f"{path} is not a file")
    text = path.read_text(encoding="utf-8", errors="replace")
    found = [
        f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}: "
        f"{match.group(0)!r}"
        for match in PRIVATE_REFERENCES.finditer(text)
    ]
    assert not found, "references a user never sees:\n" + "\n".join(found)
