"""The portable build of the native core: what macOS gets, built and run here.

``ASYNCFILE_PORTABLE=1`` (and macOS) builds the thread pool alone, woken
through a pipe, with no io_uring, Linux AIO or eventfd, and asks mincore()
instead of preadv2(RWF_NOWAIT) whether a read may complete on the loop;
``scripts/test-portable`` runs the whole suite against that build.  These tests
hold on either build: each checks that the build is what it says it is.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from mounts import skip_if_memory_backed

import asyncfile.core as core
from asyncfile.core import probes

ROOT = Path(__file__).parents[1]
CORE = ROOT / "asyncfile" / "core"
COMPILER = shutil.which("cc") or shutil.which("gcc")
#: What the portable build must not call: Linux's wake-up, its non-blocking
#: reads, and the raw system calls behind io_uring and Linux AIO.
#: (glibc names preadv2 preadv64v2 when off_t is 64-bit.)
NOWAIT_CALLS = {"preadv2", "pwritev2", "preadv64v2", "pwritev64v2"}
LINUX_ONLY_CALLS = {"eventfd", "syscall", "statx", *NOWAIT_CALLS}


def _native() -> ModuleType:
    native = probes.native_core()
    if isinstance(native, str):
        pytest.skip(native)
    return native


def _setup_py() -> ModuleType:
    spec = importlib.util.spec_from_file_location("asyncfile_setup", ROOT / "setup.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _core_extension(platform: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.chdir(ROOT)
    (extension,) = (
        ext
        for ext in _setup_py().extensions(platform)
        if ext.name == "asyncfile.core._aio"
    )
    return extension


def test_the_wake_up_is_a_pipe_exactly_in_the_portable_build() -> None:
    native = _native()
    context = native.ThreadContext()
    try:
        mode = os.fstat(context.fileno).st_mode
        link = os.readlink(f"/proc/self/fd/{context.fileno}")
    finally:
        context.close()
    if native.PORTABLE:
        assert stat.S_ISFIFO(mode), link
        assert link.startswith("pipe:"), link
    else:
        assert not stat.S_ISFIFO(mode), link
        assert link == "anon_inode:[eventfd]", link


def test_the_portable_build_offers_the_thread_pool_alone() -> None:
    native = _native()
    kernel_contexts = {"UringContext", "LinuxAioContext"}
    if not native.PORTABLE:
        assert kernel_contexts <= set(dir(native))
        pytest.skip("the Linux build: scripts/test-portable runs the portable one")
    assert not kernel_contexts & set(dir(native))
    assert set(core.unavailable) == {"uring", "linux"}
    for name in ("uring", "linux"):
        assert "portable build" in core.unavailable[name]
    assert core.selection.name == "thread"
    assert core.thread_aio is not None


def test_the_portable_build_calls_nothing_linux_only() -> None:
    native = _native()
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed")
    result = subprocess.run(
        [nm, "-D", "--undefined-only", native.__file__],
        capture_output=True,
        text=True,
        check=True,
    )
    called = {line.split()[-1].split("@")[0] for line in result.stdout.splitlines()}
    if native.PORTABLE:
        assert not called & LINUX_ONLY_CALLS
    else:
        assert {"eventfd", "syscall", "statx"} <= called
        assert called & NOWAIT_CALLS


async def test_a_read_completes_on_the_loop_only_from_the_page_cache(
    tmp_path: Path,
) -> None:
    """The inline path, whichever way the build asks the page cache
    (preadv2 with RWF_NOWAIT on Linux, mmap and mincore in the portable build):
    pages on the device go to the pool, cached ones complete at once."""
    native = _native()
    skip_if_memory_backed(tmp_path, "its pages cannot be evicted")
    path = tmp_path / "data"
    data = os.urandom(64 * 1024)
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)  # clean pages, which DONTNEED evicts
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        assert core.thread_aio_asyncio is not None
        async with core.thread_aio_asyncio.AsyncioContext() as context:
            read_cached = context.cached_reader()
            if native.PORTABLE:
                assert read_cached(4096, fd, 8192) is None
            else:
                # preadv2(RWF_NOWAIT) starts the read-ahead before it gives
                # up, and this VM's disk may finish it first (mincore shows the
                # page out of the cache before the call): the read then
                # completes, from the page cache it has just filled.
                assert read_cached(4096, fd, 8192) in (None, data[8192:12288])
            assert await context.read(4096, fd, 8192) == data[8192:12288]
            os.pread(fd, len(data), 0)
            assert read_cached(4096, fd, 8192) == data[8192:12288]
            # Past the end of the file nothing is cached, nor needs to be.
            assert read_cached(8192, fd, len(data) - 100) == data[-100:]
            assert read_cached(4096, fd, len(data) + 4096) == b""
    finally:
        os.close(fd)


def test_setup_py_builds_the_portable_core_for_macos(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ASYNCFILE_PORTABLE", raising=False)
    darwin = _core_extension("darwin", monkeypatch)
    linux = _core_extension("linux", monkeypatch)
    monkeypatch.setenv("ASYNCFILE_PORTABLE", "1")
    portable = _core_extension("linux", monkeypatch)
    linux_only = {"asyncfile/core/src/uring.c", "asyncfile/core/src/kaio.c"}
    assert linux_only <= set(linux.sources)
    assert linux.define_macros == []
    for build in (darwin, portable):
        assert not linux_only & set(build.sources)
        assert set(build.sources) == set(linux.sources) - linux_only
        assert build.define_macros == [("ASYNCFILE_PORTABLE", "1")]
    names = [ext.name for ext in _setup_py().extensions("win32")]
    assert names == ["asyncfile._speedups"]
