"""``python -m asyncfile``: the command line."""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from collections.abc import Sequence

from . import __version__

__all__ = ("main",)


def _info() -> dict[str, object]:
    from . import core
    from .core import probes

    native = probes.native_core()
    backends: dict[str, str] = {}
    for name in core.BACKENDS:
        if name in core.unavailable:
            backends[name] = f"unavailable: {core.unavailable[name]}"
        else:
            backends[name] = "available"
    return {
        "asyncfile": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "kernel": f"{os.uname().sysname} {os.uname().release} {os.uname().machine}",
        "native core": native if isinstance(native, str) else "built",
        "kernel interfaces": {
            "io_uring": probes.io_uring_unavailable() or "usable",
            "linux aio": probes.linux_aio_unavailable() or "usable",
        },
        "backends": backends,
        "selected": {"backend": core.selection.name, "because": core.selection.reason},
    }


def _print_tree(value: object, indent: int = 0) -> None:
    assert isinstance(value, dict)
    width = max(map(len, value))
    for key, item in value.items():
        if isinstance(item, dict):
            print(f"{' ' * indent}{key}:")
            _print_tree(item, indent + 2)
        else:
            print(f"{' ' * indent}{key + ':':<{width + 1}} {item}")


def _run_info(arguments: argparse.Namespace) -> int:
    info = _info()
    if arguments.json:
        json.dump(info, sys.stdout, indent=2)
        print()
    else:
        _print_tree(info)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m asyncfile",
        description="Asynchronous file I/O for asyncio.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    info = commands.add_parser(
        "info",
        help="show the Python, the kernel, the backends and which one is selected",
        description="Show which backends this machine offers, why any is missing, "
        "and which one asyncfile.core selects and why.",
    )
    info.add_argument("--json", action="store_true", help="print JSON")
    info.set_defaults(run=_run_info)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = _parser().parse_args(argv)
    status: int = arguments.run(arguments)
    return status
