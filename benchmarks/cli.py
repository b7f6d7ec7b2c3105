"""Command line: ``python -m benchmarks [options]``; tables on stdout.

Progress goes to stderr, so ``python -m benchmarks > results.md`` keeps only
the header and the markdown tables.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path

from benchmarks import datafile
from benchmarks.cases import CASES, Case
from benchmarks.contenders import LOOPS
from benchmarks.runner import Run, list_contenders, progress


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Side-by-side asyncfile benchmarks; markdown tables on stdout.",
    )
    add = parser.add_argument
    add(
        "--case",
        action="append",
        choices=sorted(CASES),
        help="repeatable; default: all but the opt-in ones",
    )
    add(
        "--contender",
        action="append",
        metavar="NAME",
        help="repeatable; default: all available",
    )
    add(
        "--baseline",
        default="sync",
        metavar="NAME",
        help="ratio column reference (default sync)",
    )
    add(
        "--repeat", type=int, metavar="N", help="rounds per case (default 5, --quick 3)"
    )
    add(
        "--target",
        type=float,
        metavar="S",
        help="seconds per measurement (default 0.5)",
    )
    add(
        "--size-mib",
        type=int,
        metavar="N",
        help="data file size (default 256, --quick 64; device cases: at least "
        "their own minimum)",
    )
    add("--dir", type=Path, help="where to create the data files (default: temp dir)")
    add("--seed", type=int, default=1, help="data, offsets and order seed (default 1)")
    add("--json", type=Path, metavar="PATH", help="also write raw results here")
    add(
        "--loops",
        default="asyncio",
        metavar="LOOP,...",
        help="run every contender on each of these event loops, side by side: "
        "asyncio, uvloop (default asyncio; NAME@uvloop is NAME on uvloop)",
    )
    add("--quick", action="store_true", help="smoke run: fewer, shorter measurements")
    add("--list", action="store_true", help="list cases and contenders, and exit")
    args = parser.parse_args(argv)
    quick = args.quick
    if args.repeat is None:
        args.repeat = 3 if quick else 5
    if args.target is None:
        args.target = 0.1 if quick else 0.5
    if args.size_mib is None:
        args.size_mib = 64 if quick else 256
    args.loops = [loop.strip() for loop in args.loops.split(",") if loop.strip()]
    unknown = [loop for loop in args.loops if loop not in LOOPS]
    if unknown or not args.loops:
        parser.error(f"--loops: choose among {', '.join(LOOPS)}")
    if args.repeat < 1 or args.target <= 0 or args.size_mib < 1:
        parser.error("--repeat, --target and --size-mib must be positive")
    return args


def data_file(
    case: Case,
    directory: Path,
    args: argparse.Namespace,
    files: dict[tuple[str, int], Path],
) -> Path:
    """The path ``case`` works on, created on first use and kept in ``files``.

    ``data="random"``: the seeded file of ``case.file_size``; ``"lines"``: a
    seeded text file of ``case.count`` lines; ``"none"``: a path (in
    ``directory``) that each measurement creates and deletes itself;
    ``"tree"``: a directory of ``case.count`` seeded files of ``case.block``
    bytes; ``"entries"``: a directory of ``case.count`` empty files.
    """
    if case.data == "none":
        return directory / f"{case.name}.out"
    if case.data in ("tree", "entries"):
        key = (f"{case.data}-{case.block}", case.count)
        if key not in files:
            if case.data == "tree":
                progress(f"creating {case.count:,} files of {case.block} bytes")
                files[key] = datafile.create_tree(
                    directory, case.count, case.block, args.seed
                )
            else:
                progress(f"creating a directory of {case.count:,} entries")
                files[key] = datafile.create_entries(directory, case.count)
        return files[key]
    size = case.count if case.data == "lines" else case.file_size(args.size_mib)
    key = (case.data, size)
    if key not in files:
        if case.data == "lines":
            progress(f"creating a text file of {size:,} lines in {directory}")
            files[key] = datafile.create_lines(directory, size, args.seed)
        else:
            progress(f"creating {size >> 20} MiB data file in {directory}")
            files[key] = datafile.create(directory, size, args.seed)
    return files[key]


def selected_cases(args: argparse.Namespace) -> list[str]:
    """The cases ``--case`` names, in order; by default all but the opt-in ones."""
    if args.case:
        return list(args.case)
    return [name for name, case in CASES.items() if not case.opt_in]


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run(args, list_contenders())
    if args.list:
        print(run.case_notes(args.dir or Path(tempfile.gettempdir())) + "\n")
        print(run.contender_notes())
        print("\n".join(f"- skipped `{n}`: {r}" for n, r in run.skipped.items()))
        return 0
    with tempfile.TemporaryDirectory(prefix="asyncfile-bench-", dir=args.dir) as tmp:
        directory = Path(tmp)
        storage = datafile.describe_storage(directory)
        print(run.preamble(storage), flush=True)
        files: dict[tuple[str, int], Path] = {}
        try:
            for name in selected_cases(args):
                case = CASES[name]
                rows = []
                problem = run.unsupported(case, directory)
                if problem is not None:
                    run.skip_case(case, problem)
                else:
                    path = data_file(case, directory, args, files)
                    rows = run.run_case(case, path)
                print("\n" + run.section(case, rows), flush=True)
            print("\n" + run.contender_notes(), flush=True)
        finally:
            if args.json:
                args.json.write_text(json.dumps(run.to_json(), indent=2, default=str))
    return 0
