"""Opening a file for a file object: ``_filesystem.open_file`` and the core's
``aopen_file``, which opens a file the caches hold on the loop (with its stat,
in one step) and everything else on the pool, with what ``os.open`` and
``os.fstat`` give: the same descriptor flags, the same errors, a FIFO that
waits for its writer as io's open does; and a close that always leaves the
loop."""

from __future__ import annotations

import asyncio
import dataclasses
import errno
import fcntl
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import Backend, backend_params
from inline import completes_without_suspending, resolve_cached_missing
from mounts import tmpfs
from platforms import LINUX, POSIX_IO

import asyncfile
import asyncfile._filesystem as afs
import asyncfile.core as core
from asyncfile.contexts import close_contexts, get_context

pytestmark = [POSIX_IO.mark, LINUX.mark]


def _portable_core() -> bool:
    """Whether the core is the portable one macOS builds, which opens on its
    pool and never asks openat2."""
    from asyncfile.core import _aio

    return bool(getattr(_aio, "PORTABLE", False))


@pytest.fixture
def in_memory(tmp_path: Path) -> Iterator[Path]:
    """A directory on a tmpfs: a file system without a device."""
    with tmpfs(tmp_path / "mnt", "1m") as mounted:
        yield mounted


@pytest.mark.parametrize(
    "flags",
    [
        pytest.param(os.O_RDONLY, id="read"),
        pytest.param(os.O_RDWR, id="update"),
        pytest.param(os.O_WRONLY | os.O_CREAT | os.O_TRUNC, id="write"),
        pytest.param(os.O_WRONLY | os.O_CREAT | os.O_APPEND, id="append"),
        pytest.param(os.O_RDONLY | os.O_NONBLOCK, id="read-nonblocking"),
    ],
)
async def test_open_file_gives_what_os_open_and_fstat_give(
    selected: Backend, tmp_path: Path, flags: int
) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"x" * 5000)
    fd, st_mode, st_blksize, st_size = await afs.open_file(str(path), flags)
    try:
        status = os.fstat(fd)
        assert (st_mode, st_blksize, st_size) == (
            status.st_mode,
            status.st_blksize,
            status.st_size,
        )
        assert not os.get_inheritable(fd)
        expected = os.open(path, flags & ~(os.O_CREAT | os.O_TRUNC))
        try:
            # Every status flag as os.open leaves it: O_NONBLOCK, which the
            # open from the caches adds, only where it was asked for.
            assert fcntl.fcntl(fd, fcntl.F_GETFL) == fcntl.fcntl(
                expected, fcntl.F_GETFL
            )
        finally:
            os.close(expected)
    finally:
        os.close(fd)


@pytest.mark.parametrize(
    ("name", "flags"),
    [
        pytest.param("missing", os.O_RDONLY, id="ENOENT"),
        pytest.param("file/below", os.O_RDONLY, id="ENOTDIR"),
        pytest.param("loop", os.O_RDONLY, id="ELOOP-cycle"),
        pytest.param("link", os.O_RDONLY | os.O_NOFOLLOW, id="ELOOP-nofollow"),
        pytest.param("dir", os.O_WRONLY, id="EISDIR"),
        pytest.param("n" * 300, os.O_RDONLY, id="ENAMETOOLONG"),
        pytest.param("file", os.O_RDONLY | os.O_CREAT | os.O_EXCL, id="EEXIST"),
        pytest.param("missing/file", os.O_WRONLY | os.O_CREAT, id="ENOENT-create"),
    ],
)
async def test_open_file_raises_what_os_open_raises(
    selected: Backend, tmp_path: Path, name: str, flags: int
) -> None:
    (tmp_path / "file").write_bytes(b"x")
    (tmp_path / "dir").mkdir()
    os.symlink("loop", tmp_path / "loop")
    os.symlink("file", tmp_path / "link")
    path = str(tmp_path / name)
    try:
        os.close(os.open(path, flags))
    except OSError as error:
        expected = error
    else:
        pytest.fail(f"os.open({path!r}, {flags}) opened")
    with pytest.raises(type(expected)) as raised:
        await afs.open_file(path, flags)
    assert type(raised.value) is type(expected)
    assert raised.value.errno == expected.errno
    assert raised.value.filename == path


