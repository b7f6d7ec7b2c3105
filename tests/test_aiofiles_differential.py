"""asyncfile.aiofiles against aiofiles 25.1 itself: the same calls on the
same files give the same values, the same exceptions (type and message),
the same coroutine-or-plain shape, and the same bytes on disk."""

from __future__ import annotations

import importlib
import inspect
import io
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from asyncfile import aiofiles as dropin

aiofiles = pytest.importorskip(
    "aiofiles", reason="aiofiles (the test extra) is not installed"
)
for _submodule in ("os", "tempfile", "threadpool.binary", "threadpool.text"):
    importlib.import_module(f"aiofiles.{_submodule}")

Program = Callable[[ModuleType, Path], Awaitable[list[Any]]]

CONTENT = b"first line\nsecond\r\nthird \xc3\xa9\xe2\x82\xac\n\nlast without end"


async def call(obj: Any, name: str, *args: Any) -> tuple[Any, ...]:
    """``obj.name(*args)`` as a record: whether it was a coroutine, then its
    value or its exception's type and message."""
    try:
        result = getattr(obj, name)(*args)
        awaited = inspect.isawaitable(result)
        if awaited:
            result = await result
    except Exception as exc:
        return (name, "raised", type(exc).__name__, str(exc))
    if isinstance(result, (bytearray, memoryview)):
        result = bytes(result)
    return (name, "awaited" if awaited else "plain", result)


async def lines(f: Any) -> Any:
    """``async for`` over ``f`` as a record: its lines, or its exception."""
    try:
        return [line async for line in f]
    except Exception as exc:
        return ("raised", type(exc).__name__, str(exc))


async def run_both(program: Program, tmp_path: Path) -> None:
    """Run ``program`` with aiofiles and with the drop-in, each on its own
    copy of the tree; compare what they saw and what they left."""
    traces, trees = [], []
    for module in (aiofiles, dropin):
        root = tmp_path / module.__name__
        root.mkdir()
        (root / "data").write_bytes(CONTENT)
        # Paths in messages differ by the root only.
        traces.append(repr(await program(module, root)).replace(str(root), "~"))
        trees.append(
            {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()}
        )
    assert traces[1] == traces[0]
    assert trees[1] == trees[0]


BINARY_MODES = ["rb", "rb+", "wb", "wb+", "ab", "ab+", "xb+"]
TEXT_MODES = ["r", "r+", "w", "w+", "a", "a+"]


@pytest.mark.parametrize("buffering", [-1, 0, 7])
@pytest.mark.parametrize("mode", BINARY_MODES)
async def test_binary_calls_match_aiofiles(
    tmp_path: Path, mode: str, buffering: int
) -> None:
    async def program(module: ModuleType, root: Path) -> list[Any]:
        name = str(root / ("new" if "x" in mode else "data"))
        f = await module.open(name, mode, buffering=buffering)
        trace: list[Any] = [type(f).__name__, f.mode, f.name == name, f.closed]
        for method in ("readable", "writable", "seekable", "isatty", "tell"):
            trace.append(await call(f, method))
        trace.append(await call(f, "seek", 0))
        trace.append(await call(f, "read", 5))
        trace.append(await call(f, "readline"))
        trace.append(await call(f, "peek", 1))
        trace.append(await call(f, "read1", 3))
        trace.append(await call(f, "readinto", bytearray(4)))
        trace.append(await call(f, "tell"))
        trace.append(await call(f, "write", b"WRITTEN\n"))
        trace.append(await call(f, "writelines", [b"a\n", b"b\n"]))
        trace.append(await call(f, "flush"))
        trace.append(await call(f, "seek", -3, os.SEEK_END))
        trace.append(await call(f, "readlines"))
        trace.append(await call(f, "seek", 0))
        trace.append(await call(f, "readall"))
        trace.append(await call(f, "truncate", 12))
        trace.append(await call(f, "seek", 0))
        trace.append(await lines(f))
        trace.append(await call(f, "read"))
        trace.append(await call(f, "close"))
        trace.append(f.closed)
        trace.append(await call(f, "read"))
        return trace

    await run_both(program, tmp_path)


