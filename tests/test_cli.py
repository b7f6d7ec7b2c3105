"""python -m asyncfile: a real command line."""

from __future__ import annotations

import json
import os
import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest
from platforms import LINUX

import asyncfile
import asyncfile.core as core
from asyncfile.core import probes


def run_cli(
    *arguments: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "asyncfile", *arguments],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )


def test_info_reports_python_kernel_backends_and_selection() -> None:
    result = run_cli("info")
    assert result.returncode == 0, result.stderr
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in result.stdout
    assert platform.release() in result.stdout
    for name in core.BACKENDS:
        assert f"{name}:" in result.stdout
    native = probes.native_core()
    for name, why in core.unavailable.items():
        if isinstance(native, str) and native in why:
            # The missing native core explains these lines: said once, above.
            line = rf"{name}:\s+unavailable: needs the native core"
            assert re.search(line, result.stdout), name
        else:
            assert why in result.stdout, name
    if isinstance(native, str):
        assert result.stdout.count(native) == 1
    assert f"backend: {core.selection.name}" in result.stdout


def test_info_json_is_machine_readable() -> None:
    result = run_cli("info", "--json")
    info = json.loads(result.stdout)
    assert info["asyncfile"] == asyncfile.__version__
    assert info["selected"]["backend"] == core.selection.name
    assert info["backends"]["python"] == "available"
    assert set(info["kernel interfaces"]) == {"io_uring", "linux aio"}


def test_info_explains_an_environment_choice() -> None:
    info = json.loads(run_cli("info", "--json", env={"CAIO_IMPL": "python"}).stdout)
    assert info["selected"] == {
        "backend": "python",
        "because": "$CAIO_IMPL=python",
        "ignored": [],
    }


@pytest.mark.parametrize("arguments", [(), ("frobnicate",)])
def test_usage_errors_exit_2(arguments: tuple[str, ...]) -> None:
    result = run_cli(*arguments)
    assert result.returncode == 2
    assert "usage:" in result.stderr


def test_help_lists_the_commands() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "info" in result.stdout


def test_package_ships_type_information() -> None:
    assert os.path.exists(os.path.join(os.path.dirname(asyncfile.__file__), "py.typed"))


@LINUX.mark
def test_bench_prints_the_table_and_plots(tmp_path: Path) -> None:
    plot = tmp_path / "bench.png"
    result = run_cli(
        "bench",
        "--plot",
        str(plot),
        "--",
        "--case",
        "log",
        "--contender",
        "sync",
        "--contender",
        "asyncfile",
        "--repeat",
        "1",
        "--dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    table = re.search(r"### log:.*?\n\n(\| contender .*?)\n\n", result.stdout, re.S)
    assert table, result.stdout
    rows = [line for line in table.group(1).splitlines() if line.startswith("| `")]
    assert [row.split("`")[1] for row in rows] == ["sync", "asyncfile"]
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib not installed" in result.stdout
    else:
        assert plot.read_bytes().startswith(b"\x89PNG")


@LINUX.mark
def test_bench_keeps_the_results_where_json_asks(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    result = run_cli(
        "bench",
        "--plot",
        str(tmp_path / "bench.png"),
        "--",
        "--json",
        str(results),
        "--case",
        "log",
        "--contender",
        "sync",
        "--repeat",
        "1",
        "--dir",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert "log" in json.loads(results.read_text())["summary"]
    assert "plot:" in result.stdout


def test_info_into_a_closed_pipe_stops_without_a_traceback() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # as `| head` does once it has its lines
    try:
        result = subprocess.run(
            [sys.executable, "-m", "asyncfile", "info"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == ""
