"""Files that are not plain files, and files that change while being read.

Each case runs one script against a built-in file object and against
asyncfile's, on every backend, and compares what every call returned or raised
(the exception's built-in class, errno and message) and, where there is one,
what the file holds.  Pipes, FIFOs and /proc on the default backend are in
tests/test_file_basic.py; here the backends vary and the kinds of file grow.
"""

from __future__ import annotations

import inspect
import io
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from iocompat import io_open
from platforms import DIRECTORY_FDS, LINUX, NATIVE_CRT_EOF

import asyncfile
from asyncfile import contexts

#: One step of a script: a method call (name, args) or an action on the world.
Step = tuple[str, tuple[Any, ...]]


def _builtin_class(exc: BaseException) -> str:
    return next(
        c.__name__ for c in type(exc).__mro__ if c.__module__ in ("builtins", "io")
    )


def _describe(exc: BaseException) -> tuple[Any, ...]:
    if isinstance(exc, OSError) and exc.errno:
        return ("error", _builtin_class(exc), exc.errno)
    return ("error", _builtin_class(exc), str(exc))


def _io_run(f: Any, steps: list[Step], act: Callable[[str, Any], None]) -> list:
    outcomes = []
    for name, args in steps:
        if name.startswith("!"):
            act(name, *args)
            continue
        try:
            outcomes.append(("ok", getattr(f, name)(*args)))
        except Exception as exc:
            outcomes.append(_describe(exc))
    return outcomes


async def _async_run(
    f: Any, steps: list[Step], act: Callable[[str, Any], None]
) -> list:
    outcomes = []
    for name, args in steps:
        if name.startswith("!"):
            act(name, *args)
            continue
        try:
            value = getattr(f, name)(*args)
            if inspect.isawaitable(value):
                value = await value
            outcomes.append(("ok", value))
        except Exception as exc:
            outcomes.append(_describe(exc))
    return outcomes


def _no_action(name: str, *args: Any) -> None:
    raise AssertionError(f"no action {name} here")


async def _compare(
    backend: Backend,
    open_args: Callable[[], tuple[Any, ...]],
    steps: list[Step],
    act: Callable[[str, Any], None] = _no_action,
    *,
    random: bool = False,
    **kwargs: Any,
) -> list:
    """Run ``steps`` on io.open(*open_args(), **kwargs) and on asyncfile.open
    with the same arguments; both runs must give the same outcomes (``random``:
    the same lengths of bytes)."""
    with io_open(*open_args(), **kwargs) as f:
        expected = _io_run(f, steps, act)
    context = contexts.get_context(backend.name)
    f = await asyncfile.open(*open_args(), **kwargs, context=context)
    try:
        actual = await _async_run(f, steps, act)
    finally:
        await f.close()
    if random:
        expected, actual = _lengths(expected), _lengths(actual)
    assert actual == expected
    return actual


def _lengths(outcomes: list) -> list:
    return [
        ("ok", "bytes", len(o[1])) if o[0] == "ok" and isinstance(o[1], bytes) else o
        for o in outcomes
    ]


# No tell() after a transfer: see test_tell_on_character_devices_is_the_kernels.
READ_STEPS: list[Step] = [
    ("seekable", ()), ("readable", ()), ("writable", ()), ("read", (10,)),
    ("read", (100_000,)), ("seek", (0,)), ("tell", ()), ("seek", (5, 1)),
    ("readline", (20,)), ("read1", (7,)), ("peek", (3,)), ("write", (b"x",)),
    ("truncate", (0,)),
]  # fmt: skip
WRITE_STEPS: list[Step] = [
    ("seekable", ()), ("readable", ()), ("write", (b"x" * 100_000,)),
    ("flush", ()), ("seek", (0,)), ("read", (1,)), ("write", (b"tail",)),
    ("truncate", (0,)), ("flush", ()),
]  # fmt: skip


@LINUX.mark
@pytest.mark.parametrize("buffering", [0, -1], ids=["raw", "buffered"])
@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null", "/dev/urandom"])
async def test_character_devices_read_as_with_io(
    backend: Backend, path: str, buffering: int
) -> None:
    steps = READ_STEPS
    if not buffering:  # FileIO has neither
        steps = [s for s in READ_STEPS if s[0] not in ("peek", "read1")]
    else:
        # A buffered seek answers from the kernel's offset, which a character
        # device leaves at 0 (io says -131072 after this read; see
        # test_tell_on_character_devices_is_the_kernels).
        steps = [s for s in READ_STEPS if s[0] not in ("seek", "tell")]
    random = path == "/dev/urandom"
    if random:  # where a line ends is random too
        steps = [s for s in steps if s[0] != "readline"]
    outcomes = await _compare(
        backend, lambda: (path, "rb", buffering), steps, random=random
    )
    if path == "/dev/zero":
        assert outcomes[4] == ("ok", bytes(100_000))
    if random:
        assert outcomes[4] == ("ok", "bytes", 100_000)


