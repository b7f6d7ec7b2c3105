"""One answer to "does this context serve the running loop, here?", one fork
counter, one loop-close hook: the properties the layers above rely on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest
from backends import Backend, clean_env
from platforms import FORK, LOOP_FACTORIES

from asyncfile import aiofile, contexts


def _in_another_thread(function: Callable[[], Any]) -> Any:
    answers: list[Any] = []
    thread = threading.Thread(target=lambda: answers.append(function()))
    thread.start()
    thread.join()
    return answers[0]


def _on_a_loop_of_its_own(function: Callable[[], Any]) -> Any:
    async def call() -> Any:
        return function()

    return _in_another_thread(lambda: asyncio.run(call()))


@pytest.mark.every_loop
async def test_the_predicate_refuses_another_threads_call(aio: ModuleType) -> None:
    context = aio.AsyncioContext()
    try:
        assert context.serves_running_loop()
        assert not _in_another_thread(context.serves_running_loop)
        assert not _on_a_loop_of_its_own(context.serves_running_loop)
        assert context.serves_running_loop()
    finally:
        context.close()


@pytest.mark.every_loop
async def test_a_native_read_from_another_thread_is_not_started_there(
    native_backend: Backend, tmp_path: Any
) -> None:
    path = tmp_path / "data"
    path.write_bytes(b"x" * 4096)
    fd = os.open(path, os.O_RDONLY)
    context = native_backend.asyncio_module.AsyncioContext()
    try:
        assert await context.read(4096, fd, 0) == b"x" * 4096
        native = context._native
        assert native.serves_running_loop()
        # Neither the C entry points nor the inline read take another thread's
        # call for the loop's: read_cached declines, read defers until awaited.
        assert _in_another_thread(lambda: native.read_cached(4096, fd, 0)) is None
        assert not _in_another_thread(native.serves_running_loop)
        deferred = _in_another_thread(lambda: context.read(4096, fd, 0))
        assert asyncio.iscoroutine(deferred)
        deferred.close()
    finally:
        context.close()
        os.close(fd)


@pytest.mark.every_loop
async def test_the_predicate_refuses_a_closed_context(aio: ModuleType) -> None:
    context = aio.AsyncioContext()
    assert context.serves_running_loop()
    context.close()
    assert not context.serves_running_loop()
    if hasattr(context, "_native"):
        assert not context._native.serves_running_loop()


def test_the_predicate_refuses_outside_the_loop(aio: ModuleType) -> None:
    for name, new_loop in LOOP_FACTORIES.items():
        loop = new_loop()
        try:
            context = aio.AsyncioContext(loop=loop)
            assert not context.serves_running_loop(), name  # bound, not running
            assert loop.run_until_complete(_serves(context)), name
            assert not context.serves_running_loop(), name
            context.close()
        finally:
            loop.close()


async def _serves(context: Any) -> bool:
    return bool(context.serves_running_loop())


def _run_script(script: str, **variables: str) -> str:
    process = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=clean_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    return process.stdout.strip()


@FORK.mark
@pytest.mark.parametrize("loop_name", list(LOOP_FACTORIES))
def test_the_predicate_refuses_a_forked_childs_call(
    backend: Backend, loop_name: str
) -> None:
    """In the child the parent's context (and its loop object) are copies:
    it never serves, even where the child's thread state still names the
    parent's running loop; a context the child makes serves the child's."""
    script = f"""
        import asyncio, os, sys
        from platforms import LOOP_FACTORIES
        from asyncfile.core import {backend.module_name}_asyncio as aio

        def child(parent, parent_loop):
            answers = [parent.serves_running_loop()]
            if hasattr(parent, "_native"):
                answers.append(parent._native.serves_running_loop())
                # Made here, bound to the parent's loop object (which this
                # thread's state may still name as running): not served.
                fresh = type(parent._native)()
                fresh.bind(parent_loop)
                answers.append(fresh.serves_running_loop())
                fresh.close()
            async def own():
                context = aio.AsyncioContext()
                try:
                    return context.serves_running_loop()
                finally:
                    context.close()
            loop = LOOP_FACTORIES[sys.argv[1]]()
            answers.append(not loop.run_until_complete(own()))
            loop.close()
            return answers

        async def main():
            parent = aio.AsyncioContext()
            assert parent.serves_running_loop()
            parent_loop = asyncio.get_running_loop()
            pid = os.fork()
            if pid == 0:
                refused = False
                try:
                    refused = not any(child(parent, parent_loop))
                finally:
                    os._exit(0 if refused else 1)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0, "the child was served"
            assert parent.serves_running_loop()
            parent.close()

        loop = LOOP_FACTORIES[sys.argv[1]]()
        loop.run_until_complete(main())
        loop.close()
        print("ok")
    """
    process = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), loop_name],
        env=clean_env(PYTHONPATH=os.pathsep.join(sys.path)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stdout.strip() == "ok"


@FORK.mark
def test_a_fork_is_seen_by_c_and_python_through_one_counter() -> None:
    """Python's layers read the core's counter, so a fork that Python's
    os.register_at_fork never hears of (a C library's fork()) counts too."""
    pytest.importorskip("asyncfile.core._aio", reason="the C core is not built")
    out = _run_script(
        """
        import ctypes, os
        from asyncfile.core import _aio, forks

        assert forks.generation is _aio.fork_generation
        before = forks.generation()
        read_end, write_end = os.pipe()
        # PyDLL keeps the GIL across the call: the child wakes up holding it.
        fork = ctypes.PyDLL(None).fork
        pid = fork()
        if pid == 0:
            os.write(write_end, str(forks.generation()).encode())
            os._exit(0)
        os.close(write_end)
        child = int(os.read(read_end, 64))
        os.waitpid(pid, 0)
        pid = os.fork()
        if pid == 0:
            os._exit(0 if forks.generation() == before + 1 else 1)
        _, status = os.waitpid(pid, 0)
        print(before, child, forks.generation(), os.waitstatus_to_exitcode(status))
        """
    )
    before, child, parent_after, python_fork_status = map(int, out.split())
    assert child == before + 1
    assert parent_after == before
    assert python_fork_status == 0


def test_the_pure_python_counter_counts_os_fork_children() -> None:
    """Without the C core, forks.generation() is the twin that counts
    os.fork() children itself."""
    out = _run_script(
        """
        import os, sys
        sys.modules["asyncfile.core._aio"] = None  # as where nothing was compiled
        from asyncfile.core import forks

        before = forks.generation()
        if not hasattr(os, "fork"):
            print(before, before + 1)
            raise SystemExit
        pid = os.fork()
        if pid == 0:
            os._exit(10 + forks.generation())
        _, status = os.waitpid(pid, 0)
        print(before, os.waitstatus_to_exitcode(status) - 10)
        """,
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    before, child = map(int, out.split())
    assert (before, child) == (0, 1)


def test_aiofile_create_context_closes_through_the_contexts_hook() -> None:
    """aiofile's create_context() and the shared contexts share one wrapper
    of loop.close(), and both are closed before the loop."""
    for name, new_loop in LOOP_FACTORIES.items():
        loop = new_loop()
        asyncio.set_event_loop(loop)
        try:
            created = aiofile.create_context()
            shared = loop.run_until_complete(_get_context())
            callbacks = loop.close._asyncfile_on_close  # type: ignore[attr-defined]
            assert len(callbacks) == 2, name
            loop.close()
            assert created.closed, name
            assert shared.closed, name
            assert id(loop) not in aiofile.DEFAULT_CONTEXT_STORE, name
        finally:
            asyncio.set_event_loop(None)
            loop.close()


async def _get_context() -> Any:
    return contexts.get_context()


def test_loop_close_hook_runs_each_callback_once_in_order() -> None:
    seen: list[str] = []
    loop = asyncio.new_event_loop()

    def first(closing: asyncio.AbstractEventLoop) -> None:
        assert closing is loop
        assert not loop.is_closed()
        seen.append("first")

    def second(closing: asyncio.AbstractEventLoop) -> None:
        seen.append("second")

    contexts.on_loop_close(loop, first)
    contexts.on_loop_close(loop, second)
    contexts.on_loop_close(loop, first)

    async def close_while_running() -> None:
        with pytest.raises(RuntimeError):
            loop.close()

    loop.run_until_complete(close_while_running())
    assert seen == []  # close() refused: nothing was closed under the loop
    loop.close()
    assert seen == ["first", "second"]
    assert loop.is_closed()
