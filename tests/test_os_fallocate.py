"""``asyncfile.os.posix_fallocate`` and ``ftruncate`` against ``os``: the same
file afterwards and the same exceptions, on every backend and with io_uring's
FALLOCATE and FTRUNCATE treated as missing (the native pool runs them); on a
file system whose fallocate(2) cannot allocate (ext2), posix_fallocate's
zero-writing fallback."""

from __future__ import annotations

import asyncio
import errno
import os
import shutil
import subprocess
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest
from platforms import LINUX, POSIX_IO
from test_filesystem_core import RING_CALLS, Runner, runner

import asyncfile._filesystem as afs
import asyncfile.os as aos
from asyncfile.contexts import close_contexts, get_context

pytestmark = POSIX_IO.mark

__all__ = ["runner"]  # the fixture, shared with test_filesystem_core

needs_posix_fallocate = pytest.mark.skipif(
    not hasattr(os, "posix_fallocate"), reason="os has no posix_fallocate here"
)


def run(body: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(body())
    finally:
        loop.run_until_complete(close_contexts_async())
        loop.close()


async def close_contexts_async() -> None:
    close_contexts()


def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("value", call())
    except OSError as exc:
        return ("raised", type(exc), exc.errno, exc.filename, exc.filename2)


@needs_posix_fallocate
@pytest.mark.parametrize(
    ("offset", "length"),
    [(0, 4096), (100, 1), (1 << 20, 3 * 4096 + 5), (0, 0), (5, -1), (-1, 10)],
)
def test_posix_fallocate_leaves_the_file_os_leaves(
    runner: Runner, tmp_path: Path, offset: int, length: int
) -> None:
    theirs, ours = tmp_path / "theirs", tmp_path / "ours"
    for path in (theirs, ours):
        path.write_bytes(b"abc")
    fd = os.open(theirs, os.O_RDWR)
    try:
        want = outcome(lambda: os.posix_fallocate(fd, offset, length))
        want_stat = os.fstat(fd)
    finally:
        os.close(fd)

    async def body() -> tuple[Any, os.stat_result]:
        fd = os.open(ours, os.O_RDWR)
        try:
            try:
                got = ("value", await aos.posix_fallocate(fd, offset, length))
            except OSError as exc:
                got = ("raised", type(exc), exc.errno, exc.filename, exc.filename2)
            return got, os.fstat(fd)
        finally:
            os.close(fd)

    got, got_stat = run(body)
    assert got == want
    assert (got_stat.st_size, got_stat.st_blocks) == (
        want_stat.st_size,
        want_stat.st_blocks,
    )
    assert ours.read_bytes() == theirs.read_bytes()


@needs_posix_fallocate
def test_posix_fallocate_of_a_bad_descriptor_and_a_pipe_raise_what_os_raises(
    runner: Runner,
) -> None:
    read_end, write_end = os.pipe()
    try:
        cases = [(write_end, 0, 10), (9999, 0, 10)]
        want = [outcome(lambda c=c: os.posix_fallocate(*c)) for c in cases]

        async def body() -> list[tuple[Any, ...]]:
            got = []
            for fd, offset, length in cases:
                try:
                    got.append(("value", await aos.posix_fallocate(fd, offset, length)))
                except OSError as exc:
                    got.append(
                        ("raised", type(exc), exc.errno, exc.filename, exc.filename2)
                    )
            return got

        assert run(body) == want
        assert want[0][2] == errno.ESPIPE
    finally:
        os.close(read_end)
        os.close(write_end)


def test_ftruncate_leaves_the_size_os_leaves(runner: Runner, tmp_path: Path) -> None:
    path = tmp_path / "file"
    path.write_bytes(b"0123456789")

    async def body() -> list[int]:
        sizes = []
        fd = os.open(path, os.O_RDWR)
        try:
            for length in (4, 1 << 32, 0, 7):
                await afs.ftruncate(fd, length)
                sizes.append(os.fstat(fd).st_size)
        finally:
            os.close(fd)
        return sizes

    assert run(body) == [4, 1 << 32, 0, 7]
    assert path.read_bytes() == b"\0" * 7


@LINUX.mark
def test_the_ring_runs_ftruncate_and_fallocate_where_the_kernel_has_them(
    runner: Runner,
) -> None:
    async def body() -> object:
        native = get_context().filesystem()
        return None if native is None else native.ring_fs_calls

    calls = run(body)
    if runner.backend.name != "uring" or runner.without == "all":
        assert not calls
        return
    assert {"ftruncate", "fallocate"} <= RING_CALLS
    assert calls == RING_CALLS


@pytest.fixture
def ext2(tmp_path: Path) -> Iterator[Path]:
    """A small ext2 file system: its files have no extents, and fallocate(2)
    refuses them (EOPNOTSUPP)."""
    if shutil.which("mkfs.ext2") is None:
        pytest.skip("no mkfs.ext2 here to make an ext2 file system")
    image, mountpoint = tmp_path / "image", tmp_path / "mnt"
    mountpoint.mkdir()
    with image.open("wb") as file:
        file.truncate(8 << 20)
    made = subprocess.run(
        ["mkfs.ext2", "-q", "-F", str(image)], capture_output=True, check=False
    )
    mounted = subprocess.run(
        ["mount", "-o", "loop", str(image), str(mountpoint)],
        capture_output=True,
        check=False,
    )
    if made.returncode != 0 or mounted.returncode != 0:
        pytest.skip(f"cannot mount an ext2 image here: {mounted.stderr!r}")
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", str(mountpoint)], capture_output=True, check=False)


@needs_posix_fallocate
@LINUX.mark
def test_posix_fallocate_writes_zeros_where_the_file_system_cannot_allocate(
    runner: Runner, ext2: Path
) -> None:
    path = ext2 / "file"
    path.write_bytes(b"abc")
    fd = os.open(path, os.O_RDWR)

    async def body() -> int | None:
        refused = None
        native = get_context().filesystem()
        if runner.backend.name == "uring" and runner.without is None:
            try:  # the ring's fallocate(2), which cannot allocate here
                await native.afallocate(fd, 2, 10000)
            except OSError as exc:
                refused = exc.errno
        await aos.posix_fallocate(fd, 2, 10000)
        return refused

    try:
        refused = run(body)
        assert os.fstat(fd).st_size == 10002
    finally:
        os.close(fd)
    if runner.backend.name == "uring" and runner.without is None:
        assert refused == errno.EOPNOTSUPP
    assert path.read_bytes() == b"abc" + b"\0" * 9999
