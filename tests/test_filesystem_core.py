"""The filesystem calls of ``asyncfile._filesystem`` against ``os``: the same
values, the same exceptions (type, errno, filename, filename2), the same tree
afterwards, on every backend and on io_uring with its operations treated as
missing (so that the native pool runs them)."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import BACKENDS, Backend
from inline import completes_without_suspending, resolve_cached_missing
from mounts import tmpfs
from platforms import LINUX, POSIX_IO

import asyncfile._filesystem as afs
import asyncfile.core as core
from asyncfile.contexts import close_contexts, get_context

pytestmark = POSIX_IO.mark

RING_CALLS = frozenset(
    {"openat", "close", "statx", "renameat"}
    | {"unlinkat", "mkdirat", "symlinkat", "linkat", "ftruncate", "fallocate"}
)


@dataclasses.dataclass(frozen=True)
class Runner:
    backend: Backend
    without: str | None  # ASYNCFILE_TEST_URING_WITHOUT


RUNNERS = [
    pytest.param(Runner(BACKENDS[0], None), id="uring"),
    pytest.param(Runner(BACKENDS[0], "all"), id="uring-without-ops"),
    pytest.param(Runner(BACKENDS[1], None), id="linux"),
    pytest.param(Runner(BACKENDS[2], None), id="thread"),
    pytest.param(Runner(BACKENDS[3], None), id="python"),
]


@pytest.fixture(params=RUNNERS)
def runner(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Runner]:
    chosen: Runner = request.param
    chosen.backend.module  # noqa: B018 (skips when unavailable)
    if chosen.without is not None:
        monkeypatch.setenv("ASYNCFILE_TEST_URING_WITHOUT", chosen.without)
    monkeypatch.setattr(
        core, "selection", dataclasses.replace(core.selection, name=chosen.backend.name)
    )
    close_contexts()
    yield chosen
    close_contexts()


def outcome(call: Callable[[], Any], root: str) -> tuple[Any, ...]:
    """What a call gave, with ``root`` (each run's own tree) taken out."""
    try:
        value = call()
    except OSError as exc:
        return (
            "raised",
            type(exc),
            exc.errno,
            _relative(exc.filename, root),
            _relative(exc.filename2, root),
        )
    except (TypeError, ValueError) as exc:
        return ("raised", type(exc), str(exc))
    if isinstance(value, os.stat_result):
        return ("stat", stat_fields(value))
    if isinstance(value, int) and value > 2:
        fd = value
        try:
            return ("fd", os.get_inheritable(fd), os.fstat(fd).st_ino)
        finally:
            os.close(fd)
    return ("value", value)


def _relative(name: object, root: str) -> object:
    if isinstance(name, str):
        return name.replace(root, "ROOT")
    if isinstance(name, bytes):
        return name.replace(os.fsencode(root), b"ROOT")
    if isinstance(name, Path):
        return Path(str(name).replace(root, "ROOT"))
    return name


STAT_FIELDS = [
    "st_mode", "st_ino", "st_dev", "st_nlink", "st_uid", "st_gid", "st_size",
    "st_atime", "st_mtime", "st_ctime", "st_atime_ns", "st_mtime_ns", "st_ctime_ns",
    "st_blksize", "st_blocks", "st_rdev",
]  # fmt: skip


def stat_fields(result: os.stat_result) -> dict[str, object]:
    fields = {name: getattr(result, name) for name in STAT_FIELDS}
    fields["tuple"] = tuple(result)
    fields["int times"] = tuple(result[7:10])
    return fields


def tree(root: Path) -> list[tuple[str, str, object]]:
    """Every entry under ``root``: its path, kind and permissions, and its
    size (or link target)."""
    entries = []
    for directory, dirs, files in os.walk(root):
        for name in sorted(dirs + files):
            path = os.path.join(directory, name)
            info = os.lstat(path)
            kind = f"{stat.S_IFMT(info.st_mode):o} {stat.S_IMODE(info.st_mode):o}"
            extra = os.readlink(path) if stat.S_ISLNK(info.st_mode) else info.st_size
            entries.append((os.path.relpath(path, root), kind, extra))
    return sorted(entries, key=str)


def scratch(root: Path) -> Path:
    root.mkdir()
    (root / "file").write_bytes(b"0123456789")
    (root / "dir").mkdir()
    (root / "full").mkdir()
    (root / "full" / "inner").write_bytes(b"x")
    os.symlink("file", root / "link")
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    os.symlink("missing", root / "dangling")
    return root


#: (name, the call on a tree) pairs: each runs with os and with asyncfile.
Call = Callable[[Any, Path], Any]

LONG = "n" * 300

CASES: list[tuple[str, Call]] = [
    ("open", lambda m, r: m.open(r / "file", os.O_RDONLY)),
    ("open bytes", lambda m, r: m.open(os.fsencode(r / "file"), os.O_RDWR)),
    ("open str", lambda m, r: m.open(str(r / "file"), os.O_RDONLY)),
    ("open create", lambda m, r: m.open(r / "new", os.O_CREAT | os.O_WRONLY, 0o640)),
    ("open missing", lambda m, r: m.open(r / "missing", os.O_RDONLY)),
    ("open exclusive", lambda m, r: m.open(r / "file", os.O_CREAT | os.O_EXCL)),
    ("open dir for writing", lambda m, r: m.open(r / "dir", os.O_WRONLY)),
    ("open through a file", lambda m, r: m.open(r / "file" / "x", os.O_RDONLY)),
    ("open loop", lambda m, r: m.open(r / "loop1", os.O_RDONLY)),
    ("open too long", lambda m, r: m.open(r / LONG, os.O_RDONLY)),
    ("open nul", lambda m, r: m.open(str(r / "a\0b"), os.O_RDONLY)),
    ("open float", lambda m, r: m.open(1.5, os.O_RDONLY)),
    ("stat", lambda m, r: m.stat(r / "file")),
    ("stat dir", lambda m, r: m.stat(r / "dir")),
    ("stat link", lambda m, r: m.stat(r / "link")),
    ("stat link nofollow", lambda m, r: m.stat(r / "link", follow_symlinks=False)),
    ("lstat", lambda m, r: m.lstat(r / "link")),
    ("stat dangling", lambda m, r: m.stat(r / "dangling")),
    ("stat missing", lambda m, r: m.stat(r / "missing")),
    ("stat loop", lambda m, r: m.stat(r / "loop1")),
    ("stat too long", lambda m, r: m.stat(str(r / LONG))),
    ("stat not a dir", lambda m, r: m.stat(r / "file" / "x")),
    ("stat bad fd", lambda m, r: m.stat(999)),
    ("fstat bad fd", lambda m, r: m.fstat(999)),
    ("rename", lambda m, r: m.rename(r / "file", r / "dir" / "moved")),
    ("rename missing", lambda m, r: m.rename(r / "missing", r / "other")),
    ("rename onto full dir", lambda m, r: m.rename(r / "dir", r / "full")),
    ("rename dir onto file", lambda m, r: m.rename(r / "dir", r / "file")),
    ("replace", lambda m, r: m.replace(r / "file", r / "full" / "inner")),
    ("unlink", lambda m, r: m.unlink(r / "file")),
    ("unlink link", lambda m, r: m.unlink(r / "link")),
    ("unlink missing", lambda m, r: m.unlink(r / "missing")),
    ("unlink dir", lambda m, r: m.unlink(r / "dir")),
    ("rmdir", lambda m, r: m.rmdir(r / "dir")),
    ("rmdir full", lambda m, r: m.rmdir(r / "full")),
    ("rmdir file", lambda m, r: m.rmdir(r / "file")),
    ("mkdir", lambda m, r: m.mkdir(r / "made", 0o750)),
    ("mkdir exists", lambda m, r: m.mkdir(r / "dir")),
    ("mkdir no parent", lambda m, r: m.mkdir(r / "missing" / "child")),
    ("symlink", lambda m, r: m.symlink("file", r / "newlink")),
    ("symlink exists", lambda m, r: m.symlink("file", r / "dir")),
    ("link", lambda m, r: m.link(r / "file", r / "hard")),
    ("link a link", lambda m, r: m.link(r / "link", r / "hard")),
    ("link exists", lambda m, r: m.link(r / "file", r / "dir")),
    ("link missing", lambda m, r: m.link(r / "missing", r / "hard")),
    # An empty destination: the system call reports the source's error first,
    # io_uring the empty path's (ENOENT), so such calls go to os.
    ("link too long to empty", lambda m, r: m.link(r / LONG, "")),
    ("rename through a file to empty", lambda m, r: m.rename(r / "file" / "x", "")),
    ("replace through a loop to empty", lambda m, r: m.replace(r / "loop1" / "x", "")),
    ("truncate", lambda m, r: m.truncate(r / "file", 3)),
    ("truncate longer", lambda m, r: m.truncate(r / "file", 100)),
    ("truncate missing", lambda m, r: m.truncate(r / "missing", 3)),
    ("truncate dir", lambda m, r: m.truncate(r / "dir", 3)),
    ("close bad fd", lambda m, r: m.close(999)),
]


class Sync:
    """``os`` with the module functions the async side names."""

    def __getattr__(self, name: str) -> Any:
        return getattr(os, name)


class Async:
    """asyncfile._filesystem's coroutines, each run to the end on the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def __getattr__(self, name: str) -> Any:
        function = getattr(afs, name)
        return lambda *args, **kwargs: self.loop.run_until_complete(
            function(*args, **kwargs)
        )


@pytest.mark.parametrize(("name", "call"), CASES, ids=[name for name, _ in CASES])
def test_same_as_os(runner: Runner, tmp_path: Path, name: str, call: Call) -> None:
    expected_root = scratch(tmp_path / "os")
    actual_root = scratch(tmp_path / "asyncfile")
    # A stat's times move with each access: compare the os side's state
    # right before, on a tree of its own made the same way.
    loop = asyncio.new_event_loop()
    try:
        expected = outcome(lambda: call(Sync(), expected_root), str(expected_root))
        actual = outcome(lambda: call(Async(loop), actual_root), str(actual_root))
        if expected[0] == "stat" and actual[0] == "stat":
            # Each tree is its own: compare what each side sees of its own.
            again = outcome(lambda: call(Sync(), actual_root), str(actual_root))
            expected = again
        if expected[0] == "fd":
            assert actual[0] == "fd"
            assert actual[1] is expected[1] is False  # O_CLOEXEC, as os.open
        else:
            assert actual == expected
        assert tree(actual_root) == tree(expected_root)
    finally:
        loop.run_until_complete(_close_contexts())
        loop.close()


async def _close_contexts() -> None:
    close_contexts()


@pytest.mark.parametrize("dir_fd_given", [False, True])
def test_dir_fd_calls(runner: Runner, tmp_path: Path, dir_fd_given: bool) -> None:
    root = scratch(tmp_path / "tree")
    dir_fd = os.open(root, os.O_RDONLY)
    loop = asyncio.new_event_loop()

    async def body() -> None:
        kwargs = {"dir_fd": dir_fd} if dir_fd_given else {}
        prefix = "" if dir_fd_given else str(root) + "/"
        fd = await afs.open(prefix + "file", os.O_RDONLY, **kwargs)
        assert os.read(fd, 4) == b"0123"
        await afs.close(fd)
        assert (await afs.stat(prefix + "file", **kwargs)).st_size == 10
        await afs.mkdir(prefix + "sub", **kwargs)
        await afs.symlink("file", prefix + "sub/l", **kwargs)
        await afs.rename(
            prefix + "sub/l",
            prefix + "l2",
            **({"src_dir_fd": dir_fd, "dst_dir_fd": dir_fd} if dir_fd_given else {}),
        )
        await afs.link(
            prefix + "l2",
            prefix + "h",
            **({"src_dir_fd": dir_fd, "dst_dir_fd": dir_fd} if dir_fd_given else {}),
        )
        await afs.unlink(prefix + "l2", **kwargs)
        await afs.rmdir(prefix + "sub", **kwargs)

    try:
        loop.run_until_complete(body())
        loop.run_until_complete(_close_contexts())
    finally:
        loop.close()
        os.close(dir_fd)
    assert not (root / "sub").exists()
    # With directory descriptors os.link follows the symlink; without, as
    # the running Python's does (it follows from 3.14, on Linux not before).
    os.symlink("file", root / "probe-link")
    os.link(root / "probe-link", root / "probe-hard")
    os_follows = not (root / "probe-hard").is_symlink()
    assert (root / "h").is_symlink() is not (dir_fd_given or os_follows)


@LINUX.mark
def test_rename_across_file_systems_is_exdev(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "mnt").mkdir()
    source = tmp_path / "file"
    source.write_bytes(b"x")
    with tmpfs(tmp_path / "mnt", "1m") as mounted:
        loop = asyncio.new_event_loop()
        try:
            with pytest.raises(OSError, match="cross-device") as caught:
                loop.run_until_complete(afs.rename(source, mounted / "file"))
            loop.run_until_complete(_close_contexts())
        finally:
            loop.close()
    assert caught.value.errno == errno.EXDEV
    assert type(caught.value) is OSError
    assert (caught.value.filename, caught.value.filename2) == (
        str(source),
        str(mounted / "file"),
    )
    assert source.exists()


@LINUX.mark
def test_ring_runs_the_calls_the_kernel_has_and_the_rest_on_the_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    uring = BACKENDS[0].module
    context = uring.Context()
    try:
        assert context.ring_fs_calls == RING_CALLS  # this kernel has them all
    finally:
        context.close()
    monkeypatch.setenv("ASYNCFILE_TEST_URING_WITHOUT", "statx,openat")
    context = uring.Context()
    try:
        assert context.ring_fs_calls == RING_CALLS - {"statx", "openat"}
    finally:
        context.close()
    thread = BACKENDS[2].module.Context()
    try:
        assert thread.ring_fs_calls == frozenset()
    finally:
        thread.close()


def test_the_runner_chose_the_backend(runner: Runner) -> None:
    async def body() -> None:
        native = get_context().filesystem()
        if runner.backend.name == "python":
            assert native is None
            return
        assert native is not None
        if runner.backend.name == "uring":
            expected = frozenset() if runner.without == "all" else RING_CALLS
            assert native.ring_fs_calls == expected

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(body())
        loop.run_until_complete(_close_contexts())
    finally:
        loop.close()


def test_an_open_cancelled_meanwhile_closes_its_descriptor(
    runner: Runner, tmp_path: Path
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"x")
    before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else 0

    async def body() -> None:
        for _ in range(50):
            task = asyncio.ensure_future(afs.open(path, os.O_RDONLY))
            await asyncio.sleep(0)
            if task.cancel():
                with pytest.raises(asyncio.CancelledError):
                    await task
            else:
                os.close(task.result())
        # The pool or ring finishes what was cancelled meanwhile.
        await asyncio.sleep(0.2)
        get_context().close()

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(body())
        loop.run_until_complete(_close_contexts())
    finally:
        loop.close()
    if before:
        assert len(os.listdir("/proc/self/fd")) == before


@LINUX.mark
def test_a_cached_stat_on_a_block_device_completes_inline_and_tmpfs_does_not(
    runner: Runner, tmp_path: Path
) -> None:
    if runner.backend.name == "python":
        pytest.skip("the python backend stats on threads")
    missing = resolve_cached_missing()
    if missing is not None:
        pytest.skip(missing)  # (valgrind knows no openat2: every stat goes async)
    on_disk = tmp_path / "file"
    on_disk.write_bytes(b"x")
    if os.major(os.stat(on_disk).st_dev) == 0:
        pytest.skip(f"{tmp_path} is not on a block device's file system")
    (tmp_path / "mnt").mkdir()

    async def body(in_memory: Path) -> None:
        native = get_context().filesystem()
        at = afs._at()
        done, value = completes_without_suspending(
            native.astat(at.FDCWD, os.fsencode(on_disk), 0)
        )
        assert done
        assert stat_fields(value) == stat_fields(os.stat(on_disk))
        done, _ = completes_without_suspending(
            native.astat(at.FDCWD, os.fsencode(in_memory), 0)
        )
        # (io_uring's worker may have answered by the time the ring is
        # reaped right after the submission: only the pool never is.)
        if runner.backend.name != "uring":
            assert not done, "a file system without a device may be a network one"
        result = await afs.stat(in_memory)
        assert stat_fields(result) == stat_fields(os.stat(in_memory))

    with tmpfs(tmp_path / "mnt", "1m") as mounted:
        (mounted / "file").write_bytes(b"y")
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(body(mounted / "file"))
            loop.run_until_complete(_close_contexts())
        finally:
            loop.close()