@LINUX.mark
@pytest.mark.xfail(
    strict=True,
    reason="file objects track the position in memory; lseek on /dev/zero "
    "always answers 0, so io's tell() says 0 after a read and ours counts",
)
async def test_tell_on_character_devices_is_the_kernels(backend: Backend) -> None:
    await _compare(
        backend, lambda: ("/dev/zero", "rb", 0), [("read", (10,)), ("tell", ())]
    )


@LINUX.mark
@pytest.mark.parametrize("buffering", [0, -1], ids=["raw", "buffered"])
@pytest.mark.parametrize("path", ["/dev/null", "/dev/zero"])
async def test_character_devices_write_as_with_io(
    backend: Backend, path: str, buffering: int
) -> None:
    await _compare(backend, lambda: (path, "r+b", buffering), WRITE_STEPS)
    await _compare(backend, lambda: (path, "wb", buffering), WRITE_STEPS)


SYS_FILES = [
    "/sys/kernel/mm/transparent_hugepage/enabled",
    "/sys/devices/system/cpu/online",
    "/sys/kernel/uevent_seqnum",
]
PROC_FILES = ["/proc/self/status", "/proc/self/maps", "/proc/meminfo"]


def _readable_file(paths: list[str]) -> str:
    for path in paths:
        try:
            with open(path, "rb") as f:
                if f.read(1):
                    return path
        except OSError:
            continue
    pytest.skip(f"none of {paths} is readable here")


@LINUX.mark
@pytest.mark.parametrize("kind", ["sys", "proc"])
@pytest.mark.parametrize(
    ("mode", "buffering"),
    [("rb", 0), ("rb", -1), ("r", -1)],
    ids=["raw", "buf", "text"],
)
async def test_proc_and_sys_files_read_as_with_io(
    backend: Backend, kind: str, mode: str, buffering: int
) -> None:
    """Their size says 0 (or 4096): reads must go on to the real end."""
    path = _readable_file(SYS_FILES if kind == "sys" else PROC_FILES)
    if "self" in path or "meminfo" in path:  # changes from one read to the next
        steps: list[Step] = [("seekable", ()), ("read", (1,)), ("tell", ())]
    else:
        steps = [
            ("read", (3,)), ("tell", ()), ("read", ()), ("read", ()),
            ("seek", (0,)), ("readline", ()), ("readlines", ()),
        ]  # fmt: skip
    encoding = None if "b" in mode else "latin-1"
    await _compare(backend, lambda: (path, mode, buffering), steps, encoding=encoding)


@LINUX.mark
async def test_proc_file_content_is_complete(backend: Backend) -> None:
    context = contexts.get_context(backend.name)
    async with asyncfile.open("/proc/self/maps", "rb", 0, context=context) as f:
        content = await f.read()
    assert content.endswith(b"\n")
    assert len(content) > 4096, "a /proc file larger than a page was cut short"
    assert b"[stack]" in content


