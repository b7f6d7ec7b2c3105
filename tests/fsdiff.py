"""Random sequences of filesystem calls, run once with the standard library
and once with asyncfile, each in a scratch tree of its own, compared.

For every call: the value returned (paths relative to the tree, ``stat``
results by type, permissions, size and links), or the exception's type,
``errno``, ``filename``, ``filename2`` and arguments; after every sequence,
the whole tree (each entry's type, permissions, bytes, link target).

Importable by the tests, and runnable as a program so that a sequence can
run under another user (permission errors: we are root) or another
``CAIO_IMPL``: ``python fsdiff.py ROOT FIRST_SEED COUNT`` prints a JSON list
of the differences found (empty when asyncfile matched).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import shutil
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncfile.os as aos
import asyncfile.shutil as ashutil

STEPS = 30
LONG = "n" * 300  # longer than NAME_MAX: ENAMETOOLONG
#: The names a call picks its paths from: what the tree holds, what it
#: lacks, paths through a file, through a loop of links, with a NUL, empty.
NAMES = [
    "f",
    "g",
    "d",
    "d/f1",
    "d/sub",
    "d/sub/f2",
    "e",
    "ln",
    "dl",
    "broken",
    "loop1",
    "loop1/x",
    "new",
    "new2",
    "d/new",
    "missing/x",
    "missing/y/z",
    "f/x",
    "d/sub/..",
    LONG,
    "d/" + LONG,
    "bad\0name",
    "",
]
MOUNTED = ["mnt", "mnt/m", "mnt/d", "mnt/d/f"]
MODES = [0o755, 0o700, 0o500, 0o555, 0o000, 0o644, 0o400]


def populate(root: Path, mounted: bool) -> None:
    """The tree every sequence starts from."""
    (root / "d" / "sub").mkdir(parents=True)
    (root / "e").mkdir()
    (root / "f").write_bytes(b"file f\n" * 100)
    (root / "g").write_bytes(b"")
    (root / "d" / "f1").write_bytes(b"one")
    (root / "d" / "sub" / "f2").write_bytes(os.urandom(0) + b"two" * 5000)
    os.symlink("f", root / "ln")
    os.symlink("d", root / "dl")
    os.symlink("missing", root / "broken")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    if mounted:
        (root / "mnt" / "d").mkdir()
        (root / "mnt" / "d" / "f").write_bytes(b"on the other device")


def clear(root: Path) -> None:
    """Empty ``root`` (a mount inside stays mounted, emptied)."""
    snapshot(root)  # opens every directory up to its owner
    for entry in os.scandir(root):
        if entry.is_dir(follow_symlinks=False):
            if os.path.ismount(entry.path):
                clear(Path(entry.path))
            else:
                shutil.rmtree(entry.path)
        else:
            os.unlink(entry.path)


def sequence(seed: int, mounted: bool) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """``STEPS`` calls drawn with ``seed``: (operation, arguments, options);
    a string argument is a path relative to the tree."""
    rng = random.Random(seed)
    names = NAMES + MOUNTED if mounted else NAMES

    def name() -> str:
        return rng.choice(names)

    def flag() -> bool:
        return rng.random() < 0.5

    draws: list[Callable[[], tuple[str, list[Any], dict[str, Any]]]] = [
        lambda: ("stat", [name()], {"follow_symlinks": flag()}),
        lambda: ("lstat", [name()], {}),
        lambda: ("rename", [name(), name()], {}),
        lambda: ("renames", [name(), name()], {}),
        lambda: ("replace", [name(), name()], {}),
        lambda: ("remove", [name()], {}),
        lambda: ("unlink", [name()], {}),
        lambda: ("mkdir", [name()], {"mode": rng.choice(MODES)}),
        lambda: ("makedirs", [name()], {"exist_ok": flag()}),
        lambda: ("rmdir", [name()], {}),
        lambda: ("removedirs", [name()], {}),
        lambda: ("link", [name(), name()], {"follow_symlinks": flag()}),
        lambda: ("symlink", [rng.choice(["f", "d", "nowhere", "../f"]), name()], {}),
        lambda: ("readlink", [name()], {}),
        lambda: ("listdir", [name()], {}),
        lambda: ("scandir", [name()], {}),
        lambda: ("walk", [name()], {"topdown": flag(), "followlinks": flag()}),
        lambda: ("access", [name(), rng.choice([os.F_OK, os.R_OK, os.W_OK])], {}),
        lambda: ("truncate", [name(), rng.choice([0, 5, 70000])], {}),
        lambda: ("chmod", [name(), rng.choice(MODES)], {"follow_symlinks": True}),
        lambda: ("utime", [name()], {"ns": (10**18, 2 * 10**18)}),
        lambda: ("utime", [name(), (1.5, -2.25)], {"follow_symlinks": flag()}),
        lambda: ("utime", [name()], {}),
        lambda: (
            "access",
            [name(), os.R_OK | os.W_OK],
            {"follow_symlinks": flag(), "effective_ids": flag()},
        ),
        lambda: ("statvfs", [name()], {}),
        lambda: ("exists", [name()], {}),
        lambda: ("lexists", [name()], {}),
        lambda: ("isfile", [name()], {}),
        lambda: ("isdir", [name()], {}),
        lambda: ("islink", [name()], {}),
        lambda: ("ismount", [name()], {}),
        lambda: ("getsize", [name()], {}),
        lambda: ("samefile", [name(), name()], {}),
        lambda: ("realpath", [name()], {}),
        lambda: ("copyfile", [name(), name()], {"follow_symlinks": flag()}),
        lambda: ("rmtree", [name()], {}),
        lambda: ("rmtree", [name()], {"ignore_errors": True}),
    ]
    return [rng.choice(draws)() for _ in range(STEPS)]


def _collect_walk(tops: Any) -> list[Any]:
    return [(top, sorted(dirs), sorted(files)) for top, dirs, files in tops]


def _scandir_sync(path: str) -> list[Any]:
    with os.scandir(path) as entries:
        return sorted(_describe_entry(entry) for entry in entries)


def _describe_entry(entry: os.DirEntry[str]) -> tuple[Any, ...]:
    return (
        entry.name,
        entry.path,
        entry.is_dir(),
        entry.is_file(),
        entry.is_symlink(),
        entry.is_dir(follow_symlinks=False),
    )


def _walk_sync(top: str, **options: Any) -> list[Any]:
    return _collect_walk(os.walk(top, **options))


STDLIB: dict[str, Callable[..., Any]] = {
    "stat": os.stat,
    "lstat": os.lstat,
    "rename": os.rename,
    "renames": os.renames,
    "replace": os.replace,
    "remove": os.remove,
    "unlink": os.unlink,
    "mkdir": os.mkdir,
    "makedirs": os.makedirs,
    "rmdir": os.rmdir,
    "removedirs": os.removedirs,
    "link": os.link,
    "symlink": os.symlink,
    "readlink": os.readlink,
    "listdir": os.listdir,
    "scandir": _scandir_sync,
    "walk": _walk_sync,
    "access": os.access,
    "truncate": os.truncate,
    "chmod": os.chmod,
    "utime": os.utime,
    "statvfs": os.statvfs,
    "exists": os.path.exists,
    "lexists": os.path.lexists,
    "isfile": os.path.isfile,
    "isdir": os.path.isdir,
    "islink": os.path.islink,
    "ismount": os.path.ismount,
    "getsize": os.path.getsize,
    "samefile": os.path.samefile,
    "realpath": os.path.realpath,
    "copyfile": shutil.copyfile,
    "rmtree": shutil.rmtree,
}


async def _scandir_async(path: str) -> list[Any]:
    async with aos.scandir(path) as entries:
        return sorted([_describe_entry(entry) async for entry in entries])


async def _walk_async(top: str, **options: Any) -> list[Any]:
    return _collect_walk([triple async for triple in aos.walk(top, **options)])


ASYNCFILE: dict[str, Callable[..., Any]] = {
    **{name: getattr(aos, name) for name in STDLIB if hasattr(aos, name)},
    **{
        name: getattr(aos.path, name)
        for name in ("exists", "lexists", "isfile", "isdir", "islink", "ismount")
    },
    **{name: getattr(aos.path, name) for name in ("getsize", "samefile", "realpath")},
    "scandir": _scandir_async,
    "walk": _walk_async,
    "copyfile": ashutil.copyfile,
    "rmtree": ashutil.rmtree,
}


def _relative(value: Any, root: str) -> Any:
    """``value`` with the tree's absolute path replaced by ``<root>``."""
    if isinstance(value, str):
        return value.replace(root, "<root>")
    if isinstance(value, os.stat_result):
        kind = stat.S_IFMT(value.st_mode)
        size = None if stat.S_ISDIR(value.st_mode) else value.st_size
        return ["stat", kind, stat.S_IMODE(value.st_mode), size, value.st_nlink]
    if isinstance(value, os.statvfs_result):
        return ["statvfs", value.f_bsize, value.f_namemax]
    if isinstance(value, list | tuple):
        return [_relative(item, root) for item in value]
    return value


