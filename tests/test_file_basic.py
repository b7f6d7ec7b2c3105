"""asyncfile.file against the built-in open(): the same calls on the same files
give the same results, the same exceptions and the same bytes on disk.

Most tests are differential: :func:`compare` runs one script of calls, written
as Python calls (``"read(3)"``), on an io file and on an asyncfile file opened
alike, and checks every outcome and the bytes on disk after every call.  The
rest pin what io cannot show: pipes, serialisation of concurrent calls, and
cancellation at random points.
"""

from __future__ import annotations

import ast
import asyncio
import builtins
import inspect
import io
import os
import random
import sys
from collections.abc import Callable
from contextlib import nullcontext, suppress
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from platforms import FIFO

from asyncfile import contexts
from asyncfile.file import (
    COROUTINES,
    BufferedRandom,
    BufferedReader,
    BufferedWriter,
    FileIO,
    TextIOWrapper,
)
from asyncfile.file import open as aopen

Op = tuple[str, tuple[Any, ...], dict[str, Any]]
Outcome = tuple[Any, ...]

TEXT = "ascii, é ß, € ≠, 𝄞 🎉 and some more\n" * 5 + "no newline at the end"
MIXED_NEWLINES = b"one\rtwo\nthree\r\nfour\r\r\nfive\n\rsix\r"
TEXT_READS = frozenset({"read", "readline", "readlines", "lines", "__next__"})


# -- the differential harness -------------------------------------------------


def script(*calls: str) -> list[Op]:
    """Calls written as Python (``"seek(0, 2)"``, ``"newlines"`` for an
    attribute, ``"lines()"`` for iterating) with literal arguments."""
    ops = []
    for call in calls:
        node = ast.parse(call, mode="eval").body
        if isinstance(node, ast.Name):
            ops.append((node.id, (), {"attribute": True}))
            continue
        assert isinstance(node, ast.Call), call
        assert isinstance(node.func, ast.Name), call
        args = tuple(ast.literal_eval(arg) for arg in node.args)
        kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords}
        ops.append((node.func.id, args, kwargs))
    return ops


def _error(exc: BaseException) -> Outcome:
    if isinstance(exc, AttributeError):  # io names its classes differently
        return ("error", AttributeError)
    return ("error", type(exc), str(exc))


def _call_io(file: Any, op: Op) -> Outcome:
    name, args, kwargs = op
    try:
        if kwargs.get("attribute"):
            return ("ok", getattr(file, name))
        if name in ("readinto", "readinto1", "preadinto"):
            buffer = bytearray(args[0])
            return ("ok", getattr(file, name)(buffer, *args[1:]), bytes(buffer))
        if name == "lines":
            return ("ok", list(file))
        return ("ok", getattr(file, name)(*args, **kwargs))
    except Exception as exc:
        return _error(exc)


async def _call_async(file: Any, op: Op) -> Outcome:
    name, args, kwargs = op
    try:
        if kwargs.get("attribute"):
            return ("ok", getattr(file, name))
        if name in ("readinto", "readinto1", "preadinto"):
            buffer = bytearray(args[0])
            count = await getattr(file, name)(buffer, *args[1:])
            return ("ok", count, bytes(buffer))
        if name == "lines":
            return ("ok", [line async for line in file])
        if name == "__next__":
            try:
                return ("ok", await file.__anext__())
            except StopAsyncIteration:
                return ("error", StopIteration, "")
        result = getattr(file, name)(*args, **kwargs)
        return ("ok", await result if inspect.isawaitable(result) else result)
    except Exception as exc:
        return _error(exc)


def _io_open(path: Any, *args: Any, **kwargs: Any) -> Any:
    return builtins.open(path, *args, **kwargs)


def _without_old_read1_bug(ops: list[Op], mode: str) -> list[Op]:
    """Before 3.13, io's BufferedRandom.read1 read past pending writes without
    flushing them, and text reads use read1; asyncfile does what 3.13 does.
    There, flush before such reads."""
    if sys.version_info >= (3, 13) or "+" not in mode:
        return ops
    reads = {"read1"} if "b" in mode else TEXT_READS
    flush: Op = ("flush", (), {})
    return [step for op in ops for step in ([flush, op] if op[0] in reads else [op])]


