"""The distribution's name on the package index, and what reads its metadata."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import pytest

import asyncfile

ROOT = Path(__file__).resolve().parents[1]

#: "asyncfile" on the package index is an unrelated project.
DISTRIBUTION = "asyncfile-io"


def declared_name() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    project = text.split("[project]", 1)[1].split("\n[", 1)[0]
    found = re.search(r'^name\s*=\s*"([^"]+)"', project, re.MULTILINE)
    assert found, "pyproject.toml declares no [project] name"
    return found.group(1)


def test_the_distribution_is_not_named_like_the_unrelated_project() -> None:
    assert declared_name() == DISTRIBUTION


def installed() -> importlib.metadata.Distribution:
    try:
        return importlib.metadata.distribution(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{DISTRIBUTION} is not installed here (run from a bare checkout)")


def test_installed_metadata_matches_the_package() -> None:
    distribution = installed()
    assert distribution.metadata["Name"] == DISTRIBUTION
    assert distribution.version == asyncfile.__version__
    (command,) = distribution.entry_points.select(group="console_scripts")
    assert (command.name, command.value) == ("asyncfile", "asyncfile.cli:main")


def test_readme_says_how_to_install_under_that_name() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"pip install {DISTRIBUTION}`" in readme
    assert "import asyncfile" in readme