def outcome(
    function: Callable[..., Any], args: list[Any], options: Any, root: str
) -> Any:
    """What a call gave, comparable across trees."""
    try:
        value = function(*args, **options)
    except BaseException as error:  # the exception is the outcome
        return _error(error, root)
    return ["returned", _relative(value, root)]


def _error(error: BaseException, root: str) -> Any:
    if isinstance(error, OSError):
        return [
            "raised",
            type(error).__name__,
            error.errno,
            _relative(error.filename, root),
            _relative(error.filename2, root),
            _relative(str(error), root),
        ]
    return ["raised", type(error).__name__, _relative(str(error), root)]


def snapshot(root: Path) -> list[Any]:
    """Every entry under ``root``: relative path, type, permissions, bytes'
    digest (files), target (links). Each directory and file is opened up to
    its owner first (the sequences may have locked the owner out too)."""
    found = []
    directories = [str(root)]
    while directories:
        directory = directories.pop()
        for name in os.listdir(directory):
            path = os.path.join(directory, name)
            info = os.lstat(path)
            detail: Any = None
            if stat.S_ISDIR(info.st_mode):
                os.chmod(path, 0o700)
                directories.append(path)
            elif stat.S_ISREG(info.st_mode):
                os.chmod(path, 0o600)
                with open(path, "rb") as f:
                    detail = hashlib.sha256(f.read()).hexdigest()
            elif stat.S_ISLNK(info.st_mode):
                detail = os.readlink(path)
            kind, mode = stat.S_IFMT(info.st_mode), stat.S_IMODE(info.st_mode)
            found.append([os.path.relpath(path, root), kind, mode, detail])
    return sorted(found)