async def compare(
    tmp_path: Path,
    ops: list[Op],
    mode: str = "r",
    content: bytes | None = b"",
    chunk_size: int | None = None,
    **kwargs: Any,
) -> list[Outcome]:
    """Run ``ops`` on io and asyncfile files opened with ``mode`` and
    ``kwargs`` over ``content`` (None: no file), comparing every outcome and
    the bytes on disk after every call.  Returns io's outcomes."""
    paths = tmp_path / "io", tmp_path / "af"
    for path in paths:
        _prepare(path, content)
    expected = _io_open(paths[0], mode, **kwargs)
    actual = await aopen(paths[1], mode, **kwargs)
    outcomes = []
    try:
        if chunk_size is not None:
            expected._CHUNK_SIZE = actual._CHUNK_SIZE = chunk_size
        for index, op in enumerate(_without_old_read1_bug(ops, mode)):
            outcome = _call_io(expected, op)
            assert await _call_async(actual, op) == outcome, (index, op)
            if op[0] == "tell" and outcome[0] == "ok" and "b" not in mode:
                await actual.flush()  # io's text tell() flushes; ours counts
            assert paths[1].read_bytes() == paths[0].read_bytes(), (index, op)
            outcomes.append(outcome)
    finally:
        expected.close()
        await actual.close()
    assert paths[1].read_bytes() == paths[0].read_bytes()
    return outcomes


def _prepare(path: Path, content: bytes | None) -> None:
    if content is None:
        path.unlink(missing_ok=True)
    else:
        path.write_bytes(content)


def _open_error(exc: Exception, path: Any) -> Outcome:
    message = str(exc).replace(repr(str(path)), "PATH")
    return (type(exc), message, getattr(exc, "filename", None) == str(path))


def _open_outcome(path: Any, *args: Any, **kwargs: Any) -> Outcome:
    try:
        _io_open(path, *args, **kwargs).close()
    except Exception as exc:
        return _open_error(exc, path)
    return ("ok",)


async def _aopen_outcome(path: Any, *args: Any, **kwargs: Any) -> Outcome:
    try:
        await (await aopen(path, *args, **kwargs)).close()
    except Exception as exc:
        return _open_error(exc, path)
    return ("ok",)


def random_binary_ops(rng: random.Random, count: int) -> list[Op]:
    def call() -> str:
        size = rng.choice([0, 1, 2, 5, 9, 17, 40, 100])
        return rng.choice(
            [
                f"read({rng.choice([size, -1, None])})",
                f"read1({rng.choice([size, -1])})",
                f"peek({size})",
                f"readline({rng.choice([size, -1])})",
                f"readinto({size})",
                f"readinto1({size})",
                f"write({bytes(rng.randrange(256) for _ in range(size))!r})",
                f"write({bytes(rng.randrange(256) for _ in range(size))!r})",
                f"seek({rng.randrange(-5, 60)}, {rng.choice([0, 1, 2])})",
                f"truncate({rng.choice([None, rng.randrange(80)])})",
                "flush()",
                f"readlines({rng.choice([-1, 3, 10])})",
                "tell()",
            ]
        )

    return script(*(call() for _ in range(count)))


def random_text_ops(rng: random.Random, count: int, writes: bool) -> list[str]:
    pieces = ["a", "é", "€", "𝄞", "\n", "\r", "\r\n", "line\n", "xyz"]

    def call() -> str:
        calls = [
            f"read({rng.choice([0, 1, 2, 3, 7, 20, -1])})",
            f"readline({rng.choice([-1, 0, 1, 4, 9])})",
            "tell()",
            f"seek(0, {rng.choice([0, 1, 2])})",
            "cookie",  # seek to a cookie told earlier
        ]
        if writes:
            text = "".join(rng.choices(pieces, k=rng.randrange(6)))
            calls += [f"write({text!r})"] * 2
        return rng.choice(calls)

    return [call() for _ in range(count)]


def _learn_cookie(path: Path, content: bytes, ops: list[Op], **kwargs: Any) -> Any:
    """The outcome of the last of ``ops`` on a fresh io file."""
    path.write_bytes(content)
    chunk_size = kwargs.pop("chunk_size", None)
    with _io_open(path, **kwargs) as file:
        if chunk_size is not None:
            file._CHUNK_SIZE = chunk_size
        return [_call_io(file, op) for op in ops][-1]


async def compare_text(
    tmp_path: Path, calls: list[str], mode: str, content: bytes, **kwargs: Any
) -> None:
    """:func:`compare`, where ``"cookie"`` seeks to a random earlier
    ``tell()`` result (learnt by running the script so far on io)."""
    rng = random.Random(len(calls))
    cookies = [0]
    ops: list[Op] = []
    for call in calls:
        if call == "cookie":
            ops += script(f"seek({rng.choice(cookies)})")
            continue
        ops += script(call)
        if call == "tell()":
            outcome = _learn_cookie(
                tmp_path / "learn", content, ops, mode=mode, **kwargs
            )
            if outcome[0] == "ok":
                cookies.append(outcome[1])
    await compare(tmp_path, ops, mode, content, **kwargs)


# -- the API table, modes and attributes --------------------------------------