@pytest.mark.parametrize("mode", ["rb", "r+b", "wb", "r"])
async def test_directories_fail_as_with_io(
    backend: Backend, tmp_path: Path, mode: str
) -> None:
    """By path (open fails) and by descriptor (the first read fails)."""

    def outcome(call: Callable[[], Any]) -> tuple[Any, ...]:
        try:
            call()
        except Exception as exc:
            return _describe(exc)
        return ("ok",)

    async def async_outcome(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
        try:
            f = await asyncfile.open(*args, **kwargs, context=context)
            await f.close()
        except Exception as exc:
            return _describe(exc)
        return ("ok",)

    context = contexts.get_context(backend.name)
    expected = outcome(lambda: open(tmp_path, mode).close())
    assert expected[0] == "error"
    assert await async_outcome(tmp_path, mode) == expected
    if not DIRECTORY_FDS.present:
        return  # nothing to open by descriptor
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        expected = outcome(lambda: open(fd, "rb", closefd=False).close())
        assert expected[0] == "error"
        assert await async_outcome(fd, "rb", closefd=False) == expected
    finally:
        os.close(fd)


@pytest.fixture
def socket_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    left, right = socket.socketpair()
    with left, right:
        yield left, right


@LINUX.mark
@pytest.mark.parametrize("buffering", [0, -1], ids=["raw", "buffered"])
async def test_sockets_work_as_with_io(
    backend: Backend, socket_pair: tuple[socket.socket, socket.socket], buffering: int
) -> None:
    left, right = socket_pair
    reads: list[Step] = [
        ("seekable", ()), ("tell", ()), ("seek", (0,)), ("!send", (b"hello\nworld",)),
        ("readline", ()), ("read", (5,)), ("!send", (b"more",)), ("read", (4,)),
        ("truncate", (0,)), ("write", (b"x",)),
    ]  # fmt: skip
    writes: list[Step] = [
        ("write", (b"to the peer",)), ("flush", ()), ("!receive", (11,)),
        ("seek", (0,)), ("read", (1,)),
    ]  # fmt: skip

    def act(name: str, argument: Any) -> None:
        if name == "!send":
            right.sendall(argument)
        else:
            assert right.recv(argument, socket.MSG_WAITALL) == b"to the peer"

    def on(mode: str) -> Callable[[], tuple[Any, ...]]:
        return lambda: (left.fileno(), mode, buffering)

    await _compare(backend, on("rb"), reads, act, closefd=False)
    await _compare(backend, on("wb"), writes, act, closefd=False)
    if buffering:  # BufferedRandom needs a seekable stream
        with pytest.raises(io.UnsupportedOperation, match="not seekable"):
            open(left.fileno(), "r+b", closefd=False)  # noqa: ASYNC230, SIM115
        with pytest.raises(io.UnsupportedOperation, match="not seekable"):
            await asyncfile.open(left.fileno(), "r+b", closefd=False)
    right.close()
    context = contexts.get_context(backend.name)
    async with asyncfile.open(
        left.fileno(), "rb", buffering, closefd=False, context=context
    ) as f:
        assert await f.read() == b""  # the peer closed: end of file


# -- files that change while being read --------------------------------------


@pytest.mark.parametrize(
    ("mode", "buffering"),
    [("rb", 0), ("rb", -1), ("rb", 64), ("r", -1)],
    ids=["raw", "buffered", "small-buffer", "text"],
)
async def test_a_file_truncated_or_grown_while_read_as_with_io(
    backend: Backend, tmp_path: Path, mode: str, buffering: int
) -> None:
    if buffering == 0:
        NATIVE_CRT_EOF.require()
    path = tmp_path / "changing.txt"
    steps: list[Step] = [
        ("read", (5,)), ("!truncate", (3,)), ("read", (5,)), ("tell", ()),
        ("read", ()), ("!append", (b"grown\nmore\n",)), ("read", (2,)),
        ("readline", ()), ("tell", ()), ("read", ()), ("!truncate", (0,)),
        ("read", ()), ("seek", (0,)), ("read", ()), ("!append", (b"again",)),
        ("read", ()), ("seek", (0, 2)), ("read", ()), ("tell", ()),
    ]  # fmt: skip

    def act(name: str, argument: Any) -> None:
        if name == "!truncate":
            os.truncate(path, argument)
        else:
            with open(path, "ab") as f:
                f.write(argument)

    def fresh() -> tuple[Any, ...]:
        path.write_bytes(b"".join(b"line %d\n" % i for i in range(2000)))
        return (path, mode, buffering)

    encoding = None if "b" in mode else "latin-1"
    outcomes = await _compare(backend, fresh, steps, act, encoding=encoding)
    assert any(o[0] == "ok" and o[1] in (b"again", "again") for o in outcomes)


async def test_a_file_growing_under_concurrent_readers(
    backend: Backend, tmp_path: Path
) -> None:
    """A reader that meets end of file while a writer appends sees each byte
    exactly once, in order (what tail -f does)."""
    path = tmp_path / "log"
    path.write_bytes(b"")
    context = contexts.get_context(backend.name)
    expected = b"".join(b"record %05d\n" % i for i in range(3000))
    async with (
        asyncfile.open(path, "ab", context=context) as writer,
        asyncfile.open(path, "rb", context=context) as reader,
    ):
        seen = bytearray()
        for start in range(0, len(expected), 997):
            await writer.write(expected[start : start + 997])
            await writer.flush()
            seen += await reader.read()
        seen += await reader.read()
    assert bytes(seen) == expected
