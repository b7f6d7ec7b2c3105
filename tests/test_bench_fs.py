"""The filesystem cases (small files, stat, scandir, listdir, copyfile): their
data sets are built as described, every contender's results are checked
against the standard library (a wrong one fails the measurement), and the
asyncfile family serves only the calls ``asyncfile.os`` has."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import dataclasses
import importlib
import mmap
import os
import shutil
import sys
import types
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from mounts import skip_if_memory_backed

from benchmarks import datafile, report
from benchmarks.cases import CASES, Case, Goal
from benchmarks.cli import parse_args, selected_cases
from benchmarks.contenders import FS_CALLS, Contender, Opener, discover
from benchmarks.fscases import CopyFile, FsHandle, read_whole_file, tree_files
from benchmarks.worker import measure_file

MiB = 1 << 20
FILES = 40
ENTRIES = 300

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mmap.restype = ctypes.c_void_p
_libc.mmap.argtypes = [
    ctypes.c_void_p,
    ctypes.c_size_t,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_int,
    ctypes.c_long,
]
_libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
_libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def first_page_cached(fd: int) -> bool:
    """Whether the page cache holds the file's first page, asked of mincore().

    A preadv2(RWF_NOWAIT) probe is no answer: it starts readahead, and this
    VM's disk may finish it before the call looks again, so it may read an
    uncached page without refusing.
    """
    address = _libc.mmap(None, mmap.PAGESIZE, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise OSError(ctypes.get_errno(), "mmap")
    try:
        vector = ctypes.create_string_buffer(1)
        if _libc.mincore(address, mmap.PAGESIZE, vector) != 0:
            raise OSError(ctypes.get_errno(), "mincore")
        return bool(vector.raw[0] & 1)
    finally:
        _libc.munmap(address, mmap.PAGESIZE)


def opener(handle: FsHandle) -> Opener:
    @contextlib.asynccontextmanager
    async def open_handle() -> AsyncIterator[FsHandle]:
        yield handle

    return open_handle


def contender(api: str, handle: FsHandle) -> Contender:
    """A contender of this test's own (the broken ones a library might be)."""
    return Contender("probe", "probe", {api: opener(handle)})


def small(name: str) -> Case:
    """The case ``name``, on a data set small enough for a test."""
    case = CASES[name]
    count = {"tree": FILES, "entries": ENTRIES}.get(case.data, case.count)
    return dataclasses.replace(case, count=count)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    return datafile.create_tree(tmp_path, FILES, 4096, seed=5)


@pytest.fixture
def entries(tmp_path: Path) -> Path:
    return datafile.create_entries(tmp_path, ENTRIES)


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return datafile.create(tmp_path, 3 * MiB, seed=5)


def data_for(case: Case, tree: Path, entries: Path, source: Path) -> Path:
    return {"tree": tree, "entries": entries}.get(case.data, source)


# --- data sets ---------------------------------------------------------------


def test_the_tree_is_count_files_of_seeded_bytes_in_the_page_cache(
    tmp_path: Path,
) -> None:
    tree = datafile.create_tree(tmp_path, 12, 4096, seed=3)
    names = sorted(os.listdir(tree))
    assert names == [f"{i:02d}.bin" for i in range(12)]
    contents = [(tree / name).read_bytes() for name in names]
    assert all(len(data) == 4096 for data in contents)
    assert len(set(contents)) == 12, "files repeat each other"
    again = tmp_path / "again"
    again.mkdir()
    same = datafile.create_tree(again, 12, 4096, seed=3)
    assert [(same / n).read_bytes() for n in names] == contents
    other = tmp_path / "other"
    other.mkdir()
    different = datafile.create_tree(other, 12, 4096, seed=4)
    assert (different / names[0]).read_bytes() != contents[0]
    for name in names:
        fd = os.open(tree / name, os.O_RDONLY)
        try:
            assert first_page_cached(fd), name
        finally:
            os.close(fd)