@pytest.mark.parametrize(
    ("io_class", "af_class"),
    [
        (io.FileIO, FileIO),
        (io.BufferedReader, BufferedReader),
        (io.BufferedWriter, BufferedWriter),
        (io.BufferedRandom, BufferedRandom),
        (io.TextIOWrapper, TextIOWrapper),
    ],
)
def test_io_names_are_coroutines_or_plain_as_the_table_says(
    io_class: type, af_class: type
) -> None:
    for name in dir(io_class):
        if not name.startswith("_") or name == "_CHUNK_SIZE":
            assert hasattr(af_class, name), name
            is_coroutine = inspect.iscoroutinefunction(getattr(af_class, name))
            assert is_coroutine == (name in COROUTINES), name
    for name in ("pread", "preadinto", "pwrite", "stat", "fsync", "datasync"):
        assert inspect.iscoroutinefunction(getattr(af_class, name)), name
    assert inspect.isasyncgenfunction(af_class.iter_chunked)
    assert hasattr(io_class, "peek") == hasattr(af_class, "peek")


MODES = [m + t for m in ("r", "w", "a", "x", "r+", "w+", "a+", "x+") for t in "bt"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("exists", [True, False])
async def test_every_mode(tmp_path: Path, mode: str, exists: bool) -> None:
    payload = "héllo\nwörld\n" if "t" in mode else b"hello\nworld\n"
    ops = script(
        "mode", "readable()", "writable()", "seekable()", "tell()", "read()",
        f"write({payload!r})", "tell()", "seek(0)", "read()", "tell()",
    )  # fmt: skip
    content = b"existing\n" if exists else None
    kwargs = {} if "b" in mode else {"encoding": "utf-8"}
    for path in (tmp_path / "io", tmp_path / "af"):
        _prepare(path, content)
    expected = _open_outcome(tmp_path / "io", mode, **kwargs)
    assert await _aopen_outcome(tmp_path / "af", mode, **kwargs) == expected
    if expected == ("ok",):
        await compare(tmp_path, ops, mode, content, **kwargs)


@pytest.mark.parametrize("buffering", [-1, 0, 1, 3, 16])
@pytest.mark.parametrize("mode", ["rb", "wb", "ab", "r+b", "w+b", "a+b"])
async def test_binary_scripts(tmp_path: Path, buffering: int, mode: str) -> None:
    rng = random.Random(f"{mode}{buffering}")
    content = bytes(range(40)) + b"\nline two\nthree\n" + bytes(range(200, 230))
    for _ in range(3):
        ops = random_binary_ops(rng, 40)
        with pytest.warns(RuntimeWarning) if buffering == 1 else nullcontext():
            await compare(tmp_path, ops, mode, content, buffering=buffering)


@pytest.mark.parametrize("buffering", [-1, 1, 2, 5])
@pytest.mark.parametrize("mode", ["r", "r+", "w+", "a+"])
@pytest.mark.parametrize("chunk_size", [1, 3, 8192])
async def test_text_scripts_split_characters_across_chunks(
    tmp_path: Path, buffering: int, mode: str, chunk_size: int
) -> None:
    rng = random.Random(f"{mode}{buffering}{chunk_size}")
    for _ in range(2):
        calls = random_text_ops(rng, 30, writes="+" in mode)
        await compare_text(
            tmp_path, calls, mode, TEXT.encode(),
            buffering=buffering, encoding="utf-8", chunk_size=chunk_size,
        )  # fmt: skip


def _io_facts(path: Path, *args: Any, **kwargs: Any) -> list[Any]:
    with _io_open(path, *args, **kwargs) as file:
        facts = [repr(file), file.name, file.mode, file.isatty()]
    return [*facts, repr(file)]


async def test_repr_and_attributes_match_io(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x")
    for args in [("rb", 0), ("rb",), ("ab",), ("r+b",), ("r+",), ("w",)]:
        kwargs = {} if "b" in args[0] else {"encoding": "utf-8"}
        expected = [
            fact.replace("_io.", "asyncfile.") if isinstance(fact, str) else fact
            for fact in _io_facts(path, *args, **kwargs)
        ]
        async with aopen(path, *args, **kwargs) as file:
            facts = [repr(file), file.name, file.mode, file.isatty()]
        assert [*facts, repr(file)] == expected
    async with aopen(path, "r+", encoding="utf-8") as text:
        assert isinstance(text.buffer, BufferedRandom)
        assert isinstance(text.buffer.raw, FileIO)
        assert (text.errors, text.line_buffering, text.write_through) == (
            "strict", False, False,
        )  # fmt: skip


async def test_both_async_with_forms(tmp_path: Path) -> None:
    path = tmp_path / "f"
    async with await aopen(path, "w", encoding="utf-8") as f:
        await f.write("one\n")
    assert f.closed
    async with aopen(path, "a", encoding="utf-8") as g:
        await g.write("two\n")
    assert g.closed
    assert path.read_text() == "one\ntwo\n"


# -- text: encodings, errors, newlines, cookies -------------------------------


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-32", "utf-16-le", "utf-8-sig", "latin-1", "cp1252"]
)
async def test_encodings_and_boms(tmp_path: Path, encoding: str) -> None:
    text = "plain and é ü ß\n" * 3 + ("€ ‰\n" if encoding != "latin-1" else "")
    content = text.encode(encoding)
    rng = random.Random(encoding)
    for mode in ("r", "r+"):
        calls = random_text_ops(rng, 30, writes=mode == "r+")
        await compare_text(
            tmp_path, calls, mode, content, encoding=encoding, chunk_size=5
        )
    # A BOM only at the start of the file, again after seek(0), not when appending.
    ops = script("write('ab')", "seek(0)", "write('c')", "seek(0, 2)", "write('d')")
    await compare(tmp_path, ops, "w", encoding=encoding)
    await compare(
        tmp_path, script("write('e')", "tell()"), "a", content, encoding=encoding
    )


@pytest.mark.parametrize(
    "errors",
    [None, "strict", "ignore", "replace", "surrogateescape", "backslashreplace"],
)
async def test_errors_handlers(tmp_path: Path, errors: str | None) -> None:
    bad = b"ok \x81 \xff done\n\xe9t\xe9\n"
    reads = script("readline()", "read(3)", "tell()", "read()", "read()")
    await compare(tmp_path, reads, "r", bad, encoding="utf-8", errors=errors)
    await compare(
        tmp_path, script("read()"), "r", bad, encoding="cp1252", errors=errors
    )
    writes = script("write('ascii')", "write('é€\\udcff')", "flush()")
    await compare(tmp_path, writes, "w", encoding="latin-1", errors=errors)


@pytest.mark.parametrize("newline", [None, "", "\n", "\r", "\r\n"])
@pytest.mark.parametrize("chunk_size", [1, 2, 8192])
async def test_newlines(tmp_path: Path, newline: str | None, chunk_size: int) -> None:
    reads = script(*["readline()", "tell()", "newlines"] * 9)
    await compare(
        tmp_path, reads, "r", MIXED_NEWLINES,
        chunk_size=chunk_size, encoding="ascii", newline=newline,
    )  # fmt: skip
    lines = script("lines()", "lines()")
    await compare(tmp_path, lines, "r", MIXED_NEWLINES, newline=newline)
    writes = script("write('a\\nb\\r\\nc\\rd')", "tell()", "writelines(['e\\n', 'f'])")
    await compare(tmp_path, writes, "w", encoding="ascii", newline=newline)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "iso2022_jp", "gb18030"])
