"""``asyncfile.os.sendfile`` against ``os.sendfile``: the same counts, bytes,
positions and errors on every backend (file to file and file to socket, at an
offset and at the current position), and on Linux's native backends without
the default executor."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from platforms import POSIX_IO
from test_filesystem_core import Runner, runner
from test_os_core_calls import run

import asyncfile.os as aos

pytestmark = [
    POSIX_IO.mark,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"),
        reason="these calls are Linux's sendfile (file to file, no headers)",
    ),
]

__all__ = ["runner"]  # the fixture, shared with test_filesystem_core

DATA = bytes(range(256)) * 1000


def core_sends(runner: Runner) -> bool:
    """Whether the core runs sendfile here (Linux's full build, not the
    portable one, which leaves it to threads as macOS must)."""
    if runner.backend.name == "python":
        return False
    from asyncfile.core import _aio

    return not _aio.PORTABLE


def cases(source: int, target: int) -> list[tuple[int, int, int | None, int]]:
    return [
        (target, source, 0, 1000),
        (target, source, 100, 0),
        (target, source, None, 5000),
        (target, source, None, 10**9),  # to the end
        (target, source, len(DATA) + 5, 10),  # past the end: 0
        (target, 9999, 0, 10),
        (9999, source, 0, 10),
        (source, target, 0, 10),  # a read-only output: EBADF
    ]


def outcome(call: Any) -> tuple[Any, ...]:
    try:
        return ("value", call())
    except OSError as exc:
        return ("raised", type(exc), exc.errno, exc.filename, exc.filename2)


async def async_outcome(call: Any) -> tuple[Any, ...]:
    try:
        return ("value", await call())
    except OSError as exc:
        return ("raised", type(exc), exc.errno, exc.filename, exc.filename2)


def test_sendfile_sends_what_os_sendfile_sends(runner: Runner, tmp_path: Path) -> None:
    def files(name: str) -> tuple[int, int, Path]:
        source = tmp_path / f"{name}-source"
        source.write_bytes(DATA)
        target = tmp_path / f"{name}-target"
        in_fd = os.open(source, os.O_RDONLY)
        os.lseek(in_fd, 7, os.SEEK_SET)
        return in_fd, os.open(target, os.O_WRONLY | os.O_CREAT, 0o644), target

    in_fd, out_fd, theirs = files("theirs")
    try:
        want = [outcome(lambda c=c: os.sendfile(*c)) for c in cases(in_fd, out_fd)]
        want_positions = (
            os.lseek(in_fd, 0, os.SEEK_CUR),
            os.lseek(out_fd, 0, os.SEEK_CUR),
        )
    finally:
        os.close(in_fd)
        os.close(out_fd)

    async def body() -> tuple[list[Any], tuple[int, int]]:
        in_fd, out_fd, _ = files("ours")
        try:
            got = [
                await async_outcome(lambda c=c: aos.sendfile(*c))
                for c in cases(in_fd, out_fd)
            ]
            positions = (
                os.lseek(in_fd, 0, os.SEEK_CUR),
                os.lseek(out_fd, 0, os.SEEK_CUR),
            )
            return got, positions
        finally:
            os.close(in_fd)
            os.close(out_fd)

    got, positions = run(body, refuse_executor=core_sends(runner))
    assert got == want
    assert positions == want_positions
    assert (tmp_path / "ours-target").read_bytes() == theirs.read_bytes()


def test_sendfile_to_a_full_nonblocking_socket_raises_blocking_io_error(
    runner: Runner, tmp_path: Path
) -> None:
    source = tmp_path / "source"
    source.write_bytes(DATA * 40)  # more than a socket buffer holds
    sender, receiver = socket.socketpair()
    sender.setblocking(False)
    in_fd = os.open(source, os.O_RDONLY)

    async def body() -> int:
        total = 0
        while True:  # until the socket is full
            total += await aos.sendfile(sender.fileno(), in_fd, total, 1 << 20)

    try:
        with pytest.raises(BlockingIOError):
            run(body)
    finally:
        os.close(in_fd)
        sender.close()
        receiver.close()
