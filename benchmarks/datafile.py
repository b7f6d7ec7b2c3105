"""The data file the cases read: created once per run, then page-cached."""

from __future__ import annotations

import os
import random
from pathlib import Path

CHUNK = 1 << 20


def create(directory: Path, size: int, seed: int) -> Path:
    """Write ``size`` bytes of seeded random data, fsync, and read it back.

    The fsync leaves no dirty pages for writeback to flush during a
    measurement; the read-back makes sure every page is in the page cache.
    """
    path = directory / f"data-{size >> 20}MiB.bin"
    rng = random.Random(seed)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        for offset in range(0, size, CHUNK):
            os.pwrite(fd, rng.randbytes(min(CHUNK, size - offset)), offset)
        os.fsync(fd)
    finally:
        os.close(fd)
    warm(path)
    return path


def warm(path: Path) -> int:
    """Read the whole file once (into the page cache); return its size."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        size = os.fstat(fd).st_size
        for offset in range(0, size, CHUNK):
            os.pread(fd, CHUNK, offset)
    finally:
        os.close(fd)
    return size


def filesystem_type(path: Path) -> str:
    """File system type of the mount holding ``path`` (``/proc/self/mountinfo``)."""
    target = str(path.resolve())
    best, best_type = "", "unknown"
    try:
        with open("/proc/self/mountinfo", encoding="utf-8") as mounts:
            for line in mounts:
                fields = line.split()
                mount_point = fields[4].replace("\\040", " ")
                fs_type = fields[fields.index("-") + 1]
                inside = target == mount_point or target.startswith(
                    mount_point.rstrip("/") + "/"
                )
                if inside and len(mount_point) >= len(best):
                    best, best_type = mount_point, fs_type
    except (OSError, ValueError, IndexError):
        pass
    return best_type