async def test_tell_cookies_and_seek_back(tmp_path: Path, encoding: str) -> None:
    content = ("日本語のテキスト, mixed with ASCII\r\nand 改行\n" * 4).encode(encoding)
    for chunk_size in (1, 4, 13):
        calls = []
        for size in (1, 2, 3, 5, 1, 8, 2, 30, 1):
            calls += [f"read({size})", "tell()", "cookie", "read(3)"]
        await compare_text(
            tmp_path, calls, "r", content, encoding=encoding, chunk_size=chunk_size
        )


async def test_tell_is_disabled_while_iterating(tmp_path: Path) -> None:
    ops = script("readline()", "__next__()", "tell()", "flush()", "tell()")
    await compare(tmp_path, ops, "r", b"a\nb\nc\n", encoding="utf-8")
    path = tmp_path / "f"
    path.write_bytes(b"a\nb\nc\n")
    async with aopen(path, encoding="utf-8") as f:
        async for _ in f:
            with pytest.raises(OSError, match="telling position disabled"):
                f.tell()
        assert f.tell() == 6  # the end re-enables it
        await f.seek(0)
        assert await f.readlines(1) == ["a\n"]  # stops early: still disabled
        with pytest.raises(OSError, match="telling position disabled"):
            f.tell()


async def test_reconfigure(tmp_path: Path) -> None:
    reads = script(
        "reconfigure(encoding='latin-1', newline='')", "read(2)",
        "reconfigure(encoding='utf-8')", "reconfigure(line_buffering=True)",
        "line_buffering", "readline()", "encoding", "newlines", "read()",
        "reconfigure(encoding=5)", "reconfigure(newline='x')",
    )  # fmt: skip
    await compare(tmp_path, reads, "r", "é\r\nx\ny\rz".encode(), encoding="utf-8")
    writes = script(
        "write('é\\n')", "reconfigure(encoding='utf-16')", "write('x\\n')",
        "reconfigure(errors='replace', encoding='ascii')", "write('é')", "errors",
        "reconfigure(newline='\\r\\n')", "write('a\\nb')",
        "reconfigure(write_through=True)", "write('c')", "write_through",
    )  # fmt: skip
    await compare(tmp_path, writes, "w", encoding="utf-8")


