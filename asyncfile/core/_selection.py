"""Which backends this process can use, and which one the package exports."""

from __future__ import annotations

import importlib
import os
import sys
import warnings
from dataclasses import dataclass
from types import FrameType, ModuleType

__all__ = ("BACKENDS", "Selection", "import_backend", "select_backend")

#: caio's names for the backends, best first, and their modules.
BACKENDS: dict[str, str] = {
    "uring": "linux_uring",
    "linux": "linux_aio",
    "thread": "thread_aio",
    "python": "python_aio",
}

ENVIRONMENT_VARIABLE = "CAIO_IMPL"
DEFAULT_FILE = os.path.join(os.path.dirname(__file__), "default_implementation")
_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


@dataclass(frozen=True)
class Selection:
    """The backend chosen, and why; ``ignored`` lists the requests (from
    ``CAIO_IMPL`` or the ``default_implementation`` file) that could not be
    honoured, each with its reason, as the warnings said them."""

    name: str
    reason: str
    ignored: tuple[str, ...] = ()


def import_backend(name: str) -> tuple[ModuleType, ModuleType] | str:
    """The backend's module and its asyncio adapter, or why they are unavailable."""
    module_name = f"{__package__}.{BACKENDS[name]}"
    try:
        return (
            importlib.import_module(module_name),
            importlib.import_module(module_name + "_asyncio"),
        )
    except ImportError as exc:
        return str(exc) or type(exc).__name__


def _requests_in_file(path: str) -> list[str]:
    try:
        with open(path, encoding="utf-8") as file:
            lines = [line.strip() for line in file]
    except FileNotFoundError:
        return []
    return [line for line in lines if line and not line.startswith("#")]


def _stacklevel_outside_package(frame: FrameType | None) -> int:
    """The ``stacklevel`` for a warning issued by ``frame`` that names the
    first caller outside asyncfile (the import system's frames are skipped by
    :mod:`warnings` itself, so they are not counted)."""
    level = 1
    while frame is not None and _in_package(frame):
        caller = frame.f_back
        while caller is not None and _is_import_machinery(caller):
            caller = caller.f_back
        if caller is None:
            break
        frame, level = caller, level + 1
    return level


def _in_package(frame: FrameType) -> bool:
    return os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE_DIR)


def _is_import_machinery(frame: FrameType) -> bool:
    # The test warnings.warn applies to skip a frame.
    filename = frame.f_code.co_filename
    return "importlib" in filename and "_bootstrap" in filename


def select_backend(
    available: list[str],
    unavailable: dict[str, str],
    environ: dict[str, str] | None = None,
    default_file: str = DEFAULT_FILE,
) -> Selection:
    """Choose by ``CAIO_IMPL``, else the first valid line of ``default_file``,
    else the best available.  Names are matched case-insensitively, ignoring
    surrounding whitespace.  A request that cannot be honoured warns (a
    ``RuntimeWarning`` attributed to the first caller outside asyncfile, e.g.
    the user's ``import asyncfile``) and is listed in ``Selection.ignored``."""
    environ = dict(os.environ) if environ is None else environ
    ignored: list[str] = []

    def usable(request: str, source: str) -> bool:
        if request.lower() in available:
            return True
        if request.lower() in unavailable:
            why = f"is unavailable here ({unavailable[request.lower()]})"
        else:
            why = f"is not a backend; use one of {', '.join(BACKENDS)}"
        ignored.append(f"{source} asks for {request!r}, which {why}")
        level = _stacklevel_outside_package(sys._getframe())
        warnings.warn(ignored[-1], RuntimeWarning, stacklevel=level)
        return False

    requested = environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if requested and usable(requested, f"${ENVIRONMENT_VARIABLE}"):
        return Selection(
            requested.lower(), f"${ENVIRONMENT_VARIABLE}={requested}", tuple(ignored)
        )
    for line in _requests_in_file(default_file):
        if usable(line, default_file):
            return Selection(
                line.lower(), f"first valid line of {default_file}", tuple(ignored)
            )
    if ignored:
        because = "a fallback: no request could be honoured"
        return Selection(available[0], because, tuple(ignored))
    return Selection(available[0], "the best backend available")