def _absolute(root: Path, args: list[Any], operation: str) -> list[Any]:
    """The arguments with paths made absolute; a symlink's target stays as
    drawn (relative, so it reads the same in both trees)."""
    absolute = []
    for index, arg in enumerate(args):
        keep = not isinstance(arg, str) or (operation == "symlink" and index == 0)
        absolute.append(arg if keep else os.path.join(root, arg) if arg else arg)
    return absolute


def run_stdlib(root: Path, steps: list[Any]) -> list[Any]:
    results = []
    for operation, args, options in steps:
        function = STDLIB[operation]
        absolute = _absolute(root, args, operation)
        results.append(outcome(function, absolute, options, str(root)))
    return results


async def run_asyncfile(root: Path, steps: list[Any]) -> list[Any]:
    results = []
    for operation, args, options in steps:
        function = ASYNCFILE[operation]
        absolute = _absolute(root, args, operation)
        try:
            value = await function(*absolute, **options)
        except BaseException as error:  # the exception is the outcome
            results.append(_error(error, str(root)))
        else:
            results.append(["returned", _relative(value, str(root))])
    return results


def compare(theirs: Path, ours: Path, seed: int, mounted: bool) -> dict[str, Any]:
    """Run sequence ``seed`` in both trees: the first difference, if any,
    and the errno of each error os gave (``"NUL"`` for a ValueError)."""
    for root in (theirs, ours):
        clear(root)
        populate(root, mounted)
    steps = sequence(seed, mounted)
    expected = run_stdlib(theirs, steps)
    got = asyncio.run(run_asyncfile(ours, steps))
    errors = {
        result[2] if result[1] != "ValueError" else "NUL"
        for result in expected
        if result[0] == "raised"
    }
    for step, want, have in zip(steps, expected, got, strict=True):
        if want != have:  # what follows diverges because of this one
            return {"seed": seed, "call": step, "os": want, "ours": have}, errors
    trees = [snapshot(theirs), snapshot(ours)]
    if trees[0] != trees[1]:
        return {"seed": seed, "tree": trees, "calls": steps}, errors
    return None, errors


def _drop_to(uid: int, root: Path, seed: int) -> None:
    """Become ``uid`` (and its group), having first run one sequence as
    root so that every module the run needs is loaded: the interpreter's
    own files may be out of that user's reach."""
    mounted = os.path.ismount(root / "os" / "mnt")
    for tree in ("warm-os", "warm-asyncfile"):
        (root / tree).mkdir()
    compare(root / "warm-os", root / "warm-asyncfile", seed, mounted)
    for tree in ("os", "asyncfile"):
        os.chown(root / tree, uid, uid)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def main(argv: list[str]) -> None:
    """ROOT FIRST COUNT [UID]: print the differences and os's errors."""
    root, first, count = Path(argv[0]), int(argv[1]), int(argv[2])
    if len(argv) > 3:
        _drop_to(int(argv[3]), root, first)
    mounted = os.path.ismount(root / "os" / "mnt")
    differences: list[Any] = []
    errors: set[Any] = set()
    for seed in range(first, first + count):
        difference, seen = compare(root / "os", root / "asyncfile", seed, mounted)
        errors |= seen
        if difference is not None:
            differences.append(difference)
    report = {"differences": differences, "errors": sorted(map(str, errors))}
    json.dump(report, sys.stdout, default=repr)


if __name__ == "__main__":
    main(sys.argv[1:])