def _io_after_detach(path: Path, mode: str, ops: list[Op], **kwargs: Any) -> Any:
    file = _io_open(path, mode, **kwargs)
    file.write("pending" if "b" not in mode else b"pending")
    detached = file.detach()
    outcomes = [_call_io(file, op) for op in ops]
    detached.close()
    return type(detached).__name__, outcomes, path.read_bytes()


@pytest.mark.parametrize(
    ("mode", "kwargs"), [("r+b", {}), ("w", {"encoding": "utf-8"})]
)
async def test_detach_flushes_and_disables(
    tmp_path: Path, mode: str, kwargs: dict[str, Any]
) -> None:
    ops = script(
        "read()", "write(b'x')", "write('x')", "tell()", "seek(0)", "flush()",
        "closed", "name", "fileno()", "readable()", "close()",
    )  # fmt: skip
    for path in (tmp_path / "io", tmp_path / "af"):
        path.write_bytes(b"0123456789")
    expected = _io_after_detach(tmp_path / "io", mode, ops, **kwargs)
    file = await aopen(tmp_path / "af", mode, **kwargs)
    await file.write("pending" if "b" not in mode else b"pending")
    detached = await file.detach()
    outcomes = [await _call_async(file, op) for op in ops]
    await detached.close()
    actual = type(detached).__name__, outcomes, (tmp_path / "af").read_bytes()
    assert actual == expected


# -- binary specifics ---------------------------------------------------------


async def test_read1_peek_readline_readlines(tmp_path: Path) -> None:
    content = b"first line\nsecond\n\nfourth is longer than the buffer\nend"
    ops = script(
        "peek()", "read1(3)", "peek(100)", "readline(4)", "readline()", "read1()",
        "readlines(5)", "readline(0)", "readlines()", "read1(5)", "peek()",
    )  # fmt: skip
    for mode in ("rb", "r+b"):
        await compare(tmp_path, ops, mode, content, buffering=8)
    text = script("readline(3)", "readlines(12)", "readlines()")
    await compare(tmp_path, text, "r", content, encoding="ascii")


async def test_truncate_and_append_positions(tmp_path: Path) -> None:
    ops = script(
        "tell()", "write(b'abc')", "tell()", "seek(2)", "tell()", "write(b'de')",
        "tell()", "truncate(4)", "tell()", "truncate()", "seek(0)", "read()",
        "truncate(30)", "seek(0, 2)",
    )  # fmt: skip
    for mode in ("ab", "a+b", "r+b", "wb"):
        await compare(tmp_path, ops, mode, b"0123456789", buffering=4)
    text = script("write('é')", "tell()", "seek(0)", "read()", "truncate()")
    await compare(tmp_path, text, "a+", b"0123456789", encoding="utf-8")


async def test_buffered_random_read1_flushes_pending_writes(tmp_path: Path) -> None:
    """io before 3.13 returned stale bytes here and misplaced the write."""
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    async with aopen(path, "r+b") as f:
        await f.write(b"ab")
        assert await f.read1(2) == b"23"
        assert f.tell() == 4
    assert path.read_bytes() == b"ab23456789"


# -- errors -------------------------------------------------------------------

CLOSED = script(
    "close()", "closed", "read()", "read(1)", "read1()", "peek()", "readline()",
    "readlines()", "readinto(1)", "readinto1(1)", "write(b'x')", "write('x')",
    "writelines([b'x'])", "seek(0)", "tell()", "truncate()", "flush()", "fileno()",
    "isatty()", "readable()", "writable()", "seekable()", "__next__()", "detach()",
    "close()",
)  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "buffering"),
    [("rb", 0), ("wb", 0), ("rb", -1), ("wb", -1), ("r+b", -1), ("r", -1), ("w", -1)],
)
async def test_operations_on_closed_files(
    tmp_path: Path, mode: str, buffering: int
) -> None:
    kwargs = {} if "b" in mode else {"encoding": "utf-8"}
    await compare(tmp_path, CLOSED, mode, b"data", buffering=buffering, **kwargs)


