"""Kernel limits: an exhausted fs.aio-max-nr or a disabled io_uring degrades
gracefully to the next backend, with a warning or a reason, never a crash.

These change real system-wide settings (as root) and restore them afterwards.
"""

from __future__ import annotations

import asyncio
import errno
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from backends import clean_env

import asyncfile.core as core

PACKAGE_ROOT = str(Path(core.__file__).parents[2])


@pytest.fixture
def sysctl() -> Iterator[Callable[[str, str], None]]:
    """Set /proc/sys values for the test; each is restored afterwards."""
    saved: dict[Path, str] = {}

    def set_value(name: str, value: str) -> None:
        path = Path("/proc/sys") / name.replace(".", "/")
        if not path.exists():
            pytest.skip(f"this kernel has no {name}")
        if not os.access(path, os.W_OK):
            pytest.skip(f"changing {name} needs root")
        saved.setdefault(path, path.read_text())
        path.write_text(value)

    yield set_value
    for path, value in saved.items():
        path.write_text(value)


def test_aio_max_nr_used_up_falls_back_to_the_pool(
    sysctl: Callable[[str, str], None], fd: int
) -> None:
    if core.linux_aio is None:
        pytest.skip(f"linux_aio is unavailable here: {core.unavailable['linux']}")
    sysctl("fs.aio-max-nr", "1")
    # A size no other test uses: closed contexts are kept for reuse per size.
    size = 77
    with pytest.raises(OSError, match="Resource temporarily unavailable") as caught:
        core.linux_aio.Context(max_requests=size)
    assert caught.value.errno == errno.EAGAIN  # as io_setup says
    with pytest.warns(RuntimeWarning, match="aio-max-nr"):
        context = core.linux_aio_asyncio.AsyncioContext(max_requests=size)
    try:
        assert "thread" in type(context.context).__name__.lower()

        async def round_trip() -> bytes:
            await context.write(b"fallback", fd, 0)
            return await context.read(8, fd, 0)  # type: ignore[no-any-return]

        assert asyncio.run(round_trip()) == b"fallback"
    finally:
        context.close()


def test_disabled_io_uring_is_left_out_with_the_reason(
    sysctl: Callable[[str, str], None],
) -> None:
    if core.linux_uring is None:
        pytest.skip(f"io_uring is unavailable here: {core.unavailable['uring']}")
    sysctl("kernel.io_uring_disabled", "2")
    process = subprocess.run(
        [
            sys.executable,
            "-c",
            "import asyncfile.core as c; print(c.unavailable['uring']); "
            "print(c.Context.__name__)",
        ],
        env=clean_env(PYTHONPATH=PACKAGE_ROOT),
        capture_output=True,
        text=True,
        check=True,
    )
    why, selected = process.stdout.strip().splitlines()
    assert "io_uring_disabled = 2" in why
    assert selected == "LinuxAioContext"


def test_closed_aio_contexts_are_reused_not_destroyed() -> None:
    # io_destroy waits for an RCU grace period (tens of ms): a loop that
    # closes its context would pause that long.  Idle ones are kept instead.
    if core.linux_aio is None:
        pytest.skip(f"linux_aio is unavailable here: {core.unavailable['linux']}")
    first = core.linux_aio.Context(max_requests=91)
    reserved = _aio_rings()
    first.close()
    for _ in range(50):
        context = core.linux_aio.Context(max_requests=91)
        try:
            assert _aio_rings() == reserved
        finally:
            context.close()


def _aio_rings() -> int:
    """How many kernel AIO contexts this process holds: each maps its ring as
    "[aio]" (fs.aio-nr counts every process's, and others come and go)."""
    with open("/proc/self/maps") as maps:
        return sum("[aio]" in line for line in maps)


def test_io_uring_disabled_after_import_falls_back_to_the_pool(
    sysctl: Callable[[str, str], None], fd: int
) -> None:
    if core.linux_uring is None:
        pytest.skip(f"io_uring is unavailable here: {core.unavailable['uring']}")
    sysctl("kernel.io_uring_disabled", "2")
    with pytest.warns(RuntimeWarning, match="io_uring_setup failed"):
        context = core.linux_uring_asyncio.AsyncioContext()
    try:
        assert type(context.context).__name__ == "ThreadContext"

        async def round_trip() -> bytes:
            await context.write(b"pool", fd, 0)
            return await context.read(4, fd, 0)  # type: ignore[no-any-return]

        assert asyncio.run(round_trip()) == b"pool"
    finally:
        context.close()
