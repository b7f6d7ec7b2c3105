"""A FUSE file system in memory that fails chosen byte ranges with EIO, and
can answer each read late, as a device does.

    python tests/faultfs.py MOUNTPOINT '{"read": [[start, end]], "write": [],
                                         "fsync": false, "read_delay": 0.0}'

Every regular file is a bytearray.  A read or write whose range meets one of
the listed ``[start, end)`` ranges fails with EIO and changes nothing; fsync
fails with EIO when ``"fsync"`` is true; each read waits ``"read_delay"``
seconds before it answers (requests are served on threads, so reads in flight
wait side by side).  Mounted with ``direct_io`` so the kernel sends every
request here instead of answering from its page cache.  Runs in the foreground
until unmounted (tests/mounts.py does both).
"""

from __future__ import annotations

import errno
import json
import stat
import sys
import threading
import time
from typing import Any

from fuse import FUSE, FuseOSError, Operations  # type: ignore[import-untyped]


def _meets(ranges: list[list[int]], offset: int, size: int) -> bool:
    return any(offset < end and start < offset + size for start, end in ranges)


class FaultFS(Operations):  # type: ignore[misc]
    def __init__(self, faults: dict[str, Any]) -> None:
        self.bad_reads: list[list[int]] = faults.get("read", [])
        self.bad_writes: list[list[int]] = faults.get("write", [])
        self.bad_fsync: bool = faults.get("fsync", False)
        self.read_delay: float = faults.get("read_delay", 0.0)
        self.files: dict[str, bytearray] = {}
        self.modes: dict[str, int] = {}
        self.guard = threading.Lock()
        self.started = time.time()

    def _file(self, path: str) -> bytearray:
        try:
            return self.files[path]
        except KeyError:
            raise FuseOSError(errno.ENOENT) from None

    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        now = self.started
        if path == "/":
            return {
                "st_mode": stat.S_IFDIR | 0o755,
                "st_nlink": 2,
                "st_size": 0,
                "st_atime": now,
                "st_mtime": now,
                "st_ctime": now,
            }
        with self.guard:
            data = self._file(path)
            return {
                "st_mode": stat.S_IFREG | self.modes[path],
                "st_nlink": 1,
                "st_size": len(data),
                "st_blocks": (len(data) + 511) // 512,
                "st_atime": now,
                "st_mtime": now,
                "st_ctime": now,
            }

    def readdir(self, path: str, fh: int) -> list[str]:
        with self.guard:
            return [".", "..", *(name[1:] for name in self.files)]

    def create(self, path: str, mode: int, fi: Any = None) -> int:
        with self.guard:
            self.files.setdefault(path, bytearray())
            self.modes[path] = mode & 0o7777
        return 0

    def open(self, path: str, flags: int) -> int:
        with self.guard:
            self._file(path)
        return 0

    def read(self, path: str, size: int, offset: int, fh: int) -> bytes:
        time.sleep(self.read_delay)
        if _meets(self.bad_reads, offset, size):
            raise FuseOSError(errno.EIO)
        with self.guard:
            return bytes(self._file(path)[offset : offset + size])

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        if _meets(self.bad_writes, offset, len(data)):
            raise FuseOSError(errno.EIO)
        with self.guard:
            content = self._file(path)
            if offset > len(content):
                content.extend(bytes(offset - len(content)))
            content[offset : offset + len(data)] = data
        return len(data)

    def truncate(self, path: str, length: int, fh: int | None = None) -> None:
        with self.guard:
            content = self._file(path)
            if length < len(content):
                del content[length:]
            else:
                content.extend(bytes(length - len(content)))

    def unlink(self, path: str) -> None:
        with self.guard:
            self._file(path)
            del self.files[path], self.modes[path]

    def chmod(self, path: str, mode: int) -> int:
        with self.guard:
            self._file(path)
            self.modes[path] = mode & 0o7777
        return 0

    def utimens(self, path: str, times: Any = None) -> int:
        return 0

    def fsync(self, path: str, datasync: int, fh: int) -> int:
        if self.bad_fsync:
            raise FuseOSError(errno.EIO)
        return 0

    def flush(self, path: str, fh: int) -> int:
        return 0

    def release(self, path: str, fh: int) -> int:
        return 0


def main() -> None:
    mountpoint, faults = sys.argv[1], json.loads(sys.argv[2])
    FUSE(FaultFS(faults), mountpoint, foreground=True, direct_io=True, fsname="faultfs")


if __name__ == "__main__":
    main()