HUGE = 2**200
WRONG_USE = script(
    "read(-2)", "read(1.5)", "read('x')", f"read({HUGE})", "read1(1.5)",
    f"read1({HUGE})", "peek(1.5)", "readline(1.5)", "readlines('x')", "readinto(0)",
    "seek(0, 7)", "seek(1.5)", "seek(-1)", "seek(1, 1)", "seek(1, 2)", f"seek({HUGE})",
    f"seek(0, {2**40})", "write('str')", "write(b'bytes')", "write(5)",
    "writelines([b'a', 'b'])", "truncate(-1)", "truncate(1.5)", f"truncate({HUGE})",
)  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "buffering"),
    [(m, -1) for m in ("rb", "wb", "ab", "r+b", "r", "w", "a", "r+")]
    + [(m, 0) for m in ("rb", "wb", "ab", "r+b")],
)
async def test_wrong_arguments_and_modes(
    tmp_path: Path, mode: str, buffering: int
) -> None:
    kwargs = {} if "b" in mode else {"encoding": "utf-8"}
    await compare(
        tmp_path, WRONG_USE, mode, b"0123456789", buffering=buffering, **kwargs
    )


BAD_OPEN_ARGUMENTS: list[dict[str, Any]] = [
    {"mode": m} for m in (1, "rw", "rr", "q", "rtb", "b", "t+", "", "U", "r+U")
] + [
    {"buffering": "1"}, {"buffering": 0}, {"buffering": 0, "mode": "w"},
    {"mode": "rb", "encoding": "utf-8"}, {"mode": "rb", "errors": "strict"},
    {"mode": "rb", "newline": ""}, {"encoding": 5}, {"errors": 5}, {"newline": 5},
    {"newline": "x"}, {"mode": "w", "newline": "x"}, {"encoding": "bogus"},
    {"mode": "w", "encoding": "rot13"}, {"closefd": False}, {"closefd": "x"},
    {"opener": lambda path, flags: "x"},
]  # fmt: skip


@pytest.mark.parametrize("kwargs", BAD_OPEN_ARGUMENTS, ids=repr)
async def test_bad_open_arguments(tmp_path: Path, kwargs: dict[str, Any]) -> None:
    """Same exception and message; a file io created or truncated before it
    failed is created or truncated here too."""
    for path in (tmp_path / "io", tmp_path / "af"):
        path.write_bytes(b"x")
    expected = _open_outcome(tmp_path / "io", **kwargs)
    assert await _aopen_outcome(tmp_path / "af", **kwargs) == expected
    assert (tmp_path / "af").read_bytes() == (tmp_path / "io").read_bytes()


@pytest.mark.parametrize("file", [3.5, None, [1], -1], ids=repr)
async def test_bad_files(file: Any) -> None:
    expected = _open_outcome(file)
    assert expected != ("ok",)
    assert await _aopen_outcome(file) == expected


@pytest.mark.parametrize(
    ("name", "mode"),
    [("missing", "r"), ("missing", "r+b"), ("dir", "r"), ("dir", "wb"), ("file", "x")],
)
async def test_os_errors_carry_the_path(tmp_path: Path, name: str, mode: str) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_bytes(b"")
    expected = _open_outcome(tmp_path / name, mode)
    assert issubclass(expected[0], OSError)
    assert expected[2]  # .filename is the path
    assert await _aopen_outcome(tmp_path / name, mode) == expected


async def test_line_buffering_in_binary_mode_warns_at_the_caller(
    tmp_path: Path,
) -> None:
    (tmp_path / "f").write_bytes(b"")
    with pytest.warns(RuntimeWarning, match="line buffering") as record:
        opener = aopen(tmp_path / "f", "rb", 1)
    assert record[0].filename == __file__
    f = await opener
    assert isinstance(f, BufferedReader)
    await f.close()


def test_unclosed_file_warns_writes_and_releases_its_descriptor(
    tmp_path: Path,
) -> None:
    """As io's: the pending text is written, the descriptor closed (the
    no_leaks fixture checks); tests/test_file_collection.py has the rest."""

    async def leak() -> TextIOWrapper:
        f = await aopen(tmp_path / "f", "w", encoding="utf-8")
        await f.write("kept")
        return f

    f = asyncio.run(leak())
    description = repr(f)
    with pytest.warns(ResourceWarning) as record:
        del f
    assert [str(w.message) for w in record] == [f"unclosed file {description}"]
    assert (tmp_path / "f").read_bytes() == b"kept"


# -- pipes, FIFOs and /proc ---------------------------------------------------

PIPE_SCRIPT = [
    ("writer", "write('no BOM on a pipe\\n')"), ("writer", "seekable()"),
    ("writer", "tell()"), ("writer", "seek(0)"), ("writer", "truncate()"),
    ("writer", "flush()"), ("reader", "seekable()"), ("reader", "tell()"),
    ("reader", "seek(0, 1)"), ("reader", "truncate()"), ("reader", "peek(1)"),
    ("reader", "read1(4)"), ("reader", "readline()"), ("writer", "close()"),
    ("reader", "read()"), ("reader", "close()"),
]  # fmt: skip


