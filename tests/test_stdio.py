"""The standard streams, and files without offsets (pipes, FIFOs, sockets,
terminals): real child interpreters fed through a pipe, a terminal (a pty)
and a redirected file, and reads that wait for input without a thread."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import clean_env
from platforms import FIFO, PTY, WATCHED_STREAMS

import asyncfile

# -- in a child interpreter ---------------------------------------------------------

PROLOGUE = """
import asyncio, os, sys, threading, time
import asyncfile
"""


def child(code: str, **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", PROLOGUE + textwrap.dedent(code)],
        env=clean_env(**kwargs.pop("env", {})),
        **kwargs,
    )


ECHO = """
async def main():
    lag = 0.0
    async def heartbeat():
        nonlocal lag
        while True:
            before = time.monotonic()
            await asyncio.sleep(0.005)
            lag = max(lag, time.monotonic() - before - 0.005)
    beat = asyncio.ensure_future(heartbeat())
    async for line in asyncfile.stdin:
        await asyncfile.stdout.write(line.upper())
        if line == "flush\\n":
            await asyncfile.stdout.flush()
    await asyncfile.stdout.flush()  # the text layer's pending text first
    await asyncfile.stdout_bytes.write(b"bytes too\\n")  # written at exit
    beat.cancel()
    await asyncfile.stderr.write(f"{lag:.3f} {asyncfile.stdin.isatty()}\\n")
