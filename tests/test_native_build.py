"""The native code: compiled with warnings as errors, exporting only its init."""

from __future__ import annotations

import shutil
import subprocess
import sysconfig
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asyncfile.core import probes

CORE = Path(__file__).parents[1] / "asyncfile" / "core"
SPEEDUPS = CORE.parent / "_speedups.c"
SOURCES = [CORE / "_aio.c", *sorted((CORE / "src").glob("*.c")), SPEEDUPS]
COMPILER = shutil.which("cc") or shutil.which("gcc")


PORTABLE_SOURCES = [
    source for source in SOURCES if source.name not in ("uring.c", "kaio.c")
]
"""What macOS builds (setup.py's darwin extensions): no io_uring, no Linux AIO."""


@pytest.mark.skipif(COMPILER is None, reason="no C compiler on this machine")
@pytest.mark.parametrize(
    ("source", "defines"),
    [
        *((source, ()) for source in SOURCES),
        *((source, ("-DASYNCFILE_PORTABLE=1",)) for source in PORTABLE_SOURCES),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else "-".join(value),
)
def test_compiles_with_warnings_as_errors(
    source: Path, defines: tuple[str, ...]
) -> None:
    command = [
        str(COMPILER),
        "-fsyntax-only",
        "-std=gnu11",
        *defines,
        "-Wall",
        "-Wextra",
        "-Wshadow",
        "-Wstrict-prototypes",
        "-Wno-unused-parameter",
        "-Werror",
        f"-I{sysconfig.get_path('include')}",
        f"-I{CORE / 'src'}",
        str(source),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _speedups() -> Any:
    try:
        from asyncfile import _speedups
    except ImportError as exc:
        return f"asyncfile._speedups is not built: {exc}"
    return _speedups


@pytest.mark.parametrize(
    ("load", "init"),
    [(probes.native_core, "PyInit__aio"), (_speedups, "PyInit__speedups")],
    ids=["core", "speedups"],
)
def test_only_the_module_init_is_exported(load: Callable[[], Any], init: str) -> None:
    module = load()
    if isinstance(module, str):
        pytest.skip(module)
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed")
    result = subprocess.run(
        [nm, "-D", "--defined-only", module.__file__],
        capture_output=True,
        text=True,
        check=True,
    )
    exported = {
        line.split()[-1] for line in result.stdout.splitlines() if " T " in line
    }
    assert exported == {init}


def test_probes_answer_with_an_errno() -> None:
    core = probes.native_core()
    if isinstance(core, str):
        pytest.skip(core)
    for probe in (core.probe_io_uring, core.probe_linux_aio):
        code = probe()
        assert isinstance(code, int)
        assert code >= 0