def _io_pipe_outcomes() -> list[Outcome]:
    read_fd, write_fd = os.pipe()
    files = {
        "reader": _io_open(read_fd, "rb"),
        "writer": _io_open(write_fd, "w", encoding="utf-16"),
    }
    return [_call_io(files[which], *script(call)) for which, call in PIPE_SCRIPT]


async def test_pipes() -> None:
    expected = _io_pipe_outcomes()
    read_fd, write_fd = os.pipe()
    files = {
        "reader": await aopen(read_fd, "rb"),
        "writer": await aopen(write_fd, "w", encoding="utf-16"),
    }
    outcomes = [
        await _call_async(files[which], *script(call)) for which, call in PIPE_SCRIPT
    ]
    assert outcomes == expected
    read_fd, write_fd = os.pipe()
    os.close(write_fd)
    with pytest.raises(io.UnsupportedOperation, match="not seekable"):
        await aopen(read_fd, "r+b")  # and read_fd is closed, as io closes it


@FIFO.mark
async def test_fifo_by_path(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    # Opening either end waits for the other, on a worker thread.
    reader, writer = await asyncio.gather(aopen(fifo, "rb"), aopen(fifo, "wb"))
    async with reader, writer:
        assert not reader.seekable()
        assert not writer.seekable()
        await writer.write(b"through the fifo\n")
        await writer.flush()
        assert await reader.readline() == b"through the fifo\n"
        with pytest.raises(io.UnsupportedOperation, match="not seekable"):
            await reader.seek(0)
    with pytest.raises(io.UnsupportedOperation, match="not seekable"):
        await aopen(fifo, "r+b")


def _io_read(path: str) -> tuple[bytes, list[str]]:
    with _io_open(path, "rb") as binary, _io_open(path, encoding="latin-1") as text:
        return binary.read(), list(text)


@pytest.mark.parametrize(
    "path", ["/proc/version", "/proc/self/cmdline", "/proc/filesystems"]
)
async def test_proc_files_read_to_the_end(path: str) -> None:
    """/proc files report a size of 0: reads go on to the real end."""
    content, lines = _io_read(path)
    assert content
    for buffering in (0, -1):
        async with aopen(path, "rb", buffering) as f:
            assert await f.read() == content
    async with aopen(path, encoding="latin-1") as text:
        assert [line async for line in text] == lines


# -- iteration, chunks, positional I/O ----------------------------------------


@pytest.mark.parametrize(
    ("mode", "kwargs"),
    [("rb", {}), ("rb", {"buffering": 0}), ("r", {"encoding": "utf-8"})],
)
async def test_async_for_and_iter_chunked(
    tmp_path: Path, mode: str, kwargs: dict[str, Any]
) -> None:
    content = TEXT.encode()
    ops = script("readline()", "lines()", "lines()")
    await compare(tmp_path, ops, mode, content, **kwargs)
    async with aopen(tmp_path / "af", mode, **kwargs) as f:
        chunks = [chunk async for chunk in f.iter_chunked(7)]
        assert all(0 < len(chunk) <= 7 for chunk in chunks)
        joined = b"".join(chunks) if "b" in mode else "".join(chunks).encode()
        assert joined == content
        with pytest.raises(ValueError, match="positive"):
            await f.iter_chunked(0).__anext__()


@pytest.mark.parametrize("buffering", [0, 4, -1])
async def test_positional_io_leaves_the_position_alone(
    tmp_path: Path, buffering: int
) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"0123456789")
    async with aopen(path, "r+b", buffering) as f:
        assert await f.read(2) == b"01"
        await f.write(b"ab")  # pending in the buffer
        assert await f.pread(6, 0) == b"01ab45"  # flushed first
        assert f.tell() == 4
        assert await f.pwrite(b"XY", 4) == 2
        buffer = bytearray(3)
        assert await f.preadinto(buffer, 3) == 3
        assert buffer == b"bXY"
        assert await f.read(3) == b"XY6"  # not stale read-ahead
        assert f.tell() == 7
        assert (await f.stat()).st_size == 10
        await f.fsync()
        await f.datasync()
    assert path.read_bytes() == b"01abXY6789"


async def test_positional_io_on_text_works_on_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f"
    async with aopen(path, "w+", encoding="utf-8") as f:
        await f.write("01é")  # pending text
        assert await f.pread(4, 0) == "01é".encode()
        assert f.tell() == 4
        assert await f.pwrite(b"!", 0) == 1
        assert (await f.stat()).st_size == 4
        await f.write("z")
        assert f.tell() == 5
    assert path.read_bytes() == "!1éz".encode()


# -- concurrency and cancellation ---------------------------------------------


