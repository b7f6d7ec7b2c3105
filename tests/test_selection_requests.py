"""How CAIO_IMPL and the default_implementation file are read: names as a
user writes them, warnings that point at the user's code, and ``info``
showing a request it ignored."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from backends import clean_env

import asyncfile.core as core
from asyncfile.core._selection import select_backend

PACKAGE_ROOT = str(Path(core.__file__).parents[2])
AVAILABLE = [name for name in core.BACKENDS if name not in core.unavailable]


def run_python(
    *arguments: str, cwd: Path, **variables: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "default", *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(PYTHONPATH=PACKAGE_ROOT, **variables),
    )


@pytest.mark.parametrize("spelling", [str.upper, str.title, lambda n: f"  {n}\t"])
def test_caio_impl_is_matched_case_insensitively_in_a_real_interpreter(
    spelling: object, tmp_path: Path
) -> None:
    name = AVAILABLE[-2] if len(AVAILABLE) > 1 else AVAILABLE[0]
    requested = spelling(name)  # type: ignore[operator]
    result = run_python(
        "-c",
        "import asyncfile.core as c; print(c.selection.name, c.preferred.__name__)",
        cwd=tmp_path,
        CAIO_IMPL=requested,
    )
    assert result.returncode == 0, result.stderr
    assert "Warning" not in result.stderr
    selected, module = result.stdout.split()
    assert selected == name
    assert module == f"asyncfile.core.{core.BACKENDS[name]}"


def test_default_file_lines_are_matched_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "default_implementation"
    path.write_text("# chosen by hand\n  THREAD  \npython\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        selection = select_backend(["linux", "thread", "python"], {}, {}, str(path))
    assert selection.name == "thread"
    assert selection.ignored == ()


APP = """\
import sys

import asyncfile
print(asyncfile.core.selection.name)
"""


def test_caio_impl_warning_points_at_the_users_import(tmp_path: Path) -> None:
    script = tmp_path / "app.py"
    script.write_text(APP)
    result = run_python(str(script), cwd=tmp_path, CAIO_IMPL="bogus")
    assert result.returncode == 0, result.stderr
    assert f"{script}:3: RuntimeWarning: $CAIO_IMPL asks for 'bogus'" in (result.stderr)
    assert "_selection.py" not in result.stderr
    assert result.stdout.strip() == AVAILABLE[0]


def test_unavailable_backend_warning_points_at_the_users_import(
    tmp_path: Path,
) -> None:
    # A copy of the package without its compiled core: uring is unavailable.
    shutil.copytree(
        Path(core.__file__).parents[1],
        tmp_path / "asyncfile",
        ignore=shutil.ignore_patterns("*.so", "__pycache__", "*.build-error"),
    )
    script = tmp_path / "app.py"
    script.write_text(APP)
    result = subprocess.run(
        [sys.executable, "-W", "default", str(script)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(CAIO_IMPL="URING"),
    )
    assert result.returncode == 0, result.stderr
    assert (
        f"{script}:3: RuntimeWarning: $CAIO_IMPL asks for 'URING', "
        "which is unavailable here (io_uring is unavailable: the native core"
    ) in result.stderr
    assert "_selection.py" not in result.stderr
    assert result.stdout.strip() == "python"


def test_info_shows_an_ignored_caio_impl(tmp_path: Path) -> None:
    result = run_python(
        "-m", "asyncfile", "info", cwd=tmp_path, CAIO_IMPL="no-such-backend"
    )
    assert result.returncode == 0, result.stderr
    ignored = [line for line in result.stdout.splitlines() if "ignored:" in line]
    assert len(ignored) == 1, result.stdout
    assert "$CAIO_IMPL asks for 'no-such-backend'" in ignored[0]
    assert "not a backend" in ignored[0]
    assert "the best backend available" not in result.stdout
    assert f"backend: {AVAILABLE[0]}" in result.stdout

    result = run_python(
        "-m", "asyncfile", "info", "--json", cwd=tmp_path, CAIO_IMPL="no-such-backend"
    )
    selected = json.loads(result.stdout)["selected"]
    assert selected["backend"] == AVAILABLE[0]
    assert "best backend available" not in selected["because"]
    assert [entry.split(",")[0] for entry in selected["ignored"]] == [
        "$CAIO_IMPL asks for 'no-such-backend'"
    ]


def test_info_without_a_request_lists_nothing_ignored(tmp_path: Path) -> None:
    result = run_python("-m", "asyncfile", "info", "--json", cwd=tmp_path)
    selected = json.loads(result.stdout)["selected"]
    assert selected == {
        "backend": AVAILABLE[0],
        "because": "the best backend available",
        "ignored": [],
    }
    assert "Warning" not in result.stderr