async def test_a_fifo_opens_as_io_opens_it_once_a_writer_comes(
    selected: Backend, tmp_path: Path
) -> None:
    """The open from the caches would take a FIFO at once (O_NONBLOCK): it
    is closed again and opened blocking, off the loop, as io opens it."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    opening = asyncio.ensure_future(afs.open_file(str(fifo), os.O_RDONLY))
    await asyncio.sleep(0.2)
    assert not opening.done(), "a FIFO opened to read waits for a writer"
    writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    try:
        fd, *_ = await asyncio.wait_for(opening, 10)
        try:
            assert fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK == 0
            os.write(writer, b"through")
            assert os.read(fd, 100) == b"through"
        finally:
            os.close(fd)
    finally:
        os.close(writer)


@pytest.mark.parametrize("backend", backend_params(native=True))
def test_a_cached_file_opens_on_the_loop_and_a_creating_open_does_not(
    backend: Backend, tmp_path: Path, in_memory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend.module  # noqa: B018 (skips when unavailable)
    missing = resolve_cached_missing()
    if missing is not None:
        pytest.skip(missing)
    monkeypatch.setattr(
        core, "selection", dataclasses.replace(core.selection, name=backend.name)
    )
    path = tmp_path / "file"
    path.write_bytes(b"cached")
    (in_memory / "file").write_bytes(b"in memory")

    async def body() -> None:
        native = get_context().filesystem()
        for cached in (path, in_memory / "file"):
            done, value = completes_without_suspending(
                native.aopen_file(-100, os.fsencode(cached), os.O_RDONLY, 0)
            )
            assert done, f"{cached} is in the caches"
            assert os.read(value[0], 100) in (b"cached", b"in memory")
            os.close(value[0])
        done, _ = completes_without_suspending(
            native.aopen_file(
                -100, os.fsencode(tmp_path / "new"), os.O_WRONLY | os.O_CREAT, 0o600
            )
        )
        assert not done, "an open that may create goes to the pool"
        await asyncio.sleep(0.2)  # the abandoned open's descriptor is closed

    close_contexts()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(body())
    finally:
        close_contexts()
        loop.close()


@pytest.mark.parametrize("flags", [os.O_RDONLY, os.O_RDWR | os.O_CREAT])
async def test_an_open_file_cancelled_meanwhile_closes_its_descriptor(
    selected: Backend, tmp_path: Path, flags: int
) -> None:
    """No descriptor is left open (the suite's fixture checks after each test)."""
    path = tmp_path / "file"
    path.write_bytes(b"x")
    cancelled = 0
    for _ in range(50):
        task = asyncio.ensure_future(afs.open_file(str(path), flags))
        await asyncio.sleep(0)
        if task.cancel():
            cancelled += 1
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            os.close(task.result()[0])
    # A cached file to read opens on the loop on the native backends; an open
    # that may create goes to the pool (or a thread), and is cancelled there.
    assert cancelled > 0 or (flags == os.O_RDONLY and selected.native)
    await asyncio.sleep(0.3)  # the pool or threads finish what was cancelled


@pytest.mark.parametrize("backend", backend_params(native=True))
def test_without_openat2_every_open_goes_to_the_pool(
    backend: Backend, tmp_path: Path
) -> None:
    """A kernel without openat2 (before 5.6; valgrind, which does not know
    it): the open from the caches is given up, and the pool opens."""
    backend.module  # noqa: B018 (skips when unavailable)
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed: it makes openat2 fail here")
    if _portable_core():
        pytest.skip("the portable build (macOS's) never asks openat2")
    (tmp_path / "file").write_bytes(b"through the pool")
    child = textwrap.dedent(
        """
        import asyncio, sys
        import asyncfile

        async def main():
            for _ in range(3):
                async with asyncfile.open(sys.argv[1], "rb") as f:
                    print((await f.read()).decode())

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [
            strace,
            "-f",
            "-qq",
            "-o",
            str(tmp_path / "strace.log"),
            "-e",
            "trace=openat,openat2",
            "-e",
            "inject=openat2:error=ENOSYS",
            sys.executable,
            "-c",
            child,
            str(tmp_path / "file"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "CAIO_IMPL": backend.name},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["through the pool"] * 3
    log = (tmp_path / "strace.log").read_text()
    target = str(tmp_path / "file")
    tried = [line for line in log.splitlines() if "openat2(" in line and target in line]
    opened = [line for line in log.splitlines() if "openat(" in line and target in line]
    # Told once that there is no openat2, the core stops asking.
    assert len(tried) == 1, tried
    assert len(opened) == 3, opened


@pytest.mark.parametrize("mode", ["rb", "r", "r+b"])
async def test_every_close_leaves_the_loop(
    selected: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    """Even a file only read, on a disk's file system, closes through the core
    (or a thread): close(2) on the loop held it for up to 500 ms after the
    caches were dropped (the small-files-cold benchmark, ext4)."""
    closed_elsewhere: list[int] = []
    close = afs.close

    async def counted(fd: int, **kwargs: Any) -> None:
        closed_elsewhere.append(fd)
        await close(fd, **kwargs)

    monkeypatch.setattr(afs, "close", counted)
    path = tmp_path / "file"
    path.write_bytes(b"data")
    file = await asyncfile.open(path, mode)
    fd = file.fileno()
    await file.read()
    await file.close()
    with pytest.raises(OSError, match="Bad file descriptor") as gone:
        os.fstat(fd)
    assert gone.value.errno == errno.EBADF
    assert closed_elsewhere == [fd]
