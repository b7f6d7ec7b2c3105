"""readlink, access, chmod, utime and statvfs on the core: the same answers
and errors as ``os`` on every backend (and with io_uring, which has no such
operations, on the native pool), and on the native backends no call of the
loop's default executor."""

from __future__ import annotations

import asyncio
import concurrent.futures
import errno
import os
import stat
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import pytest
from platforms import POSIX_IO
from test_filesystem_core import Runner, runner

import asyncfile
import asyncfile.os as aos
from asyncfile.contexts import close_contexts

pytestmark = POSIX_IO.mark

__all__ = ["runner"]  # the fixture, shared with test_filesystem_core


class RefusingExecutor(concurrent.futures.ThreadPoolExecutor):
    """A default executor that fails every call handed to it."""

    def submit(self, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"a call went to the default executor: {args[0]!r}")


def run(
    body: Callable[[], Coroutine[Any, Any, Any]], *, refuse_executor: bool = False
) -> Any:
    loop = asyncio.new_event_loop()
    executor = RefusingExecutor(1) if refuse_executor else None
    if executor is not None:
        loop.set_default_executor(executor)
    try:
        return loop.run_until_complete(body())
    finally:
        close_contexts()
        loop.close()


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = call()
    except OSError as exc:
        return ("raised", type(exc), exc.errno, exc.filename, exc.filename2)
    except (ValueError, TypeError, NotImplementedError) as exc:
        return ("raised", type(exc), str(exc))
    if isinstance(value, os.statvfs_result):
        fixed = ("f_bsize", "f_frsize", "f_blocks", "f_files", "f_flag", "f_namemax")
        return ("statvfs", [getattr(value, name) for name in fixed], value.f_fsid)
    return ("value", value)


async def async_outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = await call()
    except OSError as exc:
        return ("raised", type(exc), exc.errno, exc.filename, exc.filename2)
    except (ValueError, TypeError, NotImplementedError) as exc:
        return ("raised", type(exc), str(exc))
    return outcome(lambda: value)


def tree(root: Path) -> Path:
    root.mkdir()
    (root / "file").write_bytes(b"data")
    (root / "dir").mkdir()
    os.symlink("file", root / "link")
    os.symlink("nowhere", root / "dangling")
    return root


def call_list(
    root: Path, fd: int, dir_fd: int
) -> list[tuple[str, list[Any], dict[str, Any]]]:
    """Calls run once through ``os`` and once through ``asyncfile.os``."""
    calls: list[tuple[str, list[Any], dict[str, Any]]] = []
    for name in ("file", "link", "dangling", "missing", "dir", "file/below"):
        path = str(root / name)
        calls += [
            ("readlink", [path], {}),
            ("readlink", [os.fsencode(path)], {}),
            ("readlink", [Path(path)], {}),
            ("readlink", [name], {"dir_fd": dir_fd}),
            ("access", [path, os.R_OK | os.X_OK], {}),
            ("access", [path, os.F_OK], {"follow_symlinks": False}),
            ("access", [name, os.W_OK], {"dir_fd": dir_fd, "effective_ids": True}),
            ("chmod", [path, 0o640], {}),
            ("chmod", [name, 0o751], {"dir_fd": dir_fd}),
            ("utime", [path, (1.5, -2.25)], {}),
            ("utime", [path, (10**9 + 0.999999999, 7)], {"follow_symlinks": False}),
            ("utime", [path], {"ns": (10**18 + 1, -5)}),
            ("utime", [name, (3, 4)], {"dir_fd": dir_fd}),
            ("statvfs", [path], {}),
        ]
    calls += [
        ("chmod", [fd, 0o600], {}),
        ("utime", [fd, (11.25, 12.5)], {}),
        ("statvfs", [fd], {}),
        ("statvfs", [9999], {}),
        ("chmod", [9999, 0o600], {}),
        ("utime", [9999], {}),
        ("readlink", [""], {}),
        ("access", ["", os.F_OK], {}),
        ("utime", [str(root / "file"), (1, 2)], {"ns": (1, 2)}),
    ]
    return calls


def snapshot(root: Path) -> list[tuple[str, int, int | None, int]]:
    entries = []
    for name in sorted(os.listdir(root)):
        info = os.lstat(root / name)
        # readlink reads a symlink: its access time is the clock's, not ours
        atime = None if stat.S_ISLNK(info.st_mode) else info.st_atime_ns
        entries.append((name, info.st_mode, atime, info.st_mtime_ns))
    return entries


