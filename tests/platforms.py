"""What this system offers the tests: one declared table of capabilities.

A test (or a whole module) that needs one declares it with ``mark`` or
``require()``; where the system lacks it, the test skips with the reason here.
The suite runs on Linux (everything) and on Windows (scripts/test-windows: the
pure-Python backend, no fork, no /proc, no mounts).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class Capability:
    present: bool
    missing: str  # why a test needing it skips

    @property
    def mark(self) -> pytest.MarkDecorator:
        return pytest.mark.skipif(not self.present, reason=self.missing)

    def require(self) -> None:
        """Skip the calling test, or at module level the whole module."""
        if not self.present:
            pytest.skip(self.missing, allow_module_level=True)


WINDOWS = sys.platform == "win32"

#: Linux's own interfaces: io_uring, Linux AIO, O_DIRECT, /proc, mounts,
#: FUSE, strace, the native core built here.
LINUX = Capability(
    sys.platform.startswith("linux"), f"Linux-only (this is {sys.platform})"
)
#: os.fork(): the fork-safety tests.
FORK = Capability(hasattr(os, "fork"), f"no fork() on {sys.platform}")
#: os.pread/os.pwrite, which the tests use to prepare and check files.
POSIX_IO = Capability(
    hasattr(os, "pread"), f"os.pread/os.pwrite do not exist on {sys.platform}"
)
#: Named pipes in the file system (os.mkfifo) and pipes a worker thread reads.
FIFO = Capability(hasattr(os, "mkfifo"), f"no os.mkfifo on {sys.platform}")
