"""The backends the tests run against: one declared capability table.

Each row says what a backend is expected to offer; ``available`` is what this
machine offers, so a missing backend is skipped with the reason asyncfile.core gives.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import pytest

import asyncfile.core as core


@dataclass(frozen=True)
class Backend:
    name: str  # CAIO_IMPL's name
    module_name: str  # asyncfile.core's module
    kernel_polled: bool  # the Context has fileno/poll/process_events/flush
    thread_pool: bool  # operations run on worker threads (pool_size applies)
    native: bool  # the C core: request slots, buffers allocated up front

    @property
    def module(self) -> ModuleType:
        module = getattr(core, self.module_name)
        if module is None:
            pytest.skip(
                f"{self.name} is unavailable here: {core.unavailable[self.name]}"
            )
        assert isinstance(module, ModuleType)
        return module

    @property
    def asyncio_module(self) -> ModuleType:
        self.module  # noqa: B018 (skips when unavailable)
        module = getattr(core, self.module_name + "_asyncio")
        assert isinstance(module, ModuleType)
        return module


BACKENDS = (
    Backend("uring", "linux_uring", kernel_polled=True, thread_pool=False, native=True),
    Backend("linux", "linux_aio", kernel_polled=True, thread_pool=False, native=True),
    Backend("thread", "thread_aio", kernel_polled=False, thread_pool=True, native=True),
    Backend(
        "python", "python_aio", kernel_polled=False, thread_pool=True, native=False
    ),
)


#: scripts/fs-matrix runs the suite once per backend with CAIO_IMPL forced and
#: names it here too: a test parametrized over the backends then runs only that
#: one (the others have runs of their own).
ONLY_BACKEND = os.environ.get("ASYNCFILE_ONLY_BACKEND")


def backend_params(**capabilities: bool) -> list[object]:
    """The backends as pytest parameters, those with the given capabilities."""
    return [
        pytest.param(
            backend,
            id=backend.name,
            marks=[]
            if ONLY_BACKEND in (None, backend.name)
            else [pytest.mark.skip(reason=f"the matrix runs {ONLY_BACKEND} only")],
        )
        for backend in BACKENDS
        if all(getattr(backend, key) == value for key, value in capabilities.items())
    ]


def run_to_completion(context: Any, *operations: Any, timeout: float = 10.0) -> None:
    """Submit ``operations`` on a raw Context and wait until every one completes."""
    remaining = len(operations)
    lock = threading.Lock()
    done = threading.Event()

    def on_complete(result: int) -> None:
        nonlocal remaining
        with lock:
            remaining -= 1
            if remaining == 0:
                done.set()

    for operation in operations:
        operation.set_callback(on_complete)
    assert context.submit(*operations) == len(operations)
    polled = hasattr(context, "process_events")
    deadline = time.monotonic() + timeout
    while not done.wait(0.001 if polled else timeout):
        assert time.monotonic() < deadline, f"{remaining} operations never completed"
        if polled:
            context.process_events()


#: What a child interpreter must inherit for the native core to load as built:
#: the sanitizer runtimes (scripts/sanitize) and their options.
INHERITED_ENV = ("PATH", "LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS", "PYTHONMALLOC")


def clean_env(**variables: str) -> dict[str, str]:
    """An environment for a child interpreter: only what the build needs, plus
    ``variables`` (nothing else of ours, such as CAIO_IMPL, leaks in)."""
    inherited = {name: os.environ[name] for name in INHERITED_ENV if name in os.environ}
    return {**inherited, **variables}
