"""Which backends this process can use, and which one the package exports."""

from __future__ import annotations

import importlib
import os
import warnings
from dataclasses import dataclass
from types import ModuleType

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


@dataclass(frozen=True)
class Selection:
    """The backend chosen, and why."""

    name: str
    reason: str


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


def select_backend(
    available: list[str],
    unavailable: dict[str, str],
    environ: dict[str, str] | None = None,
    default_file: str = DEFAULT_FILE,
) -> Selection:
    """Choose by ``CAIO_IMPL``, else the first valid line of ``default_file``,
    else the best available; a request that cannot be honoured warns."""
    environ = dict(os.environ) if environ is None else environ

    def usable(request: str, source: str) -> bool:
        if request in available:
            return True
        if request in unavailable:
            why = f"is unavailable here ({unavailable[request]})"
        else:
            why = f"is not a backend; use one of {', '.join(BACKENDS)}"
        warnings.warn(
            f"{source} asks for {request!r}, which {why}", RuntimeWarning, stacklevel=2
        )
        return False

    requested = environ.get(ENVIRONMENT_VARIABLE, "").strip()
    if requested and usable(requested, f"${ENVIRONMENT_VARIABLE}"):
        return Selection(requested, f"${ENVIRONMENT_VARIABLE}={requested}")
    for line in _requests_in_file(default_file):
        if usable(line, default_file):
            return Selection(line, f"first valid line of {default_file}")
    return Selection(available[0], "the best backend available")
