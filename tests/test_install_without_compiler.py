"""Installing where the C extensions cannot build: a real ``pip install``
into a fresh virtual environment, then ``python -m asyncfile info`` there.

The install must succeed on the pure-Python backend, say so in one line of
the build's output, and ``info`` must name the real cause once."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from backends import clean_env

import asyncfile

CHECKOUT = Path(asyncfile.__file__).resolve().parents[1]

#: What the tests copy: the sources pip builds from, and nothing built.
SOURCES = ("setup.py", "pyproject.toml", "README.md")
BUILT = shutil.ignore_patterns("*.so", "__pycache__", "*.build-error")


def copy_source_tree(destination: Path) -> Path:
    destination.mkdir()
    for name in SOURCES:
        shutil.copy(CHECKOUT / name, destination / name)
    shutil.copytree(CHECKOUT / "asyncfile", destination / "asyncfile", ignore=BUILT)
    return destination


def pip_environment(**variables: str) -> dict[str, str]:
    """Ours minus what would change the build (strict or sanitized builds,
    a preloaded sanitizer runtime), plus ``variables``."""
    dropped = {
        "CAIO_IMPL",
        "LD_PRELOAD",
        "ASYNCFILE_STRICT_BUILD",
        "ASYNCFILE_SANITIZE",
    }
    inherited = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**inherited, **variables}


def info_in(python: Path, cwd: Path) -> str:
    result = subprocess.run(
        [str(python), "-m", "asyncfile", "info"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=clean_env(),
    )
    assert result.returncode == 0, result.stderr
    assert not result.stderr, result.stderr
    return result.stdout


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("compiler", "cause", "editable"),
    [
        ("/nonexistent/cc", "no C compiler ('/nonexistent/cc' not found)", False),
        ("/bin/false", "the C compiler ('/bin/false') failed", False),
        ("/nonexistent/cc", "no C compiler ('/nonexistent/cc' not found)", True),
    ],
    ids=["no-compiler", "compiler-fails", "editable-no-compiler"],
)
def test_install_without_a_working_compiler_says_why_once(
    compiler: str, cause: str, editable: bool, tmp_path: Path
) -> None:
    source = copy_source_tree(tmp_path / "src")
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True
    )
    python = venv / "bin" / "python"
    install = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "--python", python, "install", "-v"),
            *("--no-deps", "--no-cache-dir", *(["-e"] if editable else []), source),
        ],
        capture_output=True,
        text=True,
        env=pip_environment(CC=compiler),
    )
    output = install.stdout + install.stderr
    if install.returncode and "satisfies the requirement setuptools" in output:
        pytest.skip("pip cannot fetch setuptools for the isolated build here")
    assert install.returncode == 0, output[-4000:]

    said = [
        line.strip()
        for line in output.splitlines()
        if line.strip().startswith("asyncfile-io: ")
    ]
    assert len(said) == 1, output[-4000:]
    assert said[0].startswith(
        "asyncfile-io: installing without asyncfile.core._aio, asyncfile._speedups: "
        + cause
    )
    assert "pure-Python backend" in said[0]

    info = info_in(python, cwd=tmp_path)
    native = next(line for line in info.splitlines() if line.startswith("native core:"))
    assert "was not built when asyncfile was installed: " + cause in native
    assert info.count(cause) == 2, info  # the core's line and the speedups' line
    assert info.count("needs the native core (see above)") == 5, info
    assert "pip install -e" not in info
    assert "source tree" not in info
    assert "backend: python" in info
    assert "because: the best backend available" in info


def test_a_source_tree_without_the_build_says_so_once(tmp_path: Path) -> None:
    # `python -m asyncfile` inside a checkout imports the checkout, whose
    # extensions were never built: info must say that, once.
    tree = copy_source_tree(tmp_path / "checkout")
    info = info_in(Path(sys.executable), cwd=tree)
    native = next(line for line in info.splitlines() if line.startswith("native core:"))
    assert f"not built in this source tree ({tree})" in native
    assert "`pip install -e .` there builds it" in native
    assert info.count("pip install -e .") == 1, info
    assert info.count("needs the native core (see above)") == 5, info
    assert "backend: python" in info
