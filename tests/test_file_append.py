"""Append mode keeps the ``O_APPEND`` contract when another writer appends.

The same script of calls runs against the built-in ``open()`` and against
asyncfile on twin files, on every backend, with a foreign writer (another
descriptor, or another process) appending between calls.  Every call must
return what io returns, ``tell()`` must agree after every step, and the bytes
on disk must be identical: what this file writes lands at the end of the
file, never at an offset remembered from before the other writer's bytes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import random
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from iocompat import io_open
from platforms import ATOMIC_APPEND

from asyncfile import contexts
from asyncfile.file import open as aopen

Step = tuple[str, Any]

#: Text modes are checked with steps that ask tell() only where nothing
#: is pending (see file.py: io's text tell() flushes, this one does not).
BINARY_MODES = ["ab", "ab+"]
TEXT_MODES = ["a", "a+"]


def _outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return ("ok", call())
    except Exception as exc:
        return ("raised", type(exc))


def _script(rng: random.Random, text: bool, updating: bool) -> list[Step]:
    steps: list[Step] = []
    for n in range(rng.randrange(4, 14)):
        kind = rng.choice(
            ["write", "write", "flush", "foreign", "foreign", "tell"]
            + (["read_all"] if updating else [])
        )
        if kind == "write":
            size = rng.choice([1, 5, 30, 200])
            if text:
                steps.append(("write", f"<{n}:" + "é" * size + ">"))
            else:
                steps.append(("write", bytes([65 + n % 26]) * size))
        elif kind == "foreign":
            steps.append(("foreign", b"[%d:%s]" % (n, b"f" * rng.randrange(1, 50))))
        else:
            steps.append((kind, None))
    return steps


class ForeignWriter:
    """Appends through a descriptor of its own, as another writer would."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND)

    def append(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close(self) -> None:
        os.close(self.fd)


async def _run_twins(
    tmp_path: Path,
    backend: Backend,
    mode: str,
    buffering: int,
    steps: list[Step],
    foreign: Callable[[Path], Any] = ForeignWriter,
) -> None:
    context = contexts.get_context(backend.name)
    text = "b" not in mode
    kwargs: dict[str, Any] = {"encoding": "utf-8"} if text else {}
    theirs_path, ours_path = tmp_path / "theirs", tmp_path / "ours"
    for path in (theirs_path, ours_path):
        path.write_bytes(b"start\n")
    theirs = io_open(theirs_path, mode, buffering, **kwargs)
    ours = await aopen(ours_path, mode, buffering, context=context, **kwargs)
    their_writer, our_writer = foreign(theirs_path), foreign(ours_path)
    try:
        for number, (kind, argument) in enumerate(steps):
            where = f"step {number} {kind} of {steps}"
            if kind == "foreign":
                their_writer.append(argument)
                our_writer.append(argument)
                continue
            if kind == "write":
                expected = _outcome(functools.partial(theirs.write, argument))
                got = await _call(ours.write, argument)
            elif kind == "flush":
                expected = _outcome(theirs.flush)
                got = await _call(ours.flush)
            elif kind == "read_all":
                theirs.seek(0)
                await ours.seek(0)
                expected = _outcome(theirs.read)
                got = await _call(ours.read)
            else:
                expected, got = ("ok", None), ("ok", None)
            assert got == expected, where
            assert _outcome(ours.tell) == _outcome(theirs.tell), where
        theirs.close()
        await ours.close()
    finally:
        their_writer.close()
        our_writer.close()
        theirs.close()
        await ours.close()
    assert ours_path.read_bytes() == theirs_path.read_bytes()


async def _call(method: Callable[..., Any], *args: Any) -> tuple[str, Any]:
    try:
        return ("ok", await method(*args))
    except Exception as exc:
        return ("raised", type(exc))


@pytest.mark.parametrize("mode", BINARY_MODES + TEXT_MODES)
@pytest.mark.parametrize("buffering", [0, 1, 16, -1])
@pytest.mark.filterwarnings("ignore:line buffering:RuntimeWarning")
async def test_append_lands_at_the_end_after_a_foreign_append(
    tmp_path: Path, backend: Backend, mode: str, buffering: int
) -> None:
    if buffering == 0 and "b" not in mode:
        pytest.skip("text files are always buffered")
    rng = random.Random(f"{mode}{buffering}{backend.name}")
    for attempt in range(12):
        steps = _script(rng, "b" not in mode, "+" in mode)
        directory = tmp_path / str(attempt)
        directory.mkdir()
        await _run_twins(directory, backend, mode, buffering, steps)


class ForeignProcess:
    """Appends from another process, one line of its standard input at a time."""

    CHILD = (
        "import os, sys\n"
        "fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)\n"
        "for line in sys.stdin:\n"
        "    os.write(fd, bytes.fromhex(line))\n"
        "    print('ok', flush=True)\n"
    )

    def __init__(self, path: Path) -> None:
        self.child = subprocess.Popen(
            [sys.executable, "-c", self.CHILD, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def append(self, data: bytes) -> None:
        assert self.child.stdin is not None
        assert self.child.stdout is not None
        self.child.stdin.write(data.hex() + "\n")
        self.child.stdin.flush()
        assert self.child.stdout.readline() == "ok\n"

    def close(self) -> None:
        assert self.child.stdin is not None
        assert self.child.stdout is not None
        self.child.stdin.close()
        assert self.child.wait(timeout=30) == 0
        self.child.stdout.close()


@pytest.mark.parametrize("mode", ["ab", "a+"])
async def test_append_lands_at_the_end_after_another_process_appends(
    tmp_path: Path, backend: Backend, mode: str
) -> None:
    text = "b" not in mode
    write = "<é>" if text else b"<mine>"
    steps: list[Step] = [
        ("write", write),
        ("foreign", b"[theirs 1]"),
        ("flush", None),
        ("write", write),
        ("tell", None),
        ("foreign", b"[theirs 2]"),
        ("write", write),
        ("flush", None),
        ("foreign", b"[theirs 3]"),
        ("tell", None),
        ("write", write),
    ]
    await _run_twins(tmp_path, backend, mode, -1, steps, foreign=ForeignProcess)


@contextlib.contextmanager
def _another_writer_appending(path: Path) -> Iterator[None]:
    """A thread appending b"." to ``path`` without pause meanwhile."""
    stop = threading.Event()

    def hammer() -> None:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        try:
            while not stop.is_set():
                os.write(fd, b".")
        finally:
            os.close(fd)

    other = threading.Thread(target=hammer)
    other.start()
    try:
        yield
    finally:
        stop.set()
        other.join()


@ATOMIC_APPEND.mark
async def test_append_tell_is_the_end_of_its_own_bytes_while_another_writer_appends(
    tmp_path: Path, backend: Backend
) -> None:
    """The position after an append comes from the kernel's offset after the
    write, not from the file's size a moment later (which counts what another
    writer appended meanwhile)."""
    context = contexts.get_context(backend.name)
    path = tmp_path / "f"
    path.write_bytes(b"")
    ends = []
    with _another_writer_appending(path):
        async with aopen(path, "ab", buffering=0, context=context) as f:
            for _ in range(300):
                await f.write(b"<mine>")
                ends.append(f.tell())
    data = path.read_bytes()
    assert data.count(b"<mine>") == 300
    assert [data[end - 6 : end] for end in ends] == [b"<mine>"] * 300


@ATOMIC_APPEND.mark
@pytest.mark.parametrize("how", ["tell", "seek"])
async def test_append_text_position_is_the_end_of_its_own_text_while_another_appends(
    tmp_path: Path, backend: Backend, how: str
) -> None:
    """tell() and seek(0, SEEK_CUR) write the pending text first, as io's do,
    so the cookie is where it landed."""
    context = contexts.get_context(backend.name)
    path = tmp_path / "f"
    path.write_bytes(b"")
    ends = []
    with _another_writer_appending(path):
        async with aopen(path, "a", encoding="utf-8", context=context) as f:
            for _ in range(200):
                await f.write("<mine>")
                if how == "tell":
                    ends.append(f.tell())
                else:
                    ends.append(await f.seek(0, os.SEEK_CUR))
    data = path.read_bytes()
    assert data.count(b"<mine>") == 200
    assert [data[end - 6 : end] for end in ends] == [b"<mine>"] * 200


def test_tell_in_append_update_mode_keeps_the_read_ahead(tmp_path: Path) -> None:
    """tell() in append mode writes what is pending; with nothing pending it
    must leave the buffer's read-ahead alone (dropping it moved the position
    past bytes not yet returned).  UTF-7 makes seek() feed a whole chunk
    through the buffer, which reads ahead past it."""
    path = tmp_path / "f"
    path.write_text("é" * 3000 + "x" * 200000, encoding="utf-7")

    def io_run() -> tuple[int, bool, int]:
        with open(path, "a+", encoding="utf-7") as f:
            f.seek(0)
            f.read(3)
            cookie = f.tell()
            f.seek(cookie)
            return cookie, f.tell() == cookie, len(f.read())

    async def asyncfile_run() -> tuple[int, bool, int]:
        async with aopen(path, "a+", encoding="utf-7") as f:
            await f.seek(0)
            await f.read(3)
            cookie = f.tell()
            await f.seek(cookie)
            return cookie, f.tell() == cookie, len(await f.read())

    expected = io_run()
    assert expected[1:] == (True, 202997)
    assert asyncio.run(asyncfile_run()) == expected


@pytest.mark.parametrize("buffering", [0, -1])
async def test_empty_append_write_leaves_the_position_where_a_read_put_it(
    tmp_path: Path, backend: Backend, buffering: int
) -> None:
    # write(2) of nothing leaves the descriptor's offset alone; asyncfile took
    # the descriptor's offset as the position, which its positional reads
    # had never moved.
    path = tmp_path / "f"
    path.write_bytes(b"")
    with io_open(path, "ab+", buffering=buffering) as f:
        f.truncate(1)
        io_steps = (f.read(1), f.write(b""), f.tell())
    assert io_steps == (b"\0", 0, 1)
    path.write_bytes(b"")
    context = contexts.get_context(backend.name)
    async with aopen(path, "ab+", buffering=buffering, context=context) as g:
        await g.truncate(1)
        steps = (await g.read(1), await g.write(b""), g.tell())
    assert steps == io_steps


async def test_empty_append_write_after_a_seek_moves_as_ios_does(
    tmp_path: Path, backend: Backend
) -> None:
    # io's write of nothing still asks the C runtime to write, and Windows'
    # moves an append-mode descriptor to the end first: there io's tell()
    # after seek(0) and write(b"") says 1, and asyncfile's said 0.
    path = tmp_path / "f"
    path.write_bytes(b"\0")
    with io_open(path, "ab", buffering=0) as f:
        f.seek(0)
        io_steps = (f.write(b""), f.tell())
    context = contexts.get_context(backend.name)
    async with aopen(path, "ab", buffering=0, context=context) as g:
        await g.seek(0)
        steps = (await g.write(b""), g.tell())
    assert steps == io_steps
    assert path.read_bytes() == b"\0"