@pytest.mark.parametrize("newline", [None, "", "\n", "\r\n"])
@pytest.mark.parametrize("mode", TEXT_MODES)
async def test_text_calls_match_aiofiles(
    tmp_path: Path, mode: str, newline: str | None
) -> None:
    async def program(module: ModuleType, root: Path) -> list[Any]:
        f = await module.open(
            root / "data", mode, encoding="utf-8", errors="strict", newline=newline
        )
        trace: list[Any] = [type(f).__name__, f.mode, f.encoding, f.errors]
        trace += [f.line_buffering, f.closed]
        for method in ("readable", "writable", "seekable", "isatty", "tell"):
            trace.append(await call(f, method))
        trace.append(await call(f, "seek", 0))
        trace.append(await call(f, "read", 3))
        trace.append(await call(f, "readline"))
        trace.append(f.newlines)
        cookie = await call(f, "tell")
        trace.append(await call(f, "read", 4))
        if cookie[1] == "awaited":
            trace.append(await call(f, "seek", cookie[2]))
        trace.append(await call(f, "write", "é€ written\n"))
        trace.append(await call(f, "writelines", ["x\n", "y\r\n"]))
        trace.append(await call(f, "flush"))
        trace.append(await call(f, "seek", 0))
        trace.append(await call(f, "readlines"))
        trace.append(f.newlines)
        trace.append(await call(f, "seek", 0))
        trace.append(await lines(f))
        trace.append(await call(f, "truncate", 5))
        trace.append(await call(f, "close"))
        trace.append((f.closed, await call(f, "write", "late")))
        return trace

    await run_both(program, tmp_path)


@pytest.mark.parametrize(
    ("mode", "buffering"), [("rb", -1), ("rb", 0), ("wb", -1), ("r", -1), ("w", -1)]
)
async def test_open_errors_match_aiofiles(
    tmp_path: Path, mode: str, buffering: int
) -> None:
    async def program(module: ModuleType, root: Path) -> list[Any]:
        trace = []
        for target in (root / "missing" / "file", root):
            try:
                await module.open(str(target), mode, buffering=buffering)
            except OSError as exc:
                trace.append((type(exc).__name__, exc.errno, str(exc)))
        for bad in ({"mode": "rw"}, {"mode": "rbt"}, {"encoding": "no-such"}):
            arguments: dict[str, Any] = {"mode": mode, **bad}
            opener = module.open(root / "data", **arguments)  # no error yet
            try:
                f = await opener
            except (ValueError, LookupError) as exc:
                trace.append((type(exc).__name__, str(exc)))
            else:
                trace.append(type(f).__name__)
                await f.close()
        return trace

    await run_both(program, tmp_path)


async def test_context_manager_and_detach_match_aiofiles(tmp_path: Path) -> None:
    async def program(module: ModuleType, root: Path) -> list[Any]:
        trace: list[Any] = []
        try:
            async with module.open(root / "data", "rb") as f:
                trace.append(await f.read(6))
                raw = f.detach()
                trace += [type(raw).__name__, raw.tell(), raw.read(4)]
                trace.append(await call(f, "read"))
        except ValueError as exc:  # leaving closes a detached file
            trace.append(("exit", str(exc)))
        raw.close()
        try:
            async with module.open(root / "data", "r+", encoding="utf-8") as f:
                await f.write("changed")
                buffer = f.detach()
                trace += [type(buffer).__name__, buffer.tell(), buffer.read(5)]
                buffer.close()
                trace.append(await call(f, "readline"))
        except ValueError as exc:
            trace.append(("exit", str(exc)))
        return trace

    await run_both(program, tmp_path)