def test_the_listing_directory_holds_count_empty_files(tmp_path: Path) -> None:
    directory = datafile.create_entries(tmp_path, 1000)
    with os.scandir(directory) as found:
        listed = [(entry.name, entry.stat().st_size) for entry in found]
    assert len(listed) == 1000
    assert {size for _, size in listed} == {0}
    assert sorted(name for name, _ in listed)[0] == "entry-000"


#: Every filesystem case the issue asks a cold pass of (caches dropped).
COLD_CASES = ("small-files-cold", "stat-cold", "scandir-cold", "listdir-cold")


def test_the_cases_work_on_the_data_sets_the_issue_names() -> None:
    assert CASES["small-files"].count == CASES["stat"].count == 10_000
    assert CASES["small-files"].block == 4096
    assert CASES["small-files"].data == CASES["stat"].data == "tree"
    assert CASES["scandir"].count == CASES["listdir"].count == 100_000
    assert CASES["copyfile"].file_size(64) == 1024 * MiB
    for name in COLD_CASES:
        cold = CASES[name]
        warm = CASES[name.removesuffix("-cold")]
        assert cold.cold
        assert not warm.cold
        assert (cold.api, cold.work, cold.data, cold.count) == (
            warm.api,
            warm.work,
            warm.data,
            warm.count,
        )


def test_the_cold_variants_run_only_when_named() -> None:
    default = selected_cases(parse_args([]))
    assert {"small-files", "stat", "scandir", "listdir", "copyfile"} <= set(default)
    assert not set(COLD_CASES) & set(default)
    named = selected_cases(parse_args(["--case", "stat-cold", "--case", "stat"]))
    assert named == ["stat-cold", "stat"]


# --- every real contender passes its checks ----------------------------------

FS_CASES = ["small-files", "stat", "scandir", "listdir", "copyfile"]
PEERS = ["sync", "thread", "asyncfile", "aiofile", "aiofiles", "anyio"]


@pytest.mark.parametrize("name", PEERS)
async def test_each_contender_passes_the_checks_of_each_case_it_serves(
    name: str, tree: Path, entries: Path, source: Path
) -> None:
    found = discover(name)
    peer = found.find(name)
    if peer is None:
        reasons = "; ".join(u.reason for u in found.unavailable)
        pytest.skip(f"{name} is not available here: {reasons}")
    served = [small(c) for c in FS_CASES if CASES[c].api in peer.apis]
    assert served, f"{name} serves no filesystem case"
    for case in served:
        path = data_for(case, tree, entries, source)
        ops = case.fixed_ops(path.stat().st_size)
        assert ops is not None
        result = await measure_file(case, peer, path, ops)
        assert result["ops"] == ops
        assert not CopyFile.target(source).exists(), "the copy was left behind"


def test_sync_and_thread_serve_every_filesystem_call() -> None:
    for name in ("sync", "thread"):
        peer = discover(name).find(name)
        assert peer is not None
        assert {CASES[c].api for c in FS_CASES} <= peer.apis


# --- a wrong result fails the measurement ------------------------------------


def _threaded(call: Callable[..., Any]) -> FsHandle:
    async def run(*args: Any) -> Any:
        return await asyncio.to_thread(call, *args)

    return FsHandle(call=run)


def _next_file(path: str) -> bytes:
    """The bytes of the file after ``path`` (the first for the last)."""
    files = tree_files(os.path.dirname(path))
    return read_whole_file(files[(files.index(path) + 1) % len(files)])


def _stat_of_next(path: str) -> os.stat_result:
    files = tree_files(os.path.dirname(path))
    return os.stat(files[(files.index(path) + 1) % len(files)])


def _stale_mtime(path: str) -> Any:
    result = os.stat(path)
    return types.SimpleNamespace(
        st_size=result.st_size, st_ino=result.st_ino, st_mtime_ns=1
    )


def _one_missing(path: str) -> list[str]:
    return sorted(os.listdir(path))[1:]


