"""``python -m asyncfile``: the command line."""

from __future__ import annotations

import argparse
import errno
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__

__all__ = ("main",)


def _info() -> dict[str, object]:
    from . import core
    from .core import probes

    native = probes.native_core()

    def once(why: str) -> str:
        # The native core's absence explains several lines: say it once.
        if isinstance(native, str) and native in why:
            return "needs the native core (see above)"
        return why

    backends: dict[str, str] = {}
    for name in core.BACKENDS:
        if name in core.unavailable:
            backends[name] = f"unavailable: {once(core.unavailable[name])}"
        else:
            backends[name] = "available"
    return {
        "asyncfile": __version__,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "kernel": f"{platform.system()} {platform.release()} {platform.machine()}",
        "native core": native if isinstance(native, str) else "built",
        "speedups": _speedups_state(),
        "kernel interfaces": {
            "io_uring": once(probes.io_uring_unavailable() or "usable"),
            "linux aio": once(probes.linux_aio_unavailable() or "usable"),
        },
        "backends": backends,
        "selected": {
            "backend": core.selection.name,
            "because": core.selection.reason,
            "ignored": list(core.selection.ignored),
        },
    }


def _speedups_state() -> str:
    """Whether the file objects' C accelerators load, and if not, why."""
    try:
        from . import _speedups  # noqa: F401
    except ImportError as exc:
        note = Path(__file__).with_name("_speedups.build-error")
        if note.is_file():
            return f"not built when asyncfile was installed: {note.read_text().strip()}"
        return f"not built ({exc})"
    return "built"


def _print_tree(value: object, indent: int = 0) -> None:
    assert isinstance(value, dict)
    width = max(map(len, value))
    for key, item in value.items():
        if isinstance(item, dict):
            print(f"{' ' * indent}{key}:")
            _print_tree(item, indent + 2)
        elif isinstance(item, list):
            for entry in item:  # nothing to say when empty
                print(f"{' ' * indent}{key + ':':<{width + 1}} {entry}")
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


BENCH_CASES = ("stream", "serve", "log")
"""What ``bench`` runs unless told otherwise: the streams' side-by-side cases."""


def _benchmarks_root() -> Path | None:
    """The source tree holding the ``benchmarks`` package, if this is one."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "benchmarks" / "__main__.py").is_file() else None


def _run_bench(arguments: argparse.Namespace) -> int:
    root = _benchmarks_root()
    if root is None:
        print(
            "asyncfile bench: the benchmarks live in the source tree "
            "(benchmarks/ beside asyncfile/); run it from a checkout",
            file=sys.stderr,
        )
        return 2
    passed = list(arguments.options)
    if passed[:1] == ["--"]:
        passed = passed[1:]
    if "--case" not in passed and not arguments.all:
        for case in BENCH_CASES:
            passed += ["--case", case]
    with tempfile.TemporaryDirectory(prefix="asyncfile-bench-") as scratch:
        results = Path(scratch) / "results.json"
        if "--json" in passed[:-1]:  # the caller keeps the results: plot from there
            results = root / passed[passed.index("--json") + 1]
        else:
            passed = ["--json", str(results), *passed]
        command = [sys.executable, "-m", "benchmarks", *passed]
        status = subprocess.run(command, cwd=root, check=False).returncode
        if status or not results.exists():
            return status or 1
        summary = json.loads(results.read_text())
    if arguments.plot is not None:
        written = _plot(summary, arguments.plot)
        print(f"\nplot: {written}" if written else "\nplot: matplotlib not installed")
    return 0


def _plot(summary: dict[str, Any], path: Path) -> Path | None:
    """A PNG of every case: each contender's time against the baseline's,
    with its worst loop lag; ``None`` without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    cases = {name: rows for name, rows in summary["summary"].items() if rows}
    if not cases:
        return None
    baseline = summary["options"]["baseline"]
    header = textwrap.wrap(summary["header"], 110)
    height = 1.2 + 0.45 * sum(map(len, cases.values()))
    figure, axes = plt.subplots(len(cases), 1, figsize=(9, height))
    for axis, (name, rows) in zip(
        [axes] if len(cases) == 1 else axes, cases.items(), strict=True
    ):
        base = next((r for r in rows if r["contender"] == baseline), rows[0])
        names = [r["contender"] for r in rows][::-1]
        ratios = [r["median_us"] / base["median_us"] for r in rows][::-1]
        lags = [r["worst_lag_ms"] for r in rows][::-1]
        bars = axis.barh(names, ratios, color="#4c72b0")
        for bar, ratio, lag in zip(bars, ratios, lags, strict=True):
            lag_text = "n/a" if lag is None else f"{lag:.1f} ms"
            axis.text(
                bar.get_width(),
                bar.get_y() + bar.get_height() / 2,
                f" {ratio:.2f}x, lag {lag_text}",
                va="center",
                fontsize=8,
            )
        axis.axvline(1.0, color="grey", linewidth=0.8)
        axis.set_title(f"{name}: time vs {base['contender']} (lower is better)")
        axis.set_xlim(0, max(ratios) * 1.6)
    figure.suptitle("\n".join(header), fontsize=8)
    # tight_layout leaves the suptitle out: keep its lines (8 pt) clear.
    header_inches = 0.2 + len(header) * 8 * 1.3 / 72
    figure.tight_layout(rect=(0, 0, 1, 1 - header_inches / height))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


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
    bench = commands.add_parser(
        "bench",
        help="run the side-by-side benchmarks and print their tables",
        description="Run the benchmark suite (python -m benchmarks, from the "
        "source tree) and print the markdown tables; write a PNG plot when "
        f"matplotlib is installed.  Default cases: {', '.join(BENCH_CASES)}; "
        "options after -- go to python -m benchmarks (e.g. -- --quick).",
    )
    bench.add_argument("--all", action="store_true", help="every case of the suite")
    bench.add_argument(
        "--plot",
        type=Path,
        default=Path("benchmarks.png"),
        metavar="PNG",
        help="where the plot goes (default benchmarks.png)",
    )
    bench.add_argument("options", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    bench.set_defaults(run=_run_bench)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = _parser().parse_args(argv)
    try:
        status: int = arguments.run(arguments)
        sys.stdout.flush()
    except OSError as error:
        # The reader left (`asyncfile info | head`): stop quietly, as other
        # command-line tools do, with stdout on devnull so that the
        # interpreter's last flush does not fail again.  Windows reports a
        # pipe closed at the other end as EINVAL.
        closed = isinstance(error, BrokenPipeError) or (
            sys.platform == "win32" and error.errno == errno.EINVAL
        )
        if not closed:
            raise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status
