"""asyncfile.os and asyncfile.os.path: the names, signatures and answers of
the running Python's os and os.path (including os.path's False cases)."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from platforms import POSIX_FS

import asyncfile.os as aos
import asyncfile.shutil as ashutil

#: What aiofiles 25.1's os module offers (statvfs and sendfile where os has them).
AIOFILES_OS = [
    "wrap",
    "stat",
    "rename",
    "renames",
    "replace",
    "remove",
    "unlink",
    "mkdir",
    "makedirs",
    "link",
    "symlink",
    "readlink",
    "rmdir",
    "removedirs",
    "scandir",
    "listdir",
    "access",
    "getcwd",
    "path",
]
AIOFILES_PATH = [
    "abspath",
    "exists",
    "getsize",
    "getmtime",
    "getatime",
    "getctime",
    "isfile",
    "isdir",
    "islink",
    "ismount",
    "samefile",
    "sameopenfile",
]
ISSUE_OS = [
    "stat",
    "lstat",
    "rename",
    "renames",
    "replace",
    "remove",
    "unlink",
    "mkdir",
    "makedirs",
    "rmdir",
    "removedirs",
    "link",
    "symlink",
    "readlink",
    "listdir",
    "scandir",
    "walk",
    "access",
    "getcwd",
    "truncate",
    "chmod",
    "utime",
    "copyfile",
    "rmtree",
]
WHERE_OS_HAS_THEM = ["statvfs", "sendfile", "posix_fallocate"]


def test_asyncfile_os_has_aiofiles_names_and_the_issues() -> None:
    for name in AIOFILES_OS + ISSUE_OS:
        assert hasattr(aos, name), name
        assert name in aos.__all__, name
    for name in [*AIOFILES_PATH, "lexists", "realpath"]:
        assert inspect.iscoroutinefunction(getattr(aos.path, name)), name
    for name in WHERE_OS_HAS_THEM:
        assert hasattr(aos, name) == hasattr(os, name), name
    assert hasattr(aos.path, "isjunction") == hasattr(os.path, "isjunction")
    assert aos.copyfile is ashutil.copyfile
    assert aos.rmtree is ashutil.rmtree
    assert aos.sep == os.sep
    assert aos.fspath is os.fspath
    assert aos.path.join is os.path.join


def _parameters(function: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    """Names, kinds and defaults of the public parameters (a default os
    cannot show as a value stands for 'not given' in both; 3.14's
    shutil.rmtree has a private ``_onexc_kwargs``)."""
    found = []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.name.startswith("_"):
            continue
        default = parameter.default
        if default is not inspect.Parameter.empty and not isinstance(
            default, bool | int | str | type(None)
        ):
            default = "<not given>"
        found.append((parameter.name, parameter.kind, default))
    return found


SIGNED = [
    name
    for name in ISSUE_OS + WHERE_OS_HAS_THEM
    if hasattr(os, name) and name not in ("copyfile", "rmtree", "sendfile")
]


@pytest.mark.parametrize("name", SIGNED)
def test_each_call_takes_the_arguments_of_the_running_pythons_os(name: str) -> None:
    try:
        theirs = _parameters(getattr(os, name))
    except ValueError:
        pytest.skip(f"os.{name} has no signature Python can read")
    ours = _parameters(getattr(aos, name))
    # os's C functions take their leading arguments positionally or by
    # name alike, as ours do; only names, order and defaults must match.
    kinds = {inspect.Parameter.POSITIONAL_ONLY: inspect.Parameter.POSITIONAL_OR_KEYWORD}
    theirs = [(n, kinds.get(k, k), d) for n, k, d in theirs]
    assert ours == theirs


@pytest.mark.parametrize("name", ["copyfile", "rmtree"])
def test_copyfile_and_rmtree_take_the_running_pythons_shutil_arguments(
    name: str,
) -> None:
    import shutil

    assert _parameters(getattr(ashutil, name)) == _parameters(getattr(shutil, name))


def test_rmtree_says_whether_it_resists_symlink_attacks_as_shutil_does() -> None:
    import shutil

    assert ashutil.rmtree.avoids_symlink_attacks == shutil.rmtree.avoids_symlink_attacks  # type: ignore[attr-defined]


def _false_cases(tmp_path: Path) -> dict[str, Any]:
    (tmp_path / "file").write_bytes(b"12345")
    (tmp_path / "dir").mkdir()
    cases: dict[str, Any] = {
        "file": tmp_path / "file",
        "dir": tmp_path / "dir",
        "missing": tmp_path / "missing",
        "through a file": tmp_path / "file" / "x",
        "NUL": str(tmp_path / "a\0b"),
        "NUL bytes": os.fsencode(tmp_path / "a\0b"),
        "too long": tmp_path / ("n" * 300),
        "empty": "",
        "bytes": os.fsencode(tmp_path / "file"),
    }
    if POSIX_FS.present:
        os.symlink("loop2", tmp_path / "loop1")
        os.symlink("loop1", tmp_path / "loop2")
        os.symlink("missing", tmp_path / "broken")
        os.symlink("file", tmp_path / "link")
        cases["loop"] = tmp_path / "loop1"
        cases["broken link"] = tmp_path / "broken"
        cases["link"] = tmp_path / "link"
        cases["root"] = "/"
    return cases


PREDICATES = ["exists", "lexists", "isfile", "isdir", "islink", "ismount"]
MEASURES = ["getsize", "getmtime", "getatime", "getctime", "abspath", "realpath"]


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("returned", call())
    except Exception as error:  # the exception is the outcome
        return (type(error), str(error), getattr(error, "filename", None))


async def _async_outcome(call: Callable[[], Any]) -> Any:
    try:
        return ("returned", await call())
    except Exception as error:  # the exception is the outcome
        return (type(error), str(error), getattr(error, "filename", None))


@pytest.mark.parametrize("name", PREDICATES + MEASURES)
async def test_os_path_answers_as_the_running_pythons_os_path(
    tmp_path: Path, name: str
) -> None:
    """False (never an exception) where os.path says False: missing, NUL,
    too long, a loop of links, through a file; the same errors elsewhere."""
    theirs, ours = getattr(os.path, name), getattr(aos.path, name)
    for case, path in _false_cases(tmp_path).items():
        want = _outcome(lambda: theirs(path))  # noqa: B023
        got = await _async_outcome(lambda: ours(path))  # noqa: B023
        assert got == want, case


async def test_os_path_refuses_what_os_path_refuses(tmp_path: Path) -> None:
    for name in PREDICATES + MEASURES:
        for wrong in (1.5, None, object()):
            want = _outcome(lambda: getattr(os.path, name)(wrong))  # noqa: B023
            got = await _async_outcome(lambda: getattr(aos.path, name)(wrong))  # noqa: B023
            assert got[0] == want[0], (name, wrong)


async def test_samefile_and_sameopenfile_answer_as_os_path(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.write_bytes(b"a")
    second.write_bytes(b"b")
    os.link(first, tmp_path / "hard")
    assert await aos.path.samefile(first, tmp_path / "hard")
    assert not await aos.path.samefile(first, second)
    with pytest.raises(FileNotFoundError) as ours:
        await aos.path.samefile(first, tmp_path / "missing")
    assert ours.value.filename == str(tmp_path / "missing")
    fds = [os.open(p, os.O_RDONLY) for p in (first, tmp_path / "hard", second)]
    try:
        assert await aos.path.sameopenfile(fds[0], fds[1])
        assert not await aos.path.sameopenfile(fds[0], fds[2])
    finally:
        for fd in fds:
            os.close(fd)


async def test_makedirs_and_removedirs_as_os(tmp_path: Path) -> None:
    await aos.makedirs(tmp_path / "a" / "b" / "c")
    with pytest.raises(FileExistsError) as ours:
        await aos.makedirs(tmp_path / "a" / "b")
    assert ours.value.filename == str(tmp_path / "a" / "b")
    await aos.makedirs(tmp_path / "a" / "b", exist_ok=True)
    await aos.makedirs(tmp_path / "x" / "y" / ".")
    assert (tmp_path / "x" / "y").is_dir()
    await aos.removedirs(tmp_path / "a" / "b" / "c")
    assert os.listdir(tmp_path) == ["x"]


async def test_getcwd_and_listdir_default_as_os() -> None:
    assert await aos.getcwd() == os.getcwd()
    assert await aos.getcwdb() == os.getcwdb()
    assert sorted(await aos.listdir()) == sorted(os.listdir())


async def test_utime_takes_times_or_ns(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.touch()
    await aos.utime(path, ns=(10**9, 2 * 10**9))
    assert os.stat(path).st_mtime_ns == 2 * 10**9
    await aos.utime(path, (5, 6))
    assert os.stat(path).st_mtime == 6
    with pytest.raises(ValueError, match="both") as theirs:
        os.utime(path, (1, 2), ns=(1, 2))
    with pytest.raises(ValueError, match="both") as ours:
        await aos.utime(path, (1, 2), ns=(1, 2))
    assert ours.value.args == theirs.value.args


async def test_wrap_runs_a_blocking_call_off_the_loop() -> None:
    import threading

    ident = await aos.wrap(threading.get_ident)()
    assert ident != threading.get_ident()


async def test_statvfs_is_there_exactly_where_os_has_it(tmp_path: Path) -> None:
    assert hasattr(aos, "statvfs") == hasattr(os, "statvfs")
    if hasattr(os, "statvfs"):
        ours = await aos.statvfs(tmp_path)
        assert ours.f_bsize == os.statvfs(tmp_path).f_bsize
