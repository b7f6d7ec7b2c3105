"""Real file systems for the tests: a tiny tmpfs, and a FUSE file system that
fails chosen byte ranges with EIO or answers every read late.

Each is a context manager that mounts under a directory the test owns and
unmounts on the way out, even when the test failed; a machine that cannot mount
(not root, no /dev/fuse, no libfuse) makes the test skip with the reason.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from platforms import LINUX

FAULTFS = Path(__file__).with_name("faultfs.py")


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _unmount(mountpoint: Path) -> None:
    if not os.path.ismount(mountpoint):
        return
    result = _run("umount", str(mountpoint))
    if result.returncode != 0:  # busy: detach now, free once the last user goes
        _run("umount", "-l", str(mountpoint))


@contextlib.contextmanager
def tmpfs(directory: Path, size: str) -> Iterator[Path]:
    """A fresh tmpfs of ``size`` (mount's syntax: ``1m``) mounted on ``directory``."""
    LINUX.require()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    directory.mkdir(parents=True, exist_ok=True)
    result = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(directory))
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")
    try:
        yield directory
    finally:
        _unmount(directory)


def fuse_unavailable() -> str | None:
    """Why faultfs cannot run here, or None."""
    if not LINUX.present:
        return LINUX.missing
    if os.geteuid() != 0:
        return "mounting FUSE needs root"
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    try:
        import fuse  # type: ignore[import-untyped]  # noqa: F401
    except (ImportError, OSError) as exc:  # fusepy raises OSError without libfuse
        return f"fusepy with libfuse 2 is needed: {exc}"
    return None


@contextlib.contextmanager
def faultfs(
    directory: Path,
    *,
    bad_reads: list[tuple[int, int]] = (),  # type: ignore[assignment]
    bad_writes: list[tuple[int, int]] = (),  # type: ignore[assignment]
    bad_fsync: bool = False,
    read_delay: float = 0.0,
) -> Iterator[Path]:
    """tests/faultfs.py mounted on ``directory``: a file system in memory whose
    reads and writes touching a byte range in ``bad_reads``/``bad_writes``
    (``[start, end)``, in every file) fail with EIO, whose fsync fails with
    EIO if ``bad_fsync``, and whose every read answers after ``read_delay``
    seconds.  It bypasses the page cache (``direct_io``), so every request
    reaches it: with a delay, no read can complete without waiting, which a
    disk's evicted pages do not promise (a fast disk may serve the read-ahead
    that a ``RWF_NOWAIT`` read starts before the read gives up)."""
    why = fuse_unavailable()
    if why:
        pytest.skip(why)
    directory.mkdir(parents=True, exist_ok=True)
    faults = {
        "read": [list(r) for r in bad_reads],
        "write": [list(r) for r in bad_writes],
        "fsync": bad_fsync,
        "read_delay": read_delay,
    }
    server = subprocess.Popen(
        [sys.executable, str(FAULTFS), str(directory), json.dumps(faults)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 10
        while not os.path.ismount(directory):
            if server.poll() is not None or time.monotonic() > deadline:
                output = server.stdout.read() if server.stdout else ""
                pytest.skip(f"faultfs did not mount: {output.strip()}")
            time.sleep(0.02)
        yield directory
    finally:
        _unmount(directory)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        if server.stdout:
            server.stdout.close()


def file_system_type(path: Path) -> str:
    """The type of the file system holding ``path`` (``ext4``, ``tmpfs``, ...),
    from the longest mount point in /proc/self/mounts that contains it
    ("unknown" without /proc)."""
    if not LINUX.present:
        return "unknown"
    resolved = os.path.realpath(path)
    best, kind = "", "unknown"
    with open("/proc/self/mounts", encoding="utf-8") as mounts:
        for line in mounts:
            fields = line.split()
            mountpoint = fields[1].replace("\\040", " ")
            inside = resolved == mountpoint or resolved.startswith(
                mountpoint.rstrip("/") + "/"
            )
            if inside and len(mountpoint) >= len(best):
                best, kind = mountpoint, fields[2]
    return kind


def skip_if_memory_backed(path: Path, why: str) -> None:
    """Skip, saying ``why``, when ``path`` is on tmpfs or ramfs: nothing there
    waits for a device, and O_DIRECT needs no alignment."""
    kind = file_system_type(path)
    if kind in ("tmpfs", "ramfs"):
        pytest.skip(f"{path} is on {kind}: {why}")
