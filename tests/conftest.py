from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from backends import Backend, backend_params
from platforms import LOOP_FACTORIES, MODULES_NEEDING, WINDOWS

if WINDOWS:
    import msvcrt
else:
    import fcntl


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "every_loop: run the async test on every event loop of the system "
        "(asyncio's and uvloop; on Windows the proactor and the selector)",
    )


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> Mapping[str, Callable[[], asyncio.AbstractEventLoop]]:
    if item.get_closest_marker("every_loop"):
        return LOOP_FACTORIES
    # The first loop: asyncio's, or the one ASYNCFILE_TEST_LOOP names.
    name, new_loop = next(iter(LOOP_FACTORIES.items()))
    return {name: new_loop}


class _SkippedModule(pytest.Module):
    """A test module this system cannot import: reported skipped, with why."""

    reason = ""

    def _getobj(self) -> Any:
        raise pytest.skip.Exception(self.reason, allow_module_level=True)


def pytest_pycollect_makemodule(
    module_path: Path, parent: pytest.Collector
) -> pytest.Module | None:
    needed = MODULES_NEEDING.get(module_path.name)
    if needed is None or needed.present:
        return None
    module = _SkippedModule.from_parent(parent, path=module_path)
    module.reason = needed.missing
    return module


@pytest.fixture(params=backend_params())
def backend(request: pytest.FixtureRequest) -> Backend:
    backend: Backend = request.param
    backend.module  # noqa: B018 (skips when unavailable)
    return backend


@pytest.fixture(params=backend_params(native=True))
def native_backend(request: pytest.FixtureRequest) -> Backend:
    """A backend of the C core."""
    backend: Backend = request.param
    backend.module  # noqa: B018 (skips when unavailable)
    return backend


@pytest.fixture(params=backend_params(kernel_polled=True))
def polled_backend(request: pytest.FixtureRequest) -> Backend:
    """A backend whose Context is polled: fileno, poll, process_events, flush."""
    backend: Backend = request.param
    backend.module  # noqa: B018 (skips when unavailable)
    return backend


@pytest.fixture
def selected(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> Iterator[Backend]:
    """A backend, made the one ``get_context()`` (asyncfile.open, asyncfile.os)
    serves the loop with; every context is closed before and after."""
    import asyncfile.core as core
    from asyncfile.contexts import close_contexts

    monkeypatch.setattr(
        core, "selection", dataclasses.replace(core.selection, name=backend.name)
    )
    close_contexts()
    yield backend
    close_contexts()


@pytest.fixture
def aio(backend: Backend) -> ModuleType:
    """The backend's asyncio adapter module."""
    return backend.asyncio_module


def _is_open(fd: int) -> bool:
    try:
        msvcrt.get_osfhandle(fd)
    except OSError:
        return False
    return True


def _open_fds() -> set[int]:
    if WINDOWS:  # no /proc: ask the C runtime about each low descriptor
        return {fd for fd in range(512) if _is_open(fd)}
    return {int(name) for name in os.listdir("/proc/self/fd")}


def _describe_fd(fd: int) -> str:
    try:
        return f"{fd} -> {os.readlink(f'/proc/self/fd/{fd}')}"
    except OSError:
        return str(fd)


@pytest.fixture(scope="session", autouse=True)
def _warm_up_process_wide_state() -> None:
    """Let libraries open their once-per-process descriptors before we count."""
    for new_loop in LOOP_FACTORIES.values():
        new_loop().close()
    # libffi built with static trampolines (Debian's, under 3.14) keeps its own
    # shared object open from ctypes' import on; some tests import ctypes.
    import ctypes  # noqa: F401


@pytest.fixture(autouse=True)
def no_leaks() -> Iterator[None]:
    """Fail a test that leaves a file descriptor or a thread behind."""
    threads_before = set(threading.enumerate())
    fds_before = _open_fds()
    yield
    deadline = time.monotonic() + 2.0
    while True:
        gc.collect()
        threads = [t for t in threading.enumerate() if t not in threads_before]
        fds = _open_fds() - fds_before
        if (not threads and not fds) or time.monotonic() > deadline:
            break
        time.sleep(0.01)
    assert not threads, f"threads left running: {threads}"
    assert not fds, "file descriptors left open: " + ", ".join(
        _describe_fd(fd) for fd in sorted(fds)
    )


@pytest.fixture
def closed_fd() -> int:
    """A descriptor number that is not open and that nothing will reuse soon.

    The kernel hands out the lowest free number, so a number far above every
    open one stays free while a test opens its contexts and files.
    """
    if WINDOWS:
        high = 4096
        while _is_open(high):
            high += 1
        return high
    with open(os.devnull, "rb") as devnull:
        high = fcntl.fcntl(devnull.fileno(), fcntl.F_DUPFD, 4096)
    os.close(high)
    return high


@pytest.fixture
def fd(tmp_path: Any) -> Iterator[int]:
    """A read-write descriptor on an empty file on the default file system."""
    descriptor = os.open(tmp_path / "data.bin", os.O_RDWR | os.O_CREAT, 0o600)
    yield descriptor
    os.close(descriptor)


@pytest.fixture
def acquisitions(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every time a file's lock is taken (re-entrantly too), the lock, in
    order: how a test sees whether a call ran the locked Python path or a
    fast path that needs no lock."""
    from asyncfile.io import _locks

    taken: list[_locks.TaskLock] = []
    try_acquire = _locks.TaskLock.try_acquire

    def counted(self: _locks.TaskLock) -> bool:
        acquired = try_acquire(self)
        if acquired:
            taken.append(self)
        return acquired

    monkeypatch.setattr(_locks.TaskLock, "try_acquire", counted)
    return taken


@pytest.fixture
def logger() -> Iterator[logging.Logger]:
    """A fresh logger that does not propagate; its handlers are closed after."""
    log = logging.getLogger(f"asyncfile-test-{id(object())}")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    yield log
    for handler in list(log.handlers):
        log.removeHandler(handler)
        handler.close()
