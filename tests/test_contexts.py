"""asyncfile.contexts: one context per running loop, closed with its loop."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading

import pytest
from backends import clean_env
from platforms import FORK, LOOP_FACTORIES, PROC

import asyncfile.core as core
from asyncfile import contexts
from asyncfile.core import _positional
from asyncfile.core.asyncio_base import AsyncioContextBase


def _descriptors() -> set[int]:
    return {int(name) for name in os.listdir("/proc/self/fd")}


def test_no_context_outside_a_running_loop() -> None:
    with pytest.raises(contexts.AsyncioRequiredError, match="no running event loop"):
        contexts.get_context()


@pytest.mark.every_loop
async def test_one_context_per_loop_and_backend(fd: int) -> None:
    first = contexts.get_context()
    assert contexts.get_context() is first
    assert await first.write(b"shared", fd, 0) == 6
    python = contexts.get_context("python")
    assert python is not first or core.selection.name == "python"
    assert await python.read(6, fd, 0) == b"shared"


@PROC.mark
def test_closing_the_loop_closes_its_contexts() -> None:
    before = _descriptors()
    for new_loop in LOOP_FACTORIES.values():
        loop = new_loop()
        context = loop.run_until_complete(_get())
        assert not context.closed
        loop.close()
        assert context.closed
    assert _descriptors() == before


async def _get(backend: str | None = None) -> AsyncioContextBase:
    return contexts.get_context(backend)


async def test_closing_a_running_loop_leaves_its_contexts_alone(fd: int) -> None:
    context = contexts.get_context()
    with pytest.raises(RuntimeError, match="running event loop"):
        asyncio.get_running_loop().close()
    assert not context.closed
    assert await context.write(b"still", fd, 0) == 5


def test_unknown_or_missing_backends_are_refused() -> None:
    async def ask(name: str) -> None:
        contexts.get_context(name)

    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        asyncio.run(ask("nope"))
    for name, why in core.unavailable.items():
        with pytest.raises(ValueError, match="unavailable"):
            asyncio.run(ask(name))
        assert why


@PROC.mark
@pytest.mark.parametrize("backend", ["default", *core.BACKENDS])
def test_a_thousand_short_lived_loops_leak_nothing(backend: str, fd: int) -> None:
    if backend in core.unavailable:
        pytest.skip(f"{backend} is unavailable here: {core.unavailable[backend]}")
    name = None if backend == "default" else backend
    before_fds = _descriptors()
    before_threads = threading.active_count()

    async def use(index: int) -> bytes:
        context = contexts.get_context(name)
        await context.write(index.to_bytes(4, "big"), fd, 0)
        return await context.read(4, fd, 0)

    # Each loop's context holds an eventfd (and a ring or an AIO context):
    # a leak would run out of fs.aio-max-nr or descriptors long before this.
    for index in range(1000):
        assert asyncio.run(use(index)) == index.to_bytes(4, "big")
    assert _descriptors() == before_fds
    # The native pools stop with their context; python_aio's idle workers linger.
    assert threading.active_count() <= before_threads + (8 if name == "python" else 0)


def test_loops_in_several_threads_get_their_own_context(fd: int) -> None:
    seen: list[object] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        async def use() -> None:
            context = contexts.get_context()
            seen.append(context)
            await context.write(b"t", fd, index)

        try:
            asyncio.run(use())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({id(context) for context in seen}) == 8
    assert all(context.closed for context in seen)  # type: ignore[attr-defined]
    assert _positional.pread(fd, 8, 0) == b"t" * 8


@FORK.mark
def test_a_forked_child_gets_a_context_of_its_own(tmp_path: object) -> None:
    script = textwrap.dedent(
        """
        import asyncio, os
        from asyncfile import contexts

        async def main():
            parent = contexts.get_context()
            await parent.write(b"parent", w_fd, 0)
            pid = os.fork()
            if pid == 0:
                async def child():
                    context = contexts.get_context()
                    data = await context.read(6, w_fd, 0)
                    ok = context is not parent and data == b"parent"
                    os._exit(0 if ok else 1)
                asyncio.run(child())
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert await parent.read(6, w_fd, 0) == b"parent"

        w_fd = os.open(os.environ["DATA"], os.O_RDWR | os.O_CREAT)
        asyncio.run(main())
        print("ok")
        """
    )
    process = subprocess.run(
        [sys.executable, "-c", script],
        env=clean_env(DATA=str(tmp_path) + "/data.bin"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert process.stdout.strip() == "ok"


def test_the_remembered_context_never_serves_another_loop(fd: int) -> None:
    """get_context() asks the context it returned last first: alternating
    loops (and backends) each still get their own, and a closed loop's
    context is not kept alive by being the last one returned."""

    async def context_of(backend: str | None = None) -> AsyncioContextBase:
        return contexts.get_context(backend)

    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        seen = [
            first.run_until_complete(context_of()),
            second.run_until_complete(context_of()),
            first.run_until_complete(context_of()),
            first.run_until_complete(context_of("python")),
            first.run_until_complete(context_of()),
        ]
    finally:
        second.close()
    try:
        assert seen[0] is seen[2] is seen[4]
        assert seen[1] is not seen[0]
        assert seen[1].closed  # closed with its loop
        assert seen[3] is not seen[0] or core.selection.name == "python"
    finally:
        first.close()
    assert contexts._last is None or not contexts._last[1].closed


@pytest.mark.every_loop
async def test_running_loop_or_none_is_asyncios() -> None:
    assert contexts.running_loop_or_none() is asyncio.get_running_loop()
    in_thread: list[object] = []
    thread = threading.Thread(
        target=lambda: in_thread.append(contexts.running_loop_or_none())
    )
    thread.start()
    thread.join()
    assert in_thread == [None]


def test_running_loop_or_none_outside_a_loop() -> None:
    assert contexts.running_loop_or_none() is None


@FORK.mark
def test_a_forked_child_sees_no_running_loop_of_its_parent() -> None:
    """Forked inside a running loop, the child runs no loop: it sees None, as
    asyncio's own lookup says (which compares pids)."""

    async def fork_and_ask() -> int:  # the child's pid
        pid = os.fork()
        if pid == 0:
            answers = (contexts.running_loop_or_none(), asyncio._get_running_loop())
            os._exit(0 if answers == (None, None) else 1)
        return pid

    child = asyncio.run(fork_and_ask())
    _, status = os.waitpid(child, 0)
    assert status == 0