def _one_twice(path: str) -> list[str]:
    names = sorted(os.listdir(path))
    return [names[0], *names[:-1]]


def _zeros(src: str, dst: str) -> None:
    with open(dst, "wb") as f:
        f.truncate(os.stat(src).st_size)


def _short_copy(src: str, dst: str) -> None:
    shutil.copyfile(src, dst)
    os.truncate(dst, os.stat(src).st_size - 1)


def _tail_zeroed(src: str, dst: str) -> None:
    """Right size, right bytes but for the last 4 KiB."""
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.seek(-4096, os.SEEK_END)
        f.write(bytes(4096))


def _skip_first(path: str) -> Any:
    async def entries() -> AsyncIterator[os.DirEntry[str]]:
        with os.scandir(path) as found:
            next(found)
            for entry in found:
                yield entry

    return entries()


def _repeat_first(path: str) -> Any:
    async def entries() -> AsyncIterator[os.DirEntry[str]]:
        with os.scandir(path) as found:
            listed = list(found)
        for entry in [listed[0], *listed[:-1]]:
            yield entry

    return entries()


@dataclasses.dataclass(frozen=True)
class _Renamed:
    name: str
    path: str


def _wrong_paths(path: str) -> list[_Renamed]:
    return [_Renamed(n, os.path.join(path, "x", n)) for n in os.listdir(path)]


BROKEN = {
    "open: another file's bytes": ("small-files", _threaded(_next_file)),
    "open: a byte short": (
        "small-files",
        _threaded(lambda p: read_whole_file(p)[:-1]),
    ),
    "open: nothing": ("small-files", FsHandle(blocking=lambda p: b"")),
    "stat: another file's": ("stat", _threaded(_stat_of_next)),
    "stat: a stale mtime": ("stat", FsHandle(blocking=_stale_mtime)),
    "scandir: an entry missing": ("scandir", FsHandle(stream=_skip_first)),
    "scandir: an entry twice, one missing": (
        "scandir",
        FsHandle(stream=_repeat_first),
    ),
    "scandir: wrong paths": ("scandir", _threaded(_wrong_paths)),
    "listdir: a name missing": ("listdir", _threaded(_one_missing)),
    "listdir: a name twice, one missing": ("listdir", FsHandle(blocking=_one_twice)),
    "copyfile: zeros": ("copyfile", _threaded(_zeros)),
    "copyfile: a byte short": ("copyfile", FsHandle(blocking=_short_copy)),
    "copyfile: the last piece wrong": ("copyfile", _threaded(_tail_zeroed)),
}


@pytest.mark.parametrize("wrong", sorted(BROKEN))
async def test_a_wrong_result_fails_the_measurement(
    wrong: str, tree: Path, entries: Path, source: Path
) -> None:
    case_name, handle = BROKEN[wrong]
    case = small(case_name)
    path = data_for(case, tree, entries, source)
    ops = case.fixed_ops(path.stat().st_size)
    assert ops is not None
    with pytest.raises(AssertionError):
        await measure_file(case, contender(case.api, handle), path, ops)
    assert not CopyFile.target(source).exists(), "a wrong copy was left behind"


async def test_a_timed_pass_that_differs_from_the_checked_one_fails(
    tree: Path,
) -> None:
    """The checked pass is right, the timed one returns less: the tally says so."""
    calls = 0

    def late_short(path: str) -> bytes:
        nonlocal calls
        calls += 1
        data = read_whole_file(path)
        return data if calls <= FILES else data[:100]

    case = small("small-files")
    probe = contender(case.api, FsHandle(blocking=late_short))
    with pytest.raises(AssertionError, match="in all, expected"):
        await measure_file(case, probe, tree, FILES)
    assert calls == 2 * FILES


# --- asyncfile serves the calls asyncfile.os has -----------------------------


def _asyncfile_os() -> types.ModuleType | None:
    try:
        return importlib.import_module("asyncfile.os")
    except ImportError:
        return None


