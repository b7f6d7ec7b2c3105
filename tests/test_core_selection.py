"""Backend selection: CAIO_IMPL, the default_implementation file, fallbacks."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
from backends import BACKENDS, clean_env

import asyncfile.core as core
from asyncfile.core._selection import DEFAULT_FILE, select_backend

AVAILABLE = [
    backend.name for backend in BACKENDS if backend.name not in core.unavailable
]
PACKAGE_ROOT = str(Path(core.__file__).parents[2])


def selected_in_subprocess(env: dict[str, str]) -> tuple[str, str]:
    """The backend a fresh interpreter binds asyncfile.core.Context to, and stderr."""
    env = clean_env(PYTHONPATH=PACKAGE_ROOT, **env)
    process = subprocess.run(
        [sys.executable, "-c", "import asyncfile.core as c; print(c.Context.__doc__)"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return process.stdout, process.stderr


def test_variants_are_in_preference_order() -> None:
    names = [module.__name__.rsplit(".", 1)[-1] for module in core.variants]
    order = [backend.module_name for backend in BACKENDS]
    assert names == [name for name in order if name in names]
    assert core.python_aio in core.variants
    assert len(core.variants_asyncio) == len(core.variants)


def test_unavailable_backends_say_why() -> None:
    for name, why in core.unavailable.items():
        assert getattr(core, core.BACKENDS[name]) is None
        assert why.strip()


@pytest.mark.parametrize("name", AVAILABLE)
def test_environment_variable_selects(name: str) -> None:
    stdout, stderr = selected_in_subprocess({"CAIO_IMPL": name})
    assert f"{name}" in stdout.split()[0]
    assert "Warning" not in stderr


@pytest.mark.parametrize("name", AVAILABLE)
def test_default_file_selects(name: str) -> None:
    assert not os.path.exists(DEFAULT_FILE), "a stray default_implementation file"
    try:
        Path(DEFAULT_FILE).write_text(f"# chosen by the test\n\n{name}\n")
        stdout, _ = selected_in_subprocess({})
    finally:
        os.unlink(DEFAULT_FILE)
    assert name in stdout.split()[0]


def test_environment_variable_wins_over_file(tmp_path: Path) -> None:
    path = tmp_path / "default_implementation"
    path.write_text("uring\n")
    selection = select_backend(
        ["thread", "python"], {}, {"CAIO_IMPL": "python"}, str(path)
    )
    assert selection.name == "python"
    assert "CAIO_IMPL" in selection.reason


def test_file_skips_comments_and_unknown_lines(tmp_path: Path) -> None:
    path = tmp_path / "default_implementation"
    path.write_text("# a comment\n   \nbogus\nthread\npython\n")
    with pytest.warns(RuntimeWarning, match="bogus"):
        selection = select_backend(["thread", "python"], {}, {}, str(path))
    assert selection.name == "thread"


@pytest.mark.parametrize("value", ["bogus", "io_uring", "python_aio"])
def test_unknown_environment_value_warns_and_falls_back(value: str) -> None:
    with pytest.warns(RuntimeWarning, match="not a backend"):
        selection = select_backend(
            ["linux", "python"], {}, {"CAIO_IMPL": value}, "/nonexistent"
        )
    assert selection.name == "linux"


def test_unavailable_request_warns_with_the_reason(tmp_path: Path) -> None:
    with pytest.warns(RuntimeWarning, match="unavailable here .*seccomp"):
        selection = select_backend(
            ["thread", "python"],
            {"uring": "blocked by seccomp"},
            {"CAIO_IMPL": "uring"},
            "/x",
        )
    assert selection.name == "thread"


def test_unavailable_request_in_a_real_interpreter_falls_back() -> None:
    stdout, stderr = selected_in_subprocess({"CAIO_IMPL": "nonsense"})
    assert "RuntimeWarning" in stderr
    assert "nonsense" in stderr
    assert AVAILABLE[0] in stdout.split()[0]


def test_no_request_takes_the_best() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        selection = select_backend(["thread", "python"], {}, {}, "/nonexistent")
    assert selection == select_backend(
        ["thread", "python"], {}, {"CAIO_IMPL": ""}, "/x"
    )
    assert selection.name == "thread"


def test_package_names_are_the_selected_backend() -> None:
    module = core.preferred
    assert core.Context is module.Context
    assert core.Operation is module.Operation
    assert core.AsyncioContext is core.preferred_asyncio.AsyncioContext
    assert core.selection.name in core.BACKENDS
    assert module.__name__.endswith(core.BACKENDS[core.selection.name])


@pytest.mark.parametrize("module", core.variants, ids=lambda m: m.__name__)
def test_each_context_docstring_names_its_backend(module: object) -> None:
    names = {v: k for k, v in core.BACKENDS.items()}
    name = names[module.__name__.rsplit(".", 1)[-1]]  # type: ignore[attr-defined]
    assert name in module.Context.__doc__  # type: ignore[attr-defined]
