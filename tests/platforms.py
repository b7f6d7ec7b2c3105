"""What this system offers the tests: one declared table of capabilities.

A test (or a whole module) that needs one declares it with ``mark`` or
``require()``; where the system lacks it, the test skips with the reason here.
The suite runs on Linux (everything) and on Windows (scripts/test-windows: the
pure-Python backend, no fork, no /proc, no mounts).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Mapping
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
#: POSIX file systems: symbolic links anyone may make, permission bits,
#: users to change to, named pipes (the filesystem differential tests).
POSIX_FS = Capability(os.name == "posix", f"POSIX file systems only ({sys.platform})")
#: os.pread/os.pwrite, which the tests use to prepare and check files.
POSIX_IO = Capability(
    hasattr(os, "pread"), f"os.pread/os.pwrite do not exist on {sys.platform}"
)
#: /proc/self/fd, to count a process's descriptors.
#: (Under wine "/proc" is the host's, seen through drive Z:, not this process's.)
PROC = Capability(
    LINUX.present and os.path.isdir("/proc/self/fd"), f"no /proc on {sys.platform}"
)
#: os.posix_fadvise, to drop a file from the page cache (macOS and Windows lack it).
ADVICE = Capability(
    hasattr(os, "posix_fadvise"), f"no os.posix_fadvise on {sys.platform}"
)
#: Named pipes in the file system (os.mkfifo) and pipes a worker thread reads.
FIFO = Capability(hasattr(os, "mkfifo"), f"no os.mkfifo on {sys.platform}")
#: asyncio's loop.add_signal_handler, which the loop implements on Unix only.
LOOP_SIGNALS = Capability(
    not WINDOWS, f"loop.add_signal_handler is Unix-only (this is {sys.platform})"
)
#: Pseudo-terminals (os.openpty, the tty module), for terminal tests.
PTY = Capability(hasattr(os, "openpty"), f"no pseudo-terminals on {sys.platform}")
#: Event loops that watch pipes, terminals and sockets for input, so a read
#: waits for it without a thread (Windows' loops cannot: a thread waits).
WATCHED_STREAMS = Capability(
    not WINDOWS, "Windows' event loops cannot watch a pipe: a thread waits for input"
)
#: Sockets that are file descriptors (Windows' are handles).
SOCKET_FDS = Capability(not WINDOWS, "Windows' sockets are handles, not descriptors")
#: Removing a file that is still open (Windows refuses).
UNLINK_OPEN = Capability(not WINDOWS, "Windows cannot remove a file that is open")
#: POSIX permission bits (a file's mode 0o600, a directory's 0o700).
PERMISSIONS = Capability(not WINDOWS, "Windows has no POSIX permission bits")
#: Appends that no other appender can split: O_APPEND in the kernel.  On Windows
#: it is the C runtime's seek to the end, then a write, so another appender's
#: bytes can land between the two and be overwritten (io's writes too).
ATOMIC_APPEND = Capability(
    not WINDOWS, "Windows' O_APPEND is a seek to the end, then a write: not atomic"
)


def _under_wine() -> bool:
    if not WINDOWS:
        return False
    import ctypes

    return hasattr(ctypes.WinDLL("ntdll"), "wine_get_version")


if WINDOWS:
    # uvloop does not exist there: asyncio's two loops run, the proactor (the
    # default) for every test and the selector too for the every_loop ones.
    # (Under wine both lose a worker thread's wake-up now and then unless
    # scripts/test-windows's workaround is in place: see there.)
    LOOP_FACTORIES: Mapping[str, Callable[[], asyncio.AbstractEventLoop]] = {
        "asyncio": asyncio.new_event_loop,
        "selector": asyncio.SelectorEventLoop,
    }
else:
    import uvloop

    LOOP_FACTORIES = {
        "asyncio": asyncio.new_event_loop,
        "uvloop": uvloop.new_event_loop,
    }

#: ASYNCFILE_TEST_LOOP=uvloop (or another name above) makes that loop the one
#: every async test runs on; those marked every_loop still run on each.
_TEST_LOOP = os.environ.get("ASYNCFILE_TEST_LOOP", "")
if _TEST_LOOP:
    if _TEST_LOOP not in LOOP_FACTORIES:
        raise RuntimeError(
            f"ASYNCFILE_TEST_LOOP={_TEST_LOOP!r}: this platform's loops are "
            + ", ".join(LOOP_FACTORIES)
        )
    LOOP_FACTORIES = {_TEST_LOOP: LOOP_FACTORIES[_TEST_LOOP], **LOOP_FACTORIES}


#: Not wine's C runtime, whose read() on a descriptor that once read end of
#: file returns nothing until a seek, even after the file grew (io, which calls
#: it, then disagrees with positional reads).
NATIVE_CRT_EOF = Capability(
    not _under_wine(),
    "wine's read() stays at end of file until a seek, even after the file grew",
)

#: What open() raises for a directory: io on Windows gets EACCES from the C runtime.
DIRECTORY_OPEN_ERROR: type[OSError] = PermissionError if WINDOWS else IsADirectoryError
#: Descriptors on directories (os.open of a directory): Windows has none.
DIRECTORY_FDS = Capability(not WINDOWS, "Windows opens no descriptor on a directory")

#: Whole test modules that need a capability: where it is missing they are not
#: imported (their imports are Linux's own: fcntl, resource, uvloop, ...) and
#: pytest reports each as skipped with the reason.
MODULES_NEEDING: dict[str, Capability] = {
    "test_bench_direct.py": LINUX,  # O_DIRECT, fio
    "test_bench_fs.py": LINUX,  # the benchmarks: resource, drop_caches
    "test_bench_lag.py": LINUX,  # /proc/self/schedstat, resource
    "test_bench_loops.py": LINUX,  # the benchmarks: resource, uvloop
    "test_core_direct.py": LINUX,  # O_DIRECT
    "test_core_direct_flag_per_turn.py": LINUX,  # O_DIRECT, fcntl, strace
    "test_core_native.py": LINUX,  # the C core: io_uring, Linux AIO, strace
    "test_core_open_file.py": LINUX,  # openat2, fcntl, strace, tmpfs
    "test_install_without_compiler.py": LINUX,  # builds the C core with cc
    "test_native_build.py": LINUX,  # the C core's build, nm
    "test_portable_build.py": LINUX,  # builds the portable core with cc
}