def test_asyncfile_serves_a_filesystem_case_only_if_it_has_the_call() -> None:
    peer = discover("asyncfile").find("asyncfile")
    assert peer is not None
    assert "open" in peer.apis, "asyncfile.open always serves small-files"
    module = _asyncfile_os()
    for api in FS_CALLS:
        has = module is not None and hasattr(module, api)
        if api == "copyfile" and not has and module is not None:
            with contextlib.suppress(ImportError):
                has = hasattr(importlib.import_module("asyncfile.shutil"), api)
        assert (api in peer.apis) == has, api


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """An ``asyncfile.os`` with ``stat`` and ``scandir`` only, shaped as the
    benchmarks' README names them (a coroutine; an async iterator yielding
    while it reads), while the package has none; skips once it has one."""
    real = _asyncfile_os()
    if real is not None:
        pytest.skip("asyncfile.os exists: the test above covers the real one")
    module = types.ModuleType("asyncfile.os")

    async def stat(path: str) -> os.stat_result:
        return await asyncio.to_thread(os.stat, path)

    async def scandir(path: str) -> AsyncIterator[os.DirEntry[str]]:
        with os.scandir(path) as found:
            while batch := await asyncio.to_thread(list, _take(found, 256)):
                for entry in batch:
                    yield entry

    module.stat = stat  # type: ignore[attr-defined]
    module.scandir = scandir  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "asyncfile.os", module)
    return module


def _take(iterator: Any, count: int) -> Any:
    for _ in range(count):
        try:
            yield next(iterator)
        except StopIteration:
            return


async def test_the_cases_of_a_new_asyncfile_os_call_light_up(
    stand_in: types.ModuleType, tree: Path, entries: Path
) -> None:
    peer = discover("asyncfile").find("asyncfile")
    assert peer is not None
    assert {"open", "stat", "scandir"} <= peer.apis
    assert not {"listdir", "copyfile"} & peer.apis
    await measure_file(small("stat"), peer, tree, FILES)
    await measure_file(small("scandir"), peer, entries, ENTRIES)


async def test_a_wrong_asyncfile_os_call_fails_its_measurement(
    stand_in: types.ModuleType, monkeypatch: pytest.MonkeyPatch, tree: Path
) -> None:
    async def wrong(path: str) -> os.stat_result:
        return os.stat(os.path.dirname(path))

    monkeypatch.setattr(stand_in, "stat", wrong)
    peer = discover("asyncfile").find("asyncfile")
    assert peer is not None
    # The first field that differs names the mismatch: st_size where a
    # directory's size is not a block's (tmpfs), else st_ino.
    with pytest.raises(AssertionError, match=r"st_ino|st_size"):
        await measure_file(small("stat"), peer, tree, FILES)


def test_a_goal_nobody_serves_says_so() -> None:
    goal = Goal(max_lag_ms=5.0)
    notes = report.goal_notes(goal, [], [])
    assert notes == ["- goals: no `asyncfile` contender serves this case here"]


# --- cold ---------------------------------------------------------------------


async def test_a_cold_case_drops_the_caches_between_the_checked_and_timed_passes(
    tmp_path: Path,
) -> None:
    skip_if_memory_backed(tmp_path, "a memory file system has no cache to drop")
    problem = datafile.drop_caches_problem(probe=False)
    if problem is not None:
        pytest.skip(problem)
    tree = datafile.create_tree(tmp_path, FILES, 4096, seed=9)
    cached: list[bool] = []

    def read(path: str) -> bytes:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            cached.append(first_page_cached(fd))
            return os.pread(fd, 4096, 0)
        finally:
            os.close(fd)

    case = small("small-files-cold")
    await measure_file(case, contender(case.api, FsHandle(blocking=read)), tree, FILES)
    checked, timed = cached[:FILES], cached[FILES:]
    assert all(checked), "the checked pass found files out of the cache"
    assert len(timed) == FILES
    # Another process may read a file back in; nearly all must come from disk.
    assert timed.count(False) >= FILES * 0.9