async def test_tempfile_and_os_match_aiofiles(tmp_path: Path) -> None:
    async def program(module: ModuleType, root: Path) -> list[Any]:
        trace: list[Any] = []
        async with module.tempfile.TemporaryFile("w+") as f:
            trace += [await f.write("tmp\n"), await f.seek(0), await f.read()]
        async with module.tempfile.NamedTemporaryFile(dir=root) as f:
            trace += [await f.write(b"named"), os.path.dirname(f.name) == str(root)]
        async with module.tempfile.SpooledTemporaryFile(4, "wb+") as f:
            trace += [await f.write(b"spooled"), await f.seek(0), await f.read()]
        async with module.tempfile.TemporaryDirectory(dir=root) as name:
            trace.append(await module.os.path.isdir(name))
        trace.append(await module.os.path.exists(name))
        trace.append(await call(module.os, "mkdir", str(root / "d")))
        trace.append(await call(module.os, "mkdir", str(root / "d")))
        trace.append(await call(module.os, "rename", str(root / "d"), str(root / "e")))
        trace.append(sorted(await module.os.listdir(str(root))))
        trace.append((await module.os.stat(str(root / "data"))).st_size)
        trace.append(await call(module.os.path, "isdir", str(root / "e")))
        trace.append(await call(module.os.path, "exists", str(root / "nothing")))
        trace.append(await call(module.os.path, "getsize", str(root / "nothing")))
        trace.append(await call(module.os, "rmdir", str(root / "e")))
        trace.append(await call(module.os, "remove", str(root / "e")))
        trace.append(await module.ospath.abspath("x"))
        return trace

    await run_both(program, tmp_path)


def test_public_names_and_shapes_match_aiofiles() -> None:
    """Every name aiofiles's modules export exists in the drop-in, and every
    method of its wrapper classes is a coroutine function exactly where
    aiofiles's is."""
    pairs = [
        (aiofiles, dropin),
        (aiofiles.os, dropin.os),
        (aiofiles.os.path, dropin.os.path),
        (aiofiles.tempfile, dropin.tempfile),
        (aiofiles.threadpool, dropin.threadpool),
    ]
    for theirs, ours in pairs:
        for name in theirs.__all__:
            assert hasattr(ours, name), (theirs.__name__, name)
    from asyncfile.aiofiles.threadpool import binary, text

    for theirs_module, ours_module in (
        (aiofiles.threadpool.binary, binary),
        (aiofiles.threadpool.text, text),
    ):
        for class_name in dir(theirs_module):
            theirs_class = getattr(theirs_module, class_name)
            if not (isinstance(theirs_class, type) and class_name.startswith("Async")):
                continue
            ours_class = getattr(ours_module, class_name)
            for name, member in vars(theirs_class).items():
                if name.startswith("_"):
                    continue
                assert inspect.iscoroutinefunction(
                    getattr(ours_class, name)
                ) == inspect.iscoroutinefunction(member), (class_name, name)
                assert isinstance(
                    inspect.getattr_static(ours_class, name), property
                ) == isinstance(member, property), (class_name, name)


async def test_wrap_of_a_blocking_file_matches_aiofiles(tmp_path: Path) -> None:
    async def program(module: ModuleType, root: Path) -> list[Any]:
        with open(root / "data", "rb") as blocking:  # noqa: ASYNC230 (to wrap)
            f = module.threadpool.wrap(blocking)
            trace = [type(f).__name__, await f.read(5), await f.tell()]
            return [*trace, f._file is blocking]

    await run_both(program, tmp_path)
    for module in (aiofiles, dropin):
        with pytest.raises(TypeError):
            module.threadpool.wrap(io.StringIO)


async def test_descriptors_and_openers_match_aiofiles(tmp_path: Path) -> None:
    async def program(module: ModuleType, root: Path) -> list[Any]:
        opened: list[int] = []

        def opener(path: str, flags: int) -> int:
            fd = os.open(path, flags | os.O_APPEND)
            opened.append(fd)
            return fd

        async with module.open(root / "data", "r+b", opener=opener) as f:
            trace: list[Any] = [f.name == str(root / "data"), f.fileno() == opened[0]]
            trace.append(await call(f, "write", b"appended"))
        fd = os.open(root / "data", os.O_RDONLY)
        try:
            async with module.open(fd, "rb", closefd=False) as f:
                trace += [f.name == fd, await call(f, "read", 5)]
            trace.append(os.read(fd, 3))  # still open, past what f read
        finally:
            os.close(fd)
        return trace

    await run_both(program, tmp_path)