def test_calls_answer_and_leave_what_os_does(runner: Runner, tmp_path: Path) -> None:
    theirs, ours = tree(tmp_path / "theirs"), tree(tmp_path / "ours")

    def opened(root: Path) -> tuple[int, int]:
        return os.open(root / "file", os.O_RDONLY), os.open(root, os.O_RDONLY)

    fd, dir_fd = opened(theirs)
    try:
        want = [
            outcome(lambda c=c: getattr(os, c[0])(*c[1], **c[2]))
            for c in call_list(theirs, fd, dir_fd)
        ]
    finally:
        os.close(fd)
        os.close(dir_fd)

    async def body() -> list[tuple[Any, ...]]:
        fd, dir_fd = opened(ours)
        try:
            return [
                await async_outcome(lambda c=c: getattr(aos, c[0])(*c[1], **c[2]))
                for c in call_list(ours, fd, dir_fd)
            ]
        finally:
            os.close(fd)
            os.close(dir_fd)

    got = run(body)

    def named(values: list[tuple[Any, ...]], root: Path) -> list[Any]:
        text, raw = str(root), os.fsencode(root)

        def strip(v: Any) -> Any:
            if isinstance(v, str):
                return v.replace(text, "ROOT")
            return v.replace(raw, b"ROOT") if isinstance(v, bytes) else v

        return [tuple(strip(v) for v in value) for value in values]

    assert named(got, ours) == named(want, theirs)
    assert snapshot(ours) == snapshot(theirs)
    assert any(value[0] == "raised" for value in want)  # errors compared too


def test_native_backends_run_them_without_the_default_executor(
    runner: Runner, tmp_path: Path
) -> None:
    if runner.backend.name == "python":
        pytest.skip("the python backend runs them on the default executor")
    root = tree(tmp_path / "tree")

    async def body() -> list[Any]:
        fd = os.open(root / "file", os.O_RDONLY)
        try:
            answers = [
                await aos.readlink(root / "link"),
                await aos.access(root / "file", os.R_OK),
                await aos.access(root / "missing", os.F_OK),
                await aos.chmod(root / "file", 0o600),
                await aos.chmod(fd, 0o604),
                await aos.utime(root / "file", (5, 6)),
                await aos.utime(fd, ns=(7, 8 * 10**9)),
                (await aos.statvfs(root)).f_namemax,
                (await aos.statvfs(fd)).f_bsize,
            ]
            with pytest.raises(FileNotFoundError):
                await aos.readlink(root / "missing")
            return answers
        finally:
            os.close(fd)

    answers = run(body, refuse_executor=True)
    info = os.stat(root / "file")
    assert answers[:3] == ["file", True, False]
    assert answers[7:] == [os.statvfs(root).f_namemax, os.statvfs(root).f_bsize]
    assert (info.st_mode & 0o777, info.st_atime_ns, info.st_mtime_ns) == (
        0o604,
        7,
        8 * 10**9,
    )


def test_readlink_of_a_long_target_gives_os_readlinks_bytes(
    runner: Runner, tmp_path: Path
) -> None:
    target = "x/" * 2047 + "y"  # 4095 bytes, the longest symlink target
    os.symlink(target, tmp_path / "long")
    assert run(lambda: aos.readlink(tmp_path / "long")) == os.readlink(
        tmp_path / "long"
    )
    assert run(lambda: aos.readlink(os.fsencode(tmp_path / "long"))) == os.fsencode(
        target
    )


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX errno")
def test_utime_before_3_13_names_no_file_in_its_error(
    runner: Runner, tmp_path: Path
) -> None:
    with pytest.raises(FileNotFoundError) as caught:
        run(lambda: aos.utime(tmp_path / "missing", (1, 2)))
    assert caught.value.errno == errno.ENOENT
    named = str(tmp_path / "missing") if sys.version_info >= (3, 13) else None
    assert caught.value.filename == named


def test_a_file_objects_truncate_runs_on_the_core(
    runner: Runner, tmp_path: Path
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"0123456789")

    async def body() -> list[int]:
        async with asyncfile.open(path, "r+b") as f:
            await f.seek(3)
            sizes = [await f.truncate(), await f.truncate(20)]
            return [*sizes, f.tell()]

    async def negative() -> None:
        async with asyncfile.open(path, "r+b") as f:
            await f.truncate(-1)

    native = runner.backend.name != "python"
    assert run(body, refuse_executor=native) == [3, 20, 3]
    assert path.read_bytes() == b"012" + bytes(17)
    with pytest.raises(OSError, match="Invalid argument") as raised:
        run(negative)
    assert raised.value.errno == errno.EINVAL


@pytest.mark.parametrize("length", [2**63, 2**200])
def test_a_length_past_off_t_is_oss_overflow_error(
    runner: Runner, tmp_path: Path, length: int
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"kept")
    with pytest.raises(OverflowError) as raised:
        os.truncate(path, length)
    expected = ("raised", OverflowError, str(raised.value))

    async def body() -> list[tuple[Any, ...]]:
        answers = []
        for target in (path, path.open("rb+")):
            try:
                await aos.truncate(
                    target if isinstance(target, Path) else target.fileno(), length
                )
            except OverflowError as exc:
                answers.append(("raised", type(exc), str(exc)))
            finally:
                if not isinstance(target, Path):
                    target.close()
        return answers

    assert run(body) == [expected, expected]
    assert path.read_bytes() == b"kept"