asyncio.run(main())
"""


def test_a_child_reads_its_stdin_pipe_line_by_line_and_writes_stdout() -> None:
    with child(
        ECHO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as process:
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write("héllo\nflush\n".encode())
        process.stdin.flush()
        # stdout is a pipe: block-buffered, but "flush" flushed it.
        assert process.stdout.readline() == "HÉLLO\n".encode()
        assert process.stdout.readline() == b"FLUSH\n"
        time.sleep(0.3)  # the child waits for input meanwhile; its loop runs
        process.stdin.write(b"last")  # no newline: the end of input ends it
        process.stdin.close()
        assert process.stdout.read() == b"LASTbytes too\n"  # flushed at exit
        assert process.wait(timeout=30) == 0
        assert process.stderr is not None
        lag, isatty = process.stderr.read().split()
    assert isatty == b"False"
    # Waiting for input never held the loop (generous: other work shares
    # these cores).
    assert float(lag) < 0.2


@PTY.mark
def test_a_child_on_a_terminal_is_line_buffered_and_reads_lines() -> None:
    # A terminal as a shell leaves it: canonical lines, echo, ^D for the end.
    controller, terminal = os.openpty()
    try:
        with child(
            ECHO, stdin=terminal, stdout=terminal, stderr=subprocess.PIPE
        ) as process:
            os.close(terminal)
            os.write(controller, b"first\n")
            # Line-buffered on a terminal, as sys.stdout: the reply comes
            # while the child waits for the next line.
            reply = _read_until(controller, b"FIRST")
            assert b"FIRST" in reply
            os.write(controller, b"second\n\x04")  # ^D: end of input
            assert b"SECOND" in _read_until(controller, b"bytes too")
            assert process.wait(timeout=30) == 0
            assert process.stderr is not None
            lag, isatty = process.stderr.read().split()
        assert isatty == b"True"
        assert float(lag) < 0.2
    finally:
        os.close(controller)


def _read_until(fd: int, wanted: bytes, timeout: float = 30) -> bytes:
    import select

    seen = b""
    deadline = time.monotonic() + timeout
    while wanted not in seen:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"{wanted!r} never came: {seen!r}"
        if select.select([fd], [], [], remaining)[0]:
            try:
                seen += os.read(fd, 1024)
            except OSError:  # the terminal's last user went away
                break
    return seen


def test_stdout_redirected_to_a_file_keeps_order_with_print_and_others(
    tmp_path: Path,
) -> None:
    """What asyncfile.stdout writes lands at the descriptor's offset, shared
    with print() in the child and with the parent after it."""
    path = tmp_path / "out.txt"
    code = """
    async def main():
        await asyncfile.stdout.write("from asyncfile\\n")
        await asyncfile.stdout.flush()
        print("from print", flush=True)
        await asyncfile.stdout.write("asyncfile again\\n")
        assert not asyncfile.stdout.seekable()
    asyncio.run(main())
    """
    with path.open("w") as out:
        out.write("before\n")
        out.flush()
        with child(code, stdout=out) as process:
            assert process.wait(timeout=30) == 0
        out.write("after\n")
    assert path.read_text() == (
        "before\nfrom asyncfile\nfrom print\nasyncfile again\nafter\n"
    )


def test_stdin_redirected_from_a_file_is_read_from_the_descriptors_offset(
    tmp_path: Path,
) -> None:
    path = tmp_path / "in.txt"
    path.write_bytes(b"skipped\nline 2\nline 3\n")
    code = """
    async def main():
        sys.stdout.write(repr(await asyncfile.stdin_bytes.read1(100)))
    os.lseek(0, 8, os.SEEK_SET)
    asyncio.run(main())
    """
    with path.open("rb") as source:
        output = subprocess.run(
            [sys.executable, "-c", PROLOGUE + textwrap.dedent(code)],
            stdin=source,
            env=clean_env(),
            capture_output=True,
            check=True,
            timeout=30,
        ).stdout
    assert output == repr(b"line 2\nline 3\n").encode()


def test_the_streams_follow_the_interpreters() -> None:
    code = """
    streams = [asyncfile.stdin, asyncfile.stdout, asyncfile.stderr]
    originals = [sys.__stdin__, sys.__stdout__, sys.__stderr__]
    for ours, theirs in zip(streams, originals):
        assert ours.encoding == theirs.encoding, (ours, theirs)
        assert ours.errors == theirs.errors, (ours, theirs)
        assert ours.line_buffering == theirs.line_buffering, (ours, theirs)
        assert ours.name == theirs.name and ours.mode == theirs.mode
        assert ours.fileno() == theirs.fileno()
        assert not ours.buffer.raw.closefd
    assert asyncfile.stdout_bytes is asyncfile.stdout.buffer
    assert asyncfile.stdin is asyncfile.stdin  # one per process
    async def use_from(loop_number):
        await asyncfile.stdout.write(f"loop {loop_number}\\n")
        await asyncfile.stdout.flush()
    asyncio.run(use_from(1))
    asyncio.run(use_from(2))
    async def close_it():
        await asyncfile.stdout.close()
    asyncio.run(close_it())
    print("sys.stdout still works", flush=True)
    """
    output = subprocess.run(
        [sys.executable, "-c", PROLOGUE + textwrap.dedent(code)],
        stdin=subprocess.PIPE,
        env=clean_env(PYTHONIOENCODING="latin-1:replace"),
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert output.stderr == b""
    assert output.stdout == b"loop 1\nloop 2\nsys.stdout still works\n"


def test_a_closed_descriptor_gives_none_as_sys_does() -> None:
    code = """
    os.close(0)
    assert asyncfile.stdin is None and asyncfile.stdin_bytes is None
    assert asyncfile.stdout is not None
    print("ok")
    """
    output = subprocess.run(
        [sys.executable, "-c", PROLOGUE + textwrap.dedent(code)],
        env=clean_env(),
        capture_output=True,
        check=False,
        timeout=30,
    )
    assert (output.stdout, output.stderr) == (b"ok\n", b"")


@WATCHED_STREAMS.mark
def test_a_cancelled_stdin_read_leaves_no_thread_and_the_child_exits() -> None:
    """A read that timed out must not leave a thread waiting for input: the
    interpreter would wait for it at exit, for ever on an idle terminal."""
    code = """
    async def main():
        try:
            await asyncio.wait_for(asyncfile.stdin.readline(), 0.2)
        except asyncio.TimeoutError:
            print("timed out", threading.active_count(), flush=True)
    asyncio.run(main())
    """
    with child(code, stdin=subprocess.PIPE, stdout=subprocess.PIPE) as process:
        try:
            assert process.wait(timeout=20) == 0  # the pipe's writer stays open
        finally:
            process.kill()
        assert process.stdout is not None
        assert process.stdout.read() == b"timed out 1\n"


# -- files without offsets, in this process -----------------------------------


@pytest.fixture(params=["pipe", "fifo", "socket", "terminal"])
def stream_pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """``(read end, write end)`` descriptors of each kind of stream."""
    kind = request.param
    if kind == "pipe":
        read_end, write_end = os.pipe()
    elif kind == "fifo":
        FIFO.require()
        path = tmp_path / "fifo"
        os.mkfifo(path)
        read_end = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        write_end = os.open(path, os.O_WRONLY)
        os.set_blocking(read_end, True)
    elif kind == "socket":
        left, right = socket.socketpair()
        read_end, write_end = left.detach(), right.detach()
    else:
        PTY.require()
        import tty

        write_end, read_end = os.openpty()
        tty.setraw(read_end)  # bytes as they come, not lines
    try:
        yield read_end, write_end
    finally:
        os.close(read_end)
        os.close(write_end)


@WATCHED_STREAMS.mark
@pytest.mark.every_loop
async def test_a_cancelled_read_takes_nothing_and_leaves_no_thread(
    stream_pair: tuple[int, int],
) -> None:
    read_end, write_end = stream_pair
    async with asyncfile.open(read_end, "rb", buffering=0, closefd=False) as f:
        threads = threading.active_count()
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(f.read(100), 0.1)
        assert threading.active_count() == threads  # no reader left behind
        os.write(write_end, b"after")
        # Nothing was read for the cancelled call: the next read has it all.
        assert await f.read(100) == b"after"  # a short read, as io's


@pytest.mark.every_loop
async def test_unseekable_files_fail_to_seek_as_io_does(
    stream_pair: tuple[int, int],
) -> None:
    read_end, _write_end = stream_pair
    reference = io.FileIO(read_end, "rb", closefd=False)
    async with asyncfile.open(read_end, "rb", buffering=0, closefd=False) as f:
        assert f.seekable() is reference.seekable() is False
        for call in ("tell()", "seek(0)", "seek(1, 1)"):
            with pytest.raises(OSError) as theirs:  # noqa: PT011 (the reference)
                eval(f"reference.{call}")
            with pytest.raises(OSError) as ours:  # noqa: PT011
                await _call(f, call)
            assert type(ours.value) is type(theirs.value)
            assert ours.value.errno == theirs.value.errno
    async with asyncfile.open(read_end, "rb", closefd=False) as buffered:
        with pytest.raises(io.UnsupportedOperation, match="not seekable"):
            await buffered.seek(0)
    reference.close()


async def _call(f: Any, call: str) -> Any:
    result = eval(f"f.{call}")
    return await result if asyncio.iscoroutine(result) else result


@WATCHED_STREAMS.mark
async def test_a_read_waiting_for_input_keeps_the_loop_turning(
    stream_pair: tuple[int, int],
) -> None:
    read_end, write_end = stream_pair
    async with asyncfile.open(read_end, "rb", buffering=0, closefd=False) as f:
        reading = asyncio.ensure_future(f.read(10))
        beats = 0
        while beats < 20:
            await asyncio.sleep(0.005)
            beats += 1
        assert not reading.done()
        os.write(write_end, b"0123456789abc")
        assert await reading == b"0123456789"  # no more than asked for
        # Writes write everything.
    async with asyncfile.open(write_end, "wb", buffering=0, closefd=False) as w:
        payload = os.urandom(256 * 1024)  # more than a pipe holds at once
        writer = asyncio.ensure_future(w.write(payload))
        received = b""
        async with asyncfile.open(read_end, "rb", buffering=0, closefd=False) as f:
            while len(received) < 3 + len(payload):
                received += await f.read(65536)
        assert await writer == len(payload)
        assert received == b"abc" + payload