def _record(task: int, n: int) -> bytes:
    body = bytes([97 + task]) * ((task * 37 + n * 11) % 150)
    return b"<%d:%d:" % (task, n) + body


async def test_concurrent_calls_never_interleave(
    tmp_path: Path, backend: Backend
) -> None:
    context = contexts.get_context(backend.name)
    path = tmp_path / "f"
    async with aopen(path, "wb", buffering=64, context=context) as f:

        async def writer(task: int) -> None:
            for n in range(12):
                await f.write(_record(task, n) + b">\n")

        await asyncio.gather(*(writer(task) for task in range(8)))
    lines = path.read_bytes().splitlines(keepends=True)
    expected = [_record(t, n) + b">\n" for t in range(8) for n in range(12)]
    assert sorted(lines) == sorted(expected)
    async with aopen(path, "rb", buffering=32, context=context) as g:
        read: list[bytes] = []

        async def reader() -> None:
            while line := await g.readline():
                read.append(line)

        await asyncio.gather(*(reader() for _ in range(5)))
    assert sorted(read) == sorted(expected)


async def _write_until_cancelled(
    f: Any, kind: str, rng: random.Random, reported: list[Any], current: list[Any]
) -> None:
    for n in range(1000):
        size = rng.choice([1, 7, 50, 400, 9000])
        data = (
            f"[{n}:" + "é" * size + "]" if kind == "text" else bytes([n % 256]) * size
        )
        current[:] = [data]
        await f.write(data)
        reported.append(data)


async def _cancel_after_a_while(task: asyncio.Task[Any], turns: int) -> None:
    for _ in range(turns):
        await asyncio.sleep(0)
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task


@pytest.mark.parametrize("kind", ["binary", "text"])
async def test_cancelled_writes_leave_whole_reported_data(
    tmp_path: Path, backend: Backend, kind: str
) -> None:
    context = contexts.get_context(backend.name)
    rng = random.Random(f"{backend.name}{kind}")
    mode, kwargs = ("wb", {}) if kind == "binary" else ("w", {"encoding": "utf-8"})
    for attempt in range(12):
        path = tmp_path / f"f{attempt}"
        buffering = rng.choice([8, 64, 300])
        f = await aopen(path, mode, buffering, context=context, **kwargs)
        reported: list[Any] = []
        current: list[Any] = []
        task = asyncio.create_task(
            _write_until_cancelled(f, kind, rng, reported, current)
        )
        await _cancel_after_a_while(task, rng.randrange(1, 60))
        await f.close()
        if kind == "text":
            expected = [
                "".join(reported).encode(),
                "".join(reported + current).encode(),
            ]
        else:
            expected = [b"".join(reported), b"".join(reported + current)]
        assert path.read_bytes() in expected, attempt


async def _read_until_cancelled(
    f: Any, kind: str, rng: random.Random, got: list[Any]
) -> None:
    while True:
        size = rng.choice([1, 5, 100, 3000])
        how = rng.choice(["read", "readline", "read1", "readinto", "readline(n)"])
        if how == "read" or (kind == "text" and how in ("read1", "readinto")):
            chunk = await f.read(size)
        elif how == "readline":
            chunk = await f.readline()
        elif how == "readline(n)":
            chunk = await f.readline(size)
        elif how == "read1":
            chunk = await f.read1(size)
        else:
            buffer = bytearray(size)
            chunk = bytes(buffer[: await f.readinto(buffer)])
        if not chunk:
            return
        got.append(chunk)


@pytest.mark.parametrize("kind", ["binary", "text"])
async def test_cancelled_reads_lose_nothing(
    tmp_path: Path, backend: Backend, kind: str
) -> None:
    context = contexts.get_context(backend.name)
    rng = random.Random(f"{backend.name}{kind}read")
    content = (TEXT * 40).encode()
    path = tmp_path / "f"
    path.write_bytes(content)
    mode, kwargs = ("rb", {}) if kind == "binary" else ("r", {"encoding": "utf-8"})
    join: Callable[[list[Any]], bytes] = (
        b"".join if kind == "binary" else lambda parts: "".join(parts).encode()
    )
    for _ in range(12):
        buffering = rng.choice([16, 100, 4096])
        f = await aopen(path, mode, buffering, context=context, **kwargs)
        if kind == "text":
            f._CHUNK_SIZE = rng.choice([16, 100, 8192])  # several chunks a call
        got: list[Any] = []
        task = asyncio.create_task(_read_until_cancelled(f, kind, rng, got))
        await _cancel_after_a_while(task, rng.randrange(1, 40))
        if kind == "binary":
            assert f.tell() == len(join(got))
        got.append(await f.read())  # the rest
        await f.close()
        assert join(got) == content
